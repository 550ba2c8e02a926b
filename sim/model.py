"""The simulation model: a scenario and a plan turned into plain arrays the engine reads on its hot path
(``check`` and ``build``, the first two steps of ``simulate``).

Nothing here is random; demand is drawn per replication in ``sim.demand``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

import scenarios
from scenarios import Plan, Problem, Scenario, ScenarioError
from scenarios.demand import account_demand, new_business_pools
from scenarios.skill import expected_sales, ramp_factors

__all__ = ["DAYS_PER_MONTH", "DAYS_PER_WEEK", "DAYS_PER_YEAR", "Model", "SimulationError", "build", "check",
           "month_index"]

ACCOUNT_TIERS = ("A", "B", "C")
DAYS_PER_WEEK = 7.0
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0


def month_index(month_start: Sequence[float], day: float) -> int:
    """Month of the horizon that ``day`` falls in, from the month boundaries ``month_start`` (``Model.month_start``
    as a list: it is called per event); days before the horizon give a negative month, days past it the last.

    Examples
    --------
    >>> month_index([0.0, 31.0, 59.0], 40.0)
    1
    """
    return min(bisect.bisect_right(month_start, day) - 1, len(month_start) - 2)


class SimulationError(ScenarioError):
    """A scenario, plan or simulation option the simulator cannot run; the message names the field and the
    fix (exit code 2 on the command line)."""


@dataclass(frozen=True, eq=False)
class Model:
    """Arrays describing one simulation run; built once, shared read-only by all replications.

    Stages are indexed ``0..S-1``, months ``0..M-1``, seats (rows of ``reps``) ``0..R-1``, accounts
    ``0..A-1``, regions and tiers by their position in ``region_ids`` and ``tier_ids``.
    """

    scenario: Scenario
    plan: Plan
    stage_ids: list[str]
    conversion: np.ndarray  # (S,)
    no_decision: np.ndarray  # (S,) share of the deals entering each stage that never get a decision
    mean_days: np.ndarray  # (S,)
    spread: np.ndarray  # (S,)
    gamma_stage: np.ndarray  # (S,) bool: duration gamma (else lognormal)
    effort_hours: np.ndarray  # (S,)
    win_from: np.ndarray  # (S+1,) product of base conversions (decided share x conversion) from stage s to the end
    stall_days: float
    month_start: np.ndarray  # (M+1,) day offsets of month boundaries
    month_of_year: np.ndarray  # (M,) 1..12
    season: np.ndarray  # (M,) calendar seasonality over its mean
    demand_start: np.ndarray  # (W+M+1,) month boundaries from the start of the warm-up (negative days)
    demand_season: np.ndarray  # (W+M,) seasonality of the demand months
    periods: list[str]
    horizon: float
    hours_scale: float  # working weeks per calendar week
    region_ids: list[str]
    account_ids: list[str]
    account_region: np.ndarray
    account_tier: np.ndarray  # index into ACCOUNT_TIERS
    tier_conversion: np.ndarray  # (3,)
    potential: np.ndarray
    service_need: np.ndarray  # hours per year
    customer: np.ndarray  # bool, customer at the start
    owner: np.ndarray  # seat index or -1
    deal_value: np.ndarray  # expected value of one lead: potential / max(leads a year at today's spend, 1)
    lead_rate: np.ndarray  # leads a year at today's spend (repeat orders and new business)
    wallet: np.ndarray  # (Y, A) most each account buys in each plan year of the horizon (potential x year share)
    product_ids: list[str]
    price: np.ndarray
    margin: np.ndarray
    mix: np.ndarray  # normalised
    rep_ids: list[str]
    seat_region: np.ndarray
    seat_tier: np.ndarray  # index into tier_ids
    seat_hours: np.ndarray
    base_salary: np.ndarray
    commission_rate: np.ndarray
    hired_day: np.ndarray  # day offset of hire date (negative = before the horizon)
    skill: np.ndarray  # (R, S) skill per seat and stage (tier skill or the rep's override)
    tier_ids: list[str]
    tier_skill: np.ndarray  # (T, S)
    tier_hours: np.ndarray
    tier_market_pay: np.ndarray
    tier_ramp_months: np.ndarray
    tier_ramp_start: np.ndarray
    tier_attrition: np.ndarray
    tier_base_salary: np.ndarray  # mean base salary of the tier's reps (backfill hires)
    promotion_to: np.ndarray  # tier index or -1
    promotion_after_months: np.ndarray
    promotion_min_attainment: np.ndarray
    entry_tier: int
    quotas: np.ndarray  # (R, M)
    quota_source: str
    source_channel: np.ndarray  # (K,) lead sources: channel index
    source_region: np.ndarray
    source_month: np.ndarray  # index into the demand months (warm-up first)
    source_rate: np.ndarray  # expected leads
    channel_ids: list[str]
    channel_quality: np.ndarray
    region_accounts: list[np.ndarray]  # new-business target accounts per region
    region_weights: list[np.ndarray]  # their draw probabilities
    repeat_rate: np.ndarray  # (A,) repeat/renewal/upsell leads per year (customers at the start)

    @property
    def n_seats(self) -> int:
        """Number of seats (reps in the scenario)."""
        return len(self.rep_ids)

    @property
    def n_months(self) -> int:
        """Months in the horizon."""
        return len(self.periods)


def check(scenario: Scenario, plan: Plan | None = None) -> Plan:
    """Check that ``scenario`` and ``plan`` can be simulated; return the plan to run (today's assignment when
    ``plan`` is None).

    Raises
    ------
    SimulationError
        When the plan names unknown ids or a setting the simulator needs is unusable.

    Examples
    --------
    >>> import scenarios
    >>> check(scenarios.load("tiny")).source
    'current'
    """
    plan = Plan.current(scenario) if plan is None else plan
    try:
        plan.check(scenario)
    except ScenarioError as exc:
        raise SimulationError(exc.problems) from None
    st = scenario.settings
    problems: list[Problem] = []
    for key in ("repeat_orders_per_year", "tier_conversion"):
        values: dict[str, float] = getattr(st.simulation, key)
        unknown = sorted(set(values) - set(ACCOUNT_TIERS))
        bad = {k: v for k, v in values.items() if not (math.isfinite(v) and v >= 0)}
        if unknown:
            problems.append(Problem("scenario.toml", f"names unknown account tier(s) {unknown}",
                                    "use the account tiers A, B and C", column=f"simulation.{key}"))
        if bad:
            problems.append(Problem("scenario.toml", "needs finite values >= 0", "correct the values",
                                    column=f"simulation.{key}", value=str(bad)))
    if plan.budget is not None:
        unknown_ch = sorted(set(plan.budget["channel"]) - set(st.channels))
        if unknown_ch:
            problems.append(Problem("budget.csv", f"names unknown channel(s) {unknown_ch[:5]}",
                                    f"use channels of the scenario: {sorted(st.channels)}", column="channel"))
        if (plan.budget["expected_leads"] < 0).any():
            problems.append(Problem("budget.csv", "has negative expected_leads", "write leads >= 0",
                                    column="expected_leads"))
    if problems:
        raise SimulationError(problems)
    return plan


def _month_bounds(start: dt.date, before: int, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Day offsets of the month boundaries from ``before`` months ahead of the horizon's first month to its end
    (relative to the first day of the horizon's first month, so warm-up days are negative), and the month of
    year of each month."""
    year, month = start.year, start.month - before
    while month < 1:
        year, month = year - 1, month + 12
    first = dt.date(start.year, start.month, 1)
    bounds, moy = [], []
    for _ in range(before + months + 1):
        bounds.append((dt.date(year, month, 1) - first).days)
        moy.append(month)
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return np.asarray(bounds, dtype=float), np.asarray(moy[:-1], dtype=np.int64)


