"""``quotaflow sweep``: run a what-if sweep (``quotaflow.sweep``) with the evaluation of ``quotaflow.whatif`` at
every point, into an output folder that an interrupted run can ``--resume``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import scenarios
import sim
from quotaflow.commands.errors import stopped
from quotaflow.commands.options import (
    DecimalOpt,
    EncodingOpt,
    ExcelOpt,
    ForceOpt,
    IncentivesOpt,
    ScenarioArg,
    SweepOutOpt,
    SweepSetOpt,
    XlsxOpt,
    capped_workers,
    parse_set,
    scenario_source,
)
from quotaflow.errors import GridError, OutputError
from quotaflow.grid import SweepPoint, expand, load_grid
from quotaflow.output import claim_output, staged_output
from quotaflow.simulation import incentive_hooks
from quotaflow.sweep import SweepResult, require_dask, sweep
from quotaflow.whatif import evaluator_for

__all__ = ["sweep_command"]


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
    scenario: ScenarioArg,
    out: SweepOutOpt,
    grid: Annotated[Path | None, typer.Option("--grid", help="TOML file with [grid] axes and [[variants]].")]
    = None,
    set_: SweepSetOpt = None,
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
    quotas: Annotated[str, typer.Option("--quotas", help="Quotas at every point: 'default' = the simulator's own "
                                        "(target x over-assignment by expected sales), 'set' = optimizer.set_quotas "
                                        "with [quotas] method, 'auto' = set when a quota setting is swept.")]
    = "auto",
    budget: Annotated[str, typer.Option("--budget", help="Marketing spend at every point: 'today' = channels' "
                                        "default_monthly_spend, 'optimise' = optimizer.allocate_budget, 'auto' = "
                                        "optimise when budget.* or channels.* (other than "
                                        "default_monthly_spend) is swept.")] = "auto",
    incentives: IncentivesOpt = "own",
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
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
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    incentive_hooks(s, None, incentives)  # an unknown pay plan id fails here, before any task runs
    points = _points(grid, set_ or [], encoding)
    evaluator = evaluator_for(points, incentives=incentives, quotas=quotas, budget=budget)
    for note in evaluator.check(s, points, allocate=allocate):  # refuses what this evaluation cannot see
        typer.echo(f"warning: {note}", err=True)
    workers = capped_workers(workers, len(points))
    if dask_local is not None:
        dask_local = capped_workers(dask_local, len(points), "--dask-local")
    concurrent = (dask_local or workers) if scheduler is None else 1  # a remote cluster's memory is not ours
    sim.check_memory(s, replications, copies=concurrent, option="--replications")
    record = {"points": len(points), "replications": replications, "allocate": allocate, "incentives": incentives,
              "quotas": _QUOTA_NOTE[evaluator.quotas], "budget": _BUDGET_NOTE[evaluator.budget],
              "executor": "dask" if (dask_local or scheduler) else f"local x{workers}"}

    def run(target: Path, resume_here: bool) -> SweepResult:
        return sweep(s, points, evaluate=evaluator, out=target, replications=replications,
                     seed=seed, allocate=allocate, workers=workers, dask_local=dask_local, scheduler=scheduler,
                     resume=resume_here, excel=excel, xlsx=xlsx, dashboard=dashboard, record=record)

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
        raise stopped(exc, kept, sep=": ") from None
    typer.echo(repr(result))
    for note in _failed_steps(result):
        typer.echo(f"warning: {note}", err=True)
    typer.echo(f"\nwrote {folder}: points.csv, summary.csv (+ .parquet), tasks/ ({len(points)} files)")


_QUOTA_NOTE = {"default": "the simulator's default quotas (target x over-assignment by expected sales) at every "
                          "point",
               "set": "set at every point by optimizer.set_quotas ([quotas] method of the point)"}


_BUDGET_NOTE = {"today": "channels' default_monthly_spend (today's spend) at every point",
                "optimise": "re-optimised at every point by optimizer.allocate_budget; demand follows its "
                            "expected_leads (today's spend only in the warm-up)"}


_STEP_FLAGS = {"allocation_feasible": ("no feasible allocation", "quotaflow allocate explains why"),
               "quotas_feasible": ("no quotas within the tier bounds", "quotaflow quotas explains why"),
               "budget_feasible": ("no feasible budget", "quotaflow budget explains why")}


def _failed_steps(result: SweepResult) -> list[str]:
    """One line per step that had no answer at some points (those points have no simulated metrics)."""
    notes = []
    for metric, (what, hint) in _STEP_FLAGS.items():
        rows = result.summary[(result.summary["metric"] == metric) & (result.summary["mean"] < 1.0)]
        if len(rows):
            labels = result.points.set_index("point_id").loc[rows["point_id"], "label"].tolist()
            notes.append(f"{what} at {len(labels)} point(s): " + ", ".join(labels[:5])
                         + (" ..." if len(labels) > 5 else "") + f"; they have no simulated metrics ({hint})")
    return notes
