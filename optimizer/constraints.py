"""The constraint families of the assignment model, one function each, with the maths in the docstring.

Notation: :math:`x_p \\in \\{0,1\\}` for each candidate pair :math:`p=(r,a)` (rep :math:`r`, account
:math:`a`), :math:`P(a)` the candidate pairs of account :math:`a`, :math:`P(r)` those of rep :math:`r`,
:math:`y_a \\in [0,1]` the uncovered share of account :math:`a` (only when uncovered accounts are allowed).
Every function adds its rows to a PuLP problem, builds each row from a whole list of ``(variable, coefficient)``
pairs (``pulp.LpAffineExpression``; term-by-term sums are quadratic in PuLP) and returns the rows by the
position of the rep or account they belong to, so that duals can be read back.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pulp
from numpy.typing import NDArray

__all__ = ["add_balance", "add_capacity", "add_cover", "add_disruption_budget", "add_locks", "groups"]


def groups(keys: NDArray[np.int64], size: int) -> list[NDArray[np.int64]]:
    """Positions of ``keys`` grouped by key value ``0..size-1`` (stable order)."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(size + 1))
    return [order[bounds[k]:bounds[k + 1]] for k in range(size)]


def _expr(x: Sequence[pulp.LpVariable], idx: NDArray[np.int64], coef: NDArray[np.float64] | None = None,
          extra: Sequence[tuple[pulp.LpVariable, float]] = ()) -> pulp.LpAffineExpression:
    if coef is None:
        terms = [(x[i], 1.0) for i in idx.tolist()]
    else:
        terms = [(x[i], c) for i, c in zip(idx.tolist(), coef[idx].tolist(), strict=True) if c != 0.0]
    return pulp.LpAffineExpression(terms + list(extra))


def _slack(prob: pulp.LpProblem, slacks: list[tuple[pulp.LpVariable, float]] | None, row: str, sign: float,
           penalty: float) -> list[tuple[pulp.LpVariable, float]]:
    """An elastic slack for ``row`` (none unless ``slacks`` collects them); its objective penalty is recorded."""
    if slacks is None:
        return []
    v = prob.add_variable(f"slack_{row}", lowBound=0.0, upBound=None, cat=pulp.LpContinuous)
    slacks.append((v, penalty))
    return [(v, sign)]


def add_cover(prob: pulp.LpProblem, x: Sequence[pulp.LpVariable], by_account: list[NDArray[np.int64]],
              uncovered: dict[int, pulp.LpVariable] | None,
              accounts: NDArray[np.int64]) -> dict[int, pulp.LpConstraint]:
    """Every account is covered exactly once (or left uncovered at a penalty).

    .. math:: \\sum_{p \\in P(a)} x_p + y_a = 1 \\qquad \\forall a

    with :math:`y_a \\equiv 0` unless ``allow_uncovered`` (then :math:`y_a` carries the uncovered penalty in the
    objective). ``accounts`` lists the account positions modelled (all of them, or the fractional ones of the
    relax-and-fix step).
    """
    rows = {}
    for a in accounts.tolist():
        extra = [(uncovered[a], 1.0)] if uncovered is not None and a in uncovered else []
        c = pulp.LpConstraint(_expr(x, by_account[a], extra=extra), pulp.LpConstraintEQ, f"cover_{a}", 1.0)
        prob.addConstraint(c)
        rows[a] = c
    return rows


def add_capacity(prob: pulp.LpProblem, x: Sequence[pulp.LpVariable], by_rep: list[NDArray[np.int64]],
                 hours: NDArray[np.float64], capacity: NDArray[np.float64],
                 slacks: list[tuple[pulp.LpVariable, float]] | None = None,
                 penalty: float = 0.0) -> dict[int, pulp.LpConstraint]:
    """Each rep's hours stay within the rep's yearly capacity.

    .. math:: \\sum_{p \\in P(r)} h_p\\, x_p \\le C_r \\qquad \\forall r

    with :math:`h_p` the hours rep :math:`r` needs for the account and
    :math:`C_r` = ``hours_per_week`` x ``weeks_per_year``. With ``slacks`` (the elastic
    form used to start column generation) each row gets :math:`-s_r`, :math:`s_r \\ge 0`, priced at ``penalty``.
    """
    rows = {}
    for r, idx in enumerate(by_rep):
        if idx.size == 0 or not np.isfinite(capacity[r]):
            continue
        extra = _slack(prob, slacks, f"capacity_{r}", -1.0, penalty)
        c = pulp.LpConstraint(_expr(x, idx, hours, extra), pulp.LpConstraintLE, f"capacity_{r}", float(capacity[r]))
        prob.addConstraint(c)
        rows[r] = c
    return rows


