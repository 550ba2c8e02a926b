"""The report's charts that compare pay plans: paired differences, monthly bookings, attainment, designed pay
curves, the funnel. Each answers one question a sales leader asks, from the tables the run wrote, with a title that
states the finding computed from those tables.

Every chart function takes the frames it needs (read back from the folder's Parquet twins by
``quotaflow.report_page``) and returns a `Chart`, or raises `MissingData` naming what the folder lacks; a chart is
never drawn from data the run did not produce. The finding of each chart is computed by its own ``*_finding``
function so that tests can check the title against the table (e.g. the plan named best is the argmax). The plan's
own charts are in ``quotaflow.charts.allocation``; palette, axes and rendering in ``quotaflow.charts.style``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure, FigureBase
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from quotaflow.charts.style import Chart, MissingData, colour, money_axis, require, wrap_title
from quotaflow.decision import format_amount, format_share

__all__ = [
    "attainment_chart",
    "attainment_finding",
    "differences_chart",
    "differences_finding",
    "draw_differences",
    "funnel_chart",
    "funnel_finding",
    "monthly_chart",
    "monthly_finding",
    "pay_curve_chart",
    "pay_curve_finding",
]

# --- plan comparison: paired differences ------------------------------------------------------------------------

_DIFF_PANELS = (("revenue", "Revenue", "money"), ("profit_after_pay", "Profit after pay", "money"),
                ("cost_of_sales_share", "Cost of sales, pay / revenue", "share"))


def differences_finding(decision: pd.DataFrame, currency: str) -> str:
    """Which pay plan keeps the most profit after pay, and by how much against the reference (paired).

    Examples
    --------
    >>> t = pd.DataFrame({"plan": ["flat", "tiered"], "reference": [True, False],
    ...                   "profit_after_pay": [1.0e6, 1.2e6], "profit_after_pay_delta": [np.nan, 2.0e5],
    ...                   "profit_after_pay_delta_ci_low": [np.nan, 1.0e5],
    ...                   "profit_after_pay_delta_ci_high": [np.nan, 3.0e5]})
    >>> differences_finding(t, "EUR")
    'tiered keeps the most profit after pay: +200 K EUR (+100 K to +300 K) against flat'
    """
    rows = decision.to_dict("records")
    reference = str(rows[0]["plan"])
    best = max(rows, key=lambda r: float(r["profit_after_pay"]))
    if str(best["plan"]) == reference:
        return f"{reference} (the reference) keeps the most profit after pay"
    low, high = float(best["profit_after_pay_delta_ci_low"]), float(best["profit_after_pay_delta_ci_high"])
    text = (f"{best['plan']} keeps the most profit after pay: "
            f"{format_amount(float(best['profit_after_pay_delta']), currency, signed=True)} "
            f"({format_amount(low, signed=True)} to {format_amount(high, signed=True)}) against {reference}")
    return text + (", an interval that includes no difference" if low <= 0.0 <= high else "")


def draw_differences(fig: FigureBase, decision: pd.DataFrame, currency: str) -> str:
    """Draw the paired-difference panels into ``fig`` (a figure or a subfigure); return the finding."""
    others = decision.iloc[1:]
    reference = str(decision["plan"].iloc[0])
    axes = fig.subplots(1, 3, sharey=True)
    y = np.arange(len(others))[::-1]
    for ax, (metric, label, kind) in zip(axes, _DIFF_PANELS, strict=True):
        delta = others[f"{metric}_delta"].to_numpy(float)
        low = others[f"{metric}_delta_ci_low"].to_numpy(float)
        high = others[f"{metric}_delta_ci_high"].to_numpy(float)
        for k in range(len(others)):
            ax.errorbar(delta[k], y[k], xerr=[[delta[k] - low[k]], [high[k] - delta[k]]], fmt="o",
                        color=colour(k + 1), capsize=4, markersize=6)
        ax.axvline(0.0, color="grey", linewidth=1)
        ax.set_title(label + (f" ({currency})" if kind == "money" and currency else " (points)" if kind != "money"
                              else ""), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        if kind == "money":
            money_axis(ax, "", "x", signed=True)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_share(float(v), signed=True)))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_ylim(-0.6, len(others) - 0.4)
    axes[0].set_yticks(y, others["plan"].astype(str).tolist())
    axes[1].set_xlabel(f"difference against {reference}, with its paired 95 % interval", fontsize=8)
    title = differences_finding(decision, currency)
    fig.suptitle(wrap_title(title), fontsize=10)
    return title


def differences_chart(decision: pd.DataFrame | None, currency: str) -> Chart:
    """Each pay plan's paired difference against the reference with its 95 % interval: revenue, profit after pay
    and cost of sales (the reference is the zero line)."""
    table = require(decision, "plan comparison", ["plan", "profit_after_pay", "profit_after_pay_delta"])
    if len(table) < 2:
        raise MissingData("plan comparison: only one pay plan was run, so there is no difference to show")
    reference = str(table["plan"].iloc[0])
    fig = Figure(layout="constrained", figsize=(10, 0.45 * (len(table) - 1) + 2.0))
    title = draw_differences(fig, table, currency)
    return Chart("differences", title, f"Each dot is a pay plan's mean difference from {reference} on the same "
                 "customers (common random numbers); bars are paired 95 % intervals. An interval that crosses "
                 "the grey line is no detectable difference.", fig)


# --- monthly bookings -------------------------------------------------------------------------------------------

def monthly_finding(monthly: pd.DataFrame, quota: pd.Series | None, currency: str) -> str:
    """Which pay plan books the most over the horizon and, against the plan's monthly quota, in how many months
    it books less than quota.

    Examples
    --------
    >>> m = pd.DataFrame({"plan": ["a", "a", "b", "b"], "period": ["1", "2", "1", "2"],
    ...                   "bookings": [10.0, 30.0, 20.0, 25.0]})
    >>> monthly_finding(m, pd.Series([15.0, 20.0], index=["1", "2"]), "EUR")
    'b books the most: 45 EUR over 2 months, below the monthly quota in 0 of 2 months'
    """
    totals = monthly.groupby("plan", sort=False)["bookings"].sum()
    best = str(totals.idxmax())
    text = f"{best} books the most: {format_amount(float(totals[best]), currency)} over " \
           f"{monthly['period'].nunique()} months"
    if quota is not None and len(quota):
        rows = monthly[monthly["plan"] == best].set_index(monthly.loc[monthly["plan"] == best, "period"].astype(str))
        q = quota.reindex(rows.index)
        below = int((rows["bookings"] < q).sum())
        text += f", below the monthly quota in {below} of {int(q.notna().sum())} months"
    return text


def monthly_chart(monthly: pd.DataFrame | None, quota: pd.Series | None, currency: str) -> Chart:
    """Small multiples: each pay plan's mean monthly bookings with its 95 % band, and the plan's total quota per
    month as a dashed line when the folder holds the quotas."""
    table = require(monthly, "monthly bookings", ["plan", "period", "bookings"])
    plans = list(dict.fromkeys(table["plan"].astype(str)))
    cols = min(len(plans), 3)
    rows = int(np.ceil(len(plans) / cols))
    fig = Figure(layout="constrained", figsize=(4.0 * cols, 2.8 * rows + 0.6))
    axes = np.atleast_1d(np.asarray(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False))).ravel()
    for i, plan in enumerate(plans):
        ax = axes[i]
        g = table[table["plan"].astype(str) == plan]
        x = np.arange(len(g))
        ax.plot(x, g["bookings"], marker="o", markersize=3, color=colour(i), label="bookings")
        if {"bookings_ci_low", "bookings_ci_high"} <= set(g.columns):
            ax.fill_between(x, np.maximum(g["bookings_ci_low"].to_numpy(float), 0.0),
                            g["bookings_ci_high"].to_numpy(float), color=colour(i), alpha=0.2)
        if quota is not None and len(quota):
            ax.plot(x, quota.reindex(g["period"].astype(str)).to_numpy(float), color="black", linestyle="--",
                    linewidth=1, label="quota")
        ax.set_title(plan, fontsize=9)
        ax.grid(alpha=0.3)
        labels = g["period"].astype(str).tolist()
        ax.set_xticks(x[::3], labels[::3], fontsize=7)
        money_axis(ax, currency)
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes[len(plans):]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel(f"bookings ({currency})" if currency else "bookings", fontsize=8)
    axes[0].legend(fontsize=7)
    title = monthly_finding(table, quota, currency)
    fig.suptitle(wrap_title(title), fontsize=10)
    note = ("; dashed: the plan's total quota per month" if quota is not None and len(quota)
            else "; the folder holds no monthly quotas, so no quota line")
    return Chart("monthly", title, "Mean bookings per month across replications, with the 95 % interval (cut at "
                 "zero)" + note + ".", fig)


# --- attainment -------------------------------------------------------------------------------------------------

_BANDS = (0.0, 0.5, 0.8, 1.0, 1.2, np.inf)
_BAND_LABELS = ("< 50 %", "50-80 %", "80-100 %", "100-120 %", ">= 120 %")


def _with_quota(reps: pd.DataFrame) -> pd.DataFrame:
    keep = (reps["quota"] > 0).to_numpy() & np.isfinite(reps["attainment"].to_numpy(float))
    out: pd.DataFrame = reps.loc[keep]
    return out


def attainment_finding(reps: pd.DataFrame) -> str:
    """Which pay plan puts the largest share of reps at or above quota, and the tier furthest behind under it.

    Examples
    --------
    >>> r = pd.DataFrame({"plan": ["a"] * 2 + ["b"] * 2, "rep_tier": ["junior", "senior"] * 2,
    ...                   "quota": [1.0] * 4, "attainment": [0.5, 1.1, 1.2, 1.3]})
    >>> attainment_finding(r)
    'b puts the most reps at quota: 100.0 % (a: 50.0 %); least under b: junior at 100.0 %'
    """
    data = _with_quota(reps)
    at = data.assign(hit=data["attainment"] >= 1.0).groupby("plan", sort=False)["hit"].mean()
    best = str(at.idxmax())
    others = ", ".join(f"{p}: {format_share(float(v))}" for p, v in at.items() if p != best)
    text = f"{best} puts the most reps at quota: {format_share(float(at[best]))}" + (f" ({others})" if others else "")
    if "rep_tier" in data.columns:
        under = data[data["plan"] == best]
        by_tier = (under["attainment"] >= 1.0).groupby(under["rep_tier"].astype(str)).mean()
        worst = str(by_tier.idxmin())
        text += f"; least under {best}: {worst} at {format_share(float(by_tier[worst]))}"
    return text


def attainment_chart(reps: pd.DataFrame | None) -> Chart:
    """Share of reps in each attainment band, per tier (panels) and pay plan (bars); all replications pooled."""
    table = require(reps, "attainment by tier", ["plan", "quota", "attainment"])
    data = _with_quota(table)
    if not len(data):
        raise MissingData("attainment by tier: no rep has a quota")
    tier_col = "rep_tier" if "rep_tier" in data.columns else None
    tiers = sorted(data[tier_col].astype(str).unique()) if tier_col else ["all reps"]
    plans = list(dict.fromkeys(data["plan"].astype(str)))
    fig = Figure(layout="constrained", figsize=(4.0 * len(tiers), 3.4))
    axes = np.atleast_1d(np.asarray(fig.subplots(1, len(tiers), sharey=True, squeeze=False))).ravel()
    width = 0.8 / len(plans)
    x = np.arange(len(_BAND_LABELS))
    for ax, tier in zip(axes, tiers, strict=True):
        sub = data if tier_col is None else data[data[tier_col].astype(str) == tier]
        for i, plan in enumerate(plans):
            att = sub.loc[sub["plan"].astype(str) == plan, "attainment"].to_numpy(float)
            counts = np.histogram(att, bins=np.asarray(_BANDS))[0]
            share = counts / max(len(att), 1)
            ax.bar(x + (i - (len(plans) - 1) / 2) * width, share, width, color=colour(i), label=plan)
        ax.set_xticks(x, _BAND_LABELS, rotation=30, ha="right", fontsize=7)
        ax.set_title(tier, fontsize=9)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("share of reps")
    axes[0].legend(fontsize=7)
    title = attainment_finding(data)
    fig.suptitle(wrap_title(title), fontsize=10)
    dropped = len(table) - len(data)
    return Chart("attainment", title, "Share of reps (all replications pooled) by attainment band, bookings over "
                 "quota for the horizon" + (f"; {dropped} rep-replications without a quota are left out"
                                            if dropped else "") + ".", fig)


# --- designed pay curves ----------------------------------------------------------------------------------------

def pay_curve_finding(curves: pd.DataFrame, currency: str) -> str:
    """Which pay plan pays the most at quota and which at 150 % of quota, on the designed curves.

    Examples
    --------
    >>> c = pd.DataFrame({"plan": ["a", "a", "b", "b"], "attainment": [1.0, 1.5] * 2,
    ...                   "total_pay": [100.0, 120.0, 90.0, 150.0]})
    >>> pay_curve_finding(c, "EUR")
    'At quota a pays the most (100 EUR); at 150 % of quota b does (150 EUR)'
    """
    def top(level: float) -> tuple[str, float]:
        at = curves[np.isclose(curves["attainment"].to_numpy(float), level)].set_index("plan")["total_pay"]
        return str(at.idxmax()), float(at.max())

    p1, v1 = top(1.0)
    p2, v2 = top(1.5)
    return (f"At quota {p1} pays the most ({format_amount(v1, currency)}); at 150 % of quota "
            f"{p2 if p2 != p1 else 'it still'} does ({format_amount(v2, currency)})")


def pay_curve_chart(curves: pd.DataFrame | None, currency: str) -> Chart:
    """Each pay plan's pay over the horizon against attainment, from the pay engine at an even booking pace."""
    table = require(curves, "designed pay curves", ["plan", "attainment", "total_pay"])
    fig = Figure(layout="constrained", figsize=(8, 4.2))
    ax = fig.subplots()
    for i, (plan, g) in enumerate(table.groupby("plan", sort=False)):
        ax.plot(g["attainment"], g["total_pay"], color=colour(i), label=str(plan), linewidth=2,
                linestyle=("-", "--", "-.", ":")[i % 4])
    ax.axvline(1.0, color="grey", linewidth=1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    money_axis(ax, currency)
    ax.set_xlabel("attainment (bookings / quota)")
    ax.set_ylabel(f"pay over the horizon ({currency})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    title = pay_curve_finding(table, currency)
    ax.set_title(wrap_title(title, 95), fontsize=10)
    quota = float(table["quota"].iloc[0]) if "quota" in table.columns else float("nan")
    return Chart("pay_curves", title, "What each pay plan pays a rep with the median quota "
                 f"({format_amount(quota, currency)}) and the median base salary who books at an even pace, "
                 "computed by the pay engine from the plan's terms (team bonuses and contests left out).", fig)


# --- funnel -----------------------------------------------------------------------------------------------------

def funnel_finding(funnel: pd.DataFrame) -> str:
    """The stage with the lowest conversion under the reference pay plan (the first in the table).

    Examples
    --------
    >>> f = pd.DataFrame({"plan": ["a", "a"], "stage": ["demo", "quote"], "entered": [10.0, 6.0],
    ...                   "conversion": [0.6, 0.4]})
    >>> funnel_finding(f)
    'The biggest loss is at quote: 40.0 % of 6 deals a run convert (under a)'
    """
    reference = str(funnel["plan"].iloc[0])
    ref = funnel[funnel["plan"].astype(str) == reference]
    worst = ref.iloc[int(np.argmin(ref["conversion"].to_numpy(float)))]
    return (f"The biggest loss is at {worst['stage']}: {format_share(float(worst['conversion']))} of "
            f"{float(worst['entered']):,.0f} deals a run convert (under {reference})")


def funnel_chart(funnel: pd.DataFrame | None) -> Chart:
    """Deals entering each stage (bars) and the share converting (dots with 95 % intervals) per pay plan."""
    table = require(funnel, "funnel", ["plan", "stage", "entered", "conversion"])
    plans = list(dict.fromkeys(table["plan"].astype(str)))
    stages = list(dict.fromkeys(table["stage"].astype(str)))
    fig = Figure(layout="constrained", figsize=(10, 3.8))
    axes = fig.subplots(1, 2)
    width = 0.8 / len(plans)
    x = np.arange(len(stages))
    for i, plan in enumerate(plans):
        g = table[table["plan"].astype(str) == plan].set_index("stage").reindex(stages)
        offset = (i - (len(plans) - 1) / 2) * width
        axes[0].bar(x + offset, g["entered"].to_numpy(float), width, color=colour(i), label=plan)
        conv = g["conversion"].to_numpy(float)
        if {"conversion_ci_low", "conversion_ci_high"} <= set(g.columns):
            err = [conv - g["conversion_ci_low"].to_numpy(float), g["conversion_ci_high"].to_numpy(float) - conv]
            axes[1].errorbar(x + offset, conv, yerr=np.clip(err, 0.0, None), fmt="o", color=colour(i),
                             capsize=2, markersize=4)
        else:
            axes[1].plot(x + offset, conv, "o", color=colour(i))
    for ax in axes:
        ax.set_xticks(x, stages, rotation=25, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("deals entering the stage (per run)")
    axes[1].set_ylabel("conversion to the next stage")
    axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[1].set_ylim(0.0, 1.0)
    axes[0].legend(fontsize=7)
    title = funnel_finding(table)
    fig.suptitle(wrap_title(title), fontsize=10)
    return Chart("funnel", title, "Mean per replication of the simulated deals that enter each stage, and the share "
                 "that move on (95 % intervals).", fig)
