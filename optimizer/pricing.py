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

import dataclasses
import time

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer.model import AllocationInputs, build
from optimizer.solve import SolveOutcome, solve
from optimizer.solvers import HiGHS
from optimizer.status import Status

__all__ = ["initial_columns", "lagrangian", "reduced_costs", "restricted_lp"]


def initial_columns(inputs: AllocationInputs, best: int = 2, nearest: int = 3) -> NDArray[np.int64]:
    """Starting pairs: each account's ``best`` pairs by objective coefficient and ``nearest`` pairs by travel
    (a balanced plan needs near, not only lucrative, reps), today's pairs and locked pairs.

    Examples
    --------
    >>> import scenarios
    >>> from optimizer.model import prepare
    >>> inputs = prepare(scenarios.load("tiny"))
    >>> cols = initial_columns(inputs, best=1, nearest=1)
    >>> 0 < len(cols) <= inputs.n_pairs
    True
    """
    pairs = inputs.candidates.pairs
    acc = pairs["account"].to_numpy()
    frame = pd.DataFrame({"account": acc, "c": -inputs.coef, "km": pairs["travel_km"].to_numpy(dtype=float)})
    by_value = frame.sort_values("c", kind="stable").groupby("account").cumcount().reindex(pairs.index).to_numpy()
    by_km = frame.sort_values("km", kind="stable").groupby("account").cumcount().reindex(pairs.index).to_numpy()
    cur = inputs.candidates.current[acc] == pairs["rep"].to_numpy()
    keep = (by_value < best) | (by_km < nearest) | cur | pairs["locked"].to_numpy(dtype=bool)
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


def _column(inputs: AllocationInputs, p: int, row_of: dict[str, int]) -> tuple[list[int], list[float]] | None:
    """Rows and coefficients of pair ``p`` in a built model (None when one of its rows is not in the model)."""
    pairs = inputs.candidates.pairs
    r = int(pairs["rep"].to_numpy()[p])
    a = int(pairs["account"].to_numpy()[p])
    entries: list[tuple[str, float]] = [(f"cover_{a}", 1.0)]
    if np.isfinite(inputs.candidates.capacity[r]):
        entries.append((f"capacity_{r}", float(pairs["hours"].to_numpy(dtype=float)[p])))
    for k, band in enumerate(inputs.bands):
        if np.isfinite(band.low[r]):
            entries.append((f"band_{k}_min_{r}", float(band.weight[p])))
        if np.isfinite(band.high[r]):
            entries.append((f"band_{k}_max_{r}", float(band.weight[p])))
    if bool(pairs["moved"].to_numpy()[p]):
        if inputs.max_moves is not None:
            entries.append(("disruption_moves", 1.0))
        if inputs.max_moved_value is not None:
            entries.append(("disruption_value", float(inputs.candidates.potential[a])))
    rows, vals = [], []
    for name, v in entries:
        if name not in row_of:
            return None
        if v != 0.0:
            rows.append(row_of[name])
            vals.append(v)
    return rows, vals


