"""The seats of one replication: who fills each seat and how well, and the lifecycle that changes it.

A seat's rep has a tier, a skill per stage, normal weekly hours, a base salary and a hire day; ramp-up
productivity rises linearly from the tier's ``ramp_start`` to 1 over ``ramp_months`` after the hire
(``ramp_productivity``, the one formula for it). Each week the rep's hours go first to training, then to the
service of its customers (at most ``simulation.max_service_share`` of the rest), the rest to selling
(``work_week``). At each month end (``month_end``): training raises skill, a rep leaves with the tier's attrition
rate, raised when the pay the rep expects for the year falls behind the tier's market pay, or is promoted
(tenure in tier and attainment over the rule's window), and ramp-up moves on. A leaver's seat is vacant: its
accounts go to colleagues (``sim.accounts.Accounts.hand_over``) and its queued deals follow them; after
``vacancy_months`` a backfill hire in the entry tier takes the seat and its accounts back. A planned hire
(``hire_date`` after the clock starts) holds an empty seat, covered the same way, until that day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from sim.accounts import Accounts
from sim.books import Books
from sim.model import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR, Model, month_index
from sim.policy import RepState

__all__ = ["Seats", "ramp_productivity"]


def ramp_productivity(ramp_months: np.ndarray, ramp_start: np.ndarray, tenure_months: np.ndarray) -> np.ndarray:
    """Ramp-up productivity after ``tenure_months`` in post: ``ramp_start`` rising linearly to 1 over
    ``ramp_months`` (1 at once when ``ramp_months`` is 0).

    Examples
    --------
    >>> ramp_productivity(np.array([4.0, 0.0]), np.array([0.2, 0.5]), np.array([2.0, 2.0])).tolist()
    [0.6000000000000001, 1.0]
    """
    share: np.ndarray = np.where(ramp_months > 0, np.minimum(1.0, ramp_start + (1.0 - ramp_start) * tenure_months
                                                             / np.maximum(ramp_months, 1e-9)), 1.0)
    return share


class Seats:
    """Seat state (tier, skill, hours, tenure, productivity, time use, lifecycle counts), changed in place.

    Parameters
    ----------
    model
        Arrays of the scenario and plan.
    env
        The replication's SimPy environment.
    state
        The reps' live states (tier, hours and productivity are kept up to date here).
    accounts
        The accounts a vacant seat hands over and a new rep takes back.
    books
        The quotas and bookings promotion is judged on.
    attrition_u
        Uniforms (months x seats) from the ``lifecycle`` stream for the attrition draws.
    requeue
        Called with a seat that fell vacant, after its accounts were handed over, to move its queued deals.
    """

    def __init__(self, model: Model, env: simpy.Environment, state: list[RepState], accounts: Accounts,
                 books: Books, attrition_u: np.ndarray, requeue: Callable[[int], None]) -> None:
        m = model
        sim = m.scenario.settings.simulation
        n_seats, n_months = m.n_seats, m.n_months
        self.m, self.env, self.state, self.accounts, self.books = m, env, state, accounts, books
        self.attrition_u = attrition_u
        self.requeue = requeue
        self.month_start: list[float] = m.month_start.tolist()
        self.active = [True] * n_seats
        self.tier: list[int] = m.seat_tier.tolist()
        self.skill: list[list[float]] = m.skill.tolist()
        self.norm_hours: list[float] = m.seat_hours.tolist()
        self.hired: list[float] = m.hired_day.tolist()
        self.tier_since: list[float] = m.hired_day.tolist()  # tenure in tier is counted from hire (no history before)
        self.base_salary = np.repeat(m.base_salary[:, None], n_months, axis=1)
        self.rate = [0.0] * n_seats  # selling hours per day this week
        self.effort = [1.0] * n_seats  # this week's hours from the behaviour over the norm (1 for a vacant seat)
        self.productivity = [1.0] * n_seats
        self.active_since = [0.0] * n_seats
        self.active_days = np.zeros((n_seats, n_months))
        self.training_week = sim.training_hours_per_year / (DAYS_PER_YEAR / DAYS_PER_WEEK)
        self.max_service = sim.max_service_share
        self.available = np.zeros(n_seats)
        self.selling = [0.0] * n_seats
        self.serving = np.zeros(n_seats)
        self.training = np.zeros(n_seats)
        self.trained_month = np.zeros(n_seats)
        self.leavers = [0] * n_seats
        self.hires = [0] * n_seats
        self.promotions = [0] * n_seats
        self.ramp()
        # seats whose rep is hired after the clock starts are vacant until the hire date (``vacate_planned``)
        self.planned = [r for r in range(n_seats) if self.hired[r] > env.now]

    # ----------------------------------------------------------------- time use
    def ramp(self, r: int | None = None) -> None:
        """Ramp-up productivity of seat ``r`` (of every seat when None) at the current time."""
        rows = range(self.m.n_seats) if r is None else range(r, r + 1)
        tier = np.asarray([self.tier[i] for i in rows], dtype=np.int64)
        hired = np.asarray([self.hired[i] for i in rows], dtype=float)
        tenure = np.maximum(self.env.now - hired, 0.0) / DAYS_PER_MONTH
        prod = ramp_productivity(self.m.tier_ramp_months[tier], self.m.tier_ramp_start[tier], tenure).tolist()
        for i, p in zip(rows, prod, strict=True):
            self.productivity[i] = p
            self.state[i].productivity = p

    def work_week(self, hours: np.ndarray, need: np.ndarray, measured: bool) -> np.ndarray:
        """Split each rep's ``hours`` this week (from the behaviour, before ramp-up) into training, service of
        ``need`` and selling (the selling rate of the week); tally them when ``measured`` (within the horizon).
        Keep each rep's effort, ``hours`` over the norm (what paces stages without hours, ``sim.processes``).
        Return the service hours given."""
        clipped = np.clip(hours, 0.0, 168.0)
        norm = np.asarray(self.norm_hours)
        working = np.asarray(self.active) & (norm > 0.0)
        self.effort[:] = np.where(working, clipped / np.where(working, norm, 1.0), 1.0).tolist()
        h = clipped * self.m.hours_scale * np.asarray(self.productivity)
        train = np.minimum(h, self.training_week)
        serve = np.minimum(need, self.max_service * (h - train))
        self.rate[:] = np.where(np.asarray(self.active), (h - train - serve) / DAYS_PER_WEEK, 0.0).tolist()
        if measured:
            self.available += h
            self.serving += serve
            self.training += train
            self.trained_month += train
        served: np.ndarray = serve
        return served

    def active_share(self, upto: int) -> np.ndarray:
        """Share of each month up to ``upto`` that each seat was filled (seats x months)."""
        ms = self.m.month_start
        since = np.where(self.active, np.asarray(self.active_since), np.inf)[:, None]
        current = np.clip(np.minimum(ms[None, 1:upto + 2], self.env.now) - np.maximum(ms[None, :upto + 1], since),
                          0.0, None)
        share: np.ndarray = (self.active_days[:, :upto + 1] + current) / np.diff(ms)[None, :upto + 1]
        return share

    def close_days(self, until: float) -> None:
        """Count the filled days of every filled seat up to ``until`` (the horizon)."""
        for r in range(self.m.n_seats):
            if self.active[r]:
                self.active_days[r] += self._overlap(self.active_since[r], until)

    def _overlap(self, t0: float, t1: float) -> np.ndarray:
        ms = self.m.month_start
        out: np.ndarray = np.clip(np.minimum(ms[1:], t1) - np.maximum(ms[:-1], t0), 0.0, None)
        return out

    def filled_since(self, day: float) -> list[bool]:
        """Per seat: filled without a break since ``day``."""
        return [self.active[r] and not self.active_since[r] > day + 1e-9 for r in range(self.m.n_seats)]

    # ----------------------------------------------------------------- month end
    def month_end(self, mo: int, expected_pay: np.ndarray) -> None:
        """Month ``mo`` ends: training gain, then attrition (given the pay each rep expects for the year),
        promotion and ramp-up of every filled seat."""
        m = self.m
        sim = m.scenario.settings.simulation
        tier = np.asarray(self.tier)
        market = m.tier_market_pay[tier]
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(market > 0, np.clip(1.0 - expected_pay / np.where(market > 0, market, 1.0), 0.0, None),
                           0.0)
        yearly = np.minimum(1.0, m.tier_attrition[tier] * (1.0 + sim.attrition_pay_sensitivity * gap))
        leaves = (self.attrition_u[mo] < 1.0 - (1.0 - yearly) ** (1.0 / 12.0)).tolist()
        gain = (sim.training_skill_gain * self.trained_month / max(sim.training_hours_per_year, 1e-9)).tolist()
        self.trained_month[:] = 0.0
        for r in range(m.n_seats):
            if not self.active[r]:
                continue
            if gain[r] > 0:
                self.skill[r] = [x * (1.0 + gain[r]) for x in self.skill[r]]
            if leaves[r]:
                self.leave(r)
                continue
            self.promote(r, mo, sim.promotion_min_history_months)
            self.ramp(r)

    def promote(self, r: int, mo: int, min_history: int) -> None:
        """Promote seat ``r``'s rep at the end of month ``mo`` when the tier's rule is met: tenure in tier and
        attainment over the rule's window (not before ``min_history`` months of the horizon)."""
        m = self.m
        k = self.tier[r]
        to = int(m.promotion_to[k])
        if to < 0 or mo + 1 < min_history:
            return
        after = m.promotion_after_months[k]
        if (self.env.now - self.tier_since[r]) / DAYS_PER_MONTH < after:
            return
        lo = max(0, mo + 1 - int(after))
        quota = self.books.quotas[r, lo:mo + 1].sum()
        booked = sum(self.books.bookings[r][lo:mo + 1])
        if quota <= 0 or booked / quota < m.promotion_min_attainment[k]:
            return
        self.tier[r] = to
        self.tier_since[r] = self.env.now
        self.promotions[r] += 1
        self.skill[r] = [max(a, b) for a, b in zip(self.skill[r], m.tier_skill[to].tolist(), strict=True)]
        self.norm_hours[r] = float(m.tier_hours[to])
        if mo + 1 < m.n_months:
            self.base_salary[r, mo + 1:] = np.maximum(self.base_salary[r, mo + 1:], m.tier_base_salary[to])
        st = self.state[r]
        st.tier = m.tier_ids[to]
        st.norm_hours = self.norm_hours[r]

    # ----------------------------------------------------------------- vacancies
    def leave(self, r: int) -> None:
        """Seat ``r``'s rep leaves now; a backfill hire follows after the vacancy."""
        self.leavers[r] += 1
        self.active_days[r] += self._overlap(self.active_since[r], self.env.now)
        self.vacate(r)
        self.env.process(self.backfill(r))

    def vacate(self, r: int) -> None:
        """Empty seat ``r``: its accounts go to colleagues of the region, its queued deals follow them."""
        m = self.m
        self.active[r] = False
        self.rate[r] = 0.0
        colleagues = [c for c in range(m.n_seats) if self.active[c] and m.seat_region[c] == m.seat_region[r]]
        self.accounts.hand_over(r, colleagues)
        self.requeue(r)

    def vacate_planned(self) -> None:
        """Empty the seats of planned hires until their hire day (once the engine's queues exist)."""
        for r in self.planned:
            self.vacate(r)

    def _take_seat(self, r: int) -> None:
        self.active[r] = True
        self.accounts.restore(r)

    def join(self, r: int, day: float) -> Any:
        """Process: a planned hire (``hire_date`` after the clock starts) takes the seat and its accounts on that
        day, ramping up from its hire date."""
        yield self.env.timeout(day - self.env.now)
        self.active_since[r] = max(self.env.now, 0.0)
        self._take_seat(r)

    def backfill(self, r: int) -> Any:
        """Process: after ``vacancy_months`` a hire in the entry tier takes vacant seat ``r`` and its accounts."""
        m = self.m
        yield self.env.timeout(m.scenario.settings.simulation.vacancy_months * DAYS_PER_MONTH)
        now = self.env.now
        k = m.entry_tier
        self.active_since[r] = now
        self.hires[r] += 1
        self.tier[r] = k
        self.tier_since[r] = now
        self.hired[r] = now
        self.skill[r] = m.tier_skill[k].tolist()
        self.norm_hours[r] = float(m.tier_hours[k])
        self.base_salary[r, month_index(self.month_start, now):] = m.tier_base_salary[k]
        self._take_seat(r)
        st = self.state[r]
        st.tier = m.tier_ids[k]
        st.norm_hours = self.norm_hours[r]
        self.ramp(r)
