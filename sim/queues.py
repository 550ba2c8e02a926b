"""The work queues of one replication: deals waiting for a rep to work their next stage.

One priority queue per seat (``simulation.routing = "owner"``) or per region (``"region_pool"``): highest
priority first, ties to the older deal, then first come first served. A rep with an empty queue waits on an
event that the next deal put in its queue triggers; on a shared queue the rep who has waited longest is woken
first. A deal that waited longer than ``funnel.stall_days`` is lost
when a rep comes to it (or at the horizon).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator

import simpy

from sim.deals import LOST_STALLED, Deal

__all__ = ["WorkQueues"]

Entry = tuple[float, float, int, Deal]  # (-priority, day created, arrival number, deal): heap order


class WorkQueues:
    """Queued deals, their expected value, and the reps waiting for work, per queue.

    Parameters
    ----------
    seat_region
        Region index of every seat.
    n_regions
        Number of regions.
    pooled
        One queue per region (``region_pool`` routing) instead of one per seat.
    active
        The seats' live "filled" flags (read only: a woken rep that left meanwhile goes back to waiting).
    stall
        Days a deal may wait before it is lost.
    lose
        Records a lost deal: ``lose(deal, day, reason)``.
    """

    def __init__(self, seat_region: list[int], n_regions: int, pooled: bool, active: list[bool], stall: float,
                 lose: Callable[[Deal, float, int], None]) -> None:
        self.pooled = pooled
        self.of_seat = seat_region if pooled else list(range(len(seat_region)))  # queue index of each seat
        n_queues = n_regions if pooled else len(seat_region)
        self.queues: list[list[Entry]] = [[] for _ in range(n_queues)]
        self.waiters: list[list[tuple[int, simpy.Event]]] = [[] for _ in range(n_queues)]
        self.value = [0.0] * n_queues  # expected value of the deals waiting in each queue
        self.active = active
        self.stall = stall
        self.lose = lose
        self.seq = 0

    def put(self, seat: int, priority: float, deal: Deal) -> None:
        """Queue ``deal`` for ``seat`` and wake one active rep waiting on that queue."""
        self.seq += 1
        q = self.of_seat[seat]
        heapq.heappush(self.queues[q], (-priority, deal.created, self.seq, deal))
        self.value[q] += deal.value * deal.win_probability
        waiters = self.waiters[q]
        # wake the rep who has waited longest (a shared queue hands work round the idle reps, as round-robin
        # lead routing does; waking the latest waiter would give every deal to one rep whenever stages take no
        # hours); a rep that left meanwhile is woken too and goes back to waiting
        while waiters:
            r, ev = waiters.pop(0)
            ev.succeed()
            if self.active[r]:
                break

    def take(self, r: int, now: float) -> Deal | None:
        """The best deal in seat ``r``'s queue at ``now``, losing those that stalled; None when it is empty."""
        qi = self.of_seat[r]
        q = self.queues[qi]
        value = self.value
        stall = self.stall
        while q:
            d = heapq.heappop(q)[3]
            value[qi] -= d.value * d.win_probability
            if now - d.queued_at > stall:
                self.lose(d, d.queued_at + stall, LOST_STALLED)
                continue
            return d
        return None

    def wait(self, r: int, ev: simpy.Event) -> None:
        """Rep ``r`` waits on ``ev`` until a deal enters its queue."""
        self.waiters[self.of_seat[r]].append((r, ev))

    def reprioritise(self, key: Callable[[float, Deal], float]) -> None:
        """Give every queued deal the heap key ``key(old_key, deal)`` and restore heap order."""
        for qi, q in enumerate(self.queues):
            if not q:
                continue
            fresh = [(key(old, d), created, seq, d) for old, created, seq, d in q]
            heapq.heapify(fresh)
            self.queues[qi] = fresh

    def drain(self, r: int) -> list[Deal]:
        """Empty vacant seat ``r``'s own queue and return its deals (none with region pools: the region's reps
        keep working them)."""
        if self.pooled:
            return []
        queued = [entry[3] for entry in self.queues[r]]
        self.queues[r] = []
        self.value[r] = 0.0
        return queued

    def length(self, r: int) -> int:
        """Deals waiting in seat ``r``'s queue."""
        return len(self.queues[self.of_seat[r]])

    def expected_value(self, r: int) -> float:
        """Expected value of the deals waiting in seat ``r``'s queue (never below 0 from rounding)."""
        return max(self.value[self.of_seat[r]], 0.0)

    def waiting(self) -> Iterator[Deal]:
        """Every queued deal."""
        for q in self.queues:
            for entry in q:
                yield entry[3]
