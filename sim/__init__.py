"""SimPy funnel simulator and incentive behaviour (``simulate = check -> build processes -> run replications
-> collect``). Imports only ``scenarios`` from quotaflow's packages.
"""

from __future__ import annotations

__all__: list[str] = []
