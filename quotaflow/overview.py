"""A one-screen overview of a scenario for planners: people, accounts, capacity against need, targets."""

from __future__ import annotations

from typing import Any

import pandas as pd

from scenarios import Scenario

__all__ = ["overview", "overview_text"]


def overview(scenario: Scenario) -> dict[str, Any]:
    """Headline figures of a scenario as a JSON-ready dict.

    Examples
    --------
    >>> import scenarios
    >>> o = overview(scenarios.load("tiny"))
    >>> o["reps"] > 0 and o["accounts"] > 0
    True
    """
    s = scenario.settings
    reps, acc = scenario.reps, scenario.accounts
    capacity = float((reps["hours_per_week"] * s.calendar.weeks_per_year).sum())
    need = float(acc["service_hours_per_year"].sum())
    by_region = pd.DataFrame({
        "reps": reps.groupby("region").size(),
        "accounts": acc.groupby("region").size(),
        "capacity_hours": (reps["hours_per_week"] * s.calendar.weeks_per_year).groupby(reps["region"]).sum(),
        "service_hours": acc.groupby("region")["service_hours_per_year"].sum(),
        "annual_potential": acc.groupby("region")["annual_potential"].sum(),
    }).fillna(0.0)
    return {
        "name": s.name,
        "source": scenario.source,
        "start": s.calendar.start.isoformat(),
        "months": s.calendar.months,
        "reps": len(reps),
        "reps_by_tier": {str(k): int(v) for k, v in
                         reps["tier"].value_counts().reindex(list(s.tiers)).fillna(0).items()},
        "accounts": len(acc),
        "accounts_by_tier": {str(k): int(v) for k, v in acc["tier"].value_counts().sort_index().items()},
        "unassigned_accounts": int(acc["current_rep_id"].isna().sum()),
        "annual_potential": float(acc["annual_potential"].sum()),
        "capacity_hours_per_year": capacity,
        "service_hours_per_year": need,
        "utilisation_of_capacity": need / capacity if capacity else float("nan"),
        "annual_target": s.targets.annual,
        "target_share_of_potential": s.targets.annual / float(acc["annual_potential"].sum()),
        "products": list(s.products),
        "funnel_stages": [st.id for st in s.funnel.stages],
        "plans": list(s.pay_plans),
        "channels": list(s.channels),
        "by_region": {str(k): {c: float(v) for c, v in row.items()} for k, row in by_region.iterrows()},
    }


def overview_text(scenario: Scenario) -> str:
    """The overview as a short text table."""
    o = overview(scenario)
    cur = scenario.settings.currency
    lines = [
        repr(scenario),
        "",
        f"Annual potential {o['annual_potential']:,.0f} {cur}; target {o['annual_target']:,.0f} {cur} "
        f"({o['target_share_of_potential']:.0%} of potential)",
        f"Service need {o['service_hours_per_year']:,.0f} h/yr against capacity "
        f"{o['capacity_hours_per_year']:,.0f} h/yr ({o['utilisation_of_capacity']:.0%}); "
        f"{o['unassigned_accounts']} accounts without a rep today",
        "",
        f"{'region':<14}{'reps':>6}{'accounts':>10}{'capacity h':>12}{'service h':>12}{'potential':>16}",
    ]
    for region, row in o["by_region"].items():
        lines.append(f"{region:<14}{row['reps']:>6.0f}{row['accounts']:>10.0f}{row['capacity_hours']:>12,.0f}"
                     f"{row['service_hours']:>12,.0f}{row['annual_potential']:>16,.0f}")
    return "\n".join(lines)
