"""Synthetic scenarios of any size from a seed: clustered geography, heavy-tailed account potential, a tier mix of
reps and accounts, a plausible funnel, channels and pay plans.

The numbers are chosen to look like a mid-sized B2B sales organisation: about 10 % of accounts are key (A)
customers holding about half the potential, service need rises with tier, reps carry roughly 70-80 % of
their yearly hours in account service, and today's assignment is the nearest rep in the region with some
historical noise (so it is unbalanced, as real territories are).

The allocator settings are feasible by construction: a witness plan that meets every one of them is built
first, and the settings are chosen so that it does (see ``_witness`` and ``_feasible``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scenarios.allocation import BalanceBand, OptimizerSettings
from scenarios.geography import great_circle_km
from scenarios.incentives import PayPlanSettings
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
from scenarios.skill import expected_sales, horizon_weights, productivity

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


def _pay_plans() -> dict[str, PayPlanSettings]:
    return {"flat_commission": PayPlanSettings(description="Base salary plus 5 % commission on every booking.",
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
        A scenario that passes ``check`` and whose allocator settings admit a plan: the hours band (per
        region) and the disruption budget are +-10 % and 15 %, widened only as far as a witness plan needs
        when a region's few or uneven accounts cannot be balanced that closely (see ``_feasible``).

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
    # One rep serves an account: with far fewer accounts than reps the scaling would ask more of one account than
    # a rep's year holds (and more than validation allows), so no account needs more than 75 % of the largest rep.
    service = np.minimum(service, 0.75 * hours_week.max() * weeks)
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
        "pay_plan_id": ["flat_commission"] * reps,
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
            pay_plans=_pay_plans(),
            optimizer=OptimizerSettings(travel_weight=2.0, disruption_weight=0.05,
                                        balance=[BalanceBand(attribute="hours", min=1 - _BAND, max=1 + _BAND,
                                                             scope="region")],
                                        max_moved_share=_MOVED_SHARE),
            simulation=SimulationSettings(),
        )

    # The target is built bottom-up: what today's territories are expected to sell in a year (the skill model,
    # which does not depend on the target), split over regions by the same figure; tier quota bounds and the
    # marketing spend axis then scale with it.
    # The allocator settings come first (``_feasible`` may scale service hours down, which the skill model's
    # coverage reads); they do not depend on the target.
    draft = _feasible(Scenario(settings=build(max(float(potential.sum()), 10_000.0), _shares(region_pot)),
                               reps=rep_frame, accounts=acc_frame, source="generated"))
    expected = expected_sales(draft, Plan.current(draft).assignment)
    _, _, share_of_year = horizon_weights(draft)
    by_region = expected.groupby("region")["expected_sales"].sum().reindex(region_names, fill_value=0.0)
    annual = max(float(np.round(by_region.sum() / share_of_year, -4)), 10_000.0)
    region_share = _shares(by_region.to_numpy()) if by_region.sum() > 0 else _shares(region_pot)
    final = build(annual, region_share).model_copy(update={"optimizer": draft.settings.optimizer})
    return draft.replace(settings=final)


# The allocator settings a generated scenario asks for when its accounts allow them: every rep's hours within
# +-10 % of its region's mean, and at most 15 % of today's potential moving to another rep. They widen only as far
# as the witness plan needs (rounded up to whole percent, plus half a percent of margin for solver tolerances).
_BAND = 0.10
_MOVED_SHARE = 0.15
_MARGIN = 0.005
# Service is scaled down in a region whose witness plan would load a rep above this share of its capacity.
_MAX_LOAD = 0.95


def _witness(hours: np.ndarray, current: np.ndarray, potential: np.ndarray, band: float) -> np.ndarray:
    """A plan of one region's accounts (local rep index per account) that moves little and is balanced.

    ``hours[a, j]`` is what rep j needs for account a, ``current[a]`` today's rep (-1 for none). Accounts with a
    rep keep it; the others go, largest first, to the rep with the lowest relative load. Then single moves are
    made while one lowers ``F = sum_j max(|L_j / m - 1| - band, 0)^2`` (``L_j`` the rep's hours, ``m`` the mean
    per rep the balance band uses: each account's hours averaged over the region's reps, summed, divided by the
    number of reps): each step takes the rep furthest outside the band and makes the move of one of its accounts
    out (or of another rep's account in) that lowers F most, preferring, among moves within half of the best
    improvement, the one that disturbs the least potential. Every step lowers F, so the search ends; it stops
    when F is 0 or no single move lowers it, and the plan it ends on need not be within ``band``.
    """
    n_acc, n_rep = hours.shape
    mean = float(hours.mean(axis=1).sum()) / n_rep
    owner = current.copy()
    rows = np.arange(n_acc)
    load = np.bincount(owner[owner >= 0], weights=hours[rows[owner >= 0], owner[owner >= 0]], minlength=n_rep)
    for a in sorted(np.flatnonzero(owner < 0).tolist(), key=lambda a: -float(hours[a].mean())):
        j = int(np.argmin((load + hours[a]) / mean))
        owner[a] = j
        load[j] += hours[a, j]
    if mean <= 0:
        return owner
    has = current >= 0

    def excess(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.maximum(np.abs(x / mean - 1.0) - band, 0.0) ** 2
        return out

    def disturbance(acc: np.ndarray, dest: np.ndarray) -> np.ndarray:
        """Change in moved potential when account ``acc[i]`` goes to rep ``dest[i, ...]``."""
        shape = (-1,) + (1,) * (dest.ndim - 1)
        now = (owner[acc] != current[acc]).astype(float).reshape(shape)
        after = (dest != current[acc].reshape(shape)).astype(float)
        change: np.ndarray = np.where(has[acc].reshape(shape), potential[acc].reshape(shape) * (after - now), 0.0)
        return change

    stuck: set[int] = set()
    for _ in range(50 * n_acc + 100):  # a safety bound; each step lowers F, so it ends well before
        e = excess(load)
        worst = [int(r) for r in np.argsort(-e, kind="stable") if e[r] > 0 and int(r) not in stuck]
        if not worst:
            break
        r = worst[0]
        if load[r] > mean:
            acc = np.flatnonzero(owner == r)
            delta = (excess(load[r] - hours[acc, r]) - e[r])[:, None] + excess(load[None, :] + hours[acc]) - e[None, :]
            delta[:, r] = np.inf
            cost = disturbance(acc, np.broadcast_to(np.arange(n_rep), (acc.size, n_rep)))
            flat = int(_pick_move(delta.ravel(), cost.ravel()))
            a, dest = int(acc[flat // n_rep]) if flat >= 0 else -1, flat % n_rep
        else:
            acc = np.flatnonzero(owner != r)
            src = owner[acc]
            delta = excess(load[src] - hours[acc, src]) - e[src] + excess(load[r] + hours[acc, r]) - e[r]
            cost = disturbance(acc, np.full(acc.size, r))
            k = int(_pick_move(delta, cost))
            a, dest = (int(acc[k]), r) if k >= 0 else (-1, r)
        if a < 0:
            stuck.add(r)
            continue
        load[owner[a]] -= hours[a, owner[a]]
        load[dest] += hours[a, dest]
        owner[a] = dest
        stuck.clear()
    return owner


def _pick_move(delta: np.ndarray, cost: np.ndarray) -> int:
    """The move to make: among moves within half of the best improvement of F, the one that disturbs the least
    potential (-1 when no move improves F)."""
    if delta.size == 0:
        return -1
    best = float(delta.min())
    if not best < -1e-12:
        return -1
    near = np.flatnonzero(delta <= 0.5 * best)
    return int(near[np.lexsort((delta[near], cost[near]))[0]])


def _feasible(scenario: Scenario) -> Scenario:
    """The scenario with allocator settings that a witness plan meets, so ``allocate`` always has a plan.

    Construction, per region (accounts are eligible for their region's reps only): the hours each rep needs per
    account come from the shared skill model (``scenarios.skill.productivity``), exactly as the allocator
    computes them. ``_witness`` starts from today's assignment and rebalances it toward the +-10 % band. Then

    - capacity: where the witness would load a rep above 95 % of its yearly hours, the region's service hours
      are scaled down so that it does not (relative workloads, and so the band, are unchanged by the scaling);
    - balance: the hours band (scope ``region``) is +-10 %, widened to the witness's largest relative deviation
      from its region's mean (rounded up to whole percent after half a percent of margin), which is what the
      discreteness of a region's account hours allows;
    - disruption: ``max_moved_share`` is 15 %, raised likewise to the share of today's potential the witness
      moves.

    Every account has an eligible rep (each region has at least one), so the witness covers every account.
    """
    reps, acc = scenario.reps, scenario.accounts
    kinds = (acc["status"].astype(str) + "_" + acc["tier"].astype(str)).to_numpy()
    prod = productivity(scenario)
    capacity = reps["hours_per_week"].to_numpy(dtype=float) * scenario.settings.calendar.weeks_per_year
    rep_region = reps["region"].to_numpy()
    acc_region = acc["region"].to_numpy()
    rep_pos = pd.Index(reps.index)
    current = rep_pos.get_indexer(pd.Index(acc["current_rep_id"].to_numpy(dtype=object)))
    potential = acc["annual_potential"].to_numpy(dtype=float)
    service = acc["service_hours_per_year"].to_numpy(dtype=float).copy()
    deviation, moved = 0.0, 0.0
    for region in pd.unique(acc_region):
        a_idx = np.flatnonzero(acc_region == region)
        r_idx = np.flatnonzero(rep_region == region)
        per_hour = 1.0 / prod.iloc[r_idx].to_numpy()  # (reps, kinds) hours per service hour
        kind_col = pd.Index(prod.columns).get_indexer(pd.Index(kinds[a_idx]))
        local = pd.Index(r_idx).get_indexer(current[a_idx])  # -1 for no rep today (or one of another region)
        plan = _witness(service[a_idx, None] * per_hour[:, kind_col].T, local, potential[a_idx], _BAND - _MARGIN)
        for _ in range(5):  # rounding to 0.1 h can leave a rep a hair over: scale again
            hours = service[a_idx, None] * per_hour[:, kind_col].T
            load = np.bincount(plan, weights=hours[np.arange(a_idx.size), plan], minlength=r_idx.size)
            worst = float((load / (_MAX_LOAD * capacity[r_idx])).max())
            if worst <= 1.0:
                break
            service[a_idx] = np.round(service[a_idx] / worst * 0.999, 1)
        mean = float(hours.mean(axis=1).sum()) / r_idx.size
        if mean > 0:
            deviation = max(deviation, float(np.abs(load / mean - 1.0).max()))
        has = local >= 0
        moved += float(potential[a_idx][has & (plan != local)].sum())
    today = float(potential[current >= 0].sum())
    band = max(_BAND, _round_up(deviation + _MARGIN))
    share = min(max(_MOVED_SHARE, _round_up(moved / today + _MARGIN) if today > 0 else 0.0), 1.0)
    opt = scenario.settings.optimizer.model_copy(update={
        "balance": [BalanceBand(attribute="hours", min=round(max(1.0 - band, 0.0), 2), max=round(1.0 + band, 2),
                                scope="region")],
        "max_moved_share": share})
    return scenario.replace(settings=scenario.settings.model_copy(update={"optimizer": opt}),
                            accounts=acc.assign(service_hours_per_year=service))


def _round_up(x: float) -> float:
    """Up to the next whole percent."""
    return float(np.ceil(round(x * 100.0, 9)) / 100.0)


def _shares(weights: np.ndarray) -> list[float]:
    """Shares rounded to 4 decimals that sum to exactly 1 (the remainder goes to the largest)."""
    raw = np.round(weights / weights.sum(), 4)
    raw[int(np.argmax(raw))] += 1.0 - raw.sum()
    return [float(round(x, 10)) for x in raw]
