"""Consistency checks across a scenario's tables and settings: references, ids and shares.

Column-level checks (types, bounds, required values, duplicates) happen while parsing; these are the ones that
need more than one table. ``check`` on an in-memory scenario also re-runs the column checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from scenarios.errors import Problem, ScenarioError
from scenarios.scenario import Scenario
from scenarios.tables import format_table, parse_table

__all__ = ["check", "pulp_name"]

_PULP_ILLEGAL = re.compile(r"[\-+\[\] >/]")
_MAX_LISTED = 5
# A cell starting with one of these is run as a formula by spreadsheets, so exports escape it; an id the tool
# reads back from its own files (a plan folder) must never need escaping. Control characters break CSV lines.
_FORMULA_START = ("=", "+", "-", "@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def pulp_name(identifier: str) -> str:
    """The name PuLP would give a variable named ``identifier`` (it folds ``-+[] ->/`` to ``_``).

    Examples
    --------
    >>> pulp_name("r-1"), pulp_name("r 1")
    ('r_1', 'r_1')
    """
    return _PULP_ILLEGAL.sub("_", identifier)


def _line(lines: Mapping[str, np.ndarray] | None, table: str, pos: int) -> int:
    if lines is not None and table in lines:
        return int(lines[table][pos])
    return pos + 2


def _refs(problems: list[Problem], values: pd.Series, known: set[str], file: str, table: str, column: str,
          lines: Mapping[str, np.ndarray] | None, fix: str, optional: bool = False) -> None:
    arr = values.to_numpy(dtype=object)
    present = values.notna().to_numpy() if optional else np.ones(len(arr), dtype=bool)
    bad = present & ~values.isin(known).to_numpy()  # hash lookup; np.isin sorts object arrays (slow)
    for pos in np.flatnonzero(bad)[:_MAX_LISTED]:
        problems.append(Problem(file, f"refers to an unknown {column.removesuffix('_id').replace('_', ' ')}", fix,
                                line=_line(lines, table, int(pos)), column=column, value=str(arr[pos])))
    extra = int(bad.sum()) - _MAX_LISTED
    if extra > 0:
        problems.append(Problem(file, f"{extra} more rows refer to unknown values", fix, column=column))


def _pulp_collisions(problems: list[Problem], ids: pd.Index, file: str, column: str) -> None:
    names = pd.Series(ids.astype(str), index=ids.astype(str))
    folded = names.map(pulp_name)
    clash = folded[folded.duplicated(keep=False)]
    for _, group in list(clash.groupby(clash))[:_MAX_LISTED]:
        members = list(group.index)[:4]
        problems.append(Problem(
            file, f"ids {members} become the same name {group.iloc[0]!r} in a solver model",
            "rename one of them so they differ in more than the characters - + [ ] space > /",
            column=column, value=members[0]))


def _unsafe_id(value: str) -> bool:
    return value.startswith(_FORMULA_START) or bool(_CONTROL.search(value))


_ID_FIX = ("rename it so that it does not start with = + - @ and has no tab or line break: spreadsheets run such "
           "a cell as a formula, so exports escape it and a plan folder could not be read back")


def _unsafe_ids(problems: list[Problem], values: pd.Series, file: str, table: str, column: str,
                lines: Mapping[str, np.ndarray] | None) -> None:
    """One problem per offending id (the first row of each, for a column such as region that repeats)."""
    text = values.astype(str).to_numpy(dtype=object)
    seen: set[str] = set()
    flagged = 0
    for pos, value in enumerate(text):
        if value in seen or not _unsafe_id(value):
            continue
        seen.add(value)
        flagged += 1
        if flagged <= _MAX_LISTED:
            problems.append(Problem(file, f"{column} starts with a formula character or holds a control character",
                                    _ID_FIX, line=_line(lines, table, pos), column=column, value=value))
    if flagged > _MAX_LISTED:
        problems.append(Problem(file, f"{flagged - _MAX_LISTED} more values of {column} have the same problem",
                                _ID_FIX, column=column))


def _column_checks(scenario: Scenario) -> None:
    stages = scenario.stage_ids
    tables = {"reps": scenario.reps, "accounts": scenario.accounts}
    if scenario.rep_accounts is not None:
        tables["rep_accounts"] = scenario.rep_accounts
    for table, frame in tables.items():
        parse_table(format_table(frame, table, stages), table, f"{table}.csv", stages)


def check(scenario: Scenario, lines: Mapping[str, np.ndarray] | None = None) -> None:
    """Check a scenario as a whole; raise ``ScenarioError`` listing every problem.

    Parameters
    ----------
    scenario
        The scenario to check.
    lines
        File line of each row per table, when the scenario was just read from files (messages then name the
        real lines). Without it the column checks are re-run on the tables as they would be saved.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> check(s)  # silent when all is well
    >>> bad = s.replace(reps=s.reps.assign(pay_plan_id="no_such_plan"))
    >>> try:
    ...     check(bad)
    ... except ScenarioError as e:
    ...     print(e.problems[0].message)
    refers to an unknown pay plan
    """
    if lines is None:
        _column_checks(scenario)
    st = scenario.settings
    files = st.tables
    reps_file, acc_file = files.reps, files.accounts
    pairs_file = files.rep_accounts or "rep_accounts.csv"
    problems: list[Problem] = []
    reps, accounts = scenario.reps, scenario.accounts
    _refs(problems, reps["tier"], set(st.tiers), reps_file, "reps", "tier", lines,
          f"use a tier defined in scenario.toml [tiers]: {', '.join(st.tiers)}")
    _refs(problems, reps["pay_plan_id"], set(st.pay_plans), reps_file, "reps", "pay_plan_id", lines,
          f"use a pay plan defined in scenario.toml [pay_plans]: {', '.join(st.pay_plans)}")
    rep_ids = set(reps.index)
    _refs(problems, accounts["current_rep_id"], rep_ids, acc_file, "accounts", "current_rep_id", lines,
          f"use a rep_id from {reps_file}, or leave the cell empty", optional=True)
    if scenario.rep_accounts is not None:
        idx = scenario.rep_accounts.index
        _refs(problems, pd.Series(idx.get_level_values("rep_id")), rep_ids, pairs_file, "rep_accounts",
              "rep_id", lines, f"use a rep_id from {reps_file}")
        _refs(problems, pd.Series(idx.get_level_values("account_id")), set(accounts.index), pairs_file,
              "rep_accounts", "account_id", lines, f"use an account_id from {acc_file}")
    _unsafe_ids(problems, pd.Series(reps.index), reps_file, "reps", "rep_id", lines)
    _unsafe_ids(problems, pd.Series(accounts.index), acc_file, "accounts", "account_id", lines)
    _unsafe_ids(problems, reps["region"], reps_file, "reps", "region", lines)
    _unsafe_ids(problems, accounts["region"], acc_file, "accounts", "region", lines)
    for section in ("products", "channels"):
        for key in getattr(st, section):
            if _unsafe_id(key):
                problems.append(Problem("scenario.toml", f"the {section[:-1]} id starts with a formula character or "
                                        "holds a control character", _ID_FIX, column=f"{section}.{key}", value=key))
    _pulp_collisions(problems, reps.index, reps_file, "rep_id")
    _pulp_collisions(problems, accounts.index, acc_file, "account_id")
    regions = set(scenario.regions)
    unknown_regions = sorted(set(st.targets.by_region) - regions)
    if unknown_regions:
        problems.append(Problem("scenario.toml", f"targets.by_region names regions with no reps or accounts: "
                                f"{unknown_regions}", f"use regions from the tables: {sorted(regions)}",
                                column="targets.by_region"))
    unknown_tiers = sorted(set(st.simulation.repeat_orders_per_year) - {"A", "B", "C"})
    if unknown_tiers:
        problems.append(Problem("scenario.toml", f"unknown account tiers {unknown_tiers}",
                                "use account tiers A, B and C", column="simulation.repeat_orders_per_year"))
    ranks = sorted(t.rank for t in st.tiers.values())
    if len(set(ranks)) != len(ranks):
        problems.append(Problem("scenario.toml", "two tiers share a rank", "give each tier its own rank "
                                "(1 = entry level)", column="tiers"))
    for tier_id, tier in st.tiers.items():
        if tier.promotion is not None and st.tiers[tier.promotion.to].rank <= tier.rank:
            problems.append(Problem("scenario.toml", f"tier {tier_id} promotes to {tier.promotion.to}, "
                                    "which is not higher on the ladder", "promote to a tier of higher rank",
                                    column=f"tiers.{tier_id}.promotion.to", value=tier.promotion.to))
    if problems:
        raise ScenarioError(problems)
