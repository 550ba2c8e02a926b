"""Column generation for the LP relaxation of large models, with a Lagrangian bound that is proven at every step.

A model with half a million candidate pairs is slow to solve as one LP, but few pairs can ever be worth taking.
The LP is solved over a restricted set (each account's best few pairs and each rep's best few accounts, plus
today's and locked pairs); its duals price every candidate pair in numpy, and pairs with a positive reduced cost
join the set until none is left.

The duals also give a bound valid for the full MIP at every iteration (Lagrangian relaxation of every row but
the cover rows): for multipliers :math:`y_i` of the capacity, band and disruption rows (:math:`y \\ge 0` on
:math:`\\le` rows, :math:`y \\le 0` on :math:`\\ge` rows)

.. math:: L(y) = \\sum_i y_i b_i + \\sum_a \\max_{p \\in P(a)} \\Big(c_p - \\sum_i y_i A_{ip}\\Big)
          \\;\\ge\\; z_{LP} \\;\\ge\\; z_{MIP}

so the reported gap is measured against a proven bound even if the pricing loop is stopped early.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer.model import AllocationInputs, build
from optimizer.solve import SolveOutcome, solve

__all__ = ["initial_columns", "lagrangian", "reduced_costs", "restricted_lp"]


def initial_columns(inputs: AllocationInputs, per_account: int = 4, per_rep_factor: float = 2.0) -> NDArray[np.int64]:
    """Starting pairs: each account's best ``per_account`` by objective coefficient, each rep's best
    ``per_rep_factor`` x (accounts per rep) accounts, today's pairs and locked pairs.

    Examples
    --------
    >>> import scenarios
    >>> from optimizer.model import prepare
    >>> inputs = prepare(scenarios.load("tiny"))
    >>> cols = initial_columns(inputs, per_account=1)
    >>> 0 < len(cols) <= inputs.n_pairs
    True
    """
    pairs = inputs.candidates.pairs
    frame = pd.DataFrame({"account": pairs["account"].to_numpy(), "rep": pairs["rep"].to_numpy(),
                          "c": -inputs.coef})
    frame = frame.sort_values("c", kind="stable")
    by_acc = frame.groupby("account").cumcount().reindex(pairs.index).to_numpy()
    by_rep = frame.groupby("rep").cumcount().reindex(pairs.index).to_numpy()
    n_acc, n_rep = len(inputs.candidates.account_ids), len(inputs.candidates.rep_ids)
    per_rep = int(np.ceil(per_rep_factor * n_acc / max(n_rep, 1)))
    cur = inputs.candidates.current[pairs["account"].to_numpy()] == pairs["rep"].to_numpy()
    keep = (by_acc < per_account) | (by_rep < per_rep) | cur | pairs["locked"].to_numpy(dtype=bool)
    return np.flatnonzero(keep).astype(np.int64)


def lagrangian(inputs: AllocationInputs, duals: dict[str, float]) -> tuple[float, NDArray[np.float64]]:
    """The Lagrangian bound ``L(y)`` (maximising form) and the priced coefficient ``c_p - sum_i y_i A_ip`` of
    every candidate pair, from row duals by row name (signs clipped to keep the bound valid)."""
    cand = inputs.candidates
    pairs = cand.pairs
    n_rep, n_acc = len(cand.rep_ids), len(cand.account_ids)
    rep = pairs["rep"].to_numpy()
    acc = pairs["account"].to_numpy()
    priced = inputs.coef.copy()
    bound = 0.0
    y_cap = np.array([max(duals.get(f"capacity_{r}", 0.0), 0.0) for r in range(n_rep)])
    finite = np.isfinite(cand.capacity)
    y_cap[~finite] = 0.0
    priced -= y_cap[rep] * pairs["hours"].to_numpy(dtype=float)
    bound += float((y_cap[finite] * cand.capacity[finite]).sum())
    for k, band in enumerate(inputs.bands):
        y_hi = np.array([max(duals.get(f"band_{k}_max_{r}", 0.0), 0.0) for r in range(n_rep)])
        y_lo = np.array([min(duals.get(f"band_{k}_min_{r}", 0.0), 0.0) for r in range(n_rep)])
        y_hi[~np.isfinite(band.high)] = 0.0
        y_lo[~np.isfinite(band.low)] = 0.0
        priced -= (y_hi + y_lo)[rep] * band.weight
        bound += float(np.where(y_hi != 0, y_hi * band.high, 0.0).sum())
        bound += float(np.where(y_lo != 0, y_lo * band.low, 0.0).sum())
    moved = pairs["moved"].to_numpy(dtype=float)
    y_moves = max(duals.get("disruption_moves", 0.0), 0.0) if inputs.max_moves is not None else 0.0
    y_value = max(duals.get("disruption_value", 0.0), 0.0) if inputs.max_moved_value is not None else 0.0
    priced -= moved * (y_moves + y_value * cand.potential[acc])
    if inputs.max_moves is not None:
        bound += y_moves * inputs.max_moves
    if inputs.max_moved_value is not None:
        bound += y_value * inputs.max_moved_value
    locked = pairs["locked"].to_numpy(dtype=bool)
    has_lock = np.zeros(n_acc, dtype=bool)
    has_lock[acc[locked]] = True
    # An account with a locked pair can only take that pair in the subproblem.
    eligible = ~has_lock[acc] | locked
    best = np.full(n_acc, -np.inf)
    np.maximum.at(best, acc[eligible], priced[eligible])
    if inputs.settings.allow_uncovered:
        unc = inputs.uncovered_coef - cand.has_current * (y_moves + y_value * cand.potential)
        best = np.where(has_lock, best, np.maximum(best, unc))
    return bound + float(best.sum()), priced


def reduced_costs(inputs: AllocationInputs, duals: dict[str, float]) -> NDArray[np.float64]:
    """Reduced cost of every candidate pair (maximising form; <= 0 at an LP optimum, 0 on basic pairs)."""
    _, priced = lagrangian(inputs, duals)
    n_acc = len(inputs.candidates.account_ids)
    u = np.array([duals.get(f"cover_{a}", 0.0) for a in range(n_acc)])
    return np.asarray(priced - u[inputs.candidates.pairs["account"].to_numpy()], dtype=float)


def restricted_lp(inputs: AllocationInputs, deadline: float, rounds: int = 12,
                  tolerance: float = 1e-6) -> tuple[SolveOutcome, NDArray[np.int64], float]:
    """LP relaxation by column generation.

    Returns
    -------
    tuple
        The last restricted LP outcome, the pair positions it modelled, and the best proven bound (NaN when
        the first restricted LP already failed).
    """
    cols = initial_columns(inputs)
    best_bound = float("inf")
    acc = inputs.candidates.pairs["account"].to_numpy()
    out: SolveOutcome | None = None
    for _ in range(rounds):
        remaining = deadline - time.perf_counter()
        out = solve(build(inputs, relax=True, pair_index=cols), "highs", max(remaining, 0.5))
        if out.claim != "optimal":
            return out, cols, float("nan") if not np.isfinite(best_bound) else best_bound
        bound, _ = lagrangian(inputs, out.row_duals)
        best_bound = min(best_bound, bound)
        rc = reduced_costs(inputs, out.row_duals)
        rc[cols] = -np.inf
        n_acc = len(inputs.candidates.account_ids)
        scale = max(abs(best_bound), 1.0)
        if best_bound - out.objective <= tolerance * scale or not (rc > tolerance * scale / n_acc).any():
            break
        if time.perf_counter() > deadline:
            break
        # Add each account's best few improving pairs.
        pos = np.flatnonzero(rc > tolerance * scale / n_acc)
        frame = pd.DataFrame({"p": pos, "a": acc[pos], "rc": -rc[pos]}).sort_values("rc", kind="stable")
        new = frame[frame.groupby("a").cumcount() < 3]["p"].to_numpy(dtype=np.int64)
        cols = np.union1d(cols, new)
    assert out is not None
    return out, cols, best_bound
