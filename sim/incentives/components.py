"""One rep's pay components under a pay plan, month by month: base salary, commission tiers, quota bonuses,
the annual cap, the draw, target variable pay and next year's ratcheted quota.

Pure functions of bookings and quotas per month (months counted from the start of the horizon; the plan year is
months 0-11, 12-23, ...; quarters are three-month blocks of it). A period's lump sum is paid in its last month and
only if that month lies inside the horizon. `sim.incentives.statements` assembles them into pay statements.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from scenarios.incentives import (
    BonusSettings,
    BonusStep,
    CommissionSettings,
    PayPlanSettings,
    RatchetSettings,
)

__all__ = [
    "PERIOD_MONTHS",
    "PayError",
    "annual_base",
    "bonus_amounts",
    "cap_amounts",
    "commission_amounts",
    "cumulative_commission",
    "next_quota",
    "target_variable_pay",
    "uncapped_variable",
    "variable_parts",
]


Array = npt.NDArray[np.float64]

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
"""Length in months of each pay period."""


class PayError(ValueError):
    """Bad input to the pay engine (lengths, negative quotas, unknown pay plan or rep); the message says the fix."""


def _as_array(values: Sequence[float] | Array, name: str, months: int | None = None) -> Array:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise PayError(f"{name} must be one value per month (1-D), got shape {arr.shape}")
    if months is not None and arr.shape[0] != months:
        raise PayError(f"{name} has {arr.shape[0]} months but bookings have {months}; give one value per month")
    if not np.all(np.isfinite(arr)):
        raise PayError(f"{name} holds NaN or infinite values at month(s) {np.flatnonzero(~np.isfinite(arr)).tolist()}")
    return arr


def annual_base(base_salary: float, pay_plan: PayPlanSettings) -> float:
    """The annual base salary under ``pay_plan``: ``base_override`` if set, else reps.csv salary × ``base_multiplier``.

    Examples
    --------
    >>> import scenarios
    >>> annual_base(60_000.0, scenarios.PayPlanSettings(base_multiplier=0.9))
    54000.0
    """
    if pay_plan.base_override is not None:
        return float(pay_plan.base_override)
    return float(base_salary) * pay_plan.base_multiplier


def _windows(months: int, length: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Window id per month for windows of ``length`` months, and whether a month closes a complete window."""
    idx = np.arange(months)
    window = idx // length
    closes = ((idx + 1) % length == 0)
    return window, closes


def _window_cumsum(x: Array, window: npt.NDArray[np.int64]) -> Array:
    """Cumulative sum of ``x`` restarting at each new window (windows are contiguous runs of equal ids)."""
    total = np.cumsum(x)
    starts = np.r_[True, window[1:] != window[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(x.shape[0]), 0))
    return np.asarray(total - (total - x)[first], dtype=float)


def _window_sum(x: Array, window: npt.NDArray[np.int64]) -> Array:
    """Per month, the total of ``x`` over the month's whole window."""
    totals: Array = np.bincount(window, weights=x).astype(float)
    return np.asarray(totals[window], dtype=float)


def cumulative_commission(cumulative: Array | float, thresholds: Array, rates: Array, retroactive: bool) -> Array:
    """Commission owed on cumulative bookings ``x`` of a period, given tier thresholds (currency) and rates.

    ``thresholds`` is ``(K,)`` or one row of K thresholds per value of ``cumulative`` (``(..., K)``).

    Marginal tiers: :math:`C(x) = \\sum_k r_k \\, \\mathrm{clip}(x - T_k, 0, T_{k+1} - T_k)` with
    :math:`T_{K+1} = \\infty`. Retroactive tiers: :math:`C(x) = r_{k(x)} \\, x` where :math:`k(x)` is the highest
    tier with :math:`T_k \\le x`. Negative cumulative bookings (net cancellations) earn nothing.

    Examples
    --------
    >>> float(cumulative_commission(150.0, np.array([0.0, 100.0]), np.array([0.05, 0.10]), False))
    10.0
    >>> float(cumulative_commission(150.0, np.array([0.0, 100.0]), np.array([0.05, 0.10]), True))
    15.0
    """
    x = np.maximum(np.asarray(cumulative, dtype=float), 0.0)
    t = np.asarray(thresholds, dtype=float)
    if retroactive:
        k = np.maximum((x[..., None] >= t).sum(axis=-1) - 1, 0)
        return np.asarray(rates[k] * x, dtype=float)
    upper = np.concatenate([t[..., 1:], np.full((*t.shape[:-1], 1), np.inf)], axis=-1)
    inside = np.clip(x[..., None] - t, 0.0, upper - t)
    return np.asarray((inside * rates).sum(axis=-1), dtype=float)


