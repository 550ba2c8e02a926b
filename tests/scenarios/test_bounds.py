"""Validation bounds match what the engines compute: a scenario at the bounds validates, allocates and simulates;
one past a bound is refused with exit 2 naming file, line, column and value (not a solver traceback)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import optimizer
import scenarios
import sim
from quotaflow.cli import app
from scenarios.limits import HOURS_PER_YEAR, MAX_AMOUNT, MAX_SKILL, MAX_TOTAL, MAX_TRAVEL_WEIGHT

runner = CliRunner()


def _at_the_bounds(tiny: scenarios.Scenario) -> scenarios.Scenario:
    """The largest account, salary, skill, target and travel weight validation allows, in one scenario."""
    accounts = tiny.accounts.copy()
    accounts.loc["A000001", "annual_potential"] = MAX_AMOUNT
    reps = tiny.reps.copy()
    reps.loc["R0004", "base_salary"] = MAX_AMOUNT
    reps.loc["R0004", "skill_demo"] = MAX_SKILL
    s = tiny.replace(accounts=accounts, reps=reps)
    # tiny's +-10 % hours band cannot hold when one rep is ten times as fast at demos; the bounds are about numbers
    return scenarios.modify(s, {"targets.annual": MAX_TOTAL, "optimizer.travel_weight": MAX_TRAVEL_WEIGHT,
                                "optimizer.balance": []})


def test_a_scenario_at_the_bounds_validates_allocates_and_simulates(tmp_path: Path,
                                                                    tiny: scenarios.Scenario) -> None:
    s = _at_the_bounds(tiny)
    scenarios.save(s, tmp_path / "edge")
    res = runner.invoke(app, ["validate", str(tmp_path / "edge")])
    assert res.exit_code == 0, res.output
    result = optimizer.allocate(scenarios.load(tmp_path / "edge"))
    assert result.ok and math.isfinite(result.objective)
    # the account worth 1e13 goes to a rep; the rep with skill 10 at the demo stage gets work
    assert result.assignments.set_index("account_id").loc["A000001", "rep_id"] in s.reps.index
    run = sim.simulate(s, result.plan(), replications=2, seed=1)
    assert np.isfinite(run.kpis[["mean"]].to_numpy()).all()


def _folder(tmp_path: Path, tiny: scenarios.Scenario) -> Path:
    scenarios.save(tiny, tmp_path / "s")
    return tmp_path / "s"


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("accounts.csv", ",37200.0,", ",1.0000001e13,", "accounts.csv line 2, column 'annual_potential'"),
    ("accounts.csv", ",37200.0,", ",1e300,", "accounts.csv line 2, column 'annual_potential'"),
    ("accounts.csv", ",88.2,", ",8785,", "accounts.csv line 2, column 'service_hours_per_year'"),
    ("reps.csv", ",42200.0,", ",2e13,", "reps.csv line 2, column 'base_salary'"),
    ("reps.csv", ",1.4\n", ",10.5\n", "reps.csv line 4, column 'skill_demo'"),
    ("reps.csv", ",1.4\n", ",0\n", "reps.csv line 4, column 'skill_demo'"),
])
def test_a_table_value_past_its_bound_is_refused(tmp_path: Path, tiny: scenarios.Scenario, file: str, old: str,
                                                 new: str, where: str) -> None:
    folder = _folder(tmp_path, tiny)
    _replace(folder / file, old, new)
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 2, res.output
    value = new.strip(",\n")
    assert f"{where}: is " in res.output and f"(value '{value}')" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(("path", "value", "bound"), [
    ("targets.annual", 2e15, "<= 1e+15"),
    ("products.hardware.price", 2e13, "<= 1e+13"),
    ("optimizer.travel_weight", 2e6, "<= 1e+06"),
    ("simulation.value_cv", 11.0, "<= 10"),
    ("funnel.stages.0.effort_hours", HOURS_PER_YEAR + 1, "<= 8784"),
    ("pay_plans.flat_commission.bonuses", [{"steps": [{"amount": 2e13}]}], "<= 1e+13"),
])
def test_a_setting_past_its_bound_is_refused(tiny: scenarios.Scenario, path: str, value: object, bound: str) -> None:
    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.modify(tiny, {path: value})
    (p,) = info.value.problems
    assert p.file == "scenario.toml" and p.column is not None and p.column.startswith(path.split(".")[0])
    assert bound in p.fix


def test_a_setting_past_its_bound_in_the_file_exits_2(tmp_path: Path, tiny: scenarios.Scenario) -> None:
    folder = _folder(tmp_path, tiny)
    annual = f"annual = {tiny.settings.targets.annual}"
    _replace(folder / "scenario.toml", annual, "annual = 1e300")
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 2
    assert "scenario.toml, column 'targets.annual'" in res.output and "(value '1e+300')" in res.output
    assert "use a value <= 1e+15" in res.output


def test_skills_in_tiers_are_bounded(tiny: scenarios.Scenario) -> None:
    with pytest.raises(scenarios.ScenarioError, match=r"skill multipliers must lie in \[0.01, 10\]"):
        scenarios.modify(tiny, {"tiers.junior.skill.demo": 0.0})
