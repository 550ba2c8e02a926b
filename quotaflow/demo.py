"""The default job (``quotaflow demo`` / ``make demo``): allocate accounts, set quotas for the new territories,
split the marketing budget, then simulate the resulting plan under every pay plan of the scenario on the same
customers and compare them, writing every table and plot to one output folder.
"""

from __future__ import annotations

import dataclasses
import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

import scenarios
from optimizer import (
    AllocationResult,
    BudgetResult,
    Progress,
    QuotaResult,
    allocate,
    allocate_budget,
    evaluate,
    extract,
    prepare,
    set_quotas,
)
from quotaflow.allocation_run import ProgressLine
from quotaflow.charts.files import plot_comparison
from quotaflow.comparison import ComparisonResult, compare
from quotaflow.manifest import write_manifest
from quotaflow.payout import designed_pay_curves, median_quota
from quotaflow.quotas import QUOTA_SAMPLES, sample_method, simulated_sales
from quotaflow.writer import Sheets, write_json, write_result, write_tables, write_workbook
from scenarios import PlanOrigin

__all__ = ["DEMO_TIME_LIMIT", "HEARTBEAT_S", "DemoProgress", "DemoResult", "demo_allocation", "run_demo", "territory",
           "workload_today"]

# The demo's allocation is solved to the scenario's mip_gap, and this wall limit is only a safety net: a plan cut
# off by the clock would depend on how busy the machine is. baseline's MIP reaches its gap at the root node in
# 100 s on a 2-core machine at load average 7.7 (benchmarks/RESULTS.md, "Allocation under one deadline"); 600 s
# is six times that.
DEMO_TIME_LIMIT = 600.0


@dataclass(frozen=True, eq=False)
class DemoResult:
    """Everything the default job produced, and where it wrote it."""

    allocation: AllocationResult
    quotas: QuotaResult
    budget: BudgetResult
    comparison: ComparisonResult
    files: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def headline(self) -> str:
        """The short summary table printed at the end of ``quotaflow demo``."""
        a, q, b, c = self.allocation, self.quotas, self.budget, self.comparison
        lines = [
            f"1. Territories  {a.status}, gap {a.gap:.3%} to a proven bound; "
            f"{int(a.assignments['moved'].sum())} of {len(a.assignments)} accounts move "
            f"({self.seconds.get('allocate', 0):.0f} s)" + ("" if a.status == "optimal" else
                                                           "; stopped by the time limit, so another machine "
                                                           "may find another plan"),
            f"2. Quotas       {q.summary().get('method')}: total {q.quotas['quota'].sum():,.0f} over "
            f"{q.quotas['rep_id'].nunique()} reps; {int(q.reps['flagged'].sum())} flagged above their potential share",
            f"3. Budget       {b.status}: {b.budget['spend'].sum():,.0f} spent for "
            f"{b.budget['expected_leads'].sum():,.0f} expected leads",
            f"4. Pay plans    {len(c.info.get('plans', []))} pay plans x {c.info.get('replications')} replications "
            "on the "
            "same customers:",
            repr(c),
        ]
        return "\n".join(lines)


def demo_allocation(scenario: scenarios.Scenario,
                    progress: Callable[[Progress], None] | None = None) -> AllocationResult:
    """The demo's allocation: to the scenario's ``mip_gap``, with a wall limit of at least `DEMO_TIME_LIMIT`
    seconds as a safety net only, so that the same scenario gives the same plan on a quiet and on a loaded
    machine (HiGHS's search does not depend on the clock; only a time limit that stops it does). ``progress``
    receives the allocator's reports (phase, bound, incumbent, gap)."""
    st = scenario.settings.optimizer
    return allocate(scenario, st.model_copy(update={"time_limit_s": max(st.time_limit_s, DEMO_TIME_LIMIT)}),
                    progress=progress)


HEARTBEAT_S = 30.0
"""Seconds between "still in <phase>" lines of the demo's allocation when stderr is not a terminal (a log)."""


