"""What-if changes to a scenario: ``modify`` applies ``path = value`` changes (settings keys, ``*=`` factors,
``reps[...]``/``accounts[...]`` table cells) and checks the result as a whole, like a freshly loaded scenario."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from scenarios.checks import check
from scenarios.deprecations import upgrade_path
from scenarios.errors import Problem, ScenarioError, did_you_mean
from scenarios.scenario import Scenario, settings_problems
from scenarios.settings import Settings

_TABLE_PATH = re.compile(r"^(reps|accounts)(?:\[([^=\]]+)=([^\]]*)\])?\.([A-Za-z_][A-Za-z0-9_]*)(\*?)$")


def _modify_table(scenario: Scenario, path: str, match: re.Match[str], value: Any) -> Scenario:
    """Apply ``reps[tier=junior].hours_per_week = 38`` (set) or ``accounts.annual_potential* = 1.1`` (scale)."""
    table, key, wanted, column, scale = match.groups()
    frame: pd.DataFrame = getattr(scenario, table)
    file = f"{table}.csv"
    if column not in frame.columns or column == frame.index.name:
        raise ScenarioError(Problem(file, f"what-if path '{path}' names no column '{column}'",
                                    did_you_mean(column, frame.columns)
                                    + f"use a column of {file}: {', '.join(map(str, frame.columns))}", column=column))
    rows = np.ones(len(frame), dtype=bool)
    if key is not None:
        if key not in frame.columns:
            raise ScenarioError(Problem(file, f"what-if path '{path}' filters on an unknown column '{key}'",
                                        f"filter on a column of {file}", column=key))
        rows = (frame[key].astype(str) == wanted).to_numpy()
        if not rows.any():
            raise ScenarioError(Problem(file, f"what-if path '{path}' matches no row", f"check the value of {key}",
                                        column=key, value=wanted))
    changed = frame.copy()
    if scale:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ScenarioError(Problem(file, f"what-if path '{path}' scales by a non-number", "give a factor "
                                        "such as 1.1", column=column, value=str(value)))
        changed.loc[rows, column] = changed.loc[rows, column] * float(value)
    else:
        changed.loc[rows, column] = _cell(frame[column], value, path, file, column)
    return scenario.replace(**{table: changed})


def _cell(column: pd.Series, value: Any, path: str, file: str, name: str) -> Any:
    """``value`` as the column's type (a TOML date for a date column, a number for a numeric one), or a
    ``ScenarioError`` that names the column and the kind of value it takes."""
    kind = column.dtype
    try:
        if pd.api.types.is_datetime64_any_dtype(kind):
            return pd.Timestamp(value)
        if pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(value)
            return float(value) if pd.api.types.is_float_dtype(kind) else value
        if pd.api.types.is_string_dtype(kind) and not isinstance(value, str):
            if isinstance(value, dict | list) or value is None:
                raise TypeError(value)
            return str(value).lower() if isinstance(value, bool) else str(value)  # TOML 1001 for id "1001"
    except (TypeError, ValueError):
        wanted = ("a date such as 2027-03-01" if pd.api.types.is_datetime64_any_dtype(kind) else "a number"
                  if pd.api.types.is_numeric_dtype(kind) else "a single value")
        raise ScenarioError(Problem(file, f"what-if path '{path}' sets {name} to {value!r}", f"give {wanted}",
                                    column=name, value=str(value))) from None
    return value


def modify(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` with settings or table values changed by dotted path, re-validated.

    Paths are settings keys (``tiers.junior.hours_per_week``, ``pay_plans.flat_commission.commission_rate``,
    ``calendar.seasonality.11``) or table columns: ``reps.hours_per_week`` sets the column for every rep,
    ``reps[tier=junior].hours_per_week`` for the matching rows only, and a trailing ``*``
    (``accounts.annual_potential*``) multiplies instead of setting. Old names (``plans.…``, ``reps.plan_id``) are
    read as their new ones with a ``ScenarioDeprecationWarning`` (``scenarios.deprecations``).

    Parameters
    ----------
    scenario
        The scenario to start from (unchanged).
    changes
        ``{"budget.total": 2e6, "reps[tier=junior].hours_per_week": 38}``.

    Raises
    ------
    ScenarioError
        When a path does not exist or a new value is invalid.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> modify(s, {"targets.annual": 1.5e6}).settings.targets.annual
    1500000.0
    >>> t = modify(s, {"reps[tier=junior].hours_per_week": 30})
    >>> sorted(t.reps.groupby("tier")["hours_per_week"].first().items())
    [('junior', 30.0), ('mid', 40.0), ('senior', 38.0)]
    """

    data = scenario.settings.model_dump(mode="python")
    result = scenario
    settings_changed = False
    for old_path, value in changes.items():
        path = upgrade_path(old_path, "what-if")
        table_match = _TABLE_PATH.match(path)
        if table_match is not None:
            result = _modify_table(result, path, table_match, value)
            continue
        if path.endswith("*"):
            refused = _multiply_on_setting(data, path, value)
            if refused is not None:
                raise ScenarioError(refused)
            path = path[:-1]  # not a setting either: the check below says so and suggests the near keys
        settings_changed = True
        node: Any = data
        parts = path.split(".")
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and isinstance(node.get(part), dict | list):
                node = node[part]
            else:
                hint = did_you_mean(part, node) if isinstance(node, dict) else ""
                raise ScenarioError(Problem("scenario.toml", f"setting path '{path}' does not exist",
                                            hint + "use a dotted path of existing keys, e.g. "
                                            "tiers.junior.hours_per_week", column=".".join(parts[: i + 1])))
        last = parts[-1]
        if isinstance(node, list) and last.isdigit() and int(last) < len(node):
            node[int(last)] = value
        elif isinstance(node, dict) and (last in node or not _is_model_level(scenario, parts[:-1])):
            node[last] = value
        else:
            hint = did_you_mean(last, node) if isinstance(node, dict) else ""
            raise ScenarioError(Problem("scenario.toml", f"setting path '{path}' does not exist",
                                        hint + "use a dotted path of existing keys", column=path))
    if settings_changed:
        try:
            settings = Settings.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(settings_problems(exc)) from None
        result = result.replace(settings=settings)
    if result is not scenario:
        check(result)
    return result


def _multiply_on_setting(data: dict[str, Any], path: str, factor: Any) -> Problem | None:
    """Why ``path*=factor`` is refused on an existing setting, with the ``=`` that does what was meant; None when
    no setting has that path."""
    plain = path[:-1]
    node: Any = data
    for part in plain.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    fix = (f"'*=' multiplies a table column (e.g. reps[tier=junior].hours_per_week*=1.1 or "
           f"accounts.annual_potential*=0.9); a setting takes its new value: write {plain}=VALUE")
    if isinstance(node, int | float) and not isinstance(node, bool) and isinstance(factor, int | float):
        fix += f" (here {plain}={node * factor:g} multiplies today's {node:g} by {factor:g})"
    return Problem("scenario.toml", f"'{path}=' multiplies, and '{plain}' is a setting, not a table column",
                   fix, column=path)


def _is_model_level(scenario: Scenario, parts: list[str]) -> bool:
    """True when ``parts`` points at a settings model (fixed keys), false for a free-key mapping."""
    node: Any = scenario.settings
    for part in parts:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list):
            node = node[int(part)]
        else:
            node = getattr(node, part, None)
    return not isinstance(node, dict)
