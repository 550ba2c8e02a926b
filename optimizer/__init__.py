"""PuLP allocator: accounts to reps, quotas and marketing budget (``allocate = check -> build -> solve ->
validate -> extract``). Imports only ``scenarios`` from quotaflow's packages.
"""

from __future__ import annotations

__all__: list[str] = []
