"""Command-line options shared by every ``quotaflow`` command, defined once so their names and help agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ExcelOpt", "ForceOpt", "IncentivesOpt", "OutOpt", "ScenarioArg", "SetOpt", "SolverOpt"]

ScenarioArg = Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder (written only when the run succeeds).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing output folder.")]
ExcelOpt = Annotated[bool, typer.Option("--excel", help="Write CSVs with a UTF-8 BOM so Excel shows non-Latin "
                                        "names correctly.")]


def _solver(value: str | None) -> str | None:
    if value is not None and value not in ("highs", "cbc"):
        raise typer.BadParameter(f"{value!r} is not a solver quotaflow uses; choose highs or cbc")
    return value


SolverOpt = Annotated[str | None, typer.Option("--solver", callback=_solver,
                                              help="Solver: highs or cbc (default: the scenario's setting).")]


IncentivesOpt = Annotated[str, typer.Option(
    "--incentives", help="How reps are paid and respond: 'own' = each rep's plan_id from reps.csv (hours and deal "
                         "order respond to it, pay follows it), a plan id = everyone on that plan, 'none' = norm "
                         "hours and flat commission (the bare funnel).")]

SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="path=value (repeatable): change the scenario for this run only, e.g. "
                  "behaviour.timing_games=true or plans.capped.cap.target_multiple=2 (as in quotaflow sweep).")]