def build(scenario: Scenario, plan: Plan | None = None) -> Model:
    """Turn ``scenario`` and ``plan`` into the arrays of a ``Model`` (after ``check``).

    Examples
    --------
    >>> import scenarios
    >>> m = build(scenarios.load("tiny"))
    >>> m.n_seats, m.n_months, m.stage_ids[0]
    (6, 12, 'prospecting')
    """
    plan = check(scenario, plan)
    st = scenario.settings
    sim = st.simulation
    stages = st.funnel.stages
    stage_ids = [s.id for s in stages]
    conversion = np.array([s.conversion for s in stages])
    no_decision = np.array([s.no_decision_share or 0.0 for s in stages])
    win_from = np.ones(len(stages) + 1)
    for i in range(len(stages) - 1, -1, -1):
        win_from[i] = win_from[i + 1] * conversion[i] * (1.0 - no_decision[i])

    periods = st.calendar.periods()
    warmup = sim.warmup_months
    demand_start, demand_moy = _month_bounds(st.calendar.start, warmup, st.calendar.months)
    month_start = demand_start[warmup:]
    first = dt.date(st.calendar.start.year, st.calendar.start.month, 1)
    month_of_year = demand_moy[warmup:]
    seas = np.asarray(st.calendar.seasonality, dtype=float)
    season = seas[month_of_year - 1] / seas.mean()
    demand_season = seas[demand_moy - 1] / seas.mean()

    reps, acc = scenario.reps, scenario.accounts
    region_ids = scenario.regions
    region_index = {r: i for i, r in enumerate(region_ids)}
    rep_ids = [str(r) for r in reps.index]
    seat_of = {r: i for i, r in enumerate(reps.index)}
    tier_ids = sorted(st.tiers, key=lambda t: st.tiers[t].rank)
    tier_index = {t: i for i, t in enumerate(tier_ids)}

    owner_series = plan.assignment.reindex(acc.index)
    owner = np.array([seat_of.get(r, -1) if isinstance(r, str) else -1 for r in owner_series], dtype=np.int64)

    potential = acc["annual_potential"].to_numpy(dtype=float)
    account_region = acc["region"].map(region_index).to_numpy(dtype=np.int64)
    account_tier = acc["tier"].map({t: i for i, t in enumerate(ACCOUNT_TIERS)}).to_numpy(dtype=np.int64)
    customer = (acc["status"] == "customer").to_numpy()

    tier_skill = np.array([[st.tiers[t].skill.get(s, 1.0) for s in stage_ids] for t in tier_ids])
    seat_tier = reps["tier"].map(tier_index).to_numpy(dtype=np.int64)
    skill = tier_skill[seat_tier].copy()
    for j, sid in enumerate(stage_ids):
        col = f"skill_{sid}"
        if col in reps.columns:
            override = pd.to_numeric(reps[col], errors="coerce").to_numpy(dtype=float)
            skill[:, j] = np.where(np.isfinite(override), override, skill[:, j])
    hired_day = np.array([(pd.Timestamp(d).date() - first).days for d in reps["hire_date"]], dtype=float)

    base_salary = reps["base_salary"].to_numpy(dtype=float)
    tier_base = np.array([float(base_salary[seat_tier == k].mean()) if (seat_tier == k).any() else
                          float(base_salary.mean()) for k in range(len(tier_ids))])
    promo = [st.tiers[t].promotion for t in tier_ids]

    quotas, quota_source = _quotas(scenario, plan, rep_ids, periods, month_of_year)
    channel_ids = list(st.channels)
    src = _lead_sources(scenario, plan, channel_ids, region_ids, periods, demand_moy, demand_season, warmup,
                        region_index)

    pools = new_business_pools(scenario)
    demand = account_demand(scenario)
    region_accounts = [pools[r][0] for r in region_ids]
    region_weights = [pools[r][1] for r in region_ids]
    repeat = np.array([sim.repeat_orders_per_year.get(t, 0.0) for t in ACCOUNT_TIERS])[account_tier] * customer

    products = st.products
    mix = np.array([p.mix for p in products.values()], dtype=float)
    mix = mix / mix.sum() if mix.sum() > 0 else np.full(len(mix), 1.0 / len(mix))
    return Model(
        scenario=scenario, plan=plan, stage_ids=stage_ids, conversion=conversion,
        no_decision=no_decision,
        mean_days=np.array([s.mean_days for s in stages]), spread=np.array([s.spread for s in stages]),
        gamma_stage=np.array([s.distribution == "gamma" for s in stages]),
        effort_hours=np.array([s.effort_hours for s in stages]), win_from=win_from,
        stall_days=st.funnel.stall_days, month_start=month_start, month_of_year=month_of_year, season=season,
        demand_start=demand_start, demand_season=demand_season,
        periods=periods, horizon=float(month_start[-1]),
        hours_scale=st.calendar.weeks_per_year / (DAYS_PER_YEAR / DAYS_PER_WEEK),
        region_ids=region_ids, account_ids=[str(a) for a in acc.index], account_region=account_region,
        account_tier=account_tier,
        tier_conversion=np.array([sim.tier_conversion.get(t, 1.0) for t in ACCOUNT_TIERS]),
        potential=potential, service_need=acc["service_hours_per_year"].to_numpy(dtype=float),
        customer=customer, owner=owner, deal_value=demand["deal_value"].to_numpy(dtype=float),
        lead_rate=demand["leads"].to_numpy(dtype=float),
        wallet=_wallet(potential, season),
        product_ids=list(products), price=np.array([p.price for p in products.values()]),
        margin=np.array([p.margin for p in products.values()]), mix=mix,
        rep_ids=rep_ids, seat_region=reps["region"].map(region_index).to_numpy(dtype=np.int64),
        seat_tier=seat_tier, seat_hours=reps["hours_per_week"].to_numpy(dtype=float), base_salary=base_salary,
        commission_rate=np.array([st.pay_plans[p].commission_rate for p in reps["pay_plan_id"]], dtype=float),
        hired_day=hired_day, skill=skill, tier_ids=tier_ids, tier_skill=tier_skill,
        tier_hours=np.array([st.tiers[t].hours_per_week for t in tier_ids]),
        tier_market_pay=np.array([st.tiers[t].market_pay for t in tier_ids]),
        tier_ramp_months=np.array([st.tiers[t].ramp_months for t in tier_ids], dtype=float),
        tier_ramp_start=np.array([st.tiers[t].ramp_start for t in tier_ids]),
        tier_attrition=np.array([st.tiers[t].attrition_per_year for t in tier_ids]),
        tier_base_salary=tier_base,
        promotion_to=np.array([tier_index[p.to] if p is not None else -1 for p in promo], dtype=np.int64),
        promotion_after_months=np.array([p.after_months if p is not None else 0 for p in promo], dtype=float),
        promotion_min_attainment=np.array([p.min_attainment if p is not None else 0.0 for p in promo]),
        entry_tier=0, quotas=quotas, quota_source=quota_source,
        source_channel=src[0], source_region=src[1], source_month=src[2], source_rate=src[3],
        channel_ids=channel_ids,
        channel_quality=np.array([st.channels[c].lead_quality for c in channel_ids], dtype=float),
        region_accounts=region_accounts, region_weights=region_weights, repeat_rate=repeat,
    )


