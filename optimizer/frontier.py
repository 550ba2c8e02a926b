"""Pareto frontier between two objective terms by the epsilon-constraint method.

Terms: ``value`` (expected value, maximised), ``travel`` (km, minimised), ``disruption`` (potential moved away
from today's rep, minimised), and on the x axis only ``balance``: the largest relative deviation of a rep's
workload (hours) from the mean, held by a +-epsilon hours band at each point.
The y term is optimised while the x term is held to each of ``points`` levels
spread between its two extremes (x optimised alone, and x when y is optimised alone); every point's plan passes
the independent validator and carries its own status.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pulp
from numpy.typing import NDArray

from optimizer.allocation import _chosen
from optimizer.errors import AllocationError
from optimizer.model import AllocationInputs, build, prepare
from optimizer.solve import solve
from optimizer.validation import validate
from scenarios import BalanceBand, OptimizerSettings, Scenario, write_csv

__all__ = ["TERMS", "FrontierResult", "LexicographicStage", "frontier", "lexicographic"]

TERMS = {"value": "max", "travel": "min", "disruption": "min"}


@dataclass(frozen=True, eq=False)
class FrontierResult:
    """Points of a two-term trade-off curve.

    Parameters
    ----------
    points
        One row per point: ``x``, ``y`` (term values of the validated plan), ``epsilon`` (the level imposed on
        x), ``status`` (optimal/feasible/infeasible/no_solution/error), ``gap`` of the y optimisation.
    x, y
        Term names.
    """

    points: pd.DataFrame
    x: str
    y: str

    def __repr__(self) -> str:
        ok = self.points[self.points["status"].isin(["optimal", "feasible"])]
        return (f"FrontierResult({self.x} vs {self.y}: {len(ok)} of {len(self.points)} points solved; "
                f"{self.x} {ok['x'].min():,.2f}..{ok['x'].max():,.2f}, {self.y} {ok['y'].min():,.2f}.."
                f"{ok['y'].max():,.2f})")

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write frontier.csv (``scenarios.write_csv``; a BOM when ``excel``)."""
        write_csv(self.points, Path(folder) / "frontier.csv", excel=excel)


def _term(inputs: AllocationInputs, name: str) -> NDArray[np.float64]:
    pairs = inputs.candidates.pairs
    if name == "value":
        return pairs["value"].to_numpy(dtype=float)
    if name == "travel":
        return pairs["travel_km"].to_numpy(dtype=float)
    if name == "disruption":
        pot = inputs.candidates.potential[pairs["account"].to_numpy()]
        return np.asarray(pot * pairs["moved"].to_numpy(dtype=float), dtype=float)
    raise AllocationError(f"unknown frontier term '{name}'", f"use one of {', '.join(TERMS)}")


def _optimise(inputs: AllocationInputs, target: str, limit: tuple[str, float] | None, time_limit: float,
              mip_gap: float, more: Sequence[tuple[str, float]] = ()) -> tuple[str, NDArray[np.int64] | None, float]:
    """Optimise one term with others held to levels (>= for maximised terms, <= for minimised ones)."""
    model = build(inputs)
    coef = _term(inputs, target) * (1.0 if TERMS[target] == "max" else -1.0)
    model.problem.setObjective(pulp.LpAffineExpression(
        [(v, c) for v, c in zip(model.x, coef.tolist(), strict=True) if c != 0.0]))
    for k, (name, eps) in enumerate([*([limit] if limit is not None else []), *more]):
        w = _term(inputs, name)
        expr = pulp.LpAffineExpression([(v, c) for v, c in zip(model.x, w.tolist(), strict=True) if c != 0.0])
        sense = pulp.LpConstraintGE if TERMS[name] == "max" else pulp.LpConstraintLE
        model.problem.addConstraint(pulp.LpConstraint(expr, sense, f"epsilon_{k}", eps))
    out = solve(model, inputs.settings.solver, time_limit, mip_gap)
    if out.claim not in ("optimal", "feasible"):
        return out.claim, None, float("nan")
    # solve() reports the weighted objective; the gap must compare the term optimised here with its bound.
    # HiGHS gives that bound (the dual bound of this model); CBC gives none through PuLP, so no gap is claimed.
    term_objective = float(coef[model.pair_index] @ out.x)
    proven = inputs.settings.solver == "highs" and np.isfinite(out.bound)
    gap = max(out.bound - term_objective, 0.0) / max(abs(out.bound), 1.0) if proven else float("nan")
    chosen = _chosen(inputs, model.pair_index, out.x)
    check = validate(inputs, chosen)
    if not check.ok:
        return "error", None, gap
    status = "optimal" if out.claim == "optimal" else "feasible"
    return status, chosen, gap


