"""The ``quotaflow budget`` command: allocate the marketing budget and write budget.csv with its summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import scenarios
from optimizer.budget import BudgetResult, allocate_budget
from quotaflow.manifest import write_manifest
from quotaflow.options import DecimalOpt, EncodingOpt, ExcelOpt, ForceOpt, SolverOpt, scenario_source
from quotaflow.output import claim_output, staged_output
from quotaflow.writer import write_csv, write_json

__all__ = ["budget_command", "write_budget"]


def write_budget(result: BudgetResult, folder: Path, *, summary: bool = True, excel: bool = False) -> None:
    """Write ``budget.csv`` (channel, region, period, spend, expected_leads, expected_value),
    ``budget_channels.csv`` and ``summary.json`` (UTF-8 with a BOM so Excel opens them right).

    Examples
    --------
    >>> import scenarios, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_budget(allocate_budget(scenarios.load("tiny")), folder)
    >>> sorted(p.name for p in folder.iterdir())
    ['budget.csv', 'budget_channels.csv', 'summary.json']
    """
    for name, frame in result.tables().items():  # the tables and writer of BudgetResult.to_csv: same bytes
        write_csv(frame, folder / f"{name}.csv", excel=excel)
    if summary:
        write_json(result.summary(), folder / "summary.json")


def budget_command(
    scenario: Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (written only when the run succeeds).")],
    total: Annotated[float | None, typer.Option("--total", help="Budget over the horizon (default: [budget] "
                                                "total).")] = None,
    solver: SolverOpt = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Spend the marketing budget on the channels, regions and months with the most pipeline value."""
    claim = claim_output(out, force=force, reads=[scenario_source(scenario)])
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    result = allocate_budget(s, total=total, solver=solver)
    with staged_output(claim) as stage:
        write_budget(result, stage, excel=excel)
        write_manifest(stage, scenario=s, status=str(result.status), solver={"name": result.solver},
                       extra={"budget": result.total})
    typer.echo(repr(result))
    typer.echo(f"wrote {out / 'budget.csv'}, {out / 'budget_channels.csv'}, {out / 'summary.json'} and the manifest")
