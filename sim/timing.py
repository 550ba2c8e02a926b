"""Deal timing of one replication: the timing games a behaviour may play on deals the customer has agreed to.

A deal whose last stage the customer will pass is "committed" from the moment the rep hands it over. A game needs
the customer's consent, and the two directions ask different customers: a share ``[behaviour] customer_pull_share``
will sign early for a discount, and a share ``customer_push_share`` will agree to wait (two independent uniforms
pre-drawn per lead); the others sign when they are ready and no game touches their deal. On the last day of each
month of the horizon the rep may pull a willing customer's committed deal
that would sign after the month end into the month, booking its value less ``pull_in_discount`` (off revenue and
gross margin alike). A push needs a deal that is ready to sign: when a patient customer's deal signs, the rep
may put its booking off to the first day of the next month (past the horizon it stays open: it is booked next
year), and the deal is lost meanwhile with the push risk: ``push_risk`` when set, else the funnel's loss hazard at
its last stage over the wait (``1 - exp(-(1 - c) d / t)``, last stage conversion ``c``, mean days ``t``, ``d``
days to wait), decided by a third uniform per lead. The rep is told that risk and weighs the push by it. The
uniforms come from the ``lifecycle`` stream after its other draws, so runs without timing games are unchanged.
Both moves are the behaviour's ``timing`` decision (``sim.policy.TimingGames``); the counts and the discounts
given are recorded.

``QuarterEndWaiting`` is the customer side (``[simulation] quarter_end_waiting``, off by default): buyers who
expect a quarter-end discount wait for it, whatever their rep's pay plan.

``DecisionCalendar`` is the process side (``[simulation] decision_calendar``, off by default): the outcome of a long
deal that would be decided in a calendar quarter's first month waits, with that chance, for a review in its second.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import simpy

from sim.deals import LOST_PUSHED, Deal
from sim.model import DAYS_PER_MONTH, DAYS_PER_WEEK, Model, month_index
from sim.policy import RepState, TimingDecision

__all__ = ["PUSH_DELAY", "DealTiming", "DecisionCalendar", "QuarterEndWaiting"]

PUSH_DELAY = 1e-6  # a pushed deal books just after the next month starts (after the month-end clock has run)


class DealTiming:
    """Committed deals per seat, the pull and push decisions on them, and their counts.

    Parameters
    ----------
    model
        Arrays of the scenario and plan.
    env
        The replication's SimPy environment.
    decide
        The behaviour's timing decision (``sim.policy.timing_hook``).
    push_u
        Per lead, the uniform that decides whether a pushed deal is lost meanwhile.
    pull_u, wait_u
        Per lead, the uniforms that decide whether the customer will sign early (below ``customer_pull_share``)
        and whether they will agree to wait (below ``customer_push_share``).
    state, active
        The reps' live states and the seats' live "filled" flags (read only).
    finish, won, lose
        The engine's ``finish(deal, passed, discount)`` of a stage, ``won(deal, seat)`` and
        ``lose(deal, day, reason)``.
    """

    def __init__(self, model: Model, env: simpy.Environment, decide: TimingDecision, push_u: list[float],
                 pull_u: list[float], wait_u: list[float], state: list[RepState], active: list[bool],
                 finish: Callable[[Deal, bool, float], None], won: Callable[[Deal, int], None],
                 lose: Callable[[Deal, float, int], None],
                 held: Callable[[Deal, float], bool] | None = None) -> None:
        self.held = held
        self.m, self.env, self.decide, self.push_u = model, env, decide, push_u
        self.pull_u, self.wait_u = pull_u, wait_u
        self.state, self.active = state, active
        self.finish, self.won, self.lose = finish, won, lose
        behaviour = model.scenario.settings.behaviour
        self.discount_rate = behaviour.pull_in_discount
        self.fixed_push_risk = behaviour.push_risk
        self.pull_share = behaviour.customer_pull_share
        self.push_share = behaviour.customer_push_share
        # a ready deal that waits is exposed to what loses deals at the last stage: its loss hazard per day
        last = len(model.stage_ids) - 1
        self.loss_per_day = (1.0 - float(model.conversion[last])) / max(float(model.mean_days[last]), 1e-9)
        self.month_start: list[float] = model.month_start.tolist()
        n_seats, n_months = model.n_seats, model.n_months
        # per seat: lead -> (day it will sign, deal) for deals the customer will sign at the last stage
        self.committed: list[dict[int, tuple[float, Deal]]] = [{} for _ in range(n_seats)]
        self.pulled = [[0] * n_months for _ in range(n_seats)]
        self.pushed = [[0] * n_months for _ in range(n_seats)]
        self.pull_discount = [0.0] * n_seats

    def push_risk(self, wait_days: float) -> float:
        """Chance that a deal whose signature waits ``wait_days`` is lost meanwhile (see the module docstring)."""
        if self.fixed_push_risk is not None:
            return self.fixed_push_risk
        return 1.0 - math.exp(-self.loss_per_day * max(wait_days, 0.0))

    def signs(self, deal: Deal, r: int) -> bool:
        """``deal``, worked by seat ``r``, signs now: no longer committed. True when the rep pushes its booking
        to the next month (then booked or lost there); False books it now."""
        self.committed[r].pop(deal.lead, None)
        now = self.env.now
        if now < 0.0 or self.wait_u[deal.lead] >= self.push_share:
            return False
        mo = month_index(self.month_start, now)
        st = self.state[r]
        if mo != st.month or not self.active[r]:
            return False
        risk = self.push_risk(self.month_start[mo + 1] - now)
        if self.decide(st, deal, mo, 0.0, risk) != "push":
            return False
        self.pushed[r][mo] += 1
        if mo + 1 < self.m.n_months:  # past the horizon the deal stays open: it books next year
            ev = self.env.timeout(self.month_start[mo + 1] + PUSH_DELAY - now)
            if self.push_u[deal.lead] < risk:
                ev.callbacks.append(lambda _ev: self.lose(deal, self.env.now, LOST_PUSHED))
            else:
                ev.callbacks.append(lambda _ev: self.won(deal, r))
        return True

    def pulls(self) -> Any:
        """Process: on the last day of each month, each rep may pull committed deals into the month."""
        env = self.env
        m = self.m
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
                    if due <= end or self.pull_u[deal.lead] >= self.pull_share:
                        continue  # signs this month anyway, or the customer will not sign early
                    if self.held is not None and self.held(deal, env.now):
                        continue  # a long deal whose decision waits for the quarter's review
                    close = month_index(self.month_start, due) if due < m.horizon else (
                        m.n_months + int((due - m.horizon) // DAYS_PER_MONTH))
                    if self.decide(st, deal, close, (due - end) / DAYS_PER_WEEK, 0.0) == "pull":
                        del self.committed[r][deal.lead]
                        self.pulled[r][mo] += 1
                        self.pull_discount[r] += deal.value * self.discount_rate
                        self.finish(deal, True, self.discount_rate)


class QuarterEndWaiting:
    """Customers who wait for the quarter's end to sign at its discount, and what they were given.

    Parameters
    ----------
    model
        Arrays of the scenario and plan (the share is ``[simulation] quarter_end_waiting``, the discount
        ``[behaviour] pull_in_discount``).
    env
        The replication's SimPy environment.
    wait_u
        Per lead, the uniform that decides whether its customer waits (below the share).
    won
        The engine's ``won(deal, seat, discount)``.
    """

    def __init__(self, model: Model, env: simpy.Environment, wait_u: list[float],
                 won: Callable[[Deal, int, float], None]) -> None:
        self.env, self.wait_u, self.won = env, wait_u, won
        self.share = model.scenario.settings.simulation.quarter_end_waiting or 0.0
        self.rate = model.scenario.settings.behaviour.pull_in_discount
        self.month_start: list[float] = model.month_start.tolist()
        self.waited = [[0] * model.n_months for _ in range(model.n_seats)]
        self.discount = [0.0] * model.n_seats

    def waits(self, deal: Deal, r: int) -> bool:
        """``deal``'s customer is ready to sign now, with seat ``r``: True when they wait for the last day of the
        quarter (the booking is then made there, at the discount); False books it now."""
        now = self.env.now
        if now < 0.0 or self.wait_u[deal.lead] >= self.share:
            return False
        mo = month_index(self.month_start, now)
        end = mo - mo % 3 + 2  # the plan year's quarters are months 0-2, 3-5, ...
        if mo == end or end + 1 >= len(self.month_start):
            return False
        day = self.month_start[end + 1] - 1.0
        self.waited[r][end] += 1
        self.discount[r] += deal.value * self.rate
        self.env.timeout(day - now).callbacks.append(lambda _ev: self.won(deal, r, self.rate))
        return True


class DecisionCalendar:
    """Long deals whose outcome waits for the quarter's review: a deal open longer than ``decision_calendar_days``
    whose stage outcome (win or loss) falls in the first month of a calendar quarter is, with chance
    ``decision_calendar``, decided at a uniform time of the quarter's second month instead.

    Parameters
    ----------
    model
        Arrays of the scenario (the share and the split are ``[simulation] decision_calendar`` and
        ``decision_calendar_days``; calendar months from ``Model.month_of_year``).
    env
        The replication's SimPy environment.
    held_u, when_u
        Per lead, the uniform that decides whether its outcome is held (below the share) and the one that places
        it in the second month (two draws, so that every share of a fit holds deals at the same times).
    """

    def __init__(self, model: Model, env: simpy.Environment, held_u: list[float], when_u: list[float]) -> None:
        sim = model.scenario.settings.simulation
        self.env, self.held_u, self.when_u = env, held_u, when_u
        self.share = sim.decision_calendar or 0.0
        self.days = float(sim.decision_calendar_days or 0.0)
        self.month_start: list[float] = model.month_start.tolist()
        self.first_month = [(int(x) - 1) % 3 == 0 for x in model.month_of_year]
        self.held = [0] * model.n_months

    def holds(self, deal: Deal, day: float) -> bool:
        """True when ``deal``'s outcome on ``day`` waits for the second month (long, first month, its draw)."""
        if day < 0.0 or self.held_u[deal.lead] >= self.share or day - deal.created <= self.days:
            return False
        mo = month_index(self.month_start, day)
        return self.first_month[mo] and mo + 2 < len(self.month_start)

    def defer(self, deal: Deal, decide: Callable[[], None]) -> bool:
        """``deal``'s outcome is known now: True when it is held (``decide`` then runs in the quarter's second
        month), False when it is decided now."""
        now = self.env.now
        if not self.holds(deal, now):
            return False
        mo = month_index(self.month_start, now)
        start, end = self.month_start[mo + 1], self.month_start[mo + 2]
        self.held[mo] += 1
        when = start + self.when_u[deal.lead] * (end - start)
        self.env.timeout(when - now).callbacks.append(lambda _ev: decide())
        return True