def _level(inputs: AllocationInputs, chosen: NDArray[np.int64], name: str) -> float:
    return float(_term(inputs, name)[chosen[chosen >= 0]].sum())


def _imbalance(inputs: AllocationInputs, chosen: NDArray[np.int64]) -> float:
    """Largest relative deviation of a rep's hours from the mean over reps (0 = perfectly even)."""
    pairs = inputs.candidates.pairs
    take = chosen[chosen >= 0]
    hours = np.bincount(pairs["rep"].to_numpy()[take], weights=pairs["hours"].to_numpy(dtype=float)[take],
                        minlength=len(inputs.candidates.rep_ids))
    mean = float(hours.mean())
    return float(np.abs(hours / mean - 1.0).max()) if mean > 0 else 0.0


def _balance_frontier(scenario: Scenario, y: str, points: int, settings: OptimizerSettings,
                      limit: float) -> FrontierResult:
    """Value (or travel, disruption) against workload balance: the scenario's hours band is replaced by
    +-epsilon around the mean for epsilon from the loosest level (y optimised with no hours band) down to 2 %."""
    others = [b for b in settings.balance if b.attribute != "hours"]
    free = settings.model_copy(update={"balance": others})
    inputs = prepare(scenario, free)
    status, best_y, _ = _optimise(inputs, y, None, limit, free.mip_gap)
    if best_y is None:
        raise AllocationError(f"the scenario has no feasible plan ({status})",
                              "run 'quotaflow allocate' on it to see which constraints conflict")
    loosest = max(_imbalance(inputs, best_y), 0.02)
    rows = []
    for eps in np.linspace(loosest, 0.02, points):
        band = BalanceBand(attribute="hours", min=1.0 - float(eps), max=1.0 + float(eps), relative=True)
        st = free.model_copy(update={"balance": [*others, band]})
        banded = prepare(scenario, st)
        status, chosen, gap = _optimise(banded, y, None, limit, st.mip_gap)
        xv = _imbalance(banded, chosen) if chosen is not None else float("nan")
        yv = _level(banded, chosen, y) if chosen is not None else float("nan")
        rows.append({"epsilon": float(eps), "x": xv, "y": yv, "status": status, "gap": gap})
    return FrontierResult(pd.DataFrame(rows), "balance", y)


