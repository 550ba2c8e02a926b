"""Large allocations piece by piece: independent regions solved side by side, the disruption budget split between
them, and one proven bound for the whole model.

When eligibility is regional the pair graph (reps and accounts joined by candidate pairs) falls apart into
pieces that share no rep and no account. Capacity, balance bands (their limits are numbers fixed before
solving, even when relative to a mean) and locks belong to one piece each; only the disruption budget rows
:math:`\\sum_p d_p x_p \\le S` span all pieces. They are split: piece :math:`r` gets :math:`S_r` with
:math:`\\sum_r S_r = S`, so the union of the pieces' plans is a plan of the whole model, and each piece is an
ordinary allocation solved by column generation and relax-and-fix (``pricing``, ``relax_fix``).

The bound is the Lagrangian bound of the whole model (``optimizer.piece_bound``), at the pieces' LP duals
and a disruption multiplier common to all pieces. The first split is proportional to the potential each piece has
today; each piece's LP value at budgets around its share (re-solved in its loaded LP from the optimal basis)
gives a concave curve; when the gap is not met the budget is split again to equalise the marginal values, and
the pieces whose share moved are solved once more.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, replace

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from optimizer.execution import (
    Deadline,
    Executor,
    LocalPool,
    Progress,
    ProgressCallback,
    RoundProgress,
    run_pieces,
    shown,
    time_shares,
    worker_slots,
)
from optimizer.model import AllocationInputs, Band
from optimizer.pairs import Candidates
from optimizer.piece_bound import split_bound, whole_bound
from optimizer.pricing import restricted_lp
from optimizer.relax_fix import relax_and_fix
from optimizer.solve import chosen_pairs
from optimizer.solvers import HiGHS
from optimizer.status import Status, relative_gap

__all__ = ["PieceResult", "PieceTask", "PiecedOutcome", "allocate_pieces", "pieces", "solve_piece"]

_log = logging.getLogger(__name__)

# Budget factors around a piece's share at which its LP is re-solved: its value for the second split, its duals for
# the bound. At 100,000 x 500 the points 0.6 and 1.4 as well gave the same bound to the last digit for 2 of a
# piece's 5-6 re-solves (a fifth of its time).
_SCAN = (0.8, 1.0, 1.2)
# A piece whose rebalanced share differs from its first by less than this fraction keeps its first plan: a tenth
# of the scan's 20 % steps, inside what interpolating the piece's LP-value curve between them can resolve.
_RESOLVE = 0.02
# A piece smaller than this share of the pairs is merged with its neighbours: a task per tiny component would
# cost more in hand-over than it saves.
_MIN_SHARE = 0.01
# The share of a piece's time its LP may use; the rest is for rounding. Rounding from an LP that pricing had not
# finished found no plan (its MIPs were infeasible at 12,500 x 60 and 40,381 x 162), while rounding from a finished
# one took 8 s of a 59 s piece at 31,250 x 125: so most of the time goes to finishing the LP.
_LP_SHARE = 0.8


@dataclass(frozen=True, eq=False)
class PieceTask:
    """One piece to solve: its own inputs (positions local to the piece), the shared deadline, the solver, and
    whether to read its LP value at budgets around its share."""

    inputs: AllocationInputs
    deadline: Deadline
    solver: str
    scan: bool
    columns: NDArray[np.int64] | None = None
    plan: bool = True
    share: float = 1.0  # of the time left when the piece starts (``execution.time_shares``)


@dataclass(frozen=True, eq=False)
class PieceResult:
    """What a piece hands back.

    Parameters
    ----------
    status
        ``feasible`` with a plan, ``infeasible`` (proven for the piece's budget), ``no_solution`` or ``error``.
    chosen
        Local pair position per local account (-1 uncovered); None without a plan.
    objective, bound
        The plan's objective and the piece's proven bound for its own budget (maximising form).
    duals
        The piece LP's duals of its capacity, band and budget rows by row name (local positions).
    curve
        ``(budget, LP value)`` points of the piece's restricted LP at budgets around its share.
    seconds
        Wall time in the worker.
    columns
        The pair positions of the piece's final restricted LP (to warm-start a later round).
    scanned
        The rep rows' duals (and the budget row's) of the restricted LP at each other budget of ``curve``.
    """

    status: Status
    chosen: NDArray[np.int64] | None
    objective: float
    bound: float
    duals: dict[str, float]
    curve: tuple[tuple[float, float], ...]
    seconds: float
    columns: NDArray[np.int64] | None = None
    scanned: tuple[dict[str, float], ...] = ()


@dataclass(frozen=True, eq=False)
class PiecedOutcome:
    """The whole model's plan from its pieces: chosen pair per account (None without a plan), the proven bound
    (maximising form), the duals of the rep rows by global row name, the number of pieces and rounds."""

    chosen: NDArray[np.int64] | None
    bound: float
    duals: dict[str, float]
    n_pieces: int
    rounds: int
    status: Status


def pieces(inputs: AllocationInputs) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """The independent pieces of the model: (rep positions, account positions) sharing no pair with any other.

    Components of the rep-account pair graph, ordered by their first account; components with less than
    ``_MIN_SHARE`` of the pairs are merged in that order, so the pieces do not depend on who solves them.
    """
    cand = inputs.candidates
    n_rep, n_acc = len(cand.rep_ids), len(cand.account_ids)
    rep = cand.pairs["rep"].to_numpy()
    acc = cand.pairs["account"].to_numpy()
    graph = coo_matrix((np.ones(rep.size, dtype=np.int8), (rep, n_rep + acc)), shape=(n_rep + n_acc,) * 2)
    _, label = connected_components(graph, directed=False)
    acc_label = label[n_rep:]
    # Number components by their first account so the order is the scenario's, not the graph library's.
    first = np.full(label.max() + 1, n_acc, dtype=np.int64)
    np.minimum.at(first, acc_label, np.arange(n_acc))
    order = np.argsort(first, kind="stable")
    size = np.bincount(label[n_rep + acc], minlength=label.max() + 1)
    groups: list[list[int]] = []
    run = 0
    for c in order.tolist():
        if first[c] == n_acc:  # reps without candidate pairs: nothing to decide
            continue
        if not groups or run >= _MIN_SHARE * max(rep.size, 1):
            groups.append([])
            run = 0
        groups[-1].append(c)
        run += int(size[c])
    out = []
    for g in groups:
        member = np.isin(label, g)
        out.append((np.flatnonzero(member[:n_rep]).astype(np.int64), np.flatnonzero(member[n_rep:]).astype(np.int64)))
    return out


def _restrict(inputs: AllocationInputs, reps: NDArray[np.int64], accounts: NDArray[np.int64],
              max_moves: float | None, max_moved_value: float | None) -> tuple[AllocationInputs, NDArray[np.int64]]:
    """The piece's own inputs (local positions) and the global positions of its pairs."""
    cand = inputs.candidates
    pairs = cand.pairs
    acc_map = np.full(len(cand.account_ids), -1, dtype=np.int64)
    acc_map[accounts] = np.arange(accounts.size)
    rep_map = np.full(len(cand.rep_ids), -1, dtype=np.int64)
    rep_map[reps] = np.arange(reps.size)
    where = np.flatnonzero(acc_map[pairs["account"].to_numpy()] >= 0)
    frame = pairs.iloc[where].reset_index(drop=True)
    frame["account"] = acc_map[frame["account"].to_numpy()]
    frame["rep"] = rep_map[frame["rep"].to_numpy()]
    current = cand.current[accounts]
    # An account whose rep of today serves in another piece still has one (it counts as moved wherever it
    # goes); a position past the piece's reps says so without naming a rep of the piece.
    local_current = np.where(current >= 0, np.where(rep_map[np.maximum(current, 0)] >= 0,
                                                    rep_map[np.maximum(current, 0)], reps.size), -1)
    sub = Candidates(rep_ids=cand.rep_ids[reps], account_ids=cand.account_ids[accounts], pairs=frame,
                     capacity=cand.capacity[reps], potential=cand.potential[accounts], current=local_current)
    bands = tuple(Band(b.attribute, b.weight[where], b.low[reps], b.high[reps], b.mean) for b in inputs.bands)
    # Each piece aims at half the gap: the split of the budget and the bound's assembly take their share.
    settings = inputs.settings.model_copy(update={"mip_gap": inputs.settings.mip_gap / 2})
    return replace(inputs, candidates=sub, settings=settings, coef=inputs.coef[where],
                   uncovered_coef=inputs.uncovered_coef[accounts], bands=bands, max_moves=max_moves,
                   max_moved_value=max_moved_value), where.astype(np.int64)


