"""Reps' behavioural response to a pay plan: weekly hours and work priorities from the marginal expected pay
of more bookings, given the rep's position (bookings so far, quotas, time left, pipeline).

The model. At a decision time the bookings a rep will still add in a pay window :math:`W` (a month, quarter or
plan year) are :math:`R_W \\sim N(\\mu_W, \\sigma_W^2)` with :math:`\\mu_W = w_W \\, m_1` and
:math:`\\sigma_W^2 = w_W \\, s_1^2` (:math:`w_W` weeks of :math:`W` still to come, :math:`m_1, s_1` the mean
and standard deviation of one week's bookings at norm hours, from the pipeline: `weekly_moments`). With
:math:`b_W` already booked, :math:`X_W = b_W + R_W`. Piecewise-linear pay then has closed-form expectations:
commission tiers :math:`C(x) = \\sum_k \\Delta r_k (x - T_k)^+` give a marginal pay of
:math:`\\sum_k \\Delta r_k \\Phi(d_k)` with :math:`d_k = (b_W + \\mu_W - T_k)/\\sigma_W`; retroactive tiers add
:math:`\\sum_k \\Delta r_k T_k \\varphi(d_k)/\\sigma_W`; a lump sum :math:`A` at threshold :math:`T` adds
:math:`A \\varphi(d)/\\sigma_W` (the chance one more unit tips the rep over). An annual cap multiplies everything by
the probability the year's bookings stay below the level where uncapped variable pay reaches the cap (0 once it has).
A lump sum paid :math:`w` weeks after the month the booking lands in is discounted by :math:`\\delta^w`
(``discount_per_week``; commissions, paid that month, are the reference). Recognition and promotion count as
lump sums at their attainment with their perceived value; a quota ratchet
subtracts the foreseen cost of a higher quota next year. Under a non-recoverable draw a month's commission counts
only with the probability that it exceeds the draw (below it the top-up absorbs every extra unit; a recoverable
draw is repaid from the same commission, so it changes nothing). A team bonus adds the lump-sum term on the
team's outlook (`TeamOutlook`; the wider spread of a team's total dilutes it: free riding). Contests are left out
(their payoff hinges on the ranking of others' results).

From this follow the effects field studies report: effort rises close to a threshold late in a period (the
density :math:`\\varphi(d)/\\sigma` grows as :math:`\\sigma` shrinks) and spikes before a lump sum is decided
(Oyer 1998); it falls when the threshold is out of reach (:math:`\\varphi(d) \\to 0`) and after a cap binds
(Misra & Nair 2011); it is flat in attainment under a flat commission. Hours are
:math:`h = h_0 \\, \\mathrm{clip}(1 + \\epsilon (m/m_{ref} - 1), lo, hi)` with :math:`m_{ref}` the pay plan's pay per
unit of bookings at target. Everything here is deterministic and pure; no random numbers are drawn, so pay plans
compared with common random numbers see the same customers.

How the simulator uses it: once per replication, ``incs = prepare_all(reps, pay_plans, quotas, behaviour)`` with the
quota matrix from `sim.incentives.monthly_quotas`; at each rep's weekly decision, build a `Position` (month, share of
month gone, bookings per month so far, weekly mean and sd of bookings from the pipeline via `weekly_moments`,
optionally a `TeamOutlook`) and call ``appraise(inc, pos).hours_share`` (× the rep's norm hours, or
`weekly_hours`) and `deal_scores` (or `prioritise` for a DataFrame) to order open deals; with ``timing_games``
on, `timing_decision` per deal near a month end. At the end, `sim.incentives.pay_statements` turns the monthly
bookings into pay.

Examples
--------
>>> import numpy as np, scenarios
>>> from sim.incentives import Position, prepare, weekly_hours
>>> s = scenarios.load("tiny")
>>> inc = prepare(s.settings.pay_plans["flat_commission"], np.full(12, 50_000.0), 60_000.0, s.settings.behaviour)
>>> pos = Position(month=11, month_elapsed=0.5, bookings=np.full(12, 30_000.0), weekly_mean=12_000.0,
...                weekly_sd=15_000.0)
>>> weekly_hours(inc, pos, 40.0)
40.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.incentives.components import PERIOD_MONTHS, bonus_amounts, uncapped_variable
from sim.incentives.position import Incentive, Position

__all__ = [
    "Appraisal",
    "appraise",
    "marginal_pay",
    "weekly_hours",
]


Array = npt.NDArray[np.float64]

_SQRT2 = math.sqrt(2.0)

_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


def _pdf(z: float) -> float:
    return _INV_SQRT2PI * math.exp(-0.5 * z * z)


def _window(month: int, length: int) -> tuple[int, int]:
    start = (month // length) * length
    return start, start + length - 1


def _outlook(inc: Incentive, pos: Position, start: int, end: int) -> tuple[float, float, float]:
    """Booked so far, expected still to come and its sd, for the window of months ``start..end``."""
    # Every booking recorded in the window counts, including ones already known for later months.
    booked = float(pos.bookings[start:end + 1].sum())
    if end < pos.month:
        weeks = 0.0
    elif start > pos.month:
        weeks = (end - start + 1) * pos.weeks_per_month
    else:
        weeks = (end - pos.month + 1.0 - pos.month_elapsed) * pos.weeks_per_month
    mean = pos.weekly_mean * weeks
    floor = inc.behaviour.min_sd_share * max(pos.weekly_mean, 1e-9)
    sd = max(pos.weekly_sd * math.sqrt(weeks), floor)
    return booked, mean, sd


def _commission_marginal(inc: Incentive, pos: Position, month: int) -> float:
    c = inc.commission
    start, end = _window(month, PERIOD_MONTHS[c.period])
    end = min(end, len(inc.quotas) - 1)  # a period cut short by the horizon ends with it, as in the pay engine
    booked, mean, sd = _outlook(inc, pos, start, end)
    scale = float(inc.quotas[start:end + 1].sum()) if c.basis == "attainment" else 1.0
    # The first tier starts at 0 and bookings are never negative, so its rate applies in full (the normal
    # outlook's mass below 0 is an artefact of the approximation).
    total = prev = c.tiers[0].rate
    for tier in c.tiers[1:]:
        t = tier.threshold * scale
        d = (booked + mean - t) / sd
        step = tier.rate - prev
        total += step * _cdf(d)
        if c.retroactive:
            total += step * t * _pdf(d) / sd
        prev = tier.rate
    return total


def _lump_marginal(values: list[tuple[float, float]], booked: float, mean: float, sd: float,
                   width: float = 0.0) -> float:
    """Marginal expected value of lump sums ``(threshold, amount)`` paid for the highest threshold reached.

    With ``width > 0`` the average marginal over bookings ``booked +- width / 2`` (exact: the change in the
    chance of reaching each threshold over the width), so a deal larger than the spread of the outlook is valued
    by the jump it makes, not by the density at its midpoint.
    """
    total, prev = 0.0, 0.0
    for threshold, amount in values:
        d = (booked + mean - threshold) / sd
        if width > 0.0:
            half = 0.5 * width / sd
            total += (amount - prev) * (_cdf(d + half) - _cdf(d - half)) / width
        else:
            total += (amount - prev) * _pdf(d) / sd
        prev = amount
    return total


def _bonus_marginal(inc: Incentive, pos: Position, month: int, width: float = 0.0, ref: int | None = None) -> float:
    total = 0.0
    horizon = len(inc.quotas)
    for b in inc.pay_plan.bonuses:
        if b.period == "cumulative_quarter":
            start, end = _window(month, 12)
            q_end = (month // 3) * 3 + 2
            if q_end >= horizon:
                continue
            # Paid earlier this year by this bonus: only quarters already complete count.
            done = min((pos.month // 3) * 3, horizon)
            so_far = np.zeros(horizon)
            so_far[:len(pos.bookings)] = pos.bookings[:horizon]
            paid = float(bonus_amounts(so_far[:done], inc.quotas[:done], inc.base, b)[start:].sum()) if done else 0.0
            booked, mean, sd = _outlook(inc, pos, start, q_end)
            quarter = (q_end - start) // 3 + 1
            ytd_quota = float(inc.quotas[start:q_end + 1].sum())
            steps = [(s.attainment * ytd_quota, max(0.0, quarter * (s.amount + s.share_of_base * inc.base) - paid))
                     for s in b.steps]
        else:
            start, end = _window(month, PERIOD_MONTHS[b.period])
            if end >= horizon:
                continue
            booked, mean, sd = _outlook(inc, pos, start, end)
            quota = float(inc.quotas[start:end + 1].sum())
            steps = [(s.attainment * quota, s.amount + s.share_of_base * inc.base) for s in b.steps]
        if any(t > 0 for t, _ in steps):
            pay_month = q_end if b.period == "cumulative_quarter" else end
            total += _lump_marginal(steps, booked, mean, sd, width) * _delay(inc, pos, month if ref is None else ref,
                                                                            pay_month)
    return total


def _delay(inc: Incentive, pos: Position, month: int, pay_month: int) -> float:
    """Discount on pay due at the end of ``pay_month`` for a booking in ``month``, relative to the commission
    on that booking (paid at the end of ``month``): :math:`\\delta^{w}` with :math:`w` the weeks in between.
    (A timing decision passes today's month instead: the lump sum is paid on the same day whichever month the
    deal lands in, so only the wait from today counts.)"""
    return float(inc.behaviour.discount_per_week ** ((pay_month - month) * pos.weeks_per_month))


def _annual_lumps(inc: Incentive, pos: Position, month: int, width: float = 0.0, ref: int | None = None) -> float:
    """Recognition and promotion as lump sums at annual attainment, less the foreseen cost of a ratchet."""
    rules = inc.pay_plan
    start, end = _window(month, 12)
    if end >= len(inc.quotas) or (rules.recognition is None and rules.promotion is None and rules.ratchet is None):
        return 0.0
    booked, mean, sd = _outlook(inc, pos, start, end)
    quota = float(inc.quotas[start:end + 1].sum())
    later = _delay(inc, pos, month if ref is None else ref, end)
    total = 0.0
    if inc.pay_plan.recognition is not None and inc.pay_plan.recognition.perceived_value > 0:
        r = inc.pay_plan.recognition
        total += _lump_marginal([(r.attainment * quota, r.perceived_value)], booked, mean, sd, width) * later
    if inc.pay_plan.promotion is not None and inc.pay_plan.promotion.perceived_value > 0:
        p = inc.pay_plan.promotion
        total += (_lump_marginal([((p.min_attainment or 1.0) * quota, p.perceived_value)], booked, mean, sd, width)
                  * later)
    if inc.pay_plan.ratchet is not None and quota > 0:
        # Above quota each unit raises next year's quota by `up`; what that costs the rep is the quota-driven
        # part of the pay plan's pay per unit of quota (zero under a pure flat commission).
        quota_part = max(0.0, inc.reference_rate - inc.commission.tiers[0].rate)
        beat = _cdf((booked + mean - quota) / sd)
        total -= inc.behaviour.ratchet_foresight * inc.pay_plan.ratchet.up * quota_part * beat * later
    return total


def _earned_this_year(inc: Incentive, pos: Position, year: int) -> float:
    """Uncapped variable pay earned so far in plan ``year`` (bonuses of periods not yet closed left out)."""
    start, end = 12 * year, min(12 * year + 11, len(inc.quotas) - 1)
    if start > pos.month:
        return 0.0
    upto = min(pos.month, end)
    recorded = pos.bookings[start:upto + 1]
    tiers = inc.commission.tiers
    if len(tiers) == 1 and tiers[0].threshold == 0.0 and not inc.pay_plan.bonuses:
        # a flat commission (the common capped pay plan): linear in bookings, no need for the pay engine's windows
        return float(tiers[0].rate * recorded.sum())
    so_far = np.zeros(upto - start + 1)
    so_far[:len(recorded)] = recorded
    commission, bonus = uncapped_variable(so_far, inc.quotas[start:upto + 1], inc.base, inc.pay_plan)
    return float(commission.sum() + bonus[:-1].sum())


def _not_capped(inc: Incentive, pos: Position, month: int, earned: dict[int, float]) -> float:
    """Probability that the plan year of ``month`` ends below the cap (0 once it binds).

    ``earned`` caches `_earned_this_year` by year across calls that share a position.
    """
    if inc.cap is None or inc.cap_bookings is None:
        return 1.0
    year = month // 12
    start, end = 12 * year, min(12 * year + 11, len(inc.quotas) - 1)
    if year not in earned:
        earned[year] = _earned_this_year(inc, pos, year)
    if earned[year] >= inc.cap[year]:
        return 0.0
    booked, mean, sd = _outlook(inc, pos, start, end)
    return _cdf((float(inc.cap_bookings[year]) - booked - mean) / sd)


def marginal_pay(inc: Incentive, pos: Position, month: int | None = None,
                 earned: dict[int, float] | None = None) -> float:
    """Expected pay for one more unit of bookings landing in ``month`` (default: the current month).

    Sum of the commission, quota-bonus and non-material terms of the module's model, times the probability the
    cap does not bind. A month past the horizon is valued as the same month of a fresh plan year on the same
    quotas, with the rep on track at the expected weekly rate before it: a booking slipping into next year earns
    next year's commission and its share of next year's (distant) bonus, not this year's. ``earned`` (optional,
    start with ``{}``) caches the variable pay earned so far per plan year across calls on the same ``pos``:
    pass the same dict for every month asked about one position (the simulator's weekly decisions do).

    Examples
    --------
    >>> import scenarios
    >>> from sim.incentives import Position, prepare
    >>> p = scenarios.PayPlanSettings(commission_rate=0.05)
    >>> inc = prepare(p, np.full(12, 10_000.0), 0.0, scenarios.BehaviourSettings())
    >>> marginal_pay(inc, Position(5, 0.0, np.zeros(12), 2_000.0, 2_000.0))
    0.05

    Under a pay plan paying 2 % plus a lump sum at annual quota, a December booking by a rep just short of quota is
    worth far more than the same booking slipping into January (next year's bonus is a year away):

    >>> p = scenarios.PayPlanSettings(commission_rate=0.02, bonuses=[{"name": "year", "period": "year",
    ...                            "steps": [{"attainment": 1.0, "amount": 5_000.0}]}])
    >>> inc = prepare(p, np.full(12, 10_000.0), 0.0, scenarios.BehaviourSettings())
    >>> pos = Position(11, 0.5, np.r_[np.full(11, 10_000.0), 5_000.0], 2_000.0, 2_000.0)
    >>> dec, jan = marginal_pay(inc, pos), marginal_pay(inc, pos, 12)
    >>> bool(dec > 0.2 and 0.02 < jan < 0.03)
    True
    """
    m = pos.month if month is None else month
    return _marginal(inc, pos, m, {} if earned is None else earned)


def _next_year(inc: Incentive, pos: Position, m: int) -> tuple[Position, int]:
    """Position and month standing for month ``m`` past the horizon: the pay plan is assumed to run again from
    scratch on the same quotas, with the rep on track at the expected weekly rate for the months before it."""
    n = len(inc.quotas)
    month = (m - n) % n
    bookings = np.zeros(n)
    bookings[:month] = pos.weekly_mean * pos.weeks_per_month
    return Position(month, 0.0, bookings, pos.weekly_mean, pos.weekly_sd, pos.weeks_per_month), month


def _marginal(inc: Incentive, pos: Position, m: int, earned: dict[int, float], width: float = 0.0,
              ref: int | None = None) -> float:
    """Marginal pay in month ``m``; ``width > 0``: lump sums averaged over a deal of that size (`_lump_marginal`);
    ``ref``: the month lump sums are discounted from (default ``m``, see `_delay`)."""
    if m >= len(inc.quotas):
        # Past the horizon the pay plan starts over: a booking then counts toward next year's commission tiers,
        # bonuses and cap, not this year's (its cap state starts at zero, hence the fresh `earned`).
        fresh, month = _next_year(inc, pos, m)
        return _marginal(inc, fresh, month, {}, width, None if ref is None else ref - (m - month))
    commission = _commission_marginal(inc, pos, m) * _above_draw(inc, pos, m)
    value = (commission + _bonus_marginal(inc, pos, m, width, ref) + _annual_lumps(inc, pos, m, width, ref)
             + _team_marginal(inc, pos, m, width, ref))
    return value * _not_capped(inc, pos, m, earned)


def _team_marginal(inc: Incentive, pos: Position, month: int, width: float = 0.0, ref: int | None = None) -> float:
    """Team bonus: one more unit of the rep's bookings is one more unit for the team; the rep's share of the
    payout is his own step value, so the term is the lump-sum density on the team's (wider) outlook."""
    tb, team = inc.pay_plan.team_bonus, pos.team
    if tb is None or team is None:
        return 0.0
    start, end = _window(month, PERIOD_MONTHS[tb.period])
    if end >= len(team.quotas):
        return 0.0
    proxy = Position(pos.month, pos.month_elapsed, team.bookings, team.weekly_mean, team.weekly_sd,
                     pos.weeks_per_month)
    booked, mean, sd = _outlook(inc, proxy, start, end)
    quota = float(team.quotas[start:end + 1].sum())
    steps = [(s.attainment * quota, s.amount + s.share_of_base * inc.base) for s in tb.steps]
    return _lump_marginal(steps, booked, mean, sd, width) * _delay(inc, pos, month if ref is None else ref, end)


def _above_draw(inc: Incentive, pos: Position, month: int) -> float:
    """Probability that commission in ``month`` exceeds a non-recoverable draw (below it, the top-up absorbs
    every extra unit); 1 for recoverable draws, whose top-ups are repaid from the same commission."""
    d = inc.pay_plan.draw
    rate = inc.commission.tiers[0].rate
    if d is None or d.recoverable or d.monthly <= 0 or rate <= 0 or (d.months is not None and month >= d.months):
        return 1.0
    booked, mean, sd = _outlook(inc, pos, month, month)
    return _cdf((booked + mean - d.monthly / rate) / sd)


@dataclass(frozen=True)
class Appraisal:
    """What drives a rep's effort this week (returned by `appraise`).

    Attributes
    ----------
    marginal_now
        Expected pay per unit of bookings closing this month.
    marginal_later
        Expected pay per unit closing ``lag_months`` later.
    marginal
        Blend of the two by ``closing_share``.
    reference_rate
        The pay plan's pay per unit at target.
    hours_share
        Hours relative to the tier's norm.
    """

    marginal_now: float
    marginal_later: float
    marginal: float
    reference_rate: float
    hours_share: float


def appraise(inc: Incentive, pos: Position, earned: dict[int, float] | None = None) -> Appraisal:
    """Marginal expected pay of effort now and the resulting share of norm hours.

    :math:`m = s \\, m(\\text{now}) + (1 - s) \\, m(\\text{now} + L)` (``closing_share`` :math:`s`,
    ``lag_months`` :math:`L`); hours share :math:`= \\mathrm{clip}(1 + \\epsilon (m/m_{ref} - 1), lo, hi)`, 1 when
    behaviour is disabled or the pay plan pays nothing variable.

    Examples
    --------
    >>> import scenarios
    >>> from sim.incentives import Position, prepare
    >>> p = scenarios.PayPlanSettings(commission_rate=0.05, cap={"amount": 1000.0})
    >>> inc = prepare(p, np.full(12, 10_000.0), 0.0, scenarios.BehaviourSettings())
    >>> appraise(inc, Position(6, 0.0, np.full(12, 10_000.0), 2_000.0, 2_000.0)).hours_share  # cap reached
    0.75
    """
    b = inc.behaviour
    cache: dict[int, float] = {} if earned is None else earned  # both calls share the position
    now = marginal_pay(inc, pos, earned=cache)
    later = marginal_pay(inc, pos, pos.month + b.lag_months, earned=cache)
    blended = b.closing_share * now + (1.0 - b.closing_share) * later
    if not b.enabled or inc.reference_rate <= 0:
        share = 1.0
    else:
        share = min(max(1.0 + b.elasticity * (blended / inc.reference_rate - 1.0), b.min_hours_share),
                    b.max_hours_share)
    return Appraisal(now, later, blended, inc.reference_rate, share)


def weekly_hours(inc: Incentive, pos: Position, norm_hours: float) -> float:
    """Hours the rep works this week: the tier's norm times `appraise`'s hours share.

    Parameters
    ----------
    inc
        The rep's prepared pay plan.
    pos
        The rep's position now.
    norm_hours
        The tier's (or rep's) normal weekly hours.

    Examples
    --------
    >>> import scenarios
    >>> from sim.incentives import Position, prepare
    >>> inc = prepare(scenarios.PayPlanSettings(commission_rate=0.05), np.full(12, 1.0), 0.0,
    ...               scenarios.BehaviourSettings())
    >>> weekly_hours(inc, Position(0, 0.0, np.zeros(12), 1.0, 1.0), 38.0)
    38.0
    """
    return float(norm_hours * appraise(inc, pos).hours_share)
