"""Marketing settings: channels with their lead-response curves, and the budget they share."""

from __future__ import annotations

import itertools

from pydantic import Field, model_validator

from scenarios.base import Strict

__all__ = ["BudgetSettings", "ChannelSettings"]


class ChannelSettings(Strict):
    """A marketing channel (``[channels.<channel_id>]``).

    The lead response is a concave piecewise-linear curve per region and month: ``curve_spend`` are spend
    breakpoints (currency, increasing, starting at 0) and ``curve_leads`` the leads produced at those spends
    (increasing, with non-increasing slopes so that extra money brings fewer extra leads).

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
    default_monthly_spend
        Spend per region and month when no budget plan is given (today's run-rate).
    """

    name: str = ""
    curve_spend: list[float] = Field(min_length=2)
    curve_leads: list[float] = Field(min_length=2)
    lead_quality: float = Field(default=1.0, gt=0.0)
    seasonality: list[float] = Field(default_factory=list)
    min_spend: float = Field(default=0.0, ge=0.0)
    max_spend: float | None = Field(default=None, ge=0.0)
    default_monthly_spend: float = Field(default=0.0, ge=0.0)

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
        if self.max_spend is not None and self.max_spend < self.min_spend:
            raise ValueError(f"max_spend {self.max_spend} is below min_spend {self.min_spend}")
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

    total: float = Field(default=0.0, ge=0.0)
    min_monthly_spend: float = Field(default=0.0, ge=0.0)
    max_monthly_spend: float | None = Field(default=None, ge=0.0)