def commission_amounts(bookings: Array, quotas: Array, commission: CommissionSettings) -> Array:
    """Commission paid each month: the change in `cumulative_commission` over the commission period.

    Thresholds of an ``attainment`` basis are multiplied by the period's total quota (a period cut short by the
    horizon uses the quota of its months inside the horizon).

    Examples
    --------
    >>> import scenarios
    >>> c = scenarios.CommissionSettings(tiers=[{"threshold": 0.0, "rate": 0.05}, {"threshold": 1.0, "rate": 0.1}])
    >>> commission_amounts(np.array([60.0, 60.0]), np.array([50.0, 50.0]), c).tolist()
    [3.0, 4.0]
    """
    window, _ = _windows(bookings.shape[0], PERIOD_MONTHS[commission.period])
    cum = _window_cumsum(bookings, window)
    th = np.array([t.threshold for t in commission.tiers])
    rates = np.array([t.rate for t in commission.tiers])
    if commission.basis == "attainment":
        th = _window_sum(quotas, window)[:, None] * th
    owed = cumulative_commission(cum, th, rates, commission.retroactive)
    prev = np.where(np.r_[True, window[1:] != window[:-1]], 0.0, np.r_[0.0, owed[:-1]])
    return np.asarray(owed - prev, dtype=float)


def _step_value(attainment: float, steps: Sequence[BonusStep], base: float) -> float:
    """Payout of the highest step reached (0 below the first)."""
    value = 0.0
    for s in steps:
        if attainment >= s.attainment - 1e-12:
            value = s.amount + s.share_of_base * base
    return value


def _attainment(booked: float, quota: float) -> float:
    # No quota, no quota-based payout: a rep without a target cannot be "at quota".
    return booked / quota if quota > 0 else 0.0


