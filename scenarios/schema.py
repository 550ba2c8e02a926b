"""The table schema as data: every CSV column's type, unit, bounds and meaning, read from ``schema.csv``.

One source drives parsing, checks, export column order and the documentation table (``markdown()``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["TABLES", "Column", "columns", "id_columns", "markdown"]

TABLES: tuple[str, ...] = ("reps", "accounts", "rep_accounts")


@dataclass(frozen=True)
class Column:
    """One column of a scenario table.

    Parameters
    ----------
    table, name
        Where it is. A name with ``<stage>`` is a pattern (one column per funnel stage).
    dtype
        ``id``, ``str``, ``enum``, ``float``, ``date`` or ``ref:<target>`` (a reference to a table or a
        settings section).
    unit, description
        For people.
    required
        A value must be present in every row.
    values
        Allowed values of an ``enum``.
    min, max
        Inclusive numeric bounds.
    why
        Why the bounds are where they are (the range the engines compute correctly in; see ``scenarios.limits``).
    """

    table: str
    name: str
    dtype: str
    unit: str
    required: bool
    values: tuple[str, ...]
    min: float | None
    max: float | None
    description: str
    why: str = ""

    @property
    def is_pattern(self) -> bool:
        """True for a family of columns such as ``skill_<stage>``."""
        return "<" in self.name

    @property
    def prefix(self) -> str:
        """For a pattern column, the literal part before ``<``."""
        return self.name.split("<", 1)[0]

    @property
    def ref(self) -> str | None:
        """Target of a reference column (``tiers``, ``pay_plans``, ``reps``, ``accounts``) or None."""
        return self.dtype.split(":", 1)[1] if self.dtype.startswith("ref:") else None


@cache
def _all() -> tuple[Column, ...]:
    text = resources.files("scenarios").joinpath("schema.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        out.append(
            Column(
                table=row["table"],
                name=row["column"],
                dtype=row["dtype"],
                unit=row["unit"],
                required=row["required"] == "yes",
                values=tuple(row["values"].split("|")) if row["values"] else (),
                min=float(row["min"]) if row["min"] else None,
                max=float(row["max"]) if row["max"] else None,
                description=row["description"],
                why=row.get("why") or "",
            )
        )
    return tuple(out)


def columns(table: str) -> tuple[Column, ...]:
    """Columns of ``table`` in file order.

    Examples
    --------
    >>> [c.name for c in columns("rep_accounts")]
    ['rep_id', 'account_id', 'value', 'hours', 'travel_km']
    """
    if table not in TABLES:
        raise KeyError(f"unknown table {table!r}; tables are {TABLES}")
    return tuple(c for c in _all() if c.table == table)


def id_columns(table: str) -> list[str]:
    """Key columns of ``table``: its ``<entity>_id`` column, or the pair for ``rep_accounts``.

    Examples
    --------
    >>> id_columns("accounts"), id_columns("rep_accounts")
    (['account_id'], ['rep_id', 'account_id'])
    """
    if table == "rep_accounts":
        return ["rep_id", "account_id"]
    return [c.name for c in columns(table) if c.dtype == "id"]


def markdown() -> str:
    """The schema as Markdown tables, one per CSV table (the documentation is generated from this)."""
    parts = []
    for table in TABLES:
        parts.append(f"### `{table}.csv`\n")
        parts.append("| column | type | unit | required | allowed | description |")
        parts.append("|---|---|---|---|---|---|")
        for c in columns(table):
            allowed = " / ".join(c.values)
            if c.min is not None or c.max is not None:
                lo = "" if c.min is None else f"{c.min:g}"
                hi = "" if c.max is None else f"{c.max:g}"
                allowed = f"[{lo}, {hi}]"
            parts.append(
                f"| `{c.name}` | {c.dtype} | {c.unit} | {'yes' if c.required else 'no'} | {allowed} | "
                f"{c.description} |"
            )
        parts.append("")
        reasons = [c for c in columns(table) if c.why]
        if reasons:
            parts.append("Why the bounds are where they are:\n")
            parts.extend(f"- `{c.name}`: {c.why}." for c in reasons)
            parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover - prints the docs table: python -m scenarios.schema
    print(markdown())
