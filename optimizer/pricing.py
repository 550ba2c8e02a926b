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
from collections.abc import Callable

import highspy
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer.highs_model import build_highs, pair_columns, solve_highs, start_from
from optimizer.model import AllocationInputs
from optimizer.solve import SolveOutcome
from optimizer.solvers import HiGHS
from optimizer.status import Status

__all__ = ["account_best", "initial_columns", "lagrangian", "reduced_costs", "rep_terms", "restricted_lp"]


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
    by_value = _first_in_account(acc, -inputs.coef, best)
    by_km = _first_in_account(acc, pairs["travel_km"].to_numpy(dtype=float), nearest)
    cur = inputs.candidates.current[acc] == pairs["rep"].to_numpy()
    keep = by_value | by_km | cur | pairs["locked"].to_numpy(dtype=bool)
    return np.flatnonzero(keep).astype(np.int64)


def _first_in_account(acc: NDArray[np.int64], values: NDArray[np.float64], k: int) -> NDArray[np.bool_]:
    """True for each account's first ``k`` pairs by ``values``, ties to the earlier pair and NaN last: the pairs
    a stable sort by value and a count within each account would rank below ``k``.

    Found in ``k`` passes that each take every account's smallest pair left, since a sort of all pairs and a
    groupby (pandas) took 30 s over the regions of 250,000 x 1,000.
    """
    # The identity, and cheap, when pairs come sorted by account as candidate_pairs leaves them.
    order = np.argsort(acc, kind="stable")
    grouped, v = acc[order], values[order]
    chosen = np.zeros(v.size, dtype=bool)
    if v.size == 0:
        return chosen
    new_run = np.r_[True, grouped[1:] != grouped[:-1]]
    starts = np.flatnonzero(new_run)
    run = np.cumsum(new_run) - 1
    nan = np.isnan(v)
    for _ in range(k):
        open_ = ~chosen & ~nan
        low = np.minimum.reduceat(np.where(open_, v, np.inf), starts)
        hit = open_ & (v == low[run])
        # An account with only NaN left takes its first NaN, as a sort puts NaN last.
        hit |= ~chosen & nan & ~np.logical_or.reduceat(hit, starts)[run]
        at = np.flatnonzero(hit)
        if at.size == 0:
            break
        chosen[at[np.r_[True, run[at][1:] != run[at][:-1]]]] = True
    out = np.zeros(v.size, dtype=bool)
    out[order] = chosen
    return out


