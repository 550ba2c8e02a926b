"""The ``quotaflow`` command line: validate, generate, demo (and the engine commands registered below).

Every command turns user errors into a message on stderr and a distinct exit code (see ``ExitCode``); a raw
traceback means a bug in quotaflow.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

import scenarios
import sim
from optimizer import BudgetError, BudgetSolverError, QuotaError, QuotaSolverError  # quotas and budget (issue 4)
from quotaflow.budget import budget_command  # quotas and budget (issue 4)
from quotaflow.exit_codes import ExitCode, Terminated
from quotaflow.manifest import write_manifest
from quotaflow.options import DecimalOpt, EncodingOpt, ForceOpt, OutOpt, ScenarioArg, capped_workers, scenario_source
from quotaflow.output import OutputError, claim_output, release_claims, staged_output
from quotaflow.overview import overview, overview_text
from quotaflow.quotas import quotas_command  # quotas and budget (issue 4)
from quotaflow.writer import write_json

__all__ = ["app", "guarded", "main"]

app = typer.Typer(
    name="quotaflow",
    help="Plan who sells to whom, against which target, with which money and pay plan - and simulate it first.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

F = TypeVar("F", bound=Callable[..., Any])

# Error types of the layers and the exit code each maps to; engine modules add theirs with `register_error`.
_EXIT_FOR: dict[type[BaseException], ExitCode] = {
    scenarios.ScenarioError: ExitCode.INPUT,
    OutputError: ExitCode.OUTPUT,
}


def register_error(kind: type[BaseException], code: ExitCode) -> None:
    """Map an error type raised by an engine to the exit code the CLI returns for it."""
    _EXIT_FOR[kind] = code


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
    """Run a command, turning known errors into a clean message and their exit code, old names in the user's
    files into ``warning:`` lines, and SIGTERM into exit 143 after the same clean-up as Ctrl-C."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _sigterm_as_interrupt(), _old_names_as_warnings():
                return fn(*args, **kwargs)
        except Terminated:
            typer.echo("terminated (SIGTERM); no partial output was kept", err=True)
            raise typer.Exit(ExitCode.TERMINATED) from None
        except KeyboardInterrupt:
            typer.echo("interrupted; no partial output was kept", err=True)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except tuple(_EXIT_FOR) as exc:
            # The most specific registered type wins (InfeasibleError before its base AllocationError).
            code = next(_EXIT_FOR[kind] for kind in type(exc).__mro__ if kind in _EXIT_FOR)
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code) from None
        finally:
            release_claims()  # a command that failed between claiming --out and writing it

    return wrapper  # type: ignore[return-value]




@app.command()
@guarded
def validate(scenario: ScenarioArg, encoding: EncodingOpt = None, decimal: DecimalOpt = ".") -> None:
    """Check a scenario and print its overview; exit 2 with every problem listed if it is not valid."""
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    typer.echo(overview_text(s))
    typer.echo("\nvalid: no problems found")


@app.command()
@guarded
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


@app.command()
@guarded
def demo(
    out: OutOpt = Path("out/demo"),
    scenario: Annotated[str, typer.Option(help="Scenario to run (folder or bundled name).")] = "baseline",
    replications: Annotated[int, typer.Option(min=2, help="Replications per pay plan.")] = 8,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: simulation.seed).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes for the simulations.")] = 2,
    force: ForceOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """The default job: allocate accounts, set quotas, split the budget, then simulate and compare every
    pay plan of the scenario on the same customers; tables and plots go to --out."""
    from quotaflow.demo import run_demo

    claim = claim_output(out, force=force, reads=[scenario_source(scenario)])
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    workers = capped_workers(workers, replications)
    typer.echo(overview_text(s))
    typer.echo("\nrunning: allocate -> quotas -> budget -> simulate and compare "
               f"{len(s.settings.pay_plans)} pay plans x {replications} replications ...")
    root = s.settings.simulation.seed if seed is None else seed
    with staged_output(claim) as stage:
        write_json(overview(s), stage / "overview.json")
        result = run_demo(s, stage, replications=replications, seed=root, workers=workers)
    typer.echo("")
    typer.echo(result.headline())
    typer.echo(f"\nwrote {out}/")
    for folder, files in result.files.items():
        typer.echo(f"  {folder}/: {', '.join(files)}")
    typer.echo("  overview.json, summary.json, manifest.json")


# Incentive pay statements for given bookings (issue 6).
from quotaflow.payout import pay_command  # noqa: E402
from sim.incentives import PayError  # noqa: E402

register_error(PayError, ExitCode.INPUT)
app.command(name="pay")(guarded(pay_command))
# --- quotas and budget (issue 4) ---
register_error(QuotaError, ExitCode.INFEASIBLE)
register_error(QuotaSolverError, ExitCode.SOLVER)
register_error(BudgetError, ExitCode.INFEASIBLE)
register_error(BudgetSolverError, ExitCode.SOLVER)
app.command(name="quotas")(guarded(quotas_command))
app.command(name="budget")(guarded(budget_command))
# --- end quotas and budget ---
# --- simulator (issue 5) ---
from quotaflow.simulation import simulate_command  # noqa: E402

register_error(sim.SimulationError, ExitCode.INPUT)
app.command(name="simulate")(guarded(simulate_command))
# --- end simulator ---

# --- territory allocation (issue 3) ---
from optimizer import AllocationError, InfeasibleError, SolverError  # noqa: E402
from quotaflow.territory import allocate_command, frontier_command  # noqa: E402

register_error(AllocationError, ExitCode.INPUT)
register_error(InfeasibleError, ExitCode.INFEASIBLE)
register_error(SolverError, ExitCode.SOLVER)
app.command(name="allocate")(guarded(allocate_command))
app.command(name="frontier")(guarded(frontier_command))
# --- end territory allocation ---

# --- what-if sweeps (issue 7) ---
from quotaflow.report import ReportError  # noqa: E402
from quotaflow.sweep import GridError, MissingExtraError  # noqa: E402
from quotaflow.whatif import report_command, sweep_command  # noqa: E402

register_error(GridError, ExitCode.INPUT)
register_error(MissingExtraError, ExitCode.INPUT)
register_error(ReportError, ExitCode.INPUT)
app.command(name="sweep")(guarded(sweep_command))
app.command(name="report")(guarded(report_command))
# --- end what-if sweeps ---

# --- plan comparison (issue 6) ---
from quotaflow.comparison import ComparisonError, compare_command  # noqa: E402

register_error(ComparisonError, ExitCode.INPUT)
app.command(name="compare")(guarded(compare_command))
# --- end plan comparison ---

# --- calibration from a CRM export ---
from quotaflow.calibrate_command import calibrate_command  # noqa: E402

app.command(name="calibrate")(guarded(calibrate_command))
# --- end calibration ---


def main() -> None:
    """Console-script entry point."""
    app(prog_name="quotaflow")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
