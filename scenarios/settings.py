"""The settings of a scenario (``scenario.toml``): calendar, funnel, tiers, products, targets and the engines'
settings, validated by pydantic with unknown keys rejected.
"""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath, PureWindowsPath
from typing import Literal

from pydantic import Field, field_validator, model_validator

from scenarios.allocation import OptimizerSettings
from scenarios.base import Strict
from scenarios.incentives import BehaviourSettings, PayPlanSettings
from scenarios.limits import HOURS_PER_YEAR, MAX_AMOUNT, MAX_CV, MAX_MULTIPLIER, MAX_SKILL, MAX_TOTAL, MIN_SKILL
from scenarios.marketing import BudgetSettings, ChannelSettings
from scenarios.quotas import QuotaSettings
from scenarios.simulation import SimulationSettings

__all__ = [
    "CalendarSettings",
    "FunnelSettings",
    "ProductSettings",
    "PromotionRule",
    "Settings",
    "StageSettings",
    "TablesSettings",
    "TargetSettings",
    "TierSettings",
]


class CalendarSettings(Strict):
    """Planning calendar.

    Parameters
    ----------
    start
        First day of the horizon (the first month is the month of this date).
    months
        Horizon length in months.
    seasonality
        12 demand multipliers, January first; their mean is the neutral level.
    weeks_per_year
        Working weeks in a year (turns weekly hours into yearly capacity).
    """

    start: dt.date
    months: int = Field(default=12, ge=1, le=120)
    weeks_per_year: float = Field(default=46.0, gt=0.0, le=52.2)
    seasonality: list[float] = Field(default_factory=lambda: [1.0] * 12)

    @field_validator("seasonality")
    @classmethod
    def _twelve_positive(cls, v: list[float]) -> list[float]:
        if len(v) != 12:
            raise ValueError(f"seasonality needs 12 monthly values (January first), got {len(v)}")
        if any(x < 0 for x in v) or sum(v) <= 0:
            raise ValueError("seasonality values must be >= 0 and not all 0")
        if max(v) > MAX_MULTIPLIER:
            raise ValueError(f"seasonality values must be <= {MAX_MULTIPLIER:g} (relative to the neutral level 1)")
        return v

    def periods(self) -> list[str]:
        """Month labels ``YYYY-MM`` of the horizon.

        Examples
        --------
        >>> CalendarSettings(start=dt.date(2026, 11, 1), months=3).periods()
        ['2026-11', '2026-12', '2027-01']
        """
        out = []
        year, month = self.start.year, self.start.month
        for _ in range(self.months):
            out.append(f"{year:04d}-{month:02d}")
            month += 1
            if month == 13:
                year, month = year + 1, 1
        return out


class StageSettings(Strict):
    """One funnel stage (``[[funnel.stages]]``, in order).

    Parameters
    ----------
    id
        Stage id (used in reps.csv ``skill_<id>`` columns and tier skills).
    name
        Display name.
    conversion
        Base probability that a deal passes this stage to the next one.
    mean_days
        Mean calendar duration of the stage for an average rep.
    spread
        Coefficient of variation of the duration (standard deviation / mean).
    effort_hours
        Rep hours the stage needs.
    distribution
        Duration distribution: ``lognormal`` or ``gamma``.
    no_decision_share
        Share of the deals entering the stage that never get a decision: the customer goes silent, the deal is
        neither passed nor lost, and it leaves the pipeline when the stage's time is up (lost for reason
        ``no_decision``). ``conversion`` is then the share passed among the deals that are decided. Unset (the
        default) is 0: every deal is decided, and the key stays out of saved files and fingerprints. Any other
        value needs a source: ``quotaflow calibrate`` estimates it from an export as the Kaplan-Meier plateau of
        the time to any exit (a cure fraction).
    """

    id: str = Field(min_length=1)
    name: str = ""
    conversion: float = Field(gt=0.0, le=1.0)
    mean_days: float = Field(gt=0.0)
    spread: float = Field(default=0.5, ge=0.0, le=MAX_CV)
    effort_hours: float = Field(ge=0.0, le=HOURS_PER_YEAR)
    distribution: Literal["lognormal", "gamma"] = "lognormal"
    no_decision_share: float | None = Field(default=None, ge=0.0, lt=1.0)