def solve_piece(task: PieceTask) -> PieceResult:
    """Solve one piece: its LP by column generation, then relax-and-fix (runs in a worker)."""
    start = time.perf_counter()
    inputs = task.inputs
    deadline = start + min(max(task.share, 0.0), 1.0) * max(task.deadline.perf() - start, 0.0)
    curve: list[tuple[float, float]] = []
    scanned: list[dict[str, float]] = []

    def scan(highs: highspy.Highs, row_of: dict[str, int]) -> None:
        name, budget = ("disruption_value", inputs.max_moved_value) if inputs.max_moved_value is not None else (
            "disruption_moves", inputs.max_moves)
        if not task.scan or budget is None or name not in row_of:
            return
        names = [n for n in row_of if not n.startswith("cover_")]
        rows = np.array([row_of[n] for n in names], dtype=np.int64)
        for f in _SCAN:
            if f == 1.0:
                continue  # the LP at the piece's own share is the one just solved
            highs.changeRowBounds(row_of[name], -highspy.kHighsInf, budget * f)
            if HiGHS.rerun(highs, deadline - time.perf_counter()) is Status.OPTIMAL:
                # The model minimises the negated objective; slack penalties, if any, stay in the value.
                curve.append((budget * f, -float(highs.getInfo().objective_function_value)))
                # The rep rows' duals at another budget dual: the whole bound picks, per piece, the duals that
                # suit a common disruption multiplier (``split_bound``).
                dual = np.asarray(highs.getSolution().row_dual)[rows]
                scanned.append({n: -float(v) for n, v in zip(names, dual.tolist(), strict=True)})

    now = time.perf_counter()
    lp, index, bound = restricted_lp(inputs, now + _LP_SHARE * (deadline - now), on_final=scan, warm=task.columns)
    duals = {k: v for k, v in lp.row_duals.items() if not k.startswith("cover_")}
    if curve and np.isfinite(lp.objective):
        curve.append((float(inputs.max_moved_value if inputs.max_moved_value is not None else inputs.max_moves or 0.0),
                      float(lp.objective)))
        curve.sort()
    extra = tuple(scanned)
    if lp.claim is Status.OPTIMAL and not task.plan:
        return PieceResult(Status.OPTIMAL, None, float("nan"), bound, duals, tuple(curve), time.perf_counter() - start,
                           index, extra)
    if lp.claim is not Status.OPTIMAL:
        status = lp.claim if lp.claim in (Status.INFEASIBLE, Status.ERROR) else Status.NO_SOLUTION
        return PieceResult(status, None, float("nan"), bound, duals, tuple(curve), time.perf_counter() - start,
                           index, extra)
    fixed = relax_and_fix(inputs, lp, index, bound, deadline, task.solver)
    if fixed is None:
        return PieceResult(Status.NO_SOLUTION, None, float("nan"), bound, duals, tuple(curve),
                           time.perf_counter() - start, index, extra)
    out, idx = fixed
    return PieceResult(Status.FEASIBLE, chosen_pairs(inputs, idx, out.x), out.objective, bound, duals, tuple(curve),
                       time.perf_counter() - start, index, extra)


