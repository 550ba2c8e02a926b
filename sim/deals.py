"""Deals and their outcomes: the ``Deal`` moving through the funnel, the outcome codes, and the ``DealLog`` that
records every lead's outcome and the funnel's stage counters during one replication.

The log's lists are read and written on the engine's hot path: processes bind them to locals once, so they are
changed in place and never replaced.
"""

from __future__ import annotations

import math

from sim.demand import Leads

__all__ = ["LOST", "LOST_CHURNED", "LOST_NO_DECISION", "LOST_PUSHED", "LOST_STAGE", "LOST_STALLED", "LOST_UNCOVERED",
           "LOST_VACANT", "OPEN", "WON", "Deal", "DealLog", "TracedDealLog"]

OPEN, WON, LOST = 0, 1, 2
# why a deal was lost: failed a stage, stalled in a queue, its account had no rep on arrival, its account had
# churned, it was queued with a rep who left and no colleague was left in the region to take it, or the rep
# put off its signature to the next month (a timing game) and the customer walked away meanwhile, or the customer
# never decided (the stage's ``no_decision_share``): the deal left the pipeline without a yes or a no
LOST_STAGE, LOST_STALLED, LOST_UNCOVERED, LOST_CHURNED, LOST_VACANT, LOST_PUSHED = 1, 2, 3, 4, 5, 6
LOST_NO_DECISION = 7


class Deal:
    """A lead moving through the funnel (satisfies ``sim.policy.DealView``)."""

    __slots__ = ("account", "created", "lead", "owner", "queued_at", "stage", "value", "win_probability", "worker")

    def __init__(self, lead: int, account: int, stage: int, value: float, win_probability: float,
                 created: float, owner: int = -1) -> None:
        self.lead = lead
        self.account = account
        self.stage = stage
        self.value = value
        self.win_probability = win_probability
        self.created = created
        self.queued_at = created
        self.worker = -1
        # the seat whose queue the deal goes to while that seat is filled (a deal of the open pipeline keeps the
        # rep the CRM names); -1: the account's owner, as for every new lead
        self.owner = owner


class DealLog:
    """Every lead's outcome (status, reason, day and seat it closed, stage reached) and the funnel's counters:
    per stage (entered, converted, days to an outcome, waiting days, starts) and per seat and stage, the live
    count of open deals, and the deals each rep has with customers (in flight).

    Parameters
    ----------
    leads
        The replication's leads.
    n_stages, n_seats
        Funnel stages and seats.
    """

    def __init__(self, leads: Leads, n_stages: int, n_seats: int) -> None:
        n = len(leads)
        self.status = [OPEN] * n
        self.reason = [0] * n
        self.closed = [math.nan] * n
        self.closer = [-1] * n
        self.reached: list[int] = leads.entry_stage.tolist()
        self.since = [math.nan] * n  # day the lead entered its current stage
        self.stage_entered = [0] * n_stages
        self.stage_converted = [0] * n_stages
        self.stage_days = [0.0] * n_stages
        self.stage_done = [0] * n_stages
        self.stage_wait = [0.0] * n_stages
        self.stage_started = [0] * n_stages
        self.seat_entered = [[0] * n_stages for _ in range(n_seats)]
        self.seat_converted = [[0] * n_stages for _ in range(n_seats)]
        self.open_now = 0  # live count of open deals, sampled weekly (an independent check of Little's law)
        self.flight_value = [0.0] * n_seats  # expected value of deals with the customer, by the rep who worked them
        self.flight_deals = [0] * n_seats

    def entered(self, deal: Deal, seat: int, now: float, per_seat: bool = True) -> None:
        """``deal`` entered its stage in ``seat``'s queue at ``now``; counted only within the horizon.
        ``per_seat`` False: a shared queue, whose deal the engine counts for the seat that starts working it."""
        self.since[deal.lead] = now
        if now >= 0.0:
            self.stage_entered[deal.stage] += 1
            if per_seat:
                self.seat_entered[seat][deal.stage] += 1

    def lose(self, deal: Deal, when: float, reason: int) -> None:
        """``deal`` is lost on day ``when`` for ``reason`` (a ``LOST_*`` code)."""
        self.open_now -= 1
        i = deal.lead
        self.status[i] = LOST
        self.reason[i] = reason
        self.closed[i] = when
        self.closer[i] = deal.worker

    def won(self, deal: Deal, seat: int, now: float) -> None:
        """``seat`` won ``deal`` on day ``now``."""
        self.open_now -= 1
        i = deal.lead
        self.status[i] = WON
        self.closed[i] = now
        self.closer[i] = seat


class TracedDealLog(DealLog):
    """A ``DealLog`` that also keeps every stage entry (lead, stage, day, seat) in ``trail``: what a CRM's stage
    history would hold. Chosen only when a run asks for its deal log, so the default path pays nothing for it."""

    def __init__(self, leads: Leads, n_stages: int, n_seats: int) -> None:
        super().__init__(leads, n_stages, n_seats)
        self.trail: list[tuple[int, int, float, int]] = []

    def entered(self, deal: Deal, seat: int, now: float, per_seat: bool = True) -> None:
        self.trail.append((deal.lead, deal.stage, now, seat))
        DealLog.entered(self, deal, seat, now, per_seat)
