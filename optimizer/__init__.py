"""PuLP allocator: accounts to reps, quotas and marketing budget (``allocate = check -> build -> solve ->
validate -> extract``). Imports only ``scenarios`` from quotaflow's packages.
"""

from __future__ import annotations

# --- quotas and budget (issue 4) ---
from optimizer.budget import BudgetError, BudgetResult, BudgetSolverError, BudgetStatus, allocate_budget
from optimizer.quotas import QuotaError, QuotaResult, QuotaSolverError, QuotaStatus, set_quotas

__all__: list[str] = [
    # --- quotas and budget (issue 4) ---
    "BudgetError",
    "BudgetResult",
    "BudgetSolverError",
    "BudgetStatus",
    "QuotaError",
    "QuotaResult",
    "QuotaSolverError",
    "QuotaStatus",
    "allocate_budget",
    "set_quotas",
]