class FunnelSettings(Strict):
    """The sales funnel: stages in order, then won or lost.

    Parameters
    ----------
    stages
        Stages in order.
    stall_days
        A deal that gets no rep attention for this many days is lost.
    """

    stages: list[StageSettings] = Field(min_length=1)
    stall_days: float = Field(default=60.0, gt=0.0)

    @model_validator(mode="after")
    def _unique_ids(self) -> FunnelSettings:
        ids = [s.id for s in self.stages]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"stage ids must be unique; repeated: {', '.join(dup)}")
        return self


class PromotionRule(Strict):
    """Promotion up the ladder after sustained attainment.

    Parameters
    ----------
    to
        Tier promoted to.
    after_months
        Months in the tier before promotion is considered.
    min_attainment
        Attainment (bookings / quota) over the last ``after_months`` needed for promotion.
    """

    to: str
    after_months: int = Field(default=12, ge=1)
    min_attainment: float = Field(default=1.0, ge=0.0)


class TierSettings(Strict):
    """A rung of the sales ladder (``[tiers.<tier>]``).

    Parameters
    ----------
    rank
        Position on the ladder (1 = entry).
    skill
        Skill multiplier per funnel stage id (1 = average); stages not listed get 1.
    hours_per_week
        Normal selling hours per week.
    annual_cost
        Employment cost per rep per year beyond base salary and variable pay (benefits, tools, travel).
    market_pay
        Annual total pay the market offers this tier; pay behind it raises attrition.
    ramp_months
        Months until a new hire reaches full productivity.
    ramp_start
        Productivity share at hire (rises linearly to 1 over ``ramp_months``).
    attrition_per_year
        Base yearly probability that a rep of this tier leaves.
    min_quota, max_quota
        Bounds on a rep's annual quota in this tier (currency); None = unbounded.
    promotion
        Rule for moving up, if any.
    """

    rank: int = Field(ge=1)
    skill: dict[str, float] = Field(default_factory=dict)
    hours_per_week: float = Field(default=40.0, gt=0.0, le=168.0)
    annual_cost: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)
    market_pay: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)
    ramp_months: int = Field(default=3, ge=0)
    ramp_start: float = Field(default=0.3, ge=0.0, le=1.0)
    attrition_per_year: float = Field(default=0.1, ge=0.0, le=1.0)
    min_quota: float | None = Field(default=None, ge=0.0, le=MAX_AMOUNT)
    max_quota: float | None = Field(default=None, ge=0.0, le=MAX_AMOUNT)
    promotion: PromotionRule | None = None

    @field_validator("skill")
    @classmethod
    def _positive_skill(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not MIN_SKILL <= x <= MAX_SKILL}
        if bad:
            raise ValueError(f"skill multipliers must lie in [{MIN_SKILL:g}, {MAX_SKILL:g}] (a pair's hours are "
                             f"service hours / skill and its value potential x skill); got {bad}")
        return v


class ProductSettings(Strict):
    """A product line (``[products.<product_id>]``).

    Parameters
    ----------
    name
        Display name.
    price
        Average deal value of the product for an average account (currency).
    margin
        Gross margin share of revenue (0..1).
    mix
        Share of deals that are for this product (normalised over products).
    """

    name: str = ""
    price: float = Field(gt=0.0, le=MAX_AMOUNT)
    margin: float = Field(default=0.5, ge=0.0, le=1.0)
    mix: float = Field(default=1.0, ge=0.0, le=MAX_MULTIPLIER)


