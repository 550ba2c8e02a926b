"""``quotaflow scenario``: what-ifs on a scenario folder without Python (``quotaflow.scenario_edit``).

``copy NAME DIR`` makes an editable copy of a bundled scenario or a scenario folder; ``add-reps`` and
``remove-reps`` edit a scenario folder in place, checked as ``quotaflow validate`` checks it before any file is
replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quotaflow.commands.errors import guarded
from quotaflow.commands.options import DecimalOpt, EncodingOpt, crm_date
from quotaflow.scenario_edit import EditResult, add_reps, copy_scenario, remove_reps

__all__ = ["scenario_app"]

scenario_app = typer.Typer(
    help="Edit a scenario without Python: copy a bundled one, add or remove reps.", no_args_is_help=True,
    rich_markup_mode=None)

FolderArg = Annotated[Path, typer.Argument(help="Scenario folder to edit (make one with 'quotaflow scenario "
                                                "copy baseline my-baseline').")]


def _report(result: EditResult) -> None:
    for note in result.notes:
        typer.echo(note)
    if result.files:
        typer.echo(f"wrote {result.folder}: " + ", ".join(result.files))
    else:
        typer.echo(f"{result.folder}: nothing changed")


def copy_command(
    source: Annotated[str, typer.Argument(help="Bundled scenario name (baseline, tiny) or scenario folder.")],
    target: Annotated[Path, typer.Argument(help="New folder for the copy (must not exist, or be empty).")],
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Copy a scenario into a new folder you can edit (scenario.toml and its tables, byte for byte)."""
    _report(copy_scenario(source, target, encoding=encoding, decimal=decimal))
    typer.echo(f"next: edit {target}/scenario.toml or its CSVs, or run 'quotaflow scenario add-reps {target} "
               "--region R --tier T --count N', then 'quotaflow validate " + str(target) + "'")


def add_reps_command(
    folder: FolderArg,
    region: Annotated[str, typer.Option("--region", help="Region of the new reps (one the scenario has).")],
    tier: Annotated[str, typer.Option("--tier", help="Tier of the new reps (a key of [tiers]).")],
    count: Annotated[int, typer.Option("--count", min=1, help="How many reps to add.")] = 1,
    base_salary: Annotated[float | None, typer.Option(
        "--base-salary", min=0.0, help="Annual base salary (default: median of the tier's reps in the region).")]
    = None,
    hire_date: Annotated[str | None, typer.Option(
        "--hire-date", help="Hire date YYYY-MM-DD (default: the calendar's start; ramp-up follows the tier).")]
    = None,
    pay_plan: Annotated[str | None, typer.Option(
        "--pay-plan", help="Pay plan id (default: the most common of the tier's reps in the region).")] = None,
    role: Annotated[str | None, typer.Option(
        "--role", help="hunter, farmer or hybrid (default: the most common of the tier's reps in the region).")]
    = None,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Add reps to a scenario folder; reps.csv is rewritten only after the edited scenario passes validation."""
    _report(add_reps(folder, region=region, tier=tier, count=count, base_salary=base_salary,
                     hire_date=crm_date(hire_date), pay_plan=pay_plan, role=role, encoding=encoding,
                     decimal=decimal))


def remove_reps_command(
    folder: FolderArg,
    reps: Annotated[list[str], typer.Option("--rep", help="Rep id to remove (repeatable).")],
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Remove reps from a scenario folder; the accounts they hold today become unassigned. Refused when an
    account would be left without an eligible rep."""
    _report(remove_reps(folder, reps, encoding=encoding, decimal=decimal))


scenario_app.command(name="copy")(guarded(copy_command))
scenario_app.command(name="add-reps")(guarded(add_reps_command))
scenario_app.command(name="remove-reps")(guarded(remove_reps_command))
