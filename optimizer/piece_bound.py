"""The proven bound of an allocation solved piece by piece: the Lagrangian bound of the whole model.

The bound is the Lagrangian bound of the whole model at multipliers :math:`y` assembled from the pieces' LP
duals for the rep rows, with the disruption multipliers :math:`\\lambda` chosen afresh to minimise it:

.. math:: L(y, \\lambda) = \\sum_i y_i b_i + \\lambda S
          + \\sum_a \\max\\big(\\text{stay}_a,\\ \\text{move}_a - \\lambda v_a\\big)

(``pricing.account_best``), valid for any :math:`y, \\lambda \\ge 0`; it equals the LP bound of the whole
model when the pieces' budget duals agree. They do not (each piece's LP prices its own share), so at a common
:math:`\\lambda` each piece takes whichever of its dual vectors -- at its share, or at the other budgets its
LP is re-solved at -- gives it the smallest term (``split_bound``); the pieces separate once the budget is
priced, so that choice keeps the bound valid.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from optimizer.model import AllocationInputs
from optimizer.pricing import account_best, rep_terms

__all__ = ["best_multiplier", "grid_min", "split_bound", "whole_bound"]


def best_multiplier(stay: NDArray[np.float64], move: NDArray[np.float64], weight: NDArray[np.float64],
                    budget: float) -> float:
    """The ``lam >= 0`` minimising ``lam * budget + sum_a max(stay_a, move_a - lam * weight_a)`` (exactly: the
    function is convex and piecewise linear with a break at ``(move_a - stay_a) / weight_a``)."""
    gain = move - stay
    # A weight too small to divide by without overflow costs nothing against the budget: never a break.
    live = (gain > 0) & (weight > gain / np.finfo(float).max) & np.isfinite(gain)
    breaks = gain[live] / weight[live]
    w = weight[live]
    order = np.argsort(-breaks, kind="stable")
    # Slope just above lam is budget - (weight of accounts whose break lies above lam): the minimum is at the
    # first break (from the top) where the weight above it reaches the budget.
    above = np.cumsum(w[order])
    k = int(np.searchsorted(above, budget, side="left"))
    return float(breaks[order][k]) if k < breaks.size else 0.0


def whole_bound(inputs: AllocationInputs, duals: dict[str, float]) -> float:
    """The whole model's Lagrangian bound at the rep-row ``duals``, with the disruption multipliers chosen to
    minimise it (alternating between the two rows when both exist)."""
    cand = inputs.candidates
    const, priced = rep_terms(inputs, duals)
    stay, move = account_best(inputs, priced)
    if inputs.settings.allow_uncovered is False and np.isneginf(np.maximum(stay, move)).any():
        return float("inf")  # an account with no pair: nothing bounds a model that is infeasible anyway
    pot = np.where(cand.has_current, cand.potential, 0.0)
    moves_w = cand.has_current.astype(float)
    lam_m = lam_v = 0.0
    for _ in range(1 if inputs.max_moves is None or inputs.max_moved_value is None else 4):
        if inputs.max_moved_value is not None:
            lam_v = best_multiplier(stay, move - lam_m * moves_w, pot, inputs.max_moved_value)
        if inputs.max_moves is not None:
            lam_m = best_multiplier(stay, move - lam_v * pot, moves_w, inputs.max_moves)
    total = const + lam_m * (inputs.max_moves or 0.0) + lam_v * (inputs.max_moved_value or 0.0)
    return total + float(np.maximum(stay, move - lam_m * moves_w - lam_v * pot).sum())


def split_bound(inputs: AllocationInputs, subs: list[AllocationInputs],
                candidates: list[list[dict[str, float]]], extra: tuple[float, ...] = ()) -> tuple[float, float]:
    """The whole model's Lagrangian bound with one disruption multiplier ``lam`` common to all pieces and, per
    piece, whichever of its candidate rep-row duals gives the smallest term at that ``lam``; and that ``lam``.

    With the disruption row priced at ``lam`` the pieces separate, so

    .. math:: L = \\lambda S + \\sum_r \\min_{y \\in Y_r} L_r(y, \\lambda)

    is a valid bound for every ``lam >= 0`` and every choice of duals per piece. The pieces' duals at their own
    budget share carry their own budget duals, which differ between pieces; duals read at other budgets (the
    scan around each share) give each piece a term that suits a common ``lam``. ``lam`` is tried at every
    piece's budget duals, at ``extra`` and on a geometric grid between them; the smallest value is returned.
    The result is +inf when the model has both disruption rows or neither (``whole_bound`` serves then).
    """
    if (inputs.max_moved_value is None) == (inputs.max_moves is None):
        return float("inf"), 0.0
    value = inputs.max_moved_value is not None
    budget = float((inputs.max_moved_value if value else inputs.max_moves) or 0.0)
    key = "disruption_value" if value else "disruption_moves"
    lams = {max(float(x), 0.0) for x in extra}
    terms: list[list[tuple[float, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]]] = []
    for sub, cands in zip(subs, candidates, strict=True):
        c = sub.candidates
        weight = np.where(c.has_current, c.potential, 0.0) if value else c.has_current.astype(float)
        own = []
        for duals in cands:
            lams.add(max(duals.get(key, 0.0), 0.0))
            const, priced = rep_terms(sub, {k: v for k, v in duals.items() if not k.startswith("disruption_")})
            stay, move = account_best(sub, priced)
            if not np.isfinite(np.maximum(stay, move)).all():
                continue  # an account with nowhere to go under these duals: no finite term
            own.append((const, stay, move, weight))
        if not own:
            return float("inf"), 0.0
        terms.append(own)
    grid = np.array(sorted(lams))
    positive = grid[grid > 0]
    if positive.size:
        grid = np.union1d(grid, np.geomspace(positive.min() / 2, positive.max() * 2, 40))

    def at(lam: float) -> tuple[float, list[int]]:
        total, picks = lam * budget, []
        for own in terms:
            vals = [const + float(np.maximum(stay, move - lam * w).sum()) for const, stay, move, w in own]
            picks.append(int(np.argmin(vals)))
            total += vals[picks[-1]]
        return total, picks

    best, best_lam, picks = grid_min(at, grid)
    # With each piece's duals fixed the bound is convex in lam: its exact minimum, then the choice again.
    for _ in range(3):
        chosen = [own[k] for own, k in zip(terms, picks, strict=True)]
        lam = best_multiplier(np.concatenate([t[1] for t in chosen]), np.concatenate([t[2] for t in chosen]),
                               np.concatenate([t[3] for t in chosen]), budget)
        total, new_picks = at(lam)
        if total >= best - 1e-12 * abs(best):
            break
        best, best_lam, picks = total, lam, new_picks
    return best, best_lam


def grid_min(at: Callable[[float], tuple[float, list[int]]], grid: NDArray[np.float64]
             ) -> tuple[float, float, list[int]]:
    """The smallest ``at(lam)`` over ``grid``: (value, lam, the duals chosen per piece)."""
    best: tuple[float, float, list[int]] = (float("inf"), 0.0, [])
    for lam in grid.tolist():
        total, picks = at(lam)
        if total < best[0]:
            best = (total, lam, picks)
    return best
