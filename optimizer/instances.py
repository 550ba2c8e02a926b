"""Scenarios made from a bare pair table, for assignment benchmarks (OR-Library GAP, the Pfizer territory case)
and for planners who already have rep x account figures from elsewhere.

The pair table becomes the scenario's ``rep_accounts`` (its rows are the candidate pairs, with the given value,
hours and travel); each rep's yearly capacity is expressed exactly as ``hours_per_week`` x
``calendar.weeks_per_year`` with 32 weeks (a power of two, so capacity / 32 x 32 gives the capacity back bit for
bit) and, when a capacity would exceed 168 h/week x 32, all hours and capacities are scaled by the same power
of two (exact in binary floating point, so no assignment changes). Everything a benchmark does not have
(geography, tiers, pay plans, the funnel) is filled with neutral values from a template scenario.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios import OptimizerSettings, Scenario, check, load

__all__ = ["scenario_from_pairs"]


def scenario_from_pairs(pairs: pd.DataFrame, capacity: Mapping[str, float] | pd.Series,
                        current: Mapping[str, str] | pd.Series | None = None,
                        potential: Mapping[str, float] | pd.Series | None = None,
                        optimizer: Mapping[str, Any] | None = None, name: str = "pairs",
                        template: Scenario | None = None, account_order: Sequence[str] | None = None) -> Scenario:
    """A checked scenario whose candidate pairs are exactly ``pairs``.

    Parameters
    ----------
    pairs
        Columns ``rep_id``, ``account_id``, ``value``, ``hours`` and optionally ``travel_km`` (0 if absent).
    capacity
        Yearly hours per rep_id.
    current
        Today's rep per account_id (for disruption), optional.
    potential
        ``annual_potential`` per account_id (the unit of disruption; default 1 per account).
    optimizer
        ``[optimizer]`` settings; ``same_region`` is forced off and bands default to none.
    name
        Scenario name.
    template
        Scenario whose calendar, funnel, tiers and plans are borrowed (default: bundled ``tiny``).
    account_order
        Account ids in the order to keep (default: first appearance in ``pairs``).

    Examples
    --------
    >>> import pandas as pd
    >>> pairs = pd.DataFrame({"rep_id": ["a", "a", "b"], "account_id": ["1", "2", "2"],
    ...                       "value": [5.0, 3.0, 4.0], "hours": [1.0, 1.0, 1.0]})
    >>> s = scenario_from_pairs(pairs, {"a": 1.0, "b": 1.0}, optimizer={"objective": "value"})
    >>> len(s.rep_accounts), list(s.reps.index)
    (3, ['a', 'b'])
    """
    base = template or load("tiny")
    frame = pairs.copy()
    if "travel_km" not in frame.columns:
        frame["travel_km"] = 0.0
    rep_ids = [str(r) for r in pd.unique(frame["rep_id"].astype(str))]
    cap = pd.Series(capacity, dtype=float)
    rep_ids = sorted(set(rep_ids) | {str(r) for r in cap.index}, key=lambda r: (len(r), r))
    # Capacity = hours_per_week x weeks_per_year, both exact: 32 weeks, and a power-of-two scale on all hours
    # when a capacity would need more than the schema's 168 hours a week.
    weeks = 32.0
    top = float(cap.max()) if len(cap) else 0.0
    shift = max(0, int(np.ceil(np.log2(top / (168.0 * weeks))))) if top > 168.0 * weeks else 0
    scale = 2.0 ** -shift
    cap = cap * scale
    frame["hours"] = frame["hours"].astype(float) * scale
    acc_ids = list(account_order) if account_order is not None else [
        str(a) for a in pd.unique(frame["account_id"].astype(str))]
    tier = next(iter(base.settings.tiers))
    plan = next(iter(base.settings.pay_plans))
    hire = pd.Timestamp(base.settings.calendar.start) - pd.Timedelta(days=3 * 365)
    reps = pd.DataFrame({
        "name": rep_ids, "tier": tier, "role": "hybrid", "region": "all", "latitude": 0.0, "longitude": 0.0,
        "hours_per_week": [float(cap.get(r, 0.0)) / weeks for r in rep_ids], "base_salary": 0.0,
        "hire_date": hire, "pay_plan_id": plan,
    }, index=pd.Index(rep_ids, name="rep_id"))
    for col in base.reps.columns:
        if col not in reps.columns:
            reps[col] = np.nan
    reps = reps[list(base.reps.columns)].astype({c: base.reps[c].dtype for c in base.reps.columns})
    pot = pd.Series(1.0, index=acc_ids) if potential is None else pd.Series(potential, dtype=float).reindex(acc_ids)
    cur = pd.Series(np.nan, index=acc_ids, dtype=object) if current is None else pd.Series(current).reindex(acc_ids)
    service = frame.groupby(frame["account_id"].astype(str))["hours"].mean().reindex(acc_ids).fillna(0.0)
    accounts = pd.DataFrame({
        "name": acc_ids, "tier": "B", "segment": "benchmark", "region": "all", "latitude": 0.0, "longitude": 0.0,
        "annual_potential": pot.to_numpy(dtype=float), "service_hours_per_year": service.to_numpy(dtype=float),
        "status": "customer", "current_rep_id": cur.to_numpy(dtype=object),
    }, index=pd.Index(acc_ids, name="account_id"))
    accounts = accounts.astype({c: base.accounts[c].dtype for c in base.accounts.columns if c in accounts.columns})
    ra = pd.DataFrame({"value": frame["value"].to_numpy(dtype=float), "hours": frame["hours"].to_numpy(dtype=float),
                       "travel_km": frame["travel_km"].to_numpy(dtype=float)},
                      index=pd.MultiIndex.from_arrays([frame["rep_id"].astype(str), frame["account_id"].astype(str)],
                                                      names=["rep_id", "account_id"]))
    opt = {"same_region": False, "balance": [], **(optimizer or {})}
    settings = base.settings.model_copy(update={
        "name": name, "description": f"{name}: scenario built from a pair table",
        "optimizer": OptimizerSettings.model_validate(opt),
        "targets": base.settings.targets.model_copy(update={"by_region": {}}),
        "tables": base.settings.tables.model_copy(update={"rep_accounts": "rep_accounts.csv"}),
        "calendar": base.settings.calendar.model_copy(update={"weeks_per_year": weeks}),
    })
    scenario = Scenario(settings=settings, reps=reps, accounts=accounts, rep_accounts=ra, source=name)
    check(scenario)
    return scenario
