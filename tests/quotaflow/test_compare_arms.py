"""``compare --scenarios`` / ``--plan-folders``: arms on the same customers with common random numbers, exactly
zero differences for identical arms, refusal of arms with other customers, and the binding limit named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clirunners import stderr_apart

import scenarios
from quotaflow.arms import Arm, compare_arms, why_lines
from quotaflow.cli import app
from quotaflow.comparison import ComparisonError
from quotaflow.exit_codes import ExitCode
from quotaflow.metrics import METRICS

runner = stderr_apart()


def _copy(target: Path, source: str = "tiny") -> Path:
    assert runner.invoke(app, ["scenario", "copy", source, str(target)]).exit_code == 0
    return target


def test_identical_arms_differ_by_exactly_zero(tmp_path: Path) -> None:
    copy = _copy(tmp_path / "same")
    out = tmp_path / "cmp"
    res = runner.invoke(app, ["compare", "--scenarios", f"tiny,{copy}", "--replications", "3", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    c = pd.read_parquet(out / "comparison.parquet")
    other = c[c["plan"] == str(copy)]
    assert len(other) == len(METRICS)
    for column in ("delta", "delta_ci_low", "delta_ci_high"):
        finite = other[column].to_numpy(dtype=float)
        finite = finite[np.isfinite(finite)]
        assert (finite == 0.0).all(), column  # exactly, not approximately
    assert np.isfinite(other.set_index("metric").loc["revenue", "delta"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["plans"] == ["tiny", str(copy)]
    assert "same scenario as tiny" in res.stdout


def test_arms_with_other_customers_are_refused_before_any_simulation(tmp_path: Path) -> None:
    other = _copy(tmp_path / "other")
    lines = (other / "accounts.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (other / "accounts.csv").write_text("".join(lines[:-1]), encoding="utf-8")  # one account fewer
    out = tmp_path / "cmp"
    res = runner.invoke(app, ["compare", "--scenarios", f"tiny,{other}", "--replications", "2", "--out", str(out)])
    assert res.exit_code == ExitCode.INPUT
    assert "does not share its customers" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


def test_an_added_rep_moves_results_on_the_same_customers(tmp_path: Path) -> None:
    more = _copy(tmp_path / "more")
    assert runner.invoke(app, ["scenario", "add-reps", str(more), "--region", "South", "--tier", "mid"]).exit_code == 0
    s, m = scenarios.load("tiny"), scenarios.load(more)
    res = compare_arms([Arm("tiny", s), Arm("more", m)], replications=3, seed=4)
    # today's assignment is unchanged, so the new rep holds no account: pay rises by the new rep's base salary
    new_rep = m.reps.loc[~m.reps.index.isin(s.reps.index)]
    delta, _, _, _ = res.delta("compensation_cost", "more")
    assert delta > 0.0
    months = s.settings.calendar.months
    assert delta >= 0.9 * float(new_rep["base_salary"].sum()) * months / 12.0


def test_plan_folders_name_the_limit_that_binds(tmp_path: Path) -> None:
    loose = _copy(tmp_path / "loose")
    text = (loose / "scenario.toml").read_text(encoding="utf-8")
    assert "max_moved_share = 0.15" in text
    (loose / "scenario.toml").write_text(text.replace("max_moved_share = 0.15", "max_moved_share = 0.5"),
                                         encoding="utf-8")
    tight_plan, loose_plan = tmp_path / "tight_plan", tmp_path / "loose_plan"
    assert runner.invoke(app, ["allocate", "tiny", "--out", str(tight_plan)]).exit_code == 0
    assert runner.invoke(app, ["allocate", str(loose), "--out", str(loose_plan)]).exit_code == 0
    out = tmp_path / "cmp"
    res = runner.invoke(app, ["compare", "tiny", "--plan-folders", f"{tight_plan},{loose_plan}",
                              "--allow-foreign-plan", "--replications", "2", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    moved = [json.loads((p / "summary.json").read_text(encoding="utf-8"))["moved"] for p in (tight_plan, loose_plan)]
    assert moved[1] > moved[0]
    line = (f"{loose_plan} moves {moved[1] - moved[0]} accounts more than {tight_plan} because {tight_plan}'s "
            "moved-potential budget (max_moved_share) binds (shadow price")
    assert line in res.stdout


def test_a_plan_without_an_allocation_summary_says_so(tmp_path: Path) -> None:
    s = scenarios.load("tiny")
    budget = {"family": "capacity", "label": "reps' selling hours (capacity)", "binding_rows": 2,
              "shadow_price": 3.0, "unit": "per hour a year"}
    lines = why_lines(Arm("A", s, moved=2, binding=(budget,)), Arm("B", s))
    assert lines == ["B's plan has no allocation summary (summary.json with binding constraints), so which limit "
                     "moved the result cannot be said"]
    assert why_lines(Arm("A", s), Arm("B", s)) == []


def test_mode_options_are_exclusive(tmp_path: Path) -> None:
    res = runner.invoke(app, ["compare", "tiny", "--pay-plans", "flat_commission,capped", "--scenarios", "tiny,x",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == ExitCode.INPUT
    res = runner.invoke(app, ["compare", "tiny", "--scenarios", "tiny,x", "--out", str(tmp_path / "o")])
    assert res.exit_code == ExitCode.INPUT and "drop the SCENARIO" in res.stderr


def test_one_arm_is_refused() -> None:
    with pytest.raises(ComparisonError, match="at least two"):
        compare_arms([Arm("a", scenarios.load("tiny"))], replications=2, seed=0)
