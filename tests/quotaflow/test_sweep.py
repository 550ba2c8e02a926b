"""Sweeps: grid parsing, identical results whatever the executor, resume after a kill, bounded outputs.

The evaluator here is a small closed-form stand-in for the simulator (deterministic in scenario, seed and
replication) so the sweep machinery is tested on its own; the simulator-backed sweep is tested with the CLI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scenarios
from quotaflow.commands.options import parse_set
from quotaflow.errors import GridError
from quotaflow.grid import SweepPoint, expand, load_grid
from quotaflow.sweep import sweep


def capacity_revenue(scenario: scenarios.Scenario, *, replications: int, seed: int,
                     allocate: bool) -> pd.DataFrame:
    """Revenue ~ capacity-limited share of potential, with replication noise from the seed (CRN by replication)."""
    st = scenario.settings
    hours = float((scenario.reps["hours_per_week"] * st.calendar.weeks_per_year).sum())
    rate = st.pay_plans["flat_commission"].commission_rate
    rows = []
    for r in range(replications):
        noise = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(r,))).normal(1.0, 0.05)
        revenue = hours * 50.0 * (1 + rate) * noise
        rows += [(r, "revenue", revenue), (r, "cost", hours * 30.0 * noise)]
    return pd.DataFrame(rows, columns=["replication", "metric", "value"])


def slow_revenue(scenario: scenarios.Scenario, *, replications: int, seed: int, allocate: bool) -> pd.DataFrame:
    time.sleep(0.3)
    return capacity_revenue(scenario, replications=replications, seed=seed, allocate=allocate)


def test_parse_set_and_grid(tmp_path: Path) -> None:
    assert parse_set("budget.total=1e6, 2e6") == ("budget.total", [1e6, 2e6])
    assert parse_set('pay_plans.x.description="a b"') == ("pay_plans.x.description", ["a b"])
    with pytest.raises(GridError):
        parse_set("no-equals-sign")
    grid = tmp_path / "grid.toml"
    grid.write_text(textwrap.dedent("""
        [grid]
        "reps[tier=junior].hours_per_week" = [36, 40]
        [[variants]]
        name = "rich"
        set = { "pay_plans.flat_commission.commission_rate" = 0.08 }
        [[variants]]
        name = "base"
    """), encoding="utf-8")
    g, variants = load_grid(grid)
    points = expand(g, variants)
    assert [p.label for p in points] == [f"{v} | reps[tier=junior].hours_per_week={h}"
                                         for v in ("rich", "base") for h in (36, 40)]
    assert points[0].changes == {"pay_plans.flat_commission.commission_rate": 0.08,
                                 "reps[tier=junior].hours_per_week": 36}


def test_old_path_names_are_read_as_the_new_ones_with_a_note(tmp_path: Path) -> None:
    with pytest.warns(scenarios.ScenarioDeprecationWarning, match="--set: 'plans.x.commission_rate' uses an old name"):
        assert parse_set("plans.x.commission_rate=0.1") == ("pay_plans.x.commission_rate", [0.1])
    grid = tmp_path / "old.toml"
    grid.write_text(textwrap.dedent("""
        [grid]
        "plans.flat_commission.commission_rate" = [0.03]
        [[variants]]
        name = "bonus"
        set = { "reps.plan_id" = "annual_bonus" }
    """), encoding="utf-8")
    with pytest.warns(scenarios.ScenarioDeprecationWarning, match="old.toml: ") as caught:
        g, variants = load_grid(grid)
    assert len(caught) == 2
    assert g == {"pay_plans.flat_commission.commission_rate": [0.03]}
    assert variants[0].changes == {"reps.pay_plan_id": "annual_bonus"}


def test_bad_point_fails_before_running(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    with pytest.raises(scenarios.ScenarioError, match="does not exist"):
        sweep(tiny, [SweepPoint("x", {"tiers.junior.hourz": 3})], evaluate=capacity_revenue, out=tmp_path,
              replications=2, seed=1, progress=False)
    assert not (tmp_path / "tasks").exists() or not any((tmp_path / "tasks").iterdir())


def _points() -> list[SweepPoint]:
    return expand({"reps[tier=junior].hours_per_week": [30, 35, 40],
                   "pay_plans.flat_commission.commission_rate": [0.03, 0.06]})


def test_same_result_in_process_and_pool(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    one = sweep(tiny, _points(), evaluate=capacity_revenue, out=tmp_path / "a", replications=3, seed=5,
                progress=False)
    two = sweep(tiny, _points(), evaluate=capacity_revenue, out=tmp_path / "b", replications=3, seed=5, workers=2,
                progress=False)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    assert (tmp_path / "a" / "summary.csv").read_bytes() == (tmp_path / "b" / "summary.csv").read_bytes()
    wide = one.wide()
    assert len(wide) == 6 and wide["revenue"].is_unique
    # More junior hours, more revenue (the stand-in is monotone): the sweep carries the parameter through.
    by_hours = wide.groupby("reps[tier=junior].hours_per_week")["revenue"].mean()
    assert by_hours.is_monotonic_increasing


def test_same_result_on_dask_local_cluster(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ref = sweep(tiny, _points(), evaluate=capacity_revenue, out=tmp_path / "ref", replications=3, seed=5,
                progress=False)
    dask = sweep(tiny, _points(), evaluate=capacity_revenue, out=tmp_path / "dask", replications=3, seed=5,
                 dask_local=2, progress=False)
    pd.testing.assert_frame_equal(ref.summary, dask.summary)


def test_resume_recomputes_missing_and_corrupt(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    full = sweep(tiny, _points(), evaluate=capacity_revenue, out=tmp_path, replications=2, seed=3, progress=False)
    files = sorted((tmp_path / "tasks").glob("*.parquet"))
    assert len(files) == 6
    files[0].unlink()
    files[1].write_bytes(b"not parquet")
    again = sweep(tiny, _points(), evaluate=capacity_revenue, out=tmp_path, replications=2, seed=3, resume=True,
                  progress=False)
    assert (again.ran, again.reused) == (2, 4)
    pd.testing.assert_frame_equal(full.summary, again.summary)


_KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import scenarios
from quotaflow.grid import expand
from quotaflow.sweep import sweep
from test_sweep import slow_revenue
points = expand({{"reps[tier=junior].hours_per_week": [30, 32, 34, 36, 38, 40]}})
sweep(scenarios.load("tiny"), points, evaluate=slow_revenue, out={out!r}, replications=2, seed=9,
      resume=True, progress=False)
"""


