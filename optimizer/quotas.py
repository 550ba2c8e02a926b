"""Quota setting: the company target, decomposed top-down (region, period, product) and personalised per rep.

Pipeline, each step public and callable alone: ``ramp_factors`` (months in seat and ramp curve per rep and
period) -> ``expected_sales`` (territory potential and the skill model; both live in ``scenarios.skill`` so the
simulator's default quotas use the same model, and are re-exported here) -> ``split_target`` (target x
over-assignment by region, period and product, rounded to currency units with exact sums) -> ``set_quotas``
(rep totals by the chosen method within tier bounds, spread over periods and products, rounded so every
period-product total is exact, checked independently before it is returned).

Methods: ``even``, ``potential``, ``expected_sales`` (proportional, with tier bounds by water-filling),
``fair`` (a PuLP LP that minimises the largest relative deviation between a rep's quota share and expected-sales
share) and ``equal_probability`` (every rep gets the same chance of reaching quota, from simulated sales
samples passed in by the application layer).
"""

from __future__ import annotations

import enum
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp

from optimizer.solvers import make_solver
from scenarios import Problem, Scenario, ScenarioError, write_atomic, write_csv
from scenarios.plan import QUOTA_COLUMNS
from scenarios.quotas import QUOTA_METHODS
from scenarios.skill import expected_sales, horizon_weights, ramp_factors

__all__ = [
    "QuotaError",
    "QuotaResult",
    "QuotaSolverError",
    "QuotaStatus",
    "expected_sales",
    "ramp_factors",
    "set_quotas",
    "split_target",
]

_ALL = "(all)"  # block name when the target is not split by region


class QuotaError(ValueError):
    """The quota problem has no solution: the target cannot be met within the tier bounds (or similar).

    The message says which region, how much is needed, how much the bounds allow and what to change.
    """


class QuotaSolverError(RuntimeError):
    """The solver failed, or its answer did not pass the independent check; nothing was written."""


class QuotaStatus(enum.StrEnum):
    """How a quota result was obtained.

    ``optimal``: the fair LP was solved to proven optimality (an LP has no gap) and passed the independent
    check. ``solved``: a direct method (no optimisation) met every constraint, or the fair LP's totals had to
    be moved to cover months with few reps in seat (then the LP optimum no longer describes the result, and a
    warning says so).
    """

    OPTIMAL = "optimal"
    SOLVED = "solved"


# ----------------------------------------------------------------------------------------------------------
# Step 3: the target by region, period and product


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
        region_names, per_region = [_ALL], cells[None, :]
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


# ----------------------------------------------------------------------------------------------------------
# Step 4: rep totals by method


@dataclass(frozen=True)
class _Block:
    """Reps that share one target pool (a region, or the whole company)."""

    name: str
    reps: np.ndarray  # positions in scenario.reps
    total: float  # currency


def _bounds(scenario: Scenario, ramp: pd.Series, share_of_year: float, unit: float) -> tuple[np.ndarray, np.ndarray]:
    """Tier bounds over the horizon, pro-rated by ramp, as whole units (min rounded up, max down)."""
    tiers = scenario.settings.tiers
    lo = np.array([(tiers[t].min_quota or 0.0) for t in scenario.reps["tier"]]) * share_of_year * ramp.to_numpy()
    hi = np.array([math.inf if tiers[t].max_quota is None else tiers[t].max_quota
                   for t in scenario.reps["tier"]]) * share_of_year * ramp.to_numpy()
    lo_u = np.ceil(lo / unit - 1e-9)
    hi_u = np.where(np.isfinite(hi), np.floor(hi / unit + 1e-9), math.inf)
    # A ramping rep whose pro-rated band is narrower than one unit keeps the nearest whole unit.
    narrow = lo_u > hi_u
    lo_u[narrow] = hi_u[narrow] = np.round((lo[narrow] + hi[narrow]) / 2 / unit)
    return lo_u * unit, hi_u * unit


def _money(x: float) -> str:
    return "unbounded" if not math.isfinite(x) else f"{x:,.0f}"


def _check_feasible(scenario: Scenario, blocks: list[_Block], lo: np.ndarray, hi: np.ndarray) -> None:
    """Raise ``QuotaError`` when a pool's total lies outside the sum of its reps' (ramp pro-rated) tier bounds.

    Feasibility of the rep totals is exactly ``sum_r lo_r <= T_g <= sum_r hi_r`` for every pool ``g``.
    """
    s = scenario.settings
    for b in blocks:
        where = "the company" if b.name == _ALL else f"region {b.name}"
        tiers = scenario.reps["tier"].iloc[b.reps].value_counts().reindex(list(s.tiers)).dropna().astype(int)
        mix = ", ".join(f"{n} {t}" for t, n in tiers.items() if n > 0)
        head = (f"{where}'s quota total {_money(b.total)} (target {_money(s.targets.annual)} x over-assignment "
                f"{s.targets.over_assignment:g}")
        head += ")" if b.name == _ALL else f" x region share {s.targets.by_region[b.name]:.4g})"
        if len(b.reps) == 0:
            if b.total > 0:
                raise QuotaError(f"{head} has no rep to carry it. Fix: give region {b.name} reps, or set its "
                                 "share in [targets.by_region] to 0")
            continue
        upper, lower = float(hi[b.reps].sum()), float(lo[b.reps].sum())
        if b.total > upper + 1e-6:
            raise QuotaError(
                f"{head} is more than its {len(b.reps)} reps ({mix}) may carry: their tiers' max_quota, "
                f"pro-rated for ramp-up, add up to {_money(upper)}. Fix: raise max_quota in [tiers], lower "
                "targets.annual or targets.over_assignment, or add reps")
        if b.total < lower - 1e-6:
            raise QuotaError(
                f"{head} is less than its {len(b.reps)} reps ({mix}) must carry: their tiers' min_quota, "
                f"pro-rated for ramp-up, add up to {_money(lower)}. Fix: lower min_quota in [tiers], raise "
                "targets.annual or targets.over_assignment, or move reps to another region")


