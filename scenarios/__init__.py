"""quotaflow's shared vocabulary: scenario types, the table schema, load/save/check, the synthetic generator,
the ``Plan`` hand-off between optimizer and simulator, and the bundled scenarios (``baseline``, ``tiny``).
"""

from __future__ import annotations

from scenarios.allocation import BalanceBand, OptimizerSettings
from scenarios.changes import modify
from scenarios.checks import check, pulp_name
from scenarios.deprecations import ScenarioDeprecationWarning, upgrade_path
from scenarios.errors import Problem, ScenarioError, did_you_mean
from scenarios.generate import generate
from scenarios.geography import great_circle_km
from scenarios.incentives import (
    AllowanceSettings,
    BehaviourSettings,
    BonusSettings,
    BonusStep,
    CapSettings,
    CommissionSettings,
    CommissionTier,
    ContestSettings,
    DrawSettings,
    PayPlanSettings,
    PromotionPathSettings,
    RatchetSettings,
    RecognitionSettings,
    TeamBonusSettings,
    TrainingSettings,
)
from scenarios.io import (
    bundled,
    fingerprint,
    is_id_column,
    load,
    neutralise,
    require_regular_file,
    save,
    write_atomic,
    write_csv,
)
from scenarios.marketing import BudgetSettings, ChannelSettings, expected_leads, region_weights
from scenarios.plan import Plan, PlanOrigin, PlanWarning
from scenarios.quotas import QuotaSettings
from scenarios.scenario import Scenario
from scenarios.schema import markdown as schema_markdown
from scenarios.settings import (
    CalendarSettings,
    FunnelSettings,
    ProductSettings,
    PromotionRule,
    Settings,
    StageSettings,
    TablesSettings,
    TargetSettings,
    TierSettings,
)
from scenarios.simulation import SimulationSettings
from scenarios.text import TextFormat

__all__ = [
    "AllowanceSettings",  # incentives
    "BalanceBand",
    "BehaviourSettings",  # incentives
    "BonusSettings",  # incentives
    "BonusStep",  # incentives
    "BudgetSettings",
    "CalendarSettings",
    "CapSettings",  # incentives
    "ChannelSettings",
    "CommissionSettings",  # incentives
    "CommissionTier",  # incentives
    "ContestSettings",  # incentives
    "DrawSettings",  # incentives
    "FunnelSettings",
    "OptimizerSettings",
    "PayPlanSettings",
    "Plan",
    "PlanOrigin",
    "PlanWarning",
    "Problem",
    "ProductSettings",
    "PromotionPathSettings",  # incentives
    "PromotionRule",
    "QuotaSettings",
    "RatchetSettings",  # incentives
    "RecognitionSettings",  # incentives
    "Scenario",
    "ScenarioDeprecationWarning",
    "ScenarioError",
    "Settings",
    "SimulationSettings",
    "StageSettings",
    "TablesSettings",
    "TargetSettings",
    "TeamBonusSettings",  # incentives
    "TextFormat",
    "TierSettings",
    "TrainingSettings",  # incentives
    "bundled",
    "check",
    "did_you_mean",
    "expected_leads",
    "fingerprint",
    "generate",
    "great_circle_km",
    "is_id_column",
    "load",
    "modify",
    "neutralise",
    "pulp_name",
    "region_weights",
    "require_regular_file",
    "save",
    "schema_markdown",
    "upgrade_path",
    "write_atomic",
    "write_csv",
]