class DemoProgress:
    """What the demo is doing, on stderr: a line as each step starts and ends with its seconds; during the
    allocation the allocator's progress (phase, proven bound, incumbent, gap) and during simulations the
    replications done. On a terminal the allocation and replications update one line in place
    (``quotaflow.allocation_run.ProgressLine``); elsewhere (a log, a CI job) each allocation phase and each
    finished simulation is one line, so a log never fills with redraws."""

    def __init__(self, steps: int, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.steps = steps
        self._step = 0
        self._phase = ""
        self._line: ProgressLine | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Announce step ``name``, run it, and report its seconds."""
        self._step += 1
        self._say(f"demo [{self._step}/{self.steps}] {name} ...")
        started = time.perf_counter()
        yield
        self._say(f"demo [{self._step}/{self.steps}] {name}: done in {time.perf_counter() - started:.1f} s")

    def allocation(self) -> Callable[[Progress], None]:
        """The allocator's progress callback. The allocator reports when a phase starts; a solver phase can
        then run for minutes, so a heartbeat keeps the elapsed time moving (every second on a terminal, a line
        every `HEARTBEAT_S` seconds elsewhere). Close it with `finish_allocation`."""
        self._stop = threading.Event()
        self._last: tuple[Progress, float] | None = None
        if self.live:
            self._line = ProgressLine()
        line = self._line

        def report(p: Progress) -> None:
            self._last = (p, time.perf_counter() - p.elapsed)
            if line is not None:
                with self._lock:
                    line(p)
            elif p.phase != self._phase:  # one line per phase; bound and incumbent as they stand then
                self._phase = p.phase
                self._say("  " + ProgressLine.text(p))

        def beat() -> None:
            every = 1.0 if line is not None else HEARTBEAT_S
            while not self._stop.wait(every):
                if self._last is None:
                    continue
                p, started = self._last
                now = dataclasses.replace(p, elapsed=time.perf_counter() - started)
                if line is not None:
                    with self._lock:
                        if not self._stop.is_set():
                            line(now)
                else:
                    self._say(f"  allocate: still in {p.phase} | {now.elapsed:.0f} s")

        threading.Thread(target=beat, name="demo-allocation-heartbeat", daemon=True).start()
        return report

    def finish_allocation(self) -> None:
        """Stop the heartbeat and end the allocator's live line, if one is shown."""
        with self._lock:
            self._stop.set()
            if self._line is not None:
                self._line.close()
                self._line = None

    def replications(self, what: str, total: int) -> Callable[[int], None]:
        """A callback for ``sim.simulate(progress=...)``: replications done of ``total`` for ``what``."""
        def report(done: int) -> None:
            if self.live:
                print(f"\r  {what}: {done}/{total} replications", end="" if done < total else "\n",
                      file=self.stream, flush=True)
            elif done == total:
                self._say(f"  {what}: {total}/{total} replications")
        return report


def workload_today(scenario: scenarios.Scenario) -> pd.DataFrame:
    """Each rep's workload under today's assignment (``accounts.current_rep_id``), scored by the allocator's own
    validator (``optimizer.evaluate``): ``rep_id, accounts, hours, capacity_hours, value, travel_km``, the columns
    of ``AllocationResult.reps`` without shadow prices. An account held today by a rep who is not a candidate for
    it (beyond the allowed distance, say) counts no hours, as the allocator cannot price that pair.

    Examples
    --------
    >>> s = scenarios.load("tiny")
    >>> today = workload_today(s)
    >>> int(today["accounts"].sum()) <= len(s.accounts), list(today.columns)[:4]
    (True, ['rep_id', 'accounts', 'hours', 'capacity_hours'])
    """
    settings = scenario.settings.optimizer
    validation = evaluate(scenario, scenarios.Plan.current(scenario), settings)
    _, reps = extract(scenario, prepare(scenario, settings), validation, {})
    return reps[["rep_id", "accounts", "hours", "capacity_hours", "value", "travel_km"]]


def territory(scenario: scenarios.Scenario, assignments: pd.DataFrame) -> pd.DataFrame:
    """The accounts on the map: ``account_id, rep_id, previous_rep_id, moved, latitude, longitude,
    annual_potential`` from an allocation's assignments and the scenario's account coordinates."""
    accounts = scenario.accounts
    out = assignments[["account_id", "rep_id", "previous_rep_id", "moved"]].copy()
    for col in ("latitude", "longitude", "annual_potential"):
        out[col] = accounts[col].reindex(out["account_id"]).to_numpy(dtype=float)
    return out


def run_demo(scenario: scenarios.Scenario, folder: Path, *, replications: int, seed: int,
             workers: int = 1, excel: bool = False, xlsx: bool = False,
             progress: DemoProgress | None = None) -> DemoResult:
    """Run the whole job on ``scenario`` and write it into ``folder`` (a staging folder from the CLI).

    Layout: ``plan/`` (assignments, reps, quotas, budget and plan.json: a plan folder ``quotaflow simulate --plan``
    reads),
    ``comparison/`` (decision.csv, comparison.csv, monthly.csv, variance.csv, replications.csv, reps.csv,
    funnel.csv, pay_curves.csv (`quotaflow.payout.designed_pay_curves` at the median rep quota) and three PNGs);
    ``plan/`` also holds workload_today.csv (`workload_today`) and territory.csv (`territory`) for the report;
    each table also as Parquet with its raw values, ``summary.json`` and ``manifest.json``; with ``xlsx``
    also ``demo.xlsx`` (every table, the decision table first). The comparison's CSVs always carry the BOM Excel
    needs for non-Latin names; ``excel`` adds it to the plan's too (a plan folder is read back by quotaflow,
    which accepts both). ``progress`` shows each step as it runs (`DemoProgress`). Quotas use the scenario's
    ``[quotas] method``; for
    ``equal_probability`` each rep's sales are simulated first (``quotaflow.quotas.simulated_sales``, at least
    `QUOTA_SAMPLES` horizons, same seed) under the optimised assignment.

    Raises
    ------
    optimizer.InfeasibleError, optimizer.SolverError, optimizer.QuotaError, optimizer.BudgetError
        When a step has no usable result; nothing is kept by the CLI then.
    """
    seconds: dict[str, float] = {}
    show = progress or DemoProgress(5, io.StringIO(), live=False)
    pay_plans = list(scenario.settings.pay_plans)
    t = time.perf_counter()
    with show.step(f"allocate {len(scenario.accounts):,} accounts to {len(scenario.reps)} reps"):
        try:
            allocation = demo_allocation(scenario, show.allocation())
        finally:
            show.finish_allocation()
        plan = allocation.plan()  # raises when the allocation has no usable assignment
    seconds["allocate"] = time.perf_counter() - t
    t = time.perf_counter()
    with show.step("set quotas"):
        # equal_probability needs each rep's simulated sales; quantiles need more horizons than a quick comparison
        samples = None
        if sample_method(scenario, None):
            n_samples = max(replications, QUOTA_SAMPLES)
            samples = simulated_sales(scenario, plan.assignment, replications=n_samples, seed=seed,
                                      workers=workers, progress=show.replications("sales for quotas", n_samples))
        quotas = set_quotas(scenario, plan.assignment, sales_distribution=samples)
    seconds["quotas"] = time.perf_counter() - t
    t = time.perf_counter()
    with show.step("split the marketing budget"):
        budget = allocate_budget(scenario)
    seconds["budget"] = time.perf_counter() - t
    full_plan = scenarios.Plan(assignment=plan.assignment, quotas=quotas.quotas, budget=budget.budget,
                               source="demo: optimizer")
    t = time.perf_counter()
    with show.step(f"simulate and compare {len(pay_plans)} pay plans x {replications} replications"):
        comparison = compare(scenario, pay_plans, replications=replications, seed=seed, workers=workers,
                             plan=full_plan,
                             progress=lambda pid, done: show.replications(pid, replications)(done))
    seconds["compare"] = time.perf_counter() - t

    with show.step("write tables, plots and workbook" if xlsx else "write tables and plots"):
        files = _write(scenario, folder, allocation, quotas, budget, comparison, seconds=seconds, seed=seed,
                       replications=replications, workers=workers, excel=excel, xlsx=xlsx)
    return DemoResult(allocation=allocation, quotas=quotas, budget=budget, comparison=comparison, files=files,
                      seconds=seconds)


def _write(scenario: scenarios.Scenario, folder: Path, allocation: AllocationResult, quotas: QuotaResult,
           budget: BudgetResult, comparison: ComparisonResult, *, seconds: dict[str, float], seed: int,
           replications: int, workers: int, excel: bool, xlsx: bool) -> dict[str, list[str]]:
    plan_dir, cmp_dir = folder / "plan", folder / "comparison"
    plan_dir.mkdir(parents=True, exist_ok=True)
    cmp_dir.mkdir(parents=True, exist_ok=True)
    sheets: Sheets = {}
    write_result(comparison, cmp_dir, excel=True, summary=None, scenario=scenario, sheets=sheets)
    plot_comparison(comparison, cmp_dir)
    quota = median_quota(quotas.reps["quota"])
    if quota is not None:  # no rep has a quota: there is no attainment to draw pay against
        write_tables({"pay_curves": designed_pay_curves(scenario, list(comparison.info["plans"]), quota=quota)},
                     cmp_dir, excel=True, sheets=sheets)
    write_result(allocation, plan_dir, excel=excel, scenario=scenario, sheets=sheets)
    write_result(quotas, plan_dir, excel=excel, summary=None, scenario=scenario, sheets=sheets)
    write_result(budget, plan_dir, excel=excel, summary=None, scenario=scenario, sheets=sheets)
    write_tables({"workload_today": workload_today(scenario), "territory": territory(scenario, allocation.assignments)},
                 plan_dir, excel=excel, scenario=scenario, sheets=sheets)
    PlanOrigin.of(scenario).write(plan_dir)
    files = {"plan": sorted(p.name for p in plan_dir.iterdir()),
             "comparison": sorted(p.name for p in cmp_dir.iterdir())}
    if xlsx:
        files["."] = [write_workbook(sheets, folder / "demo.xlsx")]
    summary: dict[str, Any] = {"allocation": allocation.summary(), "quotas": quotas.summary(),
                               "budget": budget.summary(), "comparison": comparison.info,
                               "seconds": {k: round(v, 2) for k, v in seconds.items()}}
    write_json(summary, folder / "summary.json")
    write_manifest(folder, scenario=scenario, seeds={"simulation": seed},
                   solver={"name": scenario.settings.optimizer.solver,
                           "mip_gap": scenario.settings.optimizer.mip_gap,
                           "time_limit_s": max(scenario.settings.optimizer.time_limit_s, DEMO_TIME_LIMIT)},
                   status=str(allocation.status), extra={"kind": "demo", "replications": replications,
                                                          "workers": workers})
    return files