def _global_duals(inputs: AllocationInputs, parts: list[tuple[NDArray[np.int64], NDArray[np.int64]]],
                  results: list[PieceResult]) -> dict[str, float]:
    """The pieces' rep-row duals renamed to the whole model's rep positions."""
    out: dict[str, float] = {}
    for (reps, _), res in zip(parts, results, strict=True):
        for name, value in res.duals.items():
            if name.startswith("disruption_"):
                continue
            head, _, local = name.rpartition("_")
            out[f"{head}_{int(reps[int(local)])}"] = value
    return out


def _shares(inputs: AllocationInputs, parts: list[tuple[NDArray[np.int64], NDArray[np.int64]]]
            ) -> tuple[list[float | None], list[float | None]]:
    """The first split of the budgets: potential (and accounts) of today's assignment in each piece."""
    cand = inputs.candidates
    today = np.where(cand.has_current, cand.potential, 0.0)
    total_v = float(today.sum()) or 1.0
    total_n = float(cand.has_current.sum()) or 1.0
    values: list[float | None] = []
    moves: list[float | None] = []
    for _, accounts in parts:
        share_v = float(today[accounts].sum()) / total_v
        share_n = float(cand.has_current[accounts].sum()) / total_n
        values.append(None if inputs.max_moved_value is None else inputs.max_moved_value * share_v)
        # Moves are counted in whole accounts; rounding down keeps the sum within the budget.
        moves.append(None if inputs.max_moves is None else float(np.floor(inputs.max_moves * share_n)))
    return values, moves


