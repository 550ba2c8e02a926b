"""The one write path behind every file quotaflow publishes: CSV, JSON, Parquet and text.

Every result object offers ``tables()`` (file stem -> DataFrame) and ``summary()`` (a JSON-ready dict); this
module turns them into files. CSVs go through ``scenarios.write_csv`` (RFC 4180 with ``\\r\\n``, UTF-8 with a
BOM under ``--excel``, the spreadsheet-formula guard, id columns verbatim, atomic rename), in the number format
the result declares (``float_format``: the simulator keeps ``%.10g`` so that runs compare byte for byte whatever
the number of workers); JSON is pretty UTF-8; every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from scenarios import neutralise, write_atomic, write_csv

__all__ = ["Exportable", "neutralise", "write_csv", "write_json", "write_parquet", "write_result", "write_tables",
           "write_text"]


class Exportable(Protocol):
    """A result the writer can publish: its tables by file stem and its headline figures."""

    def tables(self) -> dict[str, pd.DataFrame]:
        ...

    def summary(self) -> dict[str, Any]:
        ...


def write_json(data: Mapping[str, Any], path: Path) -> None:
    """Write ``data`` as pretty UTF-8 JSON (values JSON cannot hold as their ``str``), atomically."""
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


def write_text(text: str, path: Path) -> None:
    """Write ``text`` as UTF-8, atomically (line ends as given)."""
    write_atomic(path, text.encode("utf-8"))


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet (no index) through a temporary file beside ``path`` and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_tables(tables: Mapping[str, pd.DataFrame], folder: Path, *, excel: bool = False,
                 float_format: str | None = None) -> list[str]:
    """Write each table as ``<stem>.csv`` into ``folder`` (created when missing); return the file names.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_tables({"a": pd.DataFrame({"x": [1.5]})}, folder)
    ['a.csv']
    >>> (folder / "a.csv").read_bytes()
    b'x\\r\\n1.5\\r\\n'
    """
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for stem, frame in tables.items():
        write_csv(frame, folder / f"{stem}.csv", excel=excel, float_format=float_format)
        names.append(f"{stem}.csv")
    return names


def write_result(result: Exportable, folder: Path, *, excel: bool = False,
                 summary: str | None = "summary.json") -> list[str]:
    """Publish a result into ``folder``: every table of ``result.tables()`` as CSV (in the number format the
    result declares as ``float_format``, if any) and, unless ``summary`` is None, ``result.summary()`` as that
    JSON file; return the file names in the order written.

    Examples
    --------
    >>> import scenarios, tempfile
    >>> from optimizer import allocate_budget
    >>> write_result(allocate_budget(scenarios.load("tiny")), Path(tempfile.mkdtemp()))
    ['budget.csv', 'budget_channels.csv', 'summary.json']
    """
    names = write_tables(result.tables(), folder, excel=excel, float_format=getattr(result, "float_format", None))
    if summary is not None:
        write_json(result.summary(), folder / summary)
        names.append(summary)
    return names
