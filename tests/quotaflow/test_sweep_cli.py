"""CLI contract of ``quotaflow sweep`` and ``quotaflow report`` on the simulator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode

runner = CliRunner()
ARGS = ["sweep", "tiny", "--set", "reps[tier=junior].hours_per_week=25,40", "--replications", "2", "--seed", "3"]


def test_sweep_resume_and_report(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    first = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert first.exit_code == ExitCode.OK, first.output
    summary = pd.read_csv(out / "summary.csv")
    assert {"point_id", "label", "metric", "mean", "ci_low", "ci_high", "replications"} <= set(summary.columns)
    assert (out / "manifest.json").is_file() and len(list((out / "tasks").glob("*.parquet"))) == 2
    again = runner.invoke(app, [*ARGS, "--out", str(out)])
    assert again.exit_code == ExitCode.OUTPUT and "--resume" in again.output
    resumed = runner.invoke(app, [*ARGS, "--out", str(out), "--resume"])
    assert resumed.exit_code == ExitCode.OK and "0 tasks run, 2 reused" in resumed.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "summary.csv"), summary)
    rep = runner.invoke(app, ["report", str(out), "--metric", "revenue", "--top", "1"])
    assert rep.exit_code == ExitCode.OK, rep.output
    assert "hours_per_week=40" in rep.output  # more selling hours, more revenue on the same customers
    assert list((out / "plots").glob("*.png"))


def test_sweep_bad_input_exit_2(tmp_path: Path) -> None:
    bad_path = runner.invoke(app, ["sweep", "tiny", "--set", "tiers.junior.hourz=1,2", "--out", str(tmp_path / "a")])
    assert bad_path.exit_code == ExitCode.INPUT and "does not exist" in bad_path.output
    nothing = runner.invoke(app, ["sweep", "tiny", "--out", str(tmp_path / "b")])
    assert nothing.exit_code == ExitCode.INPUT and "nothing to sweep" in nothing.output
    no_metric = runner.invoke(app, ["report", str(tmp_path), "--metric", "x"])
    assert no_metric.exit_code == ExitCode.INPUT


def test_sweep_with_allocate_marks_infeasible_points(tmp_path: Path) -> None:
    out = tmp_path / "alloc"
    result = runner.invoke(app, ["sweep", "tiny", "--set", "reps[tier=junior].hours_per_week=20,40", "--allocate",
                                 "--replications", "2", "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    summary = pd.read_csv(out / "summary.csv")
    feasible = summary[summary["metric"] == "allocation_feasible"].set_index("label")["mean"]
    assert feasible["reps[tier=junior].hours_per_week=20"] == 0.0  # too few hours: no plan, no fake metrics
    assert feasible["reps[tier=junior].hours_per_week=40"] == 1.0
    revenue = summary[summary["metric"] == "revenue"]
    assert list(revenue["label"]) == ["reps[tier=junior].hours_per_week=40"]


def test_sweep_incentives_mode_reaches_the_reps_and_keys_the_tasks(tmp_path: Path) -> None:
    # A sweep over an incentive parameter means something only when reps respond to their plan: with everyone on
    # the capped plan, a tighter cap cuts revenue; with --incentives none the cap is not even paid. baseline's reps
    # are busy (their hours decide what they sell; tiny's have hours to spare, so a cap changes pay, not revenue).
    args = ["sweep", "baseline", "--set", "pay_plans.capped.cap.target_multiple=1.0,3.0", "--replications", "2",
            "--seed", "5", "--incentives", "capped"]
    out = tmp_path / "capped"
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    revenue = pd.read_csv(out / "summary.csv").query("metric == 'revenue'").set_index("label")["mean"]
    assert revenue["pay_plans.capped.cap.target_multiple=1.0"] < revenue["pay_plans.capped.cap.target_multiple=3.0"]
    bare = runner.invoke(app, [*args[:-1], "none", "--out", str(out), "--resume"])
    assert bare.exit_code == ExitCode.INPUT and "--incentives none pays only the flat commission_rate" in bare.output
    # the same points under another evaluation (the budget optimised at every point) are another sweep: --resume
    # refuses to mix them into this folder
    optimised = runner.invoke(app, [*args, "--budget", "optimise", "--out", str(out), "--resume"])
    assert optimised.exit_code == ExitCode.OUTPUT and "evaluated another way" in optimised.output, optimised.output
    assert len(list((out / "tasks").glob("*.parquet"))) == 2
    unknown = runner.invoke(app, [*args[:-1], "nope", "--out", str(tmp_path / "x")])
    assert unknown.exit_code == ExitCode.INPUT and "nope" in unknown.output