def add_balance(prob: pulp.LpProblem, x: Sequence[pulp.LpVariable], by_rep: list[NDArray[np.int64]],
                weight: NDArray[np.float64], low: NDArray[np.float64], high: NDArray[np.float64],
                tag: str, slacks: list[tuple[pulp.LpVariable, float]] | None = None,
                penalty: float = 0.0) -> dict[int, tuple[pulp.LpConstraint | None, pulp.LpConstraint | None]]:
    """Each rep's total of an attribute lies in a band.

    .. math:: L_r \\le \\sum_{p \\in P(r)} w_p\\, x_p \\le U_r \\qquad \\forall r

    with :math:`w_p` the attribute of the pair (its hours, 1 for an account count, or an accounts.csv column)
    and :math:`L_r, U_r` the band, absolute or a multiple of the mean total per rep (``-inf``/``inf`` when a
    side is open). Reps without candidate pairs get the constant 0, which the check step reports when it
    breaks the band. ``slacks``/``penalty`` give the elastic form (see ``add_capacity``).
    """
    rows: dict[int, tuple[pulp.LpConstraint | None, pulp.LpConstraint | None]] = {}
    for r, idx in enumerate(by_rep):
        if idx.size == 0:
            continue
        lo = hi = None
        if np.isfinite(low[r]):
            extra = _slack(prob, slacks, f"band_{tag}_min_{r}", 1.0, penalty)
            lo = pulp.LpConstraint(_expr(x, idx, weight, extra), pulp.LpConstraintGE, f"band_{tag}_min_{r}",
                                   float(low[r]))
            prob.addConstraint(lo)
        if np.isfinite(high[r]):
            extra = _slack(prob, slacks, f"band_{tag}_max_{r}", -1.0, penalty)
            hi = pulp.LpConstraint(_expr(x, idx, weight, extra), pulp.LpConstraintLE, f"band_{tag}_max_{r}",
                                   float(high[r]))
            prob.addConstraint(hi)
        rows[r] = (lo, hi)
    return rows


def add_locks(x: Sequence[pulp.LpVariable], locked: NDArray[np.bool_]) -> int:
    """Pinned pairs keep their account; forbidden pairs were never made candidates.

    .. math:: x_p = 1 \\qquad \\forall p \\in \\text{locks}

    Exclusions are enforced by leaving the pair out of the candidates (:math:`x_p \\equiv 0`). Locks are set as
    a lower bound of 1 on the variable, not as rows, so presolve removes them. Returns the number of locks.
    """
    for i in np.flatnonzero(locked).tolist():
        x[i].lowBound = 1.0
    return int(locked.sum())


def add_disruption_budget(prob: pulp.LpProblem, x: Sequence[pulp.LpVariable], moved: NDArray[np.bool_],
                          potential: NDArray[np.float64], uncovered: dict[int, pulp.LpVariable] | None,
                          account_potential: NDArray[np.float64], has_current: NDArray[np.bool_],
                          max_moves: float | None, max_moved_value: float | None,
                          slacks: list[tuple[pulp.LpVariable, float]] | None = None,
                          penalty_moves: float = 0.0, penalty_value: float = 0.0) -> dict[str, pulp.LpConstraint]:
    """Limit how many accounts (and how much potential) leave their current rep.

    .. math::
        \\sum_{p:\\, r \\ne \\text{cur}(a)} x_p + \\sum_{a \\in \\text{cur}} y_a \\le M
        \\qquad
        \\sum_{p:\\, r \\ne \\text{cur}(a)} v_a x_p + \\sum_{a \\in \\text{cur}} v_a y_a \\le S \\sum_a v_a

    where only accounts with a current rep can move, :math:`v_a` is the account's annual potential, :math:`M`
    is ``max_moves`` and :math:`S` is ``max_moved_share`` (an account of today that ends uncovered counts as
    moved). ``moved`` and ``potential`` are per pair, ``account_potential`` and ``has_current`` per account.
    ``slacks`` and the penalties give the elastic form (see ``add_capacity``).
    """
    rows = {}
    idx = np.flatnonzero(moved)
    unc = [] if uncovered is None else [(v, a) for a, v in uncovered.items() if has_current[a]]
    if max_moves is not None:
        extra = [(v, 1.0) for v, _ in unc] + _slack(prob, slacks, "disruption_moves", -1.0, penalty_moves)
        c = pulp.LpConstraint(_expr(x, idx, extra=extra), pulp.LpConstraintLE, "disruption_moves", float(max_moves))
        prob.addConstraint(c)
        rows["moves"] = c
    if max_moved_value is not None:
        extra = [(v, float(account_potential[a])) for v, a in unc]
        extra += _slack(prob, slacks, "disruption_value", -1.0, penalty_value)
        c = pulp.LpConstraint(_expr(x, idx, potential, extra=extra), pulp.LpConstraintLE, "disruption_value",
                              float(max_moved_value))
        prob.addConstraint(c)
        rows["value"] = c
    return rows