def test_kill_then_resume_equals_uninterrupted(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    script = _KILL_SCRIPT.format(tests=str(Path(__file__).parent), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", script])
    tasks = out / "tasks"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(tasks.glob("*.parquet"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(tasks.glob("*.parquet")))
    assert 2 <= done < 6, "the kill should land part-way"
    points = expand({"reps[tier=junior].hours_per_week": [30, 32, 34, 36, 38, 40]})
    resumed = sweep(tiny, points, evaluate=slow_revenue, out=out, replications=2, seed=9, resume=True,
                    progress=False)
    assert resumed.ran == 6 - done and resumed.reused == done
    fresh = sweep(tiny, points, evaluate=slow_revenue, out=tmp_path / "fresh", replications=2, seed=9,
                  progress=False)
    pd.testing.assert_frame_equal(resumed.summary, fresh.summary)
    assert not list(tasks.glob(".*.tmp")), "no temporary file may survive as a task"


def test_report_ranks_and_plots(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    from quotaflow.report import ReportError, report

    sweep(tiny, _points(), evaluate=capacity_revenue, out=tmp_path, replications=2, seed=1, progress=False)
    rep = report(tmp_path, metric="revenue", top=3)
    assert len(rep.best) == 3 and rep.best["mean"].is_monotonic_decreasing
    assert rep.best.iloc[0]["reps[tier=junior].hours_per_week"] == 40
    assert len(rep.plots) == 2 and all(p.stat().st_size > 1000 for p in rep.plots)
    cheapest = report(tmp_path, metric="cost", top=1, minimise=True)
    assert cheapest.best.iloc[0]["reps[tier=junior].hours_per_week"] == 30
    with pytest.raises(ReportError, match="choose one of"):
        report(tmp_path, metric="profit")
    with pytest.raises(ReportError, match="not a sweep folder"):
        report(tmp_path / "nothing", metric="revenue")
