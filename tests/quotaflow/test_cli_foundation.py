"""CLI contract for the foundation commands: exit codes, messages on stderr, no traceback, safe outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import scenarios
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode

runner = CliRunner()


def test_every_command_has_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    commands = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands
                if c.callback is not None]
    assert {"validate", "generate", "demo"} <= set(commands)
    for name in commands:
        sub = runner.invoke(app, [name, "--help"])
        assert sub.exit_code == 0, name
        assert "Usage" in sub.output


def test_validate_bundled() -> None:
    result = runner.invoke(app, ["validate", "tiny"])
    assert result.exit_code == ExitCode.OK
    assert "valid: no problems found" in result.output


def test_validate_bad_scenario_exit_2_without_traceback(tmp_path: Path, tiny: scenarios.Scenario) -> None:
    scenarios.save(tiny, tmp_path)
    path = tmp_path / "reps.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("R0002,", "R0001,"), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "quotaflow.cli", "validate", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == ExitCode.INPUT
    assert "Traceback" not in proc.stderr
    assert "reps.csv line 3, column 'rep_id'" in proc.stderr and "Fix:" in proc.stderr


def test_usage_error_exit_2() -> None:
    result = runner.invoke(app, ["generate"])
    assert result.exit_code == 2


def test_generate_then_refuse_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    args = ["generate", str(out), "--reps", "5", "--accounts", "40", "--seed", "4", "--regions", "2"]
    assert runner.invoke(app, args).exit_code == ExitCode.OK
    s = scenarios.load(out)
    assert len(s.reps) == 5 and len(s.accounts) == 40
    again = runner.invoke(app, args)
    assert again.exit_code == ExitCode.OUTPUT
    assert "--force" in again.output
    assert runner.invoke(app, [*args, "--force"]).exit_code == ExitCode.OK


def test_generate_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        runner.invoke(app, ["generate", str(tmp_path / name), "--reps", "4", "--accounts", "30", "--seed", "9",
                            "--regions", "2", "--name", "same"])
    for file in ("scenario.toml", "reps.csv", "accounts.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_demo_runs_the_whole_job(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--scenario", "tiny", "--out", str(out), "--replications", "3",
                                 "--workers", "1"])
    assert result.exit_code == ExitCode.OK, result.output
    data = json.loads((out / "overview.json").read_text(encoding="utf-8"))
    assert data["name"] == "tiny" and data["reps"] == 6
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["allocation"]["status"] in ("optimal", "feasible")
    assert summary["quotas"]["status"] in ("optimal", "solved") and summary["budget"]["status"] == "optimal"
    s = scenarios.load("tiny")
    plan = scenarios.Plan.load(out / "plan", s)  # the plan folder is what `simulate --plan` reads
    assert plan.quotas is not None and plan.budget is not None
    comparison = pd.read_csv(out / "comparison" / "comparison.csv")
    assert set(comparison["plan"]) == set(s.settings.pay_plans)
    assert {"monthly_bookings.png", "attainment.png", "pay_vs_attainment.png"} <= {
        p.name for p in (out / "comparison").iterdir()}
    assert "Territories" in result.output and "Pay plans" in result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "staging folder left behind"


@pytest.mark.parametrize("bad", ["no-such-scenario"])
def test_demo_bad_scenario_leaves_no_output(tmp_path: Path, bad: str) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--scenario", bad, "--out", str(out)])
    assert result.exit_code == ExitCode.INPUT
    assert not out.exists()


def test_demo_feeds_simulated_sales_to_equal_probability_quotas(tmp_path: Path) -> None:
    from quotaflow.demo import run_demo

    s = scenarios.modify(scenarios.load("tiny"), {"quotas.method": "equal_probability"})
    result = run_demo(s, tmp_path, replications=2, seed=3)
    summary = result.quotas.summary()
    assert summary["method"] == "equal_probability"
    assert set(summary["attainment_probability"]) == {"North", "South"}
    assert result.quotas.quotas["quota"].sum() == 770_000


READERS = ["validate", "demo", "allocate", "frontier", "quotas", "budget", "simulate", "compare", "sweep", "pay"]


@pytest.mark.parametrize("command", READERS)
def test_every_command_that_reads_tables_takes_encoding_and_decimal(command: str) -> None:
    res = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert res.exit_code == 0 and "--encoding" in res.output and "--decimal" in res.output


@pytest.mark.parametrize("command", ["simulate", "quotas", "compare"])
def test_every_command_with_plan_takes_allow_foreign_plan(command: str) -> None:
    res = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert "--plan " in res.output and "--allow-foreign-plan" in res.output
