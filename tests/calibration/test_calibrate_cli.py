"""``quotaflow calibrate`` contract: a scenario folder every command accepts, estimate CSVs and reports; clear exit-2
errors naming file, row, column and value for small or broken exports; outputs never overlapping inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import synthetic_export as se
from typer.testing import CliRunner

import scenarios
import sim
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode

runner = CliRunner()


def _export(tmp: Path) -> Path:
    return se.write_export(tmp / "export", se.Truth(months=8, arrivals_per_month=60.0, reps=8), 4)


def test_calibrate_writes_a_scenario_every_command_accepts(tmp_path: Path) -> None:
    export = _export(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    s = scenarios.load(out)
    assert s.stage_ids == ["prospecting", "qualification", "proposal_price_quote"]
    for name in ("calibration.json", "report.md", "cleaning_report.csv", "sufficiency.csv", "manifest.json",
                 "estimates/funnel.csv", "estimates/rep_skills.csv", "estimates/arrivals.csv",
                 "estimates/deal_sizes.csv", "estimates/timing_month_of_quarter.csv"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert summary["counts"]["opportunities"] == len(pd.read_csv(export / "Opportunity.csv"))
    funnel = pd.read_parquet(out / "estimates" / "funnel.parquet").set_index("stage_id")
    stages = {st.id: st for st in s.settings.funnel.stages}
    for sid, st in stages.items():
        assert st.conversion == funnel.loc[sid, "conversion"]
    assert "right-censored" in result.output
    assert runner.invoke(app, ["validate", str(out)]).exit_code == ExitCode.OK
    run = sim.simulate(s, replications=1, seed=1)
    assert run.kpis.set_index("metric").loc["won", "mean"] > 0


def test_calibrate_on_a_base_keeps_its_plans_targets_and_channels(tmp_path: Path, tiny: scenarios.Scenario) -> None:
    export = _export(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--base", "tiny",
                                 "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    s = scenarios.load(out)
    assert s.settings.pay_plans == tiny.settings.pay_plans
    assert s.settings.targets.annual == tiny.settings.targets.annual
    assert set(s.settings.channels) == set(tiny.settings.channels)
    base_shape = [c.curve_leads[-1] / c.curve_leads[1] for c in tiny.settings.channels.values()]
    shape = [c.curve_leads[-1] / c.curve_leads[1] for c in s.settings.channels.values()]
    assert shape == pytest.approx(base_shape, rel=1e-4)  # curves scaled, their shape kept
    assert s.stage_ids != tiny.stage_ids  # the funnel is the data's


def test_too_small_an_export_is_exit_2_naming_file_column_and_value(tmp_path: Path) -> None:
    export = tmp_path / "small"
    export.mkdir()
    pd.DataFrame({"Id": ["a", "b", "c"], "OwnerId": ["r", "r", "s"], "StageName": ["Closed Won", "Closed Lost",
                                                                                    "Prospecting"],
                  "CreatedDate": ["2024-01-01", "2024-01-02", "2024-01-03"],
                  "CloseDate": ["2024-02-01", "2024-02-01", ""]}).to_csv(export / "Opportunity.csv", index=False)
    proc = subprocess.run([sys.executable, "-m", "quotaflow.cli", "calibrate", str(export), "--preset", "salesforce",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert proc.returncode == ExitCode.INPUT
    assert "Traceback" not in proc.stderr
    assert "Opportunity.csv, column 'StageName'" in proc.stderr and "(value '2')" in proc.stderr
    assert "Fix:" in proc.stderr and not (tmp_path / "out").exists()


def test_a_broken_column_is_exit_2_naming_file_row_column_and_value(tmp_path: Path) -> None:
    export = _export(tmp_path)
    frame = pd.read_csv(export / "Opportunity.csv", dtype=str)
    frame["CreatedDate"] = "someday"
    frame.to_csv(export / "Opportunity.csv", index=False)
    result = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--out", str(tmp_path / "o")])
    assert result.exit_code == ExitCode.INPUT
    assert "Opportunity.csv line 2, column 'CreatedDate'" in result.output and "'someday'" in result.output


def test_missing_files_columns_and_presets_are_exit_2(tmp_path: Path) -> None:
    export = _export(tmp_path)
    out = str(tmp_path / "o")
    wrong = runner.invoke(app, ["calibrate", str(export), "--preset", "maven", "--out", out])
    assert wrong.exit_code == ExitCode.INPUT and "holds no opportunities file sales_pipeline.csv" in wrong.output
    unknown = runner.invoke(app, ["calibrate", str(export), "--preset", "dynamics", "--out", out])
    assert unknown.exit_code == ExitCode.INPUT and "'dynamics' is not a preset" in unknown.output
    both = runner.invoke(app, ["calibrate", str(export), "--out", out])
    assert both.exit_code == ExitCode.INPUT and "exactly one of --preset" in both.output
    frame = pd.read_csv(export / "Opportunity.csv", dtype=str).drop(columns=["StageName"])
    frame.to_csv(export / "Opportunity.csv", index=False)
    missing = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--out", out])
    assert missing.exit_code == ExitCode.INPUT and "has no column 'StageName'" in missing.output
    bad_date = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--as-of", "31/12/2024",
                                   "--out", out])
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output


def test_a_mapping_file_is_validated_with_its_key_named(tmp_path: Path) -> None:
    export = _export(tmp_path)
    mapping = tmp_path / "crm.toml"
    mapping.write_text('name = "x"\n[opportunities]\nfile = "Opportunity.csv"\nid = "Id"\nstage = "StageName"\n'
                       '[[stages]]\nname = "Open"\nkind = "open"\n[[stages]]\nname = "Won"\nkind = "maybe"\n',
                       encoding="utf-8")
    result = runner.invoke(app, ["calibrate", str(export), "--mapping", str(mapping), "--out", str(tmp_path / "o")])
    assert result.exit_code == ExitCode.INPUT and "stages.1.kind" in result.output


def test_output_never_overlaps_an_input(tmp_path: Path) -> None:
    export = _export(tmp_path)
    before = sorted(p.name for p in export.iterdir())
    for out in (export, export / "inside", tmp_path):
        result = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--out", str(out),
                                     "--force"])
        assert result.exit_code == ExitCode.OUTPUT and "which this command reads" in result.output
    assert sorted(p.name for p in export.iterdir()) == before


def test_output_is_claimed_like_every_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export = _export(tmp_path / "crm")
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.txt").write_text("a user's file", encoding="utf-8")
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--out", ".", "--force"])
    assert result.exit_code == ExitCode.OUTPUT and "current folder" in result.output
    assert (work / "mine.txt").read_text(encoding="utf-8") == "a user's file"


def test_strict_refuses_a_repaired_export(tmp_path: Path) -> None:
    export = _export(tmp_path)
    frame = pd.read_csv(export / "Opportunity.csv", dtype=str)
    frame.loc[3, "Amount"] = "-10"
    frame.to_csv(export / "Opportunity.csv", index=False)
    ok = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--out", str(tmp_path / "a")])
    assert ok.exit_code == ExitCode.OK
    report = pd.read_csv(tmp_path / "a" / "cleaning_report.csv")
    assert report.set_index("reason").loc["negative_amount", "rows"] == 1
    strict = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--strict",
                                 "--out", str(tmp_path / "b")])
    assert strict.exit_code == ExitCode.INPUT and "negative amount" in strict.output
    assert not (tmp_path / "b").exists()


def test_fit_timing_writes_both_shares_the_elasticity_and_the_assumed_plan(tmp_path: Path) -> None:
    export = _export(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["calibrate", str(export), "--preset", "salesforce", "--out", str(out),
                                 "--fit-timing", "--timing-replications", "2"])
    assert result.exit_code == ExitCode.OK, result.output
    fit = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["timing_fit"]
    assert fit["pay_plan"] == "quarterly_bonus" and fit["replications"] == 2
    grid = pd.read_csv(out / "estimates" / "timing_fit.csv")
    games = grid[(grid["quarter_end_waiting"] == 0.0) & (grid["decision_calendar"] == 0.0)]
    paced = games[games["closing_speed_elasticity"] > 0.0]
    assert len(games) - len(paced) == 25  # every pair of pull and push shares, then effort with every pull share
    assert len(paced) == 4 * 5 and paced["push_share"].nunique() == 1
    best = games.loc[games["distance"].idxmin()]
    assert ((fit["customer_pull_share"], fit["customer_push_share"], fit["closing_speed_elasticity"])
            == (best["pull_share"], best["push_share"], best["closing_speed_elasticity"]))
    b = scenarios.load(out).settings
    assert ((b.behaviour.customer_pull_share, b.behaviour.customer_push_share, b.behaviour.closing_speed_elasticity)
            == (best["pull_share"], best["push_share"], best["closing_speed_elasticity"]))
    # customer-side waiting enters the calibrated scenario only as the residual the report names apart
    if bool(best["inside"]):
        assert fit["reproduces"] and fit["quarter_end_waiting"] is None
    assert b.simulation.quarter_end_waiting == fit["quarter_end_waiting"]
    # the decision calendar: the export's split, and its share fitted before the residual, when the reps miss
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    split = manifest["close_calendar"]["split_days"]
    assert fit["decision_calendar_days"] == split == b.simulation.decision_calendar_days
    assert b.simulation.decision_calendar == fit["decision_calendar"]
    held = grid[grid["decision_calendar"] > 0.0]
    assert len(held) == (0 if bool(best["inside"]) else 4 + len(grid[grid["quarter_end_waiting"] > 0.0]) * (
        fit["decision_calendar"] > 0.0))
    assert (out / "estimates" / "timing_calendar.csv").exists()
    assert "timing fit (reps on 'quarterly_bonus')" in result.output
