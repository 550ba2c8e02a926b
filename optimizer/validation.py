"""The independent validator: re-checks an assignment against the inputs, never against the solver's model.

It recomputes from the candidate table and settings alone: every account covered once (or uncovered only when
allowed), each rep's hours within capacity, every balance band, the disruption budget, locks and exclusions,
and the objective. A solution is exported only when this check passes, whatever the solver said.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from optimizer.model import AllocationInputs

__all__ = ["Validation", "validate"]

_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class Validation:
    """Outcome of the independent check.

    Parameters
    ----------
    violations
        Human-readable violations (empty when the assignment is valid).
    objective
        The objective recomputed from the inputs, in the reported sense.
    chosen
        Position of the chosen pair per account (-1 = uncovered).
    """

    violations: tuple[str, ...]
    objective: float
    chosen: NDArray[np.int64]

    @property
    def ok(self) -> bool:
        """True when no violation was found."""
        return not self.violations


def validate(inputs: AllocationInputs, chosen: NDArray[np.int64]) -> Validation:
    """Check an assignment given as the chosen candidate-pair position per account (-1 = uncovered).

    Examples
    --------
    >>> import numpy as np, scenarios
    >>> from optimizer.model import prepare
    >>> inputs = prepare(scenarios.load("tiny"))
    >>> bad = validate(inputs, np.full(len(inputs.candidates.account_ids), -1))
    >>> bad.ok, bad.violations[0].startswith("account")
    (False, True)
    """
    cand = inputs.candidates
    st = inputs.settings
    pairs = cand.pairs
    n_acc, n_rep = len(cand.account_ids), len(cand.rep_ids)
    chosen = np.asarray(chosen, dtype=np.int64)
    out: list[str] = []
    if chosen.shape != (n_acc,):
        return Validation((f"expected one entry per account ({n_acc}), got {chosen.shape}",), float("nan"), chosen)
    covered = chosen >= 0
    pair_acc = pairs["account"].to_numpy()
    pair_rep = pairs["rep"].to_numpy()
    if covered.any() and (chosen[covered] >= len(pairs)).any():
        return Validation(("a chosen pair is not a candidate pair",), float("nan"), chosen)
    wrong = covered & (pair_acc[np.where(covered, chosen, 0)] != np.arange(n_acc))
    for a in np.flatnonzero(wrong)[:5]:
        out.append(f"account {cand.account_ids[a]} got a pair of another account")
    if not st.allow_uncovered:
        for a in np.flatnonzero(~covered)[:5]:
            out.append(f"account {cand.account_ids[a]} is not assigned")
    sel = chosen[covered]
    rep = pair_rep[sel]
    hours = np.bincount(rep, weights=pairs["hours"].to_numpy(dtype=float)[sel], minlength=n_rep)
    over = hours > cand.capacity * (1 + _TOL) + _TOL
    for r in np.flatnonzero(over)[:5]:
        out.append(f"rep {cand.rep_ids[r]} works {hours[r]:,.1f} h, capacity {cand.capacity[r]:,.1f} h")
    for band in inputs.bands:
        total = np.bincount(rep, weights=band.weight[sel], minlength=n_rep)
        slack = _TOL * np.maximum(1.0, np.abs(total))
        for r in np.flatnonzero((total < band.low - slack) | (total > band.high + slack))[:5]:
            out.append(f"rep {cand.rep_ids[r]} has {band.attribute} {total[r]:,.3f} outside "
                       f"[{band.low[r]:,.3f}, {band.high[r]:,.3f}]")
    locked = pairs["locked"].to_numpy(dtype=bool)
    taken = np.zeros(len(pairs), dtype=bool)
    taken[sel] = True
    for p in np.flatnonzero(locked & ~taken)[:5]:
        out.append(f"locked account {cand.account_ids[pair_acc[p]]} is not with rep {cand.rep_ids[pair_rep[p]]}")
    moved_pair = pairs["moved"].to_numpy(dtype=bool)[sel]
    moved_uncovered = ~covered & cand.has_current
    moves = int(moved_pair.sum() + moved_uncovered.sum())
    moved_value = float(cand.potential[pair_acc[sel]][moved_pair].sum() + cand.potential[moved_uncovered].sum())
    if inputs.max_moves is not None and moves > inputs.max_moves + _TOL:
        out.append(f"{moves} accounts move, the budget allows {inputs.max_moves:g}")
    if inputs.max_moved_value is not None and moved_value > inputs.max_moved_value * (1 + _TOL) + _TOL:
        out.append(f"moved potential {moved_value:,.0f} exceeds the budget {inputs.max_moved_value:,.0f}")
    # The objective is recomputed from the raw pair columns and weights, not from the model's coefficients.
    value = pairs["value"].to_numpy(dtype=float)[sel].sum()
    travel = pairs["travel_km"].to_numpy(dtype=float)[sel].sum()
    disruption = st.disruption_weight * moved_value
    uncovered_cost = st.uncovered_penalty * float(cand.potential[~covered].sum()) if st.allow_uncovered else 0.0
    if inputs.sense == "max":
        objective = value - st.travel_weight * travel - disruption - uncovered_cost
    else:
        objective = value + st.travel_weight * travel + disruption + uncovered_cost
    return Validation(tuple(out), float(objective), chosen)
