"""The pay engine: pure functions from bookings and quotas per month to pay statements under a pay plan.

`pay_statement` turns one rep's monthly bookings, monthly quotas and annual base salary into a statement per month
(base, commission, quota bonuses, cap adjustment, draw and its recovery, allowances, non-cash costs, totals and
year-to-date attainment). Components that need everyone's results (team bonus, contests) are computed by
`team_bonuses` and `contest_awards` over all reps, and `pay_statements` assembles the whole sales force. Months
are counted from the start of the horizon; the plan year is months 0-11, 12-23, ...; quarters are three-month
blocks of it. A period's lump sum is paid in its last month and only if that month lies inside the horizon.
Nothing here is random and nothing is mutated: the simulator and the behaviour model call these functions
freely, and the statements are hand-checkable.

Examples
--------
>>> import numpy as np, scenarios
>>> from sim.pay import pay_statement
>>> pay_plan = scenarios.load("tiny").settings.pay_plans["flat_commission"]
>>> st = pay_statement(np.full(12, 50_000.0), np.full(12, 40_000.0), 60_000.0, pay_plan)
>>> float(st["commission"].sum()), float(st["total_pay"].sum())
(30000.0, 90000.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from scenarios.incentives import (
    BonusSettings,
    BonusStep,
    CommissionSettings,
    ContestSettings,
    PayPlanSettings,
    RatchetSettings,
    TeamBonusSettings,
)

__all__ = [
    "PERIOD_MONTHS",
    "STATEMENT_COLUMNS",
    "PayError",
    "annual_base",
    "bonus_amounts",
    "cap_amounts",
    "commission_amounts",
    "contest_awards",
    "cumulative_commission",
    "monthly_quotas",
    "next_quota",
    "pay_statement",
    "pay_statements",
    "pay_summary",
    "target_variable_pay",
    "team_bonuses",
    "uncapped_variable",
    "variable_parts",
    "whole_force_amounts",
]

Array = npt.NDArray[np.float64]

STATEMENT_COLUMNS = [
    "month", "plan_year", "quarter", "bookings", "quota", "ytd_bookings", "ytd_quota", "ytd_attainment",
    "base", "commission", "bonus", "cap_adjustment", "draw", "draw_recovery", "draw_balance", "team_bonus",
    "contest", "allowance", "non_cash_cost", "recognised", "variable", "total_pay", "total_cost",
]
"""Columns of a pay statement, in order. ``variable`` = commission + bonus + cap_adjustment + draw +
draw_recovery + team_bonus + contest; ``total_pay`` = base + variable; ``total_cost`` = total_pay + allowance +
non_cash_cost."""

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

    The simulator's month-end pay (``sim.earnings.PayPlanPay``) calls this for every seat and month, where building
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


def pay_statement(
    bookings: Sequence[float] | Array,
    quotas: Sequence[float] | Array,
    base_salary: float,
    pay_plan: PayPlanSettings,
    *,
    travel_km: Sequence[float] | Array | None = None,
    periods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One rep's pay statement, one row per month, under ``pay_plan`` (team bonus and contests are 0; see
    `pay_statements` for those).

    Order of computation: commission and quota bonuses; the cap trims their year-to-date sum (cap on commission
    plus bonuses per plan year); the draw tops up or recovers against what remains; allowances and non-cash
    costs (recognition at year end, training) are cost lines outside pay.

    Parameters
    ----------
    bookings, quotas
        Bookings and quota per month of the horizon, month 0 first.
    base_salary
        Annual base salary from reps.csv (the pay plan may scale or override it).
    pay_plan
        The pay plan.
    travel_km
        Kilometres travelled per month, for per-km allowances (0 when absent).
    periods
        Month labels (``YYYY-MM``) to use as the index; default ``0..n-1``.

    Returns
    -------
    pandas.DataFrame
        Columns `STATEMENT_COLUMNS`, indexed by ``period``.

    Examples
    --------
    >>> import scenarios
    >>> pay_plan = scenarios.PayPlanSettings(commission_rate=0.05, cap={"amount": 20_000.0})
    >>> st = pay_statement(np.full(12, 50_000.0), np.full(12, 40_000.0), 60_000.0, pay_plan)
    >>> float(st["commission"].sum()), float(st["cap_adjustment"].sum())
    (30000.0, -10000.0)
    """
    b = _as_array(bookings, "bookings")
    months = b.shape[0]
    q = _as_array(quotas, "quotas", months)
    if np.any(q < 0):
        raise PayError(f"quotas must be >= 0; month(s) {np.flatnonzero(q < 0).tolist()} are negative")
    km = np.zeros(months) if travel_km is None else _as_array(travel_km, "travel_km", months)
    if periods is not None and len(periods) != months:
        raise PayError(f"periods has {len(periods)} labels for {months} months")
    base = annual_base(base_salary, pay_plan)
    year, year_end = _windows(months, 12)
    commission, bonus, cap_adj, top_up, recovery, balance = variable_parts(b, q, base_salary, pay_plan)

    allowance = np.zeros(months)
    for a in pay_plan.allowances:
        allowance += a.monthly + a.per_km * km
    ytd_b = _window_cumsum(b, year)
    ytd_q = _window_cumsum(q, year)
    ytd_att = np.divide(ytd_b, ytd_q, out=np.full(months, np.nan), where=ytd_q > 0)
    recognised = np.zeros(months, dtype=bool)
    non_cash = np.zeros(months)
    if pay_plan.recognition is not None:
        recognised = year_end & (np.nan_to_num(ytd_att) >= pay_plan.recognition.attainment - 1e-12)
        non_cash += recognised * pay_plan.recognition.cost
    if pay_plan.training is not None:
        non_cash += pay_plan.training.cost_per_month

    frame = pd.DataFrame({
        "month": np.arange(months),
        "plan_year": year,
        "quarter": (np.arange(months) % 12) // 3 + 1,
        "bookings": b, "quota": q, "ytd_bookings": ytd_b, "ytd_quota": ytd_q, "ytd_attainment": ytd_att,
        "base": np.full(months, base / 12.0),
        "commission": commission, "bonus": bonus, "cap_adjustment": cap_adj,
        "draw": top_up, "draw_recovery": recovery, "draw_balance": balance,
        "team_bonus": np.zeros(months), "contest": np.zeros(months),
        "allowance": allowance, "non_cash_cost": non_cash, "recognised": recognised,
    }, index=pd.Index(list(periods) if periods is not None else np.arange(months), name="period"))
    return _totals(frame)


