"""CLI contract of `quotaflow allocate` and `quotaflow frontier`: files, columns, exit codes, no partial output."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import scenarios
from quotaflow.cli import app

runner = CliRunner()


def test_allocate_writes_the_three_files(tmp_path: Path, tiny: scenarios.Scenario) -> None:
    out = tmp_path / "plan"
    res = runner.invoke(app, ["allocate", "tiny", "--out", str(out), "--time-limit", "30", "--mip-gap", "0.001"])
    assert res.exit_code == 0, res.output
    a = (out / "assignments.csv").read_text(encoding="utf-8-sig").splitlines()
    # names, tiers and regions beside the ids, so the file reads without a lookup
    assert a[0] == ("account_id,account_name,account_tier,account_region,rep_id,rep_name,rep_tier,rep_region,"
                    "previous_rep_id,moved,value,hours,travel_km")
    assert len(a) == 1 + len(tiny.accounts)
    r = (out / "reps.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert r.startswith("rep_id,rep_name,rep_tier,rep_region,accounts,hours,capacity_hours,value,travel_km,"
                        "shadow_price_hour")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal"
    assert {"objective", "bound", "gap", "seconds", "solver"} <= set(summary)
    plan = scenarios.Plan.load(out, tiny)
    assert plan.assignment.notna().all()


def test_allocate_with_cbc(tmp_path: Path, tiny: scenarios.Scenario) -> None:
    res = runner.invoke(app, ["allocate", "tiny", "--out", str(tmp_path / "p"), "--solver", "cbc"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "p" / "summary.json").read_text())["solver"] == "cbc"
    # --solver changes how the plan was found, not what it is a plan for: it belongs to tiny as saved
    stamp = json.loads((tmp_path / "p" / "plan.json").read_text(encoding="utf-8"))
    assert stamp["scenario"] == {"name": "tiny", "fingerprint": scenarios.fingerprint(tiny)}


def test_a_plan_with_awkward_ids_round_trips_through_simulate(tmp_path: Path, tiny: scenarios.Scenario) -> None:
    """Ids with spaces, slashes, commas, quotes and non-Latin letters, and names a spreadsheet would run as
    formulas: allocate writes a plan folder that simulate --plan reads back unchanged (with and without --excel)."""
    reps = {"R0002": "R 2/ü", "R0005": "销售-5"}
    accounts = {"A000003": 'A,3 "x"', "A000007": "账户 7", "A000011": "x=1+2"}
    s = tiny.replace(
        reps=tiny.reps.rename(index=reps).assign(name=lambda r: r["name"].where(r.index != "R 2/ü", "=Müller")),
        accounts=tiny.accounts.rename(index=accounts).assign(
            current_rep_id=lambda a: a["current_rep_id"].replace(reps),
            name=lambda a: a["name"].where(a.index != "账户 7", "@Home GmbH")))
    scenarios.save(s, tmp_path / "awkward")
    for excel in ([], ["--excel"]):
        out = tmp_path / f"plan{len(excel)}"
        res = runner.invoke(app, ["allocate", str(tmp_path / "awkward"), "--out", str(out), *excel])
        assert res.exit_code == 0, res.output
        written = (out / "assignments.csv").read_text(encoding="utf-8-sig")
        assert '"A,3 ""x""",' in written  # ids are quoted as CSV, never escaped
        table = pd.read_csv(out / "assignments.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert not table["account_id"].str.startswith("'").any() and not table["rep_id"].str.startswith("'").any()
        assert "'=Müller" in set(table["rep_name"]) and "'@Home GmbH" in set(table["account_name"])
        plan = scenarios.Plan.load(out, scenarios.load(tmp_path / "awkward"))
        assert {"R 2/ü", "销售-5"} <= set(plan.assignment.dropna())
        assert set(plan.assignment.index) == set(s.accounts.index)
        sim_out = tmp_path / f"sim{len(excel)}"
        res = runner.invoke(app, ["simulate", str(tmp_path / "awkward"), "--plan", str(out), "--replications", "2",
                                  "--out", str(sim_out)])
        assert res.exit_code == 0, res.output
        assert "warning" not in res.output


def test_infeasible_exits_3_and_writes_nothing(tmp_path: Path, tiny: scenarios.Scenario) -> None:
    folder = tmp_path / "small"
    scenarios.save(tiny.replace(reps=tiny.reps.assign(hours_per_week=5.0)), folder)
    out = tmp_path / "plan"
    res = runner.invoke(app, ["allocate", str(folder), "--out", str(out)])
    assert res.exit_code == 3
    assert "needs at least" in res.output
    assert not out.exists()


def test_existing_output_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    res = runner.invoke(app, ["allocate", "tiny", "--out", str(out)])
    assert res.exit_code == 5
    assert (out / "keep.txt").exists()


def test_bad_solver_is_an_input_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["allocate", "tiny", "--out", str(tmp_path / "p"), "--solver", "gurobi"])
    assert res.exit_code == 2


def test_frontier_writes_csv_and_png(tmp_path: Path) -> None:
    out = tmp_path / "f"
    res = runner.invoke(app, ["frontier", "tiny", "--x", "travel", "--y", "disruption", "--points", "3",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "frontier.png").stat().st_size > 1000
    table = pd.read_csv(out / "frontier.csv", encoding="utf-8-sig")
    assert list(table.columns) == ["epsilon", "epsilon_loosest", "levels", "x", "y", "status", "gap"]
    assert table["levels"].sum() == 3


def test_frontier_unknown_term_is_an_input_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["frontier", "tiny", "--x", "travel", "--y", "happiness", "--out", str(tmp_path / "f")])
    assert res.exit_code == 2


def test_infeasible_result_has_no_plan() -> None:
    import optimizer

    s = scenarios.modify(scenarios.load("tiny"), {"reps[tier=junior].hours_per_week": 20})
    result = optimizer.allocate(s)
    assert result.status == "infeasible"
    with pytest.raises(optimizer.InfeasibleError, match="capacity"):
        result.plan()


def test_allocate_writes_a_complete_plan_for_the_simulator(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = runner.invoke(app, ["allocate", "tiny", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["quotas"]["status"] == "optimal" and summary["budget"]["status"] == "optimal"
    s = scenarios.load("tiny")
    plan = scenarios.Plan.load(out, s)
    assert plan.quotas is not None and plan.budget is not None
    total = s.settings.targets.annual * s.settings.targets.over_assignment
    assert abs(plan.quotas["quota"].sum() - total) < 1e-6
    assert plan.budget["spend"].sum() <= s.settings.budget.total + 1e-6
    # Quotas follow the new territories: every rep with accounts has a quota.
    owners = set(plan.assignment.dropna())
    assert owners <= set(plan.quotas.loc[plan.quotas["quota"] > 0, "rep_id"])
