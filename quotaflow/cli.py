"""The ``quotaflow`` command line: the Typer application, with every command of ``quotaflow.commands`` on it.

Every command turns user errors into a message on stderr and a distinct exit code (see ``ExitCode`` and the
table in ``quotaflow.commands.errors``); a raw traceback means a bug in quotaflow.
"""

from __future__ import annotations

import sys

import typer

from quotaflow.commands import register
from quotaflow.commands.errors import guarded

__all__ = ["app", "guarded", "main"]

app = typer.Typer(
    name="quotaflow",
    help="Plan who sells to whom, against which target, with which money and pay plan - and simulate it first.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
register(app)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="quotaflow")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
