"""Relax-and-fix: from the LP relaxation of a large model to a plan, by a small MIP over the contested accounts.

Accounts whose LP choice is integral and clearly best keep it; accounts that are fractional, nearly indifferent
(a reduced cost within ``tau`` of zero) or small accounts of reps whose band or capacity binds are reopened, each
with its near pairs, its three best alternatives and today's pair, and one MIP over them finishes the plan.
``tau`` grows until the plan is within ``mip_gap`` of the proven bound or the time is spent.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer.highs_model import build_highs, solve_highs
from optimizer.model import AllocationInputs, build
from optimizer.pricing import reduced_costs
from optimizer.solve import SolveOutcome, solve
from optimizer.status import Status, relative_gap

__all__ = ["relax_and_fix"]

_INTEGRAL = 1e-6


def relax_and_fix(inputs: AllocationInputs, lp: SolveOutcome, lp_index: NDArray[np.int64], bound: float,
                  deadline: float, solver: str) -> tuple[SolveOutcome, NDArray[np.int64]] | None:
    """Relax-and-fix: keep the LP's choice for accounts with one clearly best pair, solve a small MIP over the rest.

    An account is reopened when it is fractional in the LP or has another pair whose reduced cost is within
    ``tau`` of zero (nearly indifferent: moving it costs almost nothing, which is how rounding makes room on a
    rep whose band or capacity is tight). A reopened account keeps only its pairs within ``tau``. ``tau`` grows
    until the plan is within ``mip_gap`` of ``bound`` or the time is spent; the best plan is kept.
    """
    cand = inputs.candidates
    pairs = cand.pairs
    acc = pairs["account"].to_numpy()
    n_acc = len(cand.account_ids)
    rc = reduced_costs(inputs, lp.row_duals)
    x_full = np.zeros(inputs.n_pairs)
    x_full[lp_index] = lp.x
    one = x_full >= 1 - _INTEGRAL
    support = x_full > _INTEGRAL
    fixed_pair = np.full(n_acc, -1, dtype=np.int64)
    fixed_pair[acc[one]] = np.flatnonzero(one)
    fixed_unc = np.zeros(n_acc, dtype=bool)
    for a, v in lp.uncovered.items():
        if v >= 1 - _INTEGRAL:
            fixed_unc[a] = True
    fractional = (fixed_pair < 0) & ~fixed_unc
    # The k-th smallest |reduced cost| of the non-support pairs sets tau, so each attempt reopens a known share.
    gaps = -rc[~support]
    gaps = np.sort(gaps[np.isfinite(gaps)])
    locked_acc = np.zeros(n_acc, dtype=bool)
    locked_acc[acc[pairs["locked"].to_numpy(dtype=bool)]] = True
    rep_of = pairs["rep"].to_numpy()
    hours = pairs["hours"].to_numpy(dtype=float)
    # Reps whose balance or capacity rows bind in the LP, or that hold a fractional account: rounding there
    # needs small accounts that can move (small accounts are the change that balances a rep).
    tight = np.zeros(len(cand.rep_ids), dtype=bool)
    tight[rep_of[support & ~one]] = True
    for name, y in lp.row_duals.items():
        if abs(y) > 1e-9 and (name.startswith("capacity_") or name.startswith("band_")):
            tight[int(name.rsplit("_", 1)[1])] = True
    holder = np.where(fixed_pair >= 0, rep_of[np.maximum(fixed_pair, 0)], -1)
    held = pd.DataFrame({"account": np.arange(n_acc), "rep": holder,
                         "hours": np.where(fixed_pair >= 0, hours[np.maximum(fixed_pair, 0)], np.inf)})
    held = held[(held["rep"] >= 0) & tight[np.maximum(held["rep"].to_numpy(), 0)]]
    held["rank"] = held.sort_values("hours", kind="stable").groupby("rep").cumcount()
    # Today's pair of every reopened account: staying uses none of the disruption budget, which the moves of the
    # accounts kept as the LP chose had nearly used up. Without it, reopened accounts of 12,500 x 60 (LP cut after two
    # pricing rounds) had to move 37 M of the 39 M left and every attempt was infeasible; a finished LP of
    # 40,381 x 162 found its first plan only in the third attempt, after 240 s, and now in the first, in 5-7 s.
    stay = cand.current[acc] == rep_of
    # Each account's three best alternatives by reduced cost, so a reopened account has somewhere to go.
    alt = pd.DataFrame({"p": np.arange(inputs.n_pairs), "a": acc, "rc": -rc}).sort_values("rc", kind="stable")
    top3 = np.zeros(inputs.n_pairs, dtype=bool)
    top3[alt[alt.groupby("a").cumcount() < 3]["p"].to_numpy()] = True
    best: tuple[SolveOutcome, NDArray[np.int64]] | None = None
    target = inputs.settings.mip_gap
    for share, per_rep in ((0.02, 3), (0.05, 8), (0.1, 20), (0.2, 40)):
        k = min(int(share * n_acc), gaps.size - 1)
        tau = float(gaps[k]) if gaps.size else 0.0
        near = (rc >= -tau) | support
        free = fractional.copy()
        free[acc[near & ~support]] = True
        free[held.loc[held["rank"] < per_rep, "account"].to_numpy()] = True
        free &= ~locked_acc
        keep_fixed = ~free & (fixed_pair >= 0)
        index = np.sort(np.concatenate([fixed_pair[keep_fixed], np.flatnonzero(free[acc] & (near | top3 | stay))]))
        fixed = np.isin(index, fixed_pair[keep_fixed])
        remaining = deadline - time.perf_counter()
        if remaining <= 0.5:
            break
        free_unc = fixed_unc & ~free
        # A third of the time left to improve on a plan, most of it to find the first: a short piece budget
        # spent in thirds on ever larger MIPs ended without any plan.
        limit = max(remaining / 3 if best is not None else remaining * 0.8, 0.5)
        if solver == "highs":
            out = solve_highs(build_highs(inputs, pair_index=index, fixed=fixed, fixed_uncovered=free_unc), limit,
                              target / 2)
        else:
            out = solve(build(inputs, pair_index=index, fixed=fixed, fixed_uncovered=free_unc), solver, limit,
                        target / 2)
        if out.claim in (Status.OPTIMAL, Status.FEASIBLE) and (best is None or out.objective > best[0].objective):
            best = (out, index)
        if best is not None and relative_gap(bound, best[0].objective) <= target:
            break
    return best
