"""The SimPy processes of one replication and their wiring: lead arrivals, reps working their queues, stage
delays, and the weekly and monthly clocks (``build processes`` and ``run`` for one replication).

How time is used. Every week each active rep's hours come from the behaviour hook, scaled to working weeks
(``calendar.weeks_per_year`` of 52.18) and by ramp-up productivity; training hours come off first, then
service of the rep's customers (at most ``simulation.max_service_share`` of the rest), and what is left is
selling time. A rep works one deal at a time from a priority queue: working a stage takes the stage's
``effort_hours`` (times a gamma multiplier) at the rep's selling rate, then the customer side takes the stage's
duration (mean ``mean_days`` divided by the rep's skill at the stage) before the outcome is known. The stage is
passed with probability ``conversion x skill x account-tier multiplier`` (x the channel's ``lead_quality`` at a
lead's entry stage), capped at 1. A deal that waits in a queue longer than ``funnel.stall_days`` is lost. A share
``no_decision_share`` of a stage's deals gets no decision at all (a uniform of its own stream below the share): at
the end of the stage's time it leaves the pipeline, lost for reason ``LOST_NO_DECISION``, neither passed nor lost
on the merits; the others are passed or lost as above.

Effort without hours. A stage that records no rep hours (``effort_hours`` 0, as every calibrated stage: an export
records none) cannot feel the rep's effort through hours, so there the rep's effort paces its customer side: the
stage's clock runs at ``effort ** [behaviour] closing_speed_elasticity``, with ``effort`` the rep's weekly hours
from the behaviour over the norm (``sim.seats``), re-set every week for the days still to go. With constant effort
that is the duration scaled by ``effort ** -elasticity``; 0 (the default) leaves every stage as it was, and stages
with hours are never paced (effort acts there through the hours, once).

At each month end: pay so far (one swappable pay function), then the seats' lifecycle (``sim.seats``); at each
quarter end customers churn (``sim.accounts``); at each plan-year end a quota ratchet may rewrite next year's
quotas (``sim.books``). Timing games, when the behaviour plays them, are ``sim.timing``'s.

Who owns what: ``Seats`` the reps in the seats, ``Accounts`` ownership and churn, ``WorkQueues`` the queued
deals, ``Books`` quotas, bookings and pay, ``DealTiming`` the timing games, ``DealLog`` every lead's outcome.
``Funnel`` runs the processes that move deals between them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from sim.accounts import Accounts
from sim.books import Books
from sim.deals import (
    LOST_CHURNED,
    LOST_NO_DECISION,
    LOST_STAGE,
    LOST_STALLED,
    LOST_UNCOVERED,
    LOST_VACANT,
    OPEN,
    Deal,
    DealLog,
    TracedDealLog,
)
from sim.demand import Leads
from sim.model import DAYS_PER_WEEK, DAYS_PER_YEAR, Model, month_index
from sim.pay_function import PayFunction
from sim.pipeline import no_decision_given_open, remaining_days
from sim.policy import Behaviour, RepState, timing_hook
from sim.queues import WorkQueues
from sim.record import RunRecord
from sim.seats import Seats
from sim.timing import DealTiming, DecisionCalendar, QuarterEndWaiting

__all__ = ["Funnel"]

MIN_SKILL = 0.05
MIN_PACE_EFFORT = 0.05
"""Floor on the effort that paces a stage without hours: a rep on (almost) no hours slows the customer side to a
crawl rather than stopping its clock."""


class Funnel:
    """One replication's SimPy model. ``run()`` executes it to the horizon and returns a ``RunRecord``.

    Parameters
    ----------
    model
        Arrays of the scenario and plan.
    leads
        The replication's pre-drawn leads.
    lifecycle
        Generator of the ``lifecycle`` stream (attrition, churn and timing-game draws, pre-drawn here).
    behaviour
        The behaviour hook.
    pay
        The pay function.
    trace
        Keep every stage entry (``RunRecord.trail``), for the run's deal log (``sim.crm``).

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
                 pay: PayFunction, trace: bool = False) -> None:
        m = model
        self.m, self.leads, self.behaviour = m, leads, behaviour
        # the clock starts at the warm-up (negative days); day 0 is the first day of the horizon
        self.env = simpy.Environment(initial_time=float(m.demand_start[0]))
        n_seats, n_months, n_stages = m.n_seats, m.n_months, len(m.stage_ids)
        self.last_stage = n_stages - 1
        # the lifecycle stream's draws, in this order: a new draw goes last so that existing runs are unchanged
        attrition_u = lifecycle.random((n_months, n_seats))
        churn_u = lifecycle.random(((n_months + 2) // 3, len(m.account_ids)))
        decide = timing_hook(behaviour)
        push_u: list[float] = lifecycle.random(len(leads)).tolist() if decide is not None else []
        pull_u: list[float] = lifecycle.random(len(leads)).tolist() if decide is not None else []
        patient_u: list[float] = lifecycle.random(len(leads)).tolist() if decide is not None else []
        waiting = m.scenario.settings.simulation.quarter_end_waiting or 0.0
        wait_u: list[float] = lifecycle.random(len(leads)).tolist() if waiting > 0.0 else []
        held = m.scenario.settings.simulation.decision_calendar or 0.0
        held_u: list[float] = lifecycle.random(len(leads)).tolist() if held > 0.0 else []
        when_u: list[float] = lifecycle.random(len(leads)).tolist() if held > 0.0 else []

        # per-event lookups read plain lists, not numpy arrays
        self.conv = m.conversion.tolist()
        self.mean_days = m.mean_days.tolist()
        self.effort = m.effort_hours.tolist()
        # effort paces the customer side only where it cannot act through hours (a stage without effort_hours)
        self.pace_power = m.scenario.settings.behaviour.closing_speed_elasticity
        self.paced_stage = [self.pace_power > 0.0 and h <= 0.0 for h in self.effort]
        # per seat, lead -> [deal, passed, days still to go at the norm's pace, since when, pace since then]
        self.paced: list[dict[int, list[Any]]] = [{} for _ in range(n_seats)]
        self.pace = [1.0] * n_seats  # the clock rate of each seat's paced deals this week
        self.win_from = m.win_from.tolist()
        self.month_start = m.month_start.tolist()
        self.acc_mult = m.tier_conversion[m.account_tier].tolist()
        self.lead_u = leads.outcome_u.tolist()
        self.lead_z = leads.duration_x.tolist()
        self.silent_u = leads.silent_u.tolist() if leads.silent_u is not None else None
        self.no_decision = m.no_decision.tolist()
        self.lead_e = leads.effort_x.tolist()
        self.lead_quality = leads.quality.tolist()
        self.lead_entry = leads.entry_stage.tolist()
        self.lead_value = leads.value.tolist()
        self.lead_margin = (leads.value * m.margin[leads.product]).tolist()
        self.week_event = self.env.event()
        self.wip_samples: list[tuple[float, int]] = []

        self.log = TracedDealLog(leads, n_stages, n_seats) if trace else DealLog(leads, n_stages, n_seats)
        self.accounts = Accounts(m, churn_u)
        self.books = Books(m, pay)
        self.state: list[RepState] = self.books.rep_states()
        self.books.month_state(self.state, 0)
        self.seats = Seats(m, self.env, self.state, self.accounts, self.books, attrition_u, self._requeue)
        self.queues = WorkQueues(self.books.seat_region, len(m.region_ids),
                                 m.scenario.settings.simulation.routing == "region_pool", self.seats.active,
                                 float(m.stall_days), self.log.lose)
        self.calendar = None if held <= 0.0 else DecisionCalendar(m, self.env, held_u, when_u)
        self.timing = None if decide is None else DealTiming(m, self.env, decide, push_u, pull_u, patient_u,
                                                             self.state, self.seats.active, self._finish_stage,
                                                             self._won, self.log.lose,
                                                             None if self.calendar is None else self.calendar.holds)
        self.waiting = None if waiting <= 0.0 else QuarterEndWaiting(m, self.env, wait_u, self._won)
        self.seats.vacate_planned()

    @property
    def region_quotas(self) -> np.ndarray:
        """Summed quota of each region's seats per month, as it stands now."""
        return self.books.region_quotas

    # ----------------------------------------------------------------- deals
    # The methods below run once per event: they read lists bound to locals, not numpy arrays or attributes.
    def _enqueue(self, deal: Deal, count: bool = True) -> None:
        seat = deal.owner
        if seat < 0 or not self.seats.active[seat]:
            seat = self.accounts.owner_list[deal.account]
        now = self.env.now
        if seat < 0 or not self.seats.active[seat]:
            self.log.lose(deal, now, LOST_UNCOVERED if count else LOST_VACANT)
            return
        deal.queued_at = now
        if count:
            # a shared queue's deal is counted for the rep who starts it (see `_work`), so that a rep's
            # conversion divides the passes they made by the deals they worked, not by their accounts' deals
            self.log.entered(deal, seat, now, per_seat=not self.queues.pooled)
        self.queues.put(seat, self.behaviour.priority(self.state[seat], deal), deal)

    def _requeue(self, r: int) -> None:
        """Seat ``r`` fell vacant: its own queue's deals follow their accounts to the new owners."""
        for d in self.queues.drain(r):
            self._enqueue(d, count=False)

    def _won(self, deal: Deal, seat: int, discount: float = 0.0) -> None:
        now = self.env.now
        self.log.won(deal, seat, now)
        self.accounts.customer[deal.account] = True
        if now < 0.0:  # won during the warm-up: before the horizon, nobody is paid for it
            return
        i = deal.lead
        cut = self.lead_value[i] * discount
        v = self.books.book(deal.account, seat, month_index(self.month_start, now), self.lead_value[i] - cut,
                            self.lead_margin[i] - cut)
        st = self.state[seat]
        st.bookings_month += v
        st.bookings_quarter += v
        st.bookings_horizon += v

    def arrivals(self) -> Any:
        """Release the pre-drawn leads at their arrival days."""
        env = self.env
        timeout = env.timeout
        times = self.leads.time[:len(self.leads) - self.leads.n_open].tolist()  # the open pipeline is not arriving
        accounts = self.leads.account.tolist()
        entry, value, win_from = self.lead_entry, self.lead_value, self.win_from
        churned = self.accounts.churned_list
        log = self.log
        enqueue = self._enqueue
        for i, t in enumerate(times):
            if t > env.now:
                yield timeout(t - env.now)
            acc = accounts[i]
            s = entry[i]
            deal = Deal(i, acc, s, value[i], win_from[s], t)
            log.open_now += 1
            if churned[acc]:
                log.lose(deal, t, LOST_CHURNED)
                continue
            enqueue(deal)

    def open_pipeline(self) -> Any:
        """On day 0, hand every deal of the open pipeline to the customer side of its stage, with the time left
        in the stage drawn given the days already spent (``sim.pipeline``), worked by its owner (else its
        account's owner; lost as uncovered when neither seat is filled)."""
        env, m, leads, log = self.env, self.m, self.leads, self.log
        if env.now < 0.0:
            yield env.timeout(-env.now)
        assert leads.owner is not None and leads.in_stage is not None and leads.stage_u is not None
        first = len(leads) - leads.n_open
        active, skill = self.seats.active, self.seats.skill
        owner_list = self.accounts.owner_list
        committed = self.timing.committed if self.timing is not None else None
        deals, seats = [], []
        for i in range(first, len(leads)):
            deal = Deal(i, int(leads.account[i]), int(leads.entry_stage[i]), self.lead_value[i],
                        self.win_from[int(leads.entry_stage[i])], float(leads.time[i]), int(leads.owner[i]))
            deal.queued_at = -1.0  # its stage began before the run: kept out of the stage statistics
            log.open_now += 1
            seat = deal.owner if active[deal.owner] else owner_list[deal.account]
            if seat < 0 or not active[seat]:
                log.lose(deal, 0.0, LOST_UNCOVERED)
                continue
            deals.append(deal)
            seats.append(seat)
        if not deals:
            return
        idx = np.array([d.lead for d in deals])
        stage = leads.entry_stage[idx]
        sk = np.maximum(np.array([skill[r][s] for r, s in zip(seats, stage.tolist(), strict=True)]), MIN_SKILL)
        left = remaining_days(m.mean_days[stage] / sk, m.spread[stage], m.gamma_stage[stage], leads.in_stage[idx],
                              leads.stage_u[idx]).tolist()
        silent = self.silent_u
        # a deal still open after e days in its stage is more likely one that will never be decided
        silent_p = (no_decision_given_open(m.mean_days[stage] / sk, m.spread[stage], m.gamma_stage[stage],
                                           leads.in_stage[idx], m.no_decision[stage]).tolist()
                    if silent is not None else [])
        for k, deal in enumerate(deals):
            r, s, i = seats[k], deal.stage, deal.lead
            since = -float(leads.in_stage[i])
            log.since[i] = since
            if isinstance(log, TracedDealLog):
                log.trail.append((i, s, since, r))
            deal.worker = r
            log.flight_value[r] += deal.value * self.win_from[s]
            log.flight_deals[r] += 1
            p = self.conv[s] * skill[r][s] * self.acc_mult[deal.account]
            passed: bool | None = self.lead_u[i][s] < p
            if silent is not None and silent[i][s] < silent_p[k]:
                passed = None
            if self.paced_stage[s]:
                self._pace(r, deal, passed, left[k])
                continue
            if passed and s == self.last_stage and committed is not None:
                committed[r][i] = (left[k], deal)
            ev = env.timeout(left[k], (deal, passed))
            ev.callbacks.append(self._stage_done)

    def rep(self, r: int) -> Any:
        """Rep ``r``: take the best deal from the queue, work its stage, hand it to the customer side."""
        env = self.env
        timeout, event = env.timeout, env.event
        seats, log = self.seats, self.log
        active, rate, skill, selling = seats.active, seats.rate, seats.skill, seats.selling
        take, wait = self.queues.take, self.queues.wait
        effort, lead_e, conv = self.effort, self.lead_e, self.conv
        acc_mult, entry, quality = self.acc_mult, self.lead_entry, self.lead_quality
        lead_u, lead_z, mean_days = self.lead_u, self.lead_z, self.mean_days
        silent, no_decision = self.silent_u, self.no_decision
        stage_wait, stage_started = log.stage_wait, log.stage_started
        seat_entered = log.seat_entered[r] if self.queues.pooled else None
        flight_value, flight_deals, win_from = log.flight_value, log.flight_deals, self.win_from
        done = self._stage_done
        last = self.last_stage
        paced_stage, pace = self.paced_stage, self._pace
        committed = self.timing.committed[r] if self.timing is not None else None
        while True:
            if not active[r] or rate[r] <= 0.0:
                yield self.week_event
                continue
            now = env.now
            deal = take(r, now)
            if deal is None:
                ev = event()
                wait(r, ev)
                yield ev
                continue
            s = deal.stage
            i = deal.lead
            if deal.queued_at >= 0.0:
                stage_wait[s] += now - deal.queued_at
                stage_started[s] += 1
                if seat_entered is not None:
                    seat_entered[s] += 1
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
            passed: bool | None = lead_u[i][s] < p
            if silent is not None and silent[i][s] < no_decision[s]:
                passed = None
            if paced_stage[s]:
                pace(r, deal, passed, delay)
                continue
            if passed and s == last and committed is not None:
                committed[i] = (env.now + delay, deal)
            ev = timeout(delay, (deal, passed))
            ev.callbacks.append(done)

    def _pace(self, r: int, deal: Deal, passed: bool | None, days: float) -> None:
        """Hand ``deal`` to the customer side of a paced stage with ``days`` to go at the norm's pace: its clock
        runs at seat ``r``'s pace until the next week re-sets it (`_repace`)."""
        now = self.env.now
        rate = self.pace[r]
        entry: list[Any] = [deal, passed, days, now, rate]
        self.paced[r][deal.lead] = entry
        due = days / rate
        if passed and deal.stage == self.last_stage and self.timing is not None:
            self.timing.committed[r][deal.lead] = (now + due, deal)
        ev = self.env.timeout(due, entry)
        ev.callbacks.append(self._paced_done)

    def _repace(self) -> None:
        """This week's effort sets each seat's pace: every paced deal keeps the days the old pace left it and is
        rescheduled at the new one (a deal's earlier event is then ignored)."""
        now = self.env.now
        power, status, timeout, done = self.pace_power, self.log.status, self.env.timeout, self._paced_done
        committed = self.timing.committed if self.timing is not None else None
        for r, effort in enumerate(self.seats.effort):
            rate = (effort if effort > MIN_PACE_EFFORT else MIN_PACE_EFFORT) ** power
            if rate == self.pace[r]:
                continue
            self.pace[r] = rate
            deals = self.paced[r]
            for lead, (deal, passed, days, since, old) in list(deals.items()):
                if status[lead] != OPEN:  # pulled in by a timing game: already booked
                    del deals[lead]
                    continue
                days = max(days - (now - since) * old, 0.0)
                entry: list[Any] = [deal, passed, days, now, rate]
                deals[lead] = entry
                if committed is not None and lead in committed[r]:
                    committed[r][lead] = (now + days / rate, deal)
                ev = timeout(days / rate, entry)
                ev.callbacks.append(done)

    def _paced_done(self, ev: simpy.Event) -> None:
        entry: list[Any] = ev.value  # type: ignore[assignment]
        deal = entry[0]
        deals = self.paced[deal.worker]
        if deals.get(deal.lead) is not entry:  # re-paced since: a later event carries the deal
            return
        del deals[deal.lead]
        if self.log.status[deal.lead] != OPEN:
            return
        self._finish_stage(deal, entry[1])

    def _stage_done(self, ev: simpy.Event) -> None:
        pair: tuple[Deal, bool | None] = ev.value  # type: ignore[assignment]  # (a cast would cost a call per event)
        deal, passed = pair
        if self.log.status[deal.lead] != OPEN:  # pulled into an earlier month by a timing game: already booked
            return
        self._finish_stage(deal, passed)

    def _finish_stage(self, deal: Deal, passed: bool | None, discount: float = 0.0) -> None:
        """The outcome of the deal's current stage is known now (``discount``: a pulled-in deal's price cut);
        ``passed`` None: the customer never decided and the deal leaves the pipeline."""
        log = self.log
        s = deal.stage
        if (self.calendar is not None and passed is not None and not discount and (not passed or s == self.last_stage)
                and self.calendar.defer(deal, lambda: self._decide_held(deal, passed))):
            if self.timing is not None:
                self.timing.committed[deal.worker].pop(deal.lead, None)
            return
        now = self.env.now
        log.flight_value[deal.worker] -= deal.value * self.win_from[s]
        log.flight_deals[deal.worker] -= 1
        counted = deal.queued_at >= 0.0
        if counted:
            log.stage_days[s] += now - deal.queued_at
            log.stage_done[s] += 1
        if not passed:
            log.lose(deal, now, LOST_STAGE if passed is not None else LOST_NO_DECISION)
            return
        r = deal.worker
        if counted:
            log.stage_converted[s] += 1
            log.seat_converted[r][s] += 1
        if s == self.last_stage:
            if self.waiting is not None and not discount and self.waiting.waits(deal, r):
                if self.timing is not None:
                    self.timing.committed[r].pop(deal.lead, None)
                return
            if self.timing is not None and not discount and self.timing.signs(deal, r):
                return
            self._won(deal, r, discount)
            return
        s += 1
        deal.stage = s
        deal.win_probability = self.win_from[s]
        log.reached[deal.lead] = s
        self._enqueue(deal)

    def _decide_held(self, deal: Deal, passed: bool) -> None:
        """A long deal held for the quarter's review is decided now."""
        if self.log.status[deal.lead] == OPEN:
            self._finish_stage(deal, passed)

    # ----------------------------------------------------------------- clocks
    def weeks(self) -> Any:
        """Weekly clock: the reps' states, hours per rep from the behaviour, split into training, service and
        selling; queued deals re-prioritised when the behaviour asks for it."""
        env = self.env
        m = self.m
        seats, queues, log = self.seats, self.queues, self.log
        per_week = DAYS_PER_WEEK / DAYS_PER_YEAR
        weekly_hours = self.behaviour.weekly_hours
        while True:
            now = env.now
            self.wip_samples.append((now, log.open_now))
            need = self.accounts.service_load() * per_week
            mo = month_index(self.month_start, now)
            end_month = self.month_start[mo + 1]
            elapsed = 0.0 if now < 0 else (now - self.month_start[mo]) / (end_month - self.month_start[mo])
            seats.ramp()
            hours = np.zeros(m.n_seats)
            for r, st in enumerate(self.state):
                st.now = now
                st.days_left_month = end_month - now
                st.days_left_horizon = m.horizon - now
                queued = queues.length(r)
                st.queue_length = queued
                st.month_elapsed = elapsed
                st.pipeline_value = log.flight_value[r] + queues.expected_value(r)
                st.pipeline_deals = log.flight_deals[r] + queued
                if seats.active[r]:
                    hours[r] = weekly_hours(st)
            serve = seats.work_week(hours, need, now >= 0.0)
            if self.pace_power > 0.0:
                self._repace()
            if now >= 0.0:  # time use is measured over the horizon only
                self.accounts.served(serve, np.where(np.asarray(seats.active), need, 0.0))
            if self.behaviour.dynamic_priority:
                queues.reprioritise(self._priority_key)
            old, self.week_event = self.week_event, env.event()
            old.succeed()
            yield env.timeout(DAYS_PER_WEEK)

    def _priority_key(self, old: float, deal: Deal) -> float:
        seat = self.accounts.owner_list[deal.account]
        return -self.behaviour.priority(self.state[seat], deal) if seat >= 0 else old

    def months(self) -> Any:
        """Monthly clock: pay, the seats' lifecycle, churn at quarter ends, a quota ratchet at plan-year ends."""
        env = self.env
        m = self.m
        seats, books = self.seats, self.books
        for mo in range(m.n_months):
            yield env.timeout(self.month_start[mo + 1] - env.now)
            expected = books.pay_month(mo, seats.active_share(mo), seats.base_salary, self.state)
            seats.month_end(mo, expected)
            if (mo + 1) % 3 == 0 or mo == m.n_months - 1:
                self.accounts.churn(mo // 3)
            if books.ratchet is not None and (mo + 1) % 12 == 0 and mo + 1 < m.n_months:
                books.apply_ratchet(mo, seats.filled_since(self.month_start[mo - 11]))
            if mo + 1 < m.n_months:
                books.month_state(self.state, mo + 1)

    # ----------------------------------------------------------------- run
    def run(self) -> RunRecord:
        """Run to the horizon and return the raw record."""
        env = self.env
        m = self.m
        env.process(self.arrivals())
        if self.leads.n_open:
            env.process(self.open_pipeline())
        env.process(self.weeks())
        env.process(self.months())
        if self.timing is not None:
            env.process(self.timing.pulls())
        for r in range(m.n_seats):
            env.process(self.rep(r))
        for r in self.seats.planned:
            env.process(self.seats.join(r, self.seats.hired[r]))
        # a hair past the horizon so that the month-end clock of the last month runs
        env.run(until=m.horizon + 1e-7)
        horizon = m.horizon
        stall = self.queues.stall
        for d in self.queues.waiting():  # deals that waited past the stall limit before the horizon are lost
            if self.log.status[d.lead] == OPEN and horizon - d.queued_at > stall:
                self.log.lose(d, d.queued_at + stall, LOST_STALLED)
        self.seats.close_days(horizon)
        # SimPy numbers every scheduled event with this counter and keeps no public count of them
        events = next(env._eid) if hasattr(env, "_eid") else -1
        return _record(self, events)


def _record(f: Funnel, events: int) -> RunRecord:
    """The owners' state at the horizon as the replication's raw record."""
    log, seats, books, timing, m = f.log, f.seats, f.books, f.timing, f.m
    per_month = (m.n_seats, m.n_months)
    return RunRecord(
        status=np.asarray(log.status, dtype=np.int8), lost_reason=np.asarray(log.reason, dtype=np.int8),
        closed=np.asarray(log.closed), closer=np.asarray(log.closer, dtype=np.int64),
        stage_reached=np.asarray(log.reached, dtype=np.int64), stage_since=np.asarray(log.since),
        stage_entered=np.asarray(log.stage_entered, dtype=float),
        stage_converted=np.asarray(log.stage_converted, dtype=float),
        stage_days=np.asarray(log.stage_days), stage_done=np.asarray(log.stage_done, dtype=float),
        stage_wait=np.asarray(log.stage_wait), stage_started=np.asarray(log.stage_started, dtype=float),
        wip_samples=np.asarray(f.wip_samples, dtype=float).reshape(-1, 2),
        seat_entered=np.asarray(log.seat_entered, dtype=float),
        seat_converted=np.asarray(log.seat_converted, dtype=float),
        bookings=np.asarray(books.bookings), margin=np.asarray(books.margin), quotas=books.quotas.copy(),
        pay=books.pay.copy(), available_hours=seats.available.copy(),
        selling_hours=np.asarray(seats.selling), service_hours=seats.serving.copy(),
        training_hours=seats.training.copy(), leavers=np.asarray(seats.leavers, dtype=float),
        hires=np.asarray(seats.hires, dtype=float), promotions=np.asarray(seats.promotions, dtype=float),
        final_tier=np.asarray(seats.tier, dtype=np.int64), churned_accounts=f.accounts.churn_count,
        customers_start=int(m.customer.sum()), events=events,
        pulled=np.asarray(timing.pulled, dtype=float) if timing is not None else np.zeros(per_month),
        pushed=np.asarray(timing.pushed, dtype=float) if timing is not None else np.zeros(per_month),
        pull_discount=(np.asarray(timing.pull_discount) if timing is not None else np.zeros(m.n_seats)),
        waited=np.asarray(f.waiting.waited, dtype=float) if f.waiting is not None else np.zeros(per_month),
        waiting_discount=(np.asarray(f.waiting.discount) if f.waiting is not None else np.zeros(m.n_seats)),
        potential_cut=np.asarray(books.potential_cut), account_bookings=np.asarray(books.account_bookings),
        trail=(np.asarray(log.trail, dtype=float).reshape(-1, 4) if isinstance(log, TracedDealLog) else None),
    )
