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

from scenarios import OptimizerSettings, Scenario
from scenarios.geography import paired_km
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


def _derived(scenario: Scenario, rep_pos: NDArray[np.int64], acc_pos: NDArray[np.int64]
             ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Value, hours and travel of pairs derived from skills, service need and geography."""
    reps, acc = scenario.reps, scenario.accounts
    prod = productivity(scenario).to_numpy()
    kinds = [f"{s}_{t}" for s in ("prospect", "customer") for t in ("A", "B", "C")]
    kind = (acc["status"].astype(str) + "_" + acc["tier"].astype(str)).map({k: i for i, k in enumerate(kinds)})
    kind_pos = kind.to_numpy(dtype=np.int64)[acc_pos]
    p = prod[rep_pos, kind_pos]
    del kind_pos
    # Products and quotients formed in place: the same digits, without another 32 M-pair array each.
    value = acc["annual_potential"].to_numpy(dtype=float)[acc_pos]
    value *= p
    # A more productive rep needs proportionally fewer hours for the same service.
    hours = acc["service_hours_per_year"].to_numpy(dtype=float)[acc_pos]
    hours /= p
    travel = paired_km(reps["latitude"].to_numpy(dtype=float), reps["longitude"].to_numpy(dtype=float),
                       acc["latitude"].to_numpy(dtype=float), acc["longitude"].to_numpy(dtype=float), rep_pos, acc_pos)
    return value, hours, travel


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
    return rep_pos.astype(np.int64, copy=False), acc_pos.astype(np.int64, copy=False)


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
    n_rep = len(reps)
    current_ids = acc["current_rep_id"] if "current_rep_id" in acc.columns else pd.Series(np.nan, index=acc.index)
    current = rep_index.get_indexer(current_ids.to_numpy(dtype=object)).astype(np.int64)
    locked_acc = acc_index.get_indexer(list(st.locks)).astype(np.int64)
    locked_rep = rep_index.get_indexer(list(st.locks.values())).astype(np.int64)

    given: dict[str, NDArray[np.float64]] = {}
    if scenario.rep_accounts is not None:
        ra = scenario.rep_accounts
        rep_pos = rep_index.get_indexer(ra.index.get_level_values("rep_id")).astype(np.int64)
        acc_pos = acc_index.get_indexer(ra.index.get_level_values("account_id")).astype(np.int64)
        given = {col: pd.to_numeric(ra[col], errors="coerce").to_numpy(dtype=float)
                 for col in ("value", "hours", "travel_km") if col in ra.columns}
    else:
        rep_pos, acc_pos = _eligible(scenario, st)
        # Locked pairs are kept even when the rules would drop them: the planner pinned them on purpose.
        good = (locked_acc >= 0) & (locked_rep >= 0)
        rep_pos = np.concatenate([rep_pos, locked_rep[good]])
        acc_pos = np.concatenate([acc_pos, locked_acc[good]])

    # One int64 key per pair orders pairs by account, then rep. The stable sort keeps a repeated pair's first row
    # first, so the first of each run is the row a table's first occurrence gives (pandas' drop_duplicates took
    # 15 s of 31 M pairs, its sort by account and rep 6 s).
    key = acc_pos * n_rep + rep_pos
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    if st.exclusions:
        ex_acc = acc_index.get_indexer([a for a, rs in st.exclusions.items() for _ in rs]).astype(np.int64)
        ex_rep = rep_index.get_indexer([r for rs in st.exclusions.values() for r in rs]).astype(np.int64)
        first &= ~_among(key, _keys(ex_acc, ex_rep, n_rep))
    if not first.all():
        order, key = order[first], key[first]
    rep_pos, acc_pos = rep_pos[order], acc_pos[order]
    value, hours, travel = _derived(scenario, rep_pos, acc_pos)
    columns = {"value": value, "hours": hours, "travel_km": travel}
    for col, figures in given.items():
        figures = figures[order]
        columns[col] = np.where(np.isnan(figures), columns[col], figures)
    locked = _among(key, _keys(locked_acc, locked_rep, n_rep))

    if st.k_nearest > 0 and scenario.rep_accounts is None:
        # Each account's nearest reps, ties to the pair listed first (order holds the listing position).
        near = _rank_in_account(acc_pos, columns["travel_km"], order) < st.k_nearest
        keep = (near & ~np.isnan(columns["travel_km"])) | locked | (rep_pos == current[acc_pos])
        rep_pos, acc_pos, locked = rep_pos[keep], acc_pos[keep], locked[keep]
        columns = {col: figures[keep] for col, figures in columns.items()}

    today = current[acc_pos]
    # The arrays are this frame's own: copying them into consolidated blocks took 1-2 s at 32 M pairs.
    frame = pd.DataFrame({"rep": rep_pos, "account": acc_pos, **columns, "locked": locked,
                          "moved": (today >= 0) & (rep_pos != today)}, copy=False)

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


def _keys(acc_pos: NDArray[np.int64], rep_pos: NDArray[np.int64], n_rep: int) -> NDArray[np.int64]:
    """The sort keys of pairs given by account and rep position; pairs naming an unknown id (-1) are left out."""
    known = (acc_pos >= 0) & (rep_pos >= 0)
    return np.asarray(acc_pos[known] * n_rep + rep_pos[known], dtype=np.int64)


def _among(sorted_keys: NDArray[np.int64], wanted: NDArray[np.int64]) -> NDArray[np.bool_]:
    """True where ``sorted_keys`` (ascending) holds one of ``wanted``: a binary search per wanted key, where
    ``np.isin`` would compare all pairs once per key or sort them again."""
    found = np.zeros(sorted_keys.size, dtype=bool)
    if sorted_keys.size and wanted.size:
        at = np.minimum(np.searchsorted(sorted_keys, wanted), sorted_keys.size - 1)
        found[at[sorted_keys[at] == wanted]] = True
    return found


def _rank_in_account(acc_pos: NDArray[np.int64], travel: NDArray[np.float64], listed: NDArray[np.int64]
                     ) -> NDArray[np.int64]:
    """Rank from 0 of each pair's travel among its account's pairs, ties by ``listed`` (pandas' rank "first")."""
    by = np.lexsort((listed, travel, acc_pos))
    run_acc = acc_pos[by]
    starts = np.flatnonzero(np.r_[True, run_acc[1:] != run_acc[:-1]])
    rank = np.empty(by.size, dtype=np.int64)
    rank[by] = np.arange(by.size) - np.repeat(starts, np.diff(np.r_[starts, by.size]))
    return rank
