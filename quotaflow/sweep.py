"""Batch what-if sweeps: a Cartesian grid and/or named variants over any scenario setting (by dotted path),
each point evaluated (re-allocated when asked, then simulated) as one task on a local process pool or a Dask
cluster, with one Parquet file per task written atomically so that an interrupted sweep resumes where it
stopped and memory stays bounded.

Results do not depend on the executor or the number of workers: every task is a pure function of its inputs
(the changed scenario, the replications and the root seed), and every point uses the same root seed, so points
are compared on common random numbers.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import itertools
import json
import os
import sys
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

import scenarios
from quotaflow.manifest import read_manifest, seal, write_manifest
from quotaflow.output import OutputError
from quotaflow.writer import write_csv
from scenarios.text import TextFormat, decode
from sim import mean_ci

__all__ = [
    "SWEEP_OWNED",
    "Evaluator",
    "GridError",
    "MissingExtraError",
    "SweepPoint",
    "SweepResult",
    "apply_sets",
    "expand",
    "load_grid",
    "parse_set",
    "require_dask",
    "summarise",
    "sweep",
]

TASKS_DIR = "tasks"
_TASK_COLUMNS = ["point_id", "replication", "metric", "value"]
SWEEP_OWNED = ("tasks/*.parquet", "*.tmp", "plots/*.png")
"""Files quotaflow adds to a sweep folder besides those its manifest lists: task files (also of an interrupted
run), temporary files of an atomic write cut short, and the plots of ``quotaflow report``."""


class GridError(ValueError):
    """A grid file or ``--set`` option that cannot be used; the message says where and how to fix it."""


class MissingExtraError(RuntimeError):
    """An option needs an optional extra that is not installed; the message names the ``pip install``."""


def require_dask(option: str = "--dask-local") -> None:
    """Raise `MissingExtraError` naming the extra to install unless Dask's ``distributed`` can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise MissingExtraError(f"{option} needs Dask, which is not installed here; install the cluster extra: "
                                "pip install 'quotaflow[cluster]'") from None


