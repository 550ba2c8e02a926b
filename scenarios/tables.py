"""Reading and writing the CSV tables of a scenario, typed by the schema, with errors that name the line.

Files are decoded as ``scenarios.text`` describes (UTF-8 with or without a BOM, UTF-16 with a BOM, or the
encoding the user names) and split with the csv module, so that a ragged row or a stray quote is reported with
its line; values are then converted column by column, vectorised.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.deprecations import upgrade_header
from scenarios.errors import Problem, ScenarioError
from scenarios.schema import Column, columns, id_columns
from scenarios.text import TextFormat, decimal_problem, decode, parse_numbers, read_rows

__all__ = ["ParsedTable", "format_table", "parse_table", "read_table_file"]

_MAX_PER_COLUMN = 5


@dataclass(frozen=True)
class ParsedTable:
    """A table read from CSV: the typed frame (indexed by id) and the file line of each row."""

    frame: pd.DataFrame
    lines: np.ndarray


def _expected_columns(table: str, stage_ids: Sequence[str]) -> tuple[list[Column], dict[str, Column]]:
    """Concrete columns of ``table`` (patterns expanded with the stage ids) and a lookup by name."""
    concrete: list[Column] = []
    by_name: dict[str, Column] = {}
    for col in columns(table):
        if col.is_pattern:
            for stage in stage_ids:
                name = f"{col.prefix}{stage}"
                by_name[name] = col
        else:
            concrete.append(col)
            by_name[col.name] = col
    return concrete, by_name


def parse_table(data: bytes, table: str, file: str, stage_ids: Sequence[str],
                text_format: TextFormat | None = None) -> ParsedTable:
    """Parse one CSV table into a typed DataFrame indexed by its id column(s).

    Parameters
    ----------
    data
        The raw file content.
    table
        Schema table name (``reps``, ``accounts``, ``rep_accounts``).
    file
        File name used in error messages.
    stage_ids
        Funnel stage ids, which name the optional ``skill_<stage>`` columns.
    text_format
        Encoding of a file that is not UTF-8, and the decimal mark (default: UTF-8 and ``.``).

    Raises
    ------
    ScenarioError
        With every problem found (first few per column).

    Examples
    --------
    >>> t = parse_table(b"rep_id,account_id,value\\nr1,a1,3.5\\n", "rep_accounts", "rep_accounts.csv", [])
    >>> float(t.frame.loc[("r1", "a1"), "value"])
    3.5
    """
    fmt = text_format or TextFormat()
    parsed = read_rows(decode(data, file, fmt), file)
    header, rows, lines = parsed.header, parsed.rows, parsed.lines
    if not header or header == [""]:
        raise ScenarioError(Problem(file, "is empty (no header row)",
                                    f"start the file with the header: {','.join(c.name for c in columns(table))}"))
    header = upgrade_header(header, table, file)
    problems: list[Problem] = []
    concrete, by_name = _expected_columns(table, stage_ids)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Problem(file, "the header repeats a column", "keep one column of each name",
                                    line=1, column=name))
        seen.add(name)
        if name not in by_name:
            known = ", ".join(c.name for c in columns(table))
            problems.append(Problem(file, "unknown column", f"remove it or rename it to one of: {known}",
                                    line=1, column=name))
    for col in concrete:
        if col.required and col.name not in seen:
            problems.append(Problem(file, f"required column '{col.name}' is missing",
                                    f"add a '{col.name}' column ({col.description})", line=1))
    if problems:
        raise ScenarioError(problems)
    if not rows:
        raise ScenarioError(Problem(file, "has no data rows", "add at least one row below the header"))

    raw = dict(zip(header, (list(c) for c in zip(*rows, strict=True)), strict=True))
    line_arr = np.asarray(lines, dtype=np.int64)
    data_cols: dict[str, object] = {}
    ordered = [c.name for c in concrete] + [n for n in header if by_name[n].is_pattern]
    decimal_noted: list[Problem] = []
    for name in ordered:
        col = by_name[name]
        cells = raw.get(name)
        if cells is None:
            cells = [""] * len(rows)
        data_cols[name] = _convert(cells, col, name, file, line_arr, problems, fmt.decimal_for(parsed.sep),
                                   parsed.sep, decimal_noted)
    problems[:0] = decimal_noted
    if problems:
        raise ScenarioError(problems)
    frame = pd.DataFrame(data_cols)
    keys = id_columns(table)
    _check_unique(frame, keys, file, line_arr, problems)
    if problems:
        raise ScenarioError(problems)
    frame = frame.set_index(keys if len(keys) > 1 else keys[0])
    return ParsedTable(frame=frame, lines=line_arr)


def _flag(problems: list[Problem], mask: np.ndarray, cells: list[str], lines: np.ndarray, file: str,
          column: str, message: str, fix: str) -> None:
    for pos in np.flatnonzero(mask)[:_MAX_PER_COLUMN]:
        problems.append(Problem(file, message, fix, line=int(lines[pos]), column=column, value=cells[pos]))
    extra = int(mask.sum()) - _MAX_PER_COLUMN
    if extra > 0:
        problems.append(Problem(file, f"{extra} more rows have the same problem", fix, column=column))


def _convert(cells: list[str], col: Column, name: str, file: str, lines: np.ndarray, problems: list[Problem],
             decimal: str = ".", sep: str = ",", decimal_noted: list[Problem] | None = None) -> object:
    stripped = [c.strip() for c in cells]
    arr = np.asarray(stripped, dtype=object)
    empty = arr == ""
    if col.required:
        _flag(problems, empty, stripped, lines, file, name, "value is missing",
              f"fill in '{name}' ({col.description})")
    if col.dtype == "float":
        nums, bad = parse_numbers(stripped, decimal)
        mark, other = decimal_problem(stripped, bad, lines, file, name, sep, decimal)
        if mark is not None and decimal_noted is not None:
            # One message about the decimal mark says more than one per cell; other bad cells are still listed.
            if not decimal_noted:
                decimal_noted.append(mark)
            bad = bad & ~other
        _flag(problems, bad, stripped, lines, file, name, "is not a finite number",
              "write a plain number such as 1250.5 (no units, currency signs, NaN or inf)")
        ok = ~empty & ~bad
        if col.min is not None:
            _flag(problems, ok & (nums < col.min), stripped, lines, file, name, f"is below the minimum {col.min:g}",
                  f"use a value >= {col.min:g}")
        if col.max is not None:
            _flag(problems, ok & (nums > col.max), stripped, lines, file, name, f"is above the maximum {col.max:g}",
                  f"use a value <= {col.max:g}")
        return nums
    if col.dtype == "date":
        dates = pd.to_datetime(pd.Series(arr).where(~empty, None), format="%Y-%m-%d", errors="coerce")
        bad = ~empty & dates.isna().to_numpy()
        _flag(problems, bad, stripped, lines, file, name, "is not a date",
              "write the date as YYYY-MM-DD, e.g. 2025-03-01")
        return dates.to_numpy(dtype="datetime64[ns]")
    if col.dtype == "enum":
        bad = ~empty & ~np.isin(arr, list(col.values))
        _flag(problems, bad, stripped, lines, file, name, "is not an allowed value",
              f"use one of: {', '.join(col.values)}")
    return [None if e else s for s, e in zip(stripped, empty, strict=True)]


def _check_unique(frame: pd.DataFrame, keys: list[str], file: str, lines: np.ndarray,
                  problems: list[Problem]) -> None:
    dup = frame.duplicated(subset=keys, keep="first").to_numpy()
    label = " and ".join(keys)
    cells = [" / ".join(str(v) for v in row) for row in frame[keys].itertuples(index=False)] if dup.any() else []
    _flag(problems, dup, cells, lines, file, label, f"{label} repeats an earlier row",
          "give every row its own id (or merge the duplicate rows)")


def format_table(frame: pd.DataFrame, table: str, stage_ids: Sequence[str]) -> bytes:
    """Render a typed table back to CSV bytes (UTF-8, ``\\n`` line ends, schema column order).

    Floats are written with Python's shortest round-trip form, dates as ``YYYY-MM-DD``, missing values as
    empty cells, so that ``parse_table(format_table(df))`` gives ``df`` back exactly.
    """
    out = frame.reset_index()
    concrete, _ = _expected_columns(table, stage_ids)
    order = [c.name for c in concrete] + [f"{c.prefix}{s}" for c in columns(table) if c.is_pattern
                                         for s in stage_ids if f"{c.prefix}{s}" in out.columns]
    optional_absent = [n for n in order if n not in out.columns]
    for n in optional_absent:
        out[n] = None
    out = out[order]
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n", date_format="%Y-%m-%d")
    return buf.getvalue().encode("utf-8")


def read_table_file(path: Path, table: str, stage_ids: Sequence[str],
                    text_format: TextFormat | None = None) -> ParsedTable:
    """Read and parse one table file, turning I/O failures into ``ScenarioError``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(Problem(path.name, "file not found",
                                    f"create {path.name} in the scenario folder or fix the name in "
                                    "scenario.toml [tables]")) from None
    except OSError as exc:
        raise ScenarioError(Problem(path.name, f"cannot be read ({exc.strerror})",
                                    "check the file's permissions")) from None
    return parse_table(data, table, path.name, stage_ids, text_format)