def _totals(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["variable"] = out[["commission", "bonus", "cap_adjustment", "draw", "draw_recovery", "team_bonus",
                           "contest"]].sum(axis=1)
    out["total_pay"] = out["base"] + out["variable"]
    out["total_cost"] = out["total_pay"] + out["allowance"] + out["non_cash_cost"]
    return out[STATEMENT_COLUMNS]


def _period_attainment(timeline: pd.DataFrame, length: int) -> pd.DataFrame:
    """Per rep and complete period of ``length`` months: bookings, quota and the period's last month."""
    t = timeline.assign(window=timeline["month"] // length)
    g = t.groupby(["rep_id", "window"], sort=True)
    out = g.agg(bookings=("bookings", "sum"), quota=("quota", "sum"), last=("month", "max"), n=("month", "size"))
    return out[out["n"] == length].reset_index()


def team_bonuses(timeline: pd.DataFrame, reps: pd.DataFrame, pay_plans: Mapping[str, PayPlanSettings]) -> pd.Series:
    """Team / region bonus per rep and month.

    Team attainment of a group :math:`G` in a complete period = :math:`\\sum_{r \\in G} B_r / \\sum_{r \\in G}
    Q_r` over all reps of the group (whatever their pay plan); each member on a pay plan with a ``team_bonus``
    receives that pay plan's step value for it (``share_of_base`` applies to the member's own annual base) in the
    period's last month.

    Parameters
    ----------
    timeline
        Columns ``rep_id, month, bookings, quota``.
    reps
        Indexed by rep_id with ``pay_plan_id``, ``base_salary`` and ``region``.
    pay_plans
        Pay plans by id.

    Returns
    -------
    pandas.Series
        Amount indexed by (rep_id, month); zero where nothing is due.
    """
    out = pd.Series(0.0, index=pd.MultiIndex.from_frame(timeline[["rep_id", "month"]]))
    for pay_plan_id, pay_plan in pay_plans.items():
        tb: TeamBonusSettings | None = pay_plan.team_bonus
        if tb is None:
            continue
        members = reps.index[reps["pay_plan_id"] == pay_plan_id]
        base_of: dict[object, float] = {k: float(v) for k, v in reps["base_salary"].items()}
        if len(members) == 0:
            continue
        per = _period_attainment(timeline, PERIOD_MONTHS[tb.period])
        group = reps["region"] if tb.scope == "region" else pd.Series("all", index=reps.index)
        per["group"] = per["rep_id"].map(group)
        team = (per.groupby(["group", "window"])
                .agg(b=("bookings", "sum"), q=("quota", "sum"), last=("last", "max")).reset_index())
        for rep_id in members:
            base = annual_base(base_of[rep_id], pay_plan)
            for row in team[team["group"] == group[rep_id]].itertuples():
                value = _step_value(_attainment(float(row.b), float(row.q)), tb.steps, base)
                if value and (rep_id, int(row.last)) in out.index:
                    out.loc[(rep_id, int(row.last))] += value
    return out


def _contest_prizes(scores: pd.Series, prizes: Sequence[float]) -> pd.Series:
    """Prizes by rank, highest score first; tied reps share the prizes of the ranks they occupy equally."""
    padded = np.r_[np.asarray(prizes, dtype=float), np.zeros(len(scores))]
    first = scores.rank(method="min", ascending=False).astype(int) - 1
    count = scores.map(scores.value_counts())
    return pd.Series([padded[f:f + c].mean() for f, c in zip(first, count, strict=True)], index=scores.index)


def contest_awards(timeline: pd.DataFrame, reps: pd.DataFrame, pay_plans: Mapping[str, PayPlanSettings]) -> pd.Series:
    """Contest prizes per rep and month.

    For each contest of a pay plan and each complete contest period, the eligible reps on that pay plan (period
    attainment at least ``min_attainment``) are ranked by the metric (per region when ``scope = "region"``);
    rank :math:`k` wins ``prizes[k-1]``; :math:`m` reps tied from rank :math:`k` each win the mean of
    ``prizes[k-1 : k-1+m]``. Prizes are paid in the period's last month. Reps with zero metric win nothing.

    Parameters
    ----------
    timeline, reps, pay_plans
        As for `team_bonuses`.

    Returns
    -------
    pandas.Series
        Amount indexed by (rep_id, month).
    """
    won_by: dict[tuple[object, int], float] = {}
    for pay_plan_id, pay_plan in pay_plans.items():
        members = set(reps.index[reps["pay_plan_id"] == pay_plan_id])
        for contest in pay_plan.contests:
            c: ContestSettings = contest
            per = _period_attainment(timeline[timeline["rep_id"].isin(members)], PERIOD_MONTHS[c.period])
            if per.empty:
                continue
            att = per["bookings"] / per["quota"].where(per["quota"] > 0)
            per["score"] = per["bookings"] if c.metric == "bookings" else att
            eligible = per[(att.fillna(0.0) >= c.min_attainment - 1e-12) & (per["score"].fillna(0.0) > 0)]
            eligible = eligible.assign(group=eligible["rep_id"].map(reps["region"]) if c.scope == "region" else "all")
            for _, grp in eligible.groupby(["group", "window"]):
                won = _contest_prizes(grp.set_index("rep_id")["score"], c.prizes)
                last = int(grp["last"].iloc[0])
                for rep_id, amount in won.items():
                    won_by[(rep_id, last)] = won_by.get((rep_id, last), 0.0) + float(amount)
    index = pd.MultiIndex.from_frame(timeline[["rep_id", "month"]])
    return pd.Series([won_by.get(k, 0.0) for k in index], index=index, dtype=float)


def whole_force_amounts(bookings: Array, quotas: Array, base_salary: Array, pay_plans: Sequence[PayPlanSettings],
                        pay_plan_ids: Sequence[str], regions: Sequence[str]) -> Array:
    """Team / region bonuses plus contest prizes per seat and month, from arrays (``seats x months``).

    The array twin of `team_bonuses` + `contest_awards` (same rules, same results; a test holds them equal),
    fast enough to run at every simulated month end. ``base_salary`` is each seat's annual salary (the pay plan's
    base rules are applied); ``pay_plans``, ``pay_plan_ids`` and ``regions`` give each seat's pay plan, its id and
    region.
    Only complete periods inside the months given are paid, so the result is causal.

    Examples
    --------
    >>> import scenarios
    >>> team = scenarios.PayPlanSettings(commission_rate=0.0, team_bonus={"scope": "company", "period": "month",
    ...                               "steps": [{"attainment": 1.0, "amount": 100.0}]})
    >>> whole_force_amounts(np.array([[8.0, 2.0], [4.0, 2.0]]), np.full((2, 2), 5.0), np.zeros(2),
    ...                     [team, team], ["t", "t"], ["N", "S"]).tolist()
    [[100.0, 0.0], [100.0, 0.0]]
    """
    b = np.asarray(bookings, dtype=float)
    q = np.asarray(quotas, dtype=float)
    n, months = b.shape
    out = np.zeros((n, months))
    region_codes = {r: k for k, r in enumerate(dict.fromkeys(regions))}
    region = np.array([region_codes[r] for r in regions], dtype=np.int64)
    by_id: dict[str, tuple[PayPlanSettings, npt.NDArray[np.int64]]] = {}
    for pid in dict.fromkeys(pay_plan_ids):
        members = np.flatnonzero(np.asarray(pay_plan_ids) == pid)
        by_id[pid] = (pay_plans[int(members[0])], members)
    for pay_plan, members in by_id.values():
        base = np.array([annual_base(float(base_salary[r]), pay_plan) for r in members])
        tb = pay_plan.team_bonus
        if tb is not None:
            length = PERIOD_MONTHS[tb.period]
            group = region if tb.scope == "region" else np.zeros(n, dtype=np.int64)
            for w in range(months // length):
                lo, last = w * length, (w + 1) * length - 1
                team_b = np.bincount(group, weights=b[:, lo:last + 1].sum(axis=1))
                team_q = np.bincount(group, weights=q[:, lo:last + 1].sum(axis=1))
                for i, r in enumerate(members.tolist()):
                    g = int(group[r])
                    out[r, last] += _step_value(_attainment(float(team_b[g]), float(team_q[g])), tb.steps, base[i])
        for c in pay_plan.contests:
            length = PERIOD_MONTHS[c.period]
            for w in range(months // length):
                lo, last = w * length, (w + 1) * length - 1
                booked = b[members, lo:last + 1].sum(axis=1)
                quota = q[members, lo:last + 1].sum(axis=1)
                att = np.divide(booked, quota, out=np.full(len(members), np.nan), where=quota > 0)
                score = booked if c.metric == "bookings" else att
                ok = (np.nan_to_num(att, nan=0.0) >= c.min_attainment - 1e-12) & (np.nan_to_num(score, nan=0.0) > 0)
                groups = region[members] if c.scope == "region" else np.zeros(len(members), dtype=np.int64)
                for g in np.unique(groups[ok]).tolist():
                    idx = np.flatnonzero(ok & (groups == g))
                    won = _contest_prizes(pd.Series(score[idx]), c.prizes).to_numpy(dtype=float)
                    out[members[idx], last] += won
    return out


def pay_statements(
    timeline: pd.DataFrame,
    reps: pd.DataFrame,
    pay_plans: Mapping[str, PayPlanSettings],
) -> pd.DataFrame:
    """Pay statements of every rep: `pay_statement` per rep plus team bonuses and contest prizes.

    Parameters
    ----------
    timeline
        Long frame with columns ``rep_id, month, bookings, quota`` (optional ``travel_km``), one row per rep and
        month of the horizon (month 0 = first month).
    reps
        Indexed by rep_id with ``pay_plan_id``, ``base_salary`` and ``region`` (a scenario's ``reps``).
    pay_plans
        Pay plans by id (a scenario's ``settings.pay_plans``).

    Returns
    -------
    pandas.DataFrame
        Columns ``rep_id, plan_id`` (the rep's pay plan; the column name of the ``quotaflow pay`` files) then
        `STATEMENT_COLUMNS`, one row per rep and month.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> tl = pd.DataFrame([(r, m, 30_000.0, 25_000.0) for r in s.reps.index for m in range(12)],
    ...                   columns=["rep_id", "month", "bookings", "quota"])
    >>> st = pay_statements(tl, s.reps, s.settings.pay_plans)
    >>> st.groupby("rep_id")["commission"].sum().round().tolist()
    [18000.0, 18000.0, 18000.0, 18000.0, 18000.0, 18000.0]
    """
    missing = {"rep_id", "month", "bookings", "quota"} - set(timeline.columns)
    if missing:
        raise PayError(f"timeline lacks column(s) {sorted(missing)}; give rep_id, month, bookings, quota per row")
    unknown = sorted(set(timeline["rep_id"]) - set(reps.index))
    if unknown:
        raise PayError(f"timeline names rep(s) not in reps: {unknown[:5]}")
    bad_pay_plans = sorted(set(reps["pay_plan_id"]) - set(pay_plans))
    if bad_pay_plans:
        raise PayError(f"reps use unknown pay plan(s) {bad_pay_plans}; known pay plans: {sorted(pay_plans)}")
    tl = timeline.sort_values(["rep_id", "month"]).reset_index(drop=True)
    months = int(tl["month"].max()) + 1
    counts = tl.groupby("rep_id")["month"].agg(["size", "nunique", "min"])
    bad = counts[(counts["size"] != months) | (counts["nunique"] != months) | (counts["min"] != 0)]
    if not bad.empty:
        raise PayError(f"rep(s) {bad.index[:5].tolist()} lack one row per month 0..{months - 1} in the timeline")
    pay_plan_of = {k: str(v) for k, v in reps["pay_plan_id"].items()}
    base_of = {k: float(v) for k, v in reps["base_salary"].items()}
    parts = []
    for rep_id, rows in tl.groupby("rep_id", sort=True):
        pay_plan_id = pay_plan_of[rep_id]
        km = rows["travel_km"].to_numpy(float) if "travel_km" in rows else None
        st = pay_statement(rows["bookings"].to_numpy(float), rows["quota"].to_numpy(float),
                           base_of[rep_id], pay_plans[pay_plan_id], travel_km=km)
        parts.append(st.reset_index(drop=True).assign(rep_id=rep_id, plan_id=pay_plan_id))
    out = pd.concat(parts, ignore_index=True)
    key = pd.MultiIndex.from_frame(out[["rep_id", "month"]])
    out["team_bonus"] = team_bonuses(tl, reps, pay_plans).reindex(key).to_numpy()
    out["contest"] = contest_awards(tl, reps, pay_plans).reindex(key).to_numpy()
    return pd.concat([out[["rep_id", "plan_id"]], _totals(out)], axis=1)


def monthly_quotas(quotas: pd.DataFrame, periods: Sequence[str], rep_ids: Sequence[str]) -> pd.DataFrame:
    """Quota matrix (rep_id × month index) from a `scenarios.Plan`'s ``quotas`` frame, summed over products.

    Parameters
    ----------
    quotas
        Columns ``rep_id, period, product, quota`` (period ``YYYY-MM``).
    periods
        The horizon's month labels (``settings.calendar.periods()``); month ``i`` is ``periods[i]``.
    rep_ids
        Reps that must have a quota; a rep with no row at all is an error (months without a row are 0).

    Examples
    --------
    >>> q = pd.DataFrame({"rep_id": ["R1", "R1", "R1"], "period": ["2027-01", "2027-01", "2027-02"],
    ...                   "product": ["a", "b", "a"], "quota": [10.0, 5.0, 7.0]})
    >>> monthly_quotas(q, ["2027-01", "2027-02"], ["R1"]).to_dict("index")
    {'R1': {0: 15.0, 1: 7.0}}
    """
    unknown = sorted(set(quotas["period"]) - set(periods))
    if unknown:
        raise PayError(f"quotas name period(s) outside the horizon {unknown[:5]}; horizon is {periods[0]}.."
                       f"{periods[-1]}")
    missing = sorted(set(rep_ids) - set(quotas["rep_id"]))
    if missing:
        raise PayError(f"no quota rows for rep(s) {missing[:5]}; give each rep its quota by period in quotas.csv")
    month_of = {p: i for i, p in enumerate(periods)}
    wide = (quotas.assign(month=quotas["period"].map(month_of))
            .pivot_table(index="rep_id", columns="month", values="quota", aggfunc="sum", fill_value=0.0))
    return wide.reindex(index=list(rep_ids), columns=range(len(periods)), fill_value=0.0).astype(float)


def pay_summary(statements: pd.DataFrame) -> pd.DataFrame:
    """Per rep and plan year: bookings, quota, attainment and the pay components summed from `pay_statements`.

    Also ``cap_bound`` (the cap cut pay that year) and ``pay_per_booking`` (variable / bookings, NaN without
    bookings).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> tl = pd.DataFrame([(r, m, 30_000.0, 25_000.0) for r in s.reps.index for m in range(12)],
    ...                   columns=["rep_id", "month", "bookings", "quota"])
    >>> summary = pay_summary(pay_statements(tl, s.reps, s.settings.pay_plans))
    >>> summary.loc[("R0001", 0), ["attainment", "variable"]].tolist()
    [1.2, 18000.0]
    """
    sums = ["bookings", "quota", "base", "commission", "bonus", "cap_adjustment", "draw", "draw_recovery",
            "team_bonus", "contest", "allowance", "non_cash_cost", "variable", "total_pay", "total_cost"]
    g = statements.groupby(["rep_id", "plan_year"], sort=True)
    out = g[sums].sum()
    out.insert(0, "plan_id", g["plan_id"].first())
    out.insert(3, "attainment", out["bookings"] / out["quota"].where(out["quota"] > 0))
    out["cap_bound"] = g["cap_adjustment"].min() < 0
    out["pay_per_booking"] = out["variable"] / out["bookings"].where(out["bookings"] > 0)
    return out


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
