"""Error types of the allocator: bad settings for this scenario, a model with no solution, a solver failure.

Messages are in planner words and say how to mend the scenario; the CLI maps each type to its exit code.
"""

from __future__ import annotations

__all__ = ["AllocationError", "InfeasibleError", "SolverError"]


class AllocationError(ValueError):
    """The optimizer settings do not fit the scenario (unknown ids, unknown band attribute, ...)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(f"{message}. Fix: {fix}")
        self.message = message
        self.fix = fix


class InfeasibleError(ValueError):
    """No assignment satisfies every constraint; ``reasons`` lists the conflicts in planner words."""

    def __init__(self, reasons: list[str]) -> None:
        text = "\n".join(f"  - {r}" for r in reasons) or "  - (no single conflict isolated)"
        super().__init__("no assignment satisfies every constraint:\n" + text +
                         "\nLoosen the listed limits (capacity, balance bands, disruption budget, eligibility) "
                         "and run again; no output was written")
        self.reasons = reasons


class SolverError(RuntimeError):
    """The solver failed or found no solution within the time limit."""
