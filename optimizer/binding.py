"""Which allocation constraints bind, and what loosening each would be worth: the shadow prices of the LP
relaxation's rows grouped by family (rep capacity, each balance band's upper and lower limit, the moved-accounts
and moved-potential budgets), with how much of a budget the plan uses.

A row binds when its LP dual is not zero: loosening it by one unit would raise the LP's objective by the
shadow price. For the integer plan this is the standard first-order reading (the LP relaxation's duals are the
only prices an assignment MIP has); a plan comparison uses it to say why a result moved ("B moves more accounts
because its moved-potential budget binds").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from optimizer.model import AllocationInputs

__all__ = ["binding_constraints"]

# A dual below this (in objective units per unit of the row) is solver noise, not a price.
_NOISE = 1e-7


def _per_rep(duals: dict[str, float], names: list[str]) -> NDArray[np.float64]:
    return np.array([abs(duals.get(n, 0.0)) for n in names], dtype=np.float64)


def binding_constraints(inputs: AllocationInputs, duals: dict[str, float], moved_accounts: float,
                        moved_potential: float) -> tuple[dict[str, Any], ...]:
    """The binding constraint families of an allocation, as JSON-ready records.

    Each record: ``family`` (``capacity``, ``band_max``, ``band_min``, ``moved_accounts``, ``moved_potential``),
    ``label`` (planner words), ``binding_rows`` (how many rows bind), ``shadow_price`` (the largest absolute dual
    of the family: objective units per unit of the row), ``unit``, and for the budgets ``used`` and ``limit``.
    Families that do not bind are left out.

    Examples
    --------
    >>> import scenarios
    >>> from optimizer.model import prepare
    >>> s = scenarios.load("tiny")
    >>> [(b["family"], b["shadow_price"], b["limit"]) for b in binding_constraints(
    ...     prepare(s), {"disruption_value": 0.8, "capacity_0": 1e-12}, 3, 5.0e5)]
    [('moved_potential', 0.8, 604800.0)]
    """
    n_rep = len(inputs.candidates.rep_ids)
    records: list[dict[str, Any]] = []

    def rows(family: str, label: str, prices: NDArray[np.float64], unit: str) -> None:
        hit = prices > _NOISE
        if hit.any():
            records.append({"family": family, "label": label, "binding_rows": int(hit.sum()),
                            "shadow_price": float(prices.max()), "unit": unit})

    rows("capacity", "reps' selling hours (capacity)", _per_rep(duals, [f"capacity_{r}" for r in range(n_rep)]),
         "per hour a year")
    for k, band in enumerate(inputs.bands):
        rows("band_max", f"the {band.attribute} balance band's upper limit",
             _per_rep(duals, [f"band_{k}_max_{r}" for r in range(n_rep)]), f"per unit of {band.attribute}")
        rows("band_min", f"the {band.attribute} balance band's lower limit",
             _per_rep(duals, [f"band_{k}_min_{r}" for r in range(n_rep)]), f"per unit of {band.attribute}")
    for family, label, name, limit, used, unit in (
            ("moved_accounts", "moved-accounts budget (max_moves)", "disruption_moves", inputs.max_moves,
             moved_accounts, "per account"),
            ("moved_potential", "moved-potential budget (max_moved_share)", "disruption_value",
             inputs.max_moved_value, moved_potential, "per unit of annual potential")):
        price = abs(float(duals.get(name, 0.0)))
        if limit is not None and price > _NOISE:
            records.append({"family": family, "label": label, "binding_rows": 1, "shadow_price": price,
                            "unit": unit, "used": float(used), "limit": float(limit)})
    return tuple(records)
