"""The one table from error type to exit code, and `guarded`, which runs every command under it.

Every command turns a user error into one ``error:`` line on stderr and the exit code of its kind (see
``quotaflow.exit_codes.ExitCode``); Ctrl-C and SIGTERM end it after the same clean-up; a raw traceback means a
bug in quotaflow.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer

import optimizer
import scenarios
import sim
from quotaflow.errors import ComparisonError, GridError, MissingExtraError, OutputError, ReportError
from quotaflow.exit_codes import ExitCode, Terminated
from quotaflow.output import release_claims

__all__ = ["EXIT_CODES", "exit_code", "guarded", "stopped"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES: dict[type[BaseException], ExitCode] = {
    scenarios.ScenarioError: ExitCode.INPUT,
    ComparisonError: ExitCode.INPUT,
    GridError: ExitCode.INPUT,
    MissingExtraError: ExitCode.INPUT,
    ReportError: ExitCode.INPUT,
    sim.PayError: ExitCode.INPUT,
    sim.SimulationError: ExitCode.INPUT,
    optimizer.AllocationError: ExitCode.INPUT,
    optimizer.InfeasibleError: ExitCode.INFEASIBLE,
    optimizer.QuotaError: ExitCode.INFEASIBLE,
    optimizer.BudgetError: ExitCode.INFEASIBLE,
    optimizer.SolverError: ExitCode.SOLVER,
    optimizer.QuotaSolverError: ExitCode.SOLVER,
    optimizer.BudgetSolverError: ExitCode.SOLVER,
    OutputError: ExitCode.OUTPUT,
    Terminated: ExitCode.TERMINATED,
    KeyboardInterrupt: ExitCode.INTERRUPTED,
}
"""Every error a command may end with and its exit code; the most specific type in an error's class hierarchy
wins (``InfeasibleError`` before its base ``AllocationError``, ``Terminated`` before ``KeyboardInterrupt``)."""


def exit_code(exc: BaseException) -> ExitCode | None:
    """The exit code of ``exc`` by `EXIT_CODES`, or None for an error no table entry covers (a bug).

    Examples
    --------
    >>> exit_code(optimizer.InfeasibleError(["x"])), exit_code(ValueError())
    (<ExitCode.INFEASIBLE: 3>, None)
    """
    return next((EXIT_CODES[kind] for kind in type(exc).__mro__ if kind in EXIT_CODES), None)


def stopped(exc: KeyboardInterrupt, what_was_kept: str, sep: str = "; ") -> typer.Exit:
    """Say on stderr that Ctrl-C or SIGTERM stopped the run and what was kept; the exit to raise for it."""
    signal_name = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    typer.echo(f"{signal_name}{sep}{what_was_kept}", err=True)
    return typer.Exit(exit_code(exc) or ExitCode.INTERRUPTED)


_MAIN_PID = os.getpid()


def _on_sigterm(signum: int, frame: object) -> None:
    if os.getpid() != _MAIN_PID:
        # A worker forked from the CLI inherits this handler: end it as the default action would.
        os._exit(128 + signum)
    raise Terminated


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread (e.g. a command run by a test thread)
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _old_names_as_warnings() -> Iterator[None]:
    """Show each ``scenarios.ScenarioDeprecationWarning`` (an old name in the user's files or options) once, as a
    ``warning:`` line on stderr: the run goes on, and the user learns what to rename. Other warnings are left to
    the filters in force."""
    shown: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", scenarios.ScenarioDeprecationWarning)
        previous = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
            if not issubclass(category, scenarios.ScenarioDeprecationWarning):
                previous(message, category, filename, lineno, file, line)
            elif str(message) not in shown:
                shown.add(str(message))
                typer.echo(f"warning: {message}", err=True)

        warnings.showwarning = show
        yield


def guarded(fn: F) -> F:
    """Run a command, turning known errors into a clean message and their exit code (`EXIT_CODES`), old names
    in the user's files into ``warning:`` lines, and SIGTERM into exit 143 after the same clean-up as Ctrl-C."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _sigterm_as_interrupt(), _old_names_as_warnings():
                return fn(*args, **kwargs)
        except KeyboardInterrupt as exc:
            raise stopped(exc, "no partial output was kept") from None
        except tuple(EXIT_CODES) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exit_code(exc) or ExitCode.INTERNAL) from None
        finally:
            release_claims()  # a command that failed between claiming --out and writing it

    return wrapper  # type: ignore[return-value]
