"""The assignment model handed to HiGHS straight from the numpy arrays: the large-model path.

``model.build`` makes one PuLP variable and one PuLP row object per pair and row; at half a million restricted
columns that hand-over, not the simplex, was most of a restricted LP's time. ``build_highs`` builds the same
model (same rows, same row names, same bounds, same objective, same elastic slacks) as one compressed-column
matrix and loads it with a few bulk calls, so its cost is numpy over the pairs. Like PuLP's HiGHS interface it
minimises the negated objective; ``solve_highs`` reads the claim back as a ``SolveOutcome`` in the maximising
form, with the duals by row name, so the pricing and relax-and-fix code read either model the same way.

CBC and the small full models keep the PuLP path (``model.build``): it is what the golden results were made with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from optimizer.model import AllocationInputs
from optimizer.solve import SolveOutcome
from optimizer.solvers import HiGHS, solver_output_to_log
from optimizer.status import Status

__all__ = ["HighsModel", "build_highs", "pair_columns", "solve_highs", "start_from"]

_INF = highspy.kHighsInf


@dataclass(eq=False)
class HighsModel:
    """A model loaded in HiGHS, with where each pair, uncovered account and slack sits.

    Parameters
    ----------
    inputs
        From ``prepare``.
    highs
        The loaded solver (minimising the negated objective).
    pair_index
        Global pair positions of the pair columns, in column order (columns ``0 .. len(pair_index)-1``).
    uncovered
        Column of each modelled account's uncovered share (account position -> column).
    slacks
        Columns of the elastic slacks.
    row_of
        Row position by name (``cover_<a>``, ``capacity_<r>``, ``band_<k>_min_<r>``, ``band_<k>_max_<r>``,
        ``disruption_moves``, ``disruption_value``), the names ``model.build`` gives.
    relaxed
        True for the LP relaxation.
    """

    inputs: AllocationInputs
    highs: highspy.Highs
    pair_index: NDArray[np.int64]
    uncovered: dict[int, int]
    slacks: NDArray[np.int64]
    row_of: dict[str, int]
    relaxed: bool
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    slack_row: NDArray[np.int64]


def pair_columns(inputs: AllocationInputs, new: NDArray[np.int64], row_of: dict[str, int]
             ) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]:
    """The columns of pairs ``new`` in a built model, in compressed-column form: the pairs kept (those whose rows
    are all in the model), each one's start, and the row positions and coefficients of their entries.

    Entries per pair, in this order: cover, capacity, each band's min and max, moves, moved potential; done in
    numpy over all new pairs at once (a Python loop over pairs took a third of the column generation time).
    """
    cand = inputs.candidates
    pairs = cand.pairs
    n_rep, n_acc = len(cand.rep_ids), len(cand.account_ids)
    rep = pairs["rep"].to_numpy()[new]
    acc = pairs["account"].to_numpy()[new]
    moved = pairs["moved"].to_numpy(dtype=bool)[new]
    absent, unused = -1, -2

    def positions(prefix: str, size: int, needed: NDArray[np.bool_]) -> NDArray[np.int64]:
        out = np.array([row_of.get(f"{prefix}{i}", absent) for i in range(size)], dtype=np.int64)
        return np.where(needed, out, unused)

    cols_rows = [positions("cover_", n_acc, np.ones(n_acc, dtype=bool))[acc]]
    cols_vals = [np.ones(new.size)]
    cols_rows.append(positions("capacity_", n_rep, np.isfinite(cand.capacity))[rep])
    cols_vals.append(pairs["hours"].to_numpy(dtype=float)[new])
    for k, band in enumerate(inputs.bands):
        for side, limit in (("min", band.low), ("max", band.high)):
            cols_rows.append(positions(f"band_{k}_{side}_", n_rep, np.isfinite(limit))[rep])
            cols_vals.append(band.weight[new])
    budgets: tuple[tuple[str, float | None, NDArray[np.float64]], ...] = (
        ("disruption_moves", inputs.max_moves, np.ones(new.size)),
        ("disruption_value", inputs.max_moved_value, cand.potential[acc]))
    for name, budget, weight in budgets:
        row = row_of.get(name, absent) if budget is not None else unused
        cols_rows.append(np.where(moved, row, unused))
        cols_vals.append(weight)
    rows = np.column_stack(cols_rows)
    vals = np.column_stack(cols_vals)
    keep = ~(rows == absent).any(axis=1)
    rows, vals = rows[keep], vals[keep]
    entry = (rows >= 0) & (vals != 0.0)
    starts = np.concatenate([[0], np.cumsum(entry.sum(axis=1))[:-1]]).astype(np.int32)
    return new[keep], starts, rows[entry].astype(np.int32), vals[entry].astype(float)


def _penalty(top: float, values: NDArray[np.float64]) -> float:
    """A slack unit must cost more than any pair could earn with it: the largest coefficient per smallest use."""
    pos = np.abs(values[values != 0])
    return top / float(pos.min()) if pos.size else top


def build_highs(inputs: AllocationInputs, *, relax: bool = False, pair_index: NDArray[np.int64] | None = None,
                fixed: NDArray[np.bool_] | None = None, fixed_uncovered: NDArray[np.bool_] | None = None,
                elastic: bool = False) -> HighsModel:
    """Load the model into HiGHS from arrays; the parameters mean what they mean for ``model.build``.

    Examples
    --------
    >>> import scenarios
    >>> from optimizer.model import prepare
    >>> m = build_highs(prepare(scenarios.load("tiny")), relax=True)
    >>> m.highs.getNumCol() >= m.inputs.n_pairs
    True
    """
    cand = inputs.candidates
    st = inputs.settings
    pairs = cand.pairs
    n_acc, n_rep = len(cand.account_ids), len(cand.rep_ids)
    idx = np.arange(inputs.n_pairs, dtype=np.int64) if pair_index is None else np.asarray(pair_index, dtype=np.int64)
    rep = pairs["rep"].to_numpy()[idx]
    acc = pairs["account"].to_numpy()[idx]
    accounts = np.unique(acc) if pair_index is not None else np.arange(n_acc, dtype=np.int64)
    if fixed_uncovered is not None:
        accounts = np.union1d(accounts, np.flatnonzero(fixed_uncovered))
    has_pair = np.zeros(n_rep, dtype=bool)
    has_pair[rep] = True

    # Rows, named and ordered as model.build adds them.
    names: list[str] = [f"cover_{a}" for a in accounts.tolist()]
    lower: list[float] = [1.0] * accounts.size
    upper: list[float] = [1.0] * accounts.size
    slack_rows: list[tuple[int, float, float]] = []  # (row, sign, penalty)
    top = 10.0 * max(float(np.abs(inputs.coef).max(initial=0.0)), 1.0)

    def add(name: str, lo: float, hi: float, sign: float, penalty: float) -> None:
        if elastic:
            slack_rows.append((len(names), sign, penalty))
        names.append(name)
        lower.append(lo)
        upper.append(hi)

    cap_pen = _penalty(top, pairs["hours"].to_numpy(dtype=float))
    for r in np.flatnonzero(has_pair & np.isfinite(cand.capacity)).tolist():
        add(f"capacity_{r}", -_INF, float(cand.capacity[r]), -1.0, cap_pen)
    for k, band in enumerate(inputs.bands):
        pen = _penalty(top, band.weight)
        for r in np.flatnonzero(has_pair).tolist():
            if np.isfinite(band.low[r]):
                add(f"band_{k}_min_{r}", float(band.low[r]), _INF, 1.0, pen)
            if np.isfinite(band.high[r]):
                add(f"band_{k}_max_{r}", -_INF, float(band.high[r]), -1.0, pen)
    if inputs.max_moves is not None:
        add("disruption_moves", -_INF, float(inputs.max_moves), -1.0, top)
    if inputs.max_moved_value is not None:
        add("disruption_value", -_INF, float(inputs.max_moved_value), -1.0, _penalty(top, cand.potential))
    row_of = {n: i for i, n in enumerate(names)}

    with solver_output_to_log():  # the first Highs of a process prints a banner on fd 1
        highs = highspy.Highs()  # type: ignore[no-untyped-call]
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 2)  # as PuLP's HiGHS interface sets it: one value per process
        highs.addRows(len(names), np.asarray(lower), np.asarray(upper), 0, np.zeros(0, dtype=np.int32),
                      np.zeros(0, dtype=np.int32), np.zeros(0))
    kept, starts, rows, vals = pair_columns(inputs, idx, row_of)
    if kept.size != idx.size:  # every row a modelled pair needs was added above
        raise AssertionError("a modelled pair refers to a row the model does not have")
    locked = pairs["locked"].to_numpy(dtype=bool)[idx]
    if fixed is not None:
        locked = locked | fixed
    k = idx.size
    highs.addCols(k, -inputs.coef[idx], locked.astype(float), np.ones(k), rows.size, starts, rows, vals)
    if not relax and k:
        highs.changeColsIntegrality(k, np.arange(k, dtype=np.int32),
                                    np.full(k, highspy.HighsVarType.kInteger))
    uncovered: dict[int, int] = {}
    if st.allow_uncovered and accounts.size:
        ua = accounts
        n = ua.size
        lb = np.zeros(n) if fixed_uncovered is None else fixed_uncovered[ua].astype(float)
        today = cand.has_current[ua]
        cols_rows = [np.array([row_of[f"cover_{a}"] for a in ua.tolist()], dtype=np.int64)]
        cols_vals = [np.ones(n)]
        for name, weight in (("disruption_moves", np.ones(n)), ("disruption_value", cand.potential[ua])):
            if name in row_of:
                cols_rows.append(np.where(today, row_of[name], -1))
                cols_vals.append(weight)
        r_all = np.column_stack(cols_rows)
        v_all = np.column_stack(cols_vals)
        entry = (r_all >= 0) & (v_all != 0.0)
        ustarts = np.concatenate([[0], np.cumsum(entry.sum(axis=1))[:-1]]).astype(np.int32)
        first = highs.getNumCol()
        highs.addCols(n, -inputs.uncovered_coef[ua], lb, np.ones(n), int(entry.sum()), ustarts,
                      r_all[entry].astype(np.int32), v_all[entry].astype(float))
        uncovered = dict(zip(ua.tolist(), range(first, first + n), strict=True))
    slack_cols = np.zeros(0, dtype=np.int64)
    if slack_rows:
        n = len(slack_rows)
        srows = np.array([r for r, _, _ in slack_rows], dtype=np.int32)
        first = highs.getNumCol()
        highs.addCols(n, np.array([p for _, _, p in slack_rows]), np.zeros(n), np.full(n, _INF), n,
                      np.arange(n, dtype=np.int32), srows, np.array([s for _, s, _ in slack_rows]))
        slack_cols = np.arange(first, first + n, dtype=np.int64)
    slack_row = np.array([r for r, _, _ in slack_rows], dtype=np.int64)
    return HighsModel(inputs, highs, idx, uncovered, slack_cols, row_of, relax, np.asarray(lower),
                      np.asarray(upper), slack_row)


def start_from(model: HighsModel, take: NDArray[np.int64]) -> bool:
    """Give a loaded elastic LP a primal feasible starting basis in which each account takes one pair.

    ``take`` holds one column position per modelled account (in the order of its cover rows). Those columns are
    basic at 1; every capacity, band and budget row the choice keeps is basic (its slack), and every row it
    breaks sits at the broken limit with its elastic slack basic. The basis matrix is block triangular, so it is
    nonsingular, and every basic value lies within its bounds: the simplex starts from a plan instead of first
    covering every account from the all-slack basis (one pivot per account). Returns False, setting nothing,
    when a broken row has no slack (a model that is not elastic).
    """
    highs = model.highs
    n_row = model.row_lower.size
    n_col = int(highs.getNumCol())
    pairs = model.pair_index[take]
    _, _, rows, vals = pair_columns(model.inputs, pairs, model.row_of)
    activity = np.bincount(rows, weights=vals, minlength=n_row)
    tol = 1e-9 * np.maximum(1.0, np.abs(activity))
    low_broken = activity < model.row_lower - tol
    high_broken = activity > model.row_upper + tol
    broken = low_broken | high_broken
    has_slack = np.zeros(n_row, dtype=bool)
    has_slack[model.slack_row] = True
    if (broken & ~has_slack).any():
        return False
    cols = np.full(n_col, highspy.HighsBasisStatus.kLower, dtype=object)
    cols[take] = highspy.HighsBasisStatus.kBasic
    slack_of = np.full(n_row, -1, dtype=np.int64)
    slack_of[model.slack_row] = model.slacks
    cols[slack_of[broken]] = highspy.HighsBasisStatus.kBasic
    row_status = np.full(n_row, highspy.HighsBasisStatus.kBasic, dtype=object)
    n_cover = take.size
    row_status[:n_cover] = highspy.HighsBasisStatus.kLower
    row_status[low_broken] = highspy.HighsBasisStatus.kLower
    row_status[high_broken] = highspy.HighsBasisStatus.kUpper
    basis = highspy.HighsBasis()
    basis.col_status = cols.tolist()
    basis.row_status = row_status.tolist()
    basis.valid = True
    return bool(highs.setBasis(basis) == highspy.HighsStatus.kOk)


def solve_highs(model: HighsModel, time_limit: float, mip_gap: float = 0.0) -> SolveOutcome:
    """Solve a loaded model and read back its claim in the maximising form (see ``solve.solve``).

    HiGHS's interrupt callbacks stop it one second past ``time_limit`` as well, as in the PuLP adapter.

    Examples
    --------
    >>> import scenarios
    >>> from optimizer.model import prepare
    >>> out = solve_highs(build_highs(prepare(scenarios.load("tiny"))), 30.0)
    >>> out.claim
    <Status.OPTIMAL: 'optimal'>
    """
    start = time.perf_counter()
    highs = model.highs
    limit = max(float(time_limit), 0.5)
    # HiGHS's time_limit counts the run time of every run of the object so far.
    highs.setOptionValue("time_limit", float(highs.getRunTime()) + limit)
    highs.setOptionValue("mip_rel_gap", float(mip_gap))
    deadline = start + limit + 1.0

    def stop(event: object) -> None:
        if time.perf_counter() > deadline:
            event.interrupt()  # type: ignore[attr-defined]

    highs.cbSimplexInterrupt += stop
    highs.cbIpmInterrupt += stop
    highs.cbMipInterrupt += stop
    with solver_output_to_log():
        highs.run()
    mip = not model.relaxed and model.pair_index.size > 0
    claim = HiGHS.claim(highs, mip=mip)
    inputs = model.inputs
    k = model.pair_index.size
    if claim in (Status.OPTIMAL, Status.FEASIBLE):
        sol = highs.getSolution()
        values = np.asarray(sol.col_value)
        x = values[:k]
        unc = {a: float(values[c]) for a, c in model.uncovered.items()}
        objective = float(inputs.coef[model.pair_index] @ x) + sum(
            float(inputs.uncovered_coef[a]) * v for a, v in unc.items())
    else:
        sol = None
        x = np.full(k, np.nan)
        unc = {}
        objective = float("nan")
    bound = float("nan")
    duals: dict[str, float] = {}
    reduced: NDArray[np.float64] | None = None
    if sol is not None and model.relaxed and claim is Status.OPTIMAL:
        bound = objective
        row_dual = np.asarray(sol.row_dual)
        duals = {n: -float(row_dual[i]) for n, i in model.row_of.items()}
        reduced = -np.asarray(sol.col_dual)[:k]
    elif sol is not None and not model.relaxed:
        bound = -float(highs.getInfo().mip_dual_bound)
    return SolveOutcome(claim, x, unc, objective, bound, time.perf_counter() - start, duals, reduced)


