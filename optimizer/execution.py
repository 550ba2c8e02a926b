"""Running independent pieces of an allocation side by side, under one deadline, with progress reports.

``Deadline`` is an absolute wall-clock time (seconds since the epoch), so it means the same moment in this
process, in a worker process and on another machine of a Dask cluster; every solver call inside a piece takes
its time limit from it. ``Progress`` is what a long allocation reports after each step (phase, proven bound,
incumbent, gap, elapsed time, pieces done). ``run_pieces`` maps a picklable function over tasks through an
executor: anything with ``submit(fn, *args)`` returning a future with ``result(timeout)`` and ``cancel()`` --
a ``concurrent.futures`` executor or a ``distributed.Client`` -- or, by default, a local process pool that is
stopped (its workers killed) when the deadline passes, so a solver call that ignores its own limit cannot
hold the allocation past it. ``time_shares`` gives each piece its share of the time left when it starts, so that
a deadline shorter than the work leaves every piece some time instead of none to the last ones, and
``worker_slots`` says how many pieces run at once (a Dask cluster's threads, or this machine's CPUs).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from optimizer.status import relative_gap

__all__ = ["Deadline", "Executor", "LocalPool", "Progress", "ProgressCallback", "RoundProgress", "run_pieces", "shown",
           "time_shares", "worker_slots"]

T = TypeVar("T")
R = TypeVar("R")

# Seconds a worker may take past the deadline to hand back what it has before it is abandoned: pickling a
# piece's plan back takes well under this even for 100,000 accounts.
_GRACE = 5.0


@dataclass(frozen=True)
class Deadline:
    """An absolute wall-clock deadline (``time.time()`` seconds), the same moment in every process.

    Examples
    --------
    >>> d = Deadline.after(60.0)
    >>> 59.0 < d.remaining() <= 60.0, d.expired
    (True, False)
    """

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(time.time() + float(seconds))

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - time.time()

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.remaining() <= 0.0

    def perf(self) -> float:
        """The deadline on this process's ``time.perf_counter`` clock (what the solver adapter compares with)."""
        return time.perf_counter() + self.remaining()


@dataclass(frozen=True)
class Progress:
    """One progress report of a long allocation.

    Parameters
    ----------
    phase
        What is running or has just finished (e.g. ``"pieces 3/8"``, ``"rebalancing the disruption budget"``).
    bound
        Best proven bound so far, in the reported sense (NaN when none yet).
    incumbent
        Objective of the best validated plan so far (NaN when none yet).
    gap
        Relative gap between them (NaN when either is unknown).
    elapsed
        Seconds since the allocation started.
    done, total
        Pieces finished and pieces in this phase.
    """

    phase: str
    bound: float
    incumbent: float
    gap: float
    elapsed: float
    done: int = 0
    total: int = 0


ProgressCallback = Callable[[Progress], None]


def time_shares(work: Sequence[float], workers: int) -> list[float]:
    """Each task's share of the time left when it starts, so that tasks run in the given order on ``workers``
    workers end together at the deadline with times in proportion to their ``work``, whatever the deadline.

    The tasks are laid out on the workers as a pool takes them (each to the worker that frees first, by the work
    estimates). A task's share is its work over the work from it to the end of its worker's queue: the last task
    on each worker may use all the time left, and a task that starts early because the ones before it finished
    early hands that time on to those after it. Without shares a deadline shorter than the work left the last
    tasks with no time at all (an allocation's last regions without a plan).

    Examples
    --------
    >>> time_shares([3.0, 1.0, 1.0, 1.0], 2)
    [1.0, 0.3333333333333333, 0.5, 1.0]
    """
    w = [max(float(x), 1e-12) for x in work]
    ends = [0.0] * max(int(workers), 1)
    queues: list[list[int]] = [[] for _ in ends]
    for i, x in enumerate(w):
        m = min(range(len(ends)), key=lambda j: (ends[j], j))
        queues[m].append(i)
        ends[m] += x
    shares = [1.0] * len(w)
    for queue in queues:
        tail = 0.0
        for i in reversed(queue):
            tail += w[i]
            shares[i] = w[i] / tail
    return shares


class _Future(Protocol):
    def result(self, timeout: float | None = ...) -> Any: ...

    def cancel(self) -> Any: ...


