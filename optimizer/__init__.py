"""PuLP allocator: accounts to reps, quotas and marketing budget (``allocate = check -> build -> solve ->
validate -> extract``). Imports only ``scenarios`` from quotaflow's packages.

This package's public face: code outside ``optimizer`` imports the names listed here, never its modules. Where
each concept lives: ``status`` (the one outcome vocabulary), ``errors`` (every exception), ``solvers`` (the one
solver adapter: backends, deadlines, solver logs, outcome mapping); the allocation in ``pairs`` -> ``model`` and
``constraints`` -> ``solve`` (with ``pricing`` and ``relax_fix`` for large models, ``decomposition`` and
``execution`` for regions side by side under one deadline) -> ``validation`` -> ``allocation``, with
``diagnosis`` for infeasible scenarios, ``objectives`` and ``frontier`` for trade-offs and priority orders, and
``instances`` for bare benchmark tables; quotas in ``quota_targets`` -> ``quota_methods`` -> ``quota_spreading``
-> ``quotas``; the budget in ``budget_model`` -> ``budget``.
"""

from __future__ import annotations

from optimizer.allocation import AllocationResult, allocate, check, evaluate, extract
from optimizer.budget import BudgetResult, allocate_budget, lead_value
from optimizer.diagnosis import explain_infeasible, precheck
from optimizer.errors import (
    AllocationError,
    BudgetError,
    BudgetSolverError,
    InfeasibleError,
    QuotaError,
    QuotaSolverError,
    SolverError,
)
from optimizer.execution import Deadline, Progress
from optimizer.frontier import FrontierResult, frontier
from optimizer.instances import scenario_from_pairs
from optimizer.model import AllocationInputs, AllocationModel, build, prepare
from optimizer.objectives import TERMS, LexicographicStage, lexicographic
from optimizer.pairs import Candidates, candidate_pairs, productivity
from optimizer.quotas import QuotaResult, expected_sales, ramp_factors, set_quotas, split_target
from optimizer.solve import SolveOutcome, solve
from optimizer.solvers import SOLVERS, SolverRun
from optimizer.status import Status
from optimizer.validation import Validation, validate

__all__: list[str] = [
    "SOLVERS",
    "TERMS",
    "AllocationError",
    "AllocationInputs",
    "AllocationModel",
    "AllocationResult",
    "BudgetError",
    "BudgetResult",
    "BudgetSolverError",
    "Candidates",
    "Deadline",
    "FrontierResult",
    "InfeasibleError",
    "LexicographicStage",
    "Progress",
    "QuotaError",
    "QuotaResult",
    "QuotaSolverError",
    "SolveOutcome",
    "SolverError",
    "SolverRun",
    "Status",
    "Validation",
    "allocate",
    "allocate_budget",
    "build",
    "candidate_pairs",
    "check",
    "evaluate",
    "expected_sales",
    "explain_infeasible",
    "extract",
    "frontier",
    "lead_value",
    "lexicographic",
    "precheck",
    "prepare",
    "productivity",
    "ramp_factors",
    "scenario_from_pairs",
    "set_quotas",
    "solve",
    "split_target",
    "validate",
]
