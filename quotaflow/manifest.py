"""The run manifest written into every output folder: what ran, on what, with which seeds and versions, how it
ended, and which files the run wrote (with their SHA-256), so that any result can be traced and reproduced, and
so that ``--force`` can tell a folder quotaflow wrote (nothing added or edited since) from the user's own files.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import scenarios
from quotaflow.writer import write_json

__all__ = ["MANIFEST_FORMAT", "MANIFEST_NAME", "TOOL", "foreign_files", "list_files", "manifest", "read_manifest",
           "seal", "write_manifest"]

MANIFEST_NAME = "manifest.json"
TOOL = "quotaflow"
"""The ``tool`` key of every manifest: with ``format`` it marks a folder as written by quotaflow."""
MANIFEST_FORMAT = 1
_PACKAGES = ("quotaflow", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "pulp", "highspy", "simpy")


def _versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def manifest(*, command: list[str] | None = None, scenario: scenarios.Scenario | None = None,
             seeds: dict[str, int] | None = None, solver: dict[str, Any] | None = None,
             status: str = "ok", extra: dict[str, Any] | None = None,
             owned: Sequence[str] = ()) -> dict[str, Any]:
    """Build the manifest record.

    Parameters
    ----------
    command
        The command line (defaults to ``sys.argv``).
    scenario
        The scenario run; its name, source and content fingerprint are recorded.
    seeds
        Root seeds used (e.g. ``{"simulation": 7}``).
    solver
        Solver name and options.
    status
        How the run ended (``ok``, ``optimal``, ``feasible``...).
    extra
        Anything else worth keeping (replications, workers...).
    owned
        Glob patterns (relative, ``/``-separated) of files quotaflow may add to the folder later, beyond the
        ``files`` list `seal` records (a sweep's task files, a report's plots).

    Examples
    --------
    >>> m = manifest(command=["quotaflow", "validate", "tiny"], scenario=scenarios.load("tiny"))
    >>> m["scenario"]["name"], len(m["scenario"]["fingerprint"])
    ('tiny', 64)
    """
    record: dict[str, Any] = {
        "tool": TOOL,
        "format": MANIFEST_FORMAT,
        "command": list(sys.argv) if command is None else command,
        "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": _versions(),
        "status": status,
    }
    if scenario is not None:
        record["scenario"] = {"name": scenario.name, "source": scenario.source,
                              "fingerprint": scenarios.fingerprint(scenario)}
    if seeds:
        record["seeds"] = seeds
    if solver:
        record["solver"] = solver
    if extra:
        record.update(extra)
    if owned:
        record["owned"] = list(owned)
    return record


def write_manifest(folder: Path, **kwargs: Any) -> Path:
    """Write ``manifest.json`` into ``folder`` (see ``manifest`` for the arguments)."""
    path = folder / MANIFEST_NAME
    write_json(manifest(**kwargs), path)
    return path


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of ``folder`` when it is one quotaflow wrote (``tool`` and ``format`` keys), else None.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> read_manifest(folder) is None
    True
    >>> _ = write_manifest(folder, command=["quotaflow", "x"])
    >>> read_manifest(folder)["tool"]
    'quotaflow'
    """
    try:
        record = json.loads((folder / MANIFEST_NAME).read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("tool") != TOOL or not isinstance(record.get("format"), int):
        return None
    return record


def list_files(folder: Path) -> list[str]:
    """Every file, link and empty folder under ``folder`` (``/``-separated relative paths, a folder's ending in
    ``/``; sorted), the manifest excepted.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "a").mkdir(); _ = (folder / "a" / "x.csv").write_text("1", encoding="utf-8")
    >>> (folder / "empty").mkdir()
    >>> list_files(folder)
    ['a/x.csv', 'empty/']
    """
    found = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        # a link to a folder is listed, never followed: it is an entry of its own, not a tree quotaflow wrote
        links = [d for d in dirs if (here / d).is_symlink()]
        dirs[:] = [d for d in dirs if d not in links]
        for name in [*files, *links]:
            rel = (here / name).relative_to(folder).as_posix()
            if rel != MANIFEST_NAME:
                found.append(rel)
        if here != folder and not dirs and not files and not links:
            found.append(here.relative_to(folder).as_posix() + "/")
    return sorted(found)


def _digest(path: Path) -> str:
    """SHA-256 of a file's bytes (of a link's target path; empty for an empty folder)."""
    if path.is_symlink():
        return hashlib.sha256(os.readlink(path).encode("utf-8", "surrogateescape")).hexdigest()
    if path.is_dir():
        return ""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def seal(folder: Path, **updates: Any) -> None:
    """Record in ``folder``'s manifest every file it holds now with its SHA-256 (``files``), and any ``updates``
    (e.g. a status).

    Called when a run finishes writing, so that a later ``--force`` can tell the files quotaflow wrote, as it
    wrote them, from files added or edited afterwards. A folder without a quotaflow manifest is left alone.
    """
    record = read_manifest(folder)
    if record is None:
        return
    record.update(updates)
    record["files"] = {rel: _digest(folder / rel) for rel in list_files(folder)}
    write_json(record, folder / MANIFEST_NAME)


def foreign_files(folder: Path, record: dict[str, Any]) -> list[str]:
    """Files under ``folder`` that are not as the run wrote them: neither listed in its manifest (with the same
    SHA-256) nor claimed by an ``owned`` pattern.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("x", encoding="utf-8")
    >>> _ = (folder / "b.csv").write_text("y", encoding="utf-8")
    >>> _ = write_manifest(folder, command=["quotaflow", "x"])
    >>> seal(folder)
    >>> _ = (folder / "notes.txt").write_text("mine", encoding="utf-8")
    >>> _ = (folder / "b.csv").write_text("y, edited", encoding="utf-8")
    >>> foreign_files(folder, read_manifest(folder))
    ['b.csv (changed)', 'notes.txt']
    """
    listed = record.get("files")
    written: dict[str, str] = listed if isinstance(listed, dict) else {}
    patterns = [str(p) for p in record.get("owned") or []]
    out = []
    for rel in list_files(folder):
        if rel in written:
            if _digest(folder / rel) != written[rel]:
                out.append(f"{rel} (changed)")
        elif not any(fnmatch.fnmatchcase(rel, p) for p in patterns):
            out.append(rel)
    return out
