"""SimPy funnel simulator (``simulate = check -> build processes -> run replications -> collect``) and the pay
plans reps respond to (``sim.incentives``). Imports only ``scenarios`` from quotaflow's packages.

Simulator: ``simulate`` (the pipeline) and its steps ``check``, ``build``, ``run_replication``, ``collect``,
``summarise``; the behaviour hook ``Behaviour`` / ``RepState`` / ``DealView`` with the default ``NormBehaviour``;
the swappable pay function ``PayFunction`` / ``commission_pay``; a run from an open pipeline (``open_deals``,
``no_decision_given_open``), its deal log as CRM frames (``crm_frames``) and the simulator as a back-test
forecaster (``won_by_month``, ``forecast_quantiles``). Pay plans: the pay engine and the behavioural
response in ``sim.incentives``, whose public names are re-exported here.
"""

from __future__ import annotations

from sim.crm import calendar_origin, crm_frames
from sim.demand import Leads, draw_leads, streams
from sim.forecast import forecast_quantiles, won_by_month
from sim.incentives import (
    STATEMENT_COLUMNS,
    Appraisal,
    Incentive,
    IncentiveBehaviour,
    PayError,
    PayPlanPay,
    Position,
    TeamOutlook,
    appraise,
    constant_rate,
    contest_awards,
    deal_gain,
    deal_scores,
    marginal_pay,
    monthly_quotas,
    next_quota,
    pay_statement,
    pay_statements,
    pay_summary,
    prepare,
    prepare_all,
    prioritise,
    target_variable_pay,
    team_bonuses,
    timing_decision,
    weekly_hours,
    weekly_moments,
)
from sim.memory import available_memory, check_memory, replication_bytes
from sim.model import Model, SimulationError, build, check
from sim.pay_function import PayFunction, commission_pay
from sim.pipeline import OpenDeals, no_decision_given_open, open_deals
from sim.policy import Behaviour, DealView, NormBehaviour, RepState
from sim.processes import Funnel
from sim.record import RunRecord
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
    "OpenDeals",
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
    "calendar_origin",
    "check",
    "check_memory",
    "collect",
    "commission_pay",
    "constant_rate",
    "contest_awards",
    "crm_frames",
    "deal_gain",
    "deal_scores",
    "draw_leads",
    "forecast_quantiles",
    "marginal_pay",
    "mean_ci",
    "monthly_quotas",
    "next_quota",
    "no_decision_given_open",
    "open_deals",
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
    "won_by_month",
]
