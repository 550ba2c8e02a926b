"""The ``quotaflow sweep`` and ``quotaflow report`` commands, and the evaluation each sweep point runs:
optionally re-allocate accounts, set quotas and optimise the marketing budget, then simulate with the point's
scenario on common random numbers. Every swept path is checked first against what this evaluation reads
(``quotaflow.readers``): a path nothing reads is refused before any task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

import scenarios
import sim
from quotaflow.comparison import attainment_spread
from quotaflow.exit_codes import ExitCode, Terminated
from quotaflow.options import DecimalOpt, EncodingOpt, ForceOpt, IncentivesOpt, capped_workers, scenario_source
from quotaflow.output import OutputError, claim_output, staged_output
from quotaflow.quotas import QUOTA_SAMPLES, sample_method, simulated_sales
from quotaflow.readers import Evaluation, check_whatifs, sweep_steps
from quotaflow.report import report
from quotaflow.simulation import incentive_hooks
from quotaflow.sweep import GridError, SweepPoint, SweepResult, expand, load_grid, parse_set, require_dask, sweep

__all__ = ["BUDGET_MODES", "QUOTA_MODES", "PointSimulation", "evaluator_for", "report_command", "simulate_point",
           "sweep_command"]


QUOTA_MODES = ("auto", "default", "set")
"""``--quotas`` of sweep: ``default`` = the simulator's own quotas (target x over-assignment by expected sales),
``set`` = ``optimizer.set_quotas`` with the point's ``[quotas] method`` at every point, ``auto`` = ``set`` when a
point changes a setting only the quota step reads (``quotaflow.readers.sweep_steps``)."""

BUDGET_MODES = ("auto", "today", "optimise")
"""``--budget`` of sweep: ``today`` = channels' ``default_monthly_spend``, ``optimise`` =
``optimizer.allocate_budget`` at every point (demand then follows its ``expected_leads``), ``auto`` = ``optimise``
when a point changes ``budget.*`` or a channel's curve, quality or bounds."""


def _flags(flags: list[tuple[str, float]], replications: int) -> pd.DataFrame:
    """The steps' outcome metrics (``allocation_feasible``, ``budget_spent`` ...), one row per replication."""
    return pd.DataFrame([(r, metric, value) for metric, value in flags for r in range(replications)],
                        columns=["replication", "metric", "value"])


