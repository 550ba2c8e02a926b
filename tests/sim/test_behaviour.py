"""Behavioural response: each effect the field studies report shows in the functions themselves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios import BehaviourSettings, PayPlanSettings
from sim.incentives import (
    Position,
    appraise,
    cumulative_commission,
    marginal_pay,
    prepare,
    prioritise,
    timing_decision,
    weekly_hours,
    weekly_moments,
)

Q = np.full(12, 100_000.0)  # 1.2M a year
MEAN, SD = weekly_moments(26_000.0, 30_000.0)  # on track: 46 weeks x 26k ~ 1.2M
B = BehaviourSettings()


def pay_plan(**kw: Any) -> PayPlanSettings:
    return PayPlanSettings.model_validate(kw)


ANNUAL = pay_plan(commission_rate=0.03,
                  bonuses=[{"period": "year", "steps": [{"attainment": 1.0, "share_of_base": 0.2}]}])
QUARTERLY = pay_plan(commission_rate=0.03,
                 bonuses=[{"period": "quarter", "steps": [{"attainment": 1.0, "share_of_base": 0.05}]}])
CAPPED = pay_plan(commission_rate=0.05, cap={"target_multiple": 1.5})


def at(month: int, ytd_attainment: float, elapsed: float = 0.5, quotas: np.ndarray = Q) -> Position:
    """A rep who has booked ``ytd_attainment`` of the quota of the months so far (current month pro rata)."""
    bookings = np.zeros(len(quotas))
    bookings[:month] = ytd_attainment * quotas[:month]
    bookings[month] = ytd_attainment * quotas[month] * elapsed
    return Position(month, elapsed, bookings, MEAN, SD)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 11), st.floats(0.0, 3.0), st.floats(0.0, 0.99), st.floats(0.01, 0.2))
def test_flat_commission_effort_is_flat_in_attainment_and_time(month: int, att: float, elapsed: float,
                                                                rate: float) -> None:
    inc = prepare(pay_plan(commission_rate=rate), Q, 60_000.0, B)
    assert weekly_hours(inc, at(month, att, elapsed), 40.0) == pytest.approx(40.0)


def test_effort_rises_approaching_annual_threshold_late_in_year() -> None:
    inc = prepare(ANNUAL, Q, 60_000.0, B)
    # Month 10, attainment climbing towards the point where the rest of the year just reaches quota.
    shares = [appraise(inc, at(10, a)).marginal_now for a in (0.6, 0.8, 0.9, 0.95)]
    assert shares == sorted(shares) and shares[-1] > 2 * shares[0]
    assert weekly_hours(inc, at(11, 0.97), 40.0) > 40.0


def test_gives_up_when_quota_is_out_of_reach() -> None:
    inc = prepare(ANNUAL, Q, 60_000.0, B)
    far = appraise(inc, at(11, 0.4))
    assert far.marginal_now == pytest.approx(0.03, abs=1e-6)  # only the commission is left
    assert far.hours_share < 1.0
    assert far.hours_share < appraise(inc, at(11, 0.97)).hours_share
    # Without a commission this year's effort is worth nothing; a rep whose effort all closes this month
    # (closing_share 1) drops to the floor. (With the default blend, effort that closes in the next plan year
    # still pays at the plan's reference rate.)
    pure = prepare(pay_plan(bonuses=ANNUAL.bonuses), Q, 60_000.0, BehaviourSettings(closing_share=1.0))
    assert appraise(pure, at(11, 0.3, elapsed=0.2)).marginal_now < 1e-12
    assert appraise(pure, at(11, 0.3, elapsed=0.2)).hours_share == B.min_hours_share


def test_end_of_period_spike_under_lump_sum() -> None:
    inc = prepare(ANNUAL, Q, 60_000.0, B)
    # A rep exactly on track: the value of one more unit grows as the year runs out.
    m = [marginal_pay(inc, at(month, 0.98, elapsed=0.5)) for month in (2, 5, 8, 11)]
    assert m == sorted(m) and m[-1] > 2 * m[0]
    # Quarterly bonus: the last month of a quarter is worth more than its first.
    q = prepare(QUARTERLY, Q, 60_000.0, B)
    assert marginal_pay(q, at(5, 0.98, elapsed=0.7)) > marginal_pay(q, at(3, 0.98, elapsed=0.1))


def test_eases_off_after_the_cap() -> None:
    inc = prepare(CAPPED, Q, 60_000.0, B)
    # Target variable = 5 % x 1.2M = 60k; cap 1.5 x 60k = 90k, reached at 1.8M bookings of the year. After 7.5
    # months at 240 % of pro-rata quota (2.4 x 750k = 1.8M) it binds. Effort falls as the cap comes into view and
    # is at the floor once it binds.
    shares = [appraise(inc, at(7, a)).hours_share for a in (1.0, 1.5, 2.0, 2.4)]
    assert shares == sorted(shares, reverse=True)
    assert shares[0] == pytest.approx(1.0, abs=1e-3)
    assert shares[-1] == B.min_hours_share
    assert marginal_pay(inc, at(7, 2.4)) == 0.0


def test_overachievement_commission_lifts_top_performers() -> None:
    tiers = [{"threshold": 0.0, "rate": 0.04}, {"threshold": 1.0, "rate": 0.08}]
    tiered = prepare(pay_plan(commission={"tiers": tiers}),
                     Q, 60_000.0, B)
    assert appraise(tiered, at(9, 1.4)).hours_share > 1.0
    assert appraise(tiered, at(9, 1.4)).hours_share > appraise(tiered, at(9, 0.5)).hours_share


def test_no_behavioural_response_mode() -> None:
    off = BehaviourSettings(enabled=False)
    for p in (ANNUAL, CAPPED, QUARTERLY):
        inc = prepare(p, Q, 60_000.0, off)
        assert {weekly_hours(inc, at(m, a), 40.0) for m in (0, 6, 11) for a in (0.3, 1.0, 2.4)} == {40.0}


def test_hours_stay_within_limits() -> None:
    inc = prepare(ANNUAL, Q, 60_000.0, BehaviourSettings(elasticity=5.0, max_hours_share=1.1))
    hours = [weekly_hours(inc, at(m, a), 40.0) for m in range(12) for a in np.linspace(0, 2, 21)]
    assert min(hours) >= 0.75 * 40 - 1e-9 and max(hours) <= 1.1 * 40 + 1e-9


def test_ratchet_and_recognition_shift_marginal_pay() -> None:
    with_ratchet = prepare(ANNUAL.model_copy(update={"ratchet": pay_plan(ratchet={"up": 0.8}).ratchet}), Q, 60_000.0, B)
    without = prepare(ANNUAL, Q, 60_000.0, B)
    assert marginal_pay(with_ratchet, at(10, 1.3)) < marginal_pay(without, at(10, 1.3))
    club = prepare(ANNUAL.model_copy(update={"recognition": pay_plan(
        recognition={"attainment": 1.2, "perceived_value": 10_000.0}).recognition}), Q, 60_000.0, B)
    assert marginal_pay(club, at(10, 1.12)) > marginal_pay(without, at(10, 1.12))


def test_marginal_commission_matches_monte_carlo() -> None:
    # Independent check of the closed form: d/dx E[C(X)] by finite differences over 400k normal draws.
    p = pay_plan(commission={"tiers": [{"threshold": 0.0, "rate": 0.03}, {"threshold": 0.8, "rate": 0.06},
                                   {"threshold": 1.2, "rate": 0.1}], "retroactive": True})
    inc = prepare(p, Q, 0.0, B)
    pos = at(8, 0.9)
    booked = float(pos.bookings.sum())
    weeks = (11 - 8 + 0.5) * pos.weeks_per_month
    x = booked + MEAN * weeks + SD * np.sqrt(weeks) * np.random.default_rng(1).standard_normal(400_000)
    th, rates, h = np.array([0.0, 0.8, 1.2]) * 1_200_000, np.array([0.03, 0.06, 0.1]), 2_000.0
    up, down = cumulative_commission(x + h, th, rates, True), cumulative_commission(x - h, th, rates, True)
    mc = (up - down).mean() / (2 * h)
    assert marginal_pay(inc, pos) == pytest.approx(mc, rel=0.03)


def test_prioritise_prefers_deals_that_land_before_the_threshold_is_decided() -> None:
    deals = pd.DataFrame({"value": [40_000.0, 60_000.0], "win_probability": [0.6, 0.6],
                          "close_month": [11, 12], "hours": [5.0, 5.0]}, index=["this_year", "next_year"])
    q24 = np.full(24, 100_000.0)
    pos = at(11, 0.97, elapsed=0.3, quotas=q24)
    bonus = prepare(ANNUAL, q24, 60_000.0, B)
    flat = prepare(pay_plan(commission_rate=0.05), q24, 60_000.0, B)
    assert prioritise(bonus, pos, deals).index.tolist() == ["this_year", "next_year"]
    assert prioritise(flat, pos, deals).index.tolist() == ["next_year", "this_year"]
    off = prepare(ANNUAL, q24, 60_000.0, BehaviourSettings(enabled=False))
    assert prioritise(off, pos, deals).index.tolist() == ["next_year", "this_year"]


def test_timing_games_on_by_default_and_off_without_a_behavioural_response() -> None:
    q24 = np.full(24, 100_000.0)
    games = B
    near = at(11, 0.98, elapsed=0.9, quotas=q24)
    assert timing_decision(prepare(ANNUAL, q24, 60_000.0, B), near, 30_000.0, 12, 1.0) == "pull"
    for off in (BehaviourSettings(timing_games=False), BehaviourSettings(enabled=False)):
        assert timing_decision(prepare(ANNUAL, q24, 60_000.0, off), near, 30_000.0, 12, 1.0) == "keep"
    capped = at(11, 2.4, elapsed=0.5, quotas=q24)
    assert timing_decision(prepare(CAPPED, q24, 60_000.0, games), capped, 30_000.0, 11, 0.0) == "push"
    flat = prepare(pay_plan(commission_rate=0.05), q24, 60_000.0, games)
    assert timing_decision(flat, near, 30_000.0, 12, 1.0) == "keep"


def test_timing_games_pay_only_across_pay_periods() -> None:
    games = BehaviourSettings(timing_games=True, push_risk=0.0)
    q24 = np.full(24, 100_000.0)
    annual = prepare(ANNUAL, q24, 60_000.0, games)
    # Mid-year the annual bonus is paid on the same day whichever month a deal lands in: nothing to gain by moving
    # it, even for a rep right at the threshold (discounting the bonus from the booking month made pushes pay).
    assert timing_decision(annual, at(5, 1.0, elapsed=0.9, quotas=q24), 30_000.0, 5, 0.0) == "keep"
    assert timing_decision(annual, at(5, 1.0, elapsed=0.9, quotas=q24), 30_000.0, 6, 1.0) == "keep"
    # At a quarter end a quarterly bonus makes both games pay: short of the quarter's threshold, pull; past it,
    # push the next signature into the new quarter, where it counts toward the next threshold.
    quarterly = prepare(QUARTERLY, q24, 60_000.0, games)
    assert timing_decision(quarterly, at(2, 0.97, elapsed=0.95, quotas=q24), 20_000.0, 3, 1.0) == "pull"
    assert timing_decision(quarterly, at(2, 1.3, elapsed=0.95, quotas=q24), 20_000.0, 2, 0.0) == "push"
    assert timing_decision(quarterly, at(3, 1.3, elapsed=0.95, quotas=q24), 20_000.0, 3, 0.0) == "keep"
    # A push that risks the deal is weighed at (1 - push_risk) of its pay: certain loss, never pushed; the risk
    # the engine passes for this wait takes precedence over the setting.
    risky = prepare(QUARTERLY, q24, 60_000.0, BehaviourSettings(timing_games=True, push_risk=1.0))
    assert timing_decision(risky, at(2, 1.3, elapsed=0.95, quotas=q24), 20_000.0, 2, 0.0) == "keep"
    assert timing_decision(quarterly, at(2, 1.3, elapsed=0.95, quotas=q24), 20_000.0, 2, 0.0, push_risk=1.0) == "keep"
    assert timing_decision(risky, at(2, 1.3, elapsed=0.95, quotas=q24), 20_000.0, 2, 0.0, push_risk=0.0) == "push"
    # Too far out to pull.
    assert timing_decision(quarterly, at(2, 0.97, elapsed=0.95, quotas=q24), 20_000.0, 3, 4.5) == "keep"


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 23), st.floats(0.0, 2.5), st.floats(0.0, 0.99), st.floats(1_000.0, 400_000.0),
       st.integers(1, 2), st.floats(0.0, 4.0), st.sampled_from(["flat", "annual", "quarterly", "capped"]))
def test_timing_games_never_pay_within_pay_periods_nor_under_a_flat_rate(
        month: int, att: float, elapsed: float, value: float, ahead: int, weeks: float, kind: str) -> None:
    games = BehaviourSettings(timing_games=True, push_risk=0.0)
    q24 = np.full(24, 100_000.0)
    pay_plans = {"flat": pay_plan(commission_rate=0.05), "annual": ANNUAL, "quarterly": QUARTERLY, "capped": CAPPED}
    inc = prepare(pay_plans[kind], q24, 60_000.0, games)
    pos = at(month, att, elapsed, quotas=q24)
    close = month + ahead
    pull = timing_decision(inc, pos, value, close, weeks)
    push = timing_decision(inc, pos, value, month, 0.0)
    if kind == "flat":
        # the same rate in every month: a pull only loses the discount, a push gains nothing
        assert pull == push == "keep"
    period = 3 if kind == "quarterly" else 12
    if month // period == close // period:
        assert pull == "keep"
    if month // period == (month + 1) // period:
        assert push == "keep"
    assert pull in ("keep", "pull") and push in ("keep", "push")


def test_a_deal_bigger_than_the_outlook_spread_is_worth_the_jump_it_makes() -> None:
    from scipy import stats

    from sim.incentives import deal_gain

    bonus_only = pay_plan(commission_rate=0.0, bonuses=[{"period": "year", "steps": [{"attainment": 1.0,
                                                                                    "amount": 10_000.0}]}])
    inc = prepare(bonus_only, Q, 0.0, B)
    # December, 20k short of the 1.2M quota, little left to come (sd floor 0.5 x 2k): a 30k deal all but
    # secures the bonus. Valued at its midpoint the density there is ~0 and the deal looked worthless.
    bookings = np.r_[np.full(11, 100_000.0), 80_000.0]
    pos = Position(11, 0.9, bookings, 2_000.0, 500.0)
    mean, sd = 2_000.0 * 0.1 * pos.weeks_per_month, 1_000.0
    exact = 10_000.0 * (stats.norm.cdf((80_000 + 30_000 + mean - 100_000) / sd)
                        - stats.norm.cdf((80_000 + mean - 100_000) / sd))
    assert deal_gain(inc, pos, 30_000.0, 11) == pytest.approx(exact, rel=1e-6)
    assert deal_gain(inc, pos, 30_000.0, 11) > 9_999.0


def test_position_and_prepare_all_refuse_bad_input() -> None:
    from sim.incentives import PayError, prepare_all

    with pytest.raises(PayError, match="month_elapsed"):
        Position(0, 1.5, np.zeros(12), 1.0, 1.0)
    with pytest.raises(PayError, match="bookings has 3 months"):
        Position(5, 0.0, np.zeros(3), 1.0, 1.0)
    with pytest.raises(PayError, match="weekly_mean"):
        Position(0, 0.0, np.zeros(3), -1.0, 1.0)
    reps = pd.DataFrame({"pay_plan_id": ["a", "b"], "base_salary": [1.0, 2.0]}, index=["R1", "R2"])
    q = pd.DataFrame(1.0, index=["R1"], columns=range(12))
    with pytest.raises(PayError, match="no quotas for rep"):
        prepare_all(reps, {"a": ANNUAL, "b": CAPPED}, q, B)
    q2 = pd.DataFrame(1.0, index=["R1", "R2"], columns=range(12))
    with pytest.raises(PayError, match="unknown pay plan"):
        prepare_all(reps, {"a": ANNUAL}, q2, B)
    assert set(prepare_all(reps, {"a": ANNUAL, "b": CAPPED}, q2, B)) == {"R1", "R2"}


def _year_of_hours(p: PayPlanSettings, running_at: float, behaviour: BehaviourSettings = B) -> list[float]:
    """Hours share mid-month through a year for a rep booking ``running_at`` x quota every month."""
    quotas = np.full(12, 100_000.0)
    inc = prepare(p, quotas, 60_000.0, behaviour)
    mean, sd = weekly_moments(running_at * 100_000.0 * 12 / 46, 30_000.0)
    shares = []
    for month in range(12):
        bookings = np.zeros(12)
        bookings[:month] = running_at * 100_000.0
        bookings[month] = running_at * 50_000.0
        shares.append(appraise(inc, Position(month, 0.5, bookings, mean, sd)).hours_share)
    return shares


def test_quarterly_bonus_keeps_low_performers_trying_more_than_annual() -> None:
    # Chung, Steenburgh & Sudhir (2014): a rep running at 80 % of quota falls ever further behind an annual
    # target, but each quarter is a fresh chance; a rep on target is driven harder by the big annual prize.
    assert np.mean(_year_of_hours(QUARTERLY, 0.8)) > np.mean(_year_of_hours(ANNUAL, 0.8))
    assert np.mean(_year_of_hours(ANNUAL, 1.0)) > np.mean(_year_of_hours(QUARTERLY, 1.0))


def test_discounting_moves_annual_bonus_effort_to_the_end_of_the_year() -> None:
    patient = _year_of_hours(ANNUAL, 1.0, BehaviourSettings(discount_per_week=1.0))
    impatient = _year_of_hours(ANNUAL, 1.0)
    # Spring effort is lower when the year-end bonus is discounted; the last months are nearly unchanged.
    assert impatient[2] < patient[2]
    assert impatient[-1] == pytest.approx(patient[-1], abs=0.02)
    assert impatient[-1] - impatient[2] > patient[-1] - patient[2]
    # Commissions are the reference, so a flat plan is untouched by discounting.
    assert set(_year_of_hours(pay_plan(commission_rate=0.05), 1.0)) == {1.0}


def test_non_recoverable_draw_blunts_effort_recoverable_does_not() -> None:
    # 5 % commission, draw 3000 a month: commission beats the draw only above 60k booked in the month. A rep
    # expecting ~38k a month (10k a week) keeps the draw whatever he does, so extra effort this month pays nothing.
    mean, sd = weekly_moments(10_000.0, 20_000.0)
    pos = Position(3, 0.25, np.r_[np.full(3, 38_000.0), 5_000.0, np.zeros(8)], mean, sd)
    kept = prepare(pay_plan(commission_rate=0.05, draw={"monthly": 3000.0, "recoverable": False}), Q, 0.0, B)
    repaid = prepare(pay_plan(commission_rate=0.05, draw={"monthly": 3000.0, "recoverable": True}), Q, 0.0, B)
    assert marginal_pay(kept, pos) < 0.01
    assert marginal_pay(repaid, pos) == pytest.approx(0.05)
    assert weekly_hours(kept, pos, 40.0) < weekly_hours(repaid, pos, 40.0) == 40.0
    # After the draw window the commission counts again.
    short = prepare(pay_plan(commission_rate=0.05, draw={"monthly": 3000.0, "recoverable": False, "months": 2}),
                    Q, 0.0, B)
    assert marginal_pay(short, pos) == pytest.approx(0.05)


def test_team_bonus_motivates_near_the_team_threshold_and_dilutes_with_team_size() -> None:
    from sim.incentives import TeamOutlook

    team_plan = pay_plan(commission_rate=0.04, team_bonus={"scope": "region", "period": "quarter",
                                                       "steps": [{"attainment": 1.0, "amount": 3000.0}]})
    inc = prepare(team_plan, Q, 60_000.0, B)
    solo = at(2, 1.0, elapsed=0.6)

    def team_of(size: int, attainment: float) -> TeamOutlook:
        mean, sd = weekly_moments(size * MEAN, 30_000.0)
        booked = np.r_[np.full(2, attainment * size * 100_000.0), attainment * size * 60_000.0, np.zeros(9)]
        return TeamOutlook(booked, np.full(12, size * 100_000.0), mean, sd)

    without = marginal_pay(inc, solo)
    assert without == pytest.approx(0.04)
    near_small = marginal_pay(inc, Position(2, 0.6, solo.bookings, MEAN, SD, team=team_of(3, 0.97)))
    near_big = marginal_pay(inc, Position(2, 0.6, solo.bookings, MEAN, SD, team=team_of(12, 0.97)))
    far = marginal_pay(inc, Position(2, 0.6, solo.bookings, MEAN, SD, team=team_of(3, 0.5)))
    assert near_small > near_big > without
    assert far == pytest.approx(without, abs=1e-4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 300_000.0), min_size=12, max_size=12), st.integers(0, 11), st.floats(0.0, 0.2))
def test_flat_commission_earnings_shortcut_matches_the_pay_engine(bookings: list[float], month: int,
                                                                   rate: float) -> None:
    from sim.incentives import uncapped_variable
    from sim.incentives.marginal_pay import _earned_this_year

    capped = pay_plan(commission_rate=rate, cap={"target_multiple": 1.5})
    inc = prepare(capped, Q, 60_000.0, B)
    b = np.asarray(bookings)
    pos = Position(month, 0.5, b, MEAN, SD)
    commission, bonus = uncapped_variable(b[:month + 1], Q[:month + 1], inc.base, capped)
    assert _earned_this_year(inc, pos, 0) == pytest.approx(float(commission.sum() + bonus[:-1].sum()), abs=1e-6)
