"""The charts of the one-page report that show the plan itself, from a demo folder's ``plan/`` tables: quotas
against potential and expected sales, the marketing budget with its marginal returns, rep workload before and
after the allocation, and the territory map. Shared parts (`Chart`, `MissingData`, palette, axis formats) are in
``quotaflow.charts.style``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from quotaflow.charts.style import Chart, MissingData, colour, money_axis, require, wrap_title
from quotaflow.decision import format_amount, format_share

__all__ = ["budget_chart", "budget_finding", "quota_chart", "quota_finding", "territory_chart", "territory_finding",
           "workload_chart", "workload_finding"]


# --- quotas against potential and expected sales ----------------------------------------------------------------

def quota_finding(quota_reps: pd.DataFrame) -> str:
    """The range of quota as a share of territory potential, and how many reps' quotas exceed their expected
    sales by more than 10 %.

    Examples
    --------
    >>> q = pd.DataFrame({"quota": [10.0, 30.0], "potential": [100.0, 100.0], "expected_sales": [12.0, 20.0]})
    >>> quota_finding(q)
    'Quotas are 10.0 % to 30.0 % of territory potential; 1 of 2 reps has a quota more than 10 % above expected sales'
    """
    q = quota_reps[quota_reps["quota"] > 0]
    share = (q["quota"] / q["potential"].where(q["potential"] > 0)).dropna()
    over = int((q["quota"] > 1.1 * q["expected_sales"]).sum())
    verb = "has" if over == 1 else "have"
    return (f"Quotas are {format_share(float(share.min()))} to {format_share(float(share.max()))} of territory "
            f"potential; {over} of {len(q)} reps {verb} a quota more than 10 % above expected sales")


def quota_chart(quota_reps: pd.DataFrame | None, currency: str) -> Chart:
    """Each rep's quota against the potential of the territory and against the sales the plan expects."""
    table = require(quota_reps, "quota against potential", ["quota", "potential", "expected_sales"])
    fig = Figure(layout="constrained", figsize=(10, 4.0))
    axes = fig.subplots(1, 2)
    tiers = table["tier"].astype(str) if "tier" in table.columns else pd.Series("rep", index=table.index)
    for ax, col, label in ((axes[0], "potential", "territory potential"),
                           (axes[1], "expected_sales", "expected sales")):
        for i, tier in enumerate(sorted(tiers.unique())):
            sub = table[tiers == tier]
            ax.scatter(sub[col], sub["quota"], s=18, color=colour(i), label=tier, alpha=0.85)
        hi = float(max(table[col].max(), table["quota"].max())) * 1.05
        if col == "expected_sales":
            ax.plot([0, hi], [0, hi], color="grey", linewidth=1, linestyle="--", label="quota = expected")
        money_axis(ax, currency, "x")
        money_axis(ax, currency, "y")
        ax.set_xlabel(f"{label} ({currency})")
        ax.set_ylabel(f"quota ({currency})")
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    title = quota_finding(table)
    fig.suptitle(wrap_title(title), fontsize=10)
    return Chart("quotas", title, "One dot per rep; right: above the dashed line the quota asks for more than the "
                 "plan is expected to sell.", fig)


# --- marketing budget -------------------------------------------------------------------------------------------

def budget_finding(budget: pd.DataFrame, channels: pd.DataFrame, currency: str) -> str:
    """The channel that receives the most and the channel whose next unit of money returns the most.

    Examples
    --------
    >>> b = pd.DataFrame({"channel": ["ads", "events"], "period": ["1", "1"], "spend": [30.0, 10.0]})
    >>> c = pd.DataFrame({"channel": ["ads", "events"], "marginal_value": [0.5, 0.9]})
    >>> budget_finding(b, c, "EUR")
    'ads gets 75.0 % of the 40 EUR budget; one more EUR returns the most pipeline in events (0.9 EUR)'
    """
    by = budget.groupby("channel")["spend"].sum()
    top = str(by.idxmax())
    total = float(by.sum())
    marginal = channels.set_index("channel")["marginal_value"].astype(float)
    best = str(marginal.idxmax())
    unit = currency or "unit"
    head = f"{top} gets {format_share(float(by[top]) / total)} of the {format_amount(total, currency)} budget; "
    funded = marginal[by.reindex(marginal.index).fillna(0.0) > 0]
    if len(funded) > 1 and float(funded.max() - funded.min()) <= 1e-6 * max(1.0, abs(float(funded.max()))):
        return head + (f"every funded channel returns the same {float(funded.max()):,.2g} {unit} of pipeline "
                       f"for one more {unit}, so the split is balanced")
    return head + f"one more {unit} returns the most pipeline in {best} ({float(marginal[best]):,.2g} {unit})"


