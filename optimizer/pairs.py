"""Candidate rep-account pairs with their value, hours and travel, and each rep's yearly capacity.

Only candidate pairs become model variables: a pair is a candidate when the rep may serve the account
(same region when ``same_region``, the account tier allows the rep's tier, not excluded, among the k nearest
when ``k_nearest`` is set). When the scenario has a ``rep_accounts`` table its rows ARE the candidate pairs and
its value/hours/travel columns, where filled, replace the derived figures. Reps and accounts are numbered by
position (integers), with the id arrays kept beside them, because PuLP folds characters in names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from scenarios import OptimizerSettings, Scenario, great_circle_km
from scenarios.skill import productivity

__all__ = ["Candidates", "candidate_pairs", "productivity"]

@dataclass(frozen=True, eq=False)
class Candidates:
    """The candidate pairs of a scenario, numbered by position.

    Parameters
    ----------
    rep_ids, account_ids
        Ids by position.
    pairs
        One row per candidate pair: ``rep`` and ``account`` (positions), ``value``, ``hours``, ``travel_km``,
        ``moved`` (the account has a current rep and this is another rep), ``locked``.
    capacity
        Yearly hours of each rep (by position).
    potential
        ``annual_potential`` of each account (by position), the unit of disruption.
    current
        Position of each account's current rep, -1 when it has none.
    """

    rep_ids: NDArray[np.object_]
    account_ids: NDArray[np.object_]
    pairs: pd.DataFrame
    capacity: NDArray[np.float64]
    potential: NDArray[np.float64]
    current: NDArray[np.int64]

    @property
    def has_current(self) -> NDArray[np.bool_]:
        """True for accounts that have a rep today."""
        return np.asarray(self.current >= 0)


def _derived(scenario: Scenario, rep_pos: NDArray[np.int64], acc_pos: NDArray[np.int64]) -> pd.DataFrame:
    """Value, hours and travel of pairs derived from skills, service need and geography."""
    reps, acc = scenario.reps, scenario.accounts
    prod = productivity(scenario).to_numpy()
    kinds = [f"{s}_{t}" for s in ("prospect", "customer") for t in ("A", "B", "C")]
    kind = (acc["status"].astype(str) + "_" + acc["tier"].astype(str)).map({k: i for i, k in enumerate(kinds)})
    kind_pos = kind.to_numpy(dtype=np.int64)[acc_pos]
    p = prod[rep_pos, kind_pos]
    potential = acc["annual_potential"].to_numpy(dtype=float)[acc_pos]
    service = acc["service_hours_per_year"].to_numpy(dtype=float)[acc_pos]
    travel = great_circle_km(reps["latitude"].to_numpy(dtype=float)[rep_pos],
                             reps["longitude"].to_numpy(dtype=float)[rep_pos],
                             acc["latitude"].to_numpy(dtype=float)[acc_pos],
                             acc["longitude"].to_numpy(dtype=float)[acc_pos])
    # A more productive rep needs proportionally fewer hours for the same service.
    return pd.DataFrame({"value": potential * p, "hours": service / p, "travel_km": travel})


def _eligible(scenario: Scenario, settings: OptimizerSettings) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """All (rep, account) positions allowed by region, tier rules and exclusions (before k-nearest)."""
    reps, acc = scenario.reps, scenario.accounts
    rep_region = reps["region"].to_numpy()
    rep_tier = reps["tier"].to_numpy()
    acc_region = acc["region"].to_numpy()
    acc_tier = acc["tier"].to_numpy()
    rep_parts, acc_parts = [], []
    groups = pd.Series(np.arange(len(acc))).groupby([acc_region, acc_tier] if settings.same_region
                                                    else [np.zeros(len(acc)), acc_tier])
    for key, idx in groups.groups.items():
        region, tier = cast(tuple[object, object], key)
        ok = np.ones(len(reps), dtype=bool)
        if settings.same_region:
            ok &= rep_region == region
        allowed = settings.eligible_tiers.get(str(tier))
        if allowed is not None:
            ok &= np.isin(rep_tier, allowed)
        r = np.flatnonzero(ok)
        a = np.asarray(idx, dtype=np.int64)
        rep_parts.append(np.tile(r, a.size))
        acc_parts.append(np.repeat(a, r.size))
    rep_pos = np.concatenate(rep_parts) if rep_parts else np.empty(0, dtype=np.int64)
    acc_pos = np.concatenate(acc_parts) if acc_parts else np.empty(0, dtype=np.int64)
    return rep_pos.astype(np.int64), acc_pos.astype(np.int64)


def candidate_pairs(scenario: Scenario, settings: OptimizerSettings | None = None) -> Candidates:
    """Candidate pairs, capacities, potentials and current reps of ``scenario``.

    Parameters
    ----------
    scenario
        The scenario.
    settings
        Optimizer settings (default: the scenario's ``[optimizer]``).

    Returns
    -------
    Candidates
        Pairs sorted by account then rep.

    Examples
    --------
    >>> import scenarios
    >>> c = candidate_pairs(scenarios.load("tiny"))
    >>> sorted(c.pairs.columns)
    ['account', 'hours', 'locked', 'moved', 'rep', 'travel_km', 'value']
    >>> bool(c.pairs.groupby("account").size().min() >= 1)
    True
    """
    st = settings or scenario.settings.optimizer
    reps, acc = scenario.reps, scenario.accounts
    rep_index = pd.Index(reps.index)
    acc_index = pd.Index(acc.index)
    current_ids = acc["current_rep_id"] if "current_rep_id" in acc.columns else pd.Series(np.nan, index=acc.index)
    current = rep_index.get_indexer(current_ids.to_numpy(dtype=object)).astype(np.int64)
    locked_acc = acc_index.get_indexer(list(st.locks)).astype(np.int64)
    locked_rep = rep_index.get_indexer(list(st.locks.values())).astype(np.int64)

    if scenario.rep_accounts is not None:
        ra = scenario.rep_accounts
        rep_pos = rep_index.get_indexer(ra.index.get_level_values("rep_id")).astype(np.int64)
        acc_pos = acc_index.get_indexer(ra.index.get_level_values("account_id")).astype(np.int64)
        frame = _derived(scenario, rep_pos, acc_pos)
        for col in ("value", "hours", "travel_km"):
            if col in ra.columns:
                given = pd.to_numeric(ra[col], errors="coerce").to_numpy(dtype=float)
                frame[col] = np.where(np.isnan(given), frame[col].to_numpy(), given)
    else:
        rep_pos, acc_pos = _eligible(scenario, st)
        # Locked pairs are kept even when the rules would drop them: the planner pinned them on purpose.
        good = (locked_acc >= 0) & (locked_rep >= 0)
        rep_pos = np.concatenate([rep_pos, locked_rep[good]])
        acc_pos = np.concatenate([acc_pos, locked_acc[good]])
        frame = _derived(scenario, rep_pos, acc_pos)
    frame.insert(0, "rep", rep_pos)
    frame.insert(1, "account", acc_pos)
    frame = frame.drop_duplicates(["account", "rep"])

    if st.exclusions:
        ex = [(a, r) for a, rs in st.exclusions.items() for r in rs]
        ex_acc = acc_index.get_indexer([a for a, _ in ex])
        ex_rep = rep_index.get_indexer([r for _, r in ex])
        key = pd.MultiIndex.from_arrays([frame["account"], frame["rep"]])
        frame = frame[~key.isin(pd.MultiIndex.from_arrays([ex_acc, ex_rep]))]

    lock_key = pd.MultiIndex.from_arrays([locked_acc, locked_rep])
    frame["locked"] = pd.MultiIndex.from_arrays([frame["account"], frame["rep"]]).isin(lock_key)

    if st.k_nearest > 0 and scenario.rep_accounts is None:
        rank = frame.groupby("account")["travel_km"].rank(method="first")
        keep = (rank <= st.k_nearest) | frame["locked"].to_numpy() | (
            frame["rep"].to_numpy() == current[frame["account"].to_numpy()])
        frame = frame[keep.to_numpy()]

    frame = frame.sort_values(["account", "rep"], kind="stable").reset_index(drop=True)
    has = current[frame["account"].to_numpy()] >= 0
    frame["moved"] = has & (frame["rep"].to_numpy() != current[frame["account"].to_numpy()])

    weeks = scenario.settings.calendar.weeks_per_year
    capacity = reps["hours_per_week"].to_numpy(dtype=float) * weeks
    return Candidates(
        rep_ids=rep_index.to_numpy(dtype=object),
        account_ids=acc_index.to_numpy(dtype=object),
        pairs=frame,
        capacity=capacity,
        potential=acc["annual_potential"].to_numpy(dtype=float),
        current=current,
    )
