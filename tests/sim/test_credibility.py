"""Credibility of the simulated revenue against what the scenario says the market is: no account buys more than its
potential, the simulator delivers what the skill model (the quota basis) expects of each tier, and under the quota
optimizer's quotas attainment sits where sales organisations see it, on every bundled scenario.

The attainment band. Quotas sum to target x over-assignment (1.1 in both bundled scenarios) and the targets are
the expected sales of today's territories (tiny by derivation; baseline's hand calibration agrees within 2 %),
so with quotas in proportion to expected sales the central attainment is about 1 / 1.1 = 0.91, moved by what the
simulator adds to the skill model: training gain and promotions raise it, attrition, churn and stalled deals
lower it; switched on one at a time they move a tier's revenue over its expected sales by 5-13 % on baseline
(benchmarks/credibility.py, README). Median attainment near 0.9-1 is what sales organisations report (about half
of reps reach quota). A tier median outside 0.7-1.3 therefore means the quota basis and the simulator disagree
about that tier (as they did when juniors' median was 0.6 against 0.9-1.2 for the others).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import optimizer
import scenarios
import sim
from scenarios.skill import expected_sales, horizon_weights
from sim.incentives import IncentiveBehaviour

BUNDLED = ("tiny", "baseline")


def _records(s: scenarios.Scenario, plan: scenarios.Plan, n: int, seed: int = 1,
             plan_id: str | None = "flat_commission") -> tuple[sim.Model, list[sim.RunRecord]]:
    model = sim.build(s, plan)
    if plan_id is None:
        return model, [sim.run_replication(model, c)[1] for c in np.random.SeedSequence(seed).spawn(n)]
    behaviour = IncentiveBehaviour.from_model(model, [plan_id] * model.n_seats)
    pay = sim.PayPlanPay.from_model(model, [plan_id] * model.n_seats)
    return model, [sim.run_replication(model, c, behaviour, pay)[1] for c in np.random.SeedSequence(seed).spawn(n)]


def _fair_plan(s: scenarios.Scenario) -> scenarios.Plan:
    today = scenarios.Plan.current(s)
    return scenarios.Plan(assignment=today.assignment, quotas=optimizer.set_quotas(s, today.assignment).quotas)


@pytest.mark.parametrize("name", BUNDLED)
def test_no_account_buys_more_than_its_potential(name: str) -> None:
    s = scenarios.load(name)
    _, _, share = horizon_weights(s)
    potential = s.accounts["annual_potential"].to_numpy(float) * share
    _, records = _records(s, scenarios.Plan.current(s), 3, plan_id=None)
    for rec in records:
        assert (rec.account_bookings <= potential * (1 + 1e-12)).all()
        assert rec.bookings.sum() <= potential.sum()


def test_more_marketing_than_today_saturates_at_the_accounts_potential(tiny: scenarios.Scenario) -> None:
    """Forty times today's new-business leads over an 18-month horizon: deals keep today's size, so prospects are
    offered far more than they can buy. Each plan year books at most the potential (the last six months their
    seasonal share), and the cap is what stops it."""
    s = scenarios.modify(tiny, {"calendar.months": 18})
    base = sim.build(s)
    months = base.n_months
    warm = s.settings.simulation.warmup_months
    rows = [(base.channel_ids[c], base.region_ids[r], base.periods[m - warm], 40.0 * lam)
            for c, r, m, lam in zip(base.source_channel, base.source_region, base.source_month, base.source_rate,
                                    strict=True) if warm <= m < warm + months]
    budget = pd.DataFrame(rows, columns=["channel", "region", "period", "expected_leads"]).assign(
        spend=0.0, expected_value=0.0)
    plan = scenarios.Plan(assignment=scenarios.Plan.current(s).assignment, budget=budget)
    model, records = _records(s, plan, 4, plan_id=None)
    years = model.wallet  # (plan years, accounts)
    assert years.shape[0] == 2 and np.allclose(years[0], s.accounts["annual_potential"])
    assert np.allclose(years[1], years[0] * model.season[12:].sum() / 12.0)
    for rec in records:
        assert (rec.account_bookings <= years.sum(axis=0) * (1 + 1e-12)).all()
        first = rec.bookings[:, :12].sum()
        assert first <= years[0].sum()
    assert np.mean([rec.potential_cut.sum() for rec in records]) > 0.5 * np.mean([r.bookings.sum() for r in records])


def _tier_ratio(s: scenarios.Scenario, n: int, seed: int) -> pd.Series:
    """Simulated revenue over expected sales per tier with the simulator's dynamics the skill model leaves out
    switched off (training gain, promotion, attrition, churn, stalled deals) and hours ample enough that ramp-up
    (which the simulator applies to hours) never binds, so the skill model is taken without its ramp factor."""
    tiers = s.settings.tiers
    changes: dict[str, object] = {"simulation.training_skill_gain": 0.0, "simulation.base_churn_per_year": 0.0,
                                  "simulation.neglect_churn_per_quarter": 0.0, "funnel.stall_days": 1e6}
    for t, tier in tiers.items():
        changes[f"tiers.{t}.attrition_per_year"] = 0.0
        if tier.promotion is not None:
            changes[f"tiers.{t}.promotion.after_months"] = 10_000
    s = scenarios.modify(s, changes)
    s = s.replace(reps=s.reps.assign(hours_per_week=160.0))
    plan = scenarios.Plan.current(s)
    e = expected_sales(s, plan.assignment, ramp=False)
    _, records = _records(s, plan, n, seed=seed, plan_id=None)
    booked = np.mean([rec.bookings.sum(axis=1) for rec in records], axis=0)
    by_tier = pd.DataFrame({"tier": e["tier"], "expected": e["expected_sales"], "simulated": booked})
    g = by_tier.groupby("tier")[["expected", "simulated"]].sum()
    return pd.concat([g["simulated"] / g["expected"],
                      pd.Series({"all": g["simulated"].sum() / g["expected"].sum()})])


def test_simulated_revenue_is_what_the_skill_model_expects(baseline: scenarios.Scenario) -> None:
    ratio = _tier_ratio(baseline, 6, 5)
    assert 0.92 < ratio["all"] < 1.08, ratio


@pytest.mark.slow
def test_each_tier_delivers_what_the_skill_model_expects(baseline: scenarios.Scenario) -> None:
    ratio = _tier_ratio(baseline, 24, 5)
    assert ((ratio > 0.9) & (ratio < 1.1)).all(), ratio


@pytest.mark.parametrize("name", BUNDLED)
def test_attainment_under_fair_quotas_is_plausible(name: str) -> None:
    """The company's attainment (median over replications) within 0.7-1.3 on every bundled scenario; on
    baseline also each tier's median rep attainment (16, 16 and 8 reps a tier). tiny's 1-3 reps a tier book
    0-3 deals a year each, so one deal decides a rep's attainment and a per-rep median says nothing there; its
    company attainment spreads P10 0.53 to P90 1.65 over replications (median 1.04 over 400), so it takes 48
    for the median to stay within 0.85-1.24 in 99 % of roots."""
    s = scenarios.load(name)
    _, records = _records(s, _fair_plan(s), 6 if name == "baseline" else 48)
    company = np.median([rec.bookings.sum() / rec.quotas.sum() for rec in records])
    assert 0.7 < company < 1.3, company
    if name == "baseline":
        per_rep = pd.DataFrame({"tier": np.tile(s.reps["tier"].to_numpy(), len(records)),
                                "attainment": np.concatenate([rec.bookings.sum(axis=1) / rec.quotas.sum(axis=1)
                                                              for rec in records])})
        medians = per_rep.groupby("tier")["attainment"].median()
        assert ((medians > 0.7) & (medians < 1.3)).all(), medians
