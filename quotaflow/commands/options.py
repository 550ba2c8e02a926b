"""The command-line options shared by ``quotaflow`` commands, each defined once so that its name and help agree
everywhere, and how their values are read (``--set``, ``--plan``, ``--pay-plans``/``--plans``, ``--workers``).

An option whose help differs between commands (what ``--out`` holds, ``--plan``'s expected files) has one
definition per meaning, named for it.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

import calibration
import scenarios
from quotaflow.errors import GridError

__all__ = [
    "AllowForeignPlanOpt",
    "AsOfOpt",
    "CompareExcelOpt",
    "CrmEncodingOpt",
    "CrmMappingOpt",
    "CrmPresetOpt",
    "DecimalOpt",
    "EncodingOpt",
    "ExcelOpt",
    "ExportArg",
    "ForceOpt",
    "IncentivesOpt",
    "OldPlansOpt",
    "OutOpt",
    "PlanOpt",
    "QuotaPlanOpt",
    "ScenarioArg",
    "SetOpt",
    "SolverOpt",
    "StrictOpt",
    "SweepOutOpt",
    "SweepSetOpt",
    "XlsxOpt",
    "apply_sets",
    "capped_workers",
    "crm_date",
    "parse_set",
    "pay_plan_option",
    "read_plan",
    "scenario_source",
]

ScenarioArg = Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder (written only when the run succeeds).")]
SweepOutOpt = Annotated[Path, typer.Option("--out", help="Output folder (tasks/*.parquet, points.csv, summary.csv).")]
FORCE_HELP = ("Replace an existing output folder, only if quotaflow wrote it (its manifest.json lists every file "
              "in it); the old folder is moved aside and removed only after the new one is in place.")
ForceOpt = Annotated[bool, typer.Option("--force", help=FORCE_HELP)]
ExcelOpt = Annotated[bool, typer.Option("--excel", help="Write CSVs with a UTF-8 BOM so Excel shows non-Latin "
                                        "names correctly.")]
XlsxOpt = Annotated[bool, typer.Option("--xlsx", help="Also write every table into one Excel workbook in --out "
                                      "(a sheet per table, header frozen, numbers formatted; text never a formula).")]
CompareExcelOpt = Annotated[bool, typer.Option("--excel", help="Write CSVs with a UTF-8 BOM for Excel.")]
PlanOpt = Annotated[Path | None, typer.Option("--plan", help="Plan folder (assignments.csv, optional quotas.csv, "
                                                            "budget.csv); default: today's assignment.")]
QuotaPlanOpt = Annotated[Path | None, typer.Option(
    "--plan", help="Plan folder with assignments.csv (e.g. an allocate output); default today's.")]


def _solver(value: str | None) -> str | None:
    if value is not None and value not in ("highs", "cbc"):
        raise typer.BadParameter(f"{value!r} is not a solver quotaflow uses; choose highs or cbc")
    return value


SolverOpt = Annotated[str | None, typer.Option("--solver", callback=_solver,
                                              help="Solver: highs or cbc (default: the scenario's setting).")]


IncentivesOpt = Annotated[str, typer.Option(
    "--incentives", metavar="own|none|PAY_PLAN_ID",
    help="How reps are paid and respond: 'own' = each rep's pay_plan_id from reps.csv (hours and deal order "
         "respond to it, pay follows it), a pay plan id = everyone on that pay plan, 'none' = norm hours and flat "
         "commission (the bare funnel).")]

SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE", help="path=value (repeatable): change the scenario for this run only, e.g. "
                  "behaviour.timing_games=true or pay_plans.capped.cap.target_multiple=2 (as in quotaflow sweep).")]

SweepSetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=V1,V2", help="path=v1,v2,... (repeatable); paths are settings keys or table columns, "
                                        "e.g. reps[tier=junior].hours_per_week=36,40.")]

OldPlansOpt = Annotated[str | None, typer.Option("--plans", hidden=True, help="Old name of --pay-plans.")]
"""``--plans``, the old name of ``--pay-plans``: still read, with a warning (`pay_plan_option`)."""

EncodingOpt = Annotated[str | None, typer.Option(
    "--encoding", help="Encoding of input files that are not UTF-8, e.g. gbk, cp1252, cp932 (files with a byte-order "
                       "mark, such as Excel's UTF-16 'Unicode Text', and UTF-8 files are always read as they are).")]

DecimalOpt = Annotated[str, typer.Option(
    "--decimal", help="Decimal mark of ';'- or tab-separated input files: '.' or ',' (a European Excel export; "
                      "comma-separated files always use '.').")]

AllowForeignPlanOpt = Annotated[bool, typer.Option(
    "--allow-foreign-plan", help="Use a --plan folder made for another scenario (or one without plan.json) "
                                 "without refusing or warning; its files are still checked against the scenario.")]


def _parse_value(text: str, where: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        # A bare word is taken as a string (e.g. --set optimizer.solver=highs,cbc).
        if text and all(ch.isalnum() or ch in "_-." for ch in text):
            return text
        raise GridError(f"{where}: cannot read the value {text!r}; write numbers as 38 or 0.5, booleans as "
                        "true/false, strings as plain words or in double quotes") from None


def parse_set(option: str) -> tuple[str, list[Any]]:
    """Parse ``--set path=v1,v2,...`` into the path and its values (TOML scalars).

    Examples
    --------
    >>> parse_set("tiers.junior.hours_per_week=36,38,40")
    ('tiers.junior.hours_per_week', [36, 38, 40])
    >>> parse_set("optimizer.solver=highs,cbc")
    ('optimizer.solver', ['highs', 'cbc'])
    >>> parse_set("reps[tier=junior].hours_per_week=36,40")
    ('reps[tier=junior].hours_per_week', [36, 40])
    """
    depth, cut = 0, -1
    for i, ch in enumerate(option):  # the first '=' outside [filter] brackets separates path and values
        depth += (ch == "[") - (ch == "]")
        if ch == "=" and depth == 0:
            cut = i
            break
    path, values = (option[:cut].strip(), option[cut + 1:]) if cut >= 0 else ("", "")
    if not path or not values.strip():
        raise GridError(f"--set {option!r}: write it as path=value1,value2 (e.g. budget.total=1e6,2e6)")
    path = scenarios.upgrade_path(path, "--set")
    return path, [_parse_value(v.strip(), f"--set {path}") for v in values.split(",")]


def apply_sets(scenario: scenarios.Scenario, options: Sequence[str]) -> tuple[scenarios.Scenario, dict[str, Any]]:
    """The scenario with ``--set path=value`` options applied (one value each; several values are a sweep).

    Examples
    --------
    >>> import scenarios
    >>> s, changes = apply_sets(scenarios.load("tiny"), ["behaviour.timing_games=true"])
    >>> s.settings.behaviour.timing_games, changes
    (True, {'behaviour.timing_games': True})
    """
    changes: dict[str, Any] = {}
    for option in options:
        path, values = parse_set(option)
        if len(values) != 1:
            raise GridError(f"--set {path}: give one value here; to run several, use quotaflow sweep")
        changes[path] = values[0]
    return (scenarios.modify(scenario, changes) if changes else scenario), changes


def pay_plan_option(pay_plans: str | None, old: str | None) -> str | None:
    """The value of ``--pay-plans``, or of its old name ``--plans`` with a ``warning:`` line on stderr.

    Raises
    ------
    typer.BadParameter
        When both are given (exit code 2).

    Examples
    --------
    >>> pay_plan_option("a,b", None)
    'a,b'
    """
    if old is None:
        return pay_plans
    if pay_plans is not None:
        raise typer.BadParameter("give --pay-plans only: --plans is its old name", param_hint="--plans")
    typer.echo("warning: --plans is the old name of --pay-plans; use --pay-plans (quotaflow reads both for now)",
               err=True)
    return old


def scenario_source(scenario: str) -> Path | None:
    """The folder a scenario argument reads: the path given, or a bundled scenario's folder inside the package
    (so that no ``--out`` can land in it); None for a name that is neither (loading will say so).

    Examples
    --------
    >>> scenario_source("tiny").name, scenario_source("no-such-thing") is None
    ('tiny', True)
    """
    path = Path(scenario)
    if path.exists():
        return path
    bundled = resources.files("scenarios").joinpath("bundled", scenario)
    if isinstance(bundled, Path) and bundled.is_dir():
        return bundled
    return None


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def capped_workers(requested: int, tasks: int, option: str = "--workers") -> int:
    """``requested`` worker processes, capped at the number of tasks and of CPUs this process may use, with a
    note on stderr when capped: more processes than either only cost memory and start-up time, and results do
    not depend on the number of workers.

    Examples
    --------
    >>> capped_workers(1, 10)
    1
    >>> capped_workers(64, 3)  # doctest: +SKIP
    3
    """
    cpus = _cpus()
    limit = max(1, min(tasks, cpus))
    if requested <= limit:
        return requested
    why = (f"only {tasks} {'task' if tasks == 1 else 'tasks'} to run" if tasks <= cpus
           else f"this machine lets quotaflow use {cpus} CPU{'s' if cpus != 1 else ''}")
    typer.echo(f"note: {option} {requested} capped to {limit}: {why}; results do not depend on the number of "
               "workers", err=True)
    return limit


def read_plan(folder: Path, scenario: scenarios.Scenario, *, allow_foreign: bool, encoding: str | None,
              decimal: str) -> scenarios.Plan:
    """``scenarios.Plan.load`` for a ``--plan`` option: the warning about a hand-made plan goes to stderr as a line
    starting with ``warning:`` (a refusal is a ``ScenarioError``, exit code 2)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", scenarios.PlanWarning)
        plan = scenarios.Plan.load(folder, scenario, allow_foreign=allow_foreign, encoding=encoding,
                                   decimal=decimal)
    for warning in caught:
        if issubclass(warning.category, scenarios.PlanWarning):
            typer.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return plan


ExportArg = Annotated[Path, typer.Argument(help="Folder holding the CRM export's CSV files.")]
CrmPresetOpt = Annotated[str | None, typer.Option(
    "--preset", help="Mapping preset: " + ", ".join(calibration.preset_names()) + ".")]
CrmMappingOpt = Annotated[Path | None, typer.Option(
    "--mapping", help="Mapping TOML for any other CRM (see docs/calibration.md).")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Day the data describes (YYYY-MM-DD; default: the latest date in the export). Later data is "
                    "not used.")]
CrmEncodingOpt = Annotated[str | None, typer.Option(
    "--encoding", help="Text encoding of every file (default: detected per file; e.g. utf-8, utf-16, cp1252, "
                       "gb18030).")]
StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Refuse the export (exit 2) if any row had to be excluded or repaired.")]


def crm_date(value: str | None) -> dt.date | None:
    """A ``YYYY-MM-DD`` option value as a date (None stays None).

    Examples
    --------
    >>> crm_date("2017-12-31")
    datetime.date(2017, 12, 31)
    """
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2017-12-31") from None
