"""Every error type of the optimizer: for the allocation, the quotas and the budget, bad settings or a problem
with no solution (``ValueError``s: the input must change) and a solver failure (``RuntimeError``s).

Messages are in planner words and say how to mend the scenario; the CLI maps each type to its exit code.
"""

from __future__ import annotations

__all__ = [
    "AllocationError",
    "BudgetError",
    "BudgetSolverError",
    "InfeasibleError",
    "QuotaError",
    "QuotaSolverError",
    "SolverError",
]


class AllocationError(ValueError):
    """The optimizer settings do not fit the scenario (unknown ids, unknown band attribute, ...)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(f"{message}. Fix: {fix}")
        self.message = message
        self.fix = fix

    def __reduce__(self) -> tuple[type[AllocationError], tuple[str, str]]:
        # Rebuilt from its parts when it crosses a process boundary (an allocation run in a worker).
        return type(self), (self.message, self.fix)


class InfeasibleError(ValueError):
    """No assignment satisfies every constraint; ``reasons`` lists the conflicts in planner words."""

    def __init__(self, reasons: list[str]) -> None:
        text = "\n".join(f"  - {r}" for r in reasons) or "  - (no single conflict isolated)"
        super().__init__("no assignment satisfies every constraint:\n" + text +
                         "\nLoosen the listed limits (capacity, balance bands, disruption budget, eligibility) "
                         "and run again; no output was written")
        self.reasons = reasons

    def __reduce__(self) -> tuple[type[InfeasibleError], tuple[list[str]]]:
        return type(self), (self.reasons,)


class SolverError(RuntimeError):
    """The solver failed or found no solution within the time limit."""


class QuotaError(ValueError):
    """The quota problem has no solution: the target cannot be met within the tier bounds (or similar).

    The message says which region, how much is needed, how much the bounds allow and what to change.
    """


class QuotaSolverError(RuntimeError):
    """The quota LP solver failed, or the quotas did not pass the independent check; nothing was written."""


class BudgetError(ValueError):
    """The budget problem has no solution (e.g. channel minimums above the budget); the message says the fix."""


class BudgetSolverError(RuntimeError):
    """The budget LP solver failed, or its answer did not pass the independent check; nothing was written."""
