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
    acc = pairs["account"].to_numpy()
    count = np.bincount(acc, minlength=n_acc)
    acc_region = scenario.accounts["region"].to_numpy()
    if not st.allow_uncovered:
        lonely = np.flatnonzero(count == 0)
        for a in lonely[:5]:
            row = scenario.accounts.iloc[a]
            reasons.append(f"account {cand.account_ids[a]} ({row['name']}, region {row['region']}, tier "
                           f"{row['tier']}) has no eligible rep (check same_region, eligible_tiers, exclusions)")
        if lonely.size > 5:
            reasons.append(f"{lonely.size - 5} more accounts have no eligible rep")
    hour_cap = cand.capacity.copy()
    for band in inputs.bands:
        if band.attribute == "hours":
            hour_cap = np.minimum(hour_cap, band.high)
    # Per-account figures over each account's run of pairs, and the reps of each region as one table: a pandas
    # groupby per region took 5 s of 14 s at 250,000 x 1,000. An account's pairs all lie in its region.
    order = np.argsort(acc, kind="stable")  # the identity when pairs come sorted by account
    grouped = acc[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if grouped.size else grouped
    served = grouped[starts]
    min_hours = _per_account(np.fmin, pairs["hours"].to_numpy(dtype=float)[order], starts, served, n_acc)
    most_weight = [_per_account(np.fmax, band.weight[order], starts, served, n_acc) for band in inputs.bands]
    region_code, region_names = pd.factorize(acc_region, sort=True)
    # One row more than regions: accounts without a region (code -1) mark the last row, which is never read; a
    # mask to leave them out cost 1.2 s at 32 M pairs.
    rep_in_region = np.zeros((region_names.size + 1, len(cand.rep_ids)), dtype=bool)
    rep_in_region[region_code.astype(np.int32)[acc], pairs["rep"].to_numpy()] = True
    for code in np.unique(region_code[served][region_code[served] >= 0]).tolist():
        region = region_names[code]
        accounts = served[region_code[served] == code]
        reps = np.flatnonzero(rep_in_region[code])
        # nansum adds as pandas' Series.sum did (NaN as 0, pairwise), so the figures are the same to the last digit.
        need = float(np.nansum(min_hours[accounts])) if not st.allow_uncovered else 0.0
        have = float(hour_cap[reps].sum())
        if need > have * (1 + 1e-9):
            reasons.append(f"region {region} needs at least {need:,.0f} hours a year for its {accounts.size} "
                           f"accounts; its {reps.size} eligible reps have {have:,.0f} (capacity, or the balance "
                           "band's upper limit if lower)")
        for band, most_of in zip(inputs.bands, most_weight, strict=True):
            floor = float(np.clip(band.low[reps], 0, None).sum())
            most = float(np.nansum(most_of[accounts]))
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


def _per_account(reduce: np.ufunc, values: NDArray[np.float64], starts: NDArray[np.int64],
                 served: NDArray[np.int64], n_acc: int) -> NDArray[np.float64]:
    """``reduce`` (``np.fmin``/``np.fmax``: NaN skipped as pandas' groupby skips it) of ``values``, grouped by
    account in runs beginning at ``starts``, by account position (NaN for accounts without pairs)."""
    out = np.full(n_acc, np.nan)
    if starts.size:
        out[served] = reduce.reduceat(values, starts)
    return out


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


def _surely_reached(rep: NDArray[np.int64], weight: NDArray[np.float64], hours: NDArray[np.float64],
                    budget: NDArray[np.float64], low: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Reps whose floor ``low`` is plainly within reach: the same share of each of their positive pairs, as much
    as ``budget`` hours allow, already collects more. That share is a feasible fractional plan, so it bounds
    ``_most_within_hours`` from below; the margin covers rounding, so no rep it passes would fail the greedy
    fill (which takes a sort per rep: 4 s at 250,000 x 1,000)."""
    n_rep = budget.size
    positive = weight > 0
    timed = positive & (hours > 0)
    # Pairs with no hours are free; pairs whose hours are NaN count for nothing, which only lowers the bound.
    untimed = positive & (hours <= 0)
    free = np.bincount(rep[untimed], weights=weight[untimed], minlength=n_rep)
    w = np.bincount(rep[timed], weights=weight[timed], minlength=n_rep)
    h = np.bincount(rep[timed], weights=hours[timed], minlength=n_rep)
    share = np.ones(n_rep)
    np.divide(np.clip(budget, 0.0, None), h, out=share, where=h > np.clip(budget, 0.0, None))
    return np.asarray(low <= (free + share * w) * (1 - 1e-6))


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
    doubtful = [np.isfinite(band.low) & (band.low > 0) & ~_surely_reached(rep, band.weight, hours, budget, band.low)
                for band in inputs.bands]
    if not any(d.any() for d in doubtful):
        return reasons
    # Each rep's pairs as one slice of a stable sort (a mask per rep costs reps x pairs: 7.7 s at 100,000 x 500);
    # numpy sorts 16-bit keys stably by radix, 4 times faster than int64 ones at 32 M pairs.
    n_rep = len(cand.rep_ids)
    order = np.argsort(rep.astype(np.uint16) if n_rep <= 1 << 16 else rep, kind="stable")
    cut = np.searchsorted(rep[order], np.arange(n_rep + 1))
    hours_by_rep = hours[order]
    for band, spec, maybe in zip(inputs.bands, inputs.settings.balance, doubtful, strict=True):
        unit = {"hours": "hours a year", "accounts": "accounts"}.get(band.attribute, f"of {band.attribute}")
        floor_text = (f"{spec.min:g} x the mean per rep{' of its region' if spec.scope == 'region' else ''}"
                      if spec.relative else f"{spec.min:g}")
        weight_by_rep = band.weight[order]
        for r in np.flatnonzero(maybe).tolist():
            mine = slice(cut[r], cut[r + 1])
            most = _most_within_hours(weight_by_rep[mine], hours_by_rep[mine], float(budget[r]))
            if band.low[r] <= most * (1 + 1e-9) + 1e-9:
                continue
            weekly = float(scenario.reps["hours_per_week"].iloc[r])
            if cut[r] == cut[r + 1]:
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
