"""Running a built assignment model through the solver adapter and reading back what it claims.

What is read back is a claim only: the adapter's ``Status`` for the solution state, the values, the proven
bound, and the row duals and reduced costs of an LP. The allocation status is decided later from this claim,
the bound and the independent validator. ``chosen_pairs`` turns the values into one pair per account.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from optimizer.model import AllocationInputs, AllocationModel
from optimizer.solvers import run
from optimizer.status import Status

__all__ = ["SolveOutcome", "chosen_pairs", "solve"]

_SOLVED = (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True, eq=False)
class SolveOutcome:
    """What one solver run claims.

    Parameters
    ----------
    claim
        ``optimal`` (proven within the gap), ``feasible`` (an incumbent, stopped by a limit), ``infeasible``,
        ``no_solution`` or ``error`` (a ``Status``).
    x
        Value of each modelled pair (NaN when there is no solution).
    uncovered
        Uncovered share per modelled account position.
    objective
        Objective of the returned values in the maximising form (NaN without a solution).
    bound
        Proven upper bound in the maximising form (NaN when the solver gives none).
    seconds
        Wall time of the solver call including handing the model over.
    row_duals
        For an LP solved by HiGHS: marginal objective (maximising form) per unit of right-hand side, by row
        name.
    reduced_costs
        For an LP solved by HiGHS: reduced cost of each modelled pair (maximising form; <= 0 for a pair at 0
        means taking it costs that much per unit).
    """

    claim: Status
    x: NDArray[np.float64]
    uncovered: dict[int, float]
    objective: float
    bound: float
    seconds: float
    row_duals: dict[str, float]
    reduced_costs: NDArray[np.float64] | None = None


def solve(model: AllocationModel, solver: str = "highs", time_limit: float = 60.0,
          mip_gap: float = 0.0) -> SolveOutcome:
    """Solve ``model`` and read back the solver's claim.

    Parameters
    ----------
    model
        From ``build``.
    solver
        ``highs`` or ``cbc``.
    time_limit
        Seconds the solver may use (the caller keeps its own deadline too).
    mip_gap
        Relative gap at which a MIP may stop.

    Examples
    --------
    >>> import scenarios
    >>> from optimizer.model import build, prepare
    >>> out = solve(build(prepare(scenarios.load("tiny"))))
    >>> out.claim
    <Status.OPTIMAL: 'optimal'>
    """
    prob = model.problem
    outcome = run(prob, solver, time_limit, mip_gap=mip_gap, mip=not model.relaxed)
    claim = outcome.status
    x = np.array([np.nan if v.varValue is None else v.varValue for v in model.x], dtype=float)
    unc = {a: float(v.varValue) for a, v in model.uncovered.items() if v.varValue is not None}
    if claim in _SOLVED and np.isnan(x).any():
        claim = Status.NO_SOLUTION
    objective = float("nan")
    if claim in _SOLVED:
        inputs = model.inputs
        objective = float(inputs.coef[model.pair_index] @ x) + sum(
            float(inputs.uncovered_coef[a]) * v for a, v in unc.items())
    bound = float("nan")
    duals: dict[str, float] = {}
    reduced: NDArray[np.float64] | None = None
    if solver == "highs" and claim in _SOLVED and model.relaxed:
        bound = objective if claim is Status.OPTIMAL else float("nan")
        # PuLP hands HiGHS the negated objective (HiGHS minimises); flip the duals back to the maximising form.
        duals = {c.name: -float(c.pi) for c in prob.constraints() if c.pi is not None}
        reduced = np.array([-(v.dj or 0.0) for v in model.x], dtype=float)
    elif solver == "highs" and claim in _SOLVED:
        bound = outcome.bound
    elif claim is Status.OPTIMAL and not model.relaxed:
        # CBC gives no bound through PuLP; its proven optimum is within mip_gap of the objective.
        bound = objective + mip_gap * abs(objective)
    elif claim is Status.OPTIMAL:
        bound = objective
    return SolveOutcome(claim, x, unc, objective, bound, outcome.seconds, duals, reduced)


def chosen_pairs(inputs: AllocationInputs, pair_index: NDArray[np.int64],
                 x: NDArray[np.float64]) -> NDArray[np.int64]:
    """The pair each account takes in the values ``x`` of the modelled pairs ``pair_index`` (-1: uncovered)."""
    chosen = np.full(len(inputs.candidates.account_ids), -1, dtype=np.int64)
    take = x > 0.5
    acc = inputs.candidates.pairs["account"].to_numpy()[pair_index[take]]
    chosen[acc] = pair_index[take]
    return chosen