def simulate_point(scenario: scenarios.Scenario, *, replications: int, seed: int, allocate: bool,
                   incentives: str = "none", quotas: str = "default", budget: str = "today") -> pd.DataFrame:
    """Evaluate one sweep point: (re-allocate, set quotas, optimise the budget when asked, then) simulate; one
    row per replication and metric.

    ``incentives`` as ``quotaflow simulate --incentives`` (``quotaflow.simulation.incentive_hooks``); the sweep
    command runs it through `PointSimulation`, whose default is ``own``. ``quotas="set"`` puts the quotas of
    ``optimizer.set_quotas`` (the point's ``[quotas]`` method; ``equal_probability`` draws its sales samples with
    the point's seed) into the simulated plan, ``budget="optimise"`` the budget of ``optimizer.allocate_budget``.

    A step with no answer at the point (an infeasible allocation, quotas outside the tier bounds, channel minimums
    above the budget) is a result, not a crash: the point gets ``<step>_feasible = 0`` and no simulated metrics.
    Each step run adds ``allocation_feasible``, ``quotas_feasible`` or ``budget_feasible`` = 1; the allocation
    also ``allocation_objective``, ``allocation_travel_km`` and ``allocation_moved`` (accounts that change rep),
    the budget step ``budget_spent`` and ``budget_expected_leads`` (what the money buys).

    Examples
    --------
    >>> rows = simulate_point(scenarios.load("tiny"), replications=2, seed=1, allocate=False)
    >>> sorted(rows.columns), rows["replication"].nunique()
    (['metric', 'replication', 'value'], 2)
    >>> rows = simulate_point(scenarios.load("tiny"), replications=1, seed=1, allocate=False, budget="optimise")
    >>> round(float(rows.set_index("metric").loc["budget_spent", "value"]))
    86000
    """
    flags: list[tuple[str, float]] = []
    plan = None
    if allocate or quotas == "set" or budget == "optimise":
        import optimizer

        if allocate:
            allocation = optimizer.allocate(scenario)
            if not allocation.ok:
                return _flags([("allocation_feasible", 0.0)], replications)
            moves = allocation.assignments
            flags += [("allocation_feasible", 1.0), ("allocation_objective", float(allocation.objective)),
                      ("allocation_travel_km", float(moves["travel_km"].sum())),
                      ("allocation_moved", float(moves["moved"].sum()))]
            plan = allocation.plan()
        assignment = (plan or scenarios.Plan.current(scenario)).assignment
        quota_table = budget_table = None
        if quotas == "set":
            samples = (simulated_sales(scenario, assignment, replications=max(replications, QUOTA_SAMPLES), seed=seed)
                       if sample_method(scenario, None) else None)
            try:
                quota_table = optimizer.set_quotas(scenario, assignment, sales_distribution=samples).quotas
            except optimizer.QuotaError:
                return _flags([*flags, ("quotas_feasible", 0.0)], replications)
            flags.append(("quotas_feasible", 1.0))
        if budget == "optimise":
            try:
                spend = optimizer.allocate_budget(scenario)
            except optimizer.BudgetError:
                return _flags([*flags, ("budget_feasible", 0.0)], replications)
            budget_table = spend.budget
            flags += [("budget_feasible", 1.0), ("budget_spent", float(spend.spent)),
                      ("budget_expected_leads", float(budget_table["expected_leads"].sum()))]
        plan = scenarios.Plan(assignment=assignment, quotas=quota_table, budget=budget_table, source="sweep point")
    behaviour, pay = incentive_hooks(scenario, plan, incentives)
    result = sim.simulate(scenario, plan, replications=replications, seed=seed, workers=1, behaviour=behaviour,
                          pay=pay)
    # the reps' attainment spread shows what a quota what-if does when company totals stay the same
    table = result.replications.merge(attainment_spread(result.replication_reps), on="replication", how="left")
    rows = table.melt(id_vars="replication", var_name="metric", value_name="value")
    if flags:
        rows = pd.concat([_flags(flags, replications), rows], ignore_index=True)
    return rows


@dataclass(frozen=True)
class PointSimulation:
    """The sweep's evaluator: `simulate_point` with an ``--incentives`` mode and the optional quota and budget
    steps (picklable; its repr names the modes, so a resumed sweep never reuses tasks run under other modes).

    Examples
    --------
    >>> PointSimulation("own")(scenarios.load("tiny"), replications=2, seed=1, allocate=False)["metric"].nunique() > 10
    True
    """

    incentives: str = "own"
    quotas: str = "default"
    budget: str = "today"

    def __post_init__(self) -> None:
        if self.quotas not in QUOTA_MODES[1:]:
            raise GridError(f"--quotas {self.quotas!r}: use {', '.join(QUOTA_MODES)}")
        if self.budget not in BUDGET_MODES[1:]:
            raise GridError(f"--budget {self.budget!r}: use {', '.join(BUDGET_MODES)}")

    def __call__(self, scenario: scenarios.Scenario, *, replications: int, seed: int,
                 allocate: bool) -> pd.DataFrame:
        return simulate_point(scenario, replications=replications, seed=seed, allocate=allocate,
                              incentives=self.incentives, quotas=self.quotas, budget=self.budget)

    def evaluation(self, *, allocate: bool) -> Evaluation:
        """What a sweep with this evaluator computes at each point (for `check`)."""
        return Evaluation("sweep", incentives=self.incentives, allocate=allocate, quota_step=self.quotas == "set",
                          budget_step=self.budget == "optimise")

    def check(self, scenario: scenarios.Scenario, points: Sequence[SweepPoint], *, allocate: bool) -> list[str]:
        """Refuse points whose changes this evaluation cannot see (``quotaflow.readers.check_whatifs``); return
        notes worth a warning. ``sweep`` calls it before any task runs."""
        return check_whatifs(scenario, [(p.label, p.changes) for p in points], self.evaluation(allocate=allocate),
                             option="sweep path")