def _monotone_fill(value_at: Callable[[float], np.ndarray], total: float, lo_x: float, hi_x: float,
                   increasing: bool) -> tuple[float, np.ndarray]:
    """Bisection on a scalar ``x`` so that ``sum(value_at(x))`` equals ``total`` (the sum is monotone in x)."""
    for _ in range(200):
        mid = 0.5 * (lo_x + hi_x)
        too_much = value_at(mid).sum() > total
        if too_much == increasing:
            hi_x = mid
        else:
            lo_x = mid
        if hi_x - lo_x <= 1e-15 * max(1.0, abs(hi_x)):
            break
    x = 0.5 * (lo_x + hi_x)
    return x, value_at(x)


def _settle(q: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float, weight: np.ndarray) -> np.ndarray:
    """Move the last (tiny) residual of a bisection onto reps with room, in proportion to ``weight``."""
    q = np.clip(q, lo, hi)
    for _ in range(len(q) + 1):
        residual = total - q.sum()
        if abs(residual) <= 1e-9 * max(1.0, abs(total)):
            break
        room = (hi - q) if residual > 0 else (q - lo)
        room = np.where(np.isfinite(room), room, 1e300)
        w = np.where(room > 1e-12, np.maximum(weight, 1e-12), 0.0)
        if w.sum() <= 0:
            break
        step = np.minimum(room, abs(residual) * w / w.sum())
        q = q + np.sign(residual) * step
    return q


