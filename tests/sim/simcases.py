"""Scenario variants for the simulator's cross-checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

import scenarios
from sim.policy import DealView, RepState


def neutral(s: scenarios.Scenario, months: int = 12, stall_days: float = 1e6) -> scenarios.Scenario:
    """Skills, tier and channel multipliers at 1, no attrition, churn, training or repeat orders: the win rate is
    then the product of the stages' base conversions."""
    changes: dict[str, object] = {"calendar.months": months, "funnel.stall_days": stall_days,
                                  "simulation.tier_conversion": {"A": 1.0, "B": 1.0, "C": 1.0},
                                  "simulation.repeat_orders_per_year": {"A": 0.0, "B": 0.0, "C": 0.0},
                                  "simulation.base_churn_per_year": 0.0,
                                  "simulation.neglect_churn_per_quarter": 0.0,
                                  "simulation.training_hours_per_year": 0.0,
                                  "simulation.training_skill_gain": 0.0}
    for tier in s.settings.tiers:
        changes[f"tiers.{tier}.attrition_per_year"] = 0.0
        changes[f"tiers.{tier}.skill"] = {}
        changes[f"tiers.{tier}.ramp_months"] = 0
    for ch in s.settings.channels:
        changes[f"channels.{ch}.lead_quality"] = 1.0
    out = scenarios.modify(s, changes)
    reps = out.reps.drop(columns=[c for c in out.reps.columns if c.startswith("skill_")])
    return out.replace(reps=reps)


def one_stage_queue(s: scenarios.Scenario, per_day: float, effort_hours: float) -> scenarios.Scenario:
    """One region, one stage that always converts at once, exponential effort, a shared queue (region_pool),
    constant hours, Poisson arrivals at ``per_day`` from repeat orders only: an M/M/c queue with c = reps."""
    base = neutral(s, months=60)
    st = base.settings
    funnel = st.funnel.model_copy(update={"stages": [st.funnel.stages[0].model_copy(update={
        "conversion": 1.0, "mean_days": 1e-6, "spread": 0.0, "effort_hours": effort_hours})]})
    tiers = {k: t.model_copy(update={"skill": {}, "hours_per_week": 40.0, "promotion": None})
             for k, t in st.tiers.items()}
    n_acc = len(base.accounts)
    sim_settings = st.simulation.model_copy(update={
        "repeat_orders_per_year": {"A": per_day * 365.25 / n_acc, "B": 0.0, "C": 0.0}, "repeat_skip_stages": 0,
        "effort_cv": 1.0, "routing": "region_pool", "max_service_share": 0.0})
    channels = {k: c.model_copy(update={"default_monthly_spend": 0.0}) for k, c in st.channels.items()}
    cal = st.calendar.model_copy(update={"weeks_per_year": 365.25 / 7, "seasonality": [1.0] * 12})
    targets = st.targets.model_copy(update={"by_region": {"North": 1.0}})
    settings = st.model_copy(update={"funnel": funnel, "tiers": tiers, "simulation": sim_settings,
                                     "channels": channels, "calendar": cal, "targets": targets})
    reps = base.reps.assign(region="North", hours_per_week=40.0, hire_date=pd.Timestamp("2010-01-01"))
    owners = [base.reps.index[i % len(base.reps)] for i in range(n_acc)]  # every account covered
    accounts = base.accounts.assign(region="North", status="customer", tier="A", service_hours_per_year=0.0,
                                    current_rep_id=owners)
    return base.replace(settings=settings, reps=reps, accounts=accounts)


@dataclasses.dataclass(frozen=True)
class FifoBehaviour:
    """First come, first served: a behaviour written against the public hook."""

    dynamic_priority: bool = False

    def weekly_hours(self, rep: RepState) -> float:
        return rep.norm_hours

    def priority(self, rep: RepState, deal: DealView) -> float:
        return -deal.created


def erlang_c_wait(arrival: float, service: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C), by the textbook formula."""
    a = arrival / service
    rho = a / servers
    terms = [a**k / np.prod(np.arange(1, k + 1)) for k in range(servers)]
    last = a**servers / np.prod(np.arange(1, servers + 1)) / (1 - rho)
    p_wait = last / (sum(terms) + last)
    return float(p_wait / (servers * service - arrival))


@dataclasses.dataclass(frozen=True)
class DeadlineBehaviour:
    """Works longer and favours late-stage deals as the month end nears: a state-dependent, re-ranked hook."""

    dynamic_priority: bool = True

    def weekly_hours(self, rep: RepState) -> float:
        return rep.norm_hours * (1.3 if rep.days_left_month < 7 else 1.0)

    def priority(self, rep: RepState, deal: DealView) -> float:
        urgency = 1.0 / (1.0 + rep.days_left_month)
        return deal.value * deal.win_probability * (1.0 + urgency * deal.stage)


MIXED_PLANS = ("annual_bonus", "tiered_accelerator", "capped", "flat_commission", "annual_bonus", "capped")
"""A plan per rep of ``tiny``: four different plans, each paying differently for the same bookings."""


def mixed_plans(s: scenarios.Scenario) -> scenarios.Scenario:
    """``tiny`` with its reps on `MIXED_PLANS` (a run that ignores the reps' own plans then pays differently),
    and without attrition or promotions, so a rep's pay over a 12-month run is base salary plus what the rep's
    plan pays on the year's bookings and quota (no vacancy, no change of base)."""
    changes: dict[str, object] = {}
    for tier in s.settings.tiers:
        changes[f"tiers.{tier}.attrition_per_year"] = 0.0
        changes[f"tiers.{tier}.promotion"] = None
    out = scenarios.modify(s, changes)
    out = out.replace(reps=out.reps.assign(pay_plan_id=list(MIXED_PLANS)))
    scenarios.check(out)
    return out
