"""SimPy funnel simulator and incentive behaviour (``simulate = check -> build processes -> run replications
-> collect``). Imports only ``scenarios`` from quotaflow's packages.

Public API: ``simulate`` (the pipeline) and its steps ``check``, ``build``, ``run_replication``, ``collect``,
``summarise``; the behaviour hook ``Behaviour`` / ``RepState`` / ``DealView`` with the default
``NormBehaviour``; the swappable pay function ``PayFunction`` / ``commission_pay``.
"""

from __future__ import annotations

from sim.demand import Leads, draw_leads, streams
from sim.earnings import PayFunction, commission_pay
from sim.model import Model, SimulationError, build, check
from sim.policy import Behaviour, DealView, NormBehaviour, RepState
from sim.processes import Funnel, RunRecord
from sim.simulation import SimulationResult, run_replication, simulate, summarise
from sim.statistics import ReplicationStats, collect, mean_ci

__all__ = [
    "Behaviour",
    "DealView",
    "Funnel",
    "Leads",
    "Model",
    "NormBehaviour",
    "PayFunction",
    "RepState",
    "ReplicationStats",
    "RunRecord",
    "SimulationError",
    "SimulationResult",
    "build",
    "check",
    "collect",
    "commission_pay",
    "draw_leads",
    "mean_ci",
    "run_replication",
    "simulate",
    "streams",
    "summarise",
]