def _wallet(potential: np.ndarray, season: np.ndarray) -> np.ndarray:
    """The most each account buys in each plan year (12 months from the horizon's start): its annual potential
    times the year's share of a calendar year's demand (``season`` is the horizon months' seasonality over its
    mean, so a full year's share is 1 and a shorter last year gets its seasonal share)."""
    years = (len(season) + 11) // 12
    share = np.array([season[12 * y:12 * y + 12].sum() / 12.0 for y in range(years)])
    wallet: np.ndarray = share[:, None] * potential[None, :]
    return wallet


def _quotas(scenario: Scenario, plan: Plan, rep_ids: list[str], periods: list[str],
            month_of_year: np.ndarray) -> tuple[np.ndarray, str]:
    """Quota per seat and month: the plan's quotas summed over products when given; otherwise the company target
    times over-assignment, split over reps by their share of expected sales under the plan's assignment (the
    skill model of ``scenarios.skill.expected_sales``: potential x reach x capture x service coverage x
    ramp-up, the basis of the quota optimizer's methods) and over months by calendar seasonality, reshaped by each
    rep's ramp-up (a rep hired mid-year carries no quota before the hire date). A 12-month year sums to the annual
    figure. Under ``region_pool`` routing a region's expected sales are split over its seats by selling hours
    (`_pooled_sales`). With no expected sales at all (no accounts assigned) reps share equally."""
    st = scenario.settings
    if plan.quotas is not None and len(plan.quotas):
        q = plan.quotas.groupby(["rep_id", "period"])["quota"].sum().unstack("period")
        q = q.reindex(index=rep_ids, columns=periods).fillna(0.0)
        return q.to_numpy(dtype=float), "plan"
    info = expected_sales(scenario, plan.assignment)
    sales = info["expected_sales"].reindex(rep_ids).fillna(0.0).to_numpy(dtype=float)
    if st.simulation.routing == "region_pool":
        sales = _pooled_sales(scenario, rep_ids, sales, info["ramp"].reindex(rep_ids).fillna(0.0).to_numpy(float))
    share = sales / sales.sum() if sales.sum() > 0 else np.full(len(rep_ids), 1.0 / len(rep_ids))
    seas = np.asarray(st.calendar.seasonality, dtype=float)
    month_share = seas[month_of_year - 1] / seas.sum()
    ramp_month = ramp_factors(scenario).reindex(index=rep_ids, columns=periods).fillna(0.0).to_numpy(dtype=float)
    ramp_mean = info["ramp"].reindex(rep_ids).fillna(0.0).to_numpy(dtype=float)
    shape = np.divide(ramp_month, ramp_mean[:, None], out=np.ones_like(ramp_month), where=ramp_mean[:, None] > 0)
    annual = st.targets.annual * st.targets.over_assignment
    return (annual * share[:, None] * month_share[None, :] * shape,
            "default: target x over_assignment by expected sales (skill model)")


