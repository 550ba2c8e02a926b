"""Pay plans in the simulator: what a rep is paid and how a rep responds to it.

The pay engine (pure functions from monthly bookings and quotas to pay): one rep's components
(`components`), the components that need everyone's results (`team`), and statements (`statements`).
The behavioural response (pure, deterministic): what a rep knows (`position`), the marginal expected pay of more
bookings and the hours it buys (`marginal_pay`), and which deals to work and when to book them (`deal_choices`).
Their hooks into the simulator: `PayPlanPay` (a ``sim.PayFunction``) and `IncentiveBehaviour` (a
``sim.Behaviour``).
"""

from __future__ import annotations

from sim.incentives.behaviour import IncentiveBehaviour, constant_rate
from sim.incentives.components import (
    PERIOD_MONTHS,
    PayError,
    annual_base,
    bonus_amounts,
    cap_amounts,
    commission_amounts,
    cumulative_commission,
    next_quota,
    target_variable_pay,
    uncapped_variable,
    variable_parts,
)
from sim.incentives.deal_choices import deal_gain, deal_scores, prioritise, timing_decision
from sim.incentives.marginal_pay import Appraisal, appraise, marginal_pay, weekly_hours
from sim.incentives.pay_plan_pay import PayPlanPay
from sim.incentives.position import Incentive, Position, TeamOutlook, prepare, prepare_all, weekly_moments
from sim.incentives.statements import STATEMENT_COLUMNS, monthly_quotas, pay_statement, pay_statements, pay_summary
from sim.incentives.team import contest_awards, team_bonuses, whole_force_amounts

__all__ = [
    "PERIOD_MONTHS",
    "STATEMENT_COLUMNS",
    "Appraisal",
    "Incentive",
    "IncentiveBehaviour",
    "PayError",
    "PayPlanPay",
    "Position",
    "TeamOutlook",
    "annual_base",
    "appraise",
    "bonus_amounts",
    "cap_amounts",
    "commission_amounts",
    "constant_rate",
    "contest_awards",
    "cumulative_commission",
    "deal_gain",
    "deal_scores",
    "marginal_pay",
    "monthly_quotas",
    "next_quota",
    "pay_statement",
    "pay_statements",
    "pay_summary",
    "prepare",
    "prepare_all",
    "prioritise",
    "target_variable_pay",
    "team_bonuses",
    "timing_decision",
    "uncapped_variable",
    "variable_parts",
    "weekly_hours",
    "weekly_moments",
    "whole_force_amounts",
]
