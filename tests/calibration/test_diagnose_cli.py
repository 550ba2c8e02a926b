"""``quotaflow diagnose`` contract: the library's diagnosis of the export as ``calibrate`` cleans it, written as
``diagnosis.csv`` with a manifest; the credibly worse rep-stages printed; exit 2 for a bad export, exit 5 for an
output folder that is the export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import synthetic_export as se
from typer.testing import CliRunner

import calibration
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode

runner = CliRunner()

SLOWER = (5, 0, 1.4)  # rep 5 stays 40 % longer in Prospecting: about 7 standard errors (test_diagnosis.py)


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
    assert list(written.columns) == list(expected.columns)
    assert len(written) == len(expected) == 12 * 3 * 2
    pd.testing.assert_series_equal(written["shrunk"], expected["shrunk"].astype(float), rtol=1e-9)
    assert written["credibly_worse"].tolist() == expected["credibly_worse"].tolist()
    slow = written[(written["rep"] == f"005R{SLOWER[0]:03d}") & (written["stage"] == se.STAGES[SLOWER[1]])
                   & (written["measure"] == "median_days")]
    assert bool(slow["credibly_worse"].iloc[0])
    assert f"005R{SLOWER[0]:03d} at {se.STAGES[SLOWER[1]]} (median_days)" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["credibly_worse"]) == int(expected["credibly_worse"].sum())
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["mapping"] == "salesforce" and manifest["export"] == str(export)


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
