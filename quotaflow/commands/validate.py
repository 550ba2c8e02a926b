"""``quotaflow validate``: check a scenario and print its overview."""

from __future__ import annotations

import typer

import scenarios
from quotaflow.commands.options import DecimalOpt, EncodingOpt, ScenarioArg
from quotaflow.overview import overview_text

__all__ = ["validate"]


def validate(scenario: ScenarioArg, encoding: EncodingOpt = None, decimal: DecimalOpt = ".") -> None:
    """Check a scenario and print its overview; exit 2 with every problem listed if it is not valid."""
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    typer.echo(overview_text(s))
    typer.echo("\nvalid: no problems found")
