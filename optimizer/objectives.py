"""The objective terms of an assignment and optimising one of them with others held to levels.

Terms: ``value`` (expected value, maximised), ``travel`` (km, minimised), ``disruption`` (potential moved away
from today's rep, minimised), and as an objective only ``balance``: the largest relative deviation of a rep's
workload (hours) from the mean workload per rep. ``optimise`` is the building block of the Pareto frontier
(``optimizer.frontier``) and of the lexicographic allocation (``lexicographic``, which ``allocate`` runs when
``[optimizer] lexicographic`` names a priority order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp
from numpy.typing import NDArray

from optimizer.errors import AllocationError
from optimizer.model import AllocationInputs, AllocationModel, build
from optimizer.solve import chosen_pairs, solve
from optimizer.status import Status, relative_gap
from optimizer.validation import validate

__all__ = ["SENSE", "TERMS", "LexicographicStage", "imbalance", "level", "lexicographic", "optimise",
           "term_weights"]

TERMS = {"value": "max", "travel": "min", "disruption": "min"}
SENSE = {**TERMS, "balance": "min"}
_SOLVED = (Status.OPTIMAL, Status.FEASIBLE)


def term_weights(inputs: AllocationInputs, name: str) -> NDArray[np.float64]:
    """Each candidate pair's contribution to the term ``name`` (one of ``TERMS``)."""
    pairs = inputs.candidates.pairs
    if name == "value":
        return pairs["value"].to_numpy(dtype=float)
    if name == "travel":
        return pairs["travel_km"].to_numpy(dtype=float)
    if name == "disruption":
        pot = inputs.candidates.potential[pairs["account"].to_numpy()]
        return np.asarray(pot * pairs["moved"].to_numpy(dtype=float), dtype=float)
    raise AllocationError(f"unknown frontier term '{name}'", f"use one of {', '.join(TERMS)}")


def _hours_band(inputs: AllocationInputs) -> tuple[NDArray[np.float64], float]:
    """Pair hours and the mean workload per rep that an hours band (scope ``all``) is measured against: each
    account's hours averaged over its candidate reps, summed, divided by the number of reps."""
    pairs = inputs.candidates.pairs
    hours = pairs["hours"].to_numpy(dtype=float)
    per_account = pd.Series(hours).groupby(pairs["account"].to_numpy()).mean()
    return hours, float(per_account.sum()) / max(len(inputs.candidates.rep_ids), 1)


def _add_imbalance(inputs: AllocationInputs, model: AllocationModel) -> pulp.LpVariable:
    """A variable ``t`` with ``|h_r - m| <= t m`` for every rep, ``h_r`` its hours and ``m`` the mean workload per
    rep: minimising ``t`` minimises the largest relative deviation from the mean (``imbalance``)."""
    hours, mean = _hours_band(inputs)
    t = model.problem.add_variable("imbalance", lowBound=0.0)
    rep = inputs.candidates.pairs["rep"].to_numpy()[model.pair_index]
    w = hours[model.pair_index]
    for r in range(len(inputs.candidates.rep_ids)):
        terms = [(model.x[i], float(w[i])) for i in np.flatnonzero(rep == r).tolist() if w[i] != 0.0]
        over = pulp.LpAffineExpression([*terms, (t, -mean)])
        under = pulp.LpAffineExpression([*[(v, -c) for v, c in terms], (t, -mean)])
        model.problem.addConstraint(pulp.LpConstraint(over, pulp.LpConstraintLE, f"imbalance_over_{r}", mean))
        model.problem.addConstraint(pulp.LpConstraint(under, pulp.LpConstraintLE, f"imbalance_under_{r}", -mean))
    return t


