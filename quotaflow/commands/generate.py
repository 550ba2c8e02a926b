"""``quotaflow generate``: write a synthetic scenario folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import scenarios
from quotaflow.commands.options import ForceOpt
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output

__all__ = ["generate"]


def generate(
    out: Annotated[Path, typer.Argument(help="Folder to write the scenario to.")],
    reps: Annotated[int, typer.Option(min=1, help="Number of reps.")] = 40,
    accounts: Annotated[int, typer.Option(min=1, help="Number of accounts.")] = 2000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    regions: Annotated[int, typer.Option(min=1, help="Number of regions.")] = 4,
    products: Annotated[int, typer.Option(min=1, help="Number of products.")] = 3,
    months: Annotated[int, typer.Option(min=1, max=120, help="Horizon in months.")] = 12,
    name: Annotated[str | None, typer.Option(help="Scenario name.")] = None,
    force: ForceOpt = False,
) -> None:
    """Write a realistic synthetic scenario of any size (same arguments, same scenario)."""
    if reps < regions:
        raise typer.BadParameter(f"--reps {reps} is fewer than --regions {regions}; every region needs a rep")
    claim = claim_output(out, force=force)
    s = scenarios.generate(reps=reps, accounts=accounts, seed=seed, regions=regions, products=products,
                           months=months, name=name)
    with staged_output(claim) as stage:
        scenarios.save(s, stage)
        write_manifest(stage, scenario=s, seeds={"generate": seed})
    typer.echo(f"wrote {out}: {s!r}")
