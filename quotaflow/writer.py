"""The one write path behind every file quotaflow publishes: CSV, Parquet, the Excel workbook, JSON and text.

Every result object offers ``tables()`` (file stem -> DataFrame) and ``summary()`` (a JSON-ready dict); this
module turns them into files. Each table is published three ways from one labelled frame (`named`: the rep's and
the account's name, tier and region beside their ids, when the scenario has them):

- ``<stem>.csv`` for people: numbers rounded to the precision that means something (`decimals`: money to cents,
  hours to 0.1, shares and everything else to 4 decimals, variances to 6 significant digits), written in plain
  positional notation (never ``1e+06``), missing and infinite values as empty cells; through
  ``scenarios.write_csv`` (RFC 4180 with ``\\r\\n``, UTF-8 with a BOM under ``--excel``, the spreadsheet-formula
  guard, id columns verbatim, atomic rename). Rounding also makes the CSVs byte-identical whatever the number of
  workers (sums of floats in another order differ only in the last bits).
- ``<stem>.parquet`` beside it with the raw, unrounded values (infinities included) for analysis.
- one sheet of the ``--xlsx`` workbook (`write_workbook`): raw values with number formats, header frozen, no cell
  a formula.

JSON is pretty UTF-8; every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

import scenarios
from scenarios import neutralise, write_atomic, write_csv

__all__ = ["Exportable", "decimals", "named", "neutralise", "rounded", "write_bytes", "write_csv", "write_json",
           "write_parquet", "write_result", "write_tables", "write_text", "write_workbook"]

Sheets = MutableMapping[str, pd.DataFrame]
"""Tables collected for the workbook, by sheet name, in the order written."""


class Exportable(Protocol):
    """A result the writer can publish: its tables by file stem and its headline figures."""

    def tables(self) -> dict[str, pd.DataFrame]:
        ...

    def summary(self) -> dict[str, Any]:
        ...


# A column is a share (or another ratio) when its name says so; these words win over the money words below
# (cost_of_sales_share, payout_vs_budget, value_per_lead and p_value are ratios, not amounts).
_RATIO = re.compile(r"share|rate|attainment|vs_budget|_per_|^per_|probability|conversion|utilisation|coverage|"
                    r"deviation|reduction|gini|p_value|marginal|capture|reach|ramp|shadow_price")
_ONE_DECIMAL = re.compile(r"hours|(^|_)km($|_)|(^|_)days($|_)")
_MONEY = re.compile(r"revenue|bookings|margin|pay|cost|profit|quota|spend|value|potential|expected_sales|budget|"
                    r"salary|commission|bonus|discount|amount|price")
_SIGNIFICANT = re.compile(r"^var_")
_PERCENT = re.compile(r"share|rate|attainment|vs_budget|probability|conversion|utilisation|coverage")


def decimals(column: object) -> int | None:
    """Decimals a CSV keeps for a float column, by its name: 2 for money, 1 for hours, km and days, 4 for shares
    and anything else, None for variances (kept to 6 significant digits: their scale depends on the metric).

    Examples
    --------
    >>> [decimals(c) for c in ("revenue", "pay", "capacity_hours", "cost_of_sales_share", "travel_km", "var_paired")]
    [2, 2, 1, 4, 1, None]
    """
    name = str(column).lower()
    if _SIGNIFICANT.search(name):
        return None
    if _RATIO.search(name):
        return 4
    if _ONE_DECIMAL.search(name):
        return 1
    if _MONEY.search(name):
        return 2
    return 4


def _significant(values: pd.Series, digits: int = 6) -> pd.Series:
    # through text: a scale factor 10**k overflows for subnormal values, "%.6g" does not
    out = [float(f"{v:.{digits}g}") if np.isfinite(v) else np.nan for v in values.to_numpy(dtype=float)]
    return pd.Series(out, index=values.index, name=values.name, dtype=float)


def _to_places(values: pd.Series, places: int) -> pd.Series:
    # Python's round() rounds the exact binary value correctly; numpy's scale-round-unscale is off by a unit in
    # the last place kept for large amounts (2814749767107.4453 became .44, a cent short)
    out = [round(v, places) for v in values.to_numpy(dtype=float).tolist()]
    return pd.Series(out, index=values.index, name=values.name, dtype=float)


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a CSV shows it: float columns rounded by `decimals`, infinities as missing (empty cells).

    Examples
    --------
    >>> rounded(pd.DataFrame({"revenue": [1234.5678], "share": [0.123456], "x": [float("inf")]})).to_dict("list")
    {'revenue': [1234.57], 'share': [0.1235], 'x': [nan]}
    """
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            values = out[col].replace([np.inf, -np.inf], np.nan)
            places = decimals(col)
            out[col] = _significant(values) if places is None else _to_places(values, places)
    return out


def _positional(value: object) -> str:
    # repr()'s shortest digits, never in exponent form: a spreadsheet user reads 0.000012, not 1.2e-05
    return np.format_float_positional(float(value), trim="0")  # type: ignore[arg-type]


_LABELS = ("name", "tier", "region")