def _resplit(curves: list[tuple[tuple[float, float], ...]], current: list[float], total: float) -> list[float]:
    """Split ``total`` to maximise the sum of the pieces' concave LP-value curves (greedy on segment slopes, which
    is exact for piecewise-linear concave curves). A piece without a curve keeps its current budget."""
    out = [c[0][0] if c else b for c, b in zip(curves, current, strict=True)]
    left = total - sum(out)
    if left < 0:
        return current
    segments = []
    for i, c in enumerate(curves):
        prev_slope = np.inf
        for (b0, z0), (b1, z1) in itertools.pairwise(c):
            if b1 <= b0:
                continue
            slope = min((z1 - z0) / (b1 - b0), prev_slope)  # concave hull against solver noise
            prev_slope = slope
            segments.append((-slope, i, b1 - b0))
    for neg, i, length in sorted(segments):
        if left <= 0 or -neg <= 0:
            break
        take = min(length, left)
        out[i] += take
        left -= take
    return out


def allocate_pieces(inputs: AllocationInputs, deadline: Deadline, executor: Executor | None = None,
                    progress: ProgressCallback | None = None, *, workers: int | None = None,
                    started: float | None = None) -> PiecedOutcome | None:
    """Solve a model with independent pieces side by side; None when it has one piece (nothing to split) or a
    piece is infeasible under its share of a disruption budget (the whole-model method decides then).

    Parameters
    ----------
    inputs
        The whole model.
    deadline
        Shared by every piece; a piece not finished by then leaves the round without a plan.
    executor
        See ``execution.run_pieces`` (default: a local process pool).
    progress
        Called with a ``Progress`` after each piece and each round.
    workers
        Size of the default pool.
    started
        ``time.perf_counter()`` at the start of the allocation, for elapsed times in the reports.
    """
    parts = pieces(inputs)
    if len(parts) < 2:
        return None
    t0 = time.perf_counter() if started is None else started
    sense = 1.0 if inputs.sense == "max" else -1.0
    values, moves = _shares(inputs, parts)
    coupled = inputs.max_moved_value is not None or inputs.max_moves is not None
    n = len(parts)
    best_chosen: NDArray[np.int64] | None = None
    best_obj = -np.inf
    bound = np.inf
    duals: dict[str, float] = {}
    rounds = 0
    warm: list[NDArray[np.int64] | None] = [None] * n
    seen: list[list[dict[str, float]]] = [[] for _ in parts]  # every rep-row dual vector each piece has shown
    # The latest result of each piece, its global plan and its inputs: a piece whose share is not re-split keeps them.
    latest: list[PieceResult | None] = [None] * n
    plans: list[NDArray[np.int64] | None] = [None] * n
    subs: list[AllocationInputs | None] = [None] * n
    todo = list(range(n))
    n_workers = max(min(worker_slots(executor, workers), n), 1)
    # Coupled pieces: first their LPs, read at budgets around their shares, and a plan at the proportional split
    # (so that a deadline inside the second round still leaves a validated plan); then, unless that plan already
    # meets the gap, the budget is split again to equalise its marginal value and the pieces whose share moved
    # are solved once more, warm-started from the first round's columns -- only when the first round's times
    # say they can finish before the deadline. Uncoupled pieces: one round.
    pool = LocalPool(n_workers) if executor is None and worker_slots(None, workers) > 1 else None
    try:
        for round_no in range(2 if coupled else 1):
            scan = coupled and round_no == 0
            tasks, where_all = [], {}
            for k in todo:
                reps, accounts = parts[k]
                sub, where = _restrict(inputs, reps, accounts, moves[k], values[k])
                where_all[k] = where
                subs[k] = sub
            # Largest pieces first (the longest-processing-time rule): a large piece started last would hold
            # the round past the deadline while the other workers idle.
            todo = sorted(todo, key=lambda k: -where_all[k].size)
            # Each piece's share of the time left when it starts, by its pairs: a deadline shorter than the work
            # then gives every piece a (weaker) plan instead of none to the last ones.
            shares = time_shares([float(where_all[k].size) for k in todo], n_workers)
            for k, share in zip(todo, shares, strict=True):
                sub_k = subs[k]
                assert sub_k is not None
                tasks.append(PieceTask(sub_k, deadline, inputs.settings.solver, scan, warm[k], True, share))
            phase = "plans of the regions" if round_no == 0 else "plans of the regions at the rebalanced budget"
            report = RoundProgress(progress, phase, len(tasks), sense, bound, best_obj, t0)
            got = run_pieces(solve_piece, tasks, deadline, executor or pool, workers=1 if pool is None else None,
                             on_done=report)
            rounds += 1
            if any(r is not None and r.status is Status.INFEASIBLE for r in got):
                if not coupled:
                    return PiecedOutcome(None, np.inf, {}, n, rounds, Status.INFEASIBLE)
                return None
            if any(r is None for r in got):
                break  # the deadline passed
            for k, r in zip(todo, got, strict=True):
                assert r is not None
                latest[k] = r
                seen[k].extend([r.duals, *r.scanned])
                local = r.chosen
                plans[k] = None if local is None else np.where(local >= 0, where_all[k][np.maximum(local, 0)], -1)
                _log.debug("piece %d: %s in %.1f s, plan %.6g, own bound %.6g", k, r.status.value, r.seconds,
                           r.objective, r.bound)
            results = [r for r in latest if r is not None]
            round_duals = _global_duals(inputs, parts, results)
            b = whole_bound(inputs, round_duals)
            if not coupled:
                b = min(b, float(sum(r.bound for r in results)))
            else:
                b = min(b, _diagnosed_bound(inputs, [s_ for s_ in subs if s_ is not None], seen, results, b, rounds))
            if b < bound:
                bound, duals = b, round_duals
            total = float(sum(r.objective for r in results))
            if all(p_ is not None for p_ in plans) and total > best_obj:
                chosen = np.full(len(inputs.candidates.account_ids), -1, dtype=np.int64)
                for (_, accounts), plan in zip(parts, plans, strict=True):
                    assert plan is not None
                    chosen[accounts] = plan
                best_chosen, best_obj = chosen, total
            if progress is not None:
                progress(Progress(f"{phase}: done", shown(sense * bound), shown(sense * best_obj),
                                  relative_gap(bound, best_obj), time.perf_counter() - t0, n, n))
            if relative_gap(bound, best_obj) <= inputs.settings.mip_gap or not scan:
                break
            warm = [r.columns for r in results]
            old_v, old_m = list(values), list(moves)
            values, moves = _rebalance(inputs, [r.curve for r in results], values, moves)
            budgets = values if inputs.max_moved_value is not None else moves
            before = old_v if inputs.max_moved_value is not None else old_m
            todo = [k for k in range(n) if abs(float(budgets[k] or 0.0) - float(before[k] or 0.0))
                    > _RESOLVE * max(float(before[k] or 0.0), 1e-9)]
            # A piece that keeps its share keeps its plan: only the others are solved again, and only when the
            # first round's times for them fit in what is left (a round cut by the deadline adds nothing).
            for k in set(range(n)) - set(todo):
                values[k], moves[k] = old_v[k], old_m[k]
            values, moves = _refit(inputs, todo, values, moves, old_v, old_m)
            need = sum(results[k].seconds for k in todo) / n_workers
            _log.debug("rebalanced budget: %d of %d pieces change share; the first round took %.1f s for them, "
                       "%.1f s are left", len(todo), n, need, deadline.remaining())
            if not todo or need > deadline.remaining():
                break
    finally:
        if pool is not None:
            pool.close() if deadline.expired else pool.shutdown(wait=True)
    status = Status.FEASIBLE if best_chosen is not None else Status.NO_SOLUTION
    return PiecedOutcome(best_chosen, bound, duals, n, rounds, status)


