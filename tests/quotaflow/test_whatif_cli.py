"""What-ifs on the command line: every --set or swept path changes what the command evaluates, or the command
refuses it (exit 2, before any work and without an output folder) and says which command or flag reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

import optimizer
import scenarios
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode
from quotaflow.readers import Evaluation, check_whatifs

runner = CliRunner()


def _summary(out: Path, metric: str) -> pd.Series:
    frame = pd.read_csv(out / "summary.csv")
    return frame[frame["metric"] == metric].set_index("label")["mean"]


def test_budget_sweep_spends_each_points_budget(tmp_path: Path) -> None:
    # The README's example: a budget sweep used to simulate today's channel spend at every point (identical
    # results); now every point re-optimises its budget and simulates what that spend buys.
    out = tmp_path / "budget"
    result = runner.invoke(app, ["sweep", "tiny", "--set", "budget.total=60000,240000", "--replications", "2",
                                 "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    spent = _summary(out, "budget_spent")
    assert abs(spent["budget.total=60000"] - 60000) < 1e-3 and abs(spent["budget.total=240000"] - 240000) < 1e-3
    leads = _summary(out, "leads")
    assert leads["budget.total=60000"] < leads["budget.total=240000"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "re-optimised at every point" in manifest["budget"]
    # told to keep today's spend, the same sweep cannot see the budget: refused before any work
    today = tmp_path / "today"
    refused = runner.invoke(app, ["sweep", "tiny", "--set", "budget.total=60000,240000", "--budget", "today",
                                  "--out", str(today)])
    assert refused.exit_code == ExitCode.INPUT and "--budget optimise" in refused.output
    assert not today.exists()


def test_infeasible_budget_point_is_marked_and_reported(tmp_path: Path) -> None:
    # tiny's partners channel must spend 7,200: a 5,000 budget has no answer, the other point does
    out = tmp_path / "small"
    result = runner.invoke(app, ["sweep", "tiny", "--set", "budget.total=5000,90000", "--replications", "1",
                                 "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    feasible = _summary(out, "budget_feasible")
    assert feasible["budget.total=5000"] == 0.0 and feasible["budget.total=90000"] == 1.0
    assert "no feasible budget at 1 point(s)" in result.output
    assert list(_summary(out, "revenue").index) == ["budget.total=90000"]


def test_simulate_refuses_what_it_cannot_see_and_names_who_can(tmp_path: Path) -> None:
    cases = {
        "budget.total=120000": "quotaflow sweep re-optimises the budget",
        "optimizer.travel_weight=5": "quotaflow sweep --allocate",
        "quotas.method=even": "quotaflow quotas reads it",
        "behaviour.timing_games=true": "flat commission",
        "pay_plans.capped.cap.target_multiple=2": "--incentives capped",
        "tiers.junior.annual_cost=1000": "no command reads it yet",
        "simulation.workers=2": "results never depend on it",
    }
    for option, fragment in cases.items():
        out = tmp_path / option.split("=")[0]
        result = runner.invoke(app, ["simulate", "tiny", "--set", option, "--replications", "1", "--out", str(out)])
        assert result.exit_code == ExitCode.INPUT, (option, result.output)
        assert fragment in result.output, (option, result.output)
        assert "Traceback" not in result.output and not out.exists()
    # on a plan that responds, the same timing-games what-if runs (the README's example)
    ok = runner.invoke(app, ["simulate", "tiny", "--incentives", "annual_bonus", "--set",
                             "behaviour.timing_games=true", "--replications", "1", "--out", str(tmp_path / "ok")])
    assert ok.exit_code == ExitCode.OK, ok.output


def test_a_plans_quotas_replace_the_target(tmp_path: Path) -> None:
    tiny = scenarios.load("tiny")
    assignment = scenarios.Plan.current(tiny).assignment
    quotas = optimizer.set_quotas(tiny, assignment).quotas
    with_quotas, without = tmp_path / "with", tmp_path / "without"
    scenarios.Plan(assignment=assignment, quotas=quotas).to_csv(with_quotas)
    scenarios.Plan(assignment=assignment).to_csv(without)
    args = ["simulate", "tiny", "--set", "targets.annual=1.5e6", "--replications", "1"]
    refused = runner.invoke(app, [*args, "--plan", str(with_quotas), "--out", str(tmp_path / "a")])
    assert refused.exit_code == ExitCode.INPUT and "quotas.csv replaces" in refused.output
    ran = runner.invoke(app, [*args, "--plan", str(without), "--out", str(tmp_path / "b")])
    assert ran.exit_code == ExitCode.OK, ran.output


def test_compare_reads_only_the_compared_plans(tmp_path: Path) -> None:
    args = ["compare", "tiny", "--pay-plans", "flat_commission,capped", "--replications", "2"]
    refused = runner.invoke(app, [*args, "--set", "pay_plans.annual_bonus.commission_rate=0.1", "--out",
                                  str(tmp_path / "a")])
    assert refused.exit_code == ExitCode.INPUT and "add it to --pay-plans" in refused.output
    ran = runner.invoke(app, [*args, "--set", "pay_plans.capped.cap.target_multiple=1.2", "--out", str(tmp_path / "b")])
    assert ran.exit_code == ExitCode.OK, ran.output


def test_quota_sweep_sets_quotas_at_every_point(tmp_path: Path) -> None:
    # On baseline (40 reps, about 560 won deals a year) the reps' median attainment reflects their quotas; tiny's
    # six reps book about 8 deals a year, so at one replication most book none and the median is 0 either way.
    out = tmp_path / "quotas"
    result = runner.invoke(app, ["sweep", "baseline", "--set", "quotas.method=even,fair", "--replications", "1",
                                 "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "optimizer.set_quotas" in manifest["quotas"]
    p50 = _summary(out, "attainment_p50")
    assert p50["quotas.method=even"] != p50["quotas.method=fair"]
    assert (_summary(out, "quotas_feasible") == 1.0).all()


def test_allocation_settings_need_allocate(tmp_path: Path) -> None:
    refused = runner.invoke(app, ["sweep", "tiny", "--set", "optimizer.travel_weight=1,40", "--out",
                                  str(tmp_path / "a")])
    assert refused.exit_code == ExitCode.INPUT
    assert "pass --allocate (re-optimise the assignment at every point) for it to matter" in refused.output
    out = tmp_path / "b"
    ran = runner.invoke(app, ["sweep", "tiny", "--set", "optimizer.travel_weight=1,40", "--allocate",
                              "--replications", "1", "--out", str(out)])
    assert ran.exit_code == ExitCode.OK, ran.output
    objective = _summary(out, "allocation_objective")  # value less weighted travel: the weight reaches it
    assert objective["optimizer.travel_weight=40"] < objective["optimizer.travel_weight=1"]


def test_unchanged_and_duplicate_points(tmp_path: Path) -> None:
    # tiny's stall_days is 45: one point at that value is the base itself (a warning), two that evaluate the same
    # scenario are refused
    same = runner.invoke(app, ["simulate", "tiny", "--set", "funnel.stall_days=45", "--replications", "1",
                               "--out", str(tmp_path / "a")])
    assert same.exit_code == ExitCode.OK and "leaves the scenario unchanged" in same.output
    base = runner.invoke(app, ["sweep", "tiny", "--set", "funnel.stall_days=45", "--replications", "1",
                               "--out", str(tmp_path / "b")])
    assert base.exit_code == ExitCode.OK and "leaves the scenario unchanged" in base.output
    twice = runner.invoke(app, ["sweep", "tiny", "--set", "funnel.stall_days=30,30.0", "--out", str(tmp_path / "c")])
    assert twice.exit_code == ExitCode.INPUT and "evaluate the same scenario" in twice.output


def test_a_path_read_at_some_points_only_is_noted() -> None:
    tiny = scenarios.modify(scenarios.load("tiny"), {"reps.pay_plan_id": "tiered_accelerator",
                                                     "behaviour.customer_push_share": 0.5})
    points = [("games", {"behaviour.push_risk": 0.3}),
              ("no games", {"behaviour.timing_games": False, "behaviour.push_risk": 0.3})]
    notes = check_whatifs(tiny, points, Evaluation("sweep"))
    assert any("behaviour.push_risk is not read at 1 of 2 points" in n and "no games" in n for n in notes)
