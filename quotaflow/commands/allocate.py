"""``quotaflow allocate``: accounts to reps, then quotas and the marketing budget for that plan, written as one
plan folder. An infeasible scenario exits 3 with the conflicts in planner words, a solver failure or a run
without a solution exits 4, and nothing is written then.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

import optimizer
import scenarios
from quotaflow.allocation_run import command_started, reserve, run_allocation
from quotaflow.cluster import dask_scheduler, require_dask
from quotaflow.commands.options import (
    DecimalOpt,
    EncodingOpt,
    ExcelOpt,
    ForceOpt,
    OutOpt,
    ScenarioArg,
    SolverOpt,
    XlsxOpt,
    scenario_source,
)
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.writer import Sheets, write_json, write_result, write_workbook

__all__ = ["allocate_command"]


def allocate_command(
    scenario: ScenarioArg,
    out: OutOpt,
    solver: SolverOpt = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.1, help="Wall-clock seconds for the whole command, loading and writing included "
                                      "(default: the scenario's optimizer.time_limit_s). When it runs out, the "
                                      "best checked plan is written as 'feasible' with its gap, or nothing (exit "
                                      "4).")] = None,
    mip_gap: Annotated[float | None, typer.Option("--mip-gap", min=0.0, max=1.0, help="Relative gap.")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Local worker processes for the regions of a large model (default: the CPU "
                                 "count; 1 = in this process).")] = None,
    dask_local: Annotated[int | None, typer.Option(
        "--dask-local", min=1, help="Solve the regions of a large model on a Dask LocalCluster with this many "
                                    "workers (default: a local process pool).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Solve the regions of a large model on a running Dask cluster, e.g. "
                            "tcp://10.0.0.5:8786.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress line on stderr (it is shown only on a "
                                        "terminal anyway).")] = False,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Assign every account to a rep (value, travel, continuity) and write the plan to --out."""
    # --time-limit counts from the moment the command was started: imports, loading and writing are part of it.
    started = command_started()
    if dask_local is not None and scheduler is not None:
        raise optimizer.AllocationError("--dask-local and --scheduler were both given",
                                        "give one of them: --dask-local K for this machine, --scheduler for a "
                                        "running cluster")
    claim = claim_output(out, force=force, reads=[scenario_source(scenario)])
    if dask_local is not None or scheduler is not None:
        require_dask("--dask-local" if dask_local is not None else "--scheduler")
    loaded = s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    changes: dict[str, object] = {}
    if solver is not None:
        changes["optimizer.solver"] = solver
    if time_limit is not None:
        changes["optimizer.time_limit_s"] = time_limit
    if mip_gap is not None:
        changes["optimizer.mip_gap"] = mip_gap
    if changes:
        s = scenarios.modify(s, changes)
    limit = s.settings.optimizer.time_limit_s
    finish_by = optimizer.Deadline(started + limit - _write_seconds(len(s.accounts)))
    allocate_by = optimizer.Deadline(started + limit - reserve(limit))
    show = not quiet and sys.stderr.isatty()
    with dask_scheduler(dask_local, scheduler) as address:
        run = run_allocation(s, allocate_by=allocate_by, finish_by=finish_by, scheduler=address, workers=workers,
                             progress=show)
    result, quotas, budget = run.allocation, run.quotas, run.budget
    with staged_output(claim) as stage:
        sheets: Sheets = {}
        for part in (result, quotas, budget):
            write_result(part, stage, excel=excel, summary=None, scenario=s, sheets=sheets)
        if xlsx:
            write_workbook(sheets, stage / "allocate.xlsx")
        write_json({**result.summary(), "quotas": quotas.summary(), "budget": budget.summary()},
                   stage / "summary.json")
        # The plan belongs to the scenario as read: --solver, --time-limit and --mip-gap change how it was
        # solved, not what it is a plan for.
        scenarios.PlanOrigin.of(loaded).write(stage)
        write_manifest(stage, scenario=s, solver={"name": s.settings.optimizer.solver,
                                                  "time_limit_s": s.settings.optimizer.time_limit_s,
                                                  "mip_gap": s.settings.optimizer.mip_gap},
                       status=str(result.status),
                       extra={"executor": "dask" if address is not None
                              else f"local x{workers or os.cpu_count() or 1}"})
    typer.echo(repr(result))
    typer.echo(repr(quotas))
    typer.echo(repr(budget))
    typer.echo(f"wrote {out}: assignments.csv, reps.csv, quotas.csv, quota_reps.csv, budget.csv, "
               "budget_channels.csv (each with a .parquet twin), " + ("allocate.xlsx, " if xlsx else "")
               + "summary.json, plan.json, manifest.json")


def _write_seconds(accounts: int) -> float:
    """Seconds kept at the end of the run for writing the folder: assignments.csv took 0.48 s for 20,000 accounts
    and 5.4 s for 250,000 on a loaded 2-core machine, quotas and budget 0.09 s (benchmarks/RESULTS.md,
    "Allocation under one deadline"); 1 s plus 30 microseconds per account covers both with room."""
    return 1.0 + 3e-5 * accounts