def optimise(inputs: AllocationInputs, target: str, limit: tuple[str, float] | None, time_limit: float,
             mip_gap: float, more: Sequence[tuple[str, float]] = ()) -> tuple[Status, NDArray[np.int64] | None, float]:
    """Optimise one term with others held to levels (>= for maximised terms, <= for minimised ones).

    ``target`` may be ``balance`` (the largest relative deviation of a rep's hours from the mean, minimised);
    held terms are among ``TERMS``. Returns the status, the chosen pair per account of the validated plan (None
    without one) and the relative gap of the optimised term (NaN when the solver proves no bound).
    """
    model = build(inputs)
    if target == "balance":
        t = _add_imbalance(inputs, model)
        model.problem.setObjective(pulp.LpAffineExpression([(t, -1.0)]))
    else:
        coef = term_weights(inputs, target) * (1.0 if TERMS[target] == "max" else -1.0)
        model.problem.setObjective(pulp.LpAffineExpression(
            [(v, c) for v, c in zip(model.x, coef[model.pair_index].tolist(), strict=True) if c != 0.0]))
    for k, (name, eps) in enumerate([*([limit] if limit is not None else []), *more]):
        w = term_weights(inputs, name)[model.pair_index]
        expr = pulp.LpAffineExpression([(v, c) for v, c in zip(model.x, w.tolist(), strict=True) if c != 0.0])
        sense = pulp.LpConstraintGE if TERMS[name] == "max" else pulp.LpConstraintLE
        model.problem.addConstraint(pulp.LpConstraint(expr, sense, f"epsilon_{k}", eps))
    out = solve(model, inputs.settings.solver, time_limit, mip_gap)
    if out.claim not in _SOLVED:
        return out.claim, None, float("nan")
    # solve() reports the weighted objective; the gap must compare the term optimised here with its bound.
    # HiGHS gives that bound (the dual bound of this model); CBC gives none through PuLP, so no gap is claimed.
    term_objective = float(pulp.value(model.problem.objective))
    gap = relative_gap(out.bound, term_objective) if inputs.settings.solver == "highs" else float("nan")
    chosen = chosen_pairs(inputs, model.pair_index, out.x)
    check = validate(inputs, chosen)
    if not check.ok:
        return Status.ERROR, None, gap
    return out.claim, chosen, gap


def level(inputs: AllocationInputs, chosen: NDArray[np.int64], name: str) -> float:
    """The value of term ``name`` (or ``balance``) for the plan ``chosen``."""
    if name == "balance":
        return imbalance(inputs, chosen)
    return float(term_weights(inputs, name)[chosen[chosen >= 0]].sum())


def imbalance(inputs: AllocationInputs, chosen: NDArray[np.int64]) -> float:
    """Largest relative deviation of a rep's hours from the mean workload per rep that an hours band is measured
    against (``_hours_band``; 0 = perfectly even)."""
    hours, mean = _hours_band(inputs)
    take = chosen[chosen >= 0]
    rep = inputs.candidates.pairs["rep"].to_numpy()[take]
    per_rep = np.bincount(rep, weights=hours[take], minlength=len(inputs.candidates.rep_ids))
    return float(np.abs(per_rep / mean - 1.0).max()) if mean > 0 else 0.0


@dataclass(frozen=True)
class LexicographicStage:
    """One stage of a lexicographic optimisation: the term, its optimised level and how sure we are of it."""

    term: str
    level: float
    status: Status
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
    >>> [s.term for s in stages], [str(s.status) for s in stages]
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
        status, chosen, gap = optimise(inputs, term, None, time_limit, mip_gap, more=held)
        if chosen is None:
            stages.append(LexicographicStage(term, float("nan"), status, gap))
            return None, stages
        reached = level(inputs, chosen, term)
        stages.append(LexicographicStage(term, reached, status, gap))
        # A hair of absolute slack keeps the next stage feasible despite solver tolerances.
        tol = slack * abs(reached) + 1e-7 * max(1.0, abs(reached))
        held.append((term, reached - tol if TERMS[term] == "max" else reached + tol))
    return chosen, stages
