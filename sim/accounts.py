"""The accounts during one replication: who owns each account, which are customers, which have churned, and
how much of their service need their owners met (the churn rule at each quarter end).

A seat that falls vacant hands its accounts to the active colleagues of its region, largest service need first,
each to the colleague with the least service load (``hand_over``); the rep who takes the seat back, a backfill
or a planned hire, gets its original accounts back (``restore``).
"""

from __future__ import annotations

import heapq

import numpy as np

from sim.model import Model

__all__ = ["Accounts"]


class Accounts:
    """Ownership, customer status and service of every account (state owned here, changed in place).

    Parameters
    ----------
    model
        Arrays of the scenario and plan.
    churn_u
        Uniforms (quarters x accounts) from the replication's ``lifecycle`` stream for the churn draws.
    """

    def __init__(self, model: Model, churn_u: np.ndarray) -> None:
        self.m = model
        self.churn_u = churn_u
        self.owner = model.owner.copy()
        self.owner_list: list[int] = self.owner.tolist()  # per-event lookups; kept in step with ``owner``
        self.customer = model.customer.copy()
        self.churned = np.zeros(len(model.account_ids), dtype=bool)
        self.churned_list: list[bool] = self.churned.tolist()  # per-event lookups; kept in step with ``churned``
        self.originals: dict[int, np.ndarray] = {}  # vacant seat -> the accounts it held
        self.q_given = np.zeros(model.n_seats)  # service hours given this quarter, by owner
        self.q_needed = np.zeros(model.n_seats)
        self.churn_count = 0

    def service_load(self) -> np.ndarray:
        """Yearly service need of each seat's live customers."""
        serving = self.customer & ~self.churned & (self.owner >= 0)
        load: np.ndarray = np.bincount(self.owner[serving], weights=self.m.service_need[serving],
                                       minlength=self.m.n_seats)
        return load

    def _assign(self, accounts: np.ndarray, seat: int) -> None:
        self.owner[accounts] = seat
        for a in accounts.tolist():
            self.owner_list[a] = seat

    def hand_over(self, r: int, colleagues: list[int]) -> None:
        """Seat ``r`` falls vacant: its accounts go to ``colleagues`` (largest need first, each to the least
        loaded), or to nobody when there are none; remembered for ``restore``."""
        m = self.m
        mine = np.flatnonzero(self.owner == r)
        self.originals[r] = mine
        if not colleagues:
            self._assign(mine, -1)
            return
        load = self.service_load()
        heap = [(float(load[c]), c) for c in colleagues]
        heapq.heapify(heap)
        for a in mine[np.argsort(-m.service_need[mine], kind="stable")].tolist():
            lo, c = heapq.heappop(heap)
            self.owner[a] = c
            self.owner_list[a] = c
            heapq.heappush(heap, (lo + float(m.service_need[a]), c))

    def restore(self, r: int) -> None:
        """The rep who takes seat ``r`` gets back the accounts it held when it fell vacant."""
        self._assign(self.originals.pop(r, np.zeros(0, dtype=np.int64)), r)

    def served(self, given: np.ndarray, needed: np.ndarray) -> None:
        """Add a week's service hours given and needed, by seat."""
        self.q_given += given
        self.q_needed += needed

    def churn(self, quarter: int) -> None:
        """Quarter end: customers whose owner met less than ``churn_service_share`` of their need churn at the
        neglect rate, others at the base rate; the quarter's service tally starts again."""
        sim = self.m.scenario.settings.simulation
        share = np.where(self.q_needed > 0, self.q_given / np.maximum(self.q_needed, 1e-12), 1.0)
        live = self.customer & ~self.churned
        owner = self.owner
        acc_share = np.where(owner >= 0, share[np.maximum(owner, 0)], 0.0)
        p = np.where(acc_share < sim.churn_service_share, sim.neglect_churn_per_quarter,
                     1.0 - (1.0 - sim.base_churn_per_year) ** 0.25)
        churn = live & (self.churn_u[quarter] < p)
        self.churned |= churn
        for a in np.flatnonzero(churn).tolist():
            self.churned_list[a] = True
        self.churn_count += int(churn.sum())
        self.q_given[:] = 0.0
        self.q_needed[:] = 0.0
