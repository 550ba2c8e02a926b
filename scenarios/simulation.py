"""Simulation settings (``[simulation]`` in scenario.toml): replications, seed and behaviour of demand."""

from __future__ import annotations

from pydantic import Field

from scenarios.base import Strict

__all__ = ["SimulationSettings"]


class SimulationSettings(Strict):
    """How the funnel simulator runs.

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
    """

    replications: int = Field(default=20, ge=1)
    seed: int = Field(default=20261123, ge=0)
    workers: int = Field(default=1, ge=1)
    repeat_orders_per_year: dict[str, float] = Field(
        default_factory=lambda: {"A": 4.0, "B": 2.0, "C": 0.5}
    )
    churn_service_share: float = Field(default=0.5, ge=0.0, le=1.0)
