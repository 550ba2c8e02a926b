"""Writing output folders safely: everything is staged in a hidden sibling folder and moved into place only
when the whole run succeeded, so a failed or interrupted run never leaves a half-written output; CSVs are
UTF-8 (optionally with a BOM for Excel) with text cells neutralised against formula injection.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from scenarios import write_atomic

__all__ = ["OutputError", "neutralise", "staged_output", "write_csv", "write_json"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class OutputError(OSError):
    """The output folder cannot be used (exists without --force, or is not writable)."""


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with ``'`` (OWASP CSV injection).

    Numbers are left alone, so negative amounts stay numbers.

    Examples
    --------
    >>> neutralise("=HYPERLINK(1)"), neutralise(-3.5), neutralise("Müller")
    ("'=HYPERLINK(1)", -3.5, 'Müller')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: Path, *, excel: bool = False, index: bool = False) -> None:
    """Write ``frame`` as RFC 4180 CSV in UTF-8 (with a BOM when ``excel``), atomically, text cells neutralised."""
    out = frame.reset_index() if index else frame
    safe = out.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(neutralise)
    text = safe.to_csv(index=False, lineterminator="\r\n", date_format="%Y-%m-%d")
    data = text.encode("utf-8-sig" if excel else "utf-8")
    write_atomic(path, data)


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write ``data`` as pretty UTF-8 JSON, atomically."""
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


@contextmanager
def staged_output(target: str | os.PathLike[str], *, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``target``, on any error it is removed.

    Raises
    ------
    OutputError
        When ``target`` exists and is not empty and ``force`` is false, or cannot be created.
    """
    final = Path(target)
    if final.exists() and not force and (not final.is_dir() or any(final.iterdir())):
        raise OutputError(f"output folder {final} already exists and is not empty; choose another --out or "
                          "pass --force to replace it")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
        mask = os.umask(0)
        os.umask(mask)
        stage.chmod(0o777 & ~mask)  # mkdtemp makes 0700; the final folder gets the user's usual mode
    except OSError as exc:
        raise OutputError(f"cannot create output folder {final}: {exc.strerror}") from None
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
        os.replace(stage, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(stage, final)