def _proportional(weight: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """Quotas ``clip(lambda * w_r, lo_r, hi_r)`` with lambda chosen so they sum to ``total`` (water-filling)."""
    w = np.maximum(weight, 0.0)
    if w.sum() <= 0:
        w = np.ones_like(w)
    finite_hi = np.where(np.isfinite(hi), hi, 0.0)
    top = max(float(np.max(np.where(w > 0, np.maximum(finite_hi, lo) / np.where(w > 0, w, 1.0), 0.0))),
              total / float(w.sum())) * 2.0 + 1.0
    _, q = _monotone_fill(lambda lam: np.clip(lam * w, lo, hi), total, 0.0, top, increasing=True)
    return _settle(q, lo, hi, total, w)


def _quantiles(sorted_samples: np.ndarray, level: float) -> np.ndarray:
    """Row-wise empirical quantile at ``level`` (linear interpolation, as ``numpy.quantile``)."""
    n = sorted_samples.shape[1]
    pos = level * (n - 1)
    i = min(math.floor(pos), n - 1)
    j = min(i + 1, n - 1)
    out: np.ndarray = sorted_samples[:, i] + (pos - i) * (sorted_samples[:, j] - sorted_samples[:, i])
    return out


def _equal_probability(sorted_samples: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                       total: float) -> tuple[np.ndarray, float]:
    """Quotas with a common chance ``p`` of being reached, ``q_r = clip(Q_r(1 - p), lo_r, hi_r)``.

    ``Q_r`` is rep r's empirical quantile function of simulated sales; the sum of quotas falls as ``p`` rises,
    so ``p`` is found by bisection on [0, 1]. Bounds win over equal chances: a rep held at a bound has a
    different chance, reported per rep.
    """
    p, q = _monotone_fill(lambda p: np.clip(_quantiles(sorted_samples, 1.0 - p), lo, hi), total, 0.0, 1.0,
                          increasing=False)
    return _settle(q, lo, hi, total, np.maximum(q, 1.0)), p


def _fair_lp(shares: np.ndarray, lo: np.ndarray, hi: np.ndarray, blocks: list[_Block], solver: str,
             time_limit: float) -> tuple[np.ndarray, float]:
    """The fair LP, in quota shares ``x_r = q_r / T_g`` of the rep's pool ``g``.

    Stage 1 minimises ``z``, the largest relative deviation from the expected-sales share ``e_r``:

    - ``x_r - e_r <= z e_r`` and ``e_r - x_r <= z e_r`` for every rep with ``e_r > 0``
      (``_deviation_rows``);
    - ``sum_{r in g} x_r = 1`` for every pool (``_pool_rows``);
    - ``lo_r / T_g <= x_r <= hi_r / T_g`` (tier bounds pro-rated by ramp, as variable bounds).

    Stage 2 keeps ``z <= z*`` and minimises ``sum_r |x_r - s_g e_r|``, the total deviation from a common scale
    ``s_g >= 0`` of the shares in each pool (``_scale_rows``): when bounds force some reps off their share (a
    tier's min_quota above a junior's share), the others give way in proportion to their expected sales, as
    water-filling does, instead of wherever the solver's first optimal vertex puts the difference (every split
    of it has the same total ``sum_r |x_r - e_r|``, so that objective left the answer to the solver).
    """
    prob = pulp.LpProblem("fair_quotas", pulp.LpMinimize)
    n = len(shares)
    x: list[Any] = [None] * n
    for b in blocks:
        for r in b.reps:
            up = hi[r] / b.total if math.isfinite(hi[r]) and b.total > 0 else None
            x[r] = prob.add_variable(f"x_{r}", lowBound=lo[r] / b.total if b.total > 0 else 0.0, upBound=up)
    z = prob.add_variable("z", lowBound=0.0)
    dev = [prob.add_variable(f"d_{r}", lowBound=0.0) for r in range(n)]
    prob += pulp.LpAffineExpression([(z, 1.0)])
    _pool_rows(prob, x, blocks)
    _deviation_rows(prob, x, z, dev, shares)
    status = prob.solve(make_solver(solver, time_limit))
    _check_status(prob, status, "fair LP (stage 1)")
    z_star = float(z.value())
    prob += (pulp.LpAffineExpression([(z, 1.0)]) <= z_star * (1.0 + 1e-7) + 1e-9, "keep_z")
    scaled = [prob.add_variable(f"g_{r}", lowBound=0.0) for r in range(n)]
    _scale_rows(prob, x, scaled, shares, blocks)
    prob.setObjective(pulp.LpAffineExpression([(d, 1.0) for d in scaled]))
    status = prob.solve(make_solver(solver, time_limit))
    _check_status(prob, status, "fair LP (stage 2)")
    out = np.zeros(n)
    for b in blocks:
        for r in b.reps:
            out[r] = float(x[r].value()) * b.total
    return out, z_star


def _pool_rows(prob: pulp.LpProblem, x: list[Any], blocks: list[_Block]) -> None:
    """``sum_{r in g} x_r = 1``: each pool's quotas add up to its total."""
    for b in blocks:
        if len(b.reps):
            prob += (pulp.LpAffineExpression([(x[r], 1.0) for r in b.reps]) == 1.0, f"pool_{len(prob.name)}_"
                     f"{int(b.reps[0])}")


def _deviation_rows(prob: pulp.LpProblem, x: list[Any], z: Any, dev: list[Any], shares: np.ndarray) -> None:
    """``|x_r - e_r| <= z e_r`` (relative deviation, reps with ``e_r > 0``) and ``d_r >= |x_r - e_r|``."""
    for r, e in enumerate(shares):
        if e > 0:
            prob += (pulp.LpAffineExpression([(x[r], 1.0), (z, -e)]) <= e, f"over_{r}")
            prob += (pulp.LpAffineExpression([(x[r], -1.0), (z, -e)]) <= -e, f"under_{r}")
        prob += (pulp.LpAffineExpression([(x[r], 1.0), (dev[r], -1.0)]) <= e, f"dev_over_{r}")
        prob += (pulp.LpAffineExpression([(x[r], -1.0), (dev[r], -1.0)]) <= -e, f"dev_under_{r}")


def _scale_rows(prob: pulp.LpProblem, x: list[Any], dev: list[Any], shares: np.ndarray,
                blocks: list[_Block]) -> None:
    """``dev_r >= |x_r - s_g e_r|`` with one free scale ``s_g >= 0`` per pool ``g``."""
    for k, b in enumerate(blocks):
        s = prob.add_variable(f"s_{k}", lowBound=0.0)
        for r in b.reps:
            e = float(shares[r])
            prob += (pulp.LpAffineExpression([(x[r], 1.0), (s, -e), (dev[r], -1.0)]) <= 0.0, f"scale_over_{r}")
            prob += (pulp.LpAffineExpression([(x[r], -1.0), (s, e), (dev[r], -1.0)]) <= 0.0, f"scale_under_{r}")


def _check_status(prob: pulp.LpProblem, status: int, what: str) -> None:
    if status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal:
        return
    if status == pulp.LpStatusInfeasible:
        raise QuotaError(f"the {what} has no solution although every pool's total lies within its reps' "
                         "bounds; please report this scenario")
    raise QuotaSolverError(f"the solver did not prove the {what} optimal (status "
                           f"{pulp.LpStatus.get(status, status)}); try --solver cbc or a longer "
                           "optimizer.time_limit_s")


# ----------------------------------------------------------------------------------------------------------
# Step 5: spread over periods and products, then round


def _spread(q: np.ndarray, profile: np.ndarray, period_totals: np.ndarray, lo: np.ndarray, hi: np.ndarray,
            block: str, solver: str, time_limit: float) -> tuple[np.ndarray, bool]:
    """Rep x period amounts with row sums ``q`` and column sums ``period_totals`` (iterative proportional fitting).

    The seed is each rep's own seasonality x ramp profile; IPF keeps it as close as the margins allow (it is the
    minimum Kullback-Leibler adjustment of the seed), so ramping reps get little in their first months.

    When hire dates make the margins incompatible (e.g. one rep in seat must carry ten months alone but the
    method gave them less), the rep totals are first moved as little as possible by ``_feasible_totals``; the
    second return value says whether that happened.
    """
    allowed = profile > 0
    uncovered = (~allowed).all(axis=0) & (period_totals > 0)
    if uncovered.any():
        raise QuotaError(f"{'the company' if block == _ALL else 'region ' + block} has a target in period "
                         f"#{int(np.flatnonzero(uncovered)[0]) + 1} but no rep in seat then. "
                         "Fix: check hire dates, or give that region a 0 share in [targets.by_region]")
    a, converged = _ipf(q, profile, period_totals)
    if converged:
        return a, False
    q = _feasible_totals(q, allowed, period_totals, lo, hi, block, solver, time_limit)
    a, converged = _ipf(q, profile, period_totals)
    return a, True


def _ipf(q: np.ndarray, profile: np.ndarray, period_totals: np.ndarray) -> tuple[np.ndarray, bool]:
    row_mass = profile.sum(axis=1, keepdims=True)
    a = q[:, None] * profile / np.where(row_mass > 0, row_mass, 1.0)
    tol = 1e-9 * max(1.0, float(period_totals.sum()))
    for _ in range(3000):
        col = a.sum(axis=0)
        if (col <= 0).any() and (period_totals[col <= 0] > 0).any():
            return a, False
        a = a * np.where(col > 0, period_totals / np.where(col > 0, col, 1.0), 0.0)[None, :]
        row = a.sum(axis=1)
        a = a * np.where(row > 0, q / np.where(row > 0, row, 1.0), 0.0)[:, None]
        if np.abs(a.sum(axis=0) - period_totals).max() <= tol:
            return a, True
    return a, bool(np.abs(a.sum(axis=0) - period_totals).max() <= 1e-6 * max(1.0, float(period_totals.sum())))


def _feasible_totals(q: np.ndarray, allowed: np.ndarray, period_totals: np.ndarray, lo: np.ndarray,
                     hi: np.ndarray, block: str, solver: str, time_limit: float) -> np.ndarray:
    """Rep totals ``t`` closest to ``q`` (least total absolute change) that can be spread over the months.

    LP over amounts ``a_rm >= 0`` on the months rep r is in seat: ``_month_total_rows`` (each month's total is
    met), ``_rep_total_rows`` (``t_r = sum_m a_rm`` with ``lo_r <= t_r <= hi_r``) and
    ``u_r >= |t_r - q_r|``; minimise a convex piecewise-linear penalty of the relative change
    ``sum_r sum_k c_k u_rk / q_r`` with ``u_r = sum_k u_rk``, ``0 <= u_rk <= w_k q_r`` and rising costs
    ``c_k`` (bands of 1, 2, 5, 10, 20, 30, 50, 75, 100 % and beyond): changes are spread over reps in similar
    situations instead of landing on one of them, as a plain ``sum |t_r - q_r|`` would.
    """
    prob = pulp.LpProblem("quota_months", pulp.LpMinimize)
    cells = [(r, m) for r, m in zip(*np.nonzero(allowed), strict=True)]
    amount = {rm: prob.add_variable(f"a_{rm[0]}_{rm[1]}", lowBound=0.0) for rm in cells}
    total = [prob.add_variable(f"t_{r}", lowBound=float(lo[r]),
                               upBound=float(hi[r]) if math.isfinite(hi[r]) else None) for r in range(len(q))]
    change = [prob.add_variable(f"u_{r}", lowBound=0.0) for r in range(len(q))]
    prob += pulp.LpAffineExpression(_change_band_rows(prob, change, q))
    _month_total_rows(prob, amount, period_totals)
    _rep_total_rows(prob, amount, total, change, q)
    status = prob.solve(make_solver(solver, time_limit))
    if status == pulp.LpStatusInfeasible:
        where = "the company" if block == _ALL else f"region {block}"
        raise QuotaError(f"in {where} the months when few reps are in seat need more than those reps' max_quota "
                         "(pro-rated for ramp-up) allows. Fix: check hire dates, raise max_quota in [tiers], or "
                         "lower the target")
    _check_status(prob, status, "month-spreading LP")
    return np.array([float(t.value()) for t in total])


def _change_band_rows(prob: pulp.LpProblem, change: list[Any], q: np.ndarray) -> list[tuple[Any, float]]:
    """``u_r = sum_k u_rk`` with ``0 <= u_rk <= (e_{k+1} - e_k) q_r`` for band edges ``e`` (relative change 0, 1,
    2, 5, 10, 20, 30, 50, 75, 100 %, unbounded last band); returns the objective terms ``(k + 1) u_rk / q_r``,
    a convex piecewise-linear penalty of each rep's relative change (``q_r`` floored at 0.1 % of the mean)."""
    scale = np.maximum(q, 1e-3 * max(1.0, float(np.mean(q))))
    edges = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0]
    cost: list[tuple[Any, float]] = []
    for r in range(len(q)):
        bands = []
        for k in range(len(edges)):
            width = (edges[k + 1] - edges[k]) * scale[r] if k + 1 < len(edges) else None
            band = prob.add_variable(f"b_{r}_{k}", lowBound=0.0, upBound=width)
            bands.append((band, 1.0))
            cost.append((band, (k + 1) / scale[r]))
        prob += (pulp.LpAffineExpression([*bands, (change[r], -1.0)]) == 0.0, f"bands_{r}")
    return cost


