"""Incentive-plan settings: the named pay plans reps are on (``[plans.<plan_id>]`` in scenario.toml).

The foundation holds the slot (a named plan with a flat commission rate); the incentive engine extends the
components (tiers, bonuses, caps, contests, ...) here.
"""

from __future__ import annotations

from pydantic import Field

from scenarios.base import Strict

__all__ = ["PlanSettings"]


class PlanSettings(Strict):
    """One named incentive plan.

    Parameters
    ----------
    description
        What the plan is, in a sentence.
    commission_rate
        Share of booked revenue paid as commission (0.05 = 5 %).
    """

    description: str = ""
    commission_rate: float = Field(default=0.0, ge=0.0, le=1.0)
