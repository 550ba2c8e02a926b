"""``quotaflow quotas``: set rep quotas from a plan's assignment and write them with the gap analysis.

Reads the assignment from a plan folder (``--plan``, e.g. an ``allocate`` output) or uses today's; for the
``equal_probability`` method it reads simulated sales per rep from ``--samples``, or, without that file,
simulates them itself (``quotaflow.quotas.simulated_sales``: ``--replications`` horizons of the scenario under
the assignment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import optimizer
import scenarios
from quotaflow.commands.options import (
    AllowForeignPlanOpt,
    DecimalOpt,
    EncodingOpt,
    ExcelOpt,
    ForceOpt,
    OutOpt,
    QuotaPlanOpt,
    ScenarioArg,
    SolverOpt,
    XlsxOpt,
    read_plan,
    scenario_source,
)
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.quotas import QUOTA_SAMPLES, read_samples, sample_method, simulated_sales
from quotaflow.writer import Sheets, write_result, write_workbook

__all__ = ["quotas_command"]


def quotas_command(
    scenario: ScenarioArg,
    out: OutOpt,
    method: Annotated[str | None, typer.Option(
        help="even | potential | expected_sales | fair | equal_probability (default: [quotas] method).")] = None,
    plan: QuotaPlanOpt = None,
    samples: Annotated[Path | None, typer.Option(
        "--samples", help="CSV rep_id,sales of simulated horizon sales (for equal_probability; default: simulate "
                          "them).")] = None,
    replications: Annotated[int, typer.Option(
        min=2, help="equal_probability without --samples: simulated horizons per rep.")] = QUOTA_SAMPLES,
    seed: Annotated[int, typer.Option(help="equal_probability without --samples: simulation seed.")] = 1,
    solver: SolverOpt = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    allow_foreign_plan: AllowForeignPlanOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Set rep quotas by period and product (sums exact to target x over-assignment) and write quotas.csv."""
    claim = claim_output(out, force=force, reads=[scenario_source(scenario), plan, samples])
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    assignment = (read_plan(plan, s, allow_foreign=allow_foreign_plan, encoding=encoding, decimal=decimal)
                  if plan is not None else scenarios.Plan.current(s)).assignment
    distribution = read_samples(samples, s, encoding=encoding, decimal=decimal) if samples is not None else None
    simulated = distribution is None and sample_method(s, method)
    if simulated:
        typer.echo(f"equal_probability: simulating {replications} horizons (seed {seed}) for each rep's sales")
        distribution = simulated_sales(s, assignment, replications=replications, seed=seed)
    result = optimizer.set_quotas(s, assignment, method=method, sales_distribution=distribution, solver=solver)
    with staged_output(claim) as stage:
        sheets: Sheets = {}
        write_result(result, stage, excel=excel, scenario=s, sheets=sheets)
        if xlsx:
            write_workbook(sheets, stage / "quotas.xlsx")
        write_manifest(stage, scenario=s, status=str(result.status),
                       solver={"name": result.solver} if result.solver else None,
                       extra={"method": result.method, "plan": str(plan) if plan else "current",
                              "samples": str(samples) if samples else None,
                              "simulated_samples": {"replications": replications, "seed": seed} if simulated
                              else None})
    typer.echo(repr(result))
    for warning in result.warnings:
        typer.echo(f"warning: {warning}")
    typer.echo(f"wrote {out / 'quotas.csv'}, {out / 'quota_reps.csv'} (+ .parquet), {out / 'summary.json'}"
               + (f", {out / 'quotas.xlsx'}" if xlsx else "") + " and the manifest")
