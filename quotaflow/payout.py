"""``quotaflow pay``: what given bookings (for example last year's) would have paid under each pay plan.

Reads a bookings file (``rep_id, period, bookings, quota`` and optional ``travel_km``, one row per rep and month),
runs the pay engine (`sim.incentives`) with every rep on each requested pay plan (or on their own ``pay_plan_id``), and
writes ``statements.csv`` (per pay plan, rep and month), ``summary.csv`` (per pay plan, rep and plan year),
``plans.csv`` (one row per pay plan: pay, cost, cost of sales, share at quota, share capped, pay dispersion) and
``manifest.json``. In these files the ``plan`` column names the pay plan a run put everyone on (``as_assigned``:
each rep on their own) and ``plan_id`` the pay plan the rep was paid under.
This is the static check commercial tools offer; it holds bookings fixed, so it shows no behavioural response
(the simulator's pay plan comparison does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import scenarios
from quotaflow.metrics import gini
from scenarios.text import decimal_problem, decode, parse_numbers, read_rows
from sim.incentives import STATEMENT_COLUMNS, PayError, pay_statement, pay_statements, pay_summary

__all__ = ["CURVE_ATTAINMENT", "OWN_PAY_PLAN", "PayResult", "designed_pay_curves", "median_quota", "pay_for_bookings",
           "pay_plan_totals", "read_bookings"]

OWN_PAY_PLAN = "as_assigned"
"""The ``plan`` value of a run that pays each rep under their own ``pay_plan_id``."""


def read_bookings(path: Path, scenario: scenarios.Scenario, *, encoding: str | None = None,
                  decimal: str = ".") -> pd.DataFrame:
    """Read a bookings file into the pay engine's timeline (``rep_id, month, bookings, quota[, travel_km]``).

    Raises
    ------
    PayError
        Naming the file, row and column of the first problems and how to fix them.

    Examples
    --------
    >>> import tempfile
    >>> s = scenarios.load("tiny")
    >>> f = Path(tempfile.mkdtemp()) / "b.csv"
    >>> rows = "".join(f"R0001,{p},100.0,90.0\\n" for p in s.settings.calendar.periods())
    >>> _ = f.write_text("rep_id,period,bookings,quota\\n" + rows, encoding="utf-8")
    >>> read_bookings(f, s).iloc[:2].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'rep_id': 'R0001', 'month': 0, 'bookings': 100.0, 'quota': 90.0},
     {'rep_id': 'R0001', 'month': 1, 'bookings': 100.0, 'quota': 90.0}]
    """
    scenarios.require_regular_file(path)
    fmt = scenarios.TextFormat(encoding=encoding, decimal=decimal)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PayError(f"{path}: no such file; give a CSV with rep_id, period, bookings, quota") from None
    except OSError as exc:
        raise PayError(f"{path}: cannot be read ({exc.strerror})") from None
    rows = read_rows(decode(data, path.name, fmt), path.name)
    missing = [c for c in ("rep_id", "period", "bookings", "quota") if c not in rows.header]
    if missing:
        raise PayError(f"{path}: missing column(s) {missing}; the header needs rep_id, period, bookings, quota")
    raw = pd.DataFrame([[cell.strip() for cell in row] for row in rows.rows], columns=rows.header, dtype=object)
    decimal_mark = fmt.decimal_for(rows.sep)
    problems: list[str] = []
    for col in ["bookings", "quota", *(["travel_km"] if "travel_km" in raw.columns else [])]:
        cells = list(raw[col])
        values, bad = parse_numbers(cells, decimal_mark)
        mark, _ = decimal_problem(cells, bad, rows.lines, path.name, col, rows.sep, decimal_mark)
        if mark is not None:
            raise scenarios.ScenarioError(mark)
        bad = raw.index[bad | np.isnan(values) | (values < 0)]
        problems += [f"row {rows.lines[i]}, column {col}: {raw.at[i, col]!r} is not a number >= 0" for i in bad[:3]]
        raw[col] = values
    periods = scenario.settings.calendar.periods()
    month_of = {p: i for i, p in enumerate(periods)}
    bad_period = raw.index[~raw["period"].isin(month_of)]
    problems += [f"row {rows.lines[i]}, column period: {raw.at[i, 'period']!r} is not a month of the horizon "
                 f"({periods[0]}..{periods[-1]}, format YYYY-MM)" for i in bad_period[:3]]
    bad_rep = raw.index[~raw["rep_id"].isin(scenario.reps.index)]
    problems += [f"row {rows.lines[i]}, column rep_id: {raw.at[i, 'rep_id']!r} is not a rep of the scenario"
                 for i in bad_rep[:3]]
    dup = raw.index[raw.duplicated(["rep_id", "period"], keep="first")]
    problems += [f"row {rows.lines[i]}: a second row for rep {raw.at[i, 'rep_id']!r} in {raw.at[i, 'period']!r}; "
                 "one row per rep and month" for i in dup[:3]]
    if problems:
        raise PayError(f"{path}: " + "; ".join(problems))
    raw["month"] = raw["period"].map(month_of).astype(int)
    have = raw.groupby("rep_id")["month"].nunique()
    short = have.index[have != len(periods)]
    if len(short):
        raise PayError(f"{path}: rep(s) {list(short[:5])} lack a row for some of the {len(periods)} months "
                       f"{periods[0]}..{periods[-1]}; give every month (bookings 0 where nothing was booked)")
    cols = ["rep_id", "month", "bookings", "quota", *(["travel_km"] if "travel_km" in raw.columns else [])]
    return raw[cols].sort_values(["rep_id", "month"]).reset_index(drop=True)


def pay_plan_totals(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per pay plan from `sim.incentives.pay_summary` rows tagged with a ``plan`` column.

    Columns: reps, bookings, base, variable, total_pay, total_cost, cost_of_sales (total_cost / bookings),
    share_at_quota (attainment >= 1), share_capped, pay_gini (of each rep's total pay).
    """
    rows = []
    for pay_plan, g in summary.groupby("plan", sort=False):
        per_rep = g.groupby("rep_id")[["bookings", "total_pay"]].sum()
        rows.append({
            "plan": pay_plan, "reps": len(per_rep), "bookings": g["bookings"].sum(), "base": g["base"].sum(),
            "variable": g["variable"].sum(), "total_pay": g["total_pay"].sum(), "total_cost": g["total_cost"].sum(),
            "cost_of_sales": g["total_cost"].sum() / g["bookings"].sum() if g["bookings"].sum() > 0 else np.nan,
            "share_at_quota": float((g["attainment"] >= 1.0).mean()), "share_capped": float(g["cap_bound"].mean()),
            "pay_gini": gini(per_rep["total_pay"]),
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class PayResult:
    """What given bookings pay under each pay plan. In every table ``plan`` names the pay plan a run put everyone
    on (`OWN_PAY_PLAN`: each rep on their own) and ``plan_id`` the pay plan the rep was paid under.

    Parameters
    ----------
    statements
        One row per pay plan, rep and month (``sim.incentives.STATEMENT_COLUMNS``).
    by_year
        One row per pay plan, rep and plan year (``sim.incentives.pay_summary``).
    plans
        One row per pay plan (`pay_plan_totals`).
    info
        The pay plans run.
    """

    statements: pd.DataFrame
    by_year: pd.DataFrame
    plans: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by file stem: ``statements``, ``summary`` (per rep and plan year) and ``plans``."""
        return {"statements": self.statements, "summary": self.by_year, "plans": self.plans}

    def summary(self) -> dict[str, Any]:
        """The pay plans run and each one's totals (NaN as None)."""
        rows = self.plans.set_index("plan").astype(float)
        totals = {str(plan): {k: (None if v != v else float(v)) for k, v in row.items()}
                  for plan, row in rows.iterrows()}
        return {"run": self.info, "plans": totals}


def pay_for_bookings(scenario: scenarios.Scenario, timeline: pd.DataFrame,
                     pay_plans: list[str]) -> PayResult:
    """Pay the bookings of ``timeline`` (from `read_bookings`) with every rep on each of ``pay_plans`` in turn
    (`OWN_PAY_PLAN`: each on their own ``pay_plan_id``).

    Raises
    ------
    PayError
        A pay plan id the scenario does not have.

    Examples
    --------
    >>> import tempfile
    >>> s = scenarios.load("tiny")
    >>> f = Path(tempfile.mkdtemp()) / "b.csv"
    >>> rows = "".join(f"{r},{p},100.0,90.0\\n" for r in s.reps.index for p in s.settings.calendar.periods())
    >>> _ = f.write_text("rep_id,period,bookings,quota\\n" + rows, encoding="utf-8")
    >>> pay_for_bookings(s, read_bookings(f, s), ["flat_commission"]).plans["reps"].tolist()
    [6]
    """
    unknown = [p for p in pay_plans if p != OWN_PAY_PLAN and p not in scenario.settings.pay_plans]
    if unknown:
        hints = "".join(scenarios.did_you_mean(p, scenario.settings.pay_plans) for p in unknown)
        raise PayError(f"--pay-plans names unknown pay plan(s) {unknown}; {hints}the scenario has "
                       f"{sorted(scenario.settings.pay_plans)}")
    reps = scenario.reps[scenario.reps.index.isin(timeline["rep_id"])]
    periods = scenario.settings.calendar.periods()
    statements, summaries = [], []
    for pay_plan in pay_plans:
        on = reps if pay_plan == OWN_PAY_PLAN else reps.assign(pay_plan_id=pay_plan)
        st = pay_statements(timeline, on, scenario.settings.pay_plans)
        statements.append(st.assign(plan=pay_plan, period=[periods[m] for m in st["month"]]))
        summaries.append(pay_summary(st).reset_index().assign(plan=pay_plan))
    statement = pd.concat(statements, ignore_index=True)[["plan", "rep_id", "plan_id", "period", *STATEMENT_COLUMNS]]
    by_year = pd.concat(summaries, ignore_index=True)
    by_year = by_year[["plan", *[c for c in by_year.columns if c != "plan"]]]
    return PayResult(statements=statement, by_year=by_year, plans=pay_plan_totals(by_year),
                     info={"scenario": scenario.name, "plans": list(pay_plans)})


def median_quota(quotas: pd.Series) -> float | None:
    """The median of the positive per-rep quotas (the typical rep a designed pay curve is drawn for), or None when
    no rep has a quota.

    Examples
    --------
    >>> median_quota(pd.Series([0.0, 10.0, 30.0, 20.0])), median_quota(pd.Series([0.0]))
    (20.0, None)
    """
    positive = quotas[quotas > 0]
    return float(positive.median()) if len(positive) else None


CURVE_ATTAINMENT = np.round(np.linspace(0.0, 2.0, 41), 2)
"""Attainment levels of a designed pay curve: 0 to 200 % of quota in steps of 5 points."""


def designed_pay_curves(scenario: scenarios.Scenario, pay_plans: list[str], *, quota: float,
                        base_salary: float | None = None) -> pd.DataFrame:
    """Each pay plan's designed pay curve: what the pay engine (`sim.incentives.pay_statement`) pays one rep with
    ``quota`` over the horizon who books ``attainment`` x quota, for every `CURVE_ATTAINMENT` level.

    The rep books at an even pace (every month ``attainment`` x its quota, the quota spread evenly over the
    horizon's months), so every month, quarter and year ends at the same attainment; bonuses, accelerators and
    caps are those of the plan's terms, not of a simulated path. Team bonuses and contests depend on the other
    reps' results, so they are left out (0). This is the pay plan as designed, free of simulation noise.

    Parameters
    ----------
    scenario
        The scenario whose pay plans and calendar are used.
    pay_plans
        Pay plan ids.
    quota
        The rep's quota over the horizon (e.g. the median rep quota of the plan).
    base_salary
        Annual base salary (default: the median of ``reps.base_salary``).

    Returns
    -------
    pandas.DataFrame
        ``plan, attainment, quota, bookings, base, variable, total_pay`` (money over the horizon).

    Examples
    --------
    >>> s = scenarios.load("tiny")
    >>> c = designed_pay_curves(s, ["flat_commission"], quota=120_000.0)
    >>> rate = s.settings.pay_plans["flat_commission"].commission_rate
    >>> row = c[c["attainment"] == 1.0].iloc[0]
    >>> bool(abs(row["variable"] - rate * 120_000.0) < 1e-6)
    True
    """
    months = len(scenario.settings.calendar.periods())
    base = float(scenario.reps["base_salary"].median()) if base_salary is None else float(base_salary)
    monthly_quota = np.full(months, quota / months)
    rows = []
    for pid in pay_plans:
        terms = scenario.settings.pay_plans[pid]
        for level in CURVE_ATTAINMENT:
            st = pay_statement(monthly_quota * float(level), monthly_quota, base, terms)
            rows.append({"plan": pid, "attainment": float(level), "quota": float(quota),
                         "bookings": float(quota * level), "base": float(st["base"].sum()),
                         "variable": float(st["variable"].sum()), "total_pay": float(st["total_pay"].sum())})
    return pd.DataFrame(rows, columns=["plan", "attainment", "quota", "bookings", "base", "variable", "total_pay"])
