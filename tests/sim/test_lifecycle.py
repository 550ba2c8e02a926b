"""The rep lifecycle, churn and the behaviour hook move results in the documented direction (paired runs on the
same customers), and neglect churn matches its closed form."""

from __future__ import annotations

import numpy as np

import scenarios
from sim import NormBehaviour, build, commission_pay, mean_ci, run_replication, simulate


def _no_new_business(s: scenarios.Scenario) -> scenarios.Scenario:
    return scenarios.modify(s, {f"channels.{c}.default_monthly_spend": 0.0 for c in s.settings.channels})


def test_starved_customers_churn_at_the_neglect_rate(baseline: scenarios.Scenario) -> None:
    # no service time at all: every customer is neglected each quarter; without new business the customer base
    # is the starting one, so the share churned in a year is 1 - (1 - p)^4
    s = scenarios.modify(_no_new_business(baseline), {"simulation.max_service_share": 0.0,
                                                      "simulation.neglect_churn_per_quarter": 0.2})
    res = simulate(s, replications=6, seed=4)
    row = res.kpis.set_index("metric").loc["churn_rate"]
    expected = 1.0 - 0.8**4
    assert row["ci_low"] <= expected <= row["ci_high"], (row.to_dict(), expected)


def test_pay_behind_market_raises_attrition(baseline: scenarios.Scenario) -> None:
    rich = {f"tiers.{t}.market_pay": 0.0 for t in baseline.settings.tiers}
    poor = {f"tiers.{t}.market_pay": 1e7 for t in baseline.settings.tiers}
    low = simulate(scenarios.modify(baseline, rich), replications=6, seed=8)
    high = simulate(scenarios.modify(baseline, poor), replications=6, seed=8)
    diff = high.replications["leavers"].to_numpy() - low.replications["leavers"].to_numpy()
    _, lo, _ = mean_ci(diff)
    assert lo > 0


def test_attrition_judges_a_year_end_payout_by_the_year_not_by_the_months_before_it(
        baseline: scenarios.Scenario) -> None:
    # The same commission paid monthly or all at once in the last month: a rep on course for it expects the
    # same year either way, so attrition (and with NormBehaviour the whole run) must not change. A trailing
    # window of cash pay would see salary-only months under the deferred plan and raise attrition.
    model = build(baseline)
    n = model.n_months

    def deferred(bookings: np.ndarray, quotas: np.ndarray, active_share: np.ndarray, base_salary: np.ndarray,
                 commission_rate: np.ndarray) -> np.ndarray:
        out: np.ndarray = base_salary / 12.0 * active_share
        if bookings.shape[1] == n:
            out[:, -1] += commission_rate * bookings.sum(axis=1)
        return out

    leavers = []
    for pay in (commission_pay, deferred):
        _, run = run_replication(model, np.random.SeedSequence(5), NormBehaviour(), pay)
        leavers.append(run.leavers)
    assert leavers[0].sum() > 0
    assert np.array_equal(leavers[0], leavers[1])


def test_easy_promotion_moves_every_junior_up(tiny: scenarios.Scenario) -> None:
    changes: dict[str, object] = {"tiers.junior.promotion.after_months": 1,
                                  "tiers.junior.promotion.min_attainment": 0.0}
    changes.update({f"tiers.{t}.attrition_per_year": 0.0 for t in tiny.settings.tiers})
    model = build(scenarios.modify(tiny, changes))
    _, rec = run_replication(model, np.random.SeedSequence(1))
    juniors = model.seat_tier == 0
    assert (rec.final_tier[juniors] >= 1).all() and rec.promotions[juniors].sum() >= juniors.sum()


def test_leavers_are_backfilled(baseline: scenarios.Scenario) -> None:
    changes: dict[str, object] = {f"tiers.{t}.attrition_per_year": 0.6 for t in baseline.settings.tiers}
    changes["simulation.vacancy_months"] = 1.0
    model = build(scenarios.modify(baseline, changes))
    _, rec = run_replication(model, np.random.SeedSequence(2))
    assert rec.leavers.sum() > 5
    # every vacancy is filled a month later, so a seat has at most one vacancy still open at the horizon
    assert (rec.hires <= rec.leavers).all() and (rec.leavers - rec.hires <= 1).all()
    assert rec.hires.sum() > 0


