"""Marketing settings: channels with their lead-response curves, and the budget they share."""

from __future__ import annotations

import itertools

import numpy as np
from pydantic import Field, model_validator

from scenarios.base import Strict
from scenarios.limits import MAX_AMOUNT, MAX_LEADS, MAX_MULTIPLIER, MAX_TOTAL

__all__ = ["BudgetSettings", "ChannelSettings", "expected_leads", "region_weights"]


class ChannelSettings(Strict):
    """A marketing channel (``[channels.<channel_id>]``).

    The lead response is a concave piecewise-linear curve for an average region in one month: ``curve_spend``
    are spend breakpoints (currency, increasing, starting at 0) and ``curve_leads`` the leads produced at those
    spends (increasing, with non-increasing slopes so that extra money brings fewer extra leads); beyond the
    last breakpoint the curve is flat (saturated). See ``expected_leads`` for regions and seasons.

    Parameters
    ----------
    name
        Display name.
    curve_spend, curve_leads
        Breakpoints of the lead-response curve, per region and month.
    lead_quality
        Multiplier on the funnel's conversion for leads from this channel (1 = average).
    seasonality
        Optional 12 monthly multipliers (January first) on the response; empty means flat.
    min_spend, max_spend
        Bounds on the channel's total spend over the horizon (currency).
    min_monthly_spend, max_monthly_spend
        Bounds on the channel's spend in any one month, over all regions (e.g. event contracts, a media
        plan's monthly caps); 0 and None mean no bound.
    default_monthly_spend
        Spend per region and month when no budget plan is given (today's run-rate).
    """

    name: str = ""
    curve_spend: list[float] = Field(min_length=2)
    curve_leads: list[float] = Field(min_length=2)
    lead_quality: float = Field(default=1.0, gt=0.0, le=MAX_MULTIPLIER)
    seasonality: list[float] = Field(default_factory=list)
    min_spend: float = Field(default=0.0, ge=0.0, le=MAX_TOTAL)
    max_spend: float | None = Field(default=None, ge=0.0, le=MAX_TOTAL)
    min_monthly_spend: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)
    max_monthly_spend: float | None = Field(default=None, ge=0.0, le=MAX_AMOUNT)
    default_monthly_spend: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)

    @model_validator(mode="after")
    def _curve_is_concave(self) -> ChannelSettings:
        spend, leads = self.curve_spend, self.curve_leads
        if len(spend) != len(leads):
            raise ValueError(
                f"curve_spend has {len(spend)} breakpoints but curve_leads has {len(leads)}; give one lead "
                "count per spend breakpoint"
            )
        if spend[0] != 0.0 or leads[0] < 0.0:
            raise ValueError("the curve must start at curve_spend = 0 with curve_leads >= 0")
        slopes = []
        for i in range(1, len(spend)):
            if spend[i] <= spend[i - 1]:
                raise ValueError("curve_spend must be strictly increasing")
            if leads[i] < leads[i - 1]:
                raise ValueError("curve_leads must not decrease (more money never loses leads)")
            slopes.append((leads[i] - leads[i - 1]) / (spend[i] - spend[i - 1]))
        if any(b > a * (1 + 1e-9) + 1e-12 for a, b in itertools.pairwise(slopes)):
            raise ValueError("the lead-response curve must be concave: each segment's leads per unit of "
                             "spend must be no higher than the previous segment's")
        if self.seasonality and len(self.seasonality) != 12:
            raise ValueError(f"seasonality needs 12 monthly values (January first), got {len(self.seasonality)}")
        if any(v < 0 for v in self.seasonality):
            raise ValueError("seasonality values must be >= 0")
        if any(v > MAX_MULTIPLIER for v in self.seasonality):
            raise ValueError(f"seasonality values must be <= {MAX_MULTIPLIER:g} (relative to the neutral level 1)")
        if spend[-1] > MAX_AMOUNT or leads[-1] > MAX_LEADS:
            raise ValueError(f"the curve must stay within curve_spend <= {MAX_AMOUNT:g} (money per region and month) "
                             f"and curve_leads <= {MAX_LEADS:g} (the simulator runs one process per lead)")
        if self.max_spend is not None and self.max_spend < self.min_spend:
            raise ValueError(f"max_spend {self.max_spend} is below min_spend {self.min_spend}")
        if self.max_monthly_spend is not None and self.max_monthly_spend < self.min_monthly_spend:
            raise ValueError(f"max_monthly_spend {self.max_monthly_spend} is below min_monthly_spend "
                             f"{self.min_monthly_spend}")
        return self


class BudgetSettings(Strict):
    """The marketing budget (``[budget]``).

    Parameters
    ----------
    total
        Money to spend over the horizon (currency).
    min_monthly_spend, max_monthly_spend
        Bounds on the total spend in any one month, over all channels and regions.
    """

    total: float = Field(default=0.0, ge=0.0, le=MAX_TOTAL)
    min_monthly_spend: float = Field(default=0.0, ge=0.0, le=MAX_AMOUNT)
    max_monthly_spend: float | None = Field(default=None, ge=0.0, le=MAX_AMOUNT)


def region_weights(potential_by_region: dict[str, float]) -> dict[str, float]:
    """Size of each region's market relative to the average region (mean weight 1), from its potential.

    A channel's lead curve describes an average region; a region with twice the average potential gets twice
    the leads at the same spend per unit of weight.

    Examples
    --------
    >>> region_weights({"North": 100.0, "South": 300.0})
    {'North': 0.5, 'South': 1.5}
    """
    total = sum(potential_by_region.values())
    n = len(potential_by_region)
    if total <= 0:
        return dict.fromkeys(potential_by_region, 1.0)
    return {r: n * p / total for r, p in potential_by_region.items()}


def expected_leads(channel: ChannelSettings, spend: float, month_of_year: int, region_weight: float = 1.0,
                   demand_seasonality: float = 1.0) -> float:
    """Expected leads in one region and month from ``spend`` on ``channel``: the shared definition both the
    budget optimizer and the simulator use.

    The spend is taken per unit of region weight (a region twice as large needs twice the money for the same
    position on the curve); leads are the piecewise-linear curve at that spend, times the region weight, the
    channel's seasonality for the month and the demand seasonality (calendar seasonality over its mean).

    Parameters
    ----------
    channel
        The channel.
    spend
        Money spent in the region and month.
    month_of_year
        1 (January) to 12.
    region_weight
        The region's weight from ``region_weights``.
    demand_seasonality
        Calendar seasonality of the month divided by the mean of the 12 values.

    Examples
    --------
    >>> ch = ChannelSettings(curve_spend=[0, 100, 300], curve_leads=[0, 10, 15])
    >>> expected_leads(ch, 200.0, 1)
    12.5
    >>> expected_leads(ch, 400.0, 1, region_weight=2.0)
    25.0
    """
    if region_weight <= 0:
        return 0.0
    per_weight = spend / region_weight
    leads = float(np.interp(per_weight, channel.curve_spend, channel.curve_leads))
    season = channel.seasonality[month_of_year - 1] if channel.seasonality else 1.0
    return leads * region_weight * season * demand_seasonality
