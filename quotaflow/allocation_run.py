"""One ``quotaflow allocate`` run under one deadline: the allocation, then quotas and the marketing budget for
its plan, all finished by the moment ``--time-limit`` seconds after the command started, loading and writing
included.

The allocation gets the deadline minus a reserve for the steps after it (``reserve``); it stops every solver
call at its own deadline and hands back the best validated plan as ``feasible``, or no plan. A large model runs
in a worker process of its own (with its region workers in the same process group), which is killed, with
everything it started, if it is not back shortly after the deadline: PuLP's model building and a solver stuck
outside its interrupt callbacks cannot be stopped from inside. The run then ends with ``SolverError`` (exit 4)
and nothing is written. Small models, whose every step stops within a second of the deadline, run in this
process and start at once.

While it runs, a one-line display on stderr shows the step, the proven bound, the incumbent, the gap and the
elapsed time (``ProgressLine``); the command shows it only on a terminal.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optimizer
import scenarios
from optimizer import Deadline, Progress

__all__ = ["AllocationRun", "ProgressLine", "command_started", "reserve", "run_allocation"]

# Accounts x reps (the most candidate pairs a scenario can have) up to which the run stays in this process:
# the full MIP is tried up to 100,000 pairs, and building it takes a few seconds at most (2 s for baseline's
# 80,000 possible pairs), so the deadline holds without a worker process and its 2-3 s start-up.
_IN_PROCESS_PAIRS = 100_000
# Seconds the worker may take past the deadline to hand its result back before it is killed: pickling a plan
# of 250,000 accounts and its quotas takes well under a second.
_HAND_BACK = 5.0


@dataclass(frozen=True, eq=False)
class AllocationRun:
    """The three results ``quotaflow allocate`` writes: the allocation, quotas and budget for its plan."""

    allocation: optimizer.AllocationResult
    quotas: optimizer.QuotaResult
    budget: optimizer.BudgetResult


def command_started() -> float:
    """When the command began (``time.time()`` seconds), for a time limit that counts the interpreter's start and
    imports too: the process's start when the process is the ``quotaflow`` command line (the console script or
    ``python -m quotaflow.cli``) on Linux, else the moment of the call (a command invoked inside a longer-lived
    process, such as a test's ``CliRunner``, or an operating system that does not say).

    Examples
    --------
    >>> abs(time.time() - command_started()) < 60.0  # in a test, the moment of the call
    True
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    is_command = (spec is not None and spec.name == "quotaflow.cli") or Path(sys.argv[0] or "-").stem == "quotaflow"
    now = time.time()
    if not is_command:
        return now
    try:
        stat = Path("/proc/self/stat").read_text(encoding="ascii")
        uptime = float(Path("/proc/uptime").read_text(encoding="ascii").split()[0])
        # Field 22 (after the parenthesised command name, which may hold spaces): start time in clock ticks after
        # boot.
        ticks = int(stat.rpartition(")")[2].split()[19])
        return min(now - uptime + ticks / os.sysconf("SC_CLK_TCK"), now)
    except (OSError, ValueError, IndexError, AttributeError):
        return now


def reserve(limit: float) -> float:
    """Seconds of a ``limit``-second run kept for the steps after the allocation (quotas, budget, writing).

    10 % of the limit, between 1 s and 30 s: quotas, budget and the written files took 0.4 s for baseline
    (2,000 accounts) and 1.7 s for 20,000 accounts x 200 reps on a loaded 2-core machine, writing 250,000
    assignments 5.4 s (benchmarks/RESULTS.md, "Allocation under one deadline"), so 1 s covers a small model and
    30 s one many times the largest measured.

    Examples
    --------
    >>> reserve(5.0), reserve(60.0), reserve(3600.0)
    (1.0, 6.0, 30.0)
    """
    return min(max(0.1 * limit, 1.0), 30.0)


class ProgressLine:
    """A one-line progress display on stderr (tqdm): step, proven bound, incumbent, gap and elapsed seconds.

    Examples
    --------
    >>> ProgressLine.text(Progress("relax-and-fix", 1.5e6, 1.49e6, 0.004, 12.3))
    'allocate: relax-and-fix | bound 1,500,000 | incumbent 1,490,000 | gap 0.400% | 12 s'
    """

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=None, bar_format="{desc}", file=sys.stderr, mininterval=0.0, leave=True)

    @staticmethod
    def text(p: Progress) -> str:
        """The line shown for one report (a dash for what is not known yet)."""
        def num(v: float) -> str:
            return "-" if v != v else f"{v:,.0f}"
        gap = "-" if p.gap != p.gap else f"{p.gap:.3%}"
        return (f"allocate: {p.phase} | bound {num(p.bound)} | incumbent {num(p.incumbent)} | gap {gap} | "
                f"{p.elapsed:.0f} s")

    def __call__(self, p: Progress) -> None:
        self._bar.set_description_str(self.text(p), refresh=True)

    def close(self) -> None:
        """Leave the last line on screen and end it."""
        self._bar.close()