def restricted_lp(inputs: AllocationInputs, deadline: float, rounds: int = 20,
                  tolerance: float = 1e-6) -> tuple[SolveOutcome, NDArray[np.int64], float]:
    """LP relaxation by column generation, warm-started: new columns are added to the loaded HiGHS model and
    the LP is re-optimised from the previous basis.

    Returns
    -------
    tuple
        The final restricted LP outcome, the pair positions it models (in the order of ``outcome.x``), and the
        best proven bound (NaN when the first restricted LP failed).

    Examples
    --------
    >>> import time, scenarios
    >>> from optimizer.model import prepare
    >>> inputs = prepare(scenarios.load("tiny"))
    >>> out, cols, bound = restricted_lp(inputs, time.perf_counter() + 30)
    >>> str(out.claim), abs(bound - out.objective) <= 1e-6 * abs(bound)
    ('optimal', True)
    """
    start = time.perf_counter()
    cols = initial_columns(inputs)
    model = build(inputs, relax=True, pair_index=cols, elastic=True)
    out = solve(model, "highs", max(deadline - time.perf_counter(), 0.5))
    if out.claim is not Status.OPTIMAL:
        return out, cols, float("nan")
    highs = model.problem.solverModel
    row_of = {c.name: int(c.index) for c in model.problem.constraints()}
    names = list(row_of)
    index = np.array([row_of[n] for n in names])
    col_index = [int(v.index) for v in model.x]
    unc_index = {a: int(v.index) for a, v in model.uncovered.items()}
    slack_index = [int(v.index) for v in model.slacks]
    slack_used = sum(float(v.varValue or 0.0) for v in model.slacks)
    n_acc = len(inputs.candidates.account_ids)
    acc = inputs.candidates.pairs["account"].to_numpy()
    in_model = np.zeros(inputs.n_pairs, dtype=bool)
    in_model[cols] = True
    order = list(cols.tolist())
    duals = out.row_duals
    best_bound = float("inf")
    objective = out.objective
    good, good_order = out, list(order)
    priced_out = False
    for _ in range(rounds):
        duals = good.row_duals
        objective = good.objective
        bound, _ = lagrangian(inputs, duals)
        best_bound = min(best_bound, bound)
        rc = reduced_costs(inputs, duals)
        rc[in_model] = -np.inf
        scale = max(abs(best_bound), 1.0)
        threshold = tolerance * scale / n_acc
        if not (rc > threshold).any():
            priced_out = True
            break
        if best_bound - objective <= tolerance * scale and slack_used <= 1e-7:
            break
        if time.perf_counter() > deadline:
            break
        pos = np.flatnonzero(rc > threshold)
        frame = pd.DataFrame({"p": pos, "a": acc[pos], "rc": -rc[pos]}).sort_values("rc", kind="stable")
        new = frame[frame.groupby("a").cumcount() < 3]["p"].to_numpy(dtype=np.int64)
        starts: list[int] = []
        rows_all: list[int] = []
        vals_all: list[float] = []
        added: list[int] = []
        for p in new.tolist():
            col = _column(inputs, p, row_of)
            if col is None:
                continue
            starts.append(len(rows_all))
            rows_all.extend(col[0])
            vals_all.extend(col[1])
            added.append(p)
        if not added:
            break
        first = highs.getNumCol()
        k = len(added)
        highs.addCols(k, -inputs.coef[added], np.zeros(k), np.ones(k), len(rows_all), np.array(starts, dtype=np.int32),
                      np.array(rows_all, dtype=np.int32), np.array(vals_all, dtype=float))
        col_index.extend(range(first, first + k))
        order.extend(added)
        in_model[added] = True
        if HiGHS.rerun(highs, deadline - time.perf_counter()) is not Status.OPTIMAL:
            break
        sol = highs.getSolution()
        row_dual = np.asarray(sol.row_dual)[index]
        duals = {n: -float(v) for n, v in zip(names, row_dual.tolist(), strict=True)}
        values = np.asarray(sol.col_value)
        unc = {a: float(values[i]) for a, i in unc_index.items()}
        objective = float(inputs.coef[order] @ values[col_index]) + sum(
            float(inputs.uncovered_coef[a]) * v for a, v in unc.items())
        good = SolveOutcome(claim=Status.OPTIMAL, x=values[col_index], uncovered=unc, objective=objective,
                            bound=float("nan"), seconds=time.perf_counter() - start, row_duals=duals,
                            reduced_costs=-np.asarray(sol.col_dual)[col_index])
        good_order = list(order)
        slack_used = float(values[slack_index].sum()) if slack_index else 0.0
    if slack_used > 1e-7:
        # Slack still in use: when every pair is priced out the full LP is infeasible too (the penalties exceed
        # any pair's worth); otherwise time ran out before a plan without slack was found.
        good = dataclasses.replace(good, claim=Status.INFEASIBLE if priced_out else Status.NO_SOLUTION)
    good = dataclasses.replace(good, bound=best_bound)
    return good, np.asarray(good_order, dtype=np.int64), best_bound
