"""The cleaning report: every cleaning reason, and the rows excluded or repaired under each.

Nothing is dropped silently: each rule of ``calibration.cleaning`` and ``calibration.row_cleaning`` adds a line to
the report (reason, file, action, rows, an example row, column and value). ``--strict`` turns any line into an
error (exit 2) through ``CleaningReport.problems``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from calibration.errors import Problem

__all__ = ["REASONS", "CleaningReport", "ReadInfo"]

REASONS = {
    "malformed_row": "row with more or fewer cells than the header",
    "duplicate_header": "header name repeated in one file; the first copy is used",
    "placeholder_id": "empty or placeholder id",
    "duplicate_id": "deal id seen before in the file; the first row is kept",
    "unknown_stage": "stage not listed in the mapping",
    "unreadable_value": "date, amount or flag that cannot be read; treated as missing",
    "negative_amount": "negative amount; treated as missing",
    "product_spelling": "product matched to the products table ignoring spaces and case",
    "history_unknown_opportunity": "history row of a deal that is not in the opportunities table",
    "same_second_burst": "several stage changes of one deal at the same instant; the last is kept",
    "close_missing_in_history": "closed deal whose history never closes it; closing change added on its close date",
    "no_date": "deal with no usable date; it cannot be placed in time",
    "close_before_create": "deal closed before it was created",
    "after_as_of": "dated after --as-of",
    "stale_open": "open deal older than the longest-lived deal that ever closed",
}
"""Every cleaning reason and what it means (the table in the module docstring says what is done)."""


@dataclass
class CleaningReport:
    """Excluded and repaired rows by reason (one entry per reason, file and action)."""

    entries: list[dict[str, object]] = field(default_factory=list)

    def add(self, reason: str, file: str, action: str, rows: int, *, example_row: int | None = None,
            column: str | None = None, value: object = None) -> None:
        """Record ``rows`` rows of ``file`` excluded or repaired for ``reason`` (nothing when ``rows`` is 0)."""
        if rows <= 0:
            return
        assert reason in REASONS, reason
        self.entries.append({"reason": reason, "file": file, "action": action, "rows": int(rows),
                             "example_row": example_row, "example_column": column,
                             "example_value": None if value is None else str(value), "meaning": REASONS[reason]})

    def frame(self) -> pd.DataFrame:
        """The report as a table (reason, file, action, rows, example_row, example_column, example_value,
        meaning)."""
        cols = ["reason", "file", "action", "rows", "example_row", "example_column", "example_value", "meaning"]
        return pd.DataFrame(self.entries, columns=cols)

    def counts(self) -> dict[str, int]:
        """Rows per reason, over files and actions."""
        out: dict[str, int] = {}
        for e in self.entries:
            out[str(e["reason"])] = out.get(str(e["reason"]), 0) + int(e["rows"])  # type: ignore[call-overload]
        return out

    def problems(self) -> list[Problem]:
        """One problem per entry, for ``--strict``."""
        out = []
        for e in self.entries:
            row = e["example_row"]
            out.append(Problem(str(e["file"]), f"{e['rows']} row(s) {e['action']}: {e['meaning']}",
                               "correct the export, or run without --strict to accept the cleaning report",
                               line=None if row is None else int(row) + 1,  # type: ignore[call-overload]
                               column=None if e["example_column"] is None else str(e["example_column"]),
                               value=None if e["example_value"] is None else str(e["example_value"])))
        return out


@dataclass(frozen=True)
class ReadInfo:
    """How each file was read (for the report and the manifest)."""

    files: dict[str, dict[str, object]]
    notes: list[str]

