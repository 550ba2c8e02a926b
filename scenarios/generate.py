"""Synthetic scenarios of any size from a seed: clustered geography, heavy-tailed account potential, a tier mix of
reps and accounts, a plausible funnel, channels and pay plans.

The numbers are chosen to look like a mid-sized B2B sales organisation: about 10 % of accounts are key (A)
customers holding about half the potential, service need rises with tier, reps carry roughly 70-80 % of
their yearly hours in account service, and today's assignment is the nearest rep in the region with some
historical noise (so it is unbalanced, as real territories are).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scenarios.allocation import BalanceBand, OptimizerSettings
from scenarios.geography import great_circle_km
from scenarios.incentives import PlanSettings
from scenarios.marketing import BudgetSettings, ChannelSettings
from scenarios.plan import Plan
from scenarios.scenario import Scenario
from scenarios.settings import (
    CalendarSettings,
    FunnelSettings,
    ProductSettings,
    PromotionRule,
    Settings,
    StageSettings,
    TargetSettings,
    TierSettings,
)
from scenarios.simulation import SimulationSettings
from scenarios.skill import expected_sales, horizon_weights

__all__ = ["generate"]

_REGION_NAMES = ["North", "South", "East", "West", "Central", "Coast", "Mountain", "Lakes", "Valley", "Capital",
                 "Harbour", "Plains"]
_SEGMENTS = ["Manufacturing", "Retail", "Healthcare", "Public sector", "Finance", "Technology", "Logistics"]
_PREFIX = ["Nordic", "Alpine", "Rhein", "Baltic", "Union", "Summit", "Delta", "Vertex", "Atlas", "Orion", "Helix",
           "Pioneer", "Crescent", "Granite", "Meridian", "Apex", "Harbor", "Sterling", "Evergreen", "Falcon"]
_CORE = ["Steel", "Foods", "Logistics", "Clinic", "Systems", "Textiles", "Motors", "Energy", "Retail", "Pharma",
         "Robotics", "Bank", "Media", "Chemicals", "Builders", "Labs"]
_SUFFIX = ["GmbH", "AG", "Ltd", "SA", "BV", "Group", "& Co", "Inc"]
# A share of names in other scripts: exports must carry them intact (UTF-8, Excel BOM).
_WORLD = ["北京贸易有限公司", "上海精密机械", "株式会社さくら電機", "Müller & Söhne", "Łódź Logistyka",
          "Ελληνική Τεχνική",
          "Москва Снаб", "Société Générale d'Équipement", "서울 테크", "Café Größe", "شركة النور", "Ärztehaus Süd"]
_FIRST = ["Anna", "Ben", "Carla", "David", "Eva", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Klara", "Lukas",
          "Mia", "Noah", "Olga", "Paul", "Rosa", "Sami", "Tara", "Umut", "Vera", "Wei", "Yuki", "Zoe", "Li Na",
          "José", "Zoë", "Björn", "Chloé", "Søren"]
_LAST = ["Schmidt", "Meyer", "Kowalski", "Rossi", "García", "Novak", "Jensen", "Dubois", "Nagy", "Wang", "Sato",
         "Öztürk", "Ivanova", "Larsen", "Fischer", "Moreau", "Silva", "Horvat", "Berg", "Chen"]

_STAGES = [
    ("prospecting", "Prospecting", 0.55, 10.0, 3.0),
    ("needs_analysis", "Needs analysis", 0.70, 12.0, 4.0),
    ("demo", "Demo", 0.65, 14.0, 6.0),
    ("quote", "Quote", 0.75, 7.0, 3.0),
    ("negotiation", "Negotiation", 0.65, 14.0, 5.0),
]
_SEASONALITY = [0.85, 0.90, 1.05, 0.95, 1.00, 1.05, 0.80, 0.75, 1.05, 1.10, 1.15, 1.35]
_PRODUCTS = [("hardware", "Hardware", 25_000.0, 0.30, 0.45), ("software", "Software", 40_000.0, 0.75, 0.35),
             ("services", "Services", 15_000.0, 0.45, 0.20)]
_TIER_MIX = {"junior": 0.4, "mid": 0.4, "senior": 0.2}
_ROLE_MIX = {"hunter": 0.35, "farmer": 0.35, "hybrid": 0.30}


# Quota bounds per tier as multiples of the average rep quota: every tier may carry at least 1.5x the average
# and needs at most 0.4x, so any tier mix can meet target x over-assignment.
_QUOTA_BOUNDS = {"junior": (0.2, 1.5), "mid": (0.3, 2.0), "senior": (0.4, 3.0)}


def _tiers(average_quota: float = 1.9e6) -> dict[str, TierSettings]:
    def lo(tier: str) -> float:
        return float(np.round(_QUOTA_BOUNDS[tier][0] * average_quota, -3))

    def hi(tier: str) -> float:
        return float(np.round(_QUOTA_BOUNDS[tier][1] * average_quota, -3))

    return {
        "junior": TierSettings(
            rank=1, skill={"prospecting": 1.0, "needs_analysis": 0.85, "demo": 0.8, "quote": 0.9, "negotiation": 0.75},
            hours_per_week=40.0, annual_cost=18_000.0, market_pay=62_000.0, ramp_months=6, ramp_start=0.3,
            attrition_per_year=0.22, min_quota=lo("junior"), max_quota=hi("junior"),
            promotion=PromotionRule(to="mid", after_months=18, min_attainment=1.0)),
        "mid": TierSettings(
            rank=2, skill={"prospecting": 1.0, "needs_analysis": 1.0, "demo": 1.0, "quote": 1.0, "negotiation": 1.0},
            hours_per_week=40.0, annual_cost=22_000.0, market_pay=85_000.0, ramp_months=4, ramp_start=0.4,
            attrition_per_year=0.15, min_quota=lo("mid"), max_quota=hi("mid"),
            promotion=PromotionRule(to="senior", after_months=24, min_attainment=1.05)),
        "senior": TierSettings(
            rank=3, skill={"prospecting": 1.0, "needs_analysis": 1.15, "demo": 1.2, "quote": 1.1, "negotiation": 1.3},
            hours_per_week=38.0, annual_cost=26_000.0, market_pay=115_000.0, ramp_months=3, ramp_start=0.5,
            attrition_per_year=0.10, min_quota=lo("senior"), max_quota=hi("senior")),
    }


# Accounts in the average region the channels' lead curves were set for (the bundled baseline: 2,000 accounts
# in 4 regions); a region of another size gets proportionally more or fewer leads at each spend.
_CURVE_REGION_ACCOUNTS = 500.0


def _channels(monthly_scale: float, leads_scale: float = 1.0) -> dict[str, ChannelSettings]:
    """Four channels with concave lead curves per region and month; ``monthly_scale`` sizes the spend axis,
    ``leads_scale`` the lead axis (accounts per region over ``_CURVE_REGION_ACCOUNTS``)."""
    s = monthly_scale

    def leads(*values: float) -> list[float]:
        return [float(round(v * leads_scale, 4)) for v in values]

    return {
        "events": ChannelSettings(name="Trade events", curve_spend=[0.0, 2 * s, 5 * s, 10 * s],
                                  curve_leads=leads(0.0, 8.0, 14.0, 18.0), lead_quality=1.3,
                                  seasonality=[0.6, 0.8, 1.3, 1.2, 1.1, 0.9, 0.5, 0.4, 1.4, 1.4, 1.2, 0.6],
                                  default_monthly_spend=2 * s),
        "paid_search": ChannelSettings(name="Paid search", curve_spend=[0.0, 1 * s, 3 * s, 8 * s],
                                       curve_leads=leads(0.0, 10.0, 20.0, 28.0), lead_quality=0.8,
                                       default_monthly_spend=1 * s),
        "content": ChannelSettings(name="Content & webinars", curve_spend=[0.0, 1 * s, 2 * s, 6 * s],
                                   curve_leads=leads(0.0, 6.0, 10.0, 16.0), lead_quality=1.0,
                                   default_monthly_spend=1 * s),
        "partners": ChannelSettings(name="Partner referrals", curve_spend=[0.0, 2 * s, 4 * s, 12 * s],
                                    curve_leads=leads(0.0, 7.0, 11.0, 17.0), lead_quality=1.5, min_spend=12 * s,
                                    default_monthly_spend=1 * s),
    }


def _plans() -> dict[str, PlanSettings]:
    return {"flat_commission": PlanSettings(description="Base salary plus 5 % commission on every booking.",
                                            commission_rate=0.05)}


def _company_names(rng: np.random.Generator, n: int) -> list[str]:
    a = rng.integers(0, len(_PREFIX), n)
    b = rng.integers(0, len(_CORE), n)
    c = rng.integers(0, len(_SUFFIX), n)
    world = rng.random(n) < 0.05
    w = rng.integers(0, len(_WORLD), n)
    return [_WORLD[w[i]] if world[i] else f"{_PREFIX[a[i]]} {_CORE[b[i]]} {_SUFFIX[c[i]]}" for i in range(n)]


def _pick(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    keys = list(mix)
    counts = np.floor(np.asarray(list(mix.values())) * n).astype(int)
    counts[0] += n - counts.sum()
    out = np.repeat(np.asarray(keys, dtype=object), counts)
    rng.shuffle(out)
    return out


def generate(reps: int = 40, accounts: int = 2000, seed: int = 0, *, regions: int = 4, products: int = 3,
             months: int = 12, start: dt.date | None = None, name: str | None = None) -> Scenario:
    """Make a realistic synthetic scenario.

    Parameters
    ----------
    reps, accounts
        Table sizes (at least one rep per region).
    seed
        Root seed; the same arguments give the same scenario.
    regions
        Number of sales regions (geographic clusters).
    products
        Number of product lines (the first three have names, further ones are numbered).
    months
        Planning horizon.
    start
        First day of the horizon (default 1 January of next year relative to 2026, i.e. 2027-01-01).
    name
        Scenario name (default ``generated-<reps>x<accounts>-s<seed>``).

    Returns
    -------
    Scenario
        A scenario that passes ``check``.

    Examples
    --------
    >>> s = generate(reps=6, accounts=50, seed=1, regions=2)
    >>> len(s.reps), len(s.accounts), len(s.regions)
    (6, 50, 2)
    """
    if regions < 1 or reps < regions or accounts < 1 or products < 1 or months < 1:
        raise ValueError("need regions >= 1, reps >= regions, accounts >= 1, products >= 1 and months >= 1")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    start = start or dt.date(2027, 1, 1)
    region_names = [_REGION_NAMES[i] if i < len(_REGION_NAMES) else f"Region {i + 1}" for i in range(regions)]

    # Geography: regions tile a country-sized box; each region has a few cities that accounts cluster around.
    cols = int(np.ceil(np.sqrt(regions)))
    centres = np.array([(47.0 + 2.2 * (i // cols), 6.0 + 3.0 * (i % cols)) for i in range(regions)])
    cities_per_region = 4
    city = centres[:, None, :] + rng.normal(0.0, [0.55, 0.8], size=(regions, cities_per_region, 2))
    city_weight = rng.dirichlet(np.full(cities_per_region, 2.0), size=regions)
    region_weight = rng.dirichlet(np.full(regions, 8.0))

    acc_region = rng.choice(regions, size=accounts, p=region_weight)
    acc_city = np.empty(accounts, dtype=np.int64)
    for r in range(regions):
        mask = acc_region == r
        acc_city[mask] = rng.choice(cities_per_region, size=int(mask.sum()), p=city_weight[r])
    acc_xy = city[acc_region, acc_city] + rng.normal(0.0, [0.18, 0.25], size=(accounts, 2))

    # Potential: heavy-tailed (lognormal); tiers by rank: top 10 % A, next 30 % B, rest C.
    potential = np.round(np.exp(rng.normal(np.log(60_000.0), 1.1, accounts)), -2) + 1_000.0
    order = np.argsort(-potential, kind="stable")
    tier = np.empty(accounts, dtype=object)
    tier[order] = "C"
    n_a, n_ab = round(0.1 * accounts), round(0.4 * accounts)
    tier[order[:n_a]] = "A"
    tier[order[n_a:n_ab]] = "B"
    customer_prob = np.where(tier == "A", 0.95, np.where(tier == "B", 0.7, 0.25))
    status = np.where(rng.random(accounts) < customer_prob, "customer", "prospect")
    base_hours = np.where(tier == "A", 120.0, np.where(tier == "B", 45.0, 14.0))
    service = base_hours * rng.lognormal(0.0, 0.25, accounts) * np.where(status == "prospect", 0.6, 1.0)

    # Reps: at least one per region, the rest proportional to service need.
    need = np.bincount(acc_region, weights=service, minlength=regions)
    share = need / need.sum()
    per_region = np.ones(regions, dtype=int) + np.floor(share * (reps - regions)).astype(int)
    remainder = (share * (reps - regions)) - np.floor(share * (reps - regions))
    for r in np.argsort(-remainder)[: reps - per_region.sum()]:
        per_region[r] += 1
    rep_region = np.repeat(np.arange(regions), per_region)
    rep_city = np.array([rng.choice(cities_per_region, p=city_weight[r]) for r in rep_region], dtype=np.int64)
    rep_xy = city[rep_region, rep_city] + rng.normal(0.0, [0.05, 0.07], size=(reps, 2))
    rep_tier = _pick(rng, _TIER_MIX, reps)
    rep_role = _pick(rng, _ROLE_MIX, reps)
    tiers = _tiers()
    hours_week = np.array([tiers[t].hours_per_week for t in rep_tier])
    salary_mid = {"junior": 45_000.0, "mid": 60_000.0, "senior": 80_000.0}
    salary = np.round(np.array([salary_mid[t] for t in rep_tier]) * rng.uniform(0.9, 1.1, reps), -2)
    years_in = {"junior": (0.0, 2.0), "mid": (1.5, 6.0), "senior": (4.0, 15.0)}
    tenure_days = np.array([rng.uniform(*years_in[t]) * 365.25 for t in rep_tier])
    hire = [start - dt.timedelta(days=int(d)) for d in tenure_days]

    # Service need is scaled so reps carry ~75 % of their yearly hours in account service.
    weeks = CalendarSettings(start=start).weeks_per_year
    service *= 0.75 * (hours_week.sum() * weeks) / service.sum()
    service = np.round(service, 1)

    # Today's assignment: history left it roughly, not exactly, balanced: accounts (largest first) go to the
    # nearest rep of the region with room under 120 % of the region's mean load, then 15 % of accounts sit
    # with another rep of the region, and 20 % of prospects are unassigned.
    current = np.empty(accounts, dtype=np.int64)
    for r in range(regions):
        a_idx = np.flatnonzero(acc_region == r)
        r_idx = np.flatnonzero(rep_region == r)
        if a_idx.size == 0:
            continue
        dist = great_circle_km(acc_xy[a_idx, 0][:, None], acc_xy[a_idx, 1][:, None],
                               rep_xy[r_idx, 0][None, :], rep_xy[r_idx, 1][None, :])
        cap = 1.2 * service[a_idx].sum() / r_idx.size
        load = np.zeros(r_idx.size)
        for k in np.argsort(-service[a_idx], kind="stable"):
            room = load + service[a_idx[k]] <= cap
            j = int(np.argmin(np.where(room, dist[k], np.inf))) if room.any() else int(np.argmin(load))
            load[j] += service[a_idx[k]]
            current[a_idx[k]] = r_idx[j]
        noise = rng.random(a_idx.size) < 0.15
        current[a_idx[noise]] = rng.choice(r_idx, size=int(noise.sum()))
    rep_ids = [f"R{i + 1:04d}" for i in range(reps)]
    acc_ids = [f"A{i + 1:06d}" for i in range(accounts)]
    unassigned = (status == "prospect") & (rng.random(accounts) < 0.2)
    current_ids = [None if unassigned[i] else rep_ids[int(current[i])] for i in range(accounts)]

    first = rng.integers(0, len(_FIRST), reps)
    last = rng.integers(0, len(_LAST), reps)
    rep_frame = pd.DataFrame({
        "rep_id": rep_ids,
        "name": [f"{_FIRST[first[i]]} {_LAST[last[i]]}" for i in range(reps)],
        "tier": list(rep_tier),
        "role": list(rep_role),
        "region": [region_names[r] for r in rep_region],
        "latitude": np.round(rep_xy[:, 0], 5),
        "longitude": np.round(rep_xy[:, 1], 5),
        "hours_per_week": hours_week,
        "base_salary": salary,
        "hire_date": pd.to_datetime(pd.Series(hire)).to_numpy(dtype="datetime64[ns]"),
        "plan_id": ["flat_commission"] * reps,
    }).set_index("rep_id")
    seg = rng.integers(0, len(_SEGMENTS), accounts)
    acc_frame = pd.DataFrame({
        "account_id": acc_ids,
        "name": _company_names(rng, accounts),
        "tier": list(tier),
        "segment": [_SEGMENTS[s] for s in seg],
        "region": [region_names[r] for r in acc_region],
        "latitude": np.round(acc_xy[:, 0], 5),
        "longitude": np.round(acc_xy[:, 1], 5),
        "annual_potential": potential,
        "service_hours_per_year": service,
        "status": list(status),
        "current_rep_id": current_ids,
    }).set_index("account_id")

    product_list = list(_PRODUCTS[:products]) + [
        (f"product_{i + 1}", f"Product {i + 1}", 20_000.0, 0.5, 0.1) for i in range(len(_PRODUCTS), products)]
    product_settings = {pid: ProductSettings(name=pname, price=price, margin=margin, mix=mix)
                        for pid, pname, price, margin, mix in product_list}
    revenue_weight = np.array([p.price * p.mix for p in product_settings.values()])
    product_share = _shares(revenue_weight)
    region_pot = np.bincount(acc_region, weights=potential, minlength=regions)

    def build(annual: float, region_share: list[float]) -> Settings:
        monthly_scale = float(np.round(annual * 0.004 / (4 * regions), -2)) or 100.0
        channels = _channels(monthly_scale, accounts / regions / _CURVE_REGION_ACCOUNTS)
        default_total = sum(c.default_monthly_spend for c in channels.values()) * regions * months
        return Settings(
            name=name or f"generated-{reps}x{accounts}-s{seed}",
            description=f"Synthetic scenario: {reps} reps, {accounts} accounts, {regions} regions, seed {seed}.",
            calendar=CalendarSettings(start=start, months=months, seasonality=_SEASONALITY),
            funnel=FunnelSettings(stages=[StageSettings(id=i, name=n, conversion=c, mean_days=d, spread=0.5,
                                                        effort_hours=h) for i, n, c, d, h in _STAGES],
                                  stall_days=45.0),
            tiers=_tiers(annual * 1.1 / reps),
            products=product_settings,
            targets=TargetSettings(annual=annual, over_assignment=1.1,
                                   by_product=dict(zip(product_settings, product_share, strict=True)),
                                   by_region=dict(zip(region_names, region_share, strict=True))),
            channels=channels,
            budget=BudgetSettings(total=float(np.round(default_total * 1.2, -3))),
            plans=_plans(),
            optimizer=OptimizerSettings(travel_weight=2.0, disruption_weight=0.05,
                                        balance=[BalanceBand(attribute="hours", min=0.9, max=1.1)],
                                        max_moved_share=0.15),
            simulation=SimulationSettings(),
        )

    # The target is built bottom-up: what today's territories are expected to sell in a year (the skill model,
    # which does not depend on the target), split over regions by the same figure; tier quota bounds and the
    # marketing spend axis then scale with it.
    draft = Scenario(settings=build(max(float(potential.sum()), 10_000.0), _shares(region_pot)), reps=rep_frame,
                     accounts=acc_frame, source="generated")
    expected = expected_sales(draft, Plan.current(draft).assignment)
    _, _, share_of_year = horizon_weights(draft)
    by_region = expected.groupby("region")["expected_sales"].sum().reindex(region_names, fill_value=0.0)
    annual = max(float(np.round(by_region.sum() / share_of_year, -4)), 10_000.0)
    region_share = _shares(by_region.to_numpy()) if by_region.sum() > 0 else _shares(region_pot)
    return Scenario(settings=build(annual, region_share), reps=rep_frame, accounts=acc_frame, source="generated")


def _shares(weights: np.ndarray) -> list[float]:
    """Shares rounded to 4 decimals that sum to exactly 1 (the remainder goes to the largest)."""
    raw = np.round(weights / weights.sum(), 4)
    raw[int(np.argmax(raw))] += 1.0 - raw.sum()
    return [float(round(x, 10)) for x in raw]
