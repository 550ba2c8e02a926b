"""Quota-setting settings (``[quotas]`` in scenario.toml): how the company target becomes rep quotas.

The target itself (annual amount, over-assignment, product and region shares) lives in ``[targets]``; tier
bounds and ramp-up live in ``[tiers]``; this section only chooses the method and its parameters.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from scenarios.base import Strict
from scenarios.limits import MAX_AMOUNT

__all__ = ["QUOTA_METHODS", "QuotaMethod", "QuotaSettings"]

QuotaMethod = Literal["even", "potential", "expected_sales", "fair", "equal_probability"]
QUOTA_METHODS: tuple[str, ...] = ("even", "potential", "expected_sales", "fair", "equal_probability")


class QuotaSettings(Strict):
    """How quotas are set (``[quotas]``).

    Parameters
    ----------
    method
        ``even`` (same full-year quota for everyone, pro-rated for ramp), ``potential`` (weighted by territory
        potential), ``expected_sales`` (proportional to expected sales from the skill model), ``fair`` (LP:
        smallest largest relative deviation from the expected-sales share within tier bounds) or
        ``equal_probability`` (every rep has the same chance of reaching quota, from simulated sales).
    attainment_probability
        The chance of reaching quota a planner wants each rep to have; ``equal_probability`` reports the common
        chance the target actually allows and warns when it is below this value.
    max_potential_share
        Gap analysis: a rep whose quota needs more than this share of their territory's potential is flagged.
    unit
        Quotas are whole multiples of this currency amount (1 = whole currency units).
    ramp
        Pro-rate quotas of reps still ramping up (by months in seat and the tier's ramp curve).
    """

    method: QuotaMethod = "fair"
    attainment_probability: float = Field(default=0.6, gt=0.0, lt=1.0)
    max_potential_share: float = Field(default=0.5, gt=0.0, le=1.0)
    unit: float = Field(default=1.0, gt=0.0, le=MAX_AMOUNT)
    ramp: bool = True
