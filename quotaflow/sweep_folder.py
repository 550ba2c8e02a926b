"""What a sweep folder holds and whether a run may write into it: the task files, the record of what the
results depend on (kept in its ``manifest.json``), and the check that a resumed sweep is the same sweep.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from quotaflow.errors import OutputError
from quotaflow.grid import SweepPoint
from quotaflow.manifest import read_manifest

__all__ = ["SWEEP_OWNED", "TASKS_DIR", "TASK_COLUMNS", "prepare_folder", "readable", "sweep_key"]

TASKS_DIR = "tasks"
TASK_COLUMNS = ["point_id", "replication", "metric", "value"]
SWEEP_OWNED = ("tasks/*.parquet", "*.tmp", "plots/*.png")
"""Files quotaflow adds to a sweep folder besides those its manifest lists: task files (also of an interrupted
run), temporary files of an atomic write cut short, and the plots of ``quotaflow report``."""


def readable(path: Path) -> bool:
    """True when ``path`` is a complete task file (a corrupt or partial one is recomputed)."""
    try:
        frame = pd.read_parquet(path)
    except Exception:  # any failure to read means "recompute"
        return False
    return list(frame.columns) == TASK_COLUMNS


def sweep_key(base: str, evaluator: str, replications: int, seed: int, allocate: bool,
               points: Sequence[SweepPoint], ids: Sequence[str]) -> dict[str, Any]:
    """What a sweep folder's results depend on, as its manifest records it (JSON-normalised for comparison)."""
    key = {"scenario_fingerprint": base, "evaluator": evaluator, "replications": replications, "seed": seed,
           "allocate": allocate,
           "points": [{"label": p.label, "changes": p.changes, "task_id": t} for p, t in zip(points, ids, strict=True)]}
    normalised: dict[str, Any] = json.loads(json.dumps(key, default=str, sort_keys=True))
    return normalised


def _key_difference(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """How the sweep recorded in a folder differs from the one asked for now, in a user's words (None: same)."""
    words = {"scenario_fingerprint": "the scenario's content differs (fingerprint {old:.12} there, {new:.12} now)",
             "evaluator": "it was evaluated another way ({old} there, {new} now; e.g. another --incentives mode)",
             "replications": "it ran {old} replications per point, this run asks for {new}",
             "seed": "it ran with --seed {old}, this run has --seed {new}",
             "allocate": "it ran with allocate={old}, this run has allocate={new}"}
    for field_name, text in words.items():
        if old.get(field_name) != new.get(field_name):
            return text.format(old=old.get(field_name), new=new.get(field_name))
    if old.get("points") != new.get("points"):
        before = [p.get("label") for p in old.get("points") or [] if isinstance(p, dict)]
        now = [p["label"] for p in new["points"]]
        gone, added = [x for x in before if x not in now], [x for x in now if x not in before]
        detail = "; ".join(x for x in [f"not in this run: {gone[:3]}" if gone else "",
                                        f"new in this run: {added[:3]}" if added else ""] if x)
        return f"its grid of points differs ({detail or 'same labels, other changes'})"
    return None


def prepare_folder(folder: Path, key: dict[str, Any], resume: bool) -> None:
    """Refuse to write a sweep into a folder that holds anything but the same sweep (when resuming)."""
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return
    if not folder.is_dir():
        raise OutputError(f"sweep output {folder} is a file, not a folder; give a folder path")
    if not resume:
        raise OutputError(f"sweep output folder {folder} is not empty; resume the sweep in it (--resume), or choose "
                          "another folder")
    record = read_manifest(folder)
    if record is None or not isinstance(record.get("sweep"), dict):
        raise OutputError(f"{folder} is not a quotaflow sweep folder (no manifest.json with a sweep record); "
                          "--resume continues only a sweep quotaflow wrote there: choose another --out")
    why = _key_difference(record["sweep"], key)
    if why is not None:
        raise OutputError(f"--resume will not continue the sweep in {folder}: {why}; rerun it as it was, choose "
                          "another --out, or pass --force (without --resume) to replace it")
