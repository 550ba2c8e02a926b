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
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

import scenarios
from quotaflow.cluster import local_cluster, require_dask
from quotaflow.errors import GridError, OutputError
from quotaflow.grid import SweepPoint
from quotaflow.manifest import seal, write_manifest
from quotaflow.sweep_folder import SWEEP_OWNED, TASK_COLUMNS, TASKS_DIR, prepare_folder, readable, sweep_key
from quotaflow.writer import write_parquet, write_tables, write_workbook
from sim import mean_ci

__all__ = ["Evaluator", "SweepResult", "require_dask", "summarise", "sweep"]


class Evaluator(Protocol):
    """What a sweep runs at each point: returns one row per replication and metric.

    Must be a module-level function (it is pickled to worker processes) and deterministic in its arguments.
    """

    def __call__(self, scenario: scenarios.Scenario, *, replications: int, seed: int,
                 allocate: bool) -> pd.DataFrame:  # columns: replication, metric, value
        ...


def _run_task(evaluate: Evaluator, scenario: scenarios.Scenario, changes: dict[str, Any], point_id: str,
              replications: int, seed: int, allocate: bool, out_file: str) -> str:
    """Worker side: build the point's scenario, evaluate it, write its Parquet file; returns the file."""
    point = scenarios.modify(scenario, changes) if changes else scenario
    frame = evaluate(point, replications=replications, seed=seed, allocate=allocate)
    missing = {"replication", "metric", "value"} - set(frame.columns)
    if missing:
        raise TypeError(f"evaluator returned no {sorted(missing)} column(s)")
    frame = frame.assign(point_id=point_id)[TASK_COLUMNS]
    write_parquet(frame, Path(out_file))
    return out_file


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

    def tables(self) -> dict[str, pd.DataFrame]:
        """The exported tables by file stem: ``points`` and ``summary`` (each point's label beside its rows)."""
        joined = self.points[["point_id", "label"]].merge(self.summary, on="point_id")
        return {"points": self.points, "summary": joined}

    def summary_dict(self) -> dict[str, Any]:
        """Points, metrics and tasks run or reused (`summary` is the table of means and intervals)."""
        return {"points": len(self.points), "metrics": sorted(set(self.summary["metric"])), "tasks_run": self.ran,
                "tasks_reused": self.reused}

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write ``points.csv``, ``summary.csv`` (+ Parquet twins) into ``folder``."""
        out = Path(folder)
        tables = self.tables()
        write_tables(tables, out, excel=excel, parquet=False)
        params = {c: str for c in self.points.columns if c not in ("point_id", "label")}
        write_parquet(self.points.astype(params), out / "points.parquet")  # parameters may mix types
        write_parquet(tables["summary"], out / "summary.parquet")


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


def sweep(scenario: scenarios.Scenario, points: Sequence[SweepPoint], *, evaluate: Evaluator, out: str |
          os.PathLike[str], replications: int, seed: int, allocate: bool = False, workers: int = 1,
          dask_local: int | None = None, scheduler: str | None = None, resume: bool = False,
          progress: bool = True, excel: bool = False, xlsx: bool = False, dashboard: bool = False,
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
    xlsx
        Also write ``sweep.xlsx`` (points and summary, one sheet each).
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
    key = sweep_key(base, name, replications, seed, allocate, points, ids)
    prepare_folder(folder, key, resume)
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
    todo = [i for i, f in enumerate(files) if not (resume and f.exists() and readable(f))]
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
                cluster = local_cluster(dask_local or 1, dashboard)
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
    if xlsx:
        write_workbook(result.tables(), folder / "sweep.xlsx")
    seal(folder, status="ok", tasks_run=result.ran, tasks_reused=result.reused)
    return result
