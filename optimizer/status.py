"""The optimizer's outcome vocabulary: one ``Status`` for every result and one definition of the relative gap.

Every result (an allocation, a frontier point, a lexicographic stage, quotas, a budget, one solver run) states how
it ended in these words, and the words are what CSV and JSON files carry (``str(Status.OPTIMAL) == "optimal"``).
A solver's own word is never passed on as ours: the solver adapter (``optimizer.solvers``) maps PuLP's solution
status onto ``Status``, and each result decides its final status from that claim, the bound and an independent
check of the returned solution.
"""

from __future__ import annotations

import math
from enum import StrEnum

__all__ = ["Status", "relative_gap"]


class Status(StrEnum):
    """How an optimisation ended.

    ``optimal``: the solution passed the independent check and is within the gap of a proven bound (an LP solved
    to optimality has no gap). ``feasible``: it passed the check, but the gap is larger or unknown (a limit
    stopped the solver with an incumbent). ``solved``: a direct method that solves no optimisation problem met
    every constraint (the even, potential, expected-sales and equal-probability quotas), or an LP's answer had
    to be adjusted afterwards so its optimum no longer describes the result. ``infeasible``: no solution
    satisfies the constraints (proven). ``no_solution``: none was found within the time limit. ``error``: the
    solver failed, or its solution did not pass the independent check.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    SOLVED = "solved"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        """True when the outcome carries a usable solution (``optimal``, ``feasible`` or ``solved``)."""
        return self in (Status.OPTIMAL, Status.FEASIBLE, Status.SOLVED)


def relative_gap(bound: float, objective: float) -> float:
    """``max(bound - objective, 0) / max(|bound|, 1)`` for a maximised objective; NaN when either is unknown.

    The floor of 1 under the denominator keeps a bound near zero from turning a tiny absolute gap into a huge
    relative one.

    Examples
    --------
    >>> relative_gap(110.0, 100.0)
    0.09090909090909091
    >>> relative_gap(float("nan"), 100.0)
    nan
    """
    if not (math.isfinite(bound) and math.isfinite(objective)):
        return float("nan")
    return max(bound - objective, 0.0) / max(abs(bound), 1.0)