def frontier(scenario: Scenario, x: str, y: str, points: int = 7, settings: OptimizerSettings | None = None,
             time_limit: float | None = None) -> FrontierResult:
    """Trade-off curve of term ``y`` against term ``x`` by the epsilon-constraint method.

    Parameters
    ----------
    scenario
        The scenario (its constraints all apply at every point).
    x, y
        Terms among ``value``, ``travel``, ``disruption``; ``x`` may also be ``balance`` (largest relative
        deviation of a rep's hours from the mean, imposed as a +-epsilon band).
    points
        Number of epsilon levels (at least 2; the two extremes included).
    settings
        Optimizer settings (default: the scenario's).
    time_limit
        Seconds per point (default: the settings' ``time_limit_s``).

    Examples
    --------
    >>> import scenarios
    >>> f = frontier(scenarios.load("tiny"), "travel", "disruption", points=3)
    >>> list(f.points.columns)
    ['epsilon', 'x', 'y', 'status', 'gap']
    >>> bool(f.points["y"].is_monotonic_decreasing)
    True
    """
    if x == "balance" and y in TERMS:
        if points < 2:
            raise AllocationError(f"points = {points}", "ask for at least 2 points")
        st = settings or scenario.settings.optimizer
        return _balance_frontier(scenario, y, points, st, time_limit or st.time_limit_s)
    if x == y or x not in TERMS or y not in TERMS:
        raise AllocationError(f"frontier terms '{x}' and '{y}'", f"choose two different terms among {', '.join(TERMS)}")
    if points < 2:
        raise AllocationError(f"points = {points}", "ask for at least 2 points")
    inputs = prepare(scenario, settings)
    st = inputs.settings
    limit = time_limit or st.time_limit_s
    s1, best_x, _ = _optimise(inputs, x, None, limit, st.mip_gap)
    s2, best_y, _ = _optimise(inputs, y, None, limit, st.mip_gap)
    if best_x is None or best_y is None:
        raise AllocationError(f"the scenario has no feasible plan ({s1}, {s2})",
                              "run 'quotaflow allocate' on it to see which constraints conflict")
    lo, hi = _level(inputs, best_x, x), _level(inputs, best_y, x)
    rows = []
    for eps in np.linspace(lo, hi, points):
        # A hair of slack on epsilon so the extreme points stay feasible despite solver tolerances.
        slack = 1e-7 * max(1.0, abs(eps))
        level = eps - slack if TERMS[x] == "max" else eps + slack
        status, chosen, gap = _optimise(inputs, y, (x, level), limit, st.mip_gap)
        xv = _level(inputs, chosen, x) if chosen is not None else float("nan")
        yv = _level(inputs, chosen, y) if chosen is not None else float("nan")
        rows.append({"epsilon": float(eps), "x": xv, "y": yv, "status": status, "gap": gap})
    return FrontierResult(pd.DataFrame(rows), x, y)


@dataclass(frozen=True)
class LexicographicStage:
    """One stage of a lexicographic optimisation: the term, its optimised level and how sure we are of it."""

    term: str
    level: float
    status: str
    gap: float


def lexicographic(inputs: AllocationInputs, order: Sequence[str], *, slack: float, time_limit: float,
                  mip_gap: float) -> tuple[NDArray[np.int64] | None, list[LexicographicStage]]:
    """Optimise the terms of ``order`` one after the other, holding each earlier term at its optimum.

    Stage k maximises (or minimises) term k subject to every scenario constraint and, for each earlier term j,
    ``term_j >= level_j (1 - slack)`` when j is maximised or ``term_j <= level_j (1 + slack)`` when minimised,
    where ``level_j`` is the level stage j reached. Every stage is a MIP solved to ``mip_gap``; the plan of the
    last stage is returned (None when a stage found no plan) with every stage's level, status and gap.

    Examples
    --------
    >>> import scenarios
    >>> from optimizer.model import prepare
    >>> inputs = prepare(scenarios.load("tiny"))
    >>> plan, stages = lexicographic(inputs, ["disruption", "travel"], slack=0.0, time_limit=30, mip_gap=1e-4)
    >>> [s.term for s in stages], [s.status for s in stages]
    (['disruption', 'travel'], ['optimal', 'optimal'])
    >>> stages[0].level > 0  # today's assignment breaks tiny's hours band, so some potential must move
    True
    """
    held: list[tuple[str, float]] = []
    stages: list[LexicographicStage] = []
    chosen: NDArray[np.int64] | None = None
    for term in order:
        if term not in TERMS:
            raise AllocationError(f"lexicographic term '{term}'", f"use terms among {', '.join(TERMS)}")
        status, chosen, gap = _optimise(inputs, term, None, time_limit, mip_gap, more=held)
        if chosen is None:
            stages.append(LexicographicStage(term, float("nan"), status, gap))
            return None, stages
        level = _level(inputs, chosen, term)
        stages.append(LexicographicStage(term, level, status, gap))
        # A hair of absolute slack keeps the next stage feasible despite solver tolerances.
        tol = slack * abs(level) + 1e-7 * max(1.0, abs(level))
        held.append((term, level - tol if TERMS[term] == "max" else level + tol))
    return chosen, stages
