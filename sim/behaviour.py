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
quota matrix from `sim.pay.monthly_quotas`; at each rep's weekly decision, build a `Position` (month, share of
month gone, bookings per month so far, weekly mean and sd of bookings from the pipeline via `weekly_moments`,
optionally a `TeamOutlook`) and call ``appraise(inc, pos).hours_share`` (× the rep's norm hours, or
`weekly_hours`) and `deal_scores` (or `prioritise` for a DataFrame) to order open deals; with ``timing_games``
on, `timing_decision` per deal near a month end. At the end, `sim.pay.pay_statements` turns the monthly
bookings into pay.

Examples
--------
>>> import numpy as np, scenarios
>>> from sim.behaviour import Position, prepare, weekly_hours
>>> s = scenarios.load("tiny")
>>> inc = prepare(s.settings.pay_plans["flat_commission"], np.full(12, 50_000.0), 60_000.0, s.settings.behaviour)
>>> pos = Position(month=11, month_elapsed=0.5, bookings=np.full(12, 30_000.0), weekly_mean=12_000.0,
...                weekly_sd=15_000.0)
>>> weekly_hours(inc, pos, 40.0)
40.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from scenarios.incentives import BehaviourSettings, CommissionSettings, PayPlanSettings
from sim.pay import (
    PERIOD_MONTHS,
    PayError,
    annual_base,
    bonus_amounts,
    target_variable_pay,
    uncapped_variable,
)

__all__ = [
    "Appraisal",
    "Incentive",
    "Position",
    "TeamOutlook",
    "appraise",
    "deal_gain",
    "deal_scores",
    "marginal_pay",
    "prepare",
    "prepare_all",
    "prioritise",
    "timing_decision",
    "weekly_hours",
    "weekly_moments",
]

Array = npt.NDArray[np.float64]
_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


def _pdf(z: float) -> float:
    return _INV_SQRT2PI * math.exp(-0.5 * z * z)


@dataclass(frozen=True)
class TeamOutlook:
    """The rep's team (region or company, as the pay plan's ``team_bonus.scope`` says) for the team-bonus term.

    Parameters
    ----------
    bookings
        Team bookings per month so far (all members, the rep included).
    quotas
        Team quota per month over the horizon.
    weekly_mean, weekly_sd
        Mean and standard deviation of the team's weekly bookings from here on.
    """

    bookings: Array
    quotas: Array
    weekly_mean: float
    weekly_sd: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "bookings", np.asarray(self.bookings, dtype=float))
        object.__setattr__(self, "quotas", np.asarray(self.quotas, dtype=float))
        if not (self.weekly_mean >= 0.0 and self.weekly_sd >= 0.0):
            raise PayError(f"TeamOutlook: weekly_mean and weekly_sd must be >= 0; got {self.weekly_mean}, "
                           f"{self.weekly_sd}")


@dataclass(frozen=True)
class Position:
    """Where a rep stands at a decision (the simulator builds one per rep and week).

    Parameters
    ----------
    month
        Index of the current month in the horizon (0 = first month).
    month_elapsed
        Share of the current month already gone, 0-1.
    bookings
        Bookings per month of the horizon so far (the current month partial; later months 0 or absent, or
        bookings already certain for them).
    weekly_mean
        Expected bookings per week at norm hours from here on (pipeline due to close plus new business).
    weekly_sd
        Standard deviation of one week's bookings at norm hours (see `weekly_moments`).
    weeks_per_month
        Working weeks per month (``calendar.weeks_per_year / 12``).
    team
        The team's outlook, for pay plans with a team bonus (None = the team bonus is left out).
    """

    month: int
    month_elapsed: float
    bookings: Array
    weekly_mean: float
    weekly_sd: float
    weeks_per_month: float = 46.0 / 12.0
    team: TeamOutlook | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.bookings, np.ndarray) or self.bookings.dtype != np.float64:
            object.__setattr__(self, "bookings", np.asarray(self.bookings, dtype=float))
        if self.month < 0 or not 0.0 <= self.month_elapsed <= 1.0:
            raise PayError(f"Position: month must be >= 0 and month_elapsed in [0, 1]; got month {self.month}, "
                           f"month_elapsed {self.month_elapsed}")
        if len(self.bookings) <= self.month:
            raise PayError(f"Position: bookings has {len(self.bookings)} months but the current month is "
                           f"{self.month}; give bookings for months 0..{self.month} at least")
        if not (self.weekly_mean >= 0.0 and self.weekly_sd >= 0.0 and self.weeks_per_month > 0.0):
            raise PayError(f"Position: weekly_mean and weekly_sd must be >= 0 and weeks_per_month > 0; got "
                           f"{self.weekly_mean}, {self.weekly_sd}, {self.weeks_per_month}")