def _rebalance(inputs: AllocationInputs, curves: list[tuple[tuple[float, float], ...]],
               values: list[float | None], moves: list[float | None]) -> tuple[list[float | None], list[float | None]]:
    """The budget split again by the pieces' LP-value curves (``_resplit``)."""
    if inputs.max_moved_value is not None:
        return list(_resplit(curves, [float(v or 0.0) for v in values], inputs.max_moved_value)), list(moves)
    split = _resplit(curves, [float(m or 0.0) for m in moves], float(inputs.max_moves or 0.0))
    return list(values), [float(np.floor(m)) for m in split]


def _refit(inputs: AllocationInputs, todo: list[int], values: list[float | None], moves: list[float | None],
           old_v: list[float | None], old_m: list[float | None]) -> tuple[list[float | None], list[float | None]]:
    """Shares after pieces that keep their plan took back their old share: the re-solved pieces share what is
    left in proportion to their new shares, so the shares still sum to at most the budget."""
    for budget, new, old in ((inputs.max_moved_value, values, old_v), (inputs.max_moves, moves, old_m)):
        if budget is None or not todo:
            continue
        kept = sum(float(old[k] or 0.0) for k in range(len(new)) if k not in todo)
        want = sum(float(new[k] or 0.0) for k in todo)
        scale = (float(budget) - kept) / want if want > 0 else 0.0
        for k in todo:
            x = float(new[k] or 0.0) * min(scale, 1.0)
            new[k] = float(np.floor(x)) if budget is inputs.max_moves else x
    return values, moves


