"""Pay-plan settings: the named pay plans (incentive plans) reps are on (``[pay_plans.<id>]`` in scenario.toml)
and how reps respond to them (``[behaviour]``).

A pay plan is a set of optional components, each its own small validated type: base salary adjustment, commission
(flat, tiered by attainment or by volume, retroactive or marginal; accelerators and decelerators are tiers),
quota bonuses (monthly, quarterly, annual, cumulative-quarterly with catch-up), an earnings cap, a draw, a team
or region bonus, allowances, contests, a next-year quota ratchet and the non-material levers (recognition,
training, promotion path). The settings only hold parameters; ``sim.incentives`` turns them into pay statements and
``sim.incentives`` into effort and work priorities. Amounts are in the scenario currency; attainment is
bookings divided by quota (1.0 = 100 %).

Examples
--------
>>> import scenarios
>>> pay_plan = scenarios.PayPlanSettings.model_validate({
...     "commission": {"tiers": [{"threshold": 0.0, "rate": 0.04}, {"threshold": 1.0, "rate": 0.08}]},
...     "bonuses": [{"period": "year", "steps": [{"attainment": 1.0, "share_of_base": 0.15}]}],
...     "cap": {"target_multiple": 2.0},
... })
>>> [t.rate for t in pay_plan.commission_tiers()]
[0.04, 0.08]
"""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import Field, field_validator, model_validator

from scenarios.base import Strict
from scenarios.limits import MAX_AMOUNT, MAX_MULTIPLIER, MAX_TRAVEL_WEIGHT

__all__ = [
    "AllowanceSettings",
    "BehaviourSettings",
    "BonusSettings",
    "BonusStep",
    "CapSettings",
    "CommissionSettings",
    "CommissionTier",
    "ContestSettings",
    "DrawSettings",
    "PayPlanSettings",
    "PromotionPathSettings",
    "RatchetSettings",
    "RecognitionSettings",
    "TeamBonusSettings",
    "TrainingSettings",
]

PULL_SHARE_MAVEN = 1.0
"""``[behaviour] customer_pull_share`` estimated on the Maven export: ``quotaflow calibrate
../shared/benchmarks/crm/maven --preset maven --fit-timing`` (reps assumed on ``quarterly_bonus``, 8 replications
per grid pair), the minimum-distance pair on the 0, 0.25, ..., 1 grid (see `BehaviourSettings`)."""
PUSH_SHARE_MAVEN = 0.0
"""``[behaviour] customer_push_share`` estimated with `PULL_SHARE_MAVEN` by the same fit."""

Period = Literal["month", "quarter", "year"]
"""A pay period of the plan year. The plan year starts at the scenario's ``calendar.start``; quarters are its
months 1-3, 4-6, 7-9 and 10-12."""


class CommissionTier(Strict):
    """One commission tier: ``rate`` applies from ``threshold`` up to the next tier's threshold.

    Parameters
    ----------
    threshold
        Where the tier starts: attainment (1.0 = quota) when the commission's basis is ``attainment``, booked
        amount in currency when it is ``volume``.
    rate
        Share of bookings paid in this tier (0.05 = 5 %).
    """

    threshold: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)
    rate: float = Field(default=0.0, ge=0.0, le=1.0)


