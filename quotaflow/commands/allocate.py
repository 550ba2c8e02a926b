"""``quotaflow allocate``: accounts to reps, then quotas and the marketing budget for that plan, written as one
plan folder. An infeasible scenario exits 3 with the conflicts in planner words, a solver failure or a run
without a solution exits 4, and nothing is written then.
"""

from __future__ import annotations

from typing import Annotated

import typer

import optimizer
import scenarios
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
    time_limit: Annotated[float | None, typer.Option("--time-limit", min=0.1, help="Wall-clock seconds.")] = None,
    mip_gap: Annotated[float | None, typer.Option("--mip-gap", min=0.0, max=1.0, help="Relative gap.")] = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Assign every account to a rep (value, travel, continuity) and write the plan to --out."""
    claim = claim_output(out, force=force, reads=[scenario_source(scenario)])
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
    result = optimizer.allocate(s)
    if result.status is optimizer.Status.INFEASIBLE:
        raise optimizer.InfeasibleError(list(result.explanation))
    if not result.ok:
        raise optimizer.SolverError(f"allocation ended '{result.status}': " + "; ".join(result.explanation) +
                          "; no output was written")
    # Quotas follow the new territories and the budget is split for the same plan, so the folder is a complete
    # plan for the simulator; any failure there leaves no output at all.
    quotas = optimizer.set_quotas(s, result.plan().assignment)
    budget = optimizer.allocate_budget(s)
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
                       status=str(result.status))
    typer.echo(repr(result))
    typer.echo(repr(quotas))
    typer.echo(repr(budget))
    typer.echo(f"wrote {out}: assignments.csv, reps.csv, quotas.csv, quota_reps.csv, budget.csv, "
               "budget_channels.csv (each with a .parquet twin), " + ("allocate.xlsx, " if xlsx else "")
               + "summary.json, plan.json, manifest.json")