def _pooled_sales(scenario: Scenario, rep_ids: list[str], sales: np.ndarray, ramp: np.ndarray) -> np.ndarray:
    """Expected sales per seat when any seat of a region works any of its deals (``region_pool`` routing): the
    region's expected sales split by each seat's selling hours x ramp-up, since who owns an account does not decide
    who sells to it. (A seat that owns no account would otherwise carry no quota while it closes deals.)"""
    reps = scenario.reps.reindex(rep_ids)
    capacity = reps["hours_per_week"].to_numpy(dtype=float) * ramp
    region = reps["region"].to_numpy()
    pooled = np.zeros_like(sales)
    for r in np.unique(region):
        seats = region == r
        if capacity[seats].sum() > 0:
            pooled[seats] = sales[seats].sum() * capacity[seats] / capacity[seats].sum()
    return pooled


def _lead_sources(scenario: Scenario, plan: Plan, channel_ids: list[str], region_ids: list[str],
                  periods: list[str], demand_moy: np.ndarray, demand_season: np.ndarray, warmup: int,
                  region_index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Expected new-business leads per channel x region x demand month (warm-up months first): the plan
    budget's ``expected_leads`` for horizon months when the plan has a budget, otherwise (and always in the
    warm-up, which runs at today's rate) each channel's ``default_monthly_spend`` through
    ``scenarios.expected_leads`` with ``scenarios.region_weights`` (the shared lead-response definition)."""
    st = scenario.settings
    rows: list[tuple[int, int, int, float]] = []
    default_months = range(len(demand_moy))
    if plan.budget is not None:
        channel_index = {c: i for i, c in enumerate(channel_ids)}
        month_index = {p: warmup + i for i, p in enumerate(periods)}
        for ch, reg, per, leads in plan.budget[["channel", "region", "period", "expected_leads"]].itertuples(
                index=False):
            if per in month_index and reg in region_index and leads > 0:
                rows.append((channel_index[ch], region_index[reg], month_index[per], float(leads)))
        default_months = range(warmup)
    acc = scenario.accounts
    weights = scenarios.region_weights(
        {r: float(acc.loc[acc["region"] == r, "annual_potential"].sum()) for r in region_ids})
    for c, cid in enumerate(channel_ids):
        ch = st.channels[cid]
        for k, reg in enumerate(region_ids):
            for m in default_months:
                lam = scenarios.expected_leads(ch, ch.default_monthly_spend, int(demand_moy[m]), weights[reg],
                                               float(demand_season[m]))
                if lam > 0:
                    rows.append((c, k, m, lam))
    arr = np.array(rows, dtype=float).reshape(-1, 4)
    return (arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2].astype(np.int64), arr[:, 3])
