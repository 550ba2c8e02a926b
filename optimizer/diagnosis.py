"""Infeasibility explained in planner words.

First cheap necessary conditions on the inputs (accounts nobody may serve, a balance floor a rep cannot reach
with its hours, e.g. a rep with no hours at all, a region whose accounts need more hours than its eligible reps
have, balance floors above what a region's accounts can fill, locks beyond a rep's capacity); then, when the
solver still finds no assignment, a deletion filter over constraint families on the LP relaxation: each family
(balance band, disruption budget, capacity) is dropped in turn and the ones whose removal restores feasibility
are reported with the figure that breaks them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer.model import AllocationInputs, build
from optimizer.solve import solve
from optimizer.status import Status
from scenarios import Scenario

__all__ = ["explain_infeasible", "precheck"]


def precheck(scenario: Scenario, inputs: AllocationInputs) -> list[str]:
    """Necessary conditions that fail, in planner words (empty list = nothing obviously wrong).

    Examples
    --------
    >>> import scenarios
    >>> from optimizer.model import prepare
    >>> s = scenarios.load("tiny")
    >>> precheck(s, prepare(s))
    []
    >>> small = s.replace(reps=s.reps.assign(hours_per_week=5.0))
    >>> precheck(small, prepare(small))[0][:12]
    'region North'
    """
    cand = inputs.candidates
    pairs = cand.pairs
    st = inputs.settings
    reasons: list[str] = []
    n_acc = len(cand.account_ids)
    count = np.bincount(pairs["account"].to_numpy(), minlength=n_acc)
    acc_region = scenario.accounts["region"].to_numpy()
    if not st.allow_uncovered:
        lonely = np.flatnonzero(count == 0)
        for a in lonely[:5]:
            row = scenario.accounts.iloc[a]
            reasons.append(f"account {cand.account_ids[a]} ({row['name']}, region {row['region']}, tier "
                           f"{row['tier']}) has no eligible rep (check same_region, eligible_tiers, exclusions)")
        if lonely.size > 5:
            reasons.append(f"{lonely.size - 5} more accounts have no eligible rep")
    acc = pairs["account"].to_numpy()
    min_hours = pd.Series(pairs["hours"].to_numpy(dtype=float)).groupby(acc).min()
    hour_cap = cand.capacity.copy()
    for band in inputs.bands:
        if band.attribute == "hours":
            hour_cap = np.minimum(hour_cap, band.high)
    frame = pd.DataFrame({"account": acc, "rep": pairs["rep"].to_numpy()})
    frame["region"] = acc_region[acc]
    for region, grp in frame.groupby("region", sort=True):
        accounts = np.unique(grp["account"].to_numpy())
        reps = np.unique(grp["rep"].to_numpy())
        need = float(min_hours.reindex(accounts).sum()) if not st.allow_uncovered else 0.0
        have = float(hour_cap[reps].sum())
        if need > have * (1 + 1e-9):
            reasons.append(f"region {region} needs at least {need:,.0f} hours a year for its {accounts.size} "
                           f"accounts; its {reps.size} eligible reps have {have:,.0f} (capacity, or the balance "
                           "band's upper limit if lower)")
        for band in inputs.bands:
            floor = float(np.clip(band.low[reps], 0, None).sum())
            most = float(pd.Series(band.weight[grp.index.to_numpy()]).groupby(grp["account"].to_numpy()).max().sum())
            if floor > most * (1 + 1e-9):
                reasons.append(f"the {band.attribute} balance band asks the {reps.size} reps of region {region} "
                               f"for at least {floor:,.1f} together; the region's accounts offer at most {most:,.1f}")
    floors = _rep_floors(scenario, inputs)
    reasons += floors[:5]
    if len(floors) > 5:
        reasons.append(f"{len(floors) - 5} more reps cannot reach a balance band's floor")
    locked = pairs[pairs["locked"]]
    if len(locked):
        held = np.bincount(locked["rep"].to_numpy(), weights=locked["hours"].to_numpy(dtype=float),
                           minlength=len(cand.rep_ids))
        for r in np.flatnonzero(held > cand.capacity)[:5]:
            reasons.append(f"rep {cand.rep_ids[r]} is locked to accounts needing {held[r]:,.0f} hours; capacity "
                           f"is {cand.capacity[r]:,.0f}")
    return reasons


def _most_within_hours(weight: NDArray[np.float64], hours: NDArray[np.float64], budget: float) -> float:
    """Most of ``weight`` a rep can collect from its candidate pairs within ``budget`` hours, accounts taken
    fractionally (the fractional knapsack, filled greedily by weight per hour): an upper bound for any plan."""
    free = hours <= 0
    total = float(weight[free & (weight > 0)].sum())
    rest = ~free & (weight > 0)
    w, h = weight[rest], hours[rest]
    order = np.argsort(-w / h, kind="stable")
    left = budget
    for i in order.tolist():
        if left <= 0:
            break
        take = min(1.0, left / h[i]) if np.isfinite(left) else 1.0
        total += take * float(w[i])
        left -= take * float(h[i])
    return total


def _rep_floors(scenario: Scenario, inputs: AllocationInputs) -> list[str]:
    """Balance-band floors a rep cannot reach: what its candidate accounts offer within its hours (capacity, and
    an hours band's upper limit) is below the band's lower limit for that rep. A rep with no hours at all
    (``hours_per_week`` 0) can reach no positive floor."""
    cand = inputs.candidates
    pairs = cand.pairs
    rep = pairs["rep"].to_numpy()
    hours = pairs["hours"].to_numpy(dtype=float)
    budget = cand.capacity.copy()
    for band in inputs.bands:
        if band.attribute == "hours":
            budget = np.minimum(budget, band.high)
    reasons: list[str] = []
    # Each rep's pairs as one slice of a stable sort (a mask per rep costs reps x pairs: 7.7 s at 100,000 x 500).
    order = np.argsort(rep, kind="stable")
    cut = np.searchsorted(rep[order], np.arange(len(cand.rep_ids) + 1))
    for band, spec in zip(inputs.bands, inputs.settings.balance, strict=True):
        unit = {"hours": "hours a year", "accounts": "accounts"}.get(band.attribute, f"of {band.attribute}")
        floor_text = (f"{spec.min:g} x the mean per rep{' of its region' if spec.scope == 'region' else ''}"
                      if spec.relative else f"{spec.min:g}")
        for r in np.flatnonzero(np.isfinite(band.low) & (band.low > 0)).tolist():
            mine = order[cut[r]:cut[r + 1]]
            most = _most_within_hours(band.weight[mine], hours[mine], float(budget[r]))
            if band.low[r] <= most * (1 + 1e-9) + 1e-9:
                continue
            weekly = float(scenario.reps["hours_per_week"].iloc[r])
            if mine.size == 0:
                why = "it has no eligible accounts"
            elif weekly <= 0:
                why = "it has no selling hours (hours_per_week is 0)"
            else:
                why = f"its accounts within its {budget[r]:,.0f} hours a year offer no more"
            reasons.append(
                f"rep {cand.rep_ids[r]} ({scenario.reps['name'].iloc[r]}) can reach at most {most:,.1f} {unit}, "
                f"but the {band.attribute} balance band (min {floor_text}) asks it for at least {band.low[r]:,.1f}: "
                f"{why}. Give the rep hours or eligible accounts, remove the rep from reps.csv, or lower that "
                "band's min")
    return reasons


def explain_infeasible(scenario: Scenario, inputs: AllocationInputs, time_limit: float = 30.0) -> list[str]:
    """Why no assignment exists: the precheck, else the constraint families whose removal restores feasibility.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.modify(scenarios.load("tiny"), {"optimizer.max_moves": 0,
    ...     "optimizer.balance": [{"attribute": "hours", "min": 0.99, "max": 1.01, "scope": "region"}]})
    >>> from optimizer.model import prepare
    >>> reasons = explain_infeasible(s, prepare(s))
    >>> any("disruption" in r or "balance" in r for r in reasons)
    True
    """
    reasons = precheck(scenario, inputs)
    if reasons:
        return reasons
    variants: list[tuple[str, AllocationInputs]] = []
    for k, band in enumerate(inputs.bands):
        others = tuple(b for j, b in enumerate(inputs.bands) if j != k)
        lo, hi = band.low[np.isfinite(band.low)], band.high[np.isfinite(band.high)]
        span = f"[{lo.min():,.1f}, {hi.max():,.1f}]" if lo.size and hi.size else "its limits"
        variants.append((f"the {band.attribute} balance band {span} per rep",
                         dataclasses.replace(inputs, bands=others)))
    if inputs.max_moves is not None or inputs.max_moved_value is not None:
        parts = []
        if inputs.max_moves is not None:
            parts.append(f"at most {inputs.max_moves:,.0f} accounts")
        if inputs.max_moved_value is not None:
            parts.append(f"at most {inputs.max_moved_value:,.0f} of potential")
        variants.append(("the disruption budget (" + " and ".join(parts) + " may change rep)",
                         dataclasses.replace(inputs, max_moves=None, max_moved_value=None)))
    cand = inputs.candidates
    roomy = dataclasses.replace(cand, capacity=np.full_like(cand.capacity, np.inf))
    variants.append(("rep capacity in hours", dataclasses.replace(inputs, candidates=roomy)))
    culprits = []
    for text, variant in variants:
        out = solve(build(variant, relax=True), "highs", time_limit)
        if out.claim is Status.OPTIMAL:
            culprits.append(text)
    if culprits:
        return [f"dropping {c} alone would make a plan possible (even the fractional relaxation is blocked by it)"
                for c in culprits]
    return ["several constraint families conflict together (no single family is to blame): loosen the balance "
            "bands and the disruption budget, or add capacity"]
