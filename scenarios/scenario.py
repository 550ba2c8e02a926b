"""The in-memory scenario: validated settings plus one DataFrame per table, indexed by id.

A ``Scenario`` is treated as read-only; a what-if makes a changed copy (``scenarios.changes.modify``,
``Scenario.replace``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import ValidationError

from scenarios.errors import Problem
from scenarios.settings import Settings

__all__ = ["Scenario", "settings_problems"]


@dataclass(frozen=True, eq=False)
class Scenario:
    """A sales-planning scenario.

    Parameters
    ----------
    settings
        Everything from ``scenario.toml``.
    reps
        One row per rep, indexed by ``rep_id`` (columns as in the schema).
    accounts
        One row per account, indexed by ``account_id``.
    rep_accounts
        Optional pair table indexed by (``rep_id``, ``account_id``).
    source
        Where the scenario was loaded from (a folder or bundled name), for messages and manifests.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> len(s.reps) > 0 and len(s.accounts) > 0
    True
    """

    settings: Settings
    reps: pd.DataFrame
    accounts: pd.DataFrame
    rep_accounts: pd.DataFrame | None = None
    source: str = ""

    @property
    def name(self) -> str:
        """The scenario's name from its settings."""
        return self.settings.name

    @property
    def stage_ids(self) -> list[str]:
        """Funnel stage ids in order."""
        return [s.id for s in self.settings.funnel.stages]

    @property
    def regions(self) -> list[str]:
        """Sorted regions found in reps and accounts."""
        return sorted(set(pd.unique(self.reps["region"])).union(pd.unique(self.accounts["region"])))

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields replaced (tables or settings); the original is untouched."""
        return dataclasses.replace(self, **changes)

    def equals(self, other: Scenario) -> bool:
        """True when settings and every table are equal (values, dtypes, index and column order)."""
        if self.settings != other.settings:
            return False
        if (self.rep_accounts is None) != (other.rep_accounts is None):
            return False
        pairs = [(self.reps, other.reps), (self.accounts, other.accounts)]
        if self.rep_accounts is not None and other.rep_accounts is not None:
            pairs.append((self.rep_accounts, other.rep_accounts))
        return all(a.equals(b) and list(a.columns) == list(b.columns) for a, b in pairs)

    def __repr__(self) -> str:
        s = self.settings
        pairs = "" if self.rep_accounts is None else f", {len(self.rep_accounts)} rep-account pairs"
        tiers = self.reps["tier"].value_counts().reindex(list(s.tiers)).fillna(0).astype(int)
        tier_text = ", ".join(f"{t} {n}" for t, n in tiers.items())
        return (
            f"Scenario {s.name!r} ({self.source or 'in memory'}): {len(self.reps)} reps ({tier_text}), "
            f"{len(self.accounts)} accounts in {len(self.regions)} regions{pairs}; {len(s.products)} products, "
            f"{len(s.funnel.stages)} funnel stages, {len(s.pay_plans)} pay plans, {s.calendar.months} months from "
            f"{s.calendar.start.isoformat()}"
        )


def settings_problems(exc: ValidationError, file: str = "scenario.toml") -> list[Problem]:
    """Turn a pydantic validation error into problems that name the key, the value and the fix."""
    out = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        kind = err["type"]
        value = err.get("input")
        shown = None if isinstance(value, dict | list) or value is None else str(value)
        if kind == "missing":
            fix = f"add '{key}' to {file}"
        elif kind == "extra_forbidden":
            fix = "remove the key or correct its spelling (every key is listed in docs/scenario-format.md)"
        elif kind in {"float_parsing", "float_type", "int_parsing", "int_type", "finite_number",
                      "int_from_float"}:
            fix = "write a finite number (no quotes, no units, no NaN/inf)"
        elif kind in {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}:
            ctx = err.get("ctx", {})
            bound = next((f"{op} {ctx[k]:g}" for k, op in (("le", "<="), ("ge", ">="), ("lt", "<"), ("gt", ">"))
                          if k in ctx and isinstance(ctx[k], int | float)), "within the bound")
            fix = f"use a value {bound} (docs/scenario-format.md, 'Bounds', says why)"
        elif kind.startswith(("greater", "less")):
            fix = "change the value to satisfy the bound"
        else:
            fix = "correct the value as described"
        message = err["msg"].removeprefix("Value error, ")
        out.append(Problem(file, message, fix, column=key, value=shown))
    return out