def budget_chart(budget: pd.DataFrame | None, channels: pd.DataFrame | None, currency: str) -> Chart:
    """Spend by month stacked by channel, and each channel's marginal return (pipeline value of one more unit of
    money, from the budget LP's duals)."""
    cells = require(budget, "marketing budget", ["channel", "period", "spend"])
    per = require(channels, "marketing budget by channel", ["channel", "marginal_value"])
    pivot = cells.pivot_table(index="period", columns="channel", values="spend", aggfunc="sum").fillna(0.0)
    fig = Figure(layout="constrained", figsize=(10, 3.8))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    bottom = np.zeros(len(pivot))
    x = np.arange(len(pivot))
    for i, channel in enumerate(pivot.columns):
        axes[0].bar(x, pivot[channel].to_numpy(float), bottom=bottom, color=colour(i), label=str(channel))
        bottom += pivot[channel].to_numpy(float)
    axes[0].set_xticks(x[::2], [str(p) for p in pivot.index[::2]], fontsize=7)
    money_axis(axes[0], currency)
    axes[0].set_ylabel(f"spend ({currency})")
    axes[0].legend(fontsize=7)
    order = per.set_index("channel").reindex(pivot.columns)
    axes[1].barh(np.arange(len(order)), order["marginal_value"].to_numpy(float),
                 color=[colour(i) for i in range(len(order))])
    axes[1].set_yticks(np.arange(len(order)), [str(c) for c in order.index], fontsize=8)
    axes[1].set_xlabel(f"pipeline value of one more {currency or 'unit'}")
    for ax in axes:
        ax.grid(alpha=0.3)
    title = budget_finding(cells, per, currency)
    fig.suptitle(wrap_title(title), fontsize=10)
    return Chart("budget", title, "Left: the optimised spend per month by channel. Right: the expected pipeline "
                 "value one more unit of money would bring in each channel (the LP's marginal return).", fig)


# --- workload ---------------------------------------------------------------------------------------------------

def _utilisation(reps: pd.DataFrame) -> pd.Series:
    return (reps["hours"] / reps["capacity_hours"].where(reps["capacity_hours"] > 0)).astype(float)


def workload_finding(before: pd.DataFrame, after: pd.DataFrame) -> str:
    """How the spread of rep utilisation (hours / capacity) changes, and reps over capacity before and after.

    Examples
    --------
    >>> b = pd.DataFrame({"rep_id": ["r1", "r2"], "hours": [50.0, 120.0], "capacity_hours": [100.0, 100.0]})
    >>> a = pd.DataFrame({"rep_id": ["r1", "r2"], "hours": [80.0, 90.0], "capacity_hours": [100.0, 100.0]})
    >>> workload_finding(b, a)
    'Utilisation spans 80.0 % to 90.0 % after the allocation (50.0 % to 120.0 % today); 0 reps over capacity (1 today)'
    """
    ub, ua = _utilisation(before).dropna(), _utilisation(after).dropna()
    over_b, over_a = int((ub > 1.0 + 1e-9).sum()), int((ua > 1.0 + 1e-9).sum())
    return (f"Utilisation spans {format_share(float(ua.min()))} to {format_share(float(ua.max()))} after the "
            f"allocation ({format_share(float(ub.min()))} to {format_share(float(ub.max()))} today); {over_a} "
            f"reps over capacity ({over_b} today)")