@dataclass(frozen=True)
class _Task:
    scenario: scenarios.Scenario
    allocate_by: float  # absolute deadlines (time.time()), the same in every process
    finish_by: float
    scheduler: str | None
    workers: int | None
    show_progress: bool


def _run(task: _Task) -> AllocationRun:
    """Allocate, then set quotas and the budget for the plan (in this process or the worker)."""
    client: Any = None
    display = ProgressLine() if task.show_progress else None
    try:
        if task.scheduler is not None:
            from distributed import Client

            client = Client(task.scheduler)  # type: ignore[no-untyped-call]
        result = optimizer.allocate(task.scenario, deadline=Deadline(task.allocate_by), executor=client,
                                    progress=display, workers=task.workers)
    finally:
        if display is not None:
            display.close()
        if client is not None:
            client.close()
    if result.status is optimizer.Status.INFEASIBLE:
        raise optimizer.InfeasibleError(list(result.explanation))
    if not result.ok:
        raise optimizer.SolverError(f"allocation ended '{result.status}': " + "; ".join(result.explanation) +
                                    "; no output was written")
    # Quotas follow the new territories and the budget is split for the same plan, so the folder is a complete
    # plan for the simulator; any failure there leaves no output at all.
    quotas = optimizer.set_quotas(task.scenario, result.plan().assignment,
                                  time_limit=max(task.finish_by - time.time(), 0.5))
    budget = optimizer.allocate_budget(task.scenario, time_limit=max(task.finish_by - time.time(), 0.5))
    return AllocationRun(result, quotas, budget)


def _own_group() -> None:
    """Worker start-up: lead a process group of its own, so killing the group stops the region workers it
    starts too (they would otherwise run on to their own deadline after it is gone)."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)


def _kill_worker(pool: cf.ProcessPoolExecutor) -> None:
    processes = dict(getattr(pool, "_processes", None) or {})
    pool.shutdown(wait=False, cancel_futures=True)
    for pid, proc in processes.items():
        if hasattr(os, "killpg"):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        if proc.is_alive():
            proc.kill()
    for proc in processes.values():
        proc.join(timeout=5)


def run_allocation(scenario: scenarios.Scenario, *, allocate_by: Deadline, finish_by: Deadline,
                   scheduler: str | None = None, workers: int | None = None,
                   progress: bool = False) -> AllocationRun:
    """The allocation of ``scenario`` stopped at ``allocate_by``, then quotas and budget for its plan, all done
    by ``finish_by``.

    Parameters
    ----------
    scenario
        The scenario, with the run's optimizer settings applied.
    allocate_by, finish_by
        The allocation's deadline and the whole run's (the command's ``--time-limit`` minus its writing time).
    scheduler
        Address of a Dask scheduler whose workers solve the regions of a large model (``cluster.dask_scheduler``);
        None for a local process pool.
    workers
        Size of that pool (default: the CPU count; 1 solves the regions one after the other in one process).
    progress
        Show the progress line on stderr.

    Raises
    ------
    optimizer.InfeasibleError
        The model is infeasible (the reasons in planner words).
    optimizer.SolverError
        No validated plan by the deadline, or the solver failed; nothing is to be written.

    Examples
    --------
    >>> run = run_allocation(scenarios.load("tiny"), allocate_by=Deadline.after(20), finish_by=Deadline.after(25))
    >>> str(run.allocation.status)
    'optimal'
    """
    task = _Task(scenario, allocate_by.at, finish_by.at, scheduler, workers, progress)
    if len(scenario.accounts) * len(scenario.reps) <= _IN_PROCESS_PAIRS:
        return _run(task)
    pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_own_group)
    finished = False
    try:
        future = pool.submit(_run, task)
        try:
            run: AllocationRun = future.result(timeout=max(finish_by.remaining(), 0.0) + _HAND_BACK)
        except cf.TimeoutError:
            raise optimizer.SolverError("no validated plan by the end of the time limit (the allocation was "
                                        "stopped at the deadline); raise --time-limit. No output was "
                                        "written") from None
        finished = True
        return run
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:  # timed out, failed, or Ctrl-C / SIGTERM in this process: stop the worker and all it started
            _kill_worker(pool)
