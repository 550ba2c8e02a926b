"""The ``quotaflow`` commands: one module per command, and the one table (`COMMANDS`) that registers them.

Each command module holds only its command-line face (options, messages, which files it writes); the work is
done by quotaflow's other modules and the engines' public faces. Options shared by several commands are
defined once in ``quotaflow.commands.options``; every command runs under ``quotaflow.commands.errors.guarded``,
which maps errors to exit codes by one table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperGroup

from quotaflow.commands.allocate import allocate_command
from quotaflow.commands.backtest import backtest_command
from quotaflow.commands.budget import budget_command
from quotaflow.commands.calibrate import calibrate_command
from quotaflow.commands.compare import compare_command
from quotaflow.commands.demo import demo
from quotaflow.commands.diagnose import diagnose_command
from quotaflow.commands.errors import guarded
from quotaflow.commands.frontier import frontier_command
from quotaflow.commands.generate import generate
from quotaflow.commands.pay import pay_command
from quotaflow.commands.quotas import quotas_command
from quotaflow.commands.report import report_command
from quotaflow.commands.scenario import scenario_app
from quotaflow.commands.simulate import simulate_command
from quotaflow.commands.sweep import sweep_command
from quotaflow.commands.validate import validate

__all__ = ["COMMANDS", "WorkflowOrder", "register"]

COMMANDS: tuple[tuple[str, Callable[..., Any] | typer.Typer], ...] = (
    # a scenario: check one, make a synthetic one, or calibrate one from a CRM export
    ("validate", validate),
    ("generate", generate),
    ("calibrate", calibrate_command),
    ("scenario", scenario_app),  # a group: copy, add-reps, remove-reps
    # the whole job, then its steps in the order the demo runs them
    ("demo", demo),
    ("allocate", allocate_command),
    ("quotas", quotas_command),
    ("budget", budget_command),
    ("simulate", simulate_command),
    # pay plans, what-ifs and trade-offs
    ("compare", compare_command),
    ("pay", pay_command),
    ("sweep", sweep_command),
    ("report", report_command),
    ("frontier", frontier_command),
    # a CRM export's reps, and how well the calibrated simulator forecasts
    ("diagnose", diagnose_command),
    ("backtest", backtest_command),
)
"""Every command by name, in the order ``quotaflow --help`` lists them: a planner's workflow. A ``typer.Typer``
is a command group whose subcommands are each run under `guarded` where the group defines them."""


def register(app: typer.Typer) -> None:
    """Add every command of `COMMANDS` to ``app``, each run under `guarded`."""
    for name, command in COMMANDS:
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name)
        else:
            app.command(name=name)(guarded(command))


class WorkflowOrder(TyperGroup):
    """Lists commands and command groups together in `COMMANDS` order (Typer would put groups last)."""

    def list_commands(self, ctx: Any) -> list[str]:  # click.Context (typer may carry its own click)
        listed = [name for name, _ in COMMANDS if name in self.commands]
        return listed + [name for name in super().list_commands(ctx) if name not in listed]
