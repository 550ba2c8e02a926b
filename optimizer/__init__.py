"""PuLP allocator: accounts to reps, quotas and marketing budget (``allocate = check -> build -> solve ->
validate -> extract``). Imports only ``scenarios`` from quotaflow's packages.
"""

from __future__ import annotations

from optimizer.allocation import AllocationResult, AllocationStatus, allocate, check, evaluate, extract
from optimizer.budget import BudgetError, BudgetResult, BudgetSolverError, BudgetStatus, allocate_budget
from optimizer.diagnosis import explain_infeasible, precheck
from optimizer.errors import AllocationError, InfeasibleError, SolverError
from optimizer.frontier import TERMS, FrontierResult, frontier
from optimizer.instances import scenario_from_pairs
from optimizer.model import AllocationInputs, AllocationModel, build, prepare
from optimizer.pairs import Candidates, candidate_pairs, productivity
from optimizer.quotas import QuotaError, QuotaResult, QuotaSolverError, QuotaStatus, set_quotas
from optimizer.solve import SolveOutcome, solve
from optimizer.validation import Validation, validate

__all__: list[str] = [
    "TERMS",
    "AllocationError",
    "AllocationInputs",
    "AllocationModel",
    "AllocationResult",
    "AllocationStatus",
    "BudgetError",
    "BudgetResult",
    "BudgetSolverError",
    "BudgetStatus",
    "Candidates",
    "FrontierResult",
    "InfeasibleError",
    "QuotaError",
    "QuotaResult",
    "QuotaSolverError",
    "QuotaStatus",
    "SolveOutcome",
    "SolverError",
    "Validation",
    "allocate",
    "allocate_budget",
    "build",
    "candidate_pairs",
    "check",
    "evaluate",
    "explain_infeasible",
    "extract",
    "frontier",
    "precheck",
    "prepare",
    "productivity",
    "scenario_from_pairs",
    "set_quotas",
    "solve",
    "validate",
]