def workload_chart(before: pd.DataFrame | None, after: pd.DataFrame | None) -> Chart:
    """Each rep's yearly account hours against capacity today and after the allocation, sorted by the new load."""
    b = require(before, "workload today", ["rep_id", "hours", "capacity_hours"])
    a = require(after, "workload after the allocation", ["rep_id", "hours", "capacity_hours"])
    merged = a.set_index("rep_id")[["hours", "capacity_hours"]].join(
        b.set_index("rep_id")["hours"].rename("hours_today"), how="left")
    merged = merged.assign(u=merged["hours"] / merged["capacity_hours"]).sort_values("u")
    fig = Figure(layout="constrained", figsize=(10, 3.8))
    ax = fig.subplots()
    x = np.arange(len(merged))
    ax.bar(x, merged["capacity_hours"].to_numpy(float), color="#DDDDDD", label="capacity")
    ax.plot(x, merged["hours_today"].to_numpy(float), "o", color=colour(1), markersize=4, label="today")
    ax.plot(x, merged["hours"].to_numpy(float), "D", color=colour(0), markersize=4, label="after allocation")
    ax.set_xticks(x, [str(r) for r in merged.index], rotation=90, fontsize=6)
    ax.set_ylabel("account hours per year")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    title = workload_finding(b, a)
    ax.set_title(wrap_title(title, 95), fontsize=10)
    return Chart("workload", title, "One column per rep, sorted by the new utilisation: grey is the rep's yearly "
                 "capacity for accounts, dots the hours the accounts need today and after the allocation (an "
                 "account held today by a rep who is not a candidate for it counts no hours).", fig)


# --- territory map ----------------------------------------------------------------------------------------------

def territory_finding(territory: pd.DataFrame, currency: str) -> str:
    """How many accounts move to another rep, and the potential they carry.

    Examples
    --------
    >>> t = pd.DataFrame({"moved": [True, False, False, False], "annual_potential": [50.0, 10.0, 20.0, 20.0]})
    >>> territory_finding(t, "EUR")
    '1 of 4 accounts move to another rep, carrying 50.0 % of the potential (50 EUR a year)'
    """
    moved = territory["moved"].astype(bool)
    pot = territory["annual_potential"].astype(float)
    return (f"{int(moved.sum())} of {len(territory)} accounts move to another rep, carrying "
            f"{format_share(float(pot[moved].sum() / pot.sum()))} of the potential "
            f"({format_amount(float(pot[moved].sum()), currency)} a year)")


def territory_chart(territory: pd.DataFrame | None, currency: str) -> Chart:
    """Accounts at their coordinates, coloured by the rep who holds them after the allocation; moved accounts
    circled in black."""
    table = require(territory, "territory map", ["rep_id", "moved", "latitude", "longitude", "annual_potential"])
    table = table[np.isfinite(table["latitude"].to_numpy(float)) & np.isfinite(table["longitude"].to_numpy(float))]
    if not len(table):
        raise MissingData("territory map: the accounts have no coordinates")
    fig = Figure(layout="constrained", figsize=(8, 6))
    ax = fig.subplots()
    reps = sorted(table["rep_id"].dropna().astype(str).unique())
    rep_colour = {r: colour(i) for i, r in enumerate(reps)}
    size = 6 + 40 * np.sqrt(table["annual_potential"].to_numpy(float) / max(float(table["annual_potential"].max()),
                                                                            1.0))
    ax.scatter(table["longitude"], table["latitude"], s=size,
               c=[rep_colour.get(str(r), "#999999") for r in table["rep_id"]], alpha=0.75, linewidths=0)
    moved = table["moved"].astype(bool).to_numpy()
    ax.scatter(table["longitude"][moved], table["latitude"][moved], s=size[moved] + 20, facecolors="none",
               edgecolors="black", linewidths=0.8, label="moved to another rep")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1.0 / max(np.cos(np.radians(float(table["latitude"].mean()))), 0.1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    title = territory_finding(table, currency)
    ax.set_title(wrap_title(title, 95), fontsize=10)
    return Chart("territory", title, f"Each dot is an account (size: potential), coloured by its rep after the "
                 f"allocation ({len(reps)} reps; colours repeat, so read neighbouring areas, not single colours); "
                 "black circles mark accounts that change rep.", fig)