def _month_total_rows(prob: pulp.LpProblem, amount: dict[tuple[int, int], Any], period_totals: np.ndarray) -> None:
    """``sum_r a_rm = T_m`` for every month m of the pool."""
    by_month: dict[int, list[tuple[Any, float]]] = {}
    for (_, m), var in amount.items():
        by_month.setdefault(int(m), []).append((var, 1.0))
    for m, terms in by_month.items():
        prob += (pulp.LpAffineExpression(terms) == float(period_totals[m]), f"month_{m}")


def _rep_total_rows(prob: pulp.LpProblem, amount: dict[tuple[int, int], Any], total: list[Any],
                    change: list[Any], q: np.ndarray) -> None:
    """``t_r = sum_m a_rm`` and ``u_r >= t_r - q_r``, ``u_r >= q_r - t_r`` for every rep r."""
    by_rep: dict[int, list[tuple[Any, float]]] = {r: [] for r in range(len(q))}
    for (r, _), var in amount.items():
        by_rep[int(r)].append((var, 1.0))
    for r, terms in by_rep.items():
        prob += (pulp.LpAffineExpression([*terms, (total[r], -1.0)]) == 0.0, f"rep_{r}")
        prob += (pulp.LpAffineExpression([(total[r], 1.0), (change[r], -1.0)]) <= float(q[r]), f"up_{r}")
        prob += (pulp.LpAffineExpression([(total[r], -1.0), (change[r], -1.0)]) <= -float(q[r]), f"down_{r}")


