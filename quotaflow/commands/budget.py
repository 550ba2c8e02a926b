"""``quotaflow budget``: allocate the marketing budget and write budget.csv with its summary."""

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
from quotaflow.writer import Sheets, write_result, write_workbook

__all__ = ["budget_command"]


def budget_command(
    scenario: ScenarioArg,
    out: OutOpt,
    total: Annotated[float | None, typer.Option("--total", help="Budget over the horizon (default: [budget] "
                                                "total).")] = None,
    solver: SolverOpt = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Spend the marketing budget on the channels, regions and months with the most pipeline value."""
    claim = claim_output(out, force=force, reads=[scenario_source(scenario)])
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    result = optimizer.allocate_budget(s, total=total, solver=solver)
    with staged_output(claim) as stage:
        sheets: Sheets = {}
        write_result(result, stage, excel=excel, scenario=s, sheets=sheets)
        if xlsx:
            write_workbook(sheets, stage / "budget.xlsx")
        write_manifest(stage, scenario=s, status=str(result.status), solver={"name": result.solver},
                       extra={"budget": result.total})
    typer.echo(repr(result))
    typer.echo(f"wrote {out / 'budget.csv'}, {out / 'budget_channels.csv'} (+ .parquet), {out / 'summary.json'}"
               + (f", {out / 'budget.xlsx'}" if xlsx else "") + " and the manifest")
