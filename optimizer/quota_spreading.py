"""Spreading each rep's quota total over periods and products, and rounding to whole currency units.

The third step of quota setting: each rep's total goes over the periods by iterative proportional fitting on
the rep's seasonality x ramp profile (so every period's pool total is met), and over products by the pool's
product shares; then every region-period-product column is rounded to whole ``quotas.unit`` amounts (largest
remainder, exact sums) and a rep pushed past a tier bound by rounding is repaired unit by unit.
``spread_and_round`` runs it pool by pool.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pulp

from optimizer.errors import QuotaError, QuotaSolverError
from optimizer.quota_methods import solve_quota_lp
from optimizer.quota_targets import ALL, Pool

__all__ = ["spread_and_round"]


def spread_and_round(q: np.ndarray, profile: np.ndarray, targets: pd.DataFrame, blocks: list[Pool],
                     lo: np.ndarray, hi: np.ndarray, unit: float, n_periods: int, n_products: int, solver: str,
                     time_limit: float) -> tuple[np.ndarray, list[str]]:
    """Whole-unit quotas per rep (rows) and (period, product) column, in the column order of ``split_target``.

    ``q`` are the rep totals (currency), ``profile`` each rep's seasonality x ramp weight per period, ``lo`` and
    ``hi`` the tier bounds (currency). Every pool's column sums equal its targets exactly. Returns the units and
    the pools (in planner words) whose rep totals had to move to cover months with few reps in seat.
    """
    n_cols = n_periods * n_products
    units = np.zeros((len(q), n_cols), dtype=np.int64)
    adjusted: list[str] = []
    for b in blocks:
        if not len(b.reps):
            continue
        cell_targets = targets.loc[targets["region"] == b.name, "target"].to_numpy() / unit
        by_period = cell_targets.reshape(n_periods, n_products)
        period_totals = by_period.sum(axis=1)
        spread, moved = _spread(q[b.reps] / unit, profile[b.reps], period_totals, lo[b.reps] / unit,
                                hi[b.reps] / unit, b.name, solver, time_limit)
        if moved:
            adjusted.append(b.where)
        product_share = by_period / np.where(period_totals > 0, period_totals, 1.0)[:, None]
        real = (spread[:, :, None] * product_share[None, :, :]).reshape(len(b.reps), n_cols)
        rounded = _round_columns(real, np.round(cell_targets).astype(np.int64))
        units[b.reps] = _repair_bounds(rounded, real, lo[b.reps] / unit, hi[b.reps] / unit)
    return units, adjusted


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
        raise QuotaError(f"{'the company' if block == ALL else 'region ' + block} has a target in period "
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
    where = "the company" if block == ALL else f"region {block}"
    solve_quota_lp(prob, solver, time_limit, "month-spreading LP",
                   infeasible=f"in {where} the months when few reps are in seat need more than those reps' "
                   "max_quota (pro-rated for ramp-up) allows. Fix: check hire dates, raise max_quota in [tiers], "
                   "or lower the target")
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
