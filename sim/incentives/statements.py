"""Pay statements: one rep's month-by-month statement (`pay_statement`), the whole sales force's (`pay_statements`)
and their per-rep summary.

Nothing here is random and nothing is mutated: the simulator and the behaviour model call these functions freely,
and the statements are hand-checkable.

Examples
--------
>>> import numpy as np, scenarios
>>> from sim.incentives import pay_statement
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
    PayPlanSettings,
)
from sim.incentives.components import PayError, _as_array, _window_cumsum, _windows, annual_base, variable_parts
from sim.incentives.team import contest_awards, team_bonuses

__all__ = [
    "STATEMENT_COLUMNS",
    "monthly_quotas",
    "pay_statement",
    "pay_statements",
    "pay_summary",
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
