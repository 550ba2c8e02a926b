"""The ``quotaflow simulate`` command: files, exit codes, no partial output."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from quotaflow.cli import app

runner = CliRunner()


def test_simulate_writes_tables(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = runner.invoke(app, ["simulate", "tiny", "--replications", "3", "--seed", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    kpis = pd.read_csv(out / "kpis.csv")
    assert kpis.columns.tolist() == ["metric", "mean", "ci_low", "ci_high"]
    funnel = pd.read_csv(out / "funnel.csv")
    assert funnel.columns[:6].tolist() == ["stage", "entered", "converted", "open", "conversion",
                                           "conversion_ci_low"]
    assert "mean_days" in funnel.columns
    assert pd.read_csv(out / "monthly.csv")["period"].iloc[0] == "2027-01"
    assert len(pd.read_csv(out / "reps.csv")) == 6
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["replications"] == 3 and summary["run"]["seed"] == 4
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seeds"] == {"simulation": 4}


def test_simulate_refuses_existing_folder_and_bad_plan(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    res = runner.invoke(app, ["simulate", "tiny", "--replications", "1", "--out", str(out)])
    assert res.exit_code == 5 and (out / "keep.txt").exists()
    bad = tmp_path / "plan"
    bad.mkdir()
    (bad / "assignments.csv").write_text("account_id,rep_id\nA000001,NOPE\n", encoding="utf-8")
    res = runner.invoke(app, ["simulate", "tiny", "--plan", str(bad), "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "NOPE" in res.output and not (tmp_path / "o2").exists()


def test_plan_folder_round_trip(tmp_path: Path) -> None:
    import scenarios

    s = scenarios.load("tiny")
    scenarios.Plan.current(s).to_csv(tmp_path / "plan")
    res = runner.invoke(app, ["simulate", "tiny", "--plan", str(tmp_path / "plan"), "--replications", "2",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output


def test_simulate_incentives_follow_the_reps_plans(tmp_path: Path) -> None:
    runs = {}
    for mode in ("own", "none", "annual_bonus"):
        out = tmp_path / mode
        res = runner.invoke(app, ["simulate", "tiny", "--replications", "2", "--seed", "4", "--incentives", mode,
                                  "--out", str(out)])
        assert res.exit_code == 0, res.output
        runs[mode] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert runs["own"]["run"]["behaviour"].startswith("IncentiveBehaviour(")
    assert runs["none"]["run"]["behaviour"].startswith("NormBehaviour(")
    assert "annual_bonus x6" in runs["annual_bonus"]["run"]["behaviour"]
    manifest = json.loads((tmp_path / "own" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["incentives"] == "own"
    # tiny's reps are on several plans: their own plans pay differently from everyone on the annual bonus
    assert runs["own"]["kpis"]["pay_total"]["mean"] != runs["annual_bonus"]["kpis"]["pay_total"]["mean"]
    bad = runner.invoke(app, ["simulate", "tiny", "--incentives", "nope", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "nope" in bad.output and not (tmp_path / "bad").exists()