class CommissionSettings(Strict):
    """Commission on bookings, in tiers over cumulative bookings within a period.

    Parameters
    ----------
    basis
        ``attainment``: tier thresholds are shares of the period's quota; ``volume``: thresholds are booked
        amounts.
    period
        The window over which bookings accumulate before the tiers reset (default the plan year).
    retroactive
        False (default): each tier's rate applies to the bookings inside the tier (marginal, like tax bands).
        True: the rate of the highest tier reached applies to all bookings of the period, with the true-up paid
        in the month the tier is crossed.
    tiers
        Tiers with strictly increasing thresholds, the first at 0. A tier with a higher rate above quota is an
        accelerator; a lower-rate first tier ending below quota (for example 0-0.5) is a decelerator.
    """

    basis: Literal["attainment", "volume"] = "attainment"
    period: Period = "year"
    retroactive: bool = False
    tiers: list[CommissionTier] = Field(default_factory=lambda: [CommissionTier()], min_length=1)

    @field_validator("tiers")
    @classmethod
    def _increasing(cls, v: list[CommissionTier]) -> list[CommissionTier]:
        if v[0].threshold != 0.0:
            raise ValueError(f"the first commission tier must start at threshold 0, it starts at {v[0].threshold}")
        for a, b in itertools.pairwise(v):
            if b.threshold <= a.threshold:
                raise ValueError(
                    f"commission tier thresholds must be strictly increasing; {b.threshold} follows {a.threshold}"
                )
        return v


class BonusStep(Strict):
    """One step of a lump-sum bonus: reaching ``attainment`` pays ``amount + share_of_base * annual base``.

    Parameters
    ----------
    attainment
        Attainment (bookings / quota of the bonus period) that must be reached.
    amount
        Fixed payout in currency.
    share_of_base
        Payout as a share of the rep's annual base salary (0.15 = 15 %).
    """

    attainment: float = Field(default=1.0, gt=0.0, le=MAX_MULTIPLIER)
    amount: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)
    share_of_base: float = Field(default=0.0, ge=0.0, le=MAX_MULTIPLIER)


class BonusSettings(Strict):
    """A quota bonus: a lump sum per period when attainment reaches a step (the highest step reached pays).

    Parameters
    ----------
    name
        Label in statements and reports.
    period
        ``month``, ``quarter`` or ``year``: attainment of that period's bookings against its quota, paid in the
        period's last month. ``cumulative_quarter``: at each quarter end, year-to-date attainment decides the
        step; the payout due is the step's amount times the quarters elapsed minus what this bonus already paid
        this year, never negative, so a missed quarter is caught up later (no clawback).
    steps
        Steps with strictly increasing attainment and non-decreasing payouts.
    """

    name: str = "quota_bonus"
    period: Literal["month", "quarter", "year", "cumulative_quarter"] = "year"
    steps: list[BonusStep] = Field(default_factory=lambda: [BonusStep()], min_length=1)

    @field_validator("steps")
    @classmethod
    def _increasing(cls, v: list[BonusStep]) -> list[BonusStep]:
        return _check_steps(v)


def _check_steps(v: list[BonusStep]) -> list[BonusStep]:
    """Steps must rise in attainment and never pay less as attainment rises."""
    for a, b in itertools.pairwise(v):
        if b.attainment <= a.attainment:
            raise ValueError(
                f"bonus steps must have strictly increasing attainment; {b.attainment} follows {a.attainment}"
            )
        if b.amount < a.amount or b.share_of_base < a.share_of_base:
            raise ValueError(
                f"bonus step at attainment {b.attainment} pays less than the step at {a.attainment}; "
                "payouts must not fall as attainment rises"
            )
    return v


class CapSettings(Strict):
    """Cap on a plan year's variable earnings (commission plus quota bonuses; team bonus and contests are outside).

    Give exactly one of ``amount`` and ``target_multiple``.

    Parameters
    ----------
    amount
        Cap in currency per plan year.
    target_multiple
        Cap as a multiple of the rep's target variable pay: commission plus quota bonuses the pay plan pays when
        bookings equal quota in every month (for example 2.0).
    """

    amount: float | None = Field(default=None, ge=0.0, le=MAX_AMOUNT)
    target_multiple: float | None = Field(default=None, gt=0.0, le=MAX_MULTIPLIER)

    @model_validator(mode="after")
    def _exactly_one(self) -> CapSettings:
        if (self.amount is None) == (self.target_multiple is None):
            raise ValueError("cap: give exactly one of 'amount' (currency) or 'target_multiple' (e.g. 2.0)")
        return self


