"""``quotaflow report``: the best points of a finished sweep by a metric, and response plots
(``quotaflow.report``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quotaflow.report import report

__all__ = ["report_command"]


def report_command(
    folder: Annotated[Path, typer.Argument(help="A sweep output folder.")],
    metric: Annotated[str, typer.Option(help="Metric to rank and plot.")] = "revenue",
    top: Annotated[int, typer.Option(min=1, help="How many points to list.")] = 5,
    minimise: Annotated[bool, typer.Option("--minimise", help="Smallest first (for costs).")] = False,
) -> None:
    """Summarise a sweep: the best points by a metric and response plots (PNG) per swept parameter."""
    rep = report(folder, metric=metric, top=top, minimise=minimise)
    typer.echo(repr(rep))