def named(frame: pd.DataFrame, scenario: scenarios.Scenario | None) -> pd.DataFrame:
    """``frame`` with the readable columns next to its ids: ``rep_name, rep_tier, rep_region`` after ``rep_id``
    and ``account_name, account_tier, account_region`` after ``account_id``, taken from the scenario's reps and
    accounts (empty for an id the scenario does not have, such as a backfilled seat). A column the frame already
    has (a table of reps with its own ``tier``) is not repeated.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> rep = s.reps.index[0]
    >>> named(pd.DataFrame({"rep_id": [rep], "pay": [1.0]}), s).columns.tolist()
    ['rep_id', 'rep_name', 'rep_tier', 'rep_region', 'pay']
    """
    if scenario is None:
        return frame
    out = frame
    for entity, table in (("account", scenario.accounts), ("rep", scenario.reps)):
        key = f"{entity}_id"
        if key not in out.columns:
            continue
        only_entity = sum(c in ("rep_id", "account_id") for c in out.columns) == 1
        wanted = [c for c in _LABELS if c in table.columns and f"{entity}_{c}" not in out.columns
                  and not (only_entity and c in out.columns)]
        if not wanted:
            continue
        lookup = table[wanted].rename(columns={c: f"{entity}_{c}" for c in wanted})
        ids = out[key].astype(str)
        lookup.index = lookup.index.astype(str)
        labels = lookup.reindex(ids.to_numpy())
        labels.index = out.index
        at = out.columns.get_loc(key)
        assert isinstance(at, int)
        out = pd.concat([out.iloc[:, :at + 1], labels, out.iloc[:, at + 1:]], axis=1)
    return out


def write_json(data: Mapping[str, Any], path: Path) -> None:
    """Write ``data`` as pretty UTF-8 JSON (values JSON cannot hold as their ``str``), atomically."""
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


def write_text(text: str, path: Path) -> None:
    """Write ``text`` as UTF-8, atomically (line ends as given)."""
    write_atomic(path, text.encode("utf-8"))


def write_bytes(data: bytes, path: Path) -> None:
    """Write ``data`` (a PNG, a PDF) to ``path``, atomically."""
    write_atomic(path, data)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet (no index) through a temporary file beside ``path`` and a rename; object columns
    that mix types (ids read as numbers in one row and text in another) are stored as text."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        try:
            frame.to_parquet(tmp, index=False)
        except (TypeError, ValueError):  # pyarrow's ArrowTypeError / ArrowInvalid for a mixed object column
            mixed = {c: "string" for c in frame.columns if frame[c].dtype == object}
            frame.astype(mixed).to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_tables(tables: Mapping[str, pd.DataFrame], folder: Path, *, excel: bool = False,
                 scenario: scenarios.Scenario | None = None, parquet: bool = True,
                 sheets: Sheets | None = None) -> list[str]:
    """Write each table as ``<stem>.csv`` (rounded for people) and ``<stem>.parquet`` (raw values) into ``folder``
    (created when missing), with the scenario's names beside the ids (`named`); return the file names. With
    ``sheets``, each labelled table is also added to it for `write_workbook`.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_tables({"a": pd.DataFrame({"x": [1.5], "pay": [1e7 / 3]})}, folder)
    ['a.csv', 'a.parquet']
    >>> (folder / "a.csv").read_bytes()
    b'x,pay\\r\\n1.5,3333333.33\\r\\n'
    """
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for stem, frame in tables.items():
        labelled = named(frame, scenario)
        write_csv(rounded(labelled), folder / f"{stem}.csv", excel=excel, float_format=_positional)
        names.append(f"{stem}.csv")
        if parquet:
            write_parquet(labelled, folder / f"{stem}.parquet")
            names.append(f"{stem}.parquet")
        if sheets is not None:
            sheet = stem if stem not in sheets else f"{folder.name} {stem}"
            sheets[sheet] = labelled
    return names


def write_result(result: Exportable, folder: Path, *, excel: bool = False, summary: str | None = "summary.json",
                 scenario: scenarios.Scenario | None = None, sheets: Sheets | None = None) -> list[str]:
    """Publish a result into ``folder``: every table of ``result.tables()`` by `write_tables` and, unless
    ``summary`` is None, ``result.summary()`` as that JSON file; return the file names in the order written.

    Examples
    --------
    >>> import scenarios, tempfile
    >>> from optimizer import allocate_budget
    >>> write_result(allocate_budget(scenarios.load("tiny")), Path(tempfile.mkdtemp()))
    ['budget.csv', 'budget.parquet', 'budget_channels.csv', 'budget_channels.parquet', 'summary.json']
    """
    names = write_tables(result.tables(), folder, excel=excel, scenario=scenario, sheets=sheets)
    if summary is not None:
        write_json(result.summary(), folder / summary)
        names.append(summary)
    return names


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: Path) -> str:
    """Write ``sheets`` as one Excel workbook (``quotaflow.workbook.workbook_bytes``: a sheet per table, header
    frozen, number formats by `number_format`, no cell a formula) atomically; return its file name."""
    from quotaflow.workbook import workbook_bytes  # openpyxl is imported only by runs that write a workbook

    write_atomic(path, workbook_bytes(sheets, number_format))
    return path.name


def number_format(column: object, dtype: Any) -> str:
    """The Excel number format of a column: ``#,##0.00`` money, ``#,##0.0`` hours, km and days, ``0.00%`` shares,
    ``#,##0`` whole numbers, ``0.0000`` other ratios, ``General`` variances and text.

    Examples
    --------
    >>> number_format("revenue", np.dtype(float)), number_format("win_rate", np.dtype(float))
    ('#,##0.00', '0.00%')
    """
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return "General"
    if pd.api.types.is_integer_dtype(dtype):
        return "0" if str(column) in ("replication", "year", "month") else "#,##0"
    places = decimals(column)
    if places is None:
        return "General"
    name = str(column).lower()
    if places == 4 and _PERCENT.search(name) and "per_" not in name:
        return "0.00%"
    return {2: "#,##0.00", 1: "#,##0.0"}.get(places, "0.0000")