def _round_columns(x: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Round every column of ``x`` (units) to integers summing exactly to its integer target (largest remainder)."""
    col = x.sum(axis=0)
    scaled = x * np.where(col > 0, targets / np.where(col > 0, col, 1.0), 0.0)[None, :]
    floor = np.floor(scaled + 1e-9)
    missing = (targets - floor.sum(axis=0)).astype(np.int64)
    order = np.argsort(-(scaled - floor), axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(x.shape[0])[:, None].repeat(x.shape[1], axis=1), axis=0)
    out: np.ndarray = (floor + (rank < missing[None, :])).astype(np.int64)
    return out


def _repair_bounds(y: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Move single units within a column between reps until every rep total lies in [lo, hi] (whole units).

    Rounding can push a rep at a bound a few units over; a unit moves from that rep to the rep of the same
    column that lost most by rounding and has room, so column sums stay exact.
    """
    y = y.copy()
    for _ in range(10 * y.shape[0] * y.shape[1] + 10):
        total = y.sum(axis=1)
        over = np.flatnonzero(total > hi + 1e-9)
        under = np.flatnonzero(total < lo - 1e-9)
        if len(over) == 0 and len(under) == 0:
            return y
        if len(over):
            r = int(over[0])
            cols = np.flatnonzero(y[r] > 0)
            j = int(cols[np.argmax((y[r] - x[r])[cols])])
            room = (total < hi - 1e-9)
            room[r] = False
            if not room.any():
                break
            gain = np.where(room, x[:, j] - y[:, j], -np.inf)
            s = int(np.argmax(gain))
            y[r, j] -= 1
            y[s, j] += 1
        else:
            r = int(under[0])
            room = (total > lo + 1e-9) & (y.sum(axis=1) > 0)
            room[r] = False
            if not room.any():
                break
            gain = np.where(room[:, None] & (y > 0), y - x, -np.inf)
            s2, j2 = np.unravel_index(int(np.argmax(gain)), gain.shape)
            y[s2, j2] -= 1
            y[r, j2] += 1
    raise QuotaSolverError("rounding quotas to whole units could not keep every rep within the tier bounds; "
                           "set quotas.unit smaller or widen the bounds")


# ----------------------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True, eq=False)
class QuotaResult:
    """Rep quotas by period and product, with the per-rep gap analysis.

    Parameters
    ----------
    quotas
        Columns ``rep_id, period, product, quota`` (whole units); what goes into ``scenarios.Plan.quotas``.
    reps
        Index ``rep_id``: ``region, tier, accounts, potential, productivity, coverage, ramp, expected_sales,
        min_quota, max_quota, quota, share_of_potential, relative_deviation, attainment_probability, flagged``.
        ``min_quota``/``max_quota`` are the tier bounds over the horizon pro-rated by ramp; ``flagged`` marks
        quotas above ``max_potential_share`` of the territory potential.
    targets
        Columns ``region, period, product, target``: the pool totals the quotas sum to exactly.
    method, status
        Method used and how the result was obtained (``QuotaStatus``).
    target, over_assignment, total
        Company annual target, over-assignment factor, and the sum of all quotas.
    max_relative_deviation
        Largest ``|quota share / expected-sales share - 1|`` over reps with expected sales (after rounding).
    attainment_probability
        For ``equal_probability``: the common chance of reaching quota per pool; empty otherwise.
    warnings
        Planner-worded findings (flagged reps, low chances).
    seconds, solver
        Wall time and the LP solver (``fair`` only).
    lp_objective
        ``fair`` only: the LP's proven optimal largest relative deviation (before rounding).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> r = set_quotas(s, scenarios.Plan.current(s).assignment, method="potential")
    >>> print(repr(r)[:60])
    QuotaResult(potential, solved): 6 reps, 12 periods x 3 produ
    >>> r.summary()["quota_total"]
    770000.0
    """

    quotas: pd.DataFrame
    reps: pd.DataFrame
    targets: pd.DataFrame
    method: str
    status: QuotaStatus
    target: float
    over_assignment: float
    total: float
    max_relative_deviation: float
    attainment_probability: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    solver: str | None = None
    lp_objective: float | None = None

    def summary(self) -> dict[str, Any]:
        """The headline figures as a JSON-ready dict (what ``quotaflow quotas`` writes to summary.json).

        For ``fair`` it carries the LP's proven optimum (``objective``: the smallest possible largest relative
        deviation before rounding to whole units), its ``bound`` (the same: an LP solved to optimality has no
        gap) and ``gap`` 0; other methods solve no optimisation problem and report ``null`` there.
        """
        return {
            "kind": "quotas",
            "method": self.method,
            "status": str(self.status),
            "solver": self.solver,
            "target": self.target,
            "over_assignment": self.over_assignment,
            "quota_total": self.total,
            "reps": len(self.reps),
            "periods": int(self.quotas["period"].nunique()),
            "products": int(self.quotas["product"].nunique()),
            "objective": self.lp_objective,
            "bound": self.lp_objective,
            "gap": 0.0 if self.lp_objective is not None else None,
            "max_relative_deviation": self.max_relative_deviation,
            "attainment_probability": self.attainment_probability,
            "flagged_reps": [str(r) for r in self.reps.index[self.reps["flagged"]]],
            "warnings": list(self.warnings),
            "seconds": self.seconds,
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """The exported tables by file stem: ``quotas`` (rep_id, period, product, quota; whole currency units
        as integers when every quota is whole) and ``quota_reps`` (the gap analysis)."""
        quotas = self.quotas[QUOTA_COLUMNS]
        if (quotas["quota"] % 1 == 0).all():  # whole currency units read better as 44629 than 44629.0
            quotas = quotas.assign(quota=quotas["quota"].astype("int64"))
        return {"quotas": quotas, "quota_reps": self.reps.rename_axis("rep_id").reset_index()}

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write ``quotas.csv``, ``quota_reps.csv`` (gap analysis; ``scenarios.write_csv``, a BOM when ``excel``)
        and ``quota_summary.json`` to ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables().items():
            write_csv(frame, out / f"{name}.csv", excel=excel)
        write_atomic(out / "quota_summary.json", (json.dumps(self.summary(), indent=2, ensure_ascii=False)
                                                  + "\n").encode("utf-8"))

    def __repr__(self) -> str:
        flagged = int(self.reps["flagged"].sum())
        chance = ""
        if self.attainment_probability:
            chance = "; chance of reaching quota " + ", ".join(
                f"{k} {v:.0%}" for k, v in self.attainment_probability.items())
        return (f"QuotaResult({self.method}, {self.status}): {len(self.reps)} reps, "
                f"{self.quotas['period'].nunique()} periods x {self.quotas['product'].nunique()} products; "
                f"quota total {self.total:,.0f} = target {self.target:,.0f} x {self.over_assignment:g}"
                f"{'' if abs(self.total - self.target * self.over_assignment) < 1 else ' (horizon-adjusted)'}; "
                f"max relative deviation from expected-sales share {self.max_relative_deviation:.1%}; "
                f"{flagged} rep(s) flagged above {self.reps.attrs.get('max_potential_share', 0):.0%} of "
                f"potential{chance}")


# ----------------------------------------------------------------------------------------------------------
# The entry point


def _samples_matrix(scenario: Scenario, samples: np.ndarray | pd.DataFrame) -> np.ndarray:
    reps = scenario.reps.index
    if isinstance(samples, pd.DataFrame):
        missing = reps.difference(samples.index)
        if len(missing):
            raise ScenarioError(Problem("sales samples", "no simulated sales for a rep",
                                        "give one row of samples per rep of the scenario", column="rep_id",
                                        value=str(missing[0])))
        matrix = samples.reindex(reps).to_numpy(dtype=float)
    else:
        matrix = np.asarray(samples, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != len(reps) or matrix.shape[1] < 1:
        raise ScenarioError(Problem("sales samples", f"has shape {matrix.shape}",
                                    f"pass a 2-D array of {len(reps)} reps (rows, in reps.csv order) x "
                                    "samples (columns)"))
    bad = ~np.isfinite(matrix) | (matrix < 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ScenarioError(Problem("sales samples", "simulated sales must be finite and >= 0",
                                    "check the simulation output", column=f"rep {reps[r]}, sample {c}",
                                    value=str(matrix[r, c])))
    return np.sort(matrix, axis=1)


def set_quotas(scenario: Scenario, assignment: pd.Series, *, method: str | None = None,
               sales_distribution: np.ndarray | pd.DataFrame | None = None, solver: str | None = None,
               time_limit: float | None = None) -> QuotaResult:
    """Set each rep's quota by period and product so the quotas add up to target x over-assignment exactly.

    Steps: split the target (``split_target``); per pool (region when ``targets.by_region`` is given, else the
    company) compute rep totals by ``method`` within the tier bounds pro-rated for ramp-up; spread each rep's
    total over the periods (IPF on the seasonality x ramp profile, so period totals are met) and over products
    (the pool's product shares); round each region-period-product column to whole ``quotas.unit`` amounts
    (largest remainder, exact sums) and repair any rep pushed over a bound by rounding; check everything again
    independently; run the gap analysis.

    Parameters
    ----------
    scenario
        The scenario.
    assignment
        Series ``account_id -> rep_id`` (e.g. ``Plan.current(scenario).assignment`` or ``Plan.load(...)``).
    method
        ``even``, ``potential``, ``expected_sales``, ``fair`` or ``equal_probability``; default
        ``scenario.settings.quotas.method``.
    sales_distribution
        For ``equal_probability``: simulated horizon sales per rep, a 2-D array reps (rows, in ``scenario.reps``
        order) x samples, or a DataFrame indexed by ``rep_id``. Quotas become ``clip(Q_r(1 - p), min, max)``
        with ``Q_r`` the rep's empirical quantile function and the common chance ``p`` found by bisection so
        the pool total is met.
    solver, time_limit
        LP solver (``highs`` or ``cbc``) and limit in seconds for ``fair``; default ``[optimizer]``.

    Returns
    -------
    QuotaResult

    Raises
    ------
    QuotaError
        The target cannot be met within the tier bounds (names the pool, the amounts and the fix).
    QuotaSolverError
        The LP solver failed or the answer failed the independent check.
    scenarios.ScenarioError
        Bad inputs (unknown method, missing samples, unknown reps in the assignment).

    Examples
    --------
    ``tiny``'s own target is below what its tiers' min_quota demand (a ``QuotaError``), so the example raises
    the target first:

    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> r = set_quotas(s, scenarios.Plan.current(s).assignment, method="fair")
    >>> r.status
    <QuotaStatus.OPTIMAL: 'optimal'>
    >>> sums = r.quotas.groupby(["period", "product"])["quota"].sum()
    >>> bool((sums == r.targets.groupby(["period", "product"])["target"].sum()).all())
    True
    >>> float(r.quotas["quota"].sum()) == 700_000 * 11 / 10
    True
    >>> t = scenarios.modify(scenarios.load("tiny"), {"targets.annual": 100_000})
    >>> set_quotas(t, scenarios.Plan.current(t).assignment)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    optimizer.quotas.QuotaError: region North's quota total 52,976 (target 100,000 x ...) is less than its 3 reps ...
    """
    started = time.perf_counter()
    s = scenario.settings
    method = method or s.quotas.method
    if method not in QUOTA_METHODS:
        raise ScenarioError(Problem("scenario.toml", f"unknown quota method '{method}'",
                                    f"use one of {', '.join(QUOTA_METHODS)}", column="quotas.method",
                                    value=method))
    if solver is not None and solver not in ("highs", "cbc"):
        raise ScenarioError(Problem("command line", f"unknown solver '{solver}'", "use highs or cbc",
                                    column="solver", value=solver))
    unit = s.quotas.unit
    periods, season, share_of_year = horizon_weights(scenario)
    info = expected_sales(scenario, assignment)
    targets = split_target(scenario)
    lo, hi = _bounds(scenario, info["ramp"], share_of_year, unit)

    pool_of_rep = info["region"].to_numpy() if s.targets.by_region else np.full(len(info), _ALL, dtype=object)
    pool_totals = targets.groupby("region", sort=False)["target"].sum()
    blocks = [_Block(str(g), np.flatnonzero(pool_of_rep == g), float(t)) for g, t in pool_totals.items()]
    _check_feasible(scenario, blocks, lo, hi)

    q = np.zeros(len(info))
    lp_objective: float | None = None
    shares = np.zeros(len(info))
    chance: dict[str, float] = {}
    used_solver = None
    expected = info["expected_sales"].to_numpy()
    for b in blocks:
        e = expected[b.reps]
        shares[b.reps] = e / e.sum() if e.sum() > 0 else 0.0
    sorted_samples = None
    if method == "equal_probability":
        if sales_distribution is None:
            raise ScenarioError(Problem("sales samples", "method equal_probability needs simulated sales per rep",
                                        "pass sales_distribution (reps x samples), or --samples FILE on the "
                                        "command line, or choose another method"))
        sorted_samples = _samples_matrix(scenario, sales_distribution)
    if method == "fair":
        used_solver = solver or s.optimizer.solver
        q, lp_objective = _fair_lp(shares, lo, hi, [b for b in blocks if len(b.reps)], used_solver,
                        time_limit or s.optimizer.time_limit_s)
    else:
        for b in blocks:
            if not len(b.reps):
                continue
            idx = b.reps
            if method == "equal_probability":
                assert sorted_samples is not None
                q[idx], chance[b.name] = _equal_probability(sorted_samples[idx], lo[idx], hi[idx], b.total)
            else:
                weight = {"even": info["ramp"], "potential": info["potential"] * info["ramp"],
                          "expected_sales": info["expected_sales"]}[method].to_numpy()[idx]
                q[idx] = _proportional(weight, lo[idx], hi[idx], b.total)

    # Spread and round, pool by pool; columns are (period, product) in the order split_target uses.
    profile = ramp_factors(scenario).to_numpy() * season[None, :]
    products = list(targets["product"].iloc[: len(s.products)])
    n_cols = len(periods) * len(products)
    units = np.zeros((len(info), n_cols), dtype=np.int64)
    adjusted: list[str] = []
    for b in blocks:
        if not len(b.reps):
            continue
        cell_targets = targets.loc[targets["region"] == b.name, "target"].to_numpy() / unit
        by_period = cell_targets.reshape(len(periods), len(products))
        period_totals = by_period.sum(axis=1)
        spread, moved = _spread(q[b.reps] / unit, profile[b.reps], period_totals, lo[b.reps] / unit,
                                hi[b.reps] / unit, b.name, solver or s.optimizer.solver,
                                time_limit or s.optimizer.time_limit_s)
        if moved:
            adjusted.append("the company" if b.name == _ALL else f"region {b.name}")
        product_share = by_period / np.where(period_totals > 0, period_totals, 1.0)[:, None]
        real = (spread[:, :, None] * product_share[None, :, :]).reshape(len(b.reps), n_cols)
        rounded = _round_columns(real, np.round(cell_targets).astype(np.int64))
        units[b.reps] = _repair_bounds(rounded, real, lo[b.reps] / unit, hi[b.reps] / unit)

    rep_units = units.sum(axis=1)
    _validate(units, rep_units, blocks, targets, lo / unit, hi / unit, unit)
    quotas = pd.DataFrame({
        "rep_id": np.repeat(info.index.to_numpy(dtype=object), n_cols),
        "period": np.tile(np.repeat(np.asarray(periods, dtype=object), len(products)), len(info)),
        "product": np.tile(np.asarray(products, dtype=object), len(periods) * len(info)),
        "quota": units.ravel().astype(float) * unit,
    })
    reps, max_dev, warnings = _gap_analysis(scenario, info, rep_units * unit, lo, hi, shares, blocks,
                                            sorted_samples, chance)
    if adjusted:
        warnings.append(f"{', '.join(adjusted)}: some months have few reps in seat (hire dates), so rep totals "
                        f"were moved as little as possible from what method '{method}' gave, to cover them")
    return QuotaResult(
        quotas=quotas, reps=reps, targets=targets, method=method,
        status=QuotaStatus.OPTIMAL if method == "fair" and not adjusted else QuotaStatus.SOLVED,
        target=s.targets.annual, over_assignment=s.targets.over_assignment,
        total=float(rep_units.sum() * unit), max_relative_deviation=max_dev,
        attainment_probability=chance, warnings=tuple(warnings),
        seconds=time.perf_counter() - started, solver=used_solver, lp_objective=lp_objective,
    )


def _validate(units: np.ndarray, rep_units: np.ndarray, blocks: list[_Block], targets: pd.DataFrame,
              lo: np.ndarray, hi: np.ndarray, unit: float) -> None:
    """Independent re-check of the rounded quotas against the inputs (exact sums, signs, bounds)."""
    for b in blocks:
        want = np.round(targets.loc[targets["region"] == b.name, "target"].to_numpy() / unit).astype(np.int64)
        got = units[b.reps].sum(axis=0)
        if not np.array_equal(got, want) and (len(b.reps) or want.any()):
            raise QuotaSolverError(f"quota check failed: pool {b.name} does not sum to its target per period "
                                   "and product; please report this scenario")
    if (units < 0).any():
        raise QuotaSolverError("quota check failed: a negative quota; please report this scenario")
    if (rep_units < lo - 1e-6).any() or (rep_units > hi + 1e-6).any():
        raise QuotaSolverError("quota check failed: a rep outside the tier bounds; please report this scenario")


def _gap_analysis(scenario: Scenario, info: pd.DataFrame, quota: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                  shares: np.ndarray, blocks: list[_Block], sorted_samples: np.ndarray | None,
                  chance: dict[str, float]) -> tuple[pd.DataFrame, float, list[str]]:
    """Quota against potential and expected sales, per rep; flags and planner-worded warnings."""
    qs = scenario.settings.quotas
    reps = info.copy()
    reps["min_quota"] = lo
    reps["max_quota"] = hi
    reps["quota"] = quota
    potential = reps["potential"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        reps["share_of_potential"] = np.where(potential > 0, quota / np.where(potential > 0, potential, 1.0),
                                              np.where(quota > 0, np.inf, 0.0))
    quota_share = np.zeros(len(reps))
    for b in blocks:
        if len(b.reps) and b.total > 0:
            quota_share[b.reps] = quota[b.reps] / quota[b.reps].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(shares > 0, np.abs(quota_share / np.where(shares > 0, shares, 1.0) - 1.0), np.nan)
    reps["relative_deviation"] = rel
    max_dev = float(np.nanmax(rel)) if np.isfinite(rel).any() else 0.0
    if sorted_samples is not None:
        reps["attainment_probability"] = (sorted_samples >= quota[:, None] - 1e-9).mean(axis=1)
    else:
        reps["attainment_probability"] = np.nan
    reps["flagged"] = reps["share_of_potential"] > qs.max_potential_share
    reps.attrs["max_potential_share"] = qs.max_potential_share
    warnings = []
    flagged = reps.index[reps["flagged"]]
    if len(flagged):
        names = ", ".join(str(r) for r in flagged[:10]) + (" ..." if len(flagged) > 10 else "")
        warnings.append(f"{len(flagged)} rep(s) need more than {qs.max_potential_share:.0%} of their territory's "
                        f"potential to make quota ({names}): most of them will miss; lower the target or "
                        "over-assignment, or give them more accounts")
    for pool, p in chance.items():
        if p < qs.attainment_probability:
            where = "company" if pool == _ALL else f"region {pool}"
            warnings.append(f"{where}: each rep has a {p:.0%} chance of reaching quota, below the planned "
                            f"{qs.attainment_probability:.0%}; the target asks more than the simulated sales "
                            "support")
    return reps, max_dev, warnings

