"""Territory commands: ``quotaflow allocate`` (accounts to reps, then quotas and budget for that plan) and
``quotaflow frontier`` (trade-off curve).

Output folders are staged and appear only when the run succeeded; an infeasible scenario exits 3 with the
conflicts in planner words, a solver failure or a run without a solution exits 4, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import scenarios
from optimizer import (
    AllocationResult,
    AllocationStatus,
    InfeasibleError,
    SolverError,
    allocate,
    allocate_budget,
    frontier,
    set_quotas,
)
from quotaflow.budget import write_budget
from quotaflow.manifest import write_manifest
from quotaflow.options import DecimalOpt, EncodingOpt, ExcelOpt, ForceOpt, SolverOpt, scenario_source
from quotaflow.output import claim_output, staged_output
from quotaflow.quotas import write_quotas
from quotaflow.writer import write_json
from scenarios.plan import PlanOrigin

__all__ = ["allocate_command", "frontier_command", "write_allocation"]


def write_allocation(result: AllocationResult, folder: Path, *, excel: bool = False) -> None:
    """Write assignments.csv, reps.csv (UTF-8; with a BOM for Excel when ``excel``) and summary.json: what
    ``AllocationResult.to_csv`` writes, through the same writer, so the API and the CLI give the same bytes."""
    result.to_csv(folder, excel=excel)


def allocate_command(
    scenario: Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (written only when the run succeeds).")],
    solver: SolverOpt = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", min=0.1, help="Wall-clock seconds.")] = None,
    mip_gap: Annotated[float | None, typer.Option("--mip-gap", min=0.0, max=1.0, help="Relative gap.")] = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
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
    result = allocate(s)
    if result.status is AllocationStatus.INFEASIBLE:
        raise InfeasibleError(list(result.explanation))
    if not result.ok:
        raise SolverError(f"allocation ended '{result.status}': " + "; ".join(result.explanation) +
                          "; no output was written")
    # Quotas follow the new territories and the budget is split for the same plan (issue 4), so the folder
    # is a complete plan for the simulator; any failure there leaves no output at all.
    quotas = set_quotas(s, result.plan().assignment)
    budget = allocate_budget(s)
    with staged_output(claim) as stage:
        write_allocation(result, stage, excel=excel)
        write_quotas(quotas, stage, summary=False, excel=excel)
        write_budget(budget, stage, summary=False, excel=excel)
        write_json({**result.summary(), "quotas": quotas.summary(), "budget": budget.summary()},
                   stage / "summary.json")
        # The plan belongs to the scenario as read: --solver, --time-limit and --mip-gap change how it was
        # solved, not what it is a plan for.
        PlanOrigin.of(loaded).write(stage)
        write_manifest(stage, scenario=s, solver={"name": s.settings.optimizer.solver,
                                                  "time_limit_s": s.settings.optimizer.time_limit_s,
                                                  "mip_gap": s.settings.optimizer.mip_gap},
                       status=str(result.status))
    typer.echo(repr(result))
    typer.echo(repr(quotas))
    typer.echo(repr(budget))
    typer.echo(f"wrote {out}: assignments.csv, reps.csv, quotas.csv, quota_reps.csv, budget.csv, "
               "budget_channels.csv, summary.json, plan.json, manifest.json")


def frontier_command(
    scenario: Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")],
    x: Annotated[str, typer.Option("--x", help="Term on the x axis: value, travel, disruption or balance.")],
    y: Annotated[str, typer.Option("--y", help="Term optimised at each point: value, travel or disruption.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (written only when the run succeeds).")],
    points: Annotated[int, typer.Option("--points", min=2, max=200, help="Number of points.")] = 7,
    time_limit: Annotated[float | None, typer.Option("--time-limit", min=0.1, help="Seconds per point.")] = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Efficient trade-off curve between two objective terms (epsilon-constraint with a second stage on the x
    term): frontier.csv (one row per distinct point, with the number of levels that gave it) and frontier.png."""
    from matplotlib.figure import Figure  # no pyplot: the caller's backend (e.g. a notebook's) is untouched

    claim = claim_output(out, force=force, reads=[scenario_source(scenario)])
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    result = frontier(s, x, y, points=points, time_limit=time_limit)
    ok = result.points[result.points["status"].isin(["optimal", "feasible"])]
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.subplots()
    ax.plot(ok["x"], ok["y"], marker="o")
    units = {"value": "expected value per year", "travel": "travel, km per year",
             "disruption": "potential moved to another rep", "balance": "largest workload deviation from the mean"}
    ax.set_xlabel(units.get(x, x))
    ax.set_ylabel(units.get(y, y))
    levels = int(result.points["levels"].sum())
    ax.set_title(f"{s.name}: {y} vs {x} ({len(ok)} efficient points from {levels} levels)")
    ax.grid(alpha=0.3)
    with staged_output(claim) as stage:
        result.to_csv(stage, excel=excel)
        fig.savefig(stage / "frontier.png", dpi=120, bbox_inches="tight")
        write_manifest(stage, scenario=s, solver={"name": s.settings.optimizer.solver,
                                                  "mip_gap": s.settings.optimizer.mip_gap},
                       extra={"x": x, "y": y, "points": points})
    typer.echo(repr(result))
    typer.echo(f"wrote {out}")
