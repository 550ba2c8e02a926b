"""Optimizer settings (``[optimizer]`` in scenario.toml): solver, limits, objective weights and rules."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from scenarios.base import Strict

__all__ = ["BalanceBand", "OptimizerSettings"]


class BalanceBand(Strict):
    """A balance band on a per-rep total of an account attribute.

    Parameters
    ----------
    attribute
        ``hours`` (workload), ``accounts`` (count) or a numeric accounts.csv column such as
        ``annual_potential``.
    min, max
        Lower and upper bound of each rep's total.
    relative
        When true, ``min``/``max`` are multiples of the mean per rep (0.9 and 1.1 for a +-10 % band).
    """

    attribute: str
    min: float | None = None
    max: float | None = None
    relative: bool = True


class OptimizerSettings(Strict):
    """How accounts are assigned to reps.

    Parameters
    ----------
    solver
        ``highs`` (default) or ``cbc``.
    time_limit_s
        Wall-clock limit of one solve, enforced by quotaflow itself.
    mip_gap
        Relative optimality gap at which a MIP solve may stop (0.001 = 0.1 %).
    objective
        ``value``: maximise expected value minus weighted travel and disruption; ``cost``: minimise the pair
        values taken as costs (the Generalized Assignment Problem's cost form).
    travel_weight
        Objective penalty per km of travel per year.
    disruption_weight
        Objective penalty per unit of annual potential moved away from its current rep.
    same_region
        Only reps of the account's region are candidates.
    k_nearest
        Keep only the k nearest eligible reps per account (0 = all).
    allow_uncovered, uncovered_penalty
        Allow accounts to stay unassigned at the given penalty per unit of potential.
    max_moves
        Most accounts that may change rep (None = no limit).
    max_moved_share
        Most share of total potential that may change rep (None = no limit).
    balance
        Balance bands per rep.
    """

    solver: Literal["highs", "cbc"] = "highs"
    time_limit_s: float = Field(default=60.0, gt=0.0)
    mip_gap: float = Field(default=0.001, ge=0.0, le=1.0)
    objective: Literal["value", "cost"] = "value"
    travel_weight: float = Field(default=0.0, ge=0.0)
    disruption_weight: float = Field(default=0.0, ge=0.0)
    same_region: bool = True
    k_nearest: int = Field(default=0, ge=0)
    allow_uncovered: bool = False
    uncovered_penalty: float = Field(default=1.0, ge=0.0)
    max_moves: int | None = Field(default=None, ge=0)
    max_moved_share: float | None = Field(default=None, ge=0.0, le=1.0)
    balance: list[BalanceBand] = Field(default_factory=list)