class Evaluator(Protocol):
    """What a sweep runs at each point: returns one row per replication and metric.

    Must be a module-level function (it is pickled to worker processes) and deterministic in its arguments.
    """

    def __call__(self, scenario: scenarios.Scenario, *, replications: int, seed: int,
                 allocate: bool) -> pd.DataFrame:  # columns: replication, metric, value
        ...


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: a label and the settings it changes (dotted path → value)."""

    label: str
    changes: dict[str, Any] = field(default_factory=dict)

    def task_id(self, base_fingerprint: str, *, replications: int, seed: int, allocate: bool,
                evaluator: str) -> str:
        """Hash of everything the task's result depends on: resumed runs skip tasks whose id has a file."""
        key = json.dumps({"base": base_fingerprint, "changes": self.changes, "replications": replications,
                          "seed": seed, "allocate": allocate, "evaluator": evaluator},
                         sort_keys=True, default=str)
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def _parse_value(text: str, where: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        # A bare word is taken as a string (e.g. --set optimizer.solver=highs,cbc).
        if text and all(ch.isalnum() or ch in "_-." for ch in text):
            return text
        raise GridError(f"{where}: cannot read the value {text!r}; write numbers as 38 or 0.5, booleans as "
                        "true/false, strings as plain words or in double quotes") from None


def apply_sets(scenario: scenarios.Scenario, options: Sequence[str]) -> tuple[scenarios.Scenario, dict[str, Any]]:
    """The scenario with ``--set path=value`` options applied (one value each; several values are a sweep).

    Examples
    --------
    >>> import scenarios
    >>> s, changes = apply_sets(scenarios.load("tiny"), ["behaviour.timing_games=true"])
    >>> s.settings.behaviour.timing_games, changes
    (True, {'behaviour.timing_games': True})
    """
    changes: dict[str, Any] = {}
    for option in options:
        path, values = parse_set(option)
        if len(values) != 1:
            raise GridError(f"--set {path}: give one value here; to run several, use quotaflow sweep")
        changes[path] = values[0]
    return (scenarios.modify(scenario, changes) if changes else scenario), changes


def parse_set(option: str) -> tuple[str, list[Any]]:
    """Parse ``--set path=v1,v2,...`` into the path and its values (TOML scalars).

    Examples
    --------
    >>> parse_set("tiers.junior.hours_per_week=36,38,40")
    ('tiers.junior.hours_per_week', [36, 38, 40])
    >>> parse_set("optimizer.solver=highs,cbc")
    ('optimizer.solver', ['highs', 'cbc'])
    >>> parse_set("reps[tier=junior].hours_per_week=36,40")
    ('reps[tier=junior].hours_per_week', [36, 40])
    """
    depth, cut = 0, -1
    for i, ch in enumerate(option):  # the first '=' outside [filter] brackets separates path and values
        depth += (ch == "[") - (ch == "]")
        if ch == "=" and depth == 0:
            cut = i
            break
    path, values = (option[:cut].strip(), option[cut + 1:]) if cut >= 0 else ("", "")
    if not path or not values.strip():
        raise GridError(f"--set {option!r}: write it as path=value1,value2 (e.g. budget.total=1e6,2e6)")
    path = scenarios.upgrade_path(path, "--set")
    return path, [_parse_value(v.strip(), f"--set {path}") for v in values.split(",")]


def load_grid(path: str | os.PathLike[str], *,
              encoding: str | None = None) -> tuple[dict[str, list[Any]], list[SweepPoint]]:
    """Read a grid file: ``[grid]`` maps dotted paths to lists of values (Cartesian product) and
    ``[[variants]]`` tables have a ``name`` and a ``set`` table of changes.

    Examples of a grid file::

        [grid]
        "tiers.junior.hours_per_week" = [36, 40]
        "budget.total" = [1.0e6, 2.0e6]

        [[variants]]
        name = "more juniors paid more"
        set = { "pay_plans.flat_commission.commission_rate" = 0.07 }
    """
    file = Path(path)
    scenarios.require_regular_file(file)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise GridError(f"grid file {file} not found") from None
    except OSError as exc:
        raise GridError(f"grid file {file} cannot be read ({exc.strerror})") from None
    try:
        raw = tomllib.loads(decode(data, file.name, TextFormat(encoding=encoding)))
    except tomllib.TOMLDecodeError as exc:
        raise GridError(f"{file.name}: not valid TOML ({exc}); fix the syntax") from None
    unknown = set(raw) - {"grid", "variants"}
    if unknown:
        raise GridError(f"{file.name}: unknown section(s) {sorted(unknown)}; use [grid] and [[variants]]")
    grid = raw.get("grid", {})
    if not isinstance(grid, dict):
        raise GridError(f"{file.name}: [grid] must be a table of path = [values]")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise GridError(f"{file.name}: grid.{key} must be a non-empty list of values, e.g. [36, 40]")
    variants = []
    for i, var in enumerate(raw.get("variants", [])):
        if not isinstance(var, dict) or "name" not in var or not isinstance(var.get("set", {}), dict):
            raise GridError(f"{file.name}: variants[{i}] needs name = \"...\" and set = {{ path = value }}")
        extra = set(var) - {"name", "set"}
        if extra:
            raise GridError(f"{file.name}: variants[{i}] has unknown key(s) {sorted(extra)}")
        changes = {scenarios.upgrade_path(k, file.name): v for k, v in var.get("set", {}).items()}
        variants.append(SweepPoint(label=str(var["name"]), changes=changes))
    return {scenarios.upgrade_path(k, file.name): v for k, v in grid.items()}, variants


def expand(grid: dict[str, list[Any]], variants: Sequence[SweepPoint] = ()) -> list[SweepPoint]:
    """All points: the Cartesian product of the grid, crossed with each variant (or alone).

    Examples
    --------
    >>> [p.label for p in expand({"a.b": [1, 2]}, [SweepPoint("v", {"c": 3})])]
    ['v | a.b=1', 'v | a.b=2']
    """
    keys = list(grid)
    combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]
    bases = list(variants) or [SweepPoint(label="")]
    points = []
    for base in bases:
        for combo in combos:
            label = " | ".join(x for x in [base.label, ", ".join(f"{k}={v}" for k, v in combo.items())] if x)
            points.append(SweepPoint(label=label or "base", changes={**base.changes, **combo}))
    return points


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _run_task(evaluate: Evaluator, scenario: scenarios.Scenario, changes: dict[str, Any], point_id: str,
              replications: int, seed: int, allocate: bool, out_file: str) -> str:
    """Worker side: build the point's scenario, evaluate it, write its Parquet file; returns the file."""
    point = scenarios.modify(scenario, changes) if changes else scenario
    frame = evaluate(point, replications=replications, seed=seed, allocate=allocate)
    missing = {"replication", "metric", "value"} - set(frame.columns)
    if missing:
        raise TypeError(f"evaluator returned no {sorted(missing)} column(s)")
    frame = frame.assign(point_id=point_id)[_TASK_COLUMNS]
    _atomic_parquet(frame, Path(out_file))
    return out_file