def _today_first(inputs: AllocationInputs, cols: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per modelled account (sorted), the position in ``cols`` of the pair to start from: its locked pair, else
    today's, else its best by objective coefficient (today's plan moves nothing, so the disruption budget holds
    at the start)."""
    pairs = inputs.candidates.pairs
    acc = pairs["account"].to_numpy()[cols]
    today = inputs.candidates.current[acc] == pairs["rep"].to_numpy()[cols]
    locked = pairs["locked"].to_numpy(dtype=bool)[cols]
    # Sort by account, then locked first, today's next, then by coefficient (best first): the first per account.
    order = np.lexsort((-inputs.coef[cols], ~today, ~locked, acc))
    first = np.ones(order.size, dtype=bool)
    first[1:] = acc[order][1:] != acc[order][:-1]
    return np.asarray(order[first], dtype=np.int64)


def rep_terms(inputs: AllocationInputs, duals: dict[str, float]) -> tuple[float, NDArray[np.float64]]:
    """The rep rows' part of ``L(y)``: ``sum_i y_i b_i`` over the capacity and band rows, and every pair's
    coefficient priced by them, ``c_p - sum_i y_i A_ip`` (signs clipped to keep the bound valid)."""
    cand = inputs.candidates
    pairs = cand.pairs
    n_rep = len(cand.rep_ids)
    rep = pairs["rep"].to_numpy()
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
    return bound, priced


def account_best(inputs: AllocationInputs, priced: NDArray[np.float64]) -> tuple[NDArray[np.float64],
                                                                                  NDArray[np.float64]]:
    """Per account, the best priced coefficient among its pairs that keep today's rep (or, for an account without
    one, any pair) and among those that move it, leaving it uncovered counted with the moves.

    The subproblem of ``L(y)`` for account ``a`` is ``max(stay_a, move_a - y_moves - y_value * v_a)``: both
    disruption rows charge every moving pair of an account alike, so two numbers per account give the bound for
    any multipliers of those rows in O(accounts). An account with a locked pair can take only that pair.
    """
    cand = inputs.candidates
    pairs = cand.pairs
    n_acc = len(cand.account_ids)
    acc = pairs["account"].to_numpy()
    moved = pairs["moved"].to_numpy(dtype=bool)
    locked = pairs["locked"].to_numpy(dtype=bool)
    has_lock = np.zeros(n_acc, dtype=bool)
    has_lock[acc[locked]] = True
    eligible = ~has_lock[acc] | locked
    stay = np.full(n_acc, -np.inf)
    move = np.full(n_acc, -np.inf)
    np.maximum.at(stay, acc[eligible & ~moved], priced[eligible & ~moved])
    np.maximum.at(move, acc[eligible & moved], priced[eligible & moved])
    if inputs.settings.allow_uncovered:
        unc = inputs.uncovered_coef
        today = cand.has_current
        move = np.where(has_lock | ~today, move, np.maximum(move, unc))
        stay = np.where(has_lock | today, stay, np.maximum(stay, unc))
    return stay, move


def lagrangian(inputs: AllocationInputs, duals: dict[str, float]) -> tuple[float, NDArray[np.float64]]:
    """The Lagrangian bound ``L(y)`` (maximising form) and the priced coefficient ``c_p - sum_i y_i A_ip`` of
    every candidate pair, from row duals by row name (signs clipped to keep the bound valid)."""
    cand = inputs.candidates
    pairs = cand.pairs
    n_acc = len(cand.account_ids)
    acc = pairs["account"].to_numpy()
    bound, priced = rep_terms(inputs, duals)
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


def restricted_lp(inputs: AllocationInputs, deadline: float, rounds: int = 20, tolerance: float = 1e-6,
                  on_final: Callable[[highspy.Highs, dict[str, int]], None] | None = None,
                  warm: NDArray[np.int64] | None = None,
                  on_round: Callable[[int, float, float], None] | None = None
                  ) -> tuple[SolveOutcome, NDArray[np.int64], float]:
    """LP relaxation by column generation, warm-started: new columns are added to the loaded HiGHS model and
    the LP is re-optimised from the previous basis.

    ``on_final``, when given, is called with the loaded HiGHS model (at the returned solution, which it may
    change afterwards) and its row positions by name, when the last restricted LP solved without slack.
    ``warm`` adds pairs to the first restricted LP (e.g. the columns an earlier solve of a similar model ended
    with, so that fewer pricing rounds are needed). ``on_round``, when given, is called after each pricing
    round with the round number, the best proven bound so far and the restricted LP's value (for progress).

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
    if warm is not None:
        cols = np.union1d(cols, warm)
    model = build_highs(inputs, relax=True, pair_index=cols, elastic=True)
    # Today's plan as the starting basis: the dual simplex then needed 2,700 pivots instead of 33,000 from the
    # all-slack basis on 20,000 x 200 (4 s instead of 15 s).
    start_from(model, _today_first(inputs, cols))
    out = solve_highs(model, max(deadline - time.perf_counter(), 0.5))
    if out.claim is not Status.OPTIMAL:
        return out, cols, float("nan")
    highs = model.highs
    row_of = model.row_of
    names = list(row_of)
    index = np.array([row_of[n] for n in names])
    col_index = list(range(cols.size))
    unc_index = model.uncovered
    slack_index = model.slacks.tolist()
    values0 = np.asarray(highs.getSolution().col_value)
    slack_used = float(values0[slack_index].sum()) if slack_index else 0.0
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
    at_good = True  # the model loaded in HiGHS is at the solution ``good`` holds
    for round_no in range(rounds):
        duals = good.row_duals
        objective = good.objective
        bound, _ = lagrangian(inputs, duals)
        best_bound = min(best_bound, bound)
        if on_round is not None:
            on_round(round_no + 1, best_bound, objective)
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
        added_arr, starts, rows_all, vals_all = pair_columns(inputs, new, row_of)
        if added_arr.size == 0:
            break
        added = added_arr.tolist()
        first = highs.getNumCol()
        k = len(added)
        highs.addCols(k, -inputs.coef[added_arr], np.zeros(k), np.ones(k), rows_all.size, starts, rows_all, vals_all)
        col_index.extend(range(first, first + k))
        order.extend(added)
        in_model[added] = True
        at_good = False
        if HiGHS.rerun(highs, deadline - time.perf_counter()) is not Status.OPTIMAL:
            break
        at_good = True
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
    if on_final is not None and slack_used <= 1e-7 and at_good:
        on_final(highs, row_of)
    if slack_used > 1e-7:
        # Slack still in use: when every pair is priced out the full LP is infeasible too (the penalties exceed
        # any pair's worth); otherwise time ran out before a plan without slack was found.
        good = dataclasses.replace(good, claim=Status.INFEASIBLE if priced_out else Status.NO_SOLUTION)
    good = dataclasses.replace(good, bound=best_bound)
    return good, np.asarray(good_order, dtype=np.int64), best_bound
