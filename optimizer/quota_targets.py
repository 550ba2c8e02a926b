"""The quota total by region, period and product, and the pools of reps that carry it.

``split_target`` is the first step of quota setting (``optimizer.quotas.set_quotas``): the company target times
the over-assignment, decomposed top-down by period (seasonality), product and region, rounded to whole currency
units with exact sums. ``Pool`` is one such regional total with the reps who share it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios import Problem, Scenario, ScenarioError
from scenarios.skill import horizon_weights

__all__ = ["ALL", "Pool", "pools", "split_target"]

ALL = "(all)"  # pool name when the target is not split by region


@dataclass(frozen=True)
class Pool:
    """Reps that share one target pool (a region, or the whole company)."""

    name: str
    reps: np.ndarray  # positions in scenario.reps
    total: float  # currency

    @property
    def where(self) -> str:
        """The pool in planner words: ``the company`` or ``region <name>``."""
        return "the company" if self.name == ALL else f"region {self.name}"


def pools(scenario: Scenario, regions: np.ndarray, targets: pd.DataFrame) -> list[Pool]:
    """One pool per region of ``targets`` (or one company-wide pool), with the positions of its reps.

    ``regions`` is each rep's region in ``scenario.reps`` order.
    """
    pool_of_rep = regions if scenario.settings.targets.by_region else np.full(len(regions), ALL, dtype=object)
    totals = targets.groupby("region", sort=False)["target"].sum()
    return [Pool(str(g), np.flatnonzero(pool_of_rep == g), float(t)) for g, t in totals.items()]


def _largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    """Integers that sum to ``total`` and differ from ``values * total / sum(values)`` by less than one.

    Floors first, then the units still missing go to the largest remainders (ties to the first).
    """
    values = np.asarray(values, dtype=float)
    out = np.zeros(values.shape, dtype=np.int64)
    mass = float(values.sum())
    if total == 0 or mass <= 0:
        return out
    scaled = values * (total / mass)
    floor = np.floor(scaled + 1e-9).astype(np.int64)
    missing = int(total - floor.sum())
    if missing > 0:
        order = np.argsort(-(scaled - floor), kind="stable")
        floor[order[:missing]] += 1
    elif missing < 0:  # only from the 1e-9 guard on values a hair below an integer
        order = np.argsort(scaled - floor, kind="stable")
        floor[order[:-missing]] -= 1
    return floor


def _product_shares(scenario: Scenario) -> pd.Series:
    s = scenario.settings
    if s.targets.by_product:
        return pd.Series({p: s.targets.by_product.get(p, 0.0) for p in s.products}, dtype=float)
    weight = pd.Series({p: ps.price * ps.mix for p, ps in s.products.items()}, dtype=float)
    return weight / weight.sum() if weight.sum() > 0 else pd.Series(1.0 / len(weight), index=weight.index)


def _region_shares(scenario: Scenario) -> pd.Series | None:
    by_region = scenario.settings.targets.by_region
    if not by_region:
        return None
    rep_regions = sorted(set(scenario.reps["region"]))
    missing = [r for r in rep_regions if r not in by_region]
    if missing:
        raise ScenarioError(Problem(
            "scenario.toml", f"reps work in region '{missing[0]}' but targets.by_region gives it no share",
            f"add '{missing[0]}' to [targets.by_region] (shares summing to 1) or remove [targets.by_region]",
            column="targets.by_region", value=missing[0]))
    return pd.Series(by_region, dtype=float)


def split_target(scenario: Scenario, *, unit: float | None = None) -> pd.DataFrame:
    """The quota total (target x over-assignment) by region, period and product, in whole ``unit`` amounts.

    The horizon total is ``targets.annual * targets.over_assignment * h`` where ``h`` is the horizon's
    seasonality-weighted share of a year (1 for a 12-month horizon). It is split by period in proportion to the
    calendar seasonality, by product by ``targets.by_product`` (default: price x mix revenue shares) and by
    region by ``targets.by_region`` (default: one company-wide pool, region ``(all)``). Rounding is
    hierarchical largest-remainder: the total is rounded to the unit, then the period-product cells so they sum
    to it exactly, then the regions within each cell so they sum to the cell exactly.

    Parameters
    ----------
    scenario
        The scenario.
    unit
        Currency unit of the quotas; default ``scenario.settings.quotas.unit``.

    Returns
    -------
    pandas.DataFrame
        Columns ``region, period, product, target`` (a whole multiple of ``unit``).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> t = split_target(s)
    >>> float(t["target"].sum()) == round(s.settings.targets.annual * s.settings.targets.over_assignment)
    True
    """
    s = scenario.settings
    unit = s.quotas.unit if unit is None else unit
    periods, season, share_of_year = horizon_weights(scenario)
    total_units = round(s.targets.annual * s.targets.over_assignment * share_of_year / unit)
    products = _product_shares(scenario)
    cells = _largest_remainder(np.outer(season, products.to_numpy()).ravel(), total_units)
    regions = _region_shares(scenario)
    if regions is None:
        region_names, per_region = [ALL], cells[None, :]
    else:
        region_names = list(regions.index)
        per_region = np.stack([_largest_remainder(regions.to_numpy(), int(c)) for c in cells], axis=1)
    g, pk = np.meshgrid(np.arange(len(region_names)), np.arange(cells.size), indexing="ij")
    return pd.DataFrame({
        "region": np.asarray(region_names, dtype=object)[g.ravel()],
        "period": np.repeat(np.asarray(periods, dtype=object), len(products))[pk.ravel()],
        "product": np.tile(np.asarray(products.index, dtype=object), len(periods))[pk.ravel()],
        "target": per_region.ravel().astype(float) * unit,
    })
