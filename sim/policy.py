"""The behaviour hook: how a rep decides how many hours to work each week and which deal to work next.

The simulator calls a ``Behaviour`` at two points only, so that incentive-driven behaviour (``sim.incentives``)
plugs in without touching the engine:

* ``weekly_hours(rep)`` at the start of every simulated week, for every active rep: the rep's total working
  hours that week (before ramp-up productivity, training and customer service are taken off);
* ``priority(rep, deal)`` each time a deal enters a rep's work queue at a stage (and, when
  ``dynamic_priority`` is true, again for every queued deal at the start of each week): higher is worked
  first; ties go to the older deal.

A behaviour may also play timing games by satisfying the optional ``TimingGames`` protocol as well (the engine
checks it with ``timing_hook``): when its ``timing_games`` attribute is true the engine calls
``timing(rep, deal, close_month, weeks_after_month_end, push_risk)`` (answer ``"keep"``, ``"pull"`` or
``"push"``) when a deal whose customer has agreed to it and would move its signature is due to close: once on
the last day of every month of the horizon for each of the rep's deals whose signature falls after the month
end (pull it into the month at
``[behaviour] pull_in_discount``), and once when a deal closes (push it to the first day of the next month; past
the horizon it stays open). ``NormBehaviour`` plays none.

Both receive a ``RepState`` the engine keeps up to date (bookings, quota and time left in the month and the
horizon, pay so far, ...). A behaviour must be picklable (it is shipped to worker processes) and must draw no
random numbers of its own, so that two behaviours are compared on the same customers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

__all__ = ["Behaviour", "DealView", "NormBehaviour", "RepState", "Timing", "TimingDecision", "TimingGames",
           "timing_hook"]


Timing = Literal["keep", "pull", "push"]
"""A timing decision on a deal: book it when it closes, pull it into the current month, or push it to the next."""


@dataclass(slots=True)
class RepState:
    """What a rep knows about their own position; updated by the engine in place (read it, do not keep it).

    Parameters
    ----------
    seat
        Integer index of the rep's seat (row of ``scenario.reps``).
    rep_id
        The seat's rep id.
    tier
        Current tier (changes on promotion; a backfill hire starts in the entry tier).
    norm_hours
        The tier's (or the rep's own ``hours_per_week``) normal weekly hours.
    productivity
        Ramp-up productivity share (0..1) of a recent hire.
    now
        Simulated time in days since the start of the horizon.
    month
        Index of the current month (0 = first month of the horizon).
    days_left_month, days_left_horizon
        Calendar days until the end of the month and of the horizon.
    bookings_month, bookings_quarter, bookings_horizon
        The rep's booked revenue so far in the month, the quarter of the horizon (months 1-3, 4-6, ...) and
        the horizon.
    quota_month, quota_quarter, quota_horizon
        The rep's quota for the month, the quarter and the whole horizon.
    pay_to_date
        Pay earned so far in the horizon (from the pay function of the run).
    queue_length
        Deals waiting in the rep's work queue.
    month_elapsed
        Share of the current month already gone (0..1; 0 during the warm-up).
    bookings_by_month
        The rep's bookings per month of the horizon so far (a live view: read it, do not change or keep it).
    pipeline_value, pipeline_deals
        Expected value (value x base win probability from the current stage) and number of the rep's open
        deals: those waiting in the queue and those with the customer after the rep worked the stage. With
        ``region_pool`` routing the queued part is the region's shared queue.
    region_bookings_by_month, company_bookings_by_month
        Bookings per month so far of every seat of the rep's region / of the whole sales force, the rep's own
        included (live views, for team and region bonuses: read them, do not change or keep them).
    quotas_by_month
        The seat's quota for every month of the horizon as it stands now (a live view: a quota ratchet raises
        or lowers next year's months at a plan-year end; None when the engine does not provide it).
    region_quotas_by_month, company_quotas_by_month
        The summed quota of the rep's region / of the whole sales force for every month, as it stands now (live
        views, None when the engine does not provide them).
    """

    seat: int
    rep_id: str
    tier: str
    norm_hours: float
    productivity: float = 1.0
    now: float = 0.0
    month: int = 0
    days_left_month: float = 0.0
    days_left_horizon: float = 0.0
    bookings_month: float = 0.0
    bookings_quarter: float = 0.0
    bookings_horizon: float = 0.0
    quota_month: float = 0.0
    quota_quarter: float = 0.0
    quota_horizon: float = 0.0
    pay_to_date: float = 0.0
    queue_length: int = 0
    month_elapsed: float = 0.0
    bookings_by_month: list[float] = field(default_factory=list)
    pipeline_value: float = 0.0
    pipeline_deals: int = 0
    region_bookings_by_month: list[float] = field(default_factory=list)
    company_bookings_by_month: list[float] = field(default_factory=list)
    quotas_by_month: np.ndarray | None = None
    region_quotas_by_month: np.ndarray | None = None
    company_quotas_by_month: np.ndarray | None = None

    @property
    def attainment_horizon(self) -> float:
        """Bookings over quota for the horizon so far (0 when there is no quota)."""
        return self.bookings_horizon / self.quota_horizon if self.quota_horizon > 0 else 0.0


@runtime_checkable
class DealView(Protocol):
    """What a behaviour may read about a deal (the engine's deal object satisfies it).

    Attributes
    ----------
    lead
        Index of the lead in the replication's lead stream.
    stage
        Index of the stage the deal is waiting for (0 = first stage).
    value
        Revenue the deal books if won.
    win_probability
        Base probability that the deal is won from its current stage (product of the remaining stages' base
        conversions; the rep's skill and the account tier are not included).
    created
        Day the lead arrived.
    """

    lead: int
    stage: int
    value: float
    win_probability: float
    created: float


class Behaviour(Protocol):
    """How reps use their time; the engine's only hook into rep decisions.

    Attributes
    ----------
    dynamic_priority
        When true, queued deals are re-prioritised at the start of each week (priorities that depend on the
        rep's changing position, such as distance to a bonus threshold); when false, a deal's priority is
        computed once when it enters the queue.
    """

    @property
    def dynamic_priority(self) -> bool:
        """Re-prioritise queued deals every week."""
        ...

    def weekly_hours(self, rep: RepState) -> float:
        """Hours the rep works this week (clipped by the engine to 0..168)."""
        ...

    def priority(self, rep: RepState, deal: DealView) -> float:
        """Priority of ``deal`` in the rep's queue: higher is worked first, ties oldest first."""
        ...


TimingDecision = Callable[[RepState, DealView, int, float, float], Timing]
"""``timing(rep, deal, close_month, weeks_after_month_end, push_risk)`` of a behaviour that plays timing games
(``push_risk``: the chance a push question's deal is lost while it waits; 0 for a pull question)."""


@runtime_checkable
class TimingGames(Protocol):
    """Optional capability of a ``Behaviour``: timing games on deals the customer has agreed to.

    A behaviour without it plays none (``NormBehaviour``); one with it plays them while ``timing_games`` is true,
    so a pay plan under which games cannot pay can switch them off without a second class.
    """

    @property
    def timing_games(self) -> bool:
        """Ask ``timing`` about closing deals in this run."""
        ...

    def timing(self, rep: RepState, deal: DealView, close_month: int, weeks_after_month_end: float,
               push_risk: float) -> Timing:
        """``"keep"``, ``"pull"`` (into the current month) or ``"push"`` (to the first day of the next)."""
        ...


def timing_hook(behaviour: Behaviour) -> TimingDecision | None:
    """The timing decision the engine calls for ``behaviour``, or None when it plays no timing games.

    Raises
    ------
    TypeError
        When the behaviour says it plays timing games but has no ``timing`` method (a half-implemented
        ``TimingGames``, which would otherwise be ignored in silence).

    Examples
    --------
    >>> timing_hook(NormBehaviour()) is None
    True
    """
    if isinstance(behaviour, TimingGames):
        return behaviour.timing if behaviour.timing_games else None
    if hasattr(behaviour, "timing_games"):
        raise TypeError(f"{type(behaviour).__name__} has timing_games but no timing(rep, deal, close_month, "
                        "weeks_after_month_end, push_risk) method: implement sim.policy.TimingGames in full")
    return None


@dataclass(frozen=True)
class NormBehaviour:
    """The default: every rep works the norm hours of their tier and works deals by expected value.

    Priority is the deal's value times its base probability of being won from the current stage, so late,
    likely, large deals go first; ties go to the oldest deal.

    Parameters
    ----------
    hours_factor
        Multiplier on the norm hours (1 = the norm; use it for a what-if such as a 10 % longer week).

    Examples
    --------
    >>> b = NormBehaviour()
    >>> rep = RepState(seat=0, rep_id="R0001", tier="mid", norm_hours=40.0)
    >>> b.weekly_hours(rep)
    40.0
    """

    hours_factor: float = 1.0
    dynamic_priority: bool = field(default=False)

    def weekly_hours(self, rep: RepState) -> float:
        """The norm hours times ``hours_factor``."""
        return rep.norm_hours * self.hours_factor

    def priority(self, rep: RepState, deal: DealView) -> float:
        """Expected value of the deal from its current stage."""
        return deal.value * deal.win_probability