class TargetSettings(Strict):
    """Company targets (``[targets]``).

    Parameters
    ----------
    annual
        Company revenue target for the year (currency).
    over_assignment
        Reps' quotas sum to ``annual * over_assignment`` (1.1 = 110 %).
    by_product, by_region
        Optional shares of the target (each set sums to 1).
    """

    annual: float = Field(gt=0.0, le=MAX_TOTAL)
    over_assignment: float = Field(default=1.0, ge=1.0, le=3.0)
    by_product: dict[str, float] = Field(default_factory=dict)
    by_region: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shares(self) -> TargetSettings:
        for key, shares in (("by_product", self.by_product), ("by_region", self.by_region)):
            if shares:
                if any(v < 0 for v in shares.values()):
                    raise ValueError(f"{key} shares must be >= 0")
                total = sum(shares.values())
                if abs(total - 1.0) > 1e-6:
                    raise ValueError(f"{key} shares must sum to 1, they sum to {total:.6g}")
        return self


def _relative_inside(name: str) -> str:
    if not name or "\x00" in name:
        raise ValueError("give a file name such as 'reps.csv'")
    for pure in (PurePosixPath(name), PureWindowsPath(name)):
        if pure.is_absolute() or pure.drive or pure.anchor:
            raise ValueError(f"'{name}' is an absolute path; give a path relative to the scenario folder")
        if ".." in pure.parts:
            raise ValueError(f"'{name}' leaves the scenario folder ('..'); keep tables inside the folder")
    return name


class TablesSettings(Strict):
    """File names of the CSV tables, relative to the scenario folder.

    Parameters
    ----------
    reps, accounts
        Required tables.
    rep_accounts
        Optional pair table; None means ``rep_accounts.csv`` if that file exists.
    """

    reps: str = "reps.csv"
    accounts: str = "accounts.csv"
    rep_accounts: str | None = None

    @field_validator("reps", "accounts", "rep_accounts")
    @classmethod
    def _inside(cls, v: str | None) -> str | None:
        return None if v is None else _relative_inside(v)


class Settings(Strict):
    """Everything in ``scenario.toml``.

    Parameters
    ----------
    name, description
        Identification.
    calendar, funnel, tiers, products, targets, channels, budget, pay_plans, behaviour, optimizer, simulation,
    tables, quotas
        The sections; see each type (``pay_plans``: the incentive pay plans reps are on, by id).
    """

    name: str = Field(min_length=1)
    description: str = ""
    currency: str = "EUR"
    calendar: CalendarSettings
    funnel: FunnelSettings
    tiers: dict[str, TierSettings] = Field(min_length=1)
    products: dict[str, ProductSettings] = Field(min_length=1)
    targets: TargetSettings
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    pay_plans: dict[str, PayPlanSettings] = Field(min_length=1)
    behaviour: BehaviourSettings = Field(default_factory=BehaviourSettings)
    optimizer: OptimizerSettings = Field(default_factory=OptimizerSettings)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    tables: TablesSettings = Field(default_factory=TablesSettings)
    quotas: QuotaSettings = Field(default_factory=QuotaSettings)

    @model_validator(mode="after")
    def _cross_references(self) -> Settings:
        stage_ids = {s.id for s in self.funnel.stages}
        for tier_id, tier in self.tiers.items():
            unknown = sorted(set(tier.skill) - stage_ids)
            if unknown:
                raise ValueError(
                    f"tiers.{tier_id}.skill names unknown stage(s) {unknown}; known stages: {sorted(stage_ids)}"
                )
            if tier.promotion is not None and tier.promotion.to not in self.tiers:
                raise ValueError(
                    f"tiers.{tier_id}.promotion.to = '{tier.promotion.to}' is not a tier; "
                    f"known tiers: {sorted(self.tiers)}"
                )
            if tier.min_quota is not None and tier.max_quota is not None and tier.min_quota > tier.max_quota:
                raise ValueError(f"tiers.{tier_id}: min_quota {tier.min_quota} exceeds max_quota {tier.max_quota}")
        unknown_products = sorted(set(self.targets.by_product) - set(self.products))
        if unknown_products:
            raise ValueError(
                f"targets.by_product names unknown product(s) {unknown_products}; known: {sorted(self.products)}"
            )
        if self.budget.max_monthly_spend is not None and self.budget.max_monthly_spend < self.budget.min_monthly_spend:
            raise ValueError("budget.max_monthly_spend is below budget.min_monthly_spend")
        return self
