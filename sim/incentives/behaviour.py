"""The incentive behaviour adapter: a ``sim.policy.Behaviour`` that lets each rep's pay plan drive the simulator.

``IncentiveBehaviour`` turns the engine's ``RepState`` into a ``sim.incentives.Position`` once per rep and week
and asks the behaviour functions of ``sim.incentives`` how many hours to work (``appraise``: hours move with the
marginal expected pay of one more unit of bookings, relative to the pay plan's pay per unit at target) and how to
rank open deals (expected value times the marginal pay rate of the month the deal is expected to close in,
relative to the same reference rate). Under a flat commission the marginal rate equals the reference rate in
every month, so hours stay at the norm and deals rank exactly as under ``NormBehaviour``: every difference a
pay plan makes comes from its thresholds, caps and timing, never from the adapter.

What the rep is assumed to know (the inputs of ``Position``), each computed from the rep's own state:

* bookings per month so far (exact, live);
* expected bookings per working week at norm hours: the pipeline's expected value spread over the funnel's
  cycle time, blended with the rep's own run rate so far in the horizon as evidence accumulates (weight
  ``elapsed months / 3``, capped at 1): a rep who has sold little by the autumn expects to sell little;
* the spread of a week's bookings: a compound Poisson sum of deals (``weekly_moments``) with the scenario's mean
  deal value and its coefficient of variation (product price mix, account value scale and ``value_cv``).

The position is taken at the start of each week and reused for every priority asked that week (the rep reviews
the position weekly). For a pay plan with a team / region bonus the position carries the team's outlook
(``TeamOutlook``): the team's bookings per month so far (the engine's region or company totals), its quota (the
members' quotas summed) and its expected weekly bookings, the team's quota rate blended with its run rate as for
the rep, with the spread of that many deals. With ``[behaviour] timing_games = true`` the
adapter answers the engine's timing question with ``sim.incentives.timing_decision`` on a position taken at that
moment (so a deal pulled in a minute ago counts). With ``[behaviour]
enabled = false`` the adapter is the "no behavioural response" mode: norm hours and ``NormBehaviour``'s deal
order, so a comparison isolates the pay plan's pure pay effect (use it with ``sim.PayPlanPay``).

Examples
--------
>>> import scenarios
>>> from sim import PayPlanPay, simulate
>>> s = scenarios.load("tiny")
>>> b = IncentiveBehaviour.from_scenario(s, "flat_commission")
>>> r = simulate(s, replications=2, seed=1, behaviour=b, pay=PayPlanPay.from_scenario(s, "flat_commission"))
>>> r.kpi("revenue") > 0
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scenarios import PayPlanSettings, Plan, Problem, Scenario, ScenarioError
from sim.incentives.deal_choices import timing_decision
from sim.incentives.marginal_pay import appraise, marginal_pay
from sim.incentives.position import Incentive, Position, TeamOutlook, prepare, weekly_moments
from sim.model import DAYS_PER_YEAR, Model, build
from sim.policy import DealView, RepState, Timing

__all__ = ["IncentiveBehaviour", "constant_rate"]

DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
EVIDENCE_MONTHS = 3.0


def _pay_plan_ids(scenario: Scenario, pay_plans: str | Mapping[str, str] | None) -> list[str]:
    """Pay plan id per seat: reps.csv's ``pay_plan_id``, everyone on one pay plan, or a rep_id -> pay_plan_id
    mapping (reps not in the mapping keep their own pay plan)."""
    own = [str(p) for p in scenario.reps["pay_plan_id"]]
    if pay_plans is None:
        ids = own
    elif isinstance(pay_plans, str):
        ids = [pay_plans] * len(own)
    else:
        unknown_reps = sorted(set(pay_plans) - {str(r) for r in scenario.reps.index})
        if unknown_reps:
            raise ScenarioError(Problem("reps.csv", f"pay plan mapping names unknown rep(s) {unknown_reps[:5]}",
                                        "map only rep_ids of the scenario", column="rep_id"))
        ids = [str(pay_plans.get(str(r), p)) for r, p in zip(scenario.reps.index, own, strict=True)]
    unknown = sorted(set(ids) - set(scenario.settings.pay_plans))
    if unknown:
        raise ScenarioError(Problem("scenario.toml", f"pay plan(s) {unknown} are not defined",
                                    f"use one of {sorted(scenario.settings.pay_plans)}", column="pay_plans"))
    return ids


def constant_rate(pay_plan: PayPlanSettings) -> bool:
    """True when the pay plan's marginal pay is the same for every unit in every month (a flat commission with no
    threshold, cap, draw, team bonus, ratchet or non-material lump sum): reps on it work the norm hours and rank
    deals by expected value whatever ``[behaviour]`` says, so none of those settings reaches them.

    Examples
    --------
    >>> import scenarios
    >>> pay_plans = scenarios.load("tiny").settings.pay_plans
    >>> constant_rate(pay_plans["flat_commission"]), constant_rate(pay_plans["capped"])
    (True, False)
    """
    p = pay_plan
    return (len(p.commission_tiers()) == 1 and not p.bonuses and p.cap is None and p.draw is None
            and p.team_bonus is None and p.ratchet is None
            and (p.recognition is None or p.recognition.perceived_value <= 0)
            and (p.promotion is None or p.promotion.perceived_value <= 0))


def _constant_rate(inc: Incentive) -> bool:
    """`constant_rate` of a prepared pay plan: then the rep's response is the norm, known without work."""
    return constant_rate(inc.pay_plan)


