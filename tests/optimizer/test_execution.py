"""How pieces share a deadline: ``time_shares`` lays tasks on workers as a pool takes them and gives each a share
of the time left at its start, so that a deadline shorter than the work ends every worker's queue together with
times in proportion to the work (no last task with nothing); ``worker_slots`` counts what runs at once."""

from __future__ import annotations

import heapq
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.execution import time_shares, worker_slots


def _play(work: list[float], workers: int, total: float) -> tuple[list[float], list[float]]:
    """Run the tasks in order on ``workers`` workers (each to the first free), every task using exactly its share
    of the time left to the deadline ``total`` when it starts; return each task's time and end."""
    shares = time_shares(work, workers)
    free = [(0.0, j) for j in range(workers)]
    heapq.heapify(free)
    times, ends = [], []
    for share in shares:
        start, j = heapq.heappop(free)
        used = share * (total - start)
        times.append(used)
        ends.append(start + used)
        heapq.heappush(free, (start + used, j))
    return times, ends


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=20), st.integers(1, 6), st.floats(1.0, 1000.0))
def test_tasks_that_use_their_shares_end_together_at_the_deadline(work: list[float], workers: int,
                                                                   total: float) -> None:
    work = sorted(work, reverse=True)  # as the allocation hands them out: largest first
    shares = time_shares(work, workers)
    assert all(0.0 < s <= 1.0 for s in shares)
    times, ends = _play(work, workers, total)
    # Nothing runs past the deadline, and each worker's last task ends at it: no time is left unused.
    assert max(ends) == pytest.approx(total, rel=1e-9)
    busy = min(workers, len(work))
    assert sum(times) == pytest.approx(busy * total, rel=1e-9)
    # Within one worker's queue, times are in proportion to the work; so the largest task never gets less time
    # than a smaller task that shares its worker.
    for t, w in zip(times, work, strict=True):
        assert t > 0.0
        assert t / w <= total / min(work) + 1e-9


def test_shares_match_a_hand_worked_schedule() -> None:
    # Two workers: 3 alone on the first, then 1, 1, 1 on the second (which frees first each time).
    assert time_shares([3.0, 1.0, 1.0, 1.0], 2) == pytest.approx([1.0, 1 / 3, 1 / 2, 1.0])
    # One worker: the time left is split in proportion to the work still to come.
    assert time_shares([2.0, 1.0, 1.0], 1) == pytest.approx([0.5, 0.5, 1.0])
    # As many workers as tasks: each may use all the time.
    assert time_shares([5.0, 1.0], 4) == [1.0, 1.0]


class _FakeClient:
    """What ``worker_slots`` reads of a ``distributed.Client``."""

    def __init__(self, threads: list[int], keyword: bool = True) -> None:
        self.threads, self.keyword = threads, keyword

    def scheduler_info(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs and not self.keyword:
            raise TypeError("scheduler_info() got an unexpected keyword argument 'n_workers'")
        return {"workers": {f"tcp://w{i}": {"nthreads": n} for i, n in enumerate(self.threads)}}


def test_worker_slots_counts_a_clusters_threads() -> None:
    assert worker_slots(None, 3) == 3
    assert worker_slots(_FakeClient([2, 4, 1]), None) == 7
    assert worker_slots(_FakeClient([1, 1], keyword=False), None) == 2
    import os

    assert worker_slots(_FakeClient([]), None) == (os.cpu_count() or 1)  # no worker yet: this machine
    assert worker_slots(None, None) == (os.cpu_count() or 1)


def test_a_real_client_is_counted() -> None:
    distributed = pytest.importorskip("distributed")
    # No dashboard: one started in this process kept answering /status on a later cluster started without one
    # (tests/quotaflow/test_output_cli.py failed on it).
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False}) as c, \
            distributed.Client(c) as client:
        assert worker_slots(client, None) == 2


def test_a_piece_keeps_to_its_share_of_the_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """``solve_piece`` turns its share into its own deadline: the restricted LP gets 80 % of it (the rest is for
    rounding), counted from the piece's start, never past the shared deadline."""
    import time

    import optimizer.decomposition as decomposition
    import scenarios
    from optimizer import Deadline, prepare
    from optimizer.decomposition import PieceTask, solve_piece

    inputs = prepare(scenarios.load("tiny"))
    seen: list[float] = []

    def fake_lp(inputs: object, deadline: float, **kwargs: object) -> object:
        seen.append(deadline - time.perf_counter())
        raise RuntimeError("stop here")

    monkeypatch.setattr(decomposition, "restricted_lp", fake_lp)
    lp = decomposition._LP_SHARE
    for share, want in ((0.25, lp * 25.0), (1.0, lp * 100.0), (3.0, lp * 100.0)):
        with pytest.raises(RuntimeError, match="stop here"):
            solve_piece(PieceTask(inputs, Deadline.after(100.0), "highs", False, share=share))
        assert seen[-1] == pytest.approx(want, abs=0.5)
