"""Edge cases: no demand at all, one replication (no interval), bad options, a plan with quotas and budget."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import scenarios
from sim import SimulationError, build, simulate


def test_no_leads_runs_clean(tiny: scenarios.Scenario) -> None:
    changes: dict[str, object] = {f"channels.{c}.default_monthly_spend": 0.0 for c in tiny.settings.channels}
    changes["simulation.repeat_orders_per_year"] = {"A": 0.0, "B": 0.0, "C": 0.0}
    res = simulate(scenarios.modify(tiny, changes), replications=2, seed=1)
    assert res.kpi("leads") == 0 and res.kpi("revenue") == 0
    assert math.isnan(res.kpi("win_rate"))


def test_one_replication_has_no_interval(tiny: scenarios.Scenario) -> None:
    res = simulate(tiny, replications=1, seed=1)
    assert res.kpis["ci_low"].isna().all() and res.kpis["mean"].notna().any()


def test_bad_options_raise_simulation_error(tiny: scenarios.Scenario) -> None:
    with pytest.raises(SimulationError, match="replications"):
        simulate(tiny, replications=0)
    with pytest.raises(SimulationError, match="workers"):
        simulate(tiny, replications=1, workers=0)
    bad = scenarios.modify(tiny, {"simulation.tier_conversion": {"A": 1.0, "Z": 2.0}})
    with pytest.raises(SimulationError, match="unknown account tier"):
        simulate(bad, replications=1)


def test_plan_quotas_and_budget_are_used(tiny: scenarios.Scenario) -> None:
    periods = tiny.settings.calendar.periods()
    quotas = pd.DataFrame([(r, p, "hardware", 1000.0) for r in tiny.reps.index for p in periods],
                          columns=["rep_id", "period", "product", "quota"])
    budget = pd.DataFrame([("events", "North", p, 1000.0, 50.0, 0.0) for p in periods],
                          columns=["channel", "region", "period", "spend", "expected_leads", "expected_value"])
    plan = scenarios.Plan(assignment=tiny.accounts["current_rep_id"], quotas=quotas, budget=budget, source="test")
    model = build(tiny, plan)
    assert model.quota_source == "plan" and model.quotas.sum() == pytest.approx(1000.0 * 12 * len(tiny.reps))
    warmup = tiny.settings.simulation.warmup_months
    in_horizon = model.source_month >= warmup  # the warm-up runs at the channels' default spend
    assert model.source_rate[in_horizon].sum() == pytest.approx(50.0 * 12)
    assert set(model.source_channel[in_horizon]) == {0} and set(model.source_region[in_horizon]) == {0}
    res = simulate(tiny, plan, replications=3, seed=2)
    assert res.kpi("quota") == pytest.approx(1000.0 * 12 * len(tiny.reps))
    unknown = budget.assign(channel="tv")
    with pytest.raises(SimulationError, match="unknown channel"):
        build(tiny, scenarios.Plan(assignment=plan.assignment, budget=unknown))


def test_plan_pay_engine_agrees_with_flat_commission(tiny: scenarios.Scenario) -> None:
    from sim import PayPlanPay

    flat = simulate(tiny, replications=3, seed=6)
    engine = simulate(tiny, replications=3, seed=6, pay=PayPlanPay.from_scenario(tiny))
    assert np.allclose(flat.replication_reps["pay"], engine.replication_reps["pay"])
    assert flat.kpi("revenue") == engine.kpi("revenue")
    with pytest.raises(scenarios.ScenarioError, match="not defined"):
        PayPlanPay.from_scenario(tiny, pay_plan_id="no_such_plan")


def test_pooled_routing_gives_every_seat_a_quota_by_selling_hours(tiny: scenarios.Scenario) -> None:
    # under region_pool routing any seat of a region works its deals: a seat that owns no account still sells,
    # so its default quota is its share of the region's expected sales by selling hours
    accounts = tiny.accounts.copy()
    accounts.loc[accounts["current_rep_id"] == "R0001", "current_rep_id"] = "R0002"
    owner = tiny.replace(accounts=accounts)
    pooled = scenarios.modify(owner, {"simulation.routing": "region_pool"})
    by_owner, by_pool = build(owner), build(pooled)
    seat = {r: i for i, r in enumerate(by_pool.rep_ids)}
    assert by_owner.quotas[seat["R0001"]].sum() == 0.0  # owns nothing: no quota when the owner sells
    assert by_pool.quotas[seat["R0001"]].sum() > 0.0
    north = [seat[r] for r in tiny.reps.index[tiny.reps["region"] == "North"]]
    hours = tiny.reps.loc[tiny.reps["region"] == "North", "hours_per_week"].to_numpy(float)
    annual = by_pool.quotas[north].sum(axis=1)
    np.testing.assert_allclose(annual / annual.sum(), hours / hours.sum(), rtol=1e-9)
    # the region's total and the company's are what the owners' split gives
    np.testing.assert_allclose(by_pool.quotas[north].sum(), by_owner.quotas[north].sum(), rtol=1e-9)
    np.testing.assert_allclose(by_pool.quotas.sum(), by_owner.quotas.sum(), rtol=1e-9)
