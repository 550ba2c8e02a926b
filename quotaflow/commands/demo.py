"""``quotaflow demo``: the default job (``quotaflow.demo.run_demo``) with the scenario's overview before it and
its headline after."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

import scenarios
from quotaflow.commands.options import (
    DecimalOpt,
    EncodingOpt,
    ExcelOpt,
    ForceOpt,
    OutOpt,
    XlsxOpt,
    capped_workers,
    scenario_source,
)
from quotaflow.output import claim_output, staged_output
from quotaflow.overview import overview, overview_text
from quotaflow.writer import write_json

__all__ = ["demo"]


def demo(
    out: OutOpt = Path("out/demo"),
    scenario: Annotated[str, typer.Option(help="Scenario to run (folder or bundled name).")] = "baseline",
    replications: Annotated[int, typer.Option(min=2, help="Replications per pay plan.")] = 8,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: simulation.seed).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes for the simulations.")] = 2,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
    report: Annotated[bool, typer.Option(
        "--report", help="Also write the one-page report (report.html, report.pdf, overview.png) into --out.")]
    = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress on stderr (each step, the allocation's "
                                                         "bound and gap, replications done).")] = False,
) -> None:
    """The default job: allocate accounts, set quotas, split the budget, then simulate and compare every
    pay plan of the scenario on the same customers; tables and plots go to --out."""
    from quotaflow.demo import DemoProgress, run_demo

    claim = claim_output(out, force=force, reads=[scenario_source(scenario)])
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    workers = capped_workers(workers, replications)
    typer.echo(overview_text(s))
    typer.echo("\nrunning: allocate -> quotas -> budget -> simulate and compare "
               f"{len(s.settings.pay_plans)} pay plans x {replications} replications ...")
    root = s.settings.simulation.seed if seed is None else seed
    with staged_output(claim) as stage:
        write_json(overview(s), stage / "overview.json")
        progress = None if quiet else DemoProgress(6 if report else 5)
        result = run_demo(s, stage, replications=replications, seed=root, workers=workers, excel=excel,
                          xlsx=xlsx, progress=progress)
        if report:
            from quotaflow.report_page import build_report, write_report

            with progress.step("write the one-page report") if progress is not None else nullcontext():
                result.files.setdefault(".", []).extend(write_report(build_report(stage, check_unchanged=False),
                                                                     stage))
    typer.echo("")
    typer.echo(result.headline())
    typer.echo(f"\nwrote {out}/")
    for folder, files in result.files.items():
        if folder != ".":
            typer.echo(f"  {folder}/: {', '.join(files)}")
    typer.echo("  " + ", ".join([*result.files.get(".", []), "overview.json", "summary.json", "manifest.json"]))
    typer.echo("\n" + result.comparison.decision_text())