class Executor(Protocol):
    """What ``run_pieces`` needs of an executor: ``concurrent.futures`` executors and ``distributed.Client``
    both have it."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any: ...


def worker_slots(executor: Executor | None, workers: int | None = None) -> int:
    """How many pieces run at once: ``workers``, else a Dask client's threads, else this machine's CPUs."""
    if workers:
        return workers
    info = getattr(executor, "scheduler_info", None)
    if callable(info):
        try:  # every worker (some distributed versions list only five unless told)
            seen = info(n_workers=-1)
        except TypeError:
            seen = info()
        threads = sum(int(w.get("nthreads", 1)) for w in dict(seen.get("workers", {})).values())
        if threads > 0:
            return threads
    return os.cpu_count() or 1


class LocalPool(cf.ProcessPoolExecutor):
    """The default executor: a local process pool that ``run_pieces`` may stop by killing its workers when the
    deadline passes (it never does that to an executor it was handed).

    Workers are spawned, not forked: the parent has HiGHS loaded (and possibly its threads running), which
    fork would copy half-way through. As with any spawned pool, a script that allocates a large model must
    keep its top-level code under ``if __name__ == "__main__":``.
    """

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def close(self) -> None:
        """Shut down, waiting for nothing that is still running: its workers are killed."""
        _kill(self)


def _kill(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a pool of ours at once: running solver calls are killed, queued pieces dropped."""
    processes = dict(getattr(pool, "_processes", None) or {})
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes.values():
        if proc.is_alive():
            proc.kill()
    for proc in processes.values():
        proc.join(timeout=5)


def shown(x: float) -> float:
    """A bound or incumbent as progress shows it: NaN until one is known."""
    return x if np.isfinite(x) else float("nan")


@dataclass
class RoundProgress:
    """Reports each finished piece of a round (the bound and incumbent known when the round started)."""

    progress: ProgressCallback | None
    phase: str
    total: int
    sense: float
    bound: float
    incumbent: float
    started: float
    done: int = 0

    def __call__(self, position: int, result: object) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(Progress(f"{self.phase} {self.done}/{self.total}", shown(self.sense * self.bound),
                                   shown(self.sense * self.incumbent), relative_gap(self.bound, self.incumbent),
                                   time.perf_counter() - self.started, self.done, self.total))


def run_pieces(fn: Callable[[T], R], tasks: Sequence[T], deadline: Deadline, executor: Executor | None = None,
               *, workers: int | None = None, on_done: Callable[[int, R], None] | None = None) -> list[R | None]:
    """``fn`` over ``tasks``, side by side, in task order; ``None`` for a task that did not finish in time.

    Parameters
    ----------
    fn
        A module-level (picklable) function of one task.
    tasks
        The tasks (picklable).
    deadline
        Results still missing ``_GRACE`` seconds after it are given up (``None``); with the default pool their
        workers are killed.
    executor
        ``None``: a local process pool of ``workers`` processes (default: the CPU count, at most one per task),
        or in this process when one worker or one task. Otherwise a ``concurrent.futures`` executor or a
        ``distributed.Client``, left running for the caller.
    workers
        Size of the default pool.
    on_done
        Called in this process with (task position, result) as each result arrives.

    Examples
    --------
    >>> run_pieces(abs, [-1, 2, -3], Deadline.after(30), workers=1)
    [1, 2, 3]
    """
    n = len(tasks)
    results: list[R | None] = [None] * n
    if n == 0:
        return results
    count = min(worker_slots(None, workers), n)
    if executor is None and count <= 1:
        for i, task in enumerate(tasks):
            if deadline.expired:
                break
            results[i] = fn(task)
            if on_done is not None:
                on_done(i, results[i])  # type: ignore[arg-type]
        return results
    made = executor is None
    pool = LocalPool(count) if executor is None else executor if isinstance(executor, LocalPool) else None
    target: Any = pool or executor
    # ``pure=False`` keeps Dask from merging equal tasks; concurrent.futures takes no such keyword.
    extra: dict[str, Any] = {} if isinstance(target, cf.Executor) else {"pure": False}
    futures: list[_Future] = []
    try:
        for task in tasks:
            futures.append(target.submit(fn, task, **extra))
        pending = dict(enumerate(futures))
        while pending:
            timeout = deadline.remaining() + _GRACE
            if timeout <= 0:
                break
            done_any = False
            for i, fut in list(pending.items()):
                try:
                    value = fut.result(timeout=0.2 if len(pending) > 1 else timeout)
                except (TimeoutError, cf.TimeoutError):
                    continue
                results[i] = value
                del pending[i]
                done_any = True
                if on_done is not None:
                    on_done(i, value)
            if not done_any and len(pending) > 1:
                time.sleep(0.05)
        for fut in pending.values():
            fut.cancel()
    finally:
        if pool is not None and any(r is None for r in results):
            _kill(pool)
        elif pool is not None and made:
            pool.shutdown(wait=True)
    return results
