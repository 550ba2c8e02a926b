"""``quotaflow report``: the one-page report of a ``demo`` or ``compare`` folder (``quotaflow.report_page``:
HTML, PDF and overview.png in --out), or the best points and response plots of a finished sweep
(``quotaflow.report``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quotaflow.commands.options import ForceOpt
from quotaflow.errors import ReportError
from quotaflow.manifest import read_manifest, write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.report import report
from quotaflow.report_page import build_report, run_kind, write_report

__all__ = ["report_command"]


def report_command(
    folder: Annotated[Path, typer.Argument(help="A demo, compare or sweep output folder.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for the report of a demo or compare folder (report.html, report.pdf, overview.png); "
        "it may not be, hold or lie inside FOLDER.")] = None,
    force: ForceOpt = False,
    metric: Annotated[str, typer.Option(help="Sweep folders: metric to rank and plot.")] = "revenue",
    top: Annotated[int, typer.Option(min=1, help="Sweep folders: how many points to list.")] = 5,
    minimise: Annotated[bool, typer.Option("--minimise", help="Sweep folders: smallest first (for costs).")] = False,
) -> None:
    """Report on a finished run. A demo or compare folder: a one-page HTML report (decision table, verdict,
    charts), a PDF and overview.png written to --out. A sweep folder: the best points by a metric and response
    plots (PNG) per swept parameter, in FOLDER/plots."""
    record = read_manifest(folder) if folder.is_dir() else None
    if record is not None and run_kind(record) == "sweep":
        if out is not None:
            raise typer.BadParameter("a sweep's report goes to FOLDER/plots; drop --out", param_hint="--out")
        typer.echo(repr(report(folder, metric=metric, top=top, minimise=minimise)))
        return
    if record is None or run_kind(record) not in ("demo", "compare"):
        raise ReportError(f"{folder} is not a folder quotaflow's demo, compare or sweep wrote (no such folder, or no "
                          "manifest.json naming one); give the --out folder of one of those commands")
    if out is None:
        raise typer.BadParameter(f"give the folder for the report, e.g. --out {folder.name}-report (not inside "
                                 f"{folder})", param_hint="--out")
    claim = claim_output(out, force=force, reads=[folder])
    with staged_output(claim) as stage:
        page = build_report(folder)
        files = write_report(page, stage)
        write_manifest(stage, extra={"kind": "report", "report_of": str(folder.resolve()),
                                     "report_of_kind": page.run.kind})
    typer.echo(page.verdict)
    for note in page.notes:
        typer.echo(f"  {note}")
    typer.echo(f"\nwrote {out}/: " + ", ".join([*files, "manifest.json"]))