def bonus_amounts(bookings: Array, quotas: Array, base: float, bonus: BonusSettings) -> Array:
    """Quota bonus paid each month (in the last month of each complete period).

    For ``month``/``quarter``/``year``: payout = step reached by the period's bookings / quota. For
    ``cumulative_quarter``: at the end of quarter :math:`q` (1-4) of a plan year, with year-to-date attainment
    :math:`a_q`, payout = :math:`\\max(0, q \\cdot v(a_q) - P_{q-1})` where :math:`v` is the step value and
    :math:`P_{q-1}` what this bonus paid earlier that year.

    Examples
    --------
    >>> import scenarios
    >>> b = scenarios.BonusSettings(period="quarter", steps=[{"attainment": 1.0, "amount": 1000.0}])
    >>> bonus_amounts(np.full(6, 10.0), np.array([10.0, 10, 10, 20, 20, 20]), 0.0, b).tolist()
    [0.0, 0.0, 1000.0, 0.0, 0.0, 0.0]
    """
    months = bookings.shape[0]
    out = np.zeros(months)
    if bonus.period == "cumulative_quarter":
        year, _ = _windows(months, 12)
        ytd_b = _window_cumsum(bookings, year)
        ytd_q = _window_cumsum(quotas, year)
        paid: dict[int, float] = {}
        for i in range(2, months, 3):
            quarter = int((i % 12) // 3 + 1)
            due = quarter * _step_value(_attainment(float(ytd_b[i]), float(ytd_q[i])), bonus.steps, base)
            pay = max(0.0, due - paid.get(int(year[i]), 0.0))
            paid[int(year[i])] = paid.get(int(year[i]), 0.0) + pay
            out[i] = pay
        return out
    window, closes = _windows(months, PERIOD_MONTHS[bonus.period])
    b_sum = _window_sum(bookings, window)
    q_sum = _window_sum(quotas, window)
    for i in np.flatnonzero(closes).tolist():
        out[i] = _step_value(_attainment(float(b_sum[i]), float(q_sum[i])), bonus.steps, base)
    return out


def uncapped_variable(bookings: Array, quotas: Array, base: float, pay_plan: PayPlanSettings) -> tuple[Array, Array]:
    """Commission and quota bonuses per month before the cap (``base`` is the annual base under the pay plan).

    Examples
    --------
    >>> import scenarios
    >>> flat = scenarios.PayPlanSettings(commission_rate=0.1)
    >>> c, b = uncapped_variable(np.full(3, 10.0), np.full(3, 10.0), 0.0, flat)
    >>> c.tolist(), b.tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    """
    commission = commission_amounts(bookings, quotas, pay_plan.commission_settings())
    bonus = np.zeros_like(bookings)
    for b in pay_plan.bonuses:
        bonus += bonus_amounts(bookings, quotas, base, b)
    return commission, bonus


def target_variable_pay(quotas: Sequence[float] | Array, base_salary: float, pay_plan: PayPlanSettings) -> Array:
    """Commission plus quota bonuses per plan year when bookings equal quota in every month.

    Returns one value per plan year of the horizon (a year cut short counts only what it pays inside it).

    Examples
    --------
    >>> import scenarios
    >>> pay_plan = scenarios.PayPlanSettings(commission_rate=0.05,
    ...     bonuses=[{"period": "year", "steps": [{"attainment": 1.0, "share_of_base": 0.15}]}])
    >>> target_variable_pay(np.full(12, 100_000.0), 60_000.0, pay_plan).tolist()
    [69000.0]
    """
    q = _as_array(quotas, "quotas")
    base = annual_base(base_salary, pay_plan)
    commission, bonus = uncapped_variable(q, q, base, pay_plan)
    year, _ = _windows(q.shape[0], 12)
    return np.asarray(np.bincount(year, weights=commission + bonus), dtype=float)


def _cap_adjustment(variable: Array, cap_per_year: Array) -> Array:
    """Negative adjustment keeping each plan year's cumulative variable pay at or below its cap."""
    year, _ = _windows(variable.shape[0], 12)
    cum = _window_cumsum(variable, year)
    capped = np.minimum(cum, cap_per_year[year])
    prev = np.where(np.r_[True, year[1:] != year[:-1]], 0.0, np.r_[0.0, capped[:-1]])
    return np.asarray((capped - prev) - variable, dtype=float)


def _draw(earned: Array, monthly: float, recoverable: bool, draw_months: int | None) -> tuple[Array, Array, Array]:
    """Top-up, recovery (negative) and outstanding balance per month for a draw.

    In a draw month, earned variable pay below the guarantee ``D`` is topped up to ``D``; with a recoverable
    draw the top-up adds to a balance, repaid from earned pay above ``D`` (above 0 once the draw window ends).
    """
    months = earned.shape[0]
    top_up, recovery, balance = np.zeros(months), np.zeros(months), np.zeros(months)
    owed = 0.0
    for i in range(months):
        in_window = draw_months is None or i < draw_months
        floor = monthly if in_window else 0.0
        if in_window and earned[i] < monthly:
            top_up[i] = monthly - earned[i]
            if recoverable:
                owed += top_up[i]
        elif owed > 0.0:
            recovery[i] = -min(owed, max(0.0, earned[i] - floor))
            owed += recovery[i]
        balance[i] = owed
    return top_up, recovery, balance


def cap_amounts(bookings: Array, quotas: Array, base_salary: float, pay_plan: PayPlanSettings) -> Array:
    """The pay plan's earnings cap per plan year (``cap.amount``, or ``cap.target_multiple`` x target variable pay).

    Examples
    --------
    >>> import scenarios
    >>> pay_plan = scenarios.PayPlanSettings(commission_rate=0.05, cap={"target_multiple": 1.5})
    >>> cap_amounts(np.zeros(12), np.full(12, 10_000.0), 0.0, pay_plan).tolist()
    [9000.0]
    """
    if pay_plan.cap is None:
        raise PayError("cap_amounts: the pay plan has no cap")
    year, _ = _windows(quotas.shape[0], 12)
    if pay_plan.cap.amount is not None:
        return np.full(int(year[-1]) + 1, pay_plan.cap.amount)
    cap: Array = pay_plan.cap.target_multiple * target_variable_pay(quotas, base_salary, pay_plan)  # type: ignore[operator]
    empty = [int(y) for y in np.flatnonzero(cap <= 0) if bookings[year == y].sum() > 0]
    if empty:
        raise PayError(f"cap.target_multiple needs a target: the plan pays nothing at quota in plan year(s) "
                       f"{empty} (zero quota?), so the cap would be 0; give the rep a quota or use cap.amount")
    return cap


def variable_parts(bookings: Array, quotas: Array, base_salary: float, pay_plan: PayPlanSettings,
                   cap_per_year: Array | None = None) -> tuple[Array, Array, Array, Array, Array, Array]:
    """The variable-pay lines of `pay_statement` as plain arrays (no validation, no DataFrame): commission,
    bonus, cap adjustment, draw top-up, draw recovery and draw balance per month. ``cap_per_year`` (from
    `cap_amounts`) skips recomputing the cap when the caller already has it.

    The simulator's month-end pay (``PayPlanPay``) calls this for every seat and month, where building
    a statement frame would dominate the run time; `pay_statement` is built on it, so the two never disagree.

    Examples
    --------
    >>> import scenarios
    >>> pay_plan = scenarios.PayPlanSettings(commission_rate=0.05, cap={"amount": 20_000.0})
    >>> parts = variable_parts(np.full(12, 50_000.0), np.full(12, 40_000.0), 60_000.0, pay_plan)
    >>> float(parts[0].sum()), float(parts[2].sum())
    (30000.0, -10000.0)
    """
    b, q = bookings, quotas
    months = b.shape[0]
    base = annual_base(base_salary, pay_plan)
    commission, bonus = uncapped_variable(b, q, base, pay_plan)
    variable = commission + bonus
    if pay_plan.cap is not None:
        cap = cap_amounts(b, q, base_salary, pay_plan) if cap_per_year is None else cap_per_year
        cap_adj = _cap_adjustment(variable, cap)
    else:
        cap_adj = np.zeros(months)
    earned = variable + cap_adj
    if pay_plan.draw is not None:
        draw = pay_plan.draw
        top_up, recovery, balance = _draw(earned, draw.monthly, draw.recoverable, draw.months)
    else:
        top_up, recovery, balance = np.zeros(months), np.zeros(months), np.zeros(months)
    return commission, bonus, cap_adj, top_up, recovery, balance


def next_quota(quota: float, attainment: float, ratchet: RatchetSettings | None) -> float:
    """Next year's quota under an asymmetric ratchet.

    :math:`Q' = Q \\cdot \\mathrm{clip}(1 + u \\max(0, a-1) - d \\max(0, 1-a), f, c)`; without a ratchet
    :math:`Q' = Q`.

    Examples
    --------
    >>> import scenarios
    >>> r = scenarios.RatchetSettings(up=0.5, down=0.25)
    >>> round(next_quota(100.0, 1.2, r), 6), round(next_quota(100.0, 0.8, r), 6)
    (110.0, 95.0)
    """
    if ratchet is None:
        return float(quota)
    factor = 1.0 + ratchet.up * max(0.0, attainment - 1.0) - ratchet.down * max(0.0, 1.0 - attainment)
    return float(quota * min(max(factor, ratchet.floor), ratchet.ceiling))
