"""The ``--xlsx`` workbook: every table of a run on its own sheet, built with openpyxl.

Raw values go in (the CSVs round, the workbook formats), each column with a number format (money with thousands
separators and cents, shares as percentages), the header row bold and frozen, and each column as wide as its
longest value (up to a limit). Text is always stored as text: a name starting with ``=`` is not a formula in the
workbook, whatever a spreadsheet would make of it when typed (text cells are never evaluated), and characters XML
cannot hold are dropped. Missing and infinite numbers are empty cells. Sheet names follow Excel's rules (at most
31 characters, no ``[]:*?/\\``, unique).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

__all__ = ["MAX_ROWS", "sheet_name", "workbook_bytes"]

MAX_ROWS = 1_048_576
"""Rows an Excel sheet holds (header included); a longer table gets a sheet that points to its CSV instead."""

_MAX_WIDTH = 50
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unused Excel sheet name for ``name``.

    Examples
    --------
    >>> sheet_name("comparison/reps", set()), sheet_name("reps", {"reps"})
    ('comparison_reps', 'reps 2')
    """
    base = _BAD_SHEET.sub("_", name).strip("'") or "sheet"
    base = base[:31]
    candidate, i = base, 2
    while candidate.lower() in {t.lower() for t in taken}:
        suffix = f" {i}"
        candidate, i = base[:31 - len(suffix)] + suffix, i + 1
    return candidate


def _cell_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    text = str(value)
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def workbook_bytes(sheets: Mapping[str, pd.DataFrame], number_format: Callable[[object, Any], str]) -> bytes:
    """The ``.xlsx`` file of ``sheets`` (sheet name -> table), ``number_format(column, dtype)`` giving each numeric
    column's Excel format."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    taken: set[str] = set()
    bold = Font(bold=True)
    for title, frame in sheets.items():
        name = sheet_name(title, taken)
        taken.add(name)
        sheet = book.create_sheet(name)
        if len(frame) + 1 > MAX_ROWS:
            sheet.append([f"{title} has {len(frame):,} rows, more than an Excel sheet holds; see {title}.csv or "
                          f"{title}.parquet"])
            continue
        columns = [str(c) for c in frame.columns]
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = bold
            cell.data_type = "s"
        formats = [number_format(c, frame[c].dtype) for c in frame.columns]
        widths = [len(c) for c in columns]
        for record in frame.itertuples(index=False, name=None):
            sheet.append([_cell_value(v) for v in record])
        for j, fmt in enumerate(formats, start=1):
            text_column = fmt == "General"
            for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                    widths[j - 1] = max(widths[j - 1], len(cell.value))
                elif cell.value is not None and not text_column:
                    cell.number_format = fmt
                    widths[j - 1] = max(widths[j - 1], len(f"{cell.value:,.2f}") if isinstance(
                        cell.value, float) else len(str(cell.value)))
                elif cell.value is not None:
                    widths[j - 1] = max(widths[j - 1], len(str(cell.value)))
        for j, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(j)].width = min(_MAX_WIDTH, width + 2)
        sheet.freeze_panes = "A2"
    if not sheets:
        book.create_sheet("empty")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
