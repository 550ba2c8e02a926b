"""Simulation settings (``[simulation]`` in scenario.toml): replications, seed, demand from existing customers,
deal values, rep time use (service, training), churn, attrition and backfill, and lead routing."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scenarios.base import Strict
from scenarios.limits import HOURS_PER_YEAR, MAX_CV

__all__ = ["SimulationSettings"]


class SimulationSettings(Strict):
    """How the funnel simulator runs. Every field has a default so older scenario files load unchanged.

    Parameters
    ----------
    replications
        Monte Carlo replications per run.
    seed
        Root seed; every random stream derives from it.
    workers
        Worker processes (results do not depend on it).
    repeat_orders_per_year
        Expected repeat/renewal/upsell leads per existing customer per year, by account tier (A, B, C).
    churn_service_share
        A customer whose received service hours fall below this share of its need over a quarter may churn.
    neglect_churn_per_quarter
        Probability that a neglected customer (service share below ``churn_service_share``) churns in a quarter.
    base_churn_per_year
        Yearly churn probability of a customer that gets the service it needs.
    repeat_skip_stages
        Funnel stages a repeat/renewal/upsell lead skips (an existing customer needs no prospecting).
    tier_conversion
        Multiplier on every stage's conversion by account tier (A important, B ordinary, C potential).
    value_cv
        Coefficient of variation of a deal's value around its expected value (lognormal).
    effort_cv
        Coefficient of variation of the rep hours a stage takes (gamma; 0 = exactly ``effort_hours``,
        1 = exponential).
    max_service_share
        Largest share of a rep's weekly hours that goes to serving existing customers before selling.
    training_hours_per_year
        Hours a rep spends in training per year (taken from selling time).
    training_skill_gain
        Relative skill gain per ``training_hours_per_year`` hours of training (0.05 = +5 % a year).
    attrition_pay_sensitivity
        Attrition multiplier slope: yearly attrition is ``attrition_per_year * (1 + s * gap)`` where ``gap`` is
        how far the pay the rep expects for the year (pay so far plus the rest of the year at the attainment so
        far) is behind the tier's ``market_pay`` (0..1).
    vacancy_months
        Months from a rep leaving to the backfill hire starting.
    promotion_min_history_months
        Simulated months of attainment history needed before a promotion is considered.
    warmup_months
        Months of demand simulated before the horizon so that the pipeline is full on its first day (0 = start
        with an empty funnel); nothing in the warm-up is counted in the results except the deals it leaves open.
    routing
        ``owner``: a deal is worked by the rep who owns the account; ``region_pool``: by any rep of the owner's
        region (a shared queue, as in round-robin inbound lead routing).
    quarter_end_waiting
        Customer side, off by default (unset = 0, kept out of saved files and fingerprints so scenarios that
        do not use it keep their identity): the share of customers who expect a quarter-end discount. Such a
        customer, ready to sign in the first or second month of a plan-year quarter, waits and signs on the
        quarter's last day at ``[behaviour] pull_in_discount`` (and is not lost meanwhile: the purchase is
        decided). It separates buyers' timing from the reps' in a what-if; no rep chooses it, so it is on even
        when ``[behaviour] enabled = false``.
    decision_calendar
        Customer and process side, off by default (unset = 0, kept out of saved files and fingerprints): the
        share of long deals whose outcome waits for the next review. A deal open longer than
        ``decision_calendar_days`` whose stage outcome (a win or a loss; not a deal that is never decided) would
        fall in the first month of a calendar quarter is, with this chance, decided instead at a uniform time of
        the quarter's second month, as quarterly pipeline reviews and buyers' approval cycles close long-running
        deals out. Short deals are never held; a held deal cannot be pulled into the first month. No rep chooses
        it, so it is on even when ``[behaviour] enabled = false``. ``calibrate --fit-timing`` estimates it from
        an export (docs/calibration.md).
    decision_calendar_days
        The age in days from which a deal is long for ``decision_calendar``; required when the share is above 0
        (``calibrate`` finds it at the valley of the export's cycle-time distribution).
    """

    replications: int = Field(default=20, ge=1)
    seed: int = Field(default=20261123, ge=0)
    workers: int = Field(default=1, ge=1)
    repeat_orders_per_year: dict[str, float] = Field(
        default_factory=lambda: {"A": 4.0, "B": 2.0, "C": 0.5}
    )
    churn_service_share: float = Field(default=0.5, ge=0.0, le=1.0)
    neglect_churn_per_quarter: float = Field(default=0.25, ge=0.0, le=1.0)
    base_churn_per_year: float = Field(default=0.04, ge=0.0, le=1.0)
    repeat_skip_stages: int = Field(default=1, ge=0)
    tier_conversion: dict[str, float] = Field(default_factory=lambda: {"A": 1.1, "B": 1.0, "C": 0.9})
    value_cv: float = Field(default=0.4, ge=0.0, le=MAX_CV)
    effort_cv: float = Field(default=0.3, ge=0.0, le=MAX_CV)
    max_service_share: float = Field(default=0.5, ge=0.0, le=1.0)
    training_hours_per_year: float = Field(default=40.0, ge=0.0, le=HOURS_PER_YEAR)
    training_skill_gain: float = Field(default=0.05, ge=0.0)
    attrition_pay_sensitivity: float = Field(default=2.0, ge=0.0)
    vacancy_months: float = Field(default=2.0, ge=0.0)
    promotion_min_history_months: int = Field(default=6, ge=1)
    warmup_months: int = Field(default=3, ge=0, le=24)
    routing: Literal["owner", "region_pool"] = "owner"
    quarter_end_waiting: float | None = Field(default=None, ge=0.0, le=1.0)
    decision_calendar: float | None = Field(default=None, ge=0.0, le=1.0)
    decision_calendar_days: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _calendar_has_split(self) -> SimulationSettings:
        if (self.decision_calendar or 0.0) > 0.0 and self.decision_calendar_days is None:
            raise ValueError("decision_calendar is above 0 but decision_calendar_days (the age from which a deal "
                             "is long) is not set; set it, e.g. to the valley of the export's cycle times")
        return self
