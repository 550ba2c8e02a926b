"""``quotaflow frontier``: the trade-off curve between two objective terms of the allocation, as a table and a
plot; nothing is written when no level has a plan."""

from __future__ import annotations

from typing import Annotated

import typer

import optimizer
import scenarios
from quotaflow.charts.files import plot_frontier
from quotaflow.commands.options import (
    DecimalOpt,
    EncodingOpt,
    ExcelOpt,
    ForceOpt,
    OutOpt,
    ScenarioArg,
    XlsxOpt,
    scenario_source,
)
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.writer import Sheets, write_result, write_workbook

__all__ = ["frontier_command"]


def frontier_command(
    scenario: ScenarioArg,
    x: Annotated[str, typer.Option("--x", help="Term on the x axis: value, travel, disruption or balance.")],
    y: Annotated[str, typer.Option("--y", help="Term optimised at each point: value, travel or disruption.")],
    out: OutOpt,
    points: Annotated[int, typer.Option("--points", min=2, max=200, help="Number of points.")] = 7,
    time_limit: Annotated[float | None, typer.Option("--time-limit", min=0.1, help="Seconds per point.")] = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Efficient trade-off curve between two objective terms (epsilon-constraint with a second stage on the x
    term): frontier.csv (one row per distinct point, with the number of levels that gave it) and frontier.png."""
    claim = claim_output(out, force=force, reads=[scenario_source(scenario)])
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    result = optimizer.frontier(s, x, y, points=points, time_limit=time_limit)
    with staged_output(claim) as stage:
        sheets: Sheets = {}
        write_result(result, stage, excel=excel, summary=None, scenario=s, sheets=sheets)
        if xlsx:
            write_workbook(sheets, stage / "frontier.xlsx")
        plot_frontier(result, s.name, stage / "frontier.png")
        write_manifest(stage, scenario=s, solver={"name": s.settings.optimizer.solver,
                                                  "mip_gap": s.settings.optimizer.mip_gap},
                       extra={"x": x, "y": y, "points": points})
    typer.echo(repr(result))
    typer.echo(f"wrote {out}")