class DrawSettings(Strict):
    """A draw: a guaranteed minimum of variable pay per month, usually for new or ramping reps.

    Parameters
    ----------
    monthly
        Guaranteed variable pay per month; when earned variable pay is lower the company tops it up.
    recoverable
        True: top-ups are an advance, recovered from later variable pay above the guarantee (above zero once
        the draw window has ended); the statement carries the outstanding balance. False: top-ups are kept.
    months
        Number of months from the start of the horizon during which the draw is paid (None = all months).
    """

    monthly: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)
    recoverable: bool = True
    months: int | None = Field(default=None, ge=1)


class TeamBonusSettings(Strict):
    """A bonus every member earns when the team (region or whole company) reaches its quota.

    Parameters
    ----------
    scope
        ``region``: reps in the same region; ``company``: all reps. Team attainment counts every member's
        bookings and quota, whatever their pay plan; only reps on this pay plan are paid.
    period
        Period over which team attainment is measured; paid in its last month.
    steps
        Steps as for quota bonuses, on team attainment.
    """

    scope: Literal["region", "company"] = "region"
    period: Period = "quarter"
    steps: list[BonusStep] = Field(default_factory=lambda: [BonusStep()], min_length=1)

    @field_validator("steps")
    @classmethod
    def _increasing(cls, v: list[BonusStep]) -> list[BonusStep]:
        return _check_steps(v)


class AllowanceSettings(Strict):
    """A cost line paid with the pay plan (car, phone, travel): not pay for performance, but cost of sales.

    Parameters
    ----------
    name
        Label (``car``, ``phone``, ...).
    monthly
        Fixed amount per month.
    per_km
        Amount per travelled kilometre (needs the travel timeline from the simulator; 0 when absent).
    """

    name: str = "allowance"
    monthly: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)
    per_km: float = Field(default=0.0, ge=0.0, le=MAX_TRAVEL_WEIGHT)


class ContestSettings(Strict):
    """A sales contest / sales-champion award: the top ``len(prizes)`` reps by a metric in each period win prizes.

    Participants are the reps on the pay plan that holds the contest. Ties share the prizes of the ranks they
    occupy equally.

    Parameters
    ----------
    name
        Label.
    period
        Contest period; prizes are paid in its last month.
    metric
        ``bookings`` or ``attainment`` in the period.
    prizes
        Prize per rank, first place first (non-increasing).
    scope
        ``company``: one ranking; ``region``: one ranking and one set of prizes per region.
    min_attainment
        Minimum period attainment to be eligible.
    """

    name: str = "contest"
    period: Period = "quarter"
    metric: Literal["bookings", "attainment"] = "bookings"
    prizes: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    scope: Literal["company", "region"] = "company"
    min_attainment: float = Field(default=0.0, ge=0.0)

    @field_validator("prizes")
    @classmethod
    def _ordered(cls, v: list[float]) -> list[float]:
        if any(p < 0 or p > MAX_AMOUNT for p in v):
            raise ValueError(f"contest prizes must lie in [0, {MAX_AMOUNT:g}]; got {v}")
        if any(b > a for a, b in itertools.pairwise(v)):
            raise ValueError(f"contest prizes must not increase with rank (first place first); got {v}")
        return v


class RatchetSettings(Strict):
    """Next year's quota from this year's attainment, asymmetric: up more after a beat than down after a miss.

    ``next = quota * (1 + up * max(0, a - 1) - down * max(0, 1 - a))``, clipped to ``[floor, ceiling] * quota``
    (a = annual attainment).

    Parameters
    ----------
    up
        Share of the overachievement added to next year's quota (0.5: 120 % attainment raises quota 10 %).
    down
        Share of the shortfall removed from next year's quota.
    floor, ceiling
        Bounds on next quota relative to this year's.
    """

    up: float = Field(default=0.5, ge=0.0)
    down: float = Field(default=0.0, ge=0.0)
    floor: float = Field(default=0.8, gt=0.0)
    ceiling: float = Field(default=1.5, gt=0.0)

    @model_validator(mode="after")
    def _bounds(self) -> RatchetSettings:
        if self.floor > 1.0 or self.ceiling < 1.0:
            raise ValueError(f"ratchet: need floor <= 1 <= ceiling, got floor {self.floor}, ceiling {self.ceiling}")
        return self


