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

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

import scenarios
from quotaflow.manifest import write_manifest
from quotaflow.options import DecimalOpt, EncodingOpt, ExcelOpt, ForceOpt, OldPlansOpt, pay_plan_option, scenario_source
from quotaflow.output import claim_output, staged_output
from quotaflow.writer import write_csv
from scenarios.text import decimal_problem, decode, parse_numbers, read_rows
from sim.incentives import STATEMENT_COLUMNS, PayError, pay_statements, pay_summary

__all__ = ["gini", "pay_command", "pay_plan_totals", "read_bookings"]

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


def gini(values: pd.Series) -> float:
    """Gini coefficient of non-negative values (0 = all equal; NaN for an empty or all-zero series).

    Examples
    --------
    >>> gini(pd.Series([1.0, 1.0, 1.0])), gini(pd.Series([0.0, 0.0, 3.0]))
    (0.0, 0.6666666666666666)
    """
    x = np.sort(values.to_numpy(float))
    n, total = len(x), float(x.sum())
    if n == 0 or total <= 0:
        return float("nan")
    return float((2.0 * np.arange(1, n + 1) - n - 1) @ x / (n * total))


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


def pay_command(
    scenario: Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")],
    bookings: Annotated[Path, typer.Option("--bookings", help="CSV: rep_id, period, bookings, quota[, travel_km].")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (written only when the run succeeds).")],
    pay_plans: Annotated[str | None, typer.Option(
        "--pay-plans", help="Comma-separated pay plan ids to put every rep on; default: each rep's own "
                            "pay_plan_id.")] = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
    old_plans: OldPlansOpt = None,
) -> None:
    """Pay statements for given bookings under each pay plan (bookings held fixed: no behavioural response)."""
    given = pay_plan_option(pay_plans, old_plans) or ""
    claim = claim_output(out, force=force, reads=[scenario_source(scenario), bookings])
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    timeline = read_bookings(bookings, s, encoding=encoding, decimal=decimal)
    chosen = [p.strip() for p in given.split(",") if p.strip()] or [OWN_PAY_PLAN]
    unknown = [p for p in chosen if p != OWN_PAY_PLAN and p not in s.settings.pay_plans]
    if unknown:
        raise PayError(f"--pay-plans names unknown pay plan(s) {unknown}; the scenario has "
                       f"{sorted(s.settings.pay_plans)}")
    reps = s.reps[s.reps.index.isin(timeline["rep_id"])]
    periods = s.settings.calendar.periods()
    statements, summaries = [], []
    for pay_plan in chosen:
        on = reps if pay_plan == OWN_PAY_PLAN else reps.assign(pay_plan_id=pay_plan)
        st = pay_statements(timeline, on, s.settings.pay_plans)
        statements.append(st.assign(plan=pay_plan, period=[periods[m] for m in st["month"]]))
        summaries.append(pay_summary(st).reset_index().assign(plan=pay_plan))
    statement = pd.concat(statements, ignore_index=True)[["plan", "rep_id", "plan_id", "period", *STATEMENT_COLUMNS]]
    summary = pd.concat(summaries, ignore_index=True)
    summary = summary[["plan", *[c for c in summary.columns if c != "plan"]]]
    totals = pay_plan_totals(summary)
    with staged_output(claim) as stage:
        write_csv(statement, stage / "statements.csv", excel=excel)
        write_csv(summary, stage / "summary.csv", excel=excel)
        write_csv(totals, stage / "plans.csv", excel=excel)
        write_manifest(stage, scenario=s, extra={"bookings": str(bookings), "plans": chosen})
    show = totals.set_index("plan")[["bookings", "total_pay", "total_cost", "cost_of_sales", "share_at_quota",
                                     "share_capped", "pay_gini"]]
    typer.echo(show.to_string(float_format=lambda v: f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"))
    typer.echo(f"\nwrote {out / 'statements.csv'}, {out / 'summary.csv'}, {out / 'plans.csv'}")
