"""Timing games in the engine: pulled deals book in the month of the pull at a discount, pushed ones on the first
day of the next month (or not at all past the horizon), and runs without games are untouched."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest

import scenarios
import sim
from sim.deals import LOST, LOST_PUSHED, WON
from sim.incentives import IncentiveBehaviour
from sim.policy import DealView, NormBehaviour, RepState, Timing
from sim.timing import PUSH_DELAY


@dataclass(frozen=True)
class Always(NormBehaviour):
    """Norm hours and deal order; pulls every deal it may, or pushes every signature (a spy for the engine)."""

    game: str = "pull"
    risks: list[float] = dataclasses.field(default_factory=list, compare=False)

    @property
    def timing_games(self) -> bool:
        return True

    def timing(self, rep: RepState, deal: DealView, close_month: int, weeks_after_month_end: float,
               push_risk: float) -> Timing:
        if close_month == rep.month:
            self.risks.append(push_risk)
        if self.game == "pull" and close_month > rep.month:
            return "pull"
        if self.game == "push" and close_month == rep.month:
            return "push"
        return "keep"


def _stay(s: scenarios.Scenario, **changes: float) -> scenarios.Scenario:
    """``s`` with nobody leaving (a seat that falls vacant decides nothing) and every customer willing to move
    a signature either way, plus ``[behaviour]`` changes."""
    return scenarios.modify(s, {**{f"tiers.{t}.attrition_per_year": 0.0 for t in s.settings.tiers},
                                "behaviour.customer_pull_share": 1.0, "behaviour.customer_push_share": 1.0,
                                **{f"behaviour.{k}": v for k, v in changes.items()}})


def _run(s: scenarios.Scenario, behaviour: sim.Behaviour, seed: int = 2) -> tuple[sim.Model, sim.Leads, sim.RunRecord]:
    model = sim.build(s)
    leads, rec = sim.run_replication(model, np.random.SeedSequence(seed), behaviour)
    return model, leads, rec


def test_flat_commission_plays_no_games_and_the_run_is_unchanged(baseline: scenarios.Scenario) -> None:
    games = scenarios.modify(baseline, {"behaviour.timing_games": True})
    b = IncentiveBehaviour.from_scenario(games, "flat_commission")
    assert not b.timing_games  # a constant rate: pulling only loses the discount, pushing gains nothing
    # The full evaluation asks about every signature and every month end, and must still answer "keep".
    full = dataclasses.replace(b, constant=(False,) * len(b.constant), _cache={})
    assert full.timing_games
    pay = sim.PayPlanPay.from_scenario(games, "flat_commission")
    model = sim.build(games)
    seed = np.random.SeedSequence(3)
    _, rec = sim.run_replication(model, seed, full, pay)
    _, norm = sim.run_replication(sim.build(baseline), np.random.SeedSequence(3), None, pay)
    assert rec.pulled.sum() == 0 and rec.pushed.sum() == 0
    np.testing.assert_array_equal(rec.bookings, norm.bookings)
    np.testing.assert_array_equal(rec.status, norm.status)


def test_pulled_deals_book_at_the_pull_with_the_discount(tiny: scenarios.Scenario) -> None:
    s = scenarios.modify(tiny, {"behaviour.pull_in_discount": 0.25, "behaviour.customer_pull_share": 1.0})
    model, leads, rec = _run(s, Always(game="pull"))
    assert rec.pulled.sum() > 0 and rec.pushed.sum() == 0
    ms = model.month_start
    pull_days = ms[1:] - 1.0
    won_in = (rec.status == WON) & (rec.closed >= 0.0)
    at_pull = won_in & np.isin(rec.closed, pull_days)
    assert at_pull.sum() == rec.pulled.sum()
    # each pulled deal books in the month of the pull, at 75 % of its value; everything else at full value
    month = np.searchsorted(ms, rec.closed[at_pull], side="right") - 1
    np.testing.assert_array_equal(np.bincount(month, minlength=model.n_months), rec.pulled.sum(axis=0))
    assert rec.pull_discount.sum() == pytest.approx(0.25 * leads.value[at_pull].sum())
    # what an account could no longer buy that year is not booked either (potential_cut)
    assert rec.bookings.sum() + rec.potential_cut.sum() == pytest.approx(
        leads.value[won_in].sum() - rec.pull_discount.sum())
    full_margin = float(model.margin[leads.product[won_in]].dot(leads.value[won_in]))
    # the discount comes off margin too; the potential cap takes at most its own amount off it
    after_discount = full_margin - rec.pull_discount.sum()
    assert after_discount - rec.potential_cut.sum() - 1e-6 <= rec.margin.sum() <= after_discount + 1e-6


def test_pushed_signatures_book_next_month_and_december_ones_not_at_all(tiny: scenarios.Scenario) -> None:
    s = _stay(tiny, push_risk=0.0)
    model, leads, rec = _run(s, Always(game="push"))
    ms = model.month_start
    assert rec.pulled.sum() == 0
    # every signature in the horizon is pushed: nothing books in the first month, the last month's stay open
    assert rec.bookings[:, 0].sum() == 0.0
    assert rec.pushed[:, -1].sum() > 0
    won_in = (rec.status == WON) & (rec.closed >= 0.0)
    assert rec.leavers.sum() == 0 and won_in.sum() > 0
    assert np.isin(np.round(rec.closed[won_in] - PUSH_DELAY, 6), np.round(ms[1:-1], 6)).all()
    assert won_in.sum() == rec.pushed[:, :-1].sum()
    assert rec.bookings.sum() + rec.potential_cut.sum() == pytest.approx(leads.value[won_in].sum())


def test_push_risk_loses_the_pushed_deals(tiny: scenarios.Scenario) -> None:
    s = _stay(tiny, push_risk=1.0)
    _, _, rec = _run(s, Always(game="push"))
    lost_pushed = (rec.status == LOST) & (rec.lost_reason == LOST_PUSHED)
    assert lost_pushed.sum() == rec.pushed[:, :-1].sum() > 0
    assert rec.bookings.sum() == 0.0


def test_only_willing_customers_move_their_signature(tiny: scenarios.Scenario) -> None:
    # No customer willing: the rep who would game every deal moves none, and the run is the one without games
    # (the consent draws come after every other draw of the stream).
    for game in ("pull", "push"):
        _, _, rec = _run(_stay(tiny, customer_pull_share=0.0, customer_push_share=0.0), Always(game=game))
        _, _, plain = _run(_stay(tiny), NormBehaviour())
        assert rec.pulled.sum() == rec.pushed.sum() == 0
        np.testing.assert_array_equal(rec.bookings, plain.bookings)


def test_each_direction_asks_its_own_customers(tiny: scenarios.Scenario) -> None:
    # customers who will wait do not make anyone sign early, and the other way round
    _, _, pulls = _run(_stay(tiny, customer_pull_share=0.0), Always(game="pull"))
    _, _, pushes = _run(_stay(tiny, customer_push_share=0.0), Always(game="push"))
    assert pulls.pulled.sum() == 0 and pushes.pushed.sum() == 0
    _, _, pulls = _run(_stay(tiny, customer_push_share=0.0), Always(game="pull"))
    _, _, pushes = _run(_stay(tiny, customer_pull_share=0.0), Always(game="push"))
    assert pulls.pulled.sum() > 0 and pushes.pushed.sum() > 0

def test_half_the_customers_willing_to_wait_halves_the_pushes(baseline: scenarios.Scenario) -> None:
    # binomial, 4 sd; push_risk 0 so that both runs keep the same deals
    _, _, every = _run(_stay(baseline, push_risk=0.0), Always(game="push"))
    _, _, half = _run(_stay(baseline, push_risk=0.0, customer_push_share=0.5), Always(game="push"))
    n = every.pushed.sum()
    assert n > 100
    assert abs(half.pushed.sum() - 0.5 * n) < 4.0 * np.sqrt(n * 0.25)


def test_a_pushed_deal_risks_the_last_stages_loss_hazard_over_its_wait(baseline: scenarios.Scenario) -> None:
    # Unset push_risk: the rep is told 1 - exp(-(1 - c) d / t) for the d days to the next month, and that share
    # of pushed deals is lost.
    spy = Always(game="push")
    model, _, rec = _run(_stay(baseline), spy)
    c, t = float(model.conversion[-1]), float(model.mean_days[-1])
    risks = np.asarray(spy.risks)
    longest = 1.0 - np.exp(-(1.0 - c) / t * 31.0)
    assert len(risks) == rec.pushed.sum() > 50
    assert (risks > 0.0).all() and (risks <= longest + 1e-12).all()
    lost = ((rec.status == LOST) & (rec.lost_reason == LOST_PUSHED)).sum()
    pushed_in = rec.pushed[:, :-1].sum()
    expected = risks.mean() * pushed_in
    assert abs(lost - expected) < 4.0 * np.sqrt(pushed_in * 0.25)
    assert risks.mean() > 0.05  # a real cost, not a rounding


def test_games_follow_the_plans_pay_periods(baseline: scenarios.Scenario) -> None:
    # With games on, reps move deals only across the boundaries where their plan's pay changes: the year end
    # under an annual bonus, quarter ends under a quarterly one.
    s = scenarios.modify(baseline, {"behaviour.timing_games": True})
    model = sim.build(s)
    moved = {}
    for pay_plan in ("annual_bonus", "quarterly_bonus"):
        b = IncentiveBehaviour.from_model(model, [pay_plan] * model.n_seats)
        pay = sim.PayPlanPay(pay_plans=tuple(s.settings.pay_plans[pay_plan] for _ in range(model.n_seats)))
        rec = sim.run_replication(model, np.random.SeedSequence(5), b, pay)[1]
        moved[pay_plan] = (rec.pulled + rec.pushed).sum(axis=0)
    assert moved["annual_bonus"].sum() > 0 and moved["annual_bonus"][:11].sum() == 0
    quarter_ends = np.zeros(12, dtype=bool)
    quarter_ends[[2, 5, 8, 11]] = True
    assert moved["quarterly_bonus"][quarter_ends].sum() > 0 and moved["quarterly_bonus"][~quarter_ends].sum() == 0


def test_kpis_report_the_games(tiny: scenarios.Scenario) -> None:
    r = sim.simulate(tiny, replications=2, seed=1, behaviour=Always(game="pull"))
    assert r.kpi("deals_pulled_in") > 0 and r.kpi("pull_in_discounts") > 0 and r.kpi("deals_pushed_out") == 0
    assert r.monthly["deals_pulled_in"].sum() == pytest.approx(r.kpi("deals_pulled_in"))


def test_customers_who_expect_a_quarter_end_discount_wait_for_it(tiny: scenarios.Scenario) -> None:
    s = scenarios.modify(_stay(tiny), {"simulation.quarter_end_waiting": 1.0, "behaviour.pull_in_discount": 0.2})
    model, leads, rec = _run(s, NormBehaviour())
    _, _, plain = _run(_stay(tiny), NormBehaviour())
    ms = model.month_start
    won_in = (rec.status == WON) & (rec.closed >= 0.0)
    month = np.searchsorted(ms, rec.closed[won_in], side="right") - 1
    # every customer waits: only the quarters' last months book, and what is booked early in a quarter books on
    # its last day at the discount
    assert rec.bookings[:, [0, 1, 3, 4, 6, 7, 9, 10]].sum() == 0.0 and rec.waited.sum() > 0
    assert set(month.tolist()) <= {2, 5, 8, 11}
    at_end = np.isin(rec.closed[won_in], ms[[3, 6, 9, 12]] - 1.0)
    assert at_end.sum() == rec.waited.sum()
    assert rec.waiting_discount.sum() == pytest.approx(0.2 * leads.value[won_in][at_end].sum())
    assert rec.bookings.sum() + rec.potential_cut.sum() == pytest.approx(
        leads.value[won_in].sum() - rec.waiting_discount.sum())
    # nobody is lost for waiting: the same deals are won as without the effect
    np.testing.assert_array_equal(rec.status == WON, plain.status == WON)
    r = sim.simulate(s, replications=1, seed=1)
    assert r.kpi("deals_waited_for_quarter_end") > 0 and r.kpi("quarter_end_waiting_discounts") > 0
