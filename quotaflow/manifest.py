"""The run manifest written into every output folder: what ran, on what, with which seeds and versions, and how
it ended, so that any result can be traced and reproduced.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import scenarios
from quotaflow.output import write_json

__all__ = ["MANIFEST_NAME", "manifest", "write_manifest"]

MANIFEST_NAME = "manifest.json"
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
             status: str = "ok", extra: dict[str, Any] | None = None) -> dict[str, Any]:
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

    Examples
    --------
    >>> m = manifest(command=["quotaflow", "validate", "tiny"], scenario=scenarios.load("tiny"))
    >>> m["scenario"]["name"], len(m["scenario"]["fingerprint"])
    ('tiny', 64)
    """
    record: dict[str, Any] = {
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
    return record


def write_manifest(folder: Path, **kwargs: Any) -> Path:
    """Write ``manifest.json`` into ``folder`` (see ``manifest`` for the arguments)."""
    path = folder / MANIFEST_NAME
    write_json(manifest(**kwargs), path)
    return path