class RecognitionSettings(Strict):
    """Recognition (President's Club, rep of the year): awarded at year end at an attainment threshold.

    Parameters
    ----------
    name
        Label.
    attainment
        Annual attainment needed.
    cost
        What the company spends per recognised rep (trip, event); a cost line, not pay.
    perceived_value
        What it is worth to the rep in currency-equivalent; only the behaviour model uses it.
    """

    name: str = "presidents_club"
    attainment: float = Field(default=1.0, gt=0.0, le=MAX_MULTIPLIER)
    cost: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)
    perceived_value: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)


class TrainingSettings(Strict):
    """Training the pay plan funds: time away from selling in exchange for skill growth (read by the simulator).

    Parameters
    ----------
    hours_per_month
        Selling hours spent in training each month.
    skill_growth_per_year
        Relative growth of every stage skill per year of training (0.05 = +5 %/year).
    cost_per_month
        Cost of courses per rep and month (a cost line).
    """

    hours_per_month: float = Field(default=0.0, ge=0.0, le=744.0)  # 31 days x 24 hours
    skill_growth_per_year: float = Field(default=0.0, ge=0.0, le=MAX_MULTIPLIER)
    cost_per_month: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)


class PromotionPathSettings(Strict):
    """The pay plan's promotion path: overrides of the tier ladder's rule, read by the simulator.

    Parameters
    ----------
    min_attainment
        Annual attainment needed for promotion (None = the tier's ``promotion.min_attainment``).
    after_months
        Months in tier before promotion (None = the tier's ``promotion.after_months``).
    perceived_value
        Value of a promotion to the rep in currency-equivalent; the behaviour model treats it as a lump sum at
        the promotion attainment.
    """

    min_attainment: float | None = Field(default=None, gt=0.0)
    after_months: int | None = Field(default=None, ge=0)
    perceived_value: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)


class PayPlanSettings(Strict):
    """One named pay plan; every component is optional.

    Parameters
    ----------
    description
        What the pay plan is, in a sentence.
    commission_rate
        Flat commission shorthand: share of booked revenue (0.05 = 5 %). Use either this or ``commission``.
    commission
        Tiered commission (see `CommissionSettings`); replaces ``commission_rate``.
    base_multiplier
        Multiplier on the rep's ``base_salary`` from reps.csv (0.9 = a pay plan that trades 10 % base for
        variable).
    base_override
        Annual base salary for everyone on the pay plan, replacing reps.csv (None = keep reps.csv).
    bonuses
        Quota bonuses (see `BonusSettings`).
    cap
        Cap on annual variable earnings.
    draw
        Draw against future commission.
    team_bonus
        Team or region bonus.
    allowances
        Allowances (cost lines).
    contests
        Contests / sales-champion awards.
    ratchet
        Next-year quota ratchet.
    recognition, training, promotion
        Non-material levers.
    """

    description: str = ""
    commission_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    commission: CommissionSettings | None = None
    base_multiplier: float = Field(default=1.0, ge=0.0, le=MAX_MULTIPLIER)
    base_override: float | None = Field(default=None, ge=0.0, le=MAX_AMOUNT)
    bonuses: list[BonusSettings] = Field(default_factory=list)
    cap: CapSettings | None = None
    draw: DrawSettings | None = None
    team_bonus: TeamBonusSettings | None = None
    allowances: list[AllowanceSettings] = Field(default_factory=list)
    contests: list[ContestSettings] = Field(default_factory=list)
    ratchet: RatchetSettings | None = None
    recognition: RecognitionSettings | None = None
    training: TrainingSettings | None = None
    promotion: PromotionPathSettings | None = None

    @model_validator(mode="after")
    def _one_commission(self) -> PayPlanSettings:
        if self.commission is not None and self.commission_rate != 0.0:
            raise ValueError(
                "give either 'commission_rate' (flat shorthand) or a [commission] table, not both; "
                "move the rate into commission.tiers"
            )
        names = [b.name for b in self.bonuses]
        if len(set(names)) != len(names):
            raise ValueError(f"bonus names must be unique within a pay plan; got {names}")
        return self

    def commission_tiers(self) -> list[CommissionTier]:
        """The commission tiers in force: the ``commission`` table's, or one flat tier at ``commission_rate``."""
        if self.commission is None:
            return [CommissionTier(threshold=0.0, rate=self.commission_rate)]
        return list(self.commission.tiers)

    def commission_settings(self) -> CommissionSettings:
        """The commission as a `CommissionSettings` (the flat shorthand becomes one annual tier)."""
        if self.commission is None:
            return CommissionSettings(tiers=self.commission_tiers())
        return self.commission


