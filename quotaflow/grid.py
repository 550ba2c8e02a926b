"""The points of a what-if sweep: a Cartesian grid and/or named variants over any scenario setting (by dotted
path), read from a grid file (`load_grid`) or ``--set`` options, and crossed into `SweepPoint` s (`expand`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scenarios
from quotaflow.errors import GridError
from scenarios.text import TextFormat, decode

__all__ = ["SweepPoint", "expand", "load_grid"]


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: a label and the settings it changes (dotted path → value)."""

    label: str
    changes: dict[str, Any] = field(default_factory=dict)

    def task_id(self, base_fingerprint: str, *, replications: int, seed: int, allocate: bool,
                evaluator: str) -> str:
        """Hash of everything the task's result depends on: resumed runs skip tasks whose id has a file."""
        key = json.dumps({"base": base_fingerprint, "changes": self.changes, "replications": replications,
                          "seed": seed, "allocate": allocate, "evaluator": evaluator},
                         sort_keys=True, default=str)
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def load_grid(path: str | os.PathLike[str], *,
              encoding: str | None = None) -> tuple[dict[str, list[Any]], list[SweepPoint]]:
    """Read a grid file: ``[grid]`` maps dotted paths to lists of values (Cartesian product) and
    ``[[variants]]`` tables have a ``name`` and a ``set`` table of changes.

    Examples of a grid file::

        [grid]
        "tiers.junior.hours_per_week" = [36, 40]
        "budget.total" = [1.0e6, 2.0e6]

        [[variants]]
        name = "more juniors paid more"
        set = { "pay_plans.flat_commission.commission_rate" = 0.07 }
    """
    file = Path(path)
    scenarios.require_regular_file(file)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise GridError(f"grid file {file} not found") from None
    except OSError as exc:
        raise GridError(f"grid file {file} cannot be read ({exc.strerror})") from None
    try:
        raw = tomllib.loads(decode(data, file.name, TextFormat(encoding=encoding)))
    except tomllib.TOMLDecodeError as exc:
        raise GridError(f"{file.name}: not valid TOML ({exc}); fix the syntax") from None
    unknown = set(raw) - {"grid", "variants"}
    if unknown:
        raise GridError(f"{file.name}: unknown section(s) {sorted(unknown)}; use [grid] and [[variants]]")
    grid = raw.get("grid", {})
    if not isinstance(grid, dict):
        raise GridError(f"{file.name}: [grid] must be a table of path = [values]")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise GridError(f"{file.name}: grid.{key} must be a non-empty list of values, e.g. [36, 40]")
    variants = []
    for i, var in enumerate(raw.get("variants", [])):
        if not isinstance(var, dict) or "name" not in var or not isinstance(var.get("set", {}), dict):
            raise GridError(f"{file.name}: variants[{i}] needs name = \"...\" and set = {{ path = value }}")
        extra = set(var) - {"name", "set"}
        if extra:
            raise GridError(f"{file.name}: variants[{i}] has unknown key(s) {sorted(extra)}")
        changes = {scenarios.upgrade_path(k, file.name): v for k, v in var.get("set", {}).items()}
        variants.append(SweepPoint(label=str(var["name"]), changes=changes))
    return {scenarios.upgrade_path(k, file.name): v for k, v in grid.items()}, variants


def expand(grid: dict[str, list[Any]], variants: Sequence[SweepPoint] = ()) -> list[SweepPoint]:
    """All points: the Cartesian product of the grid, crossed with each variant (or alone).

    Examples
    --------
    >>> [p.label for p in expand({"a.b": [1, 2]}, [SweepPoint("v", {"c": 3})])]
    ['v | a.b=1', 'v | a.b=2']
    """
    keys = list(grid)
    combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]
    bases = list(variants) or [SweepPoint(label="")]
    points = []
    for base in bases:
        for combo in combos:
            label = " | ".join(x for x in [base.label, ", ".join(f"{k}={v}" for k, v in combo.items())] if x)
            points.append(SweepPoint(label=label or "base", changes={**base.changes, **combo}))
    return points
