"""The ``quotaflow`` command line: the Typer application, with every command of ``quotaflow.commands`` on it.

Every command turns user errors into a message on stderr and a distinct exit code (see ``ExitCode`` and the
table in ``quotaflow.commands.errors``); a raw traceback means a bug in quotaflow.

Help is click's plain layout (``rich_markup_mode=None``): help texts name settings as ``[quotas] method`` and
paths as ``reps[tier=junior]``, which rich markup would read as style tags and drop, and plain help shows flags
without a value type.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from quotaflow.commands import WorkflowOrder, register
from quotaflow.commands.errors import guarded

__all__ = ["app", "guarded", "main"]

app = typer.Typer(
    name="quotaflow",
    cls=WorkflowOrder,
    help="Plan who sells to whom, against which target, with which money and pay plan - and simulate it first.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},
)


def _print_version(value: bool) -> None:
    if value:
        try:
            number = version("quotaflow")
        except PackageNotFoundError:  # running from a source tree that was never installed
            number = "unknown (not installed)"
        typer.echo(f"quotaflow {number}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                               help="Print quotaflow's version and exit.")] = False,
) -> None:
    """The options of ``quotaflow`` itself (the commands' help comes from ``Typer(help=...)`` above)."""


register(app)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="quotaflow")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