class BehaviourSettings(Strict):
    """How reps respond to their pay plan (``[behaviour]`` in scenario.toml); used by ``sim.incentives``.

    A rep's weekly hours are ``norm * clip(1 + elasticity * (m / m_ref - 1), min_hours_share, max_hours_share)``
    where ``m`` is the expected pay for one more unit of bookings given the rep's position and ``m_ref`` is the
    pay plan's pay per unit of bookings at target (target variable pay / annual quota). Under a flat commission
    ``m = m_ref``, so hours stay at the norm.

    Parameters
    ----------
    enabled
        False = "no behavioural response": norm hours, deals worked by expected value; isolates a pay plan's pure
        pay effect.
    elasticity
        Relative change in hours per relative change in marginal pay (0.3).
    min_hours_share, max_hours_share
        Hours stay within these shares of the tier's norm (0.75, 1.25).
    closing_share
        Share of the bookings an extra hour produces that close within the current month (0.5); the rest close
        ``lag_months`` later (effort on early funnel stages pays off after the funnel's cycle time).
    lag_months
        Months until the rest of an extra hour's bookings close (2).
    min_sd_share
        Floor on the standard deviation of remaining bookings, as a share of the expected mean weekly bookings,
        so the marginal value of a lump sum stays finite at the very end of a period (0.5).
    ratchet_foresight
        How much of next year's extra quota (from a ratchet) the rep prices in, 0-1 (0.5).
    discount_per_week
        Time preference: pay due w weeks after the commission on the same booking is worth ``discount**w`` of it
        (0.985, about 0.5 over a year). Reps discount distant lump sums heavily (Chung, Steenburgh & Sudhir
        2014), so a year-end bonus motivates little in spring and much in the last weeks; commissions are the
        reference, so a flat pay plan is unaffected. 1.0 = no discounting.
    timing_games
        Reps may pull deals into the month at a discount, or push signatures into the next month, when their pay
        plan pays more for it (on). On by default because deal timing is what field studies of period-end sales
        measure (Oyer 1998, fiscal-year ends; Larkin 2014, quarter ends under accelerating commissions) and what
        CRM exports show (the Maven export: 0.24 / 0.35 / 0.42 of a quarter's wins in its months). Under a flat
        commission no game pays, so a flat pay plan's run is unchanged; ``enabled = false`` switches it off too.
    pull_in_discount
        Price discount a rep offers a customer to sign before the month ends (0.1 = 10 %). No published per-deal
        figure was found: Larkin (2014) reports the total cost of such discounts, 6-8 % of revenue, which
        ``deals_pulled_in`` and ``pull_in_discounts`` let a run be compared with. Vary it in a sweep.
    max_pull_in_weeks
        A deal can be pulled in only if it would close within this many weeks after the month end (4: at most
        one month early, so a pull never jumps a whole pay period of the plans the model knows).
    push_risk
        Chance that a deal whose signature is put off to the next month is lost meanwhile. Unset (default): the
        funnel's own loss hazard at its last stage over the wait, ``1 - exp(-(1 - c) d / t)`` for the last stage's
        conversion ``c`` and mean days ``t`` and the ``d`` days to the next month's first day (a deal that waits
        is exposed to what loses deals at that stage; ``baseline``: about 0.3 for a two-week wait). A number
        overrides it for every push (0 = pushing is free). The rep weighs a push at ``1 -`` that risk.
    customer_pull_share
        Share of customers who will sign early, at ``pull_in_discount``, when their rep asks before a month end
        (one uniform per lead decides). No published figure gives it (Larkin 2014 reports only the total cost of
        pulled deals), so the default (1.0) is the Maven estimate of ``quotaflow calibrate --fit-timing``
        (`PULL_SHARE_MAVEN`; reps assumed on ``quarterly_bonus``; docs/calibration.md): the export's third month
        holds more wins than any pair of shares simulates, so the fit takes every customer willing to sign early.
    customer_push_share
        Share of customers who will agree to wait and sign in the next month when their rep asks (a second,
        independent uniform per lead). No published figure gives it; the default (0.0) is the same fit's Maven
        estimate (`PUSH_SHARE_MAVEN`): every push moves a win out of a quarter's third month, which the export's
        profile does not show. The old single key ``customer_flexibility`` is read as both shares, with a
        deprecation note (``scenarios.deprecations``).
    closing_speed_elasticity
        How a rep's effort speeds the customer side of a stage that records no rep hours (``effort_hours = 0``, as
        every stage of a calibrated scenario: a CRM export records no hours): the stage's customer-side days are
        scaled by ``(hours / norm hours) ** -closing_speed_elasticity``, the rep's weekly hours from the behaviour
        (which move with the pay plan and the position in the period) over the tier's norm, taken when the rep
        starts the stage. Field studies find effort, not only timing, behind period-end sales (Steenburgh 2008;
        Chung, Steenburgh & Sudhir 2014: quarterly bonuses pace weak performers). Stages with hours are untouched:
        there effort already acts through the hours the rep spends. No published figure gives the elasticity, so
        the default is 0 (effort acts only through hours); ``quotaflow calibrate --fit-timing`` estimates it from
        an export's month-of-quarter profile and writes it into the calibrated scenario (the Maven estimate is 0:
        every value from 1 to 8 moves the profile further from the export; docs/calibration.md). The bundled
        scenarios' stages all record hours, so it does not reach them.
    """

    enabled: bool = True
    elasticity: float = Field(default=0.3, ge=0.0)
    min_hours_share: float = Field(default=0.75, gt=0.0, le=1.0)
    max_hours_share: float = Field(default=1.25, ge=1.0)
    closing_share: float = Field(default=0.5, ge=0.0, le=1.0)
    lag_months: int = Field(default=2, ge=0)
    min_sd_share: float = Field(default=0.5, gt=0.0)
    ratchet_foresight: float = Field(default=0.5, ge=0.0, le=1.0)
    discount_per_week: float = Field(default=0.985, gt=0.0, le=1.0)
    timing_games: bool = True
    pull_in_discount: float = Field(default=0.1, ge=0.0, lt=1.0)
    max_pull_in_weeks: float = Field(default=4.0, ge=0.0)
    push_risk: float | None = Field(default=None, ge=0.0, le=1.0)
    customer_pull_share: float = Field(default=PULL_SHARE_MAVEN, ge=0.0, le=1.0)
    customer_push_share: float = Field(default=PUSH_SHARE_MAVEN, ge=0.0, le=1.0)
    closing_speed_elasticity: float = Field(default=0.0, ge=0.0, le=10.0)
