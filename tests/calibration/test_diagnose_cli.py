"""``quotaflow diagnose`` contract: the library's diagnosis of the export as ``calibrate`` cleans it, written as
``diagnosis.csv`` with a manifest; the credibly worse rep-stages printed, a credibly worse conversion with the
simulated effect of lifting it to the peer median; exit 2 for a bad export, exit 5 for an output folder that is the
export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import synthetic_export as se
from typer.testing import CliRunner

import calibration
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode
from quotaflow.lift import LIFT_COLUMNS, TIME_NOT_SIMULATED

runner = CliRunner()

SLOWER = (5, 0, 1.4)  # rep 5 stays 40 % longer in Prospecting: about 7 standard errors (test_diagnosis.py)
WORSE = (3, 1, 0.6)  # rep 3 passes Qualification at 0.6 x 0.7: about 6 standard errors (test_diagnosis.py)


def test_diagnose_writes_the_library_diagnosis_and_prints_the_worse_stage(tmp_path: Path) -> None:
    truth = se.Truth(months=12, arrivals_per_month=150.0, rep_dwell={SLOWER[:2]: SLOWER[2]})
    export = se.write_export(tmp_path / "export", truth, 4)
    out = tmp_path / "out"
    result = runner.invoke(app, ["diagnose", str(export), "--preset", "salesforce", "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    for name in ("diagnosis.csv", "cleaning_report.csv", "summary.json", "manifest.json"):
        assert (out / name).is_file(), name
    written = pd.read_parquet(out / "diagnosis.parquet")  # the CSV rounds for people; Parquet keeps every digit
    expected = calibration.diagnose(calibration.build_model(export, se.mapping())[0])
    assert list(written.columns) == [*expected.columns, *LIFT_COLUMNS]
    assert len(written) == len(expected) == 12 * 3 * 2
    pd.testing.assert_series_equal(written["shrunk"], expected["shrunk"].astype(float), rtol=1e-9)
    assert written["credibly_worse"].tolist() == expected["credibly_worse"].tolist()
    slow = written[(written["rep"] == f"005R{SLOWER[0]:03d}") & (written["stage"] == se.STAGES[SLOWER[1]])
                   & (written["measure"] == "median_days")]
    assert bool(slow["credibly_worse"].iloc[0])
    assert f"005R{SLOWER[0]:03d} at {se.STAGES[SLOWER[1]]} (median_days)" in result.output
    assert slow["lift_note"].iloc[0] == TIME_NOT_SIMULATED and slow["lift_won_deals"].isna().all()
    assert TIME_NOT_SIMULATED in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["credibly_worse"]) == int(expected["credibly_worse"].sum())
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["mapping"] == "salesforce" and manifest["export"] == str(export)


def test_a_worse_conversion_gets_the_simulated_lift(tmp_path: Path) -> None:
    truth = se.Truth(months=12, arrivals_per_month=150.0, rep_conversion={WORSE[:2]: WORSE[2]})
    export = se.write_export(tmp_path / "export", truth, 0)
    args = ["diagnose", str(export), "--preset", "salesforce", "--replications", "30", "--seed", "2"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == ExitCode.OK, result.output
    written = pd.read_parquet(tmp_path / "out" / "diagnosis.parquet")  # raw values; the CSV is rounded for people
    rep = f"005R{WORSE[0]:03d}"
    target = written[(written["rep"] == rep) & (written["stage"] == se.STAGES[WORSE[1]])
                     & (written["measure"] == "conversion")].iloc[0]
    assert bool(target["credibly_worse"])
    assert target["lift_skill_to"] / target["lift_skill_from"] == pytest.approx(
        target["peer_median"] / target["shrunk"], rel=1e-6)
    # the synthetic export is routed by region pool: the region's idle reps take turns at each stage, so the
    # lifted rep's extra passes are mostly closed by peers. The team's gain is the effect; the rep's own share of
    # it is small and carries the noise of who happens to close which deal.
    assert target["lift_team_won_deals_low"] > 0, target
    assert target["lift_won_deals_low"] < target["lift_won_deals"] < target["lift_team_won_deals"], target
    assert target["lift_replications"] == 30
    others = written[~written["credibly_worse"].astype(bool)]
    assert others["lift_won_deals"].isna().all()
    assert f"{rep} at {se.STAGES[WORSE[1]]} (conversion)" in result.output
    assert "lifted to the peer median" in result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["replications"] == 30
    again = runner.invoke(app, [*args, "--out", str(tmp_path / "again")])
    assert again.exit_code == ExitCode.OK, again.output
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "again" / "diagnosis.parquet"), written)
    skipped = runner.invoke(app, [*args[:4], "--replications", "0", "--out", str(tmp_path / "none")])
    assert skipped.exit_code == ExitCode.OK, skipped.output
    none = pd.read_csv(tmp_path / "none" / "diagnosis.csv", keep_default_na=False, na_values=[""])
    assert none["lift_won_deals"].isna().all() and "not simulated: --replications 0" in skipped.output


def test_equal_reps_print_none(tmp_path: Path) -> None:
    export = se.write_export(tmp_path / "export", se.Truth(months=8, arrivals_per_month=60.0, reps=6), 3)
    expected = calibration.diagnose(calibration.build_model(export, se.mapping())[0])
    result = runner.invoke(app, ["diagnose", str(export), "--preset", "salesforce", "--out", str(tmp_path / "o")])
    assert result.exit_code == ExitCode.OK, result.output
    if expected["credibly_worse"].any():  # a false flag (nominal rate at most 5 %) is listed, not hidden
        assert "Credibly worse than peers:\n" in result.output
    else:
        assert "Credibly worse than peers: none." in result.output


def test_a_bad_export_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    export = tmp_path / "small"
    export.mkdir()
    pd.DataFrame({"Id": ["a", "b"], "OwnerId": ["r", "s"], "StageName": ["Closed Won", "Closed Lost"],
                  "CreatedDate": ["2024-01-01", "2024-01-02"],
                  "CloseDate": ["2024-02-01", "2024-02-01"]}).to_csv(export / "Opportunity.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["diagnose", str(export), "--preset", "salesforce", "--out", str(out)])
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "Opportunity.csv" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_out_as_the_export_is_exit_5_and_leaves_it_alone(tmp_path: Path) -> None:
    export = se.write_export(tmp_path / "export", se.Truth(months=8, arrivals_per_month=60.0, reps=6), 3)
    before = sorted(p.name for p in export.iterdir())
    result = runner.invoke(app, ["diagnose", str(export), "--preset", "salesforce", "--out", str(export),
                                 "--force"])
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert sorted(p.name for p in export.iterdir()) == before
