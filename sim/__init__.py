"""SimPy funnel simulator and incentive behaviour (``simulate = check -> build processes -> run replications
-> collect``). Imports only ``scenarios`` from quotaflow's packages.
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

__all__: list[str] = [
    # incentives (issue 6)
    "STATEMENT_COLUMNS",
    "Appraisal",
    "Incentive",
    "PayError",
    "Position",
    "TeamOutlook",
    "appraise",
    "contest_awards",
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
    "weekly_hours",
    "weekly_moments",
]