def weekly_moments(expected_per_week: float, mean_deal: float, deal_cv: float = 0.5) -> tuple[float, float]:
    """Mean and standard deviation of a week's bookings as a compound Poisson sum of deals.

    Deals close at rate :math:`\\lambda = m / \\bar v` a week with sizes of mean :math:`\\bar v` and coefficient
    of variation :math:`c`, so the variance is :math:`\\lambda E[v^2] = \\lambda \\bar v^2 (1 + c^2)`.

    Examples
    --------
    >>> weekly_moments(20_000.0, 10_000.0, 0.0)
    (20000.0, 14142.13562373095)
    """
    if expected_per_week <= 0 or mean_deal <= 0:
        return max(expected_per_week, 0.0), 0.0
    rate = expected_per_week / mean_deal
    return float(expected_per_week), float(math.sqrt(rate * mean_deal**2 * (1.0 + deal_cv**2)))


@dataclass(frozen=True)
class Incentive:
    """A rep's pay plan prepared for fast behaviour decisions (build once per rep with `prepare`).

    Attributes
    ----------
    pay_plan, behaviour
        The pay plan and the behaviour settings.
    quotas
        Quota per month of the horizon.
    base
        Annual base salary under the pay plan.
    reference_rate
        :math:`m_{ref}`: target variable pay of the first plan year / its quota (0 without quota or variable pay).
    cap
        Cap per plan year (None without a cap).
    cap_bookings
        Bookings of each plan year at which uncapped variable pay reaches the cap, with bookings shaped like the
        quotas (None without a cap; ``inf`` when the cap cannot be reached).
    commission
        The pay plan's commission in tier form (the flat shorthand expanded once).
    """

    pay_plan: PayPlanSettings
    behaviour: BehaviourSettings
    quotas: Array
    base: float
    reference_rate: float
    cap: Array | None = field(default=None, repr=False)
    cap_bookings: Array | None = field(default=None, repr=False)
    commission: CommissionSettings = field(default_factory=CommissionSettings, repr=False)


def _year_variable(quota_year: Array, total: float, base: float, pay_plan: PayPlanSettings) -> float:
    path = quota_year * (total / quota_year.sum()) if quota_year.sum() > 0 else np.full(len(quota_year),
                                                                                          total / len(quota_year))
    commission, bonus = uncapped_variable(path, quota_year, base, pay_plan)
    return float(commission.sum() + bonus.sum())


