"""SimPy funnel simulator and incentive behaviour (``simulate = check -> build processes -> run replications
-> collect``). Imports only ``scenarios`` from quotaflow's packages.

Simulator (issue 5): ``simulate`` (the pipeline) and its steps ``check``, ``build``, ``run_replication``,
``collect``, ``summarise``; the behaviour hook ``Behaviour`` / ``RepState`` / ``DealView`` with the default
``NormBehaviour``; the swappable pay function ``PayFunction`` / ``commission_pay``. Incentives (issue 6): the
pay engine (``sim.pay``) and the behaviour functions (``sim.behaviour``).
"""

from __future__ import annotations

# Incentive pay engine and behavioural response (issue 6).
from sim.behaviour import (
    Appraisal,
    Incentive,
    Position,
    TeamOutlook,
    appraise,
    deal_gain,
    deal_scores,
    marginal_pay,
    prepare,
    prepare_all,
    prioritise,
    timing_decision,
    weekly_hours,
    weekly_moments,
)

# Funnel simulator (issue 5).
from sim.demand import Leads, draw_leads, streams
from sim.earnings import PayFunction, PayPlanPay, commission_pay
from sim.incentive_behaviour import IncentiveBehaviour, constant_rate
from sim.memory import available_memory, check_memory, replication_bytes
from sim.model import Model, SimulationError, build, check
from sim.pay import (
    STATEMENT_COLUMNS,
    PayError,
    contest_awards,
    monthly_quotas,
    next_quota,
    pay_statement,
    pay_statements,
    pay_summary,
    target_variable_pay,
    team_bonuses,
)
from sim.policy import Behaviour, DealView, NormBehaviour, RepState
from sim.processes import Funnel, RunRecord
from sim.simulation import SimulationResult, run_replication, simulate, summarise
from sim.statistics import ReplicationStats, collect, mean_ci

__all__: list[str] = [
    "STATEMENT_COLUMNS",
    "Appraisal",
    "Behaviour",
    "DealView",
    "Funnel",
    "Incentive",
    "IncentiveBehaviour",
    "Leads",
    "Model",
    "NormBehaviour",
    "PayError",
    "PayFunction",
    "PayPlanPay",
    "Position",
    "RepState",
    "ReplicationStats",
    "RunRecord",
    "SimulationError",
    "SimulationResult",
    "TeamOutlook",
    "appraise",
    "available_memory",
    "build",
    "check",
    "check_memory",
    "collect",
    "commission_pay",
    "constant_rate",
    "contest_awards",
    "deal_gain",
    "deal_scores",
    "draw_leads",
    "marginal_pay",
    "mean_ci",
    "monthly_quotas",
    "next_quota",
    "pay_statement",
    "pay_statements",
    "pay_summary",
    "prepare",
    "prepare_all",
    "prioritise",
    "replication_bytes",
    "run_replication",
    "simulate",
    "streams",
    "summarise",
    "target_variable_pay",
    "team_bonuses",
    "timing_decision",
    "weekly_hours",
    "weekly_moments",
]
