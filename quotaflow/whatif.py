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
from quotaflow.exit_codes import ExitCode, Terminated
from quotaflow.options import ForceOpt, IncentivesOpt, capped_workers, scenario_source
from quotaflow.output import OutputError, claim_output, staged_output
from quotaflow.report import report
from quotaflow.simulation import incentive_hooks
from quotaflow.sweep import GridError, SweepPoint, SweepResult, expand, load_grid, parse_set, require_dask, sweep

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


def _points(grid: Path | None, sets: list[str]) -> list[SweepPoint]:
    axes: dict[str, list[object]] = {}
    variants: list[SweepPoint] = []
    if grid is not None:
        axes, variants = load_grid(grid)
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
    dashboard: Annotated[bool, typer.Option("--dashboard", help="With --dask-local: serve the Dask dashboard, "
                                            "on this machine only (127.0.0.1; the address is printed).")]
    = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the sweep in --out (same scenario, grid, "
                                         "replications, seed and mode, as its manifest.json records): run only "
                                         "the missing or corrupt tasks.")] = False,
    allocate: Annotated[bool, typer.Option("--allocate", help="Re-allocate accounts at every point.")] = False,
    incentives: IncentivesOpt = "own",
    force: ForceOpt = False,
    excel: Annotated[bool, typer.Option("--excel", help="Write CSVs with a UTF-8 BOM so Excel shows non-Latin "
                                        "names correctly.")] = False,
) -> None:
    """Run a what-if sweep: every point of a grid (and/or named variants) simulated on the same customers."""
    if resume and force:
        raise GridError("give --resume (continue the sweep in --out) or --force (replace it), not both")
    if dask_local is not None and scheduler is not None:
        raise GridError("give either --dask-local or --scheduler, not both")
    if dashboard and dask_local is None:
        raise GridError("--dashboard shows a --dask-local cluster; for --scheduler, open its own dashboard")
    claim = claim_output(out, force=force, reads=[scenario_source(scenario), grid], resume=resume, resumable=True)
    if dask_local is not None or scheduler is not None:
        require_dask("--dask-local" if dask_local is not None else "--scheduler")
    s = scenarios.load(scenario)
    incentive_hooks(s, None, incentives)  # an unknown plan id fails here, before any task runs
    points = _points(grid, set_ or [])
    workers = capped_workers(workers, len(points))
    if dask_local is not None:
        dask_local = capped_workers(dask_local, len(points), "--dask-local")
    concurrent = (dask_local or workers) if scheduler is None else 1  # a remote cluster's memory is not ours
    sim.check_memory(s, replications, copies=concurrent, option="--replications")
    record = {"points": len(points), "replications": replications, "allocate": allocate, "incentives": incentives,
              "executor": "dask" if (dask_local or scheduler) else f"local x{workers}"}

    def run(target: Path, resume_here: bool) -> SweepResult:
        return sweep(s, points, evaluate=PointSimulation(incentives), out=target, replications=replications,
                     seed=seed, allocate=allocate, workers=workers, dask_local=dask_local, scheduler=scheduler,
                     resume=resume_here, excel=excel, dashboard=dashboard, record=record)

    folder = claim.requested
    try:
        if claim.replaces:  # --force over an earlier sweep: build the new one aside, swap only when it is done
            with staged_output(claim) as stage:
                result = run(stage, False)
        else:
            try:
                claim.final.mkdir(exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot create {folder} ({exc.strerror}); choose an --out folder you can write "
                                  "to") from None
            result = run(claim.final, resume)
            claim.release(published=True)
    except KeyboardInterrupt as exc:
        kept = (f"the earlier sweep in {folder} is untouched and the new one was discarded" if claim.replaces
                else f"finished tasks are kept in {folder / 'tasks'}; rerun with --resume to finish")
        signal_name = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        typer.echo(f"{signal_name}: {kept}", err=True)
        raise typer.Exit(ExitCode.TERMINATED if isinstance(exc, Terminated) else ExitCode.INTERRUPTED) from None
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