def prepare(pay_plan: PayPlanSettings, quotas: npt.ArrayLike, base_salary: float,
            behaviour: BehaviourSettings) -> Incentive:
    """Prepare a rep's pay plan for behaviour decisions: reference rate and, with a cap, the bookings that reach it.

    Parameters
    ----------
    pay_plan
        The rep's pay plan.
    quotas
        Quota per month of the horizon.
    base_salary
        Annual base salary from reps.csv.
    behaviour
        The scenario's behaviour settings.

    Returns
    -------
    Incentive

    Examples
    --------
    >>> import scenarios
    >>> p = scenarios.PayPlanSettings(commission_rate=0.05, cap={"amount": 6000.0})
    >>> inc = prepare(p, np.full(12, 10_000.0), 50_000.0, scenarios.BehaviourSettings())
    >>> round(inc.reference_rate, 4), round(float(inc.cap_bookings[0]))
    (0.05, 120000)
    """
    q = np.asarray(quotas, dtype=float)
    base = annual_base(base_salary, pay_plan)
    target = target_variable_pay(q, base_salary, pay_plan)
    first_year_quota = float(q[:12].sum())
    reference = float(target[0] / first_year_quota) if first_year_quota > 0 else 0.0
    cap = cap_bookings = None
    if pay_plan.cap is not None:
        years = len(target)
        cap = (np.full(years, pay_plan.cap.amount) if pay_plan.cap.amount is not None
               else pay_plan.cap.target_multiple * target)  # type: ignore[operator]
        cap_bookings = np.empty(years)
        for y in range(years):
            qy = q[12 * y:12 * y + 12]
            hi = max(float(qy.sum()), 1.0)
            for _ in range(60):
                if _year_variable(qy, hi, base, pay_plan) >= cap[y]:
                    break
                hi *= 2.0
            else:
                cap_bookings[y] = np.inf
                continue
            lo = 0.0
            for _ in range(50):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if _year_variable(qy, mid, base, pay_plan) < cap[y] else (lo, mid)
            cap_bookings[y] = hi
    return Incentive(pay_plan, behaviour, q, base, reference, cap, cap_bookings, pay_plan.commission_settings())


