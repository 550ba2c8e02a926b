"""The incentive behaviour adapter and the fast PayPlanPay: cross-checks against NormBehaviour, pay_statement and a
reference re-implementation of the plan arithmetic."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest
from simcases import MIXED_PLANS, mixed_plans

import scenarios
import sim
from sim.incentives import IncentiveBehaviour, pay_statement
from sim.policy import RepState


def _bookings(s: scenarios.Scenario, behaviour: sim.Behaviour | None, pay: sim.PayFunction | None,
              seed: int = 3) -> np.ndarray:
    m = sim.build(s)
    _, rec = sim.run_replication(m, np.random.SeedSequence(seed), behaviour, pay)
    return np.asarray(rec.bookings)


def test_flat_commission_behaves_exactly_like_the_norm(baseline: scenarios.Scenario) -> None:
    # Under a flat commission the marginal rate is the reference rate everywhere: hours at the norm and the
    # deal order of NormBehaviour, so the whole run must be identical, deal for deal.
    # The adapter short-cuts constant-rate plans; the full evaluation (shortcut off) must give the same run.
    b = IncentiveBehaviour.from_scenario(baseline, "flat_commission")
    assert all(b.constant)
    full = dataclasses.replace(b, constant=(False,) * len(b.constant), _cache={})
    assert full.dynamic_priority
    pay = sim.PayPlanPay.from_scenario(baseline, "flat_commission")
    norm = _bookings(baseline, None, pay)
    np.testing.assert_array_equal(_bookings(baseline, b, pay), norm)
    np.testing.assert_array_equal(_bookings(baseline, full, pay), norm)


def test_disabled_behaviour_is_the_pure_pay_effect(baseline: scenarios.Scenario) -> None:
    off = scenarios.modify(baseline, {"behaviour.enabled": False})
    b = IncentiveBehaviour.from_scenario(off, "annual_bonus")
    assert not b.dynamic_priority
    pay = sim.PayPlanPay.from_scenario(off, "annual_bonus")
    np.testing.assert_array_equal(_bookings(off, b, pay), _bookings(off, None, pay))
    on = IncentiveBehaviour.from_scenario(baseline, "annual_bonus")
    assert not np.array_equal(_bookings(baseline, on, pay), _bookings(off, None, pay))


def test_position_uses_run_rate_and_pipeline(tiny: scenarios.Scenario) -> None:
    b = IncentiveBehaviour.from_scenario(tiny, "annual_bonus")
    rep = RepState(seat=0, rep_id="R0001", tier="mid", norm_hours=40.0, now=300.0, month=9, month_elapsed=0.5,
                   bookings_horizon=95_000.0, bookings_by_month=[10_000.0] * 9 + [5_000.0, 0.0, 0.0],
                   pipeline_value=1e9)
    pos = b.position(rep)
    run_rate = 95_000.0 / (9.5 * b.weeks_per_month)
    assert pos.weekly_mean == pytest.approx(run_rate)  # evidence weight is 1 after three months
    early = RepState(seat=0, rep_id="R0001", tier="mid", norm_hours=40.0, now=-10.0, pipeline_value=60_000.0,
                     bookings_by_month=[0.0] * 12)
    assert b.position(early).weekly_mean == pytest.approx(60_000.0 / b.cycle_weeks)
    assert pos.bookings.tolist()[:2] == [10_000.0, 10_000.0]


def _rep(b: IncentiveBehaviour, pace: float, month: int = 11) -> RepState:
    """The seat with the largest quota (many deals a year, so one deal does not decide the bonus) at ``pace``."""
    seat = int(np.argmax([i.quotas.sum() for i in b.incentives]))
    quota = b.incentives[seat].quotas
    done = float(quota[:month].sum()) * pace
    by_month = [float(x) * pace for x in quota[:month]] + [0.0] * (len(quota) - month)
    return RepState(seat=seat, rep_id=f"seat{seat}", tier="mid", norm_hours=40.0, now=330.0, month=month,
                    month_elapsed=0.2, bookings_horizon=done, bookings_by_month=by_month)


def test_hours_respond_to_distance_from_the_annual_threshold(tiny: scenarios.Scenario) -> None:
    b = IncentiveBehaviour.from_scenario(tiny, "annual_bonus")
    far, near = b.weekly_hours(_rep(b, 0.3)), b.weekly_hours(_rep(b, 0.95))
    assert far < 40.0 < near
    flat = IncentiveBehaviour.from_scenario(tiny, "flat_commission")
    assert flat.weekly_hours(_rep(flat, 0.3)) == flat.weekly_hours(_rep(flat, 0.95)) == 40.0


def test_priority_favours_deals_closing_before_the_year_end_near_the_threshold(tiny: scenarios.Scenario) -> None:
    b = IncentiveBehaviour.from_scenario(tiny, "annual_bonus")
    rep = _rep(b, 0.95)
    b.weekly_hours(rep)  # the week's position

    class Deal:
        def __init__(self, stage: int) -> None:
            self.lead, self.stage, self.value, self.win_probability, self.created = 0, stage, 10_000.0, 0.5, 0.0

    last, first = len(b.days_to_close) - 1, 0
    # a deal in negotiation closes in December and counts towards the bonus; a new lead closes next year
    assert b.priority(rep, Deal(last)) > 1.3 * b.priority(rep, Deal(first))
    flat = IncentiveBehaviour.from_scenario(tiny, "flat_commission")
    assert flat.priority(rep, Deal(last)) == flat.priority(rep, Deal(first)) == 5_000.0


def test_unknown_plan_and_rep_are_input_errors(tiny: scenarios.Scenario) -> None:
    with pytest.raises(scenarios.ScenarioError, match="not defined"):
        IncentiveBehaviour.from_scenario(tiny, "no_such_plan")
    with pytest.raises(scenarios.ScenarioError, match="unknown rep"):
        IncentiveBehaviour.from_scenario(tiny, {"R9999": "flat_commission"})


def test_mapping_keeps_other_reps_on_their_own_plan(tiny: scenarios.Scenario) -> None:
    # Reps on four different plans; two of them mapped to other plans: the rest keep their own, and each seat's
    # prepared incentive is the plan its id names (not only the label).
    s = mixed_plans(tiny)
    ids = [str(r) for r in s.reps.index]
    b = IncentiveBehaviour.from_scenario(s, {ids[0]: "flat_commission", ids[3]: "annual_bonus"})
    want = ["flat_commission", *MIXED_PLANS[1:3], "annual_bonus", *MIXED_PLANS[4:]]
    assert list(b.pay_plan_ids) == want
    assert [inc.pay_plan for inc in b.incentives] == [s.settings.pay_plans[p] for p in want]
    assert len(set(want)) == 4 and want != list(MIXED_PLANS)


def test_pickles_without_its_weekly_cache_and_workers_agree(tiny: scenarios.Scenario) -> None:
    b = IncentiveBehaviour.from_scenario(tiny, "annual_bonus")
    b.weekly_hours(_rep(b, 0.9))
    clone = pickle.loads(pickle.dumps(b))
    assert clone._cache == {} and clone.pay_plan_ids == b.pay_plan_ids
    assert [i.reference_rate for i in clone.incentives] == [i.reference_rate for i in b.incentives]
    pay = sim.PayPlanPay.from_scenario(tiny, "annual_bonus")
    one = sim.simulate(tiny, replications=2, seed=5, behaviour=b, pay=pay)
    two = sim.simulate(tiny, replications=2, seed=5, behaviour=b, pay=pay, workers=2)
    assert one.replications.equals(two.replications)


def _reference_pay(bookings: np.ndarray, quotas: np.ndarray, salary: float,
                   pay_plan: scenarios.PayPlanSettings) -> np.ndarray:
    """Monthly pay written out month by month from the plan's terms, independently of ``sim.incentives``: base / 12;
    commission on the period's running bookings through marginal tiers (thresholds x the period's quota inside
    the horizon for an attainment basis); each complete bonus period's highest step reached, paid in its last
    month; the year's running variable pay held at or below the cap (``target_multiple`` x what the plan pays at
    quota). Only these components: any other part of a plan is refused, so no part goes unchecked."""
    assert pay_plan.draw is None and pay_plan.team_bonus is None and not pay_plan.contests and pay_plan.ratchet is None
    assert pay_plan.base_override is None and all(b.period in ("month", "quarter", "year") for b in pay_plan.bonuses)
    months = len(bookings)
    base = salary * pay_plan.base_multiplier
    length = {"month": 1, "quarter": 3, "year": 12}
    comm = pay_plan.commission
    if comm is None:
        tiers, period, attainment_basis = [(0.0, pay_plan.commission_rate)], "year", False
    else:
        assert not comm.retroactive
        tiers, period = [(t.threshold, t.rate) for t in comm.tiers], comm.period
        attainment_basis = comm.basis == "attainment"

    def owed(x: float, scale: float) -> float:  # commission on running bookings x of a period
        total = 0.0
        for k, (threshold, rate) in enumerate(tiers):
            lo = threshold * scale
            hi = tiers[k + 1][0] * scale if k + 1 < len(tiers) else float("inf")
            total += rate * min(max(x - lo, 0.0), hi - lo)
        return total

    def variable(b: np.ndarray) -> np.ndarray:  # commission + bonuses per month, before the cap
        out = np.zeros(months)
        p = length[period]
        for m in range(months):
            start = m - m % p
            scale = float(quotas[start:start + p].sum()) if attainment_basis else 1.0
            before = float(b[start:m].sum())
            out[m] += owed(before + b[m], scale) - owed(before, scale)
        for bonus in pay_plan.bonuses:
            p = length[bonus.period]
            for last in range(p - 1, months, p):
                q = float(quotas[last - p + 1:last + 1].sum())
                att = float(b[last - p + 1:last + 1].sum()) / q if q > 0 else 0.0
                reached = [step for step in bonus.steps if att >= step.attainment]
                if reached:
                    out[last] += reached[-1].amount + reached[-1].share_of_base * base
        return out

    earned = variable(bookings)
    if pay_plan.cap is not None:
        assert pay_plan.cap.target_multiple is not None
        cap = pay_plan.cap.target_multiple * variable(quotas).sum()  # one plan year at most here
        running = np.cumsum(earned)
        earned = np.diff(np.minimum(running, cap), prepend=0.0)
    return base / 12.0 + earned


HAND_CASES = [
    # plan, bookings per month, variable pay per month worked out by hand; base 60,000 (5,000 a month) and a
    # quota of 90,000 a month throughout
    ("flat_commission", [50_000.0] * 12, [2_500.0] * 12),
    # 4 % and 20 % of base (12,000) at 100 % of the year's quota (1.08 m)
    ("annual_bonus", [100_000.0] * 12, [4_000.0] * 11 + [16_000.0]),
    ("annual_bonus", [88_200.0] * 12, [3_528.0] * 12),  # 98 % of quota: no bonus
    # 4 % and 5 % of base (3,000) for each quarter at quota; a quarter cut off by the horizon pays nothing
    ("quarterly_bonus", [100_000.0] * 3 + [89_000.0] * 3 + [95_000.0], [4_000.0, 4_000.0, 7_000.0]
     + [3_560.0] * 3 + [3_800.0]),
    # 4 % to half the year's quota (540,000, reached in month 8), then 5 %
    ("tiered_accelerator", [60_000.0] * 12, [2_400.0] * 9 + [3_000.0] * 3),
    # 5 months: 450,000 of quota, tiers at 225,000 and 450,000; month 1 = 25,000 x 4 % + 175,000 x 5 %,
    # month 2 = 50,000 x 5 % + 150,000 x 8 %
    ("tiered_accelerator", [200_000.0] * 5, [8_000.0, 9_750.0, 14_500.0, 16_000.0, 16_000.0]),
    # 5 % (10,000 a month) with the year's variable pay held at 1.5 x 54,000 = 81,000, reached in month 8
    ("capped", [200_000.0] * 12, [10_000.0] * 8 + [1_000.0, 0.0, 0.0, 0.0]),
]


@pytest.mark.parametrize(("pay_plan_id", "bookings", "variable"), HAND_CASES)
def test_plan_pay_by_hand(baseline: scenarios.Scenario, pay_plan_id: str, bookings: list[float],
                          variable: list[float]) -> None:
    pay_plan = baseline.settings.pay_plans[pay_plan_id]
    b = np.asarray(bookings)
    q = np.full(len(b), 90_000.0)
    want = 5_000.0 + np.asarray(variable)
    np.testing.assert_allclose(_reference_pay(b, q, 60_000.0, pay_plan), want, rtol=1e-12)
    got = sim.PayPlanPay(pay_plans=(pay_plan,))(b[None, :], q[None, :], np.ones((1, len(b))),
                                            np.full((1, len(b)), 60_000.0), np.zeros(1))
    np.testing.assert_allclose(got[0], want, rtol=1e-12)
    np.testing.assert_allclose(pay_statement(b, q, 60_000.0, pay_plan)["total_pay"].to_numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("pay_plan_id", ["flat_commission", "annual_bonus", "quarterly_bonus", "tiered_accelerator",
                                     "capped"])
def test_plan_pay_equals_the_reference_pay(baseline: scenarios.Scenario, pay_plan_id: str) -> None:
    # Random horizons, quotas and bookings (a level of attainment times monthly noise), drawn so that periods
    # land on both sides of every threshold: the counts below make sure the bonus, tier and cap branches run.
    pay_plan = baseline.settings.pay_plans[pay_plan_id]
    rng = np.random.default_rng(17)
    pay = sim.PayPlanPay(pay_plans=(pay_plan,))
    near_below = {3: 0, 12: 0}  # quarters and years with attainment just under 100 %
    binding = 0
    for _ in range(150):
        months = 12 if rng.random() < 0.5 else int(rng.integers(1, 12))
        q = rng.uniform(20_000.0, 150_000.0, months)
        b = rng.uniform(0.0, 2.5) * rng.uniform(0.7, 1.3, months) * q
        want = _reference_pay(b, q, 60_000.0, pay_plan)
        for _ in range(2):  # the second call uses the cached cap
            got = pay(b[None, :], q[None, :], np.ones((1, months)), np.full((1, months), 60_000.0), np.zeros(1))
            np.testing.assert_allclose(got[0], want, rtol=1e-9, atol=1e-6)
        statement = pay_statement(b, q, 60_000.0, pay_plan)["total_pay"].to_numpy()
        np.testing.assert_allclose(statement, want, rtol=1e-9, atol=1e-6)
        for length in near_below:
            near_below[length] += sum(0.9 <= b[i:i + length].sum() / q[i:i + length].sum() < 1.0
                                      for i in range(0, months - length + 1, length))
        binding += b.sum() > 1.5 * q.sum()
    assert min(near_below.values()) >= 5 and binding >= 10, (near_below, binding)


TEAM_PLAN = {"commission_rate": 0.03,
             "team_bonus": {"scope": "region", "period": "quarter",
                            "steps": [{"attainment": 0.8, "amount": 1_000.0}, {"attainment": 1.0, "amount": 2_500.0}]},
             "contests": [{"name": "top", "period": "quarter", "metric": "attainment", "prizes": [900.0, 300.0]}]}


REGION_CONTEST = {"commission_rate": 0.02,
                  "team_bonus": {"scope": "company", "period": "month",
                                 "steps": [{"attainment": 0.9, "amount": 300.0}]},
                  "contests": [{"name": "region", "period": "month", "metric": "bookings", "prizes": [400.0, 100.0],
                                "scope": "region", "min_attainment": 0.5}]}


@pytest.mark.parametrize("ties", [False, True])
def test_plan_pay_pays_team_bonuses_and_contests_as_the_pay_statements_do(tiny: scenarios.Scenario,
                                                                          ties: bool) -> None:
    s = scenarios.modify(tiny, {"reps.pay_plan_id": "flat_commission"})
    pay_plans = dict(s.settings.pay_plans)
    pay_plans["team"] = scenarios.PayPlanSettings.model_validate(TEAM_PLAN)
    pay_plans["region"] = scenarios.PayPlanSettings.model_validate(REGION_CONTEST)
    ids = ["team", "team", "region", "team", "region", "region"]
    reps = s.reps.assign(pay_plan_id=ids)
    rng = np.random.default_rng(2)
    # with ties: whole tens of thousands, so reps often share a contest rank
    bookings = rng.integers(0, 4, size=(6, 12)) * 10_000.0 if ties else rng.gamma(2.0, 12_000.0, size=(6, 12))
    quotas = np.full((6, 12), 20_000.0)
    pay = sim.PayPlanPay(pay_plans=tuple(pay_plans[p] for p in ids), pay_plan_ids=tuple(ids),
                         regions=tuple(reps["region"]))
    assert pay.whole_force
    salary = reps["base_salary"].to_numpy(float)
    got = pay(bookings, quotas, np.ones((6, 12)), np.repeat(salary[:, None], 12, axis=1), np.zeros(6))
    timeline = pd.DataFrame([(r, m, bookings[i, m], quotas[i, m]) for i, r in enumerate(reps.index) for m in range(12)],
                            columns=["rep_id", "month", "bookings", "quota"])
    statements = sim.incentives.pay_statements(timeline, reps, pay_plans)
    want = statements.pivot(index="rep_id", columns="month", values="total_pay")
    np.testing.assert_allclose(got, want.loc[reps.index].to_numpy(), rtol=1e-9)
    statements = sim.incentives.pay_statements(timeline, reps, pay_plans)
    assert statements["team_bonus"].sum() > 0 and statements["contest"].sum() > 0  # the test covers both
    # causal: paying the first five months gives the same first five months (the Q2 bonus is not yet due)
    early = pay(bookings[:, :5], quotas[:, :5], np.ones((6, 5)), np.repeat(salary[:, None], 5, axis=1), np.zeros(6))
    np.testing.assert_allclose(early, got[:, :5])
    # a seat empty in the payout month gets no team bonus or prize
    vacant = np.ones((6, 12))
    vacant[0, 2] = 0.0
    salaries = np.repeat(salary[:, None], 12, axis=1)
    assert pay._whole_force(bookings, quotas, np.ones((6, 12)), salaries)[0, 2] > 0.0
    assert pay._whole_force(bookings, quotas, vacant, salaries)[0, 2] == 0.0


def test_team_bonus_enters_the_reps_decisions_and_the_simulated_pay(tiny: scenarios.Scenario) -> None:
    team = {"scope": "region", "period": "quarter", "steps": [{"attainment": 1.0, "amount": 6_000.0}]}
    s = scenarios.modify(tiny, {"pay_plans.flat_commission.team_bonus": team})
    b = IncentiveBehaviour.from_scenario(s, "flat_commission")
    assert not any(b.constant) and all(q is not None for q in b.team_quotas)
    seat = 0
    q = b.team_quotas[seat]
    assert q is not None

    def rep(team_pace: float) -> RepState:
        own = [float(x) * 0.9 for x in b.incentives[seat].quotas[:2]] + [0.0] * 10
        region = [float(x) * team_pace for x in q[:2]] + [float(q[2]) * team_pace * 0.8] + [0.0] * 9
        return RepState(seat=seat, rep_id="R0001", tier="mid", norm_hours=40.0, now=80.0, month=2,
                        month_elapsed=0.8, bookings_horizon=sum(own), bookings_by_month=own,
                        region_bookings_by_month=region, company_bookings_by_month=region)

    near, far = b.weekly_hours(rep(0.97)), b.weekly_hours(rep(0.3))
    assert near > 40.0 and near > far  # the team is within reach of the quarter's threshold
    # simulated: the same customers, the team bonus paid on top of the commission
    flat = sim.simulate(tiny, replications=2, seed=3, pay=sim.PayPlanPay.from_scenario(tiny, "flat_commission"),
                        behaviour=IncentiveBehaviour.from_scenario(tiny, "flat_commission"))
    with_team = sim.simulate(s, replications=2, seed=3, behaviour=b,
                             pay=sim.PayPlanPay.from_scenario(s, "flat_commission"))
    assert with_team.kpi("pay_total") > flat.kpi("pay_total")


def test_a_quota_ratchet_rewrites_next_years_quotas_in_a_two_year_run(tiny: scenarios.Scenario) -> None:
    ratchet = {"up": 0.5, "down": 0.2, "floor": 0.8, "ceiling": 1.5}
    stay = {f"tiers.{t}.attrition_per_year": 0.0 for t in tiny.settings.tiers}
    s = scenarios.modify(tiny, {"calendar.months": 24, "pay_plans.annual_bonus.ratchet": ratchet, **stay})
    model = sim.build(s)
    b = IncentiveBehaviour.from_scenario(s, "annual_bonus")
    pay = sim.PayPlanPay.from_scenario(s, "annual_bonus")
    _, rec = sim.run_replication(model, np.random.SeedSequence(8), b, pay)
    pay_plan = s.settings.pay_plans["annual_bonus"]
    hired = (model.hired_day <= 0.0)  # seats filled all of year one
    assert hired.any()
    for r in np.flatnonzero(hired).tolist():
        q1 = model.quotas[r, :12].sum()
        att = rec.bookings[r, :12].sum() / q1
        want = sim.incentives.next_quota(q1, att, pay_plan.ratchet)
        assert rec.quotas[r, 12:].sum() == pytest.approx(want)
        # the months keep the shape the plan gave them
        np.testing.assert_allclose(rec.quotas[r, 12:] / rec.quotas[r, 12:].sum(),
                                   model.quotas[r, 12:] / model.quotas[r, 12:].sum())
    np.testing.assert_array_equal(rec.quotas[:, :12], model.quotas[:, :12])
    assert not np.allclose(rec.quotas[hired, 12:], model.quotas[hired, 12:])
    # without a ratchet nothing moves
    flat = sim.PayPlanPay.from_scenario(s, "flat_commission")
    _, plain = sim.run_replication(model, np.random.SeedSequence(8), None, flat)
    np.testing.assert_array_equal(plain.quotas, model.quotas)


def test_reps_decide_on_their_ratcheted_quotas(tiny: scenarios.Scenario) -> None:
    s = scenarios.modify(tiny, {"calendar.months": 24})
    b = IncentiveBehaviour.from_scenario(s, "annual_bonus")
    live = b.incentives[0].quotas.copy()
    rep = RepState(seat=0, rep_id="R0001", tier="mid", norm_hours=40.0, now=400.0, month=13,
                   bookings_by_month=[0.0] * 24, quotas_by_month=live)
    assert b.incentive(rep) is b.incentives[0]
    live[12:] *= 1.3  # a ratchet raised next year's quota
    fresh = b.incentive(rep)
    np.testing.assert_array_equal(fresh.quotas, live)
    assert fresh.pay_plan is b.incentives[0].pay_plan and b.incentive(rep) is fresh  # kept until the quotas move again


def test_team_quotas_follow_a_ratchet(tiny: scenarios.Scenario) -> None:
    from sim.processes import Funnel

    team = {"scope": "region", "period": "quarter", "steps": [{"attainment": 1.0, "amount": 2_000.0}]}
    ratchet = {"up": 0.5, "down": 0.2, "floor": 0.8, "ceiling": 1.5}
    s = scenarios.modify(tiny, {"calendar.months": 24, "pay_plans.annual_bonus.team_bonus": team,
                                "pay_plans.annual_bonus.ratchet": ratchet})
    model = sim.build(s)
    b = IncentiveBehaviour.from_model(model, ["annual_bonus"] * model.n_seats)
    rng = sim.streams(np.random.SeedSequence(8))
    funnel = Funnel(model, sim.draw_leads(model, rng), rng["lifecycle"], b,
                    sim.PayPlanPay.from_model(model, ["annual_bonus"] * model.n_seats))
    rec = funnel.run()
    assert not np.allclose(rec.quotas, model.quotas)  # the ratchet moved year two
    for k in range(len(model.region_ids)):
        np.testing.assert_allclose(funnel.region_quotas[k], rec.quotas[model.seat_region == k].sum(axis=0))
    # the rep decides on the team quota as it stands, not the one the run started with
    st = funnel.state[0]
    pos = b.position(st)
    assert pos.team is not None
    np.testing.assert_allclose(pos.team.quotas, funnel.region_quotas[model.seat_region[0]])