def evaluator_for(points: Sequence[SweepPoint], *, incentives: str = "own", quotas: str = "auto",
                  budget: str = "auto") -> PointSimulation:
    """The sweep's evaluator with ``auto`` modes resolved from the swept paths (``quotaflow.readers.sweep_steps``).

    Examples
    --------
    >>> evaluator_for([SweepPoint("a", {"budget.total": 2e5})])
    PointSimulation(incentives='own', quotas='default', budget='optimise')
    """
    if quotas not in QUOTA_MODES:
        raise GridError(f"--quotas {quotas!r}: use {', '.join(QUOTA_MODES)}")
    if budget not in BUDGET_MODES:
        raise GridError(f"--budget {budget!r}: use {', '.join(BUDGET_MODES)}")
    set_quotas, optimise = sweep_steps(list(dict.fromkeys(k for p in points for k in p.changes)), quotas=quotas,
                                       budget=budget)
    return PointSimulation(incentives, "set" if set_quotas else "default", "optimise" if optimise else "today")


def _points(grid: Path | None, sets: list[str], encoding: str | None = None) -> list[SweepPoint]:
    axes: dict[str, list[object]] = {}
    variants: list[SweepPoint] = []
    if grid is not None:
        axes, variants = load_grid(grid, encoding=encoding)
    for option in sets:
        path, values = parse_set(option)
        if path in axes:
            raise GridError(f"--set {path} repeats a path already in the grid; give it once")
        axes[path] = values
    if not axes and not variants:
        raise GridError("nothing to sweep: give --grid grid.toml and/or --set path=v1,v2")
    return expand(axes, variants)