def _diagnosed_bound(inputs: AllocationInputs, subs: list[AllocationInputs], seen: list[list[dict[str, float]]],
                     results: list[PieceResult], assembled: float, round_no: int) -> float:
    """``split_bound`` over every dual vector the pieces have shown, with the figures that say where a gap is
    lost in the debug log."""
    split_b, lam = split_bound(inputs, subs, seen)
    if _log.isEnabledFor(logging.DEBUG):
        # The bound (assembled duals, then a common multiplier), the pieces' own bounds at their shares, the
        # restricted LPs at the best split of their scan curves (an estimate of the whole LP), and the plans.
        curves = [r.curve for r in results]
        own_b = [float((s.max_moved_value if s.max_moved_value is not None else s.max_moves) or 0.0) for s in subs]
        total_b = float((inputs.max_moved_value if inputs.max_moved_value is not None else inputs.max_moves) or 0.0)
        at_split = sum(float(np.interp(x, [p[0] for p in c], [p[1] for p in c])) if c else float("nan")
                       for c, x in zip(curves, _resplit(curves, own_b, total_b), strict=True))
        _log.debug("round %d: bound at the pieces' duals %.6g, with a common disruption multiplier %.6g (lam %.4g; "
                   "the pieces' budget duals %s); the pieces' own bounds %.6g; their LPs at the best split %.6g; "
                   "plans %.6g", round_no, assembled, split_b, lam,
                   [round(r.duals.get("disruption_value", r.duals.get("disruption_moves", 0.0)), 4) for r in results],
                   float(sum(r.bound for r in results)), at_split, float(sum(r.objective for r in results)))
    return split_b
