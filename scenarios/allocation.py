"""Optimizer settings (``[optimizer]`` in scenario.toml): solver, limits, objective weights and rules."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from scenarios.base import Strict
from scenarios.limits import MAX_MULTIPLIER, MAX_TRAVEL_WEIGHT

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
    scope
        Mean over ``all`` reps, or over the reps of each rep's own ``region`` (use it with ``same_region``
        when regions carry different workloads per rep).
    """

    attribute: str
    min: float | None = None
    max: float | None = None
    relative: bool = True
    scope: Literal["all", "region"] = "all"


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
    eligible_tiers
        Rep tiers allowed per account tier, e.g. ``{A = ["mid", "senior"]}`` (a missing account tier allows all).
    role_fit
        Productivity bonus of a good role fit (hunter on a prospect, farmer on an A or B customer) and malus of
        a poor one (hunter on an A customer, farmer on a prospect): 0.1 = +-10 %.
    locks
        Pinned pairs: account_id -> rep_id that must keep the account.
    exclusions
        Forbidden pairs: account_id -> list of rep_ids that may not get the account.
    method
        ``auto`` (direct MIP for small models, LP relaxation then a small MIP over the fractional accounts for
        large ones, region by region above 1,000,000 candidate pairs), ``mip`` (always the direct MIP),
        ``lp_fix`` (always relaxation first) or ``pieces`` (region by region at any size; one region: as
        ``lp_fix``).
    lexicographic
        Optional priority order of terms among ``value``, ``travel``, ``disruption`` (e.g.
        ``["disruption", "travel"]``): each term is optimised in turn while every earlier term is held at its
        optimum (within ``lexicographic_slack``); empty (default) optimises the weighted objective. Each stage
        is a direct MIP, so this suits models up to a few tens of thousands of candidate pairs.
    lexicographic_slack
        Relative slack allowed on an earlier term when optimising a later one (0.01 = 1 %).
    """

    solver: Literal["highs", "cbc"] = "highs"
    time_limit_s: float = Field(default=60.0, gt=0.0)
    mip_gap: float = Field(default=0.001, ge=0.0, le=1.0)
    objective: Literal["value", "cost"] = "value"
    travel_weight: float = Field(default=0.0, ge=0.0, le=MAX_TRAVEL_WEIGHT)
    disruption_weight: float = Field(default=0.0, ge=0.0, le=MAX_MULTIPLIER)
    same_region: bool = True
    k_nearest: int = Field(default=0, ge=0)
    allow_uncovered: bool = False
    uncovered_penalty: float = Field(default=1.0, ge=0.0, le=MAX_MULTIPLIER)
    max_moves: int | None = Field(default=None, ge=0)
    max_moved_share: float | None = Field(default=None, ge=0.0, le=1.0)
    balance: list[BalanceBand] = Field(default_factory=list)
    eligible_tiers: dict[str, list[str]] = Field(default_factory=dict)
    role_fit: float = Field(default=0.1, ge=0.0, lt=1.0)
    locks: dict[str, str] = Field(default_factory=dict)
    exclusions: dict[str, list[str]] = Field(default_factory=dict)
    method: Literal["auto", "mip", "lp_fix", "pieces"] = "auto"
    lexicographic: list[Literal["value", "travel", "disruption"]] = Field(default_factory=list)
    lexicographic_slack: float = Field(default=0.0, ge=0.0, le=1.0)