def sweep_command(
    scenario: Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (tasks/*.parquet, points.csv, summary.csv).")],
    grid: Annotated[Path | None, typer.Option("--grid", help="TOML file with [grid] axes and [[variants]].")]
    = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="path=v1,v2,... (repeatable); paths are "
                                                   "settings keys or table columns, e.g. "
                                                   "reps[tier=junior].hours_per_week=36,40.")] = None,
    replications: Annotated[int, typer.Option(min=1, help="Replications per point.")] = 5,
    seed: Annotated[int, typer.Option(min=0, help="Root seed, the same for every point (common random "
                                               "numbers).")] = 20261123,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    dask_local: Annotated[int | None, typer.Option("--dask-local", min=1, help="Start a Dask LocalCluster with "
                                                   "this many workers.")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Join a running Dask scheduler, e.g. "
                                                  "tcp://10.0.0.5:8786.")] = None,
    dashboard: Annotated[bool, typer.Option("--dashboard", help="With --dask-local: serve the Dask dashboard, "
                                            "on this machine only (127.0.0.1; the address is printed).")]
    = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the sweep in --out (same scenario, grid, "
                                         "replications, seed and mode, as its manifest.json records): run only "
                                         "the missing or corrupt tasks.")] = False,
    allocate: Annotated[bool, typer.Option("--allocate", help="Re-allocate accounts at every point.")] = False,
    quotas: Annotated[str, typer.Option("--quotas", help="Quotas at every point: 'default' = the simulator's own "
                                        "(target x over-assignment by expected sales), 'set' = optimizer.set_quotas "
                                        "with [quotas] method, 'auto' = set when a quota setting is swept.")]
    = "auto",
    budget: Annotated[str, typer.Option("--budget", help="Marketing spend at every point: 'today' = channels' "
                                        "default_monthly_spend, 'optimise' = optimizer.allocate_budget, 'auto' = "
                                        "optimise when budget.* or channels.* (other than "
                                        "default_monthly_spend) is swept.")] = "auto",
    incentives: IncentivesOpt = "own",
    force: ForceOpt = False,
    excel: Annotated[bool, typer.Option("--excel", help="Write CSVs with a UTF-8 BOM so Excel shows non-Latin "
                                        "names correctly.")] = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Run a what-if sweep: every point of a grid (and/or named variants) simulated on the same customers."""
    if resume and force:
        raise GridError("give --resume (continue the sweep in --out) or --force (replace it), not both")
    if dask_local is not None and scheduler is not None:
        raise GridError("give either --dask-local or --scheduler, not both")
    if dashboard and dask_local is None:
        raise GridError("--dashboard shows a --dask-local cluster; for --scheduler, open its own dashboard")
    claim = claim_output(out, force=force, reads=[scenario_source(scenario), grid], resume=resume, resumable=True)
    if dask_local is not None or scheduler is not None:
        require_dask("--dask-local" if dask_local is not None else "--scheduler")
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    incentive_hooks(s, None, incentives)  # an unknown pay plan id fails here, before any task runs
    points = _points(grid, set_ or [], encoding)
    evaluator = evaluator_for(points, incentives=incentives, quotas=quotas, budget=budget)
    for note in evaluator.check(s, points, allocate=allocate):  # refuses what this evaluation cannot see
        typer.echo(f"warning: {note}", err=True)
    workers = capped_workers(workers, len(points))
    if dask_local is not None:
        dask_local = capped_workers(dask_local, len(points), "--dask-local")
    concurrent = (dask_local or workers) if scheduler is None else 1  # a remote cluster's memory is not ours
    sim.check_memory(s, replications, copies=concurrent, option="--replications")
    record = {"points": len(points), "replications": replications, "allocate": allocate, "incentives": incentives,
              "quotas": _QUOTA_NOTE[evaluator.quotas], "budget": _BUDGET_NOTE[evaluator.budget],
              "executor": "dask" if (dask_local or scheduler) else f"local x{workers}"}

    def run(target: Path, resume_here: bool) -> SweepResult:
        return sweep(s, points, evaluate=evaluator, out=target, replications=replications,
                     seed=seed, allocate=allocate, workers=workers, dask_local=dask_local, scheduler=scheduler,
                     resume=resume_here, excel=excel, dashboard=dashboard, record=record)

    folder = claim.requested
    try:
        if claim.replaces:  # --force over an earlier sweep: build the new one aside, swap only when it is done
            with staged_output(claim) as stage:
                result = run(stage, False)
        else:
            try:
                claim.final.mkdir(exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot create {folder} ({exc.strerror}); choose an --out folder you can write "
                                  "to") from None
            result = run(claim.final, resume)
            claim.release(published=True)
    except KeyboardInterrupt as exc:
        kept = (f"the earlier sweep in {folder} is untouched and the new one was discarded" if claim.replaces
                else f"finished tasks are kept in {folder / 'tasks'}; rerun with --resume to finish")
        signal_name = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        typer.echo(f"{signal_name}: {kept}", err=True)
        raise typer.Exit(ExitCode.TERMINATED if isinstance(exc, Terminated) else ExitCode.INTERRUPTED) from None
    typer.echo(repr(result))
    for note in _failed_steps(result):
        typer.echo(f"warning: {note}", err=True)
    typer.echo(f"\nwrote {folder}: points.csv, summary.csv (+ .parquet), tasks/ ({len(points)} files)")


_QUOTA_NOTE = {"default": "the simulator's default quotas (target x over-assignment by expected sales) at every "
                          "point",
               "set": "set at every point by optimizer.set_quotas ([quotas] method of the point)"}
_BUDGET_NOTE = {"today": "channels' default_monthly_spend (today's spend) at every point",
                "optimise": "re-optimised at every point by optimizer.allocate_budget; demand follows its "
                            "expected_leads (today's spend only in the warm-up)"}
_STEP_FLAGS = {"allocation_feasible": ("no feasible allocation", "quotaflow allocate explains why"),
               "quotas_feasible": ("no quotas within the tier bounds", "quotaflow quotas explains why"),
               "budget_feasible": ("no feasible budget", "quotaflow budget explains why")}


def _failed_steps(result: SweepResult) -> list[str]:
    """One line per step that had no answer at some points (those points have no simulated metrics)."""
    notes = []
    for metric, (what, hint) in _STEP_FLAGS.items():
        rows = result.summary[(result.summary["metric"] == metric) & (result.summary["mean"] < 1.0)]
        if len(rows):
            labels = result.points.set_index("point_id").loc[rows["point_id"], "label"].tolist()
            notes.append(f"{what} at {len(labels)} point(s): " + ", ".join(labels[:5])
                         + (" ..." if len(labels) > 5 else "") + f"; they have no simulated metrics ({hint})")
    return notes


def report_command(
    folder: Annotated[Path, typer.Argument(help="A sweep output folder.")],
    metric: Annotated[str, typer.Option(help="Metric to rank and plot.")] = "revenue",
    top: Annotated[int, typer.Option(min=1, help="How many points to list.")] = 5,
    minimise: Annotated[bool, typer.Option("--minimise", help="Smallest first (for costs).")] = False,
) -> None:
    """Summarise a sweep: the best points by a metric and response plots (PNG) per swept parameter."""
    rep = report(folder, metric=metric, top=top, minimise=minimise)
    typer.echo(repr(rep))
