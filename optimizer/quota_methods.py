"""Rep quota totals by method, within the tier bounds pro-rated for ramp-up (the second step of quota setting).

Methods: ``even``, ``potential``, ``expected_sales`` (proportional to a weight, with tier bounds by
water-filling), ``fair`` (a PuLP LP that minimises the largest relative deviation between a rep's quota share and
expected-sales share) and ``equal_probability`` (every rep gets the same chance of reaching quota, from simulated
sales samples passed in by the application layer). ``rep_totals`` runs the chosen method pool by pool.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pulp

from optimizer.errors import QuotaError, QuotaSolverError
from optimizer.quota_targets import ALL, Pool
from optimizer.solvers import run
from optimizer.status import Status
from scenarios import Scenario

__all__ = ["check_pools", "expected_shares", "rep_totals", "solve_quota_lp", "tier_bounds"]


def tier_bounds(scenario: Scenario, ramp: pd.Series, share_of_year: float,
                unit: float) -> tuple[np.ndarray, np.ndarray]:
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


def check_pools(scenario: Scenario, blocks: list[Pool], lo: np.ndarray, hi: np.ndarray) -> None:
    """Raise ``QuotaError`` when a pool's total lies outside the sum of its reps' (ramp pro-rated) tier bounds.

    Feasibility of the rep totals is exactly ``sum_r lo_r <= T_g <= sum_r hi_r`` for every pool ``g``.
    """
    s = scenario.settings
    for b in blocks:
        where = b.where
        tiers = scenario.reps["tier"].iloc[b.reps].value_counts().reindex(list(s.tiers)).dropna().astype(int)
        mix = ", ".join(f"{n} {t}" for t, n in tiers.items() if n > 0)
        head = (f"{where}'s quota total {_money(b.total)} (target {_money(s.targets.annual)} x over-assignment "
                f"{s.targets.over_assignment:g}")
        head += ")" if b.name == ALL else f" x region share {s.targets.by_region[b.name]:.4g})"
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


def _fair_lp(shares: np.ndarray, lo: np.ndarray, hi: np.ndarray, blocks: list[Pool], solver: str,
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
    solve_quota_lp(prob, solver, time_limit, "fair LP (stage 1)")
    z_star = float(z.value())
    prob += (pulp.LpAffineExpression([(z, 1.0)]) <= z_star * (1.0 + 1e-7) + 1e-9, "keep_z")
    scaled = [prob.add_variable(f"g_{r}", lowBound=0.0) for r in range(n)]
    _scale_rows(prob, x, scaled, shares, blocks)
    prob.setObjective(pulp.LpAffineExpression([(d, 1.0) for d in scaled]))
    solve_quota_lp(prob, solver, time_limit, "fair LP (stage 2)")
    out = np.zeros(n)
    for b in blocks:
        for r in b.reps:
            out[r] = float(x[r].value()) * b.total
    return out, z_star


def _pool_rows(prob: pulp.LpProblem, x: list[Any], blocks: list[Pool]) -> None:
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
                blocks: list[Pool]) -> None:
    """``dev_r >= |x_r - s_g e_r|`` with one free scale ``s_g >= 0`` per pool ``g``."""
    for k, b in enumerate(blocks):
        s = prob.add_variable(f"s_{k}", lowBound=0.0)
        for r in b.reps:
            e = float(shares[r])
            prob += (pulp.LpAffineExpression([(x[r], 1.0), (s, -e), (dev[r], -1.0)]) <= 0.0, f"scale_over_{r}")
            prob += (pulp.LpAffineExpression([(x[r], -1.0), (s, e), (dev[r], -1.0)]) <= 0.0, f"scale_under_{r}")


def solve_quota_lp(prob: pulp.LpProblem, solver: str, time_limit: float, what: str,
                   infeasible: str | None = None) -> None:
    """Solve one of the quota LPs in place and insist on a proven optimum.

    Raises
    ------
    QuotaError
        The LP is infeasible (``infeasible`` is the planner-worded message, when the caller has one).
    QuotaSolverError
        The solver failed or stopped before proving the optimum.
    """
    status = run(prob, solver, time_limit).status
    if status is Status.OPTIMAL:
        return
    if status is Status.INFEASIBLE:
        raise QuotaError(infeasible or f"the {what} has no solution although every pool's total lies within its "
                         "reps' bounds; please report this scenario")
    raise QuotaSolverError(f"the solver did not prove the {what} optimal (status {status}); try --solver cbc or "
                           "a longer optimizer.time_limit_s")


def expected_shares(expected: np.ndarray, blocks: list[Pool]) -> np.ndarray:
    """Each rep's share of its pool's expected sales (0 in a pool without expected sales)."""
    shares = np.zeros(len(expected))
    for b in blocks:
        e = expected[b.reps]
        shares[b.reps] = e / e.sum() if e.sum() > 0 else 0.0
    return shares


def rep_totals(method: str, info: pd.DataFrame, shares: np.ndarray, blocks: list[Pool], lo: np.ndarray,
               hi: np.ndarray, sorted_samples: np.ndarray | None, solver: str,
               time_limit: float) -> tuple[np.ndarray, float | None, dict[str, float]]:
    """Every rep's quota total over the horizon by ``method``, pool by pool, within ``[lo, hi]``.

    ``info`` is ``scenarios.skill.expected_sales`` (ramp, potential, expected sales per rep); ``shares`` the
    expected-sales shares (``expected_shares``); ``sorted_samples`` the simulated sales per rep, sorted along
    each row (``equal_probability`` only). Returns the totals, the fair LP's optimum (``fair`` only) and the
    common chance of reaching quota per pool (``equal_probability`` only).
    """
    q = np.zeros(len(info))
    chance: dict[str, float] = {}
    if method == "fair":
        q, lp_objective = _fair_lp(shares, lo, hi, [b for b in blocks if len(b.reps)], solver, time_limit)
        return q, lp_objective, chance
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
    return q, None, chance
