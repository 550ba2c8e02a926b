"""The ``quotaflow sweep`` and ``quotaflow report`` commands, and the evaluation each sweep point runs:
optionally re-allocate accounts, then simulate with the point's scenario on common random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

import scenarios
import sim
from quotaflow.manifest import write_manifest
from quotaflow.options import DecimalOpt, EncodingOpt, IncentivesOpt
from quotaflow.output import OutputError
from quotaflow.report import report
from quotaflow.simulation import incentive_hooks
from quotaflow.sweep import GridError, SweepPoint, expand, load_grid, parse_set, sweep

__all__ = ["PointSimulation", "report_command", "simulate_point", "sweep_command"]


def simulate_point(scenario: scenarios.Scenario, *, replications: int, seed: int, allocate: bool,
                   incentives: str = "none") -> pd.DataFrame:
    """Evaluate one sweep point: (re-allocate when asked, then) simulate; one row per replication and metric.

    ``incentives`` as ``quotaflow simulate --incentives`` (``quotaflow.simulation.incentive_hooks``); the sweep
    command runs it through `PointSimulation`, whose default is ``own``.

    Examples
    --------
    >>> rows = simulate_point(scenarios.load("tiny"), replications=2, seed=1, allocate=False)
    >>> sorted(rows.columns), rows["replication"].nunique()
    (['metric', 'replication', 'value'], 2)
    """
    plan = None
    if allocate:
        import optimizer

        allocation = optimizer.allocate(scenario)
        if not allocation.ok:
            # An infeasible point is a result, not a crash: it is marked and has no simulated metrics.
            return pd.DataFrame({"replication": range(replications), "metric": "allocation_feasible",
                                 "value": 0.0})
        plan = allocation.plan()
    behaviour, pay = incentive_hooks(scenario, plan, incentives)
    result = sim.simulate(scenario, plan, replications=replications, seed=seed, workers=1, behaviour=behaviour,
                          pay=pay)
    rows = result.replications.melt(id_vars="replication", var_name="metric", value_name="value")
    if allocate:
        ok = pd.DataFrame({"replication": range(replications), "metric": "allocation_feasible", "value": 1.0})
        rows = pd.concat([ok, rows], ignore_index=True)
    return rows


@dataclass(frozen=True)
class PointSimulation:
    """The sweep's evaluator: `simulate_point` with an ``--incentives`` mode (picklable; its repr names the mode,
    so a resumed sweep never reuses tasks run under another mode).

    Examples
    --------
    >>> PointSimulation("own")(scenarios.load("tiny"), replications=2, seed=1, allocate=False)["metric"].nunique() > 10
    True
    """

    incentives: str = "own"

    def __call__(self, scenario: scenarios.Scenario, *, replications: int, seed: int,
                 allocate: bool) -> pd.DataFrame:
        return simulate_point(scenario, replications=replications, seed=seed, allocate=allocate,
                              incentives=self.incentives)


def _points(grid: Path | None, sets: list[str], encoding: str | None = None) -> list[SweepPoint]:
    axes: dict[str, list[object]] = {}
    variants: list[SweepPoint] = []
    if grid is not None:
        axes, variants = load_grid(grid, encoding=encoding)
    for option in sets:
        path, values = parse_set(option)
        if path in axes:
            raise GridError(f"--set {path} repeats a path already in the grid; give it once")
        axes[path] = values
    if not axes and not variants:
        raise GridError("nothing to sweep: give --grid grid.toml and/or --set path=v1,v2")
    return expand(axes, variants)


def sweep_command(
    scenario: Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (tasks/*.parquet, points.csv, summary.csv).")],
    grid: Annotated[Path | None, typer.Option("--grid", help="TOML file with [grid] axes and [[variants]].")]
    = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="path=v1,v2,... (repeatable); paths are "
                                                   "settings keys or table columns, e.g. "
                                                   "reps[tier=junior].hours_per_week=36,40.")] = None,
    replications: Annotated[int, typer.Option(min=1, help="Replications per point.")] = 5,
    seed: Annotated[int, typer.Option(min=0, help="Root seed, the same for every point (common random "
                                               "numbers).")] = 20261123,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    dask_local: Annotated[int | None, typer.Option("--dask-local", min=1, help="Start a Dask LocalCluster with "
                                                   "this many workers.")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Join a running Dask scheduler, e.g. "
                                                  "tcp://10.0.0.5:8786.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Keep finished tasks in --out; run only the missing "
                                         "or corrupt ones.")] = False,
    allocate: Annotated[bool, typer.Option("--allocate", help="Re-allocate accounts at every point.")] = False,
    incentives: IncentivesOpt = "own",
    force: Annotated[bool, typer.Option("--force", help="Delete an existing --out first.")] = False,
    excel: Annotated[bool, typer.Option("--excel", help="Write CSVs with a UTF-8 BOM so Excel shows non-Latin "
                                        "names correctly.")] = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Run a what-if sweep: every point of a grid (and/or named variants) simulated on the same customers."""
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    incentive_hooks(s, None, incentives)  # an unknown plan id fails here, before any task runs
    points = _points(grid, set_ or [], encoding)
    folder = Path(out)
    if folder.exists() and any(folder.iterdir()) and not resume:
        if not force:
            raise OutputError(f"output folder {folder} already exists and is not empty; pass --resume to "
                              "continue that sweep, or --force to start over")
        import shutil

        shutil.rmtree(folder)
    if dask_local is not None and scheduler is not None:
        raise GridError("give either --dask-local or --scheduler, not both")
    try:
        result = sweep(s, points, evaluate=PointSimulation(incentives), out=folder, replications=replications,
                       seed=seed, allocate=allocate, workers=workers, dask_local=dask_local, scheduler=scheduler,
                       resume=resume, excel=excel)
    except KeyboardInterrupt:
        typer.echo(f"interrupted: finished tasks are kept in {folder / 'tasks'}; rerun with --resume to finish",
                   err=True)
        raise
    write_manifest(folder, scenario=s, seeds={"simulation": seed},
                   extra={"points": len(points), "replications": replications, "allocate": allocate,
                          "incentives": incentives,
                          "executor": "dask" if (dask_local or scheduler) else f"local x{workers}",
                          "tasks_run": result.ran, "tasks_reused": result.reused})
    typer.echo(repr(result))
    typer.echo(f"\nwrote {folder}: points.csv, summary.csv (+ .parquet), tasks/ ({len(points)} files)")


def report_command(
    folder: Annotated[Path, typer.Argument(help="A sweep output folder.")],
    metric: Annotated[str, typer.Option(help="Metric to rank and plot.")] = "revenue",
    top: Annotated[int, typer.Option(min=1, help="How many points to list.")] = 5,
    minimise: Annotated[bool, typer.Option("--minimise", help="Smallest first (for costs).")] = False,
) -> None:
    """Summarise a sweep: the best points by a metric and response plots (PNG) per swept parameter."""
    rep = report(folder, metric=metric, top=top, minimise=minimise)
    typer.echo(repr(rep))