def test_more_hours_through_the_hook_book_more(tiny: scenarios.Scenario) -> None:
    # tiny's reps have selling hours to spare at its demand (utilisation 0.45, nothing stalls, so 1.5x hours add
    # nothing significant); at 3 hours a week selling time binds (about 12 deals a year stall)
    short = tiny.replace(reps=tiny.reps.assign(hours_per_week=3.0))
    norm = simulate(short, replications=10, seed=5)
    keen = simulate(short, replications=10, seed=5, behaviour=NormBehaviour(hours_factor=1.5))
    idle = simulate(short, replications=2, seed=5, behaviour=NormBehaviour(hours_factor=0.0))
    diff = keen.replications["revenue"].to_numpy() - norm.replications["revenue"].to_numpy()
    _, lo, _ = mean_ci(diff)
    assert lo > 0
    assert idle.kpi("won") == 0 and idle.kpi("revenue") == 0


def test_dynamic_priority_behaviour_runs_on_the_same_customers(tiny: scenarios.Scenario) -> None:
    from simcases import DeadlineBehaviour

    from sim.policy import Behaviour

    beh: Behaviour = DeadlineBehaviour()
    model = build(tiny)
    base_leads, base = run_replication(model, np.random.SeedSequence(3))
    leads, rec = run_replication(model, np.random.SeedSequence(3), behaviour=beh)
    assert np.array_equal(base_leads.time, leads.time)
    assert (rec.status >= 0).all() and len(rec.status) == len(leads)
    assert rec.available_hours.sum() > base.available_hours.sum()  # the month-end push shows in hours worked
    res1 = simulate(tiny, replications=2, seed=3, behaviour=beh, workers=1)
    res2 = simulate(tiny, replications=2, seed=3, behaviour=beh, workers=2)
    assert res1.kpis.equals(res2.kpis)


def test_planned_hire_joins_on_its_hire_date(baseline: scenarios.Scenario) -> None:
    reps = baseline.reps.copy()
    new = reps.index[0]
    reps.loc[new, "hire_date"] = reps["hire_date"].iloc[0].replace(year=2027, month=4, day=1)
    s = scenarios.modify(baseline.replace(reps=reps), {f"tiers.{t}.attrition_per_year": 0.0
                                                       for t in baseline.settings.tiers})
    model = build(s)
    r = 0
    assert model.hired_day[r] == model.month_start[3]
    _, rec = run_replication(model, np.random.SeedSequence(4))
    assert (rec.bookings[r, :3] == 0).all() and (rec.pay[r, :3] == 0).all()
    assert rec.pay[r, 3] > 0 and rec.available_hours[r] > 0
    _, before = run_replication(build(scenarios.modify(baseline, {f"tiers.{t}.attrition_per_year": 0.0
                                                                  for t in baseline.settings.tiers})),
                                np.random.SeedSequence(4))
    assert rec.available_hours[r] < before.available_hours[r]  # nine months, ramping up, instead of twelve


def test_rep_state_seen_by_the_hook_is_consistent(tiny: scenarios.Scenario) -> None:
    from sim.policy import DealView, RepState

    seen: list[tuple[float, float, float, float, float, int, int]] = []

    class Recorder:
        dynamic_priority = False

        def weekly_hours(self, rep: RepState) -> float:
            seen.append((rep.now, rep.month_elapsed, rep.bookings_horizon, sum(rep.bookings_by_month),
                         rep.pipeline_value, rep.pipeline_deals, rep.queue_length))
            return rep.norm_hours

        def priority(self, rep: RepState, deal: DealView) -> float:
            return deal.value * deal.win_probability

    model = build(tiny)
    run_replication(model, np.random.SeedSequence(12), behaviour=Recorder())
    rows = np.array(seen)
    assert len(rows) > 0 and ((rows[:, 1] >= 0) & (rows[:, 1] <= 1)).all()
    assert np.allclose(rows[:, 2], rows[:, 3])  # the live monthly view adds up to the horizon's bookings
    assert (rows[:, 4] >= -1e-6).all() and (rows[:, 5] >= rows[:, 6]).all()
    assert rows[:, 5].max() > 0 and rows[rows[:, 0] < 0, 2].max() == 0  # nothing booked during the warm-up
