"""What a rep knows when deciding: the rep's `Position` (month, bookings so far, the pipeline's weekly outlook), the
team's `TeamOutlook`, and the rep's pay plan made ready for fast evaluation (`Incentive`, from `prepare`).

The position is the input of every behaviour function (`sim.incentives.marginal_pay`,
`sim.incentives.deal_choices`); nothing here draws random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from scenarios.incentives import BehaviourSettings, CommissionSettings, PayPlanSettings
from sim.incentives.components import PayError, annual_base, target_variable_pay, uncapped_variable

__all__ = [
    "Incentive",
    "Position",
    "TeamOutlook",
    "prepare",
    "prepare_all",
    "weekly_moments",
]


Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TeamOutlook:
    """The rep's team (region or company, as the pay plan's ``team_bonus.scope`` says) for the team-bonus term.

    Parameters
    ----------
    bookings
        Team bookings per month so far (all members, the rep included).
    quotas
        Team quota per month over the horizon.
    weekly_mean, weekly_sd
        Mean and standard deviation of the team's weekly bookings from here on.
    """

    bookings: Array
    quotas: Array
    weekly_mean: float
    weekly_sd: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "bookings", np.asarray(self.bookings, dtype=float))
        object.__setattr__(self, "quotas", np.asarray(self.quotas, dtype=float))
        if not (self.weekly_mean >= 0.0 and self.weekly_sd >= 0.0):
            raise PayError(f"TeamOutlook: weekly_mean and weekly_sd must be >= 0; got {self.weekly_mean}, "
                           f"{self.weekly_sd}")


@dataclass(frozen=True)
class Position:
    """Where a rep stands at a decision (the simulator builds one per rep and week).

    Parameters
    ----------
    month
        Index of the current month in the horizon (0 = first month).
    month_elapsed
        Share of the current month already gone, 0-1.
    bookings
        Bookings per month of the horizon so far (the current month partial; later months 0 or absent, or
        bookings already certain for them).
    weekly_mean
        Expected bookings per week at norm hours from here on (pipeline due to close plus new business).
    weekly_sd
        Standard deviation of one week's bookings at norm hours (see `weekly_moments`).
    weeks_per_month
        Working weeks per month (``calendar.weeks_per_year / 12``).
    team
        The team's outlook, for pay plans with a team bonus (None = the team bonus is left out).
    """

    month: int
    month_elapsed: float
    bookings: Array
    weekly_mean: float
    weekly_sd: float
    weeks_per_month: float = 46.0 / 12.0
    team: TeamOutlook | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.bookings, np.ndarray) or self.bookings.dtype != np.float64:
            object.__setattr__(self, "bookings", np.asarray(self.bookings, dtype=float))
        if self.month < 0 or not 0.0 <= self.month_elapsed <= 1.0:
            raise PayError(f"Position: month must be >= 0 and month_elapsed in [0, 1]; got month {self.month}, "
                           f"month_elapsed {self.month_elapsed}")
        if len(self.bookings) <= self.month:
            raise PayError(f"Position: bookings has {len(self.bookings)} months but the current month is "
                           f"{self.month}; give bookings for months 0..{self.month} at least")
        if not (self.weekly_mean >= 0.0 and self.weekly_sd >= 0.0 and self.weeks_per_month > 0.0):
            raise PayError(f"Position: weekly_mean and weekly_sd must be >= 0 and weeks_per_month > 0; got "
                           f"{self.weekly_mean}, {self.weekly_sd}, {self.weeks_per_month}")


def weekly_moments(expected_per_week: float, mean_deal: float, deal_cv: float = 0.5) -> tuple[float, float]:
    """Mean and standard deviation of a week's bookings as a compound Poisson sum of deals.

    Deals close at rate :math:`\\lambda = m / \\bar v` a week with sizes of mean :math:`\\bar v` and coefficient
    of variation :math:`c`, so the variance is :math:`\\lambda E[v^2] = \\lambda \\bar v^2 (1 + c^2)`.

    Examples
    --------
    >>> weekly_moments(20_000.0, 10_000.0, 0.0)
    (20000.0, 14142.13562373095)
    """
    if expected_per_week <= 0 or mean_deal <= 0:
        return max(expected_per_week, 0.0), 0.0
    rate = expected_per_week / mean_deal
    return float(expected_per_week), float(math.sqrt(rate * mean_deal**2 * (1.0 + deal_cv**2)))


@dataclass(frozen=True)
class Incentive:
    """A rep's pay plan prepared for fast behaviour decisions (build once per rep with `prepare`).

    Attributes
    ----------
    pay_plan, behaviour
        The pay plan and the behaviour settings.
    quotas
        Quota per month of the horizon.
    base
        Annual base salary under the pay plan.
    reference_rate
        :math:`m_{ref}`: target variable pay of the first plan year / its quota (0 without quota or variable pay).
    cap
        Cap per plan year (None without a cap).
    cap_bookings
        Bookings of each plan year at which uncapped variable pay reaches the cap, with bookings shaped like the
        quotas (None without a cap; ``inf`` when the cap cannot be reached).
    commission
        The pay plan's commission in tier form (the flat shorthand expanded once).
    """

    pay_plan: PayPlanSettings
    behaviour: BehaviourSettings
    quotas: Array
    base: float
    reference_rate: float
    cap: Array | None = field(default=None, repr=False)
    cap_bookings: Array | None = field(default=None, repr=False)
    commission: CommissionSettings = field(default_factory=CommissionSettings, repr=False)


def _year_variable(quota_year: Array, total: float, base: float, pay_plan: PayPlanSettings) -> float:
    path = quota_year * (total / quota_year.sum()) if quota_year.sum() > 0 else np.full(len(quota_year),
                                                                                          total / len(quota_year))
    commission, bonus = uncapped_variable(path, quota_year, base, pay_plan)
    return float(commission.sum() + bonus.sum())


def prepare(pay_plan: PayPlanSettings, quotas: npt.ArrayLike, base_salary: float,
            behaviour: BehaviourSettings) -> Incentive:
    """Prepare a rep's pay plan for behaviour decisions: reference rate and, with a cap, the bookings that reach it.

    Parameters
    ----------
    pay_plan
        The rep's pay plan.
    quotas
        Quota per month of the horizon.
    base_salary
        Annual base salary from reps.csv.
    behaviour
        The scenario's behaviour settings.

    Returns
    -------
    Incentive

    Examples
    --------
    >>> import scenarios
    >>> p = scenarios.PayPlanSettings(commission_rate=0.05, cap={"amount": 6000.0})
    >>> inc = prepare(p, np.full(12, 10_000.0), 50_000.0, scenarios.BehaviourSettings())
    >>> round(inc.reference_rate, 4), round(float(inc.cap_bookings[0]))
    (0.05, 120000)
    """
    q = np.asarray(quotas, dtype=float)
    base = annual_base(base_salary, pay_plan)
    target = target_variable_pay(q, base_salary, pay_plan)
    first_year_quota = float(q[:12].sum())
    reference = float(target[0] / first_year_quota) if first_year_quota > 0 else 0.0
    cap = cap_bookings = None
    if pay_plan.cap is not None:
        years = len(target)
        cap = (np.full(years, pay_plan.cap.amount) if pay_plan.cap.amount is not None
               else pay_plan.cap.target_multiple * target)  # type: ignore[operator]
        cap_bookings = np.empty(years)
        for y in range(years):
            qy = q[12 * y:12 * y + 12]
            hi = max(float(qy.sum()), 1.0)
            for _ in range(60):
                if _year_variable(qy, hi, base, pay_plan) >= cap[y]:
                    break
                hi *= 2.0
            else:
                cap_bookings[y] = np.inf
                continue
            lo = 0.0
            for _ in range(50):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if _year_variable(qy, mid, base, pay_plan) < cap[y] else (lo, mid)
            cap_bookings[y] = hi
    return Incentive(pay_plan, behaviour, q, base, reference, cap, cap_bookings, pay_plan.commission_settings())


def prepare_all(reps: pd.DataFrame, pay_plans: Mapping[str, PayPlanSettings], quotas: pd.DataFrame,
                behaviour: BehaviourSettings) -> dict[str, Incentive]:
    """`prepare` for every rep: ``reps`` (indexed by rep_id, with ``pay_plan_id`` and ``base_salary``) and a quota
    matrix (rep_id × month, as from `monthly_quotas`).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> q = pd.DataFrame(25_000.0, index=s.reps.index, columns=range(12))
    >>> incs = prepare_all(s.reps, s.settings.pay_plans, q, s.settings.behaviour)
    >>> sorted(incs)[:2], round(incs["R0001"].reference_rate, 3)
    (['R0001', 'R0002'], 0.05)
    """
    missing = sorted(set(reps.index) - set(quotas.index))
    if missing:
        raise PayError(f"no quotas for rep(s) {missing[:5]}; give every rep a row in the quota matrix")
    unknown = sorted(set(reps["pay_plan_id"]) - set(pay_plans))
    if unknown:
        raise PayError(f"reps use unknown pay plan(s) {unknown}; known pay plans: {sorted(pay_plans)}")
    pay_plan_of = {str(k): str(v) for k, v in reps["pay_plan_id"].items()}
    base_of = {str(k): float(v) for k, v in reps["base_salary"].astype(float).items()}
    return {r: prepare(pay_plans[pay_plan_of[r]], quotas.loc[r].to_numpy(float), base_of[r], behaviour)
            for r in pay_plan_of}