def _team_scope(pay_plan: PayPlanSettings) -> str | None:
    """``region`` / ``company`` for a pay plan with a team bonus, else None."""
    return None if pay_plan.team_bonus is None else pay_plan.team_bonus.scope


def _deal_spread(model: Model) -> tuple[float, float]:
    """Mean value of a lead and its coefficient of variation at today's demand: each account's deal value
    weighted by the leads it brings, times the product's price over the mix's mean price, times the noise."""
    mix = model.mix / model.mix.sum()
    price_m1 = float((model.price * mix).sum())
    price_m2 = float((model.price**2 * mix).sum())
    w = model.lead_rate / model.lead_rate.sum() if model.lead_rate.sum() > 0 else \
        np.full(len(model.lead_rate), 1.0 / max(len(model.lead_rate), 1))
    value_m1 = float(w @ model.deal_value)
    value_m2 = float(w @ model.deal_value**2)
    cv = model.scenario.settings.simulation.value_cv
    second = price_m2 / max(price_m1**2, 1e-12) * value_m2 / max(value_m1**2, 1e-12) * (1.0 + cv**2)
    return value_m1, math.sqrt(max(second - 1.0, 0.0))


@dataclass(frozen=True, eq=False)
class IncentiveBehaviour:
    """Reps respond to their pay plan: weekly hours and deal priorities from ``sim.incentives``.

    Build it with `from_scenario`; pass it to ``sim.simulate(..., behaviour=...)`` together with the matching
    ``sim.PayPlanPay`` (the behaviour decides effort, the pay function decides what is paid).

    Parameters
    ----------
    incentives
        The prepared pay plan of each seat (``sim.incentives.prepare``), in the order of ``scenario.reps``.
    pay_plan_ids
        The pay plan id of each seat (for reports).
    enabled
        ``[behaviour] enabled``; False = norm hours and expected-value deal order.
    weeks_per_month
        Working weeks per month (``calendar.weeks_per_year / 12``).
    days_to_close
        Expected customer-side days from entering each stage to the deal's close (sum of the remaining stages'
        ``mean_days``), one per stage.
    cycle_weeks
        Working weeks of the whole funnel (the horizon over which the pipeline is expected to close).
    mean_deal, deal_cv
        Mean deal value and its coefficient of variation (for ``weekly_moments``).
    constant
        Per seat: the pay plan's marginal pay is constant (flat commission), so hours and priorities are the norm's
        without evaluating the behaviour model (the same numbers, computed for free).
    team_quotas
        Per seat: the monthly quota of the seat's team (region or company, as its pay plan's team bonus says), or
        None when the pay plan has no team bonus.
    salaries
        Per seat: the base salary the pay plan was prepared with (to prepare it again on ratcheted quotas).

    Examples
    --------
    >>> import scenarios
    >>> b = IncentiveBehaviour.from_scenario(scenarios.load("tiny"), "annual_bonus")
    >>> b.dynamic_priority, len(b.incentives), sorted(set(b.pay_plan_ids))
    (True, 6, ['annual_bonus'])
    """

    incentives: tuple[Incentive, ...]
    pay_plan_ids: tuple[str, ...]
    enabled: bool
    weeks_per_month: float
    days_to_close: tuple[float, ...]
    cycle_weeks: float
    mean_deal: float
    deal_cv: float
    constant: tuple[bool, ...] = ()
    team_quotas: tuple[np.ndarray | None, ...] = ()
    salaries: tuple[float, ...] = ()
    _cache: dict[int, tuple[Any, ...]] = field(default_factory=dict, repr=False, compare=False)
    _ratcheted: dict[int, Incentive] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_scenario(cls, scenario: Scenario, pay_plans: str | Mapping[str, str] | None = None,
                      plan: Plan | None = None) -> IncentiveBehaviour:
        """Prepare every seat's pay plan for ``scenario`` run under ``plan`` (default: today's assignment).

        Parameters
        ----------
        scenario
            The scenario (its ``[behaviour]`` settings and pay plans are used).
        pay_plans
            None = each rep's own ``pay_plan_id``; a pay plan id = every rep on that pay plan (to compare pay plans);
            a mapping rep_id -> pay plan id (others keep their own).
        plan
            The ``scenarios.Plan`` to be simulated (its quotas are the quotas the reps chase); the same one must
            be passed to ``simulate``.

        Raises
        ------
        scenarios.ScenarioError
            An unknown pay plan id or rep id.
        """
        ids = _pay_plan_ids(scenario, pay_plans)
        model = build(scenario, plan)
        return cls.from_model(model, ids)

    @classmethod
    def from_model(cls, model: Model, pay_plan_ids: list[str]) -> IncentiveBehaviour:
        """As `from_scenario`, from an already built ``sim.Model`` and one pay plan id per seat."""
        st = model.scenario.settings
        pay_plans = st.pay_plans
        incs = tuple(prepare(pay_plans[p], model.quotas[r], float(model.base_salary[r]), st.behaviour)
                     for r, p in enumerate(pay_plan_ids))
        wpm = st.calendar.weeks_per_year / 12.0
        mean_days = [float(x) for x in model.mean_days]
        to_close = tuple(float(sum(mean_days[s:])) for s in range(len(mean_days)))
        cycle = max(to_close[0] / DAYS_PER_MONTH * wpm, 1.0) if to_close else 1.0
        mean_deal, cv = _deal_spread(model)
        region_quota = [model.quotas[model.seat_region == k].sum(axis=0) for k in range(len(model.region_ids))]
        company_quota = model.quotas.sum(axis=0)
        scope = [_team_scope(pay_plans[p]) for p in pay_plan_ids]
        team = tuple(None if sc is None else company_quota if sc == "company" else region_quota[model.seat_region[r]]
                     for r, sc in enumerate(scope))
        return cls(incentives=incs, pay_plan_ids=tuple(pay_plan_ids), enabled=st.behaviour.enabled,
                   weeks_per_month=wpm, days_to_close=to_close, cycle_weeks=cycle, mean_deal=mean_deal, deal_cv=cv,
                   constant=tuple(_constant_rate(i) for i in incs), team_quotas=team,
                   salaries=tuple(float(x) for x in model.base_salary))

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for p in self.pay_plan_ids:
            counts[p] = counts.get(p, 0) + 1
        pay_plans = ", ".join(f"{p} x{n}" for p, n in sorted(counts.items()))
        return f"IncentiveBehaviour({pay_plans}; enabled={self.enabled}, timing_games={self.timing_games})"

    def __getstate__(self) -> dict[str, Any]:
        # the weekly cache holds live RepState objects of one replication; workers start without it
        state = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("_cache", "_ratcheted")}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_cache", {})
        object.__setattr__(self, "_ratcheted", {})

    @property
    def dynamic_priority(self) -> bool:
        """Deals are re-ranked weekly when some seat's pay plan drives behaviour (the position changes)."""
        return self.enabled and not all(self.constant)

    @property
    def timing_games(self) -> bool:
        """The engine asks `timing` about closing deals (``[behaviour] timing_games`` on, behaviour enabled, and
        some seat's pay plan not a flat commission: under one, pulling only loses the discount and pushing gains
        nothing)."""
        return self.enabled and not all(self.constant) and any(i.behaviour.timing_games for i in self.incentives)

    def timing(self, rep: RepState, deal: DealView, close_month: int, weeks_after_month_end: float,
               push_risk: float) -> Timing:
        """Keep, pull or push a deal the customer has agreed to (``sim.incentives.timing_decision``).

        ``close_month`` is the month index the deal closes in if left alone (the current month for a push
        question; the horizon's length or more past it); ``weeks_after_month_end`` is how long after the current
        month's end that is (0 for a push question); ``push_risk`` the chance a pushed deal is lost meanwhile.
        """
        if not self.enabled or self.constant[rep.seat]:
            return "keep"
        inc = self.incentive(rep)
        return timing_decision(inc, self.position(rep), deal.value, close_month, weeks_after_month_end,
                               push_risk=push_risk)

    def position(self, rep: RepState) -> Position:
        """The rep's `Position` now (see the module docstring for what the rep is assumed to know)."""
        wpm = self.weeks_per_month
        elapsed_months = max(rep.month + rep.month_elapsed, 0.0) if rep.now >= 0.0 else 0.0
        pipeline_rate = max(rep.pipeline_value, 0.0) / self.cycle_weeks
        weight = min(1.0, elapsed_months / EVIDENCE_MONTHS)
        run_rate = rep.bookings_horizon / (elapsed_months * wpm) if elapsed_months > 0 else 0.0
        mean, sd = weekly_moments((1.0 - weight) * pipeline_rate + weight * run_rate, self.mean_deal, self.deal_cv)
        team = None
        quotas = self.team_quotas[rep.seat] if self.team_quotas else None
        if quotas is not None:
            tb = self.incentives[rep.seat].pay_plan.team_bonus
            company = tb is not None and tb.scope == "company"
            booked = rep.company_bookings_by_month if company else rep.region_bookings_by_month
            live = rep.company_quotas_by_month if company else rep.region_quotas_by_month
            if live is not None:  # the engine's current team quotas (a ratchet may have moved them)
                quotas = np.asarray(live, dtype=float)
            team_booked = np.zeros(len(quotas))
            team_booked[:len(booked)] = booked
            quota_rate = float(quotas.sum()) / (len(quotas) * wpm)
            team_run = float(team_booked.sum()) / (elapsed_months * wpm) if elapsed_months > 0 else 0.0
            t_mean, t_sd = weekly_moments((1.0 - weight) * quota_rate + weight * team_run, self.mean_deal,
                                          self.deal_cv)
            team = TeamOutlook(team_booked, quotas, t_mean, t_sd)
        return Position(month=rep.month, month_elapsed=min(max(rep.month_elapsed, 0.0), 1.0),
                        bookings=np.array(rep.bookings_by_month, dtype=float), weekly_mean=mean, weekly_sd=sd,
                        weeks_per_month=wpm, team=team)

    def incentive(self, rep: RepState) -> Incentive:
        """The seat's prepared pay plan on its quotas as they stand: re-prepared (and kept for the replication) when a
        quota ratchet has rewritten next year's quotas (``rep.quotas_by_month``)."""
        inc = self.incentives[rep.seat]
        live = rep.quotas_by_month
        if live is None or len(self.salaries) <= rep.seat or np.array_equal(inc.quotas, live):
            return inc
        held = self._ratcheted.get(rep.seat)
        if held is not None and np.array_equal(held.quotas, live):
            return held
        fresh = prepare(inc.pay_plan, np.array(live, dtype=float), self.salaries[rep.seat], inc.behaviour)
        self._ratcheted[rep.seat] = fresh
        return fresh

    def _week(self, rep: RepState) -> tuple[Any, ...]:
        """This week's cached (rep, now, incentive, position, marginal-rate memo by month, earned-pay memo by plan
        year) for the rep's seat."""
        entry = self._cache.get(rep.seat)
        if entry is None or entry[0] is not rep or entry[1] != rep.now:
            entry = (rep, rep.now, self.incentive(rep), self.position(rep), {}, {})
            self._cache[rep.seat] = entry
        return entry

    def weekly_hours(self, rep: RepState) -> float:
        """Norm hours times ``appraise(...).hours_share`` (norm hours when behaviour is disabled)."""
        if not self.enabled or self.constant[rep.seat]:
            return rep.norm_hours
        # the position is rebuilt at each week start: weekly_hours is the first call of the week for a seat
        self._cache.pop(rep.seat, None)
        _, _, inc, pos, _, earned = self._week(rep)
        return float(rep.norm_hours * appraise(inc, pos, earned).hours_share)

    def priority(self, rep: RepState, deal: DealView) -> float:
        """Expected value of the deal times the pay plan's marginal pay in its expected close month over the
        reference rate (expected value alone when behaviour is disabled or the pay plan pays nothing variable)."""
        ev = deal.value * deal.win_probability
        if not self.enabled or self.constant[rep.seat]:
            return ev
        _, _, inc, pos, memo, earned = self._week(rep)
        if inc.reference_rate <= 0.0:
            return ev
        day = pos.month_elapsed * DAYS_PER_MONTH + self.days_to_close[min(deal.stage, len(self.days_to_close) - 1)]
        month = pos.month + int(day // DAYS_PER_MONTH)
        rate = memo.get(month)
        if rate is None:
            rate = marginal_pay(inc, pos, month, earned) / inc.reference_rate
            memo[month] = rate
        return float(ev * rate)
