"""Checks of a plan's tables against the scenario it is used with, as strict as the scenario's own tables.

``Plan.load`` runs them on the files of a plan folder (messages name the file line); ``Plan.check`` runs them on
an in-memory plan. A plan that passes covers only accounts and reps of the scenario, carries a quota for every
month each rep is in seat, and spends only on channels, regions and months the scenario has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from scenarios.errors import Problem
from scenarios.scenario import Scenario

__all__ = ["assignment_problems", "budget_problems", "quota_problems", "seated_periods"]

_MAX_LISTED = 5
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _line(lines: np.ndarray | None, pos: int) -> int | None:
    return None if lines is None else int(lines[pos])


def _flag(problems: list[Problem], mask: np.ndarray, values: np.ndarray, lines: np.ndarray | None, file: str,
          column: str, message: str, fix: str) -> None:
    hits = np.flatnonzero(mask)
    if lines is None:  # an in-memory table: one problem per offending value, as there is no line to tell rows apart
        _, first = np.unique(np.asarray([str(values[p]) for p in hits], dtype=object), return_index=True)
        hits = hits[np.sort(first)]
    for pos in hits[:_MAX_LISTED]:
        problems.append(Problem(file, message, fix, line=_line(lines, int(pos)), column=column,
                                value=str(values[pos])))
    if len(hits) > _MAX_LISTED:
        problems.append(Problem(file, f"{len(hits) - _MAX_LISTED} more rows have the same problem", fix,
                                column=column))


def _listing(items: Iterable[str], limit: int = 8) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


def _periods(problems: list[Problem], values: np.ndarray, scenario: Scenario, lines: np.ndarray | None,
             file: str) -> None:
    periods = scenario.settings.calendar.periods()
    text = values.astype(str)
    malformed = np.array([not _MONTH.match(v) for v in text], dtype=bool)
    _flag(problems, malformed, text, lines, file, "period", "is not a month written YYYY-MM",
          f"write the month as {periods[0]} (a spreadsheet may have turned it into a date: format the column as "
          "text)")
    outside = ~malformed & ~pd.Series(text).isin(periods).to_numpy()
    _flag(problems, outside, text, lines, file, "period",
          f"is outside the scenario's horizon {periods[0]}..{periods[-1]}",
          "use months of the scenario's calendar (was the plan made for another scenario?)")


def _amounts(problems: list[Problem], frame: pd.DataFrame, columns: list[str], lines: np.ndarray | None,
             file: str, upper: float | None, cells: Mapping[str, Sequence[str]] | None) -> None:
    for col in columns:
        values = frame[col].to_numpy(dtype=float)
        shown = np.asarray(cells[col] if cells is not None else frame[col], dtype=object)
        finite = np.isfinite(values)
        _flag(problems, np.isnan(values), shown, lines, file, col, "value is missing", "write an amount >= 0")
        _flag(problems, ~finite & ~np.isnan(values), shown, lines, file, col, "is not a finite number",
              "write a plain number")
        _flag(problems, finite & (values < 0), shown, lines, file, col, "is negative", "write an amount >= 0")
        if upper is not None:
            _flag(problems, finite & (values > upper), shown, lines, file, col, f"is above the maximum {upper:g}",
                  f"use a value <= {upper:g} (larger amounts are beyond what the engines compute exactly)")


def _duplicates(problems: list[Problem], frame: pd.DataFrame, keys: list[str], lines: np.ndarray | None,
                file: str, fix: str) -> None:
    dup = frame.duplicated(subset=keys, keep="first").to_numpy()
    shown = np.array([" / ".join(str(v) for v in row) for row in frame[keys].itertuples(index=False)], dtype=object)
    label = " and ".join(keys)
    _flag(problems, dup, shown, lines, file, label, f"{label} repeats an earlier row", fix)


def _refs(problems: list[Problem], values: pd.Series, known: Iterable[str], lines: np.ndarray | None, file: str,
          column: str, what: str) -> None:
    known = list(known)
    bad = values.notna().to_numpy() & ~values.isin(known).to_numpy()
    _flag(problems, bad, values.to_numpy(dtype=object), lines, file, column, f"names an unknown {what}",
          f"use {what} ids of the scenario: {_listing(sorted(known))} (was the plan made for another scenario?)")


def assignment_problems(assignment: pd.Series, scenario: Scenario, lines: np.ndarray | None = None,
                        file: str = "assignments.csv", *, complete: bool = False) -> list[Problem]:
    """Problems of an assignment (index ``account_id``, values ``rep_id``, NaN = uncovered): unknown or repeated
    accounts, unknown reps and, when ``complete``, accounts of the scenario without a row.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> a = s.accounts["current_rep_id"].iloc[1:]
    >>> [str(p) for p in assignment_problems(a, s, complete=True)]  # doctest: +NORMALIZE_WHITESPACE
    ["assignments.csv, column 'account_id': 1 account of the scenario has no row: A000001 (value 'A000001').
    Fix: add a row for every account of the scenario; leave rep_id empty for an account that stays uncovered"]
    """
    problems: list[Problem] = []
    accounts = pd.Series(assignment.index.astype(str), dtype=object)
    _duplicates(problems, pd.DataFrame({"account_id": accounts}), ["account_id"], lines, file,
                "keep one row per account")
    _refs(problems, accounts, scenario.accounts.index, lines, file, "account_id", "account")
    owners = pd.Series(assignment.to_numpy(dtype=object), dtype=object)
    _refs(problems, owners, scenario.reps.index, lines, file, "rep_id", "rep")
    if complete:
        missing = scenario.accounts.index.difference(pd.Index(accounts))
        if len(missing):
            problems.append(Problem(
                file, f"{len(missing)} account{'s' if len(missing) > 1 else ''} of the scenario "
                      f"{'have' if len(missing) > 1 else 'has'} no row: {_listing(map(str, missing))}",
                "add a row for every account of the scenario; leave rep_id empty for an account that stays uncovered",
                column="account_id", value=str(missing[0])))
    return problems


def seated_periods(scenario: Scenario) -> dict[str, list[str]]:
    """Months of the horizon each rep is in seat for at least part of: from the hire month on (reps hired after
    the horizon have none).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> {r: len(p) for r, p in seated_periods(s).items()} == dict.fromkeys(s.reps.index, 12)
    True
    """
    periods = scenario.settings.calendar.periods()
    hired = pd.to_datetime(scenario.reps["hire_date"]).dt.strftime("%Y-%m")
    return {str(rep): [p for p in periods if p >= month] for rep, month in hired.items()}


def quota_problems(quotas: pd.DataFrame, scenario: Scenario, lines: np.ndarray | None = None,
                   file: str = "quotas.csv", *, upper: float | None = None,
                   cells: Mapping[str, Sequence[str]] | None = None) -> list[Problem]:
    """Problems of a quota table (``rep_id, period, product, quota``): unknown reps and products, months outside
    the horizon, negative, non-finite or too large quotas, repeated rows, and reps in seat without a quota for
    some month. ``lines`` (file line per row) and ``cells`` (numbers as written) come from a file."""
    problems: list[Problem] = []
    reps = quotas["rep_id"].astype(str)
    _refs(problems, reps, scenario.reps.index, lines, file, "rep_id", "rep")
    _periods(problems, quotas["period"].to_numpy(dtype=object), scenario, lines, file)
    _refs(problems, quotas["product"].astype(str), scenario.settings.products, lines, file, "product", "product")
    _amounts(problems, quotas, ["quota"], lines, file, upper, cells)
    _duplicates(problems, quotas.assign(rep_id=reps), ["rep_id", "period", "product"], lines, file,
                "keep one row per rep, month and product (add the amounts up)")
    have: dict[str, set[str]] = {}
    for rep, period in zip(reps, quotas["period"].astype(str), strict=True):
        have.setdefault(rep, set()).add(period)
    lacking: list[tuple[str, list[str]]] = []
    for rep, needed in seated_periods(scenario).items():
        gaps = [p for p in needed if p not in have.get(rep, set())]
        if gaps:
            lacking.append((rep, gaps))
    for rep, gaps in lacking[:_MAX_LISTED]:
        what = "has no rows" if rep not in have else f"has no row for {_listing(gaps, 4)}"
        problems.append(Problem(file, f"rep {rep} is in seat during the horizon but {what}",
                                "give every rep in seat a quota row for each month from the hire month on (quota 0 "
                                "where none is due), or leave quotas.csv out so that the simulator derives quotas",
                                column="rep_id", value=rep))
    if len(lacking) > _MAX_LISTED:
        problems.append(Problem(file, f"{len(lacking) - _MAX_LISTED} more reps lack quota rows",
                                "give every rep in seat a quota row for each month", column="rep_id"))
    return problems


def budget_problems(budget: pd.DataFrame, scenario: Scenario, lines: np.ndarray | None = None,
                    file: str = "budget.csv", *, upper: float | None = None,
                    cells: Mapping[str, Sequence[str]] | None = None) -> list[Problem]:
    """Problems of a budget table (``channel, region, period, spend, expected_leads, expected_value``): unknown
    channels and regions, months outside the horizon, negative, non-finite or too large amounts, repeated rows.
    A channel, region and month without a row gets no spend."""
    problems: list[Problem] = []
    _refs(problems, budget["channel"].astype(str), scenario.settings.channels, lines, file, "channel", "channel")
    _refs(problems, budget["region"].astype(str), scenario.regions, lines, file, "region", "region")
    _periods(problems, budget["period"].to_numpy(dtype=object), scenario, lines, file)
    _amounts(problems, budget, ["spend", "expected_leads", "expected_value"], lines, file, upper, cells)
    _duplicates(problems, budget.astype({"channel": str, "region": str, "period": str}),
                ["channel", "region", "period"], lines, file, "keep one row per channel, region and month")
    return problems
