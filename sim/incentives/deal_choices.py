"""Which deals a rep works first and when a rep books them: the expected extra pay of a deal (`deal_gain`), the
order of open deals by expected value times marginal pay (`deal_scores`, `prioritise`), and the period-end timing
game (`timing_decision`: pull a deal into this pay period or push it into the next).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from sim.incentives.components import PERIOD_MONTHS
from sim.incentives.marginal_pay import _marginal, _next_year
from sim.incentives.position import Incentive, Position, TeamOutlook

__all__ = [
    "deal_gain",
    "deal_scores",
    "prioritise",
    "timing_decision",
]


Array = npt.NDArray[np.float64]


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
    >>> from sim.incentives import Position, prepare
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
    >>> from sim.incentives import Position, prepare
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
    >>> from sim.incentives import Position, prepare
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
                    weeks_after_period_end: float, *, push_risk: float | None = None
                    ) -> Literal["keep", "pull", "push"]:
    """Whether a rep games a deal's timing: pull it into this month at a discount, push it to the next, or keep.

    Only when ``timing_games`` is on. Pull: the deal would close ``weeks_after_period_end`` (at most
    ``max_pull_in_weeks``) after the current month ends and the rep gains more from booking
    :math:`v (1 - \\delta)` now than :math:`v` then. Push: a deal due this month earns more in the next month
    (for example when this year's cap already binds or next quarter's threshold is closer), even after the
    risk that the deal is lost meanwhile: ``push_risk`` (the engine passes the risk of this wait, see
    ``sim.timing``), else ``[behaviour] push_risk``, else 0. Both options are valued as in `deal_gain`, except that lump
    sums are discounted from today rather than from the booking month: a year-end bonus is paid on the same day
    whichever month of the year the deal lands in (discounting from the booking month would make every push
    within a plan year look worth it). Commissions are the reference and are not discounted, as everywhere in
    this model, so a game can pay only where a deal changes pay periods (quarter and year ends, or every month
    under a non-recoverable draw); between months of the same periods the answer is always "keep".

    Examples
    --------
    >>> import scenarios
    >>> from sim.incentives import Position, prepare
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
        risk = push_risk if push_risk is not None else (b.push_risk or 0.0)
        pushed = now_value(value, pos.month + 1) * (1.0 - risk)
        if pushed > keep * 1.0001 and pushed - keep > 1e-9:
            return "push"
    return "keep"