def _readable(path: Path) -> bool:
    """True when ``path`` is a complete task file (a corrupt or partial one is recomputed)."""
    try:
        frame = pd.read_parquet(path)
    except Exception:  # any failure to read means "recompute"
        return False
    return list(frame.columns) == _TASK_COLUMNS


def summarise(frame: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t-based confidence interval over replications, per point and metric.

    Examples
    --------
    >>> f = pd.DataFrame({"point_id": "p", "replication": [0, 1, 2], "metric": "m", "value": [1.0, 2.0, 3.0]})
    >>> summarise(f)[["mean", "ci_low", "ci_high"]].round(3).values.tolist()
    [[2.0, -0.484, 4.484]]
    """
    # One column per (point, metric), one row per replication: the simulator's own t-interval then applies.
    wide = frame.set_index(["replication", "point_id", "metric"])["value"].unstack(["point_id", "metric"])
    mean, low, high = mean_ci(wide.to_numpy(dtype=float), level=confidence)
    counts = np.isfinite(wide.to_numpy(dtype=float)).sum(axis=0)
    out = pd.DataFrame({"point_id": wide.columns.get_level_values("point_id"),
                        "metric": wide.columns.get_level_values("metric"), "mean": mean, "ci_low": low,
                        "ci_high": high, "replications": counts})
    return out[out["replications"] > 0].reset_index(drop=True)


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep.

    Parameters
    ----------
    points
        One row per point: ``point_id``, ``label`` and one column per swept path.
    summary
        Per point and metric: ``mean``, ``ci_low``, ``ci_high``, ``replications``.
    ran, reused
        Tasks computed in this run and tasks taken from an earlier (resumed) run.
    """

    points: pd.DataFrame
    summary: pd.DataFrame
    ran: int
    reused: int

    def wide(self, statistic: str = "mean") -> pd.DataFrame:
        """One row per point, one column per metric (the chosen statistic), with the swept parameters."""
        table = self.summary.pivot(index="point_id", columns="metric", values=statistic)
        return self.points.set_index("point_id").join(table)

    def __repr__(self) -> str:
        metrics = list(dict.fromkeys(self.summary["metric"]))
        shown = [m for m in ("revenue", "win_rate", "attainment", "pay_total") if m in metrics] or metrics[:4]
        table = self.wide()[["label", *shown]].head(10)
        more = f"\n... {len(self.points) - 10} more points" if len(self.points) > 10 else ""
        return (f"SweepResult: {len(self.points)} points x {len(metrics)} metrics ({self.ran} tasks run, "
                f"{self.reused} reused); means shown for {', '.join(shown)}\n"
                f"{table.to_string(index=False, max_colwidth=60)}{more}")

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write ``points.csv``, ``summary.csv`` (+ Parquet twins) into ``folder``."""
        out = Path(folder)
        write_csv(self.points, out / "points.csv", excel=excel)
        joined = self.points[["point_id", "label"]].merge(self.summary, on="point_id")
        write_csv(joined, out / "summary.csv", excel=excel)
        _atomic_parquet(self.points.astype({c: str for c in self.points.columns if c not in ("point_id", "label")}),
                        out / "points.parquet")
        _atomic_parquet(joined, out / "summary.parquet")


def _local_futures(pool: cf.ProcessPoolExecutor, jobs: list[tuple[Any, ...]]) -> Iterator[Any]:
    futures = [pool.submit(_run_task, *job) for job in jobs]
    try:
        for fut in cf.as_completed(futures):
            yield fut.result()
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise


def _dask_futures(client: Any, jobs: list[tuple[Any, ...]]) -> Iterator[Any]:
    from distributed import as_completed

    futures = [client.submit(_run_task, *job, pure=False) for job in jobs]
    try:
        for fut in as_completed(futures):  # type: ignore[no-untyped-call]
            yield fut.result()
    except BaseException:
        client.cancel(futures)
        raise


def _sweep_key(base: str, evaluator: str, replications: int, seed: int, allocate: bool,
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


def _prepare_folder(folder: Path, key: dict[str, Any], resume: bool) -> None:
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


def _local_cluster(workers: int, dashboard: bool) -> Any:
    """A Dask LocalCluster of single-threaded worker processes that listens on this machine only: scheduler,
    workers and the HTTP server on 127.0.0.1 (a free port), the dashboard pages served only when asked."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                        scheduler_kwargs={"dashboard": dashboard})


def sweep(scenario: scenarios.Scenario, points: Sequence[SweepPoint], *, evaluate: Evaluator, out: str |
          os.PathLike[str], replications: int, seed: int, allocate: bool = False, workers: int = 1,
          dask_local: int | None = None, scheduler: str | None = None, resume: bool = False,
          progress: bool = True, excel: bool = False, dashboard: bool = False,
          record: dict[str, Any] | None = None) -> SweepResult:
    """Run a sweep and write its results to ``out``.

    Parameters
    ----------
    scenario
        Base scenario.
    points
        From ``expand``; every point's changes are validated before any task runs.
    evaluate
        The per-point evaluation (module-level function; see ``Evaluator``). When it has a
        ``check(scenario, points, allocate=...)`` method (``quotaflow.whatif.PointSimulation`` does), that runs
        first and may refuse points whose changes the evaluation cannot see.
    out
        Output folder: ``tasks/<task_id>.parquet`` per task, then ``points.csv``, ``summary.csv`` and Parquet
        twins.
    replications, seed
        Per point; every point uses the same root seed (common random numbers).
    allocate
        Re-allocate accounts at every point before evaluating.
    workers
        Local worker processes (1 = run in this process).
    dask_local
        Start a Dask ``LocalCluster`` with this many single-threaded workers instead.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``) to join instead.
    resume
        Reuse finished task files in ``out``, which must hold the same sweep (its ``manifest.json`` records the
        scenario's fingerprint, the evaluator, replications, seed, allocate and every point); missing or corrupt
        task files are (re)computed. A missing or empty ``out`` starts afresh.
    progress
        Show a progress bar with ETA.
    excel
        Write the CSVs with a UTF-8 BOM so Excel shows non-Latin text correctly.
    dashboard
        With ``dask_local``: serve the Dask dashboard (on 127.0.0.1 only; its address is printed).
    record
        Extra fields for the folder's ``manifest.json`` (the CLI's options).

    Raises
    ------
    scenarios.ScenarioError
        When a point's change is not a valid setting (before anything runs).
    OutputError
        ``out`` is not empty (without ``resume``), or holds another sweep (with it).
    MissingExtraError
        ``dask_local`` or ``scheduler`` without Dask installed.
    GridError
        When the evaluator's check refuses a point (before anything runs).
    KeyboardInterrupt
        Propagated after pending tasks are cancelled; finished task files stay for ``resume``.
    """
    if not points:
        raise GridError("the sweep has no points: give --grid or at least one --set")
    for point in points:  # fail fast, before any work, on a bad path or value
        scenarios.modify(scenario, point.changes)
    check = getattr(evaluate, "check", None)
    if callable(check):  # an evaluator that knows what it reads refuses what-ifs it cannot see, before any work
        check(scenario, points, allocate=allocate)
    base = scenarios.fingerprint(scenario)
    name = f"{getattr(evaluate, '__module__', '')}.{getattr(evaluate, '__qualname__', repr(evaluate))}"
    ids = [p.task_id(base, replications=replications, seed=seed, allocate=allocate, evaluator=name) for p in points]
    if len(set(ids)) != len(ids):
        raise GridError("two sweep points make the same change; remove the duplicate values")
    if dask_local is not None or scheduler is not None:
        require_dask("--dask-local" if dask_local is not None else "--scheduler")
    folder = Path(out)
    key = _sweep_key(base, name, replications, seed, allocate, points, ids)
    _prepare_folder(folder, key, resume)
    tasks = folder / TASKS_DIR
    try:
        tasks.mkdir(parents=True, exist_ok=True)
        # Written first, so an interrupted sweep's folder says what it holds and --resume can check it.
        write_manifest(folder, scenario=scenario, seeds={"simulation": seed}, status="running",
                       extra={**(record or {}), "sweep": key}, owned=SWEEP_OWNED)
    except OSError as exc:
        raise OutputError(f"cannot write the sweep to {folder} ({exc.strerror}); choose a folder you can write "
                          "to") from None
    files = [tasks / f"{tid}.parquet" for tid in ids]
    todo = [i for i, f in enumerate(files) if not (resume and f.exists() and _readable(f))]
    jobs = [(evaluate, scenario, points[i].changes, ids[i], replications, seed, allocate, str(files[i]))
            for i in todo]
    bar = None
    if progress and jobs:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="sweep", unit="task")
    try:
        if dask_local is not None or scheduler is not None:
            from distributed import Client

            if scheduler is not None:
                client_ctx = Client(scheduler)  # type: ignore[no-untyped-call]
                cluster = None
            else:
                cluster = _local_cluster(dask_local or 1, dashboard)
                client_ctx = Client(cluster)  # type: ignore[no-untyped-call]
                if dashboard:
                    print(f"Dask dashboard (this machine only): {cluster.dashboard_link}", file=sys.stderr)
            try:
                for _ in _dask_futures(client_ctx, jobs):
                    if bar is not None:
                        bar.update(1)
            finally:
                client_ctx.close()  # type: ignore[no-untyped-call]
                if cluster is not None:
                    cluster.close()
        elif workers > 1 and len(jobs) > 1:
            with cf.ProcessPoolExecutor(max_workers=workers) as pool:
                for _ in _local_futures(pool, jobs):
                    if bar is not None:
                        bar.update(1)
        else:
            for job in jobs:
                _run_task(*job)
                if bar is not None:
                    bar.update(1)
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed: {type(exc).__name__}"
        with contextlib.suppress(OSError):
            seal(folder, status=status, tasks_finished=sum(f.exists() for f in files))
        raise
    finally:
        if bar is not None:
            bar.close()
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    summary = summarise(frame)
    summary["point_id"] = pd.Categorical(summary["point_id"], categories=ids, ordered=True)
    summary = summary.sort_values(["point_id", "metric"], kind="stable").reset_index(drop=True)
    summary["point_id"] = summary["point_id"].astype(str)
    paths = sorted({k for p in points for k in p.changes})
    rows = [{"point_id": tid, "label": p.label, **{k: p.changes.get(k) for k in paths}}
            for tid, p in zip(ids, points, strict=True)]
    result = SweepResult(points=pd.DataFrame(rows), summary=summary, ran=len(jobs), reused=len(points) - len(jobs))
    result.to_csv(folder, excel=excel)
    seal(folder, status="ok", tasks_run=result.ran, tasks_reused=result.reused)
    return result