def prepare_all(reps: pd.DataFrame, pay_plans: Mapping[str, PayPlanSettings], quotas: pd.DataFrame,
                behaviour: BehaviourSettings) -> dict[str, Incentive]:
    """`prepare` for every rep: ``reps`` (indexed by rep_id, with ``pay_plan_id`` and ``base_salary``) and a quota
    matrix (rep_id × month, as from `sim.pay.monthly_quotas`).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> q = pd.DataFrame(25_000.0, index=s.reps.index, columns=range(12))
    >>> incs = prepare_all(s.reps, s.settings.pay_plans, q, s.settings.behaviour)
    >>> sorted(incs)[:2], round(incs["R0001"].reference_rate, 3)
    (['R0001', 'R0002'], 0.05)
    """
    missing = sorted(set(reps.index) - set(quotas.index))
    if missing:
        raise PayError(f"no quotas for rep(s) {missing[:5]}; give every rep a row in the quota matrix")
    unknown = sorted(set(reps["pay_plan_id"]) - set(pay_plans))
    if unknown:
        raise PayError(f"reps use unknown pay plan(s) {unknown}; known pay plans: {sorted(pay_plans)}")
    pay_plan_of = {str(k): str(v) for k, v in reps["pay_plan_id"].items()}
    base_of = {str(k): float(v) for k, v in reps["base_salary"].astype(float).items()}
    return {r: prepare(pay_plans[pay_plan_of[r]], quotas.loc[r].to_numpy(float), base_of[r], behaviour)
            for r in pay_plan_of}


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
    >>> inc = prepare(scenarios.PayPlanSettings(commission_rate=0.05), np.full(12, 1.0), 0.0,
    ...               scenarios.BehaviourSettings())
    >>> weekly_hours(inc, Position(0, 0.0, np.zeros(12), 1.0, 1.0), 38.0)
    38.0
    """
    return float(norm_hours * appraise(inc, pos).hours_share)


def deal_gain(inc: Incentive, pos: Position, value: float, month: int) -> float:
    """Expected extra pay from a deal of ``value`` closing in ``month`` (finite, not marginal: a big deal can
    jump several tiers or a bonus step at once).

    Evaluates the marginal pay at the deal's midpoint, :math:`v \\, m(b + v/2)`, exact for linear pay; lump sums
    count by the change in the chance of reaching their threshold over :math:`[b, b + v]` (exact under the
    normal outlook), so a big deal near the end of a period is worth the jump it makes.
    Past the horizon a deal is valued in a fresh plan year, as in `marginal_pay`.

    Examples
    --------
    >>> import scenarios
    >>> inc = prepare(scenarios.PayPlanSettings(commission_rate=0.05), np.full(12, 1.0), 0.0,
    ...               scenarios.BehaviourSettings())
    >>> deal_gain(inc, Position(0, 0.0, np.zeros(12), 1.0, 1.0), 1000.0, 3)
    50.0
    """
    return _gain(inc, pos, value, month, {})


def _gain(inc: Incentive, pos: Position, value: float, month: int, earned: dict[int, float],
          ref: int | None = None) -> float:
    if month >= len(inc.quotas):
        fresh, shifted_month = _next_year(inc, pos, month)
        return _gain(inc, fresh, value, shifted_month, {}, None if ref is None else ref - (month - shifted_month))
    shifted = np.zeros(max(len(pos.bookings), month + 1, pos.month + 1))
    shifted[:len(pos.bookings)] = pos.bookings
    shifted[month] += value / 2.0
    team = pos.team
    if team is not None:
        team_shifted = np.zeros(max(len(team.bookings), month + 1))
        team_shifted[:len(team.bookings)] = team.bookings
        team_shifted[month] += value / 2.0
        team = TeamOutlook(team_shifted, team.quotas, team.weekly_mean, team.weekly_sd)
    mid = Position(pos.month, pos.month_elapsed, shifted, pos.weekly_mean, pos.weekly_sd, pos.weeks_per_month, team)
    return float(value * _marginal(inc, mid, month, earned, value, ref))


def deal_scores(inc: Incentive, pos: Position, value: npt.ArrayLike, win_probability: npt.ArrayLike,
                close_month: npt.ArrayLike, hours: npt.ArrayLike) -> tuple[Array, Array]:
    """Expected pay and score (expected pay per hour) of open deals: the array form of `prioritise`.

    Deals due before the current month count as closing now. Whether the cap already binds is judged on the
    bookings before the deals. With behaviour disabled the score is expected value per hour.

    Examples
    --------
    >>> import scenarios
    >>> inc = prepare(scenarios.PayPlanSettings(commission_rate=0.05), np.full(12, 1.0), 0.0,
    ...               scenarios.BehaviourSettings())
    >>> pay, score = deal_scores(inc, Position(0, 0.0, np.zeros(12), 1.0, 1.0), [1000.0], [0.5], [2], [4.0])
    >>> pay.tolist(), score.tolist()
    ([25.0], [6.25])
    """
    v = np.asarray(value, dtype=float)
    p = np.asarray(win_probability, dtype=float)
    months = np.maximum(np.asarray(close_month, dtype=int), pos.month)
    h = np.maximum(np.asarray(hours, dtype=float), 1e-9)
    earned: dict[int, float] = {}
    gains = np.array([_gain(inc, pos, float(x), int(m), earned) for x, m in zip(v, months, strict=True)])
    pay = p * gains if len(gains) else np.zeros(0)
    score = (pay if inc.behaviour.enabled else p * v) / h
    return pay, score


def prioritise(inc: Incentive, pos: Position, deals: pd.DataFrame) -> pd.DataFrame:
    """Rank open deals by expected pay per hour of work under the pay plan.

    Parameters
    ----------
    inc, pos
        The rep's prepared pay plan and position.
    deals
        One row per deal with ``value`` (if won), ``win_probability``, ``close_month`` (month index it is
        expected to close in) and ``hours`` (work still needed); any extra columns are kept.

    Returns
    -------
    pandas.DataFrame
        ``deals`` with ``expected_value`` (value × probability), ``marginal_rate``, ``expected_pay`` (probability
        × `deal_gain`) and ``score`` (expected pay per hour; expected value per hour when behaviour is disabled),
        sorted best first (ties keep the input order).

    Examples
    --------
    >>> import scenarios
    >>> p = scenarios.PayPlanSettings(commission_rate=0.05)
    >>> inc = prepare(p, np.full(12, 10_000.0), 0.0, scenarios.BehaviourSettings())
    >>> d = pd.DataFrame({"value": [5_000.0, 20_000.0], "win_probability": [0.9, 0.5],
    ...                   "close_month": [0, 2], "hours": [2.0, 4.0]})
    >>> prioritise(inc, Position(0, 0.0, np.zeros(12), 2_000.0, 2_000.0), d).index.tolist()
    [1, 0]
    """
    value = deals["value"].to_numpy(float)
    prob = deals["win_probability"].to_numpy(float)
    pay, score = deal_scores(inc, pos, value, prob, deals["close_month"].to_numpy(int), deals["hours"].to_numpy(float))
    gains = np.divide(pay, prob, out=np.zeros_like(pay), where=prob > 0)
    order = np.argsort(-score, kind="stable")
    out = deals.iloc[order].copy()
    out["expected_value"] = (value * prob)[order]
    out["marginal_rate"] = np.divide(gains, value, out=np.zeros_like(gains), where=value > 0)[order]
    out["expected_pay"] = pay[order]
    out["score"] = score[order]
    return out


def _same_pay_periods(inc: Incentive, a: int, b: int) -> bool:
    """True when months ``a`` and ``b`` fall in the same window of every period the pay plan pays on (the plan year,
    the commission period, each bonus and team-bonus period; every month under a non-recoverable draw): then
    moving a deal between them changes nothing but its price."""
    p = inc.pay_plan
    lengths = {12, PERIOD_MONTHS[inc.commission.period]}
    lengths.update(3 if bonus.period == "cumulative_quarter" else PERIOD_MONTHS[bonus.period] for bonus in p.bonuses)
    if p.team_bonus is not None:
        lengths.add(PERIOD_MONTHS[p.team_bonus.period])
    if p.draw is not None and not p.draw.recoverable and p.draw.monthly > 0:
        lengths.add(1)
    return all(a // n == b // n for n in lengths)


def timing_decision(inc: Incentive, pos: Position, value: float, close_month: int,
                    weeks_after_period_end: float) -> Literal["keep", "pull", "push"]:
    """Whether a rep games a deal's timing: pull it into this month at a discount, push it to the next, or keep.

    Only when ``timing_games`` is on. Pull: the deal would close ``weeks_after_period_end`` (at most
    ``max_pull_in_weeks``) after the current month ends and the rep gains more from booking
    :math:`v (1 - \\delta)` now than :math:`v` then. Push: a deal due this month earns more in the next month
    (for example when this year's cap already binds or next quarter's threshold is closer), even after the
    ``push_risk`` that the deal is lost meanwhile. Both options are valued as in `deal_gain`, except that lump
    sums are discounted from today rather than from the booking month: a year-end bonus is paid on the same day
    whichever month of the year the deal lands in (discounting from the booking month would make every push
    within a plan year look worth it). Commissions are the reference and are not discounted, as everywhere in
    this model, so a game can pay only where a deal changes pay periods (quarter and year ends, or every month
    under a non-recoverable draw); between months of the same periods the answer is always "keep".

    Examples
    --------
    >>> import scenarios
    >>> p = scenarios.PayPlanSettings(commission_rate=0.05)
    >>> inc = prepare(p, np.full(12, 10_000.0), 0.0, scenarios.BehaviourSettings(timing_games=True))
    >>> timing_decision(inc, Position(0, 0.9, np.zeros(12), 2_000.0, 2_000.0), 5_000.0, 1, 1.0)
    'keep'
    """
    b = inc.behaviour
    if not b.enabled or not b.timing_games:
        return "keep"

    def now_value(v: float, month: int) -> float:
        return _gain(inc, pos, v, month, {}, ref=pos.month)

    other = close_month if close_month != pos.month else pos.month + 1  # the month a pull or push would touch
    if _same_pay_periods(inc, pos.month, other):
        return "keep"
    keep = now_value(value, close_month)
    if close_month > pos.month and weeks_after_period_end <= b.max_pull_in_weeks:
        pulled = now_value(value * (1.0 - b.pull_in_discount), pos.month)
        if pulled > keep * 1.0001 and pulled - keep > 1e-9:
            return "pull"
    if close_month == pos.month:
        pushed = now_value(value, pos.month + 1) * (1.0 - b.push_risk)
        if pushed > keep * 1.0001 and pushed - keep > 1e-9:
            return "push"
    return "keep"
