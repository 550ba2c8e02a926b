"""The SimPy processes of one replication: lead arrivals, reps working their queues, stage delays, and the
weekly and monthly clocks of the rep lifecycle (``build processes`` and ``run`` for one replication).

How time is used. Every week each active rep's hours come from the behaviour hook, scaled to working weeks
(``calendar.weeks_per_year`` of 52.18) and by ramp-up productivity; training hours come off first, then
service of the rep's customers (at most ``simulation.max_service_share`` of the rest), and what is left is
selling time. A rep works one deal at a time from a priority queue: working a stage takes the stage's
``effort_hours`` (times a gamma multiplier) at the rep's selling rate, then the customer side takes the stage's
duration (mean ``mean_days`` divided by the rep's skill at the stage) before the outcome is known. The stage is
passed with probability ``conversion x skill x account-tier multiplier`` (x the channel's ``lead_quality`` at a
lead's entry stage), capped at 1. A deal that waits in a queue longer than ``funnel.stall_days`` is lost.

Timing games (only when the behaviour plays them: ``[behaviour] timing_games = true``). A deal whose last stage
the customer will pass is "committed" from the moment the rep hands it over. On the last day of each month of
the horizon the rep may pull a committed deal that would sign after the month end into the month, booking its
value less ``pull_in_discount`` (the discount comes off revenue and gross margin alike); when a deal signs, the
rep may push its booking to the first day of the next month (past the horizon it stays open: it is booked next
year), and loses it meanwhile with probability ``push_risk`` (a uniform pre-drawn per lead from the
``lifecycle`` stream after its other draws, so runs without timing games are unchanged). Both are the
behaviour's ``timing`` decision; the counts and the discounts given are in the record.

Lifecycle, at each month end: pay so far (one swappable pay function), attrition (tier rate, raised when the
pay the rep expects for the year — pay so far plus the rest of the year at the attainment so far — falls behind
the tier's market pay), promotion (tenure in tier and attainment over the rule's
window), training skill gain and ramp-up. At each quarter end customers whose owner served less than
``simulation.churn_service_share`` of their need churn with ``neglect_churn_per_quarter``, others with the base
rate. A leaver's accounts go, largest service need first, to the active rep of the same region with the least
service load; queued deals follow their accounts; after ``vacancy_months`` a backfill hire in the entry tier
takes the seat and its original accounts back. A rep whose ``hire_date`` lies after the start of the clock
(a planned hire) holds an empty seat, covered the same way, until that day, then ramps up from it.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.demand import Leads
from sim.model import DAYS_PER_WEEK, DAYS_PER_YEAR, Model
from sim.pay_function import PayFunction, quota_ratchet
from sim.policy import Behaviour, RepState, timing_hook

__all__ = ["LOST_CHURNED", "LOST_PUSHED", "LOST_STAGE", "LOST_STALLED", "LOST_UNCOVERED", "LOST_VACANT", "PUSH_DELAY",
           "Deal", "Funnel", "RunRecord"]

OPEN, WON, LOST = 0, 1, 2
# why a deal was lost: failed a stage, stalled in a queue, its account had no rep on arrival, its account had
# churned, it was queued with a rep who left and no colleague was left in the region to take it, or the rep
# put off its signature to the next month (a timing game) and the customer walked away meanwhile
LOST_STAGE, LOST_STALLED, LOST_UNCOVERED, LOST_CHURNED, LOST_VACANT, LOST_PUSHED = 1, 2, 3, 4, 5, 6
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
MIN_SKILL = 0.05
PUSH_DELAY = 1e-6  # a pushed deal books just after the next month starts (after the month-end clock has run)


class Deal:
    """A lead moving through the funnel (satisfies ``sim.policy.DealView``)."""

    __slots__ = ("account", "created", "lead", "queued_at", "stage", "value", "win_probability", "worker")

    def __init__(self, lead: int, account: int, stage: int, value: float, win_probability: float,
                 created: float) -> None:
        self.lead = lead
        self.account = account
        self.stage = stage
        self.value = value
        self.win_probability = win_probability
        self.created = created
        self.queued_at = created
        self.worker = -1


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
    potential_cut: np.ndarray  # (R,) value of won deals not booked because the account had bought its potential
    account_bookings: np.ndarray  # (A,) revenue booked on each account within the horizon


class Funnel:
    """One replication's SimPy model. ``run()`` executes it to the horizon and returns a ``RunRecord``.

    Parameters
    ----------
    model
        Arrays of the scenario and plan.
    leads
        The replication's pre-drawn leads.
    lifecycle
        Generator of the ``lifecycle`` stream (attrition and churn draws, pre-drawn at construction).
    behaviour
        The behaviour hook.
    pay
        The pay function.

    Examples
    --------
    >>> import numpy as np, scenarios
    >>> from sim import NormBehaviour, build, commission_pay, draw_leads, streams
    >>> model = build(scenarios.load("tiny"))
    >>> rng = streams(np.random.SeedSequence(4))
    >>> rec = Funnel(model, draw_leads(model, rng), rng["lifecycle"], NormBehaviour(), commission_pay).run()
    >>> rec.bookings.shape == (model.n_seats, model.n_months)
    True
    """

    def __init__(self, model: Model, leads: Leads, lifecycle: np.random.Generator, behaviour: Behaviour,
                 pay: PayFunction) -> None:
        m = model
        sim = m.scenario.settings.simulation
        self.m, self.leads, self.behaviour, self.pay_fn = m, leads, behaviour, pay
        # quotas of this replication: a pay plan's ratchet rewrites next year's at each plan-year end
        self.quotas = m.quotas.copy()
        self.ratchet = quota_ratchet(pay)
        # the clock starts at the warm-up (negative days); day 0 is the first day of the horizon
        self.env = simpy.Environment(initial_time=float(m.demand_start[0]))
        n_seats, n_months, n_stages = m.n_seats, m.n_months, len(m.stage_ids)
        self.n_stages = n_stages
        self.last_stage = n_stages - 1
        n_quarters = (n_months + 2) // 3
        self.attrition_u = lifecycle.random((n_months, n_seats))
        self.churn_u = lifecycle.random((n_quarters, len(m.account_ids)))

        self.conv = m.conversion.tolist()
        self.mean_days = m.mean_days.tolist()
        self.effort = m.effort_hours.tolist()
        self.win_from = m.win_from.tolist()
        self.stall = float(m.stall_days)
        self.month_start = m.month_start.tolist()
        self.acc_mult = m.tier_conversion[m.account_tier].tolist()
        self.lead_u = leads.outcome_u.tolist()
        self.lead_z = leads.duration_x.tolist()
        self.lead_e = leads.effort_x.tolist()
        self.lead_quality = leads.quality.tolist()
        self.lead_entry = leads.entry_stage.tolist()
        self.lead_value = leads.value.tolist()
        self.lead_margin = (leads.value * m.margin[leads.product]).tolist()

        self.owner = m.owner.copy()
        self.owner_list: list[int] = self.owner.tolist()  # per-event lookups; re-synced when owners change
        self.customer = m.customer.copy()
        self.churned = np.zeros(len(m.account_ids), dtype=bool)
        self.churned_list: list[bool] = self.churned.tolist()
        self.active = [True] * n_seats
        self.tier = m.seat_tier.tolist()
        self.skill = m.skill.tolist()
        self.norm_hours = m.seat_hours.tolist()
        self.hired = m.hired_day.tolist()
        self.tier_since = m.hired_day.tolist()  # tenure in tier is counted from hire (no history before)
        self.base_salary = np.repeat(m.base_salary[:, None], n_months, axis=1)
        self.rate = [0.0] * n_seats
        self.productivity = [1.0] * n_seats
        self.originals: dict[int, np.ndarray] = {}
        self.active_since = [0.0] * n_seats
        self.active_days = np.zeros((n_seats, n_months))

        self.routing_pool = sim.routing == "region_pool"
        self.qof = m.seat_region.tolist() if self.routing_pool else list(range(n_seats))
        n_queues = len(m.region_ids) if self.routing_pool else n_seats
        self.queues: list[list[tuple[float, float, int, Deal]]] = [[] for _ in range(n_queues)]
        self.waiters: list[list[tuple[int, simpy.Event]]] = [[] for _ in range(n_queues)]
        self.queue_value = [0.0] * n_queues  # expected value of the deals waiting in each queue
        self.week_event = self.env.event()
        self.seq = 0
        self.open_now = 0  # live count of open deals, sampled weekly (an independent check of Little's law)
        self.wip_samples: list[tuple[float, int]] = []

        n = len(leads)
        self.status = [OPEN] * n
        self.reason = [0] * n
        self.closed = [math.nan] * n
        self.closer = [-1] * n
        self.reached = leads.entry_stage.tolist()
        self.since = [math.nan] * n  # day the lead entered its current stage
        self.stage_entered = [0] * n_stages
        self.stage_converted = [0] * n_stages
        self.stage_days = [0.0] * n_stages
        self.stage_done = [0] * n_stages
        self.stage_wait = [0.0] * n_stages
        self.stage_started = [0] * n_stages
        self.seat_entered = [[0] * n_stages for _ in range(n_seats)]
        self.seat_converted = [[0] * n_stages for _ in range(n_seats)]
        self.bookings = [[0.0] * n_months for _ in range(n_seats)]
        self.region_bookings = [[0.0] * n_months for _ in range(len(m.region_ids))]  # for team bonuses
        self.company_bookings = [0.0] * n_months
        self.margin = [[0.0] * n_months for _ in range(n_seats)]
        self.pay = np.zeros((n_seats, n_months))
        self.available = np.zeros(n_seats)
        self.selling = [0.0] * n_seats
        self.serving = np.zeros(n_seats)
        self.training = np.zeros(n_seats)
        self.trained_month = np.zeros(n_seats)
        self.q_given = np.zeros(n_seats)
        self.q_needed = np.zeros(n_seats)
        self.leavers = [0] * n_seats
        self.hires = [0] * n_seats
        self.promotions = [0] * n_seats
        self.churn_count = 0
        self.timing = timing_hook(behaviour)
        self.pull_discount_rate = m.scenario.settings.behaviour.pull_in_discount
        self.push_risk = m.scenario.settings.behaviour.push_risk
        self.push_u = lifecycle.random(len(leads)).tolist() if self.timing is not None else []
        # per seat: lead -> (day it will sign, deal) for deals the customer will sign at the last stage
        self.committed: list[dict[int, tuple[float, Deal]]] = [{} for _ in range(n_seats)]
        self.pulled = [[0] * n_months for _ in range(n_seats)]
        self.pushed = [[0] * n_months for _ in range(n_seats)]
        self.pull_discount = [0.0] * n_seats
        # what each account can still buy in each plan year; a deal beyond it books only the rest
        self.wallet_left: list[list[float]] = m.wallet.tolist()
        self.potential_cut = [0.0] * n_seats
        self.account_bookings = [0.0] * len(m.account_ids)

        self.flight_value = [0.0] * n_seats  # expected value of deals with the customer, by the rep who worked them
        self.flight_deals = [0] * n_seats
        self.seat_region: list[int] = m.seat_region.tolist()
        self.region_quotas = np.zeros((len(m.region_ids), n_months))
        self.company_quotas = np.zeros(n_months)
        self._team_quotas()
        self.state = [RepState(seat=r, rep_id=m.rep_ids[r], tier=m.tier_ids[self.tier[r]],
                               norm_hours=self.norm_hours[r], bookings_by_month=self.bookings[r],
                               region_bookings_by_month=self.region_bookings[self.seat_region[r]],
                               company_bookings_by_month=self.company_bookings, quotas_by_month=self.quotas[r],
                               region_quotas_by_month=self.region_quotas[self.seat_region[r]],
                               company_quotas_by_month=self.company_quotas)
                      for r in range(n_seats)]
        self._month_state(0)
        self.training_week = sim.training_hours_per_year / (DAYS_PER_YEAR / DAYS_PER_WEEK)
        self.max_service = sim.max_service_share
        for r in range(n_seats):
            self._ramp(r)
        # seats whose rep is hired after the clock starts are vacant until the hire date
        self.planned = [r for r in range(n_seats) if self.hired[r] > self.env.now]
        for r in self.planned:
            self._vacate(r)

    # ----------------------------------------------------------------- deals
    # The methods below run once per event: they read lists bound to locals, not numpy arrays or attributes.
    def _enqueue(self, deal: Deal, count: bool = True) -> None:
        seat = self.owner_list[deal.account]
        if seat < 0 or not self.active[seat]:
            self._lose(deal, self.env.now, LOST_UNCOVERED if count else LOST_VACANT)
            return
        now = self.env.now
        deal.queued_at = now
        if count:
            self.since[deal.lead] = now
            if now >= 0.0:  # stage statistics count stages entered within the horizon
                self.stage_entered[deal.stage] += 1
                self.seat_entered[seat][deal.stage] += 1
        prio = self.behaviour.priority(self.state[seat], deal)
        self.seq += 1
        q = self.qof[seat]
        heapq.heappush(self.queues[q], (-prio, deal.created, self.seq, deal))
        self.queue_value[q] += deal.value * deal.win_probability
        waiters = self.waiters[q]
        while waiters:  # wake one active rep; a rep that left meanwhile is woken too and goes back to waiting
            r, ev = waiters.pop()
            ev.succeed()
            if self.active[r]:
                break

    def _lose(self, deal: Deal, when: float, reason: int) -> None:
        self.open_now -= 1
        i = deal.lead
        self.status[i] = LOST
        self.reason[i] = reason
        self.closed[i] = when
        self.closer[i] = deal.worker

    def _month_of(self, t: float) -> int:
        return min(bisect.bisect_right(self.month_start, t) - 1, len(self.month_start) - 2)

    def _won(self, deal: Deal, seat: int, discount: float = 0.0) -> None:
        now = self.env.now
        self.open_now -= 1
        i = deal.lead
        self.status[i] = WON
        self.closed[i] = now
        self.closer[i] = seat
        self.customer[deal.account] = True
        if now < 0.0:  # won during the warm-up: before the horizon, nobody is paid for it
            return
        mo = self._month_of(now)
        cut = self.lead_value[i] * discount
        v = self.lead_value[i] - cut
        margin = self.lead_margin[i] - cut
        wallet = self.wallet_left[mo // 12]
        left = wallet[deal.account]
        if v > left:  # the account has bought its potential for the plan year: it buys only what is left
            self.potential_cut[seat] += v - left
            margin = margin * left / v if v > 0 else 0.0
            v = left
        wallet[deal.account] = left - v
        self.account_bookings[deal.account] += v
        self.bookings[seat][mo] += v
        self.region_bookings[self.seat_region[seat]][mo] += v
        self.company_bookings[mo] += v
        self.margin[seat][mo] += margin
        st = self.state[seat]
        st.bookings_month += v
        st.bookings_quarter += v
        st.bookings_horizon += v

    def arrivals(self) -> Any:
        """Release the pre-drawn leads at their arrival days."""
        env = self.env
        timeout = env.timeout
        times = self.leads.time.tolist()
        accounts = self.leads.account.tolist()
        entry, value, win_from = self.lead_entry, self.lead_value, self.win_from
        churned = self.churned_list
        enqueue = self._enqueue
        for i, t in enumerate(times):
            if t > env.now:
                yield timeout(t - env.now)
            acc = accounts[i]
            s = entry[i]
            deal = Deal(i, acc, s, value[i], win_from[s], t)
            self.open_now += 1
            if churned[acc]:
                self._lose(deal, t, LOST_CHURNED)
                continue
            enqueue(deal)

    def rep(self, r: int) -> Any:
        """Rep ``r``: take the best deal from the queue, work its stage, hand it to the customer side."""
        env = self.env
        timeout, event = env.timeout, env.event
        heappop = heapq.heappop
        stall = self.stall
        active, rate, queues, qof, waiters = self.active, self.rate, self.queues, self.qof, self.waiters
        effort, lead_e, skill, conv = self.effort, self.lead_e, self.skill, self.conv
        acc_mult, entry, quality = self.acc_mult, self.lead_entry, self.lead_quality
        lead_u, lead_z, mean_days = self.lead_u, self.lead_z, self.mean_days
        stage_wait, stage_started, selling = self.stage_wait, self.stage_started, self.selling
        flight_value, flight_deals, win_from = self.flight_value, self.flight_deals, self.win_from
        queue_value = self.queue_value
        done = self._stage_done
        last, timing_on, committed = self.last_stage, self.timing is not None, self.committed
        while True:
            if not active[r] or rate[r] <= 0.0:
                yield self.week_event
                continue
            qi = qof[r]
            q = queues[qi]
            deal = None
            now = env.now
            while q:
                d = heappop(q)[3]
                queue_value[qi] -= d.value * d.win_probability
                if now - d.queued_at > stall:
                    self._lose(d, d.queued_at + stall, LOST_STALLED)
                    continue
                deal = d
                break
            if deal is None:
                ev = event()
                waiters[qof[r]].append((r, ev))
                yield ev
                continue
            s = deal.stage
            i = deal.lead
            if deal.queued_at >= 0.0:
                stage_wait[s] += now - deal.queued_at
                stage_started[s] += 1
            hours = effort[s] * lead_e[i][s]
            if hours > 0.0:
                yield timeout(hours / rate[r])
                if env.now >= 0.0:
                    selling[r] += hours
            sk = skill[r][s]
            p = conv[s] * sk * acc_mult[deal.account]
            if s == entry[i]:
                p *= quality[i]
            deal.worker = r
            flight_value[r] += deal.value * win_from[s]
            flight_deals[r] += 1
            delay = mean_days[s] / (sk if sk > MIN_SKILL else MIN_SKILL) * lead_z[i][s]
            passed = lead_u[i][s] < p
            if passed and s == last and timing_on:
                committed[r][i] = (env.now + delay, deal)
            ev = timeout(delay, (deal, passed))
            ev.callbacks.append(done)

    def _stage_done(self, ev: simpy.Event) -> None:
        pair: tuple[Deal, bool] = ev.value  # type: ignore[assignment]  # (a cast would cost a call per event)
        deal, passed = pair
        if self.status[deal.lead] != OPEN:  # pulled into an earlier month by a timing game: already booked
            return
        self._finish_stage(deal, passed)

    def _finish_stage(self, deal: Deal, passed: bool, discount: float = 0.0) -> None:
        """The outcome of the deal's current stage is known now (``discount``: a pulled-in deal's price cut)."""
        s = deal.stage
        now = self.env.now
        self.flight_value[deal.worker] -= deal.value * self.win_from[s]
        self.flight_deals[deal.worker] -= 1
        counted = deal.queued_at >= 0.0
        if counted:
            self.stage_days[s] += now - deal.queued_at
            self.stage_done[s] += 1
        if not passed:
            self._lose(deal, now, LOST_STAGE)
            return
        r = deal.worker
        if counted:
            self.stage_converted[s] += 1
            self.seat_converted[r][s] += 1
        if s == self.last_stage:
            if self.timing is not None and not discount:
                self.committed[r].pop(deal.lead, None)
                if now >= 0.0 and self._push(deal, r):
                    return
            self._won(deal, r, discount)
            return
        s += 1
        deal.stage = s
        deal.win_probability = self.win_from[s]
        self.reached[deal.lead] = s
        self._enqueue(deal)

    def _push(self, deal: Deal, r: int) -> bool:
        """Ask the rep whether to push a deal signing now to the next month; schedule its booking if so."""
        assert self.timing is not None
        mo = self._month_of(self.env.now)
        st = self.state[r]
        if mo != st.month or not self.active[r] or self.timing(st, deal, mo, 0.0) != "push":
            return False
        self.pushed[r][mo] += 1
        if mo + 1 < self.m.n_months:  # past the horizon the deal stays open: it books next year
            ev = self.env.timeout(self.month_start[mo + 1] + PUSH_DELAY - self.env.now)
            if self.push_u[deal.lead] < self.push_risk:
                ev.callbacks.append(lambda _ev: self._lose(deal, self.env.now, LOST_PUSHED))
            else:
                ev.callbacks.append(lambda _ev: self._won(deal, r))
        return True

    def pulls(self) -> Any:
        """Timing games: on the last day of each month, each rep may pull committed deals into the month."""
        env = self.env
        m = self.m
        timing = self.timing
        assert timing is not None
        for mo in range(m.n_months):
            end = self.month_start[mo + 1]
            day = max(end - 1.0, self.month_start[mo])
            if day > env.now:
                yield env.timeout(day - env.now)
            for r in range(m.n_seats):
                st = self.state[r]
                if not self.active[r] or not self.committed[r] or st.month != mo:
                    continue
                for due, deal in sorted(self.committed[r].values(), key=lambda x: (x[0], x[1].lead)):
                    if due <= end:
                        continue  # signs this month anyway
                    close = self._month_of(due) if due < m.horizon else m.n_months + int((due - m.horizon)
                                                                                         // DAYS_PER_MONTH)
                    if timing(st, deal, close, (due - end) / DAYS_PER_WEEK) == "pull":
                        del self.committed[r][deal.lead]
                        self.pulled[r][mo] += 1
                        self.pull_discount[r] += self.lead_value[deal.lead] * self.pull_discount_rate
                        self._finish_stage(deal, True, discount=self.pull_discount_rate)

    # ----------------------------------------------------------------- clocks
    def _ramp(self, r: int) -> None:
        k = self.tier[r]
        months = self.m.tier_ramp_months[k]
        start = self.m.tier_ramp_start[k]
        tenure = (self.env.now - self.hired[r]) / DAYS_PER_MONTH
        self.productivity[r] = 1.0 if months <= 0 else float(min(1.0, start + (1.0 - start) * max(tenure, 0.0)
                                                                  / months))
        self.state[r].productivity = self.productivity[r]

    def weeks(self) -> Any:
        """Weekly clock: hours per rep from the behaviour, split into training, service and selling."""
        env = self.env
        m = self.m
        per_week = DAYS_PER_WEEK / DAYS_PER_YEAR
        while True:
            now = env.now
            self.wip_samples.append((now, self.open_now))
            serving = self.customer & ~self.churned & (self.owner >= 0)
            need = np.bincount(self.owner[serving], weights=m.service_need[serving], minlength=m.n_seats) * per_week
            mo = self._month_of(now)
            end_month = self.month_start[mo + 1]
            elapsed = 0.0 if now < 0 else (now - self.month_start[mo]) / (end_month - self.month_start[mo])
            tier = np.asarray(self.tier)
            ramp, start = m.tier_ramp_months[tier], m.tier_ramp_start[tier]
            tenure = np.maximum(now - np.asarray(self.hired), 0.0) / DAYS_PER_MONTH
            prod = np.where(ramp > 0, np.minimum(1.0, start + (1.0 - start) * tenure / np.maximum(ramp, 1e-9)), 1.0)
            self.productivity[:] = prod.tolist()
            weekly_hours = self.behaviour.weekly_hours
            hours = np.zeros(m.n_seats)
            for r, st in enumerate(self.state):
                st.now = now
                st.productivity = self.productivity[r]
                st.days_left_month = end_month - now
                st.days_left_horizon = m.horizon - now
                queue = self.queues[self.qof[r]]
                st.queue_length = len(queue)
                st.month_elapsed = elapsed
                st.pipeline_value = self.flight_value[r] + max(self.queue_value[self.qof[r]], 0.0)
                st.pipeline_deals = self.flight_deals[r] + len(queue)
                if self.active[r]:
                    hours[r] = weekly_hours(st)
            h = np.clip(hours, 0.0, 168.0) * m.hours_scale * prod
            train = np.minimum(h, self.training_week)
            serve = np.minimum(need, self.max_service * (h - train))
            active = np.asarray(self.active)
            self.rate[:] = np.where(active, (h - train - serve) / DAYS_PER_WEEK, 0.0).tolist()
            if now >= 0.0:  # time use is measured over the horizon only
                self.available += h
                self.serving += serve
                self.training += train
                self.trained_month += train
                self.q_given += serve
                self.q_needed += np.where(active, need, 0.0)
            if self.behaviour.dynamic_priority:
                self._reprioritise()
            old, self.week_event = self.week_event, env.event()
            old.succeed()
            yield env.timeout(DAYS_PER_WEEK)

    def _reprioritise(self) -> None:
        for qi, q in enumerate(self.queues):
            if not q:
                continue
            fresh = []
            for old, created, seq, d in q:
                seat = self.owner_list[d.account]
                key = -self.behaviour.priority(self.state[seat], d) if seat >= 0 else old
                fresh.append((key, created, seq, d))
            heapq.heapify(fresh)
            self.queues[qi] = fresh

    def _month_state(self, mo: int) -> None:
        q0 = (mo // 3) * 3
        month = self.quotas[:, mo].tolist()
        quarter = self.quotas[:, q0:q0 + 3].sum(axis=1).tolist()
        horizon = self.quotas.sum(axis=1).tolist()
        for r, st in enumerate(self.state):
            st.month = mo
            st.bookings_month = 0.0
            if mo == q0:
                st.bookings_quarter = 0.0
            st.quota_month = month[r]
            st.quota_quarter = quarter[r]
            st.quota_horizon = horizon[r]

    def _active_share(self, upto: int) -> np.ndarray:
        ms = self.m.month_start
        since = np.where(self.active, np.asarray(self.active_since), np.inf)[:, None]
        current = np.clip(np.minimum(ms[None, 1:upto + 2], self.env.now) - np.maximum(ms[None, :upto + 1], since),
                          0.0, None)
        share: np.ndarray = (self.active_days[:, :upto + 1] + current) / np.diff(ms)[None, :upto + 1]
        return share

    def _overlap(self, t0: float, t1: float) -> np.ndarray:
        ms = self.m.month_start
        out: np.ndarray = np.clip(np.minimum(ms[1:], t1) - np.maximum(ms[:-1], t0), 0.0, None)
        return out

    def months(self) -> Any:
        """Monthly clock: pay, attrition, promotion, training gain, ramp-up; churn at quarter ends."""
        env = self.env
        m = self.m
        sim = m.scenario.settings.simulation
        for mo in range(m.n_months):
            yield env.timeout(self.month_start[mo + 1] - env.now)
            bookings = np.asarray(self.bookings)[:, :mo + 1]
            active_share = self._active_share(mo)
            pay = self.pay_fn(bookings, self.quotas[:, :mo + 1], active_share, self.base_salary[:, :mo + 1],
                              m.commission_rate)
            self.pay[:, :mo + 1] = pay
            expected = self._expected_pay(bookings, active_share)
            to_date = pay.sum(axis=1).tolist()
            for r, st in enumerate(self.state):
                st.pay_to_date = to_date[r]
            tier = np.asarray(self.tier)
            market = m.tier_market_pay[tier]
            with np.errstate(divide="ignore", invalid="ignore"):
                gap = np.where(market > 0, np.clip(1.0 - expected / np.where(market > 0, market, 1.0), 0.0, None),
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
                    self._leave(r)
                    continue
                self._promote(r, mo, sim.promotion_min_history_months)
                self._ramp(r)
            if (mo + 1) % 3 == 0 or mo == m.n_months - 1:
                self._churn(mo // 3)
            if self.ratchet is not None and (mo + 1) % 12 == 0 and mo + 1 < m.n_months:
                self._apply_ratchet(mo)
            if mo + 1 < m.n_months:
                self._month_state(mo + 1)

    def _apply_ratchet(self, mo: int) -> None:
        """Plan-year end (month ``mo``): each seat filled all year whose pay plan has a quota ratchet gets next year's
        quota from the pay function's ``ratchet(seat, quota, attainment)`` (the months keep their shape)."""
        assert self.ratchet is not None
        lo = mo - 11
        year_start = self.month_start[lo]
        for r in range(self.m.n_seats):
            if not self.active[r] or self.active_since[r] > year_start + 1e-9:
                continue
            quota = float(self.quotas[r, lo:mo + 1].sum())
            attainment = sum(self.bookings[r][lo:mo + 1]) / quota if quota > 0 else 0.0
            new_total = self.ratchet(r, quota, attainment)
            nxt = self.quotas[r, mo + 1:mo + 13]
            total = float(nxt.sum())
            if new_total is not None and total > 0:
                nxt *= new_total / total  # in place: RepState.quotas_by_month views this row
        self._team_quotas()

    def _team_quotas(self) -> None:
        """Region and company quota per month from the seats' quotas, in place (RepState holds views of them)."""
        for k in range(len(self.region_quotas)):
            self.region_quotas[k] = self.quotas[self.m.seat_region == k].sum(axis=0)
        self.company_quotas[:] = self.quotas.sum(axis=0)

    def _expected_pay(self, bookings: np.ndarray, active_share: np.ndarray) -> np.ndarray:
        """Pay each seat expects over the plan year (annualised), judged at a month end from the bookings and
        active shares of the months so far (``seats x months``): bookings so far, then the rest of the horizon at
        the seat's attainment so far (its monthly run rate when it had no quota yet), paid by the run's pay
        function in full.

        A pay plan that pays mostly through a year-end bonus is judged by the bonus the rep is on course for, not
        by the salary-only months before it is paid (a trailing window of pay would make every lump-sum pay plan
        look underpaid and inflate attrition).
        """
        m = self.m
        n = m.n_months
        mo = bookings.shape[1] - 1
        proj = bookings
        if mo + 1 < n:
            quota_so_far = self.quotas[:, :mo + 1].sum(axis=1)
            booked = bookings.sum(axis=1)
            pace = np.divide(booked, quota_so_far, out=np.zeros_like(booked), where=quota_so_far > 0)
            later = np.where(quota_so_far[:, None] > 0, pace[:, None] * self.quotas[:, mo + 1:],
                             (booked / (mo + 1))[:, None])
            proj = np.concatenate([bookings, later], axis=1)
        share = np.ones((m.n_seats, n))
        share[:, :mo + 1] = active_share
        pay = self.pay_fn(proj, self.quotas, share, self.base_salary, m.commission_rate)
        out: np.ndarray = pay.sum(axis=1) * 12.0 / n
        return out

    def _promote(self, r: int, mo: int, min_history: int) -> None:
        m = self.m
        k = self.tier[r]
        to = int(m.promotion_to[k])
        if to < 0 or mo + 1 < min_history:
            return
        after = m.promotion_after_months[k]
        if (self.env.now - self.tier_since[r]) / DAYS_PER_MONTH < after:
            return
        lo = max(0, mo + 1 - int(after))
        quota = self.quotas[r, lo:mo + 1].sum()
        booked = sum(self.bookings[r][lo:mo + 1])
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

    def _churn(self, quarter: int) -> None:
        sim = self.m.scenario.settings.simulation
        share = np.where(self.q_needed > 0, self.q_given / np.maximum(self.q_needed, 1e-12), 1.0)
        live = self.customer & ~self.churned
        owner = self.owner
        acc_share = np.where(owner >= 0, share[np.maximum(owner, 0)], 0.0)
        p = np.where(acc_share < sim.churn_service_share, sim.neglect_churn_per_quarter,
                     1.0 - (1.0 - sim.base_churn_per_year) ** 0.25)
        churn = live & (self.churn_u[quarter] < p)
        self.churned |= churn
        for a in np.flatnonzero(churn).tolist():  # in place: the arrivals process holds this list
            self.churned_list[a] = True
        self.churn_count += int(churn.sum())
        self.q_given[:] = 0.0
        self.q_needed[:] = 0.0

    def _leave(self, r: int) -> None:
        self.leavers[r] += 1
        self.active_days[r] += self._overlap(self.active_since[r], self.env.now)
        self._vacate(r)
        self.env.process(self._backfill(r))

    def _join(self, r: int, day: float) -> Any:
        """A planned hire (``hire_date`` after the clock starts) takes the seat and its accounts on that day."""
        yield self.env.timeout(day - self.env.now)
        self.active[r] = True
        self.active_since[r] = max(self.env.now, 0.0)
        back = self.originals.pop(r, np.zeros(0, dtype=np.int64))
        self.owner[back] = r
        for a in back.tolist():
            self.owner_list[a] = r

    def _vacate(self, r: int) -> None:
        """Empty seat ``r``: its accounts go to colleagues of the region, its queued deals follow them."""
        m = self.m
        self.active[r] = False
        self.rate[r] = 0.0
        mine = np.flatnonzero(self.owner == r)
        self.originals[r] = mine
        colleagues = [c for c in range(m.n_seats) if self.active[c] and m.seat_region[c] == m.seat_region[r]]
        if colleagues:
            serving = self.customer & ~self.churned & (self.owner >= 0)
            load = np.bincount(self.owner[serving], weights=m.service_need[serving], minlength=m.n_seats)
            heap = [(float(load[c]), c) for c in colleagues]
            heapq.heapify(heap)
            for a in mine[np.argsort(-m.service_need[mine], kind="stable")].tolist():
                lo, c = heapq.heappop(heap)
                self.owner[a] = c
                self.owner_list[a] = c
                heapq.heappush(heap, (lo + float(m.service_need[a]), c))
        else:
            self.owner[mine] = -1
            for a in mine.tolist():
                self.owner_list[a] = -1
        if not self.routing_pool:
            queued = [entry[3] for entry in self.queues[r]]
            self.queues[r] = []
            self.queue_value[r] = 0.0
            for d in queued:
                self._enqueue(d, count=False)

    def _backfill(self, r: int) -> Any:
        m = self.m
        sim = m.scenario.settings.simulation
        yield self.env.timeout(sim.vacancy_months * DAYS_PER_MONTH)
        now = self.env.now
        k = m.entry_tier
        self.active[r] = True
        self.active_since[r] = now
        self.hires[r] += 1
        self.tier[r] = k
        self.tier_since[r] = now
        self.hired[r] = now
        self.skill[r] = m.tier_skill[k].tolist()
        self.norm_hours[r] = float(m.tier_hours[k])
        mo = self._month_of(now)
        self.base_salary[r, mo:] = m.tier_base_salary[k]
        back = self.originals.pop(r, np.zeros(0, dtype=np.int64))
        self.owner[back] = r
        for a in back.tolist():
            self.owner_list[a] = r
        st = self.state[r]
        st.tier = m.tier_ids[k]
        st.norm_hours = self.norm_hours[r]
        self._ramp(r)

    # ----------------------------------------------------------------- run
    def run(self) -> RunRecord:
        """Run to the horizon and return the raw record."""
        env = self.env
        m = self.m
        env.process(self.arrivals())
        env.process(self.weeks())
        env.process(self.months())
        if self.timing is not None:
            env.process(self.pulls())
        for r in range(m.n_seats):
            env.process(self.rep(r))
        for r in self.planned:
            env.process(self._join(r, self.hired[r]))
        # a hair past the horizon so that the month-end clock of the last month runs
        env.run(until=m.horizon + 1e-7)
        horizon = m.horizon
        for q in self.queues:  # deals that waited past the stall limit before the horizon are lost
            for entry in q:
                d = entry[3]
                if self.status[d.lead] == OPEN and horizon - d.queued_at > self.stall:
                    self._lose(d, d.queued_at + self.stall, LOST_STALLED)
        for r in range(m.n_seats):
            if self.active[r]:
                self.active_days[r] += self._overlap(self.active_since[r], horizon)
        # SimPy numbers every scheduled event with this counter and keeps no public count of them
        events = next(env._eid) if hasattr(env, "_eid") else -1
        return RunRecord(
            status=np.asarray(self.status, dtype=np.int8), lost_reason=np.asarray(self.reason, dtype=np.int8),
            closed=np.asarray(self.closed), closer=np.asarray(self.closer, dtype=np.int64),
            stage_reached=np.asarray(self.reached, dtype=np.int64), stage_since=np.asarray(self.since),
            stage_entered=np.asarray(self.stage_entered, dtype=float),
            stage_converted=np.asarray(self.stage_converted, dtype=float),
            stage_days=np.asarray(self.stage_days), stage_done=np.asarray(self.stage_done, dtype=float),
            stage_wait=np.asarray(self.stage_wait), stage_started=np.asarray(self.stage_started, dtype=float),
            wip_samples=np.asarray(self.wip_samples, dtype=float).reshape(-1, 2),
            seat_entered=np.asarray(self.seat_entered, dtype=float),
            seat_converted=np.asarray(self.seat_converted, dtype=float),
            bookings=np.asarray(self.bookings), margin=np.asarray(self.margin), quotas=self.quotas.copy(),
            pay=self.pay.copy(), available_hours=self.available.copy(),
            selling_hours=np.asarray(self.selling), service_hours=self.serving.copy(),
            training_hours=self.training.copy(), leavers=np.asarray(self.leavers, dtype=float),
            hires=np.asarray(self.hires, dtype=float), promotions=np.asarray(self.promotions, dtype=float),
            final_tier=np.asarray(self.tier, dtype=np.int64), churned_accounts=self.churn_count,
            customers_start=int(m.customer.sum()), events=events,
            pulled=np.asarray(self.pulled, dtype=float), pushed=np.asarray(self.pushed, dtype=float),
            pull_discount=np.asarray(self.pull_discount), potential_cut=np.asarray(self.potential_cut),
            account_bookings=np.asarray(self.account_bookings),
        )
