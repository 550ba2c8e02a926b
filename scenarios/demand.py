"""Each account's demand at today's marketing spend: how many leads it brings a year and what one is worth, so
that the deals an account brings in a year add up to its ``annual_potential``.

``annual_potential`` is the account's yearly spend available to us: what its deals are worth in a year, and the
most it buys from us in a year. Leads reach an account two ways (the simulator draws them in ``sim.demand``):
a customer's repeat, renewal and upsell orders, ``simulation.repeat_orders_per_year`` of its tier; and
new-business leads from the marketing channels at their ``default_monthly_spend``, which land on the prospects
of the account's region in proportion to potential (on every account of the region when it has no prospect
with potential). One lead is worth ``annual_potential / max(leads a year, 1)``: an account bringing at least one
lead a year offers exactly its potential; one bringing fewer (a small prospect, a tier-C customer ordering every
other year) offers ``leads x potential``, its *reach* (``min(1, leads a year)``). More marketing than today brings
more leads of the same size, and the account's potential caps what it buys in a year.

Both the skill model (``scenarios.skill.expected_sales``: potential x reach x capture) and the simulator read
these figures, so a quota fitted to expected sales and the simulated revenue describe the same customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.marketing import expected_leads, region_weights
from scenarios.scenario import Scenario

__all__ = ["account_demand", "channel_leads", "new_business_pools"]


def new_business_pools(scenario: Scenario) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Where each region's new-business leads land: account positions and their probabilities.

    A region's prospects in proportion to ``annual_potential``; every account of the region (in proportion to
    potential, equally when all are zero) when the region has no prospect with potential.

    Returns
    -------
    dict
        ``region -> (positions in scenario.accounts, probabilities summing to 1)``; an empty pair for a region
        without accounts. Regions are ``scenario.regions``.

    Examples
    --------
    >>> import scenarios
    >>> pools = new_business_pools(scenarios.load("tiny"))
    >>> all(abs(w.sum() - 1.0) < 1e-12 for _, w in pools.values() if len(w))
    True
    """
    acc = scenario.accounts
    potential = acc["annual_potential"].to_numpy(dtype=float)
    region = acc["region"].to_numpy()
    customer = (acc["status"] == "customer").to_numpy()
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for reg in scenario.regions:
        in_region = np.flatnonzero(region == reg)
        prospects = in_region[~customer[in_region]]
        pool = prospects if len(prospects) and potential[prospects].sum() > 0 else in_region
        w = potential[pool]
        w = w / w.sum() if len(pool) and w.sum() > 0 else np.full(len(pool), 1.0 / max(len(pool), 1))
        out[reg] = (pool, w)
    return out


def channel_leads(scenario: Scenario) -> pd.DataFrame:
    """Expected new-business leads a year per region and channel at each channel's ``default_monthly_spend``.

    The sum over the twelve months of ``scenarios.expected_leads`` with the region's weight (its share of
    potential) and the calendar's demand seasonality (seasonality over its mean), as the simulator's warm-up and
    a run without a budget plan draw them.

    Examples
    --------
    >>> import scenarios
    >>> t = channel_leads(scenarios.load("tiny"))
    >>> t.index.tolist(), bool((t >= 0).all().all())
    (['North', 'South'], True)
    """
    st = scenario.settings
    acc = scenario.accounts
    regions = scenario.regions
    weights = region_weights({r: float(acc.loc[acc["region"] == r, "annual_potential"].sum()) for r in regions})
    seas = np.asarray(st.calendar.seasonality, dtype=float)
    demand_season = seas / seas.mean() if seas.mean() > 0 else np.ones(12)
    table = {cid: [sum(expected_leads(ch, ch.default_monthly_spend, moy, weights[reg], float(demand_season[moy - 1]))
                       for moy in range(1, 13)) for reg in regions]
             for cid, ch in st.channels.items()}
    return pd.DataFrame(table, index=pd.Index(regions, name="region"), dtype=float)


def account_demand(scenario: Scenario) -> pd.DataFrame:
    """Each account's leads a year at today's spend, the expected value of one lead, and its reach.

    ``repeat_leads`` = ``repeat_orders_per_year`` of the tier for a customer (0 for a prospect);
    ``new_leads`` = the region's new-business leads a year (``channel_leads`` summed over channels) times the
    account's probability in ``new_business_pools``; ``leads`` their sum; ``deal_value`` =
    ``annual_potential / max(leads, 1)`` (the simulator multiplies it by the product's price over the mix's mean
    price and a mean-1 lognormal noise); ``reach`` = ``min(1, leads)``, the share of its potential the account
    puts in play in a year, so ``leads x deal_value = reach x annual_potential``.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> d = account_demand(s)
    >>> offered = d["leads"] * d["deal_value"]
    >>> bool(np.allclose(offered, d["reach"] * s.accounts["annual_potential"]))
    True
    """
    st = scenario.settings
    acc = scenario.accounts
    potential = acc["annual_potential"].to_numpy(dtype=float)
    customer = (acc["status"] == "customer").to_numpy()
    repeat = acc["tier"].astype(str).map(st.simulation.repeat_orders_per_year).fillna(0.0).to_numpy(dtype=float)
    repeat = np.where(customer, repeat, 0.0)
    per_region = channel_leads(scenario).sum(axis=1)
    new = np.zeros(len(acc))
    for reg, (pool, w) in new_business_pools(scenario).items():
        new[pool] += float(per_region.get(reg, 0.0)) * w
    leads = repeat + new
    return pd.DataFrame({"repeat_leads": repeat, "new_leads": new, "leads": leads,
                         "deal_value": potential / np.maximum(leads, 1.0), "reach": np.minimum(leads, 1.0)},
                        index=acc.index)
