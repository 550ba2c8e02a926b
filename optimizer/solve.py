"""Running a built model through a solver (HiGHS through highspy, or CBC) and reading back what it claims.

What is read back is a claim only: the solver's word for the solution state (PuLP's ``sol_status``, which
distinguishes an incumbent stopped by a limit from a proven optimum, unlike its ``status`` "Optimal"), the
values, the dual bound when HiGHS reports one, and the row duals of an LP. The allocation status is decided
later from this claim, the bound and the independent validator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pulp
from numpy.typing import NDArray

from optimizer.model import AllocationModel
from optimizer.solvers import make_solver

__all__ = ["SolveOutcome", "solve"]

Claim = Literal["optimal", "feasible", "infeasible", "no_solution", "error"]


@dataclass(frozen=True, eq=False)
class SolveOutcome:
    """What one solver run claims.

    Parameters
    ----------
    claim
        ``optimal`` (proven within the gap), ``feasible`` (an incumbent, stopped by a limit), ``infeasible``,
        ``no_solution`` or ``error``.
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

    claim: Claim
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
    'optimal'
    """
    prob = model.problem
    start = time.perf_counter()
    try:
        prob.solve(make_solver(solver, time_limit, mip_gap=mip_gap, mip=not model.relaxed))
    except pulp.PulpSolverError:
        return SolveOutcome("error", np.full(len(model.x), np.nan), {}, float("nan"), float("nan"),
                            time.perf_counter() - start, {})
    seconds = time.perf_counter() - start
    sol = prob.sol_status
    claim: Claim
    if sol == pulp.LpSolutionOptimal:
        claim = "optimal"
    elif sol == pulp.LpSolutionIntegerFeasible:
        claim = "feasible"
    elif sol == pulp.LpSolutionInfeasible or prob.status == pulp.LpStatusInfeasible:
        # CBC proves infeasibility through the problem status and leaves the solution status unset.
        claim = "infeasible"
    elif sol == pulp.LpSolutionUnbounded:
        claim = "error"
    else:
        claim = "no_solution"
    x = np.array([np.nan if v.varValue is None else v.varValue for v in model.x], dtype=float)
    unc = {a: float(v.varValue) for a, v in model.uncovered.items() if v.varValue is not None}
    if claim in ("optimal", "feasible") and np.isnan(x).any():
        claim = "no_solution"
    objective = float("nan")
    if claim in ("optimal", "feasible"):
        inputs = model.inputs
        objective = float(inputs.coef[model.pair_index] @ x) + sum(
            float(inputs.uncovered_coef[a]) * v for a, v in unc.items())
    bound = float("nan")
    duals: dict[str, float] = {}
    reduced: NDArray[np.float64] | None = None
    highs = getattr(prob, "solverModel", None)
    if solver == "highs" and highs is not None and claim in ("optimal", "feasible"):
        if model.relaxed:
            bound = objective if claim == "optimal" else float("nan")
            # PuLP hands HiGHS the negated objective (HiGHS minimises); flip the duals back to the maximising form.
            duals = {c.name: -float(c.pi) for c in prob.constraints() if c.pi is not None}
            reduced = np.array([-(v.dj or 0.0) for v in model.x], dtype=float)
        else:
            info = highs.getInfo()
            bound = -float(info.mip_dual_bound)
    elif claim == "optimal" and not model.relaxed:
        # CBC gives no bound through PuLP; its proven optimum is within mip_gap of the objective.
        bound = objective + mip_gap * abs(objective)
    elif claim == "optimal":
        bound = objective
    return SolveOutcome(claim, x, unc, objective, bound, seconds, duals, reduced)
