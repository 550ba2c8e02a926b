"""The raw record of one replication, as the engine leaves it: arrays per lead, stage, seat, month and account
(summarised by ``sim.statistics.collect``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RunRecord"]


@dataclass(frozen=True, eq=False)
class RunRecord:
    """Raw results of one replication (arrays; summarised by ``sim.statistics``)."""

    status: np.ndarray  # per lead: 0 open, 1 won, 2 lost
    lost_reason: np.ndarray
    closed: np.ndarray  # day closed (nan while open)
    closer: np.ndarray  # seat that closed it (-1 none)
    stage_reached: np.ndarray
    stage_since: np.ndarray  # day each lead entered its current (last) stage
    stage_entered: np.ndarray  # (S,)
    stage_converted: np.ndarray  # (S,)
    stage_days: np.ndarray  # (S,) summed days from entering a stage to its outcome
    stage_done: np.ndarray  # (S,) deals with an outcome at the stage
    stage_wait: np.ndarray  # (S,) summed days deals waited in a queue before a rep started the stage
    stage_started: np.ndarray  # (S,) stages a rep started working
    wip_samples: np.ndarray  # (W, 2) day and live count of open deals at each weekly tick
    seat_entered: np.ndarray  # (R, S)
    seat_converted: np.ndarray  # (R, S)
    bookings: np.ndarray  # (R, M)
    margin: np.ndarray  # (R, M)
    quotas: np.ndarray  # (R, M)
    pay: np.ndarray  # (R, M)
    available_hours: np.ndarray  # (R,)
    selling_hours: np.ndarray  # (R,) worked on deals
    service_hours: np.ndarray  # (R,)
    training_hours: np.ndarray  # (R,)
    leavers: np.ndarray  # (R,)
    hires: np.ndarray  # (R,)
    promotions: np.ndarray  # (R,)
    final_tier: np.ndarray  # (R,)
    churned_accounts: int
    customers_start: int
    events: int
    pulled: np.ndarray  # (R, M) deals pulled into the month from a later one (timing games)
    pushed: np.ndarray  # (R, M) deals signing in the month whose booking was pushed to the next
    pull_discount: np.ndarray  # (R,) revenue given up in pull-in discounts
    waited: np.ndarray  # (R, M) deals booked in the month by customers who waited for its quarter's end
    waiting_discount: np.ndarray  # (R,) revenue given up to those customers
    potential_cut: np.ndarray  # (R,) value of won deals not booked because the account had bought its potential
    account_bookings: np.ndarray  # (A,) revenue booked on each account within the horizon
    trail: np.ndarray | None = None  # (E, 4) lead, stage, day, seat of every stage entry, when the run keeps them
