"""The charts of the one-page report of a ``demo`` or ``compare`` folder: each answers one question a sales
leader asks of a plan, from the tables the run wrote, with a title that states the finding computed from those
tables.

Every chart function takes the frames it needs (read back from the folder's Parquet twins by
``quotaflow.report_page``) and returns a `Chart`, or raises `MissingData` naming what the folder lacks; a chart is
never drawn from data the run did not produce. The finding of each chart is computed by its own ``*_finding``
function so that tests can check the title against the table (e.g. the plan named best is the argmax).
Figures are drawn without pyplot (``matplotlib.figure.Figure`` renders with Agg), so a notebook's backend is
untouched. Colours are the Okabe-Ito palette, distinguishable with the common colour-vision deficiencies
(Okabe & Ito 2008, "Color Universal Design"; the palette Wong 2011, Nature Methods 8:441, recommends).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from quotaflow.decision import format_amount, format_share

__all__ = ["OKABE_ITO", "Chart", "MissingData", "attainment_chart", "attainment_finding", "budget_chart",
           "budget_finding", "differences_chart", "differences_finding", "draw_differences", "funnel_chart",
           "funnel_finding", "monthly_chart", "monthly_finding", "pay_curve_chart", "pay_curve_finding", "png_bytes",
           "quota_chart", "quota_finding", "territory_chart", "territory_finding", "workload_chart",
           "workload_finding"]

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe-Ito colours, blue first; yellow comes late as it is faint on white."""

_DPI = 110


class MissingData(LookupError):
    """The folder lacks the table a chart needs; the message is the one-line note the report shows."""


@dataclass(frozen=True, eq=False)
class Chart:
    """One chart of the report: its key, the finding its title states, how to read it, and the figure."""

    key: str
    title: str
    caption: str
    figure: Figure

    @cached_property
    def png(self) -> bytes:
        """The figure as PNG bytes (rendered once)."""
        return png_bytes(self.figure)


def png_bytes(fig: Figure, dpi: int = _DPI) -> bytes:
    """``fig`` rendered as PNG (Agg)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)  # constrained layout already fits the labels
    return buf.getvalue()


def _colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _money_axis(ax: Axes, currency: str, axis: str = "y", *, signed: bool = False) -> None:
    """K / M tick labels (the axis label names the currency, so ticks stay short), at most 5 of them."""
    fmt = FuncFormatter(lambda v, _pos: format_amount(float(v), signed=signed) if v else "0")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(5))
    target.set_major_formatter(fmt)


def _title(text: str, width: int = 110) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _need(frame: pd.DataFrame | None, what: str, columns: Sequence[str] = ()) -> pd.DataFrame:
    if frame is None or not len(frame):
        raise MissingData(f"{what}: the folder holds no such table")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingData(f"{what}: the table lacks column(s) {', '.join(missing)}")
    return frame


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
                        color=_colour(k + 1), capsize=4, markersize=6)
        ax.axvline(0.0, color="grey", linewidth=1)
        ax.set_title(label + (f" ({currency})" if kind == "money" and currency else " (points)" if kind != "money"
                              else ""), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        if kind == "money":
            _money_axis(ax, "", "x", signed=True)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_share(float(v), signed=True)))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_ylim(-0.6, len(others) - 0.4)
    axes[0].set_yticks(y, others["plan"].astype(str).tolist())
    axes[1].set_xlabel(f"difference against {reference}, with its paired 95 % interval", fontsize=8)
    title = differences_finding(decision, currency)
    fig.suptitle(_title(title), fontsize=10)
    return title


def differences_chart(decision: pd.DataFrame | None, currency: str) -> Chart:
    """Each pay plan's paired difference against the reference with its 95 % interval: revenue, profit after pay
    and cost of sales (the reference is the zero line)."""
    table = _need(decision, "plan comparison", ["plan", "profit_after_pay", "profit_after_pay_delta"])
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
    table = _need(monthly, "monthly bookings", ["plan", "period", "bookings"])
    plans = list(dict.fromkeys(table["plan"].astype(str)))
    cols = min(len(plans), 3)
    rows = int(np.ceil(len(plans) / cols))
    fig = Figure(layout="constrained", figsize=(4.0 * cols, 2.8 * rows + 0.6))
    axes = np.atleast_1d(np.asarray(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False))).ravel()
    for i, plan in enumerate(plans):
        ax = axes[i]
        g = table[table["plan"].astype(str) == plan]
        x = np.arange(len(g))
        ax.plot(x, g["bookings"], marker="o", markersize=3, color=_colour(i), label="bookings")
        if {"bookings_ci_low", "bookings_ci_high"} <= set(g.columns):
            ax.fill_between(x, np.maximum(g["bookings_ci_low"].to_numpy(float), 0.0),
                            g["bookings_ci_high"].to_numpy(float), color=_colour(i), alpha=0.2)
        if quota is not None and len(quota):
            ax.plot(x, quota.reindex(g["period"].astype(str)).to_numpy(float), color="black", linestyle="--",
                    linewidth=1, label="quota")
        ax.set_title(plan, fontsize=9)
        ax.grid(alpha=0.3)
        labels = g["period"].astype(str).tolist()
        ax.set_xticks(x[::3], labels[::3], fontsize=7)
        _money_axis(ax, currency)
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes[len(plans):]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel(f"bookings ({currency})" if currency else "bookings", fontsize=8)
    axes[0].legend(fontsize=7)
    title = monthly_finding(table, quota, currency)
    fig.suptitle(_title(title), fontsize=10)
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
    table = _need(reps, "attainment by tier", ["plan", "quota", "attainment"])
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
            ax.bar(x + (i - (len(plans) - 1) / 2) * width, share, width, color=_colour(i), label=plan)
        ax.set_xticks(x, _BAND_LABELS, rotation=30, ha="right", fontsize=7)
        ax.set_title(tier, fontsize=9)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("share of reps")
    axes[0].legend(fontsize=7)
    title = attainment_finding(data)
    fig.suptitle(_title(title), fontsize=10)
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
    table = _need(curves, "designed pay curves", ["plan", "attainment", "total_pay"])
    fig = Figure(layout="constrained", figsize=(8, 4.2))
    ax = fig.subplots()
    for i, (plan, g) in enumerate(table.groupby("plan", sort=False)):
        ax.plot(g["attainment"], g["total_pay"], color=_colour(i), label=str(plan), linewidth=2,
                linestyle=("-", "--", "-.", ":")[i % 4])
    ax.axvline(1.0, color="grey", linewidth=1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    _money_axis(ax, currency)
    ax.set_xlabel("attainment (bookings / quota)")
    ax.set_ylabel(f"pay over the horizon ({currency})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    title = pay_curve_finding(table, currency)
    ax.set_title(_title(title, 95), fontsize=10)
    quota = float(table["quota"].iloc[0]) if "quota" in table.columns else float("nan")
    return Chart("pay_curves", title, "What each pay plan pays a rep with the median quota "
                 f"({format_amount(quota, currency)}) and the median base salary who books at an even pace, "
                 "computed by the pay engine from the plan's terms (team bonuses and contests left out).", fig)


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
    table = _need(quota_reps, "quota against potential", ["quota", "potential", "expected_sales"])
    fig = Figure(layout="constrained", figsize=(10, 4.0))
    axes = fig.subplots(1, 2)
    tiers = table["tier"].astype(str) if "tier" in table.columns else pd.Series("rep", index=table.index)
    for ax, col, label in ((axes[0], "potential", "territory potential"),
                           (axes[1], "expected_sales", "expected sales")):
        for i, tier in enumerate(sorted(tiers.unique())):
            sub = table[tiers == tier]
            ax.scatter(sub[col], sub["quota"], s=18, color=_colour(i), label=tier, alpha=0.85)
        hi = float(max(table[col].max(), table["quota"].max())) * 1.05
        if col == "expected_sales":
            ax.plot([0, hi], [0, hi], color="grey", linewidth=1, linestyle="--", label="quota = expected")
        _money_axis(ax, currency, "x")
        _money_axis(ax, currency, "y")
        ax.set_xlabel(f"{label} ({currency})")
        ax.set_ylabel(f"quota ({currency})")
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    title = quota_finding(table)
    fig.suptitle(_title(title), fontsize=10)
    return Chart("quotas", title, "One dot per rep; right: above the dashed line the quota asks for more than the "
                 "plan is expected to sell.", fig)


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
    table = _need(funnel, "funnel", ["plan", "stage", "entered", "conversion"])
    plans = list(dict.fromkeys(table["plan"].astype(str)))
    stages = list(dict.fromkeys(table["stage"].astype(str)))
    fig = Figure(layout="constrained", figsize=(10, 3.8))
    axes = fig.subplots(1, 2)
    width = 0.8 / len(plans)
    x = np.arange(len(stages))
    for i, plan in enumerate(plans):
        g = table[table["plan"].astype(str) == plan].set_index("stage").reindex(stages)
        offset = (i - (len(plans) - 1) / 2) * width
        axes[0].bar(x + offset, g["entered"].to_numpy(float), width, color=_colour(i), label=plan)
        conv = g["conversion"].to_numpy(float)
        if {"conversion_ci_low", "conversion_ci_high"} <= set(g.columns):
            err = [conv - g["conversion_ci_low"].to_numpy(float), g["conversion_ci_high"].to_numpy(float) - conv]
            axes[1].errorbar(x + offset, conv, yerr=np.clip(err, 0.0, None), fmt="o", color=_colour(i),
                             capsize=2, markersize=4)
        else:
            axes[1].plot(x + offset, conv, "o", color=_colour(i))
    for ax in axes:
        ax.set_xticks(x, stages, rotation=25, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("deals entering the stage (per run)")
    axes[1].set_ylabel("conversion to the next stage")
    axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[1].set_ylim(0.0, 1.0)
    axes[0].legend(fontsize=7)
    title = funnel_finding(table)
    fig.suptitle(_title(title), fontsize=10)
    return Chart("funnel", title, "Mean per replication of the simulated deals that enter each stage, and the share "
                 "that move on (95 % intervals).", fig)


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
    cells = _need(budget, "marketing budget", ["channel", "period", "spend"])
    per = _need(channels, "marketing budget by channel", ["channel", "marginal_value"])
    pivot = cells.pivot_table(index="period", columns="channel", values="spend", aggfunc="sum").fillna(0.0)
    fig = Figure(layout="constrained", figsize=(10, 3.8))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    bottom = np.zeros(len(pivot))
    x = np.arange(len(pivot))
    for i, channel in enumerate(pivot.columns):
        axes[0].bar(x, pivot[channel].to_numpy(float), bottom=bottom, color=_colour(i), label=str(channel))
        bottom += pivot[channel].to_numpy(float)
    axes[0].set_xticks(x[::2], [str(p) for p in pivot.index[::2]], fontsize=7)
    _money_axis(axes[0], currency)
    axes[0].set_ylabel(f"spend ({currency})")
    axes[0].legend(fontsize=7)
    order = per.set_index("channel").reindex(pivot.columns)
    axes[1].barh(np.arange(len(order)), order["marginal_value"].to_numpy(float),
                 color=[_colour(i) for i in range(len(order))])
    axes[1].set_yticks(np.arange(len(order)), [str(c) for c in order.index], fontsize=8)
    axes[1].set_xlabel(f"pipeline value of one more {currency or 'unit'}")
    for ax in axes:
        ax.grid(alpha=0.3)
    title = budget_finding(cells, per, currency)
    fig.suptitle(_title(title), fontsize=10)
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
    b = _need(before, "workload today", ["rep_id", "hours", "capacity_hours"])
    a = _need(after, "workload after the allocation", ["rep_id", "hours", "capacity_hours"])
    merged = a.set_index("rep_id")[["hours", "capacity_hours"]].join(
        b.set_index("rep_id")["hours"].rename("hours_today"), how="left")
    merged = merged.assign(u=merged["hours"] / merged["capacity_hours"]).sort_values("u")
    fig = Figure(layout="constrained", figsize=(10, 3.8))
    ax = fig.subplots()
    x = np.arange(len(merged))
    ax.bar(x, merged["capacity_hours"].to_numpy(float), color="#DDDDDD", label="capacity")
    ax.plot(x, merged["hours_today"].to_numpy(float), "o", color=_colour(1), markersize=4, label="today")
    ax.plot(x, merged["hours"].to_numpy(float), "D", color=_colour(0), markersize=4, label="after allocation")
    ax.set_xticks(x, [str(r) for r in merged.index], rotation=90, fontsize=6)
    ax.set_ylabel("account hours per year")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    title = workload_finding(b, a)
    ax.set_title(_title(title, 95), fontsize=10)
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
    table = _need(territory, "territory map", ["rep_id", "moved", "latitude", "longitude", "annual_potential"])
    table = table[np.isfinite(table["latitude"].to_numpy(float)) & np.isfinite(table["longitude"].to_numpy(float))]
    if not len(table):
        raise MissingData("territory map: the accounts have no coordinates")
    fig = Figure(layout="constrained", figsize=(8, 6))
    ax = fig.subplots()
    reps = sorted(table["rep_id"].dropna().astype(str).unique())
    colour = {r: _colour(i) for i, r in enumerate(reps)}
    size = 6 + 40 * np.sqrt(table["annual_potential"].to_numpy(float) / max(float(table["annual_potential"].max()),
                                                                            1.0))
    ax.scatter(table["longitude"], table["latitude"], s=size,
               c=[colour.get(str(r), "#999999") for r in table["rep_id"]], alpha=0.75, linewidths=0)
    moved = table["moved"].astype(bool).to_numpy()
    ax.scatter(table["longitude"][moved], table["latitude"][moved], s=size[moved] + 20, facecolors="none",
               edgecolors="black", linewidths=0.8, label="moved to another rep")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1.0 / max(np.cos(np.radians(float(table["latitude"].mean()))), 0.1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    title = territory_finding(table, currency)
    ax.set_title(_title(title, 95), fontsize=10)
    return Chart("territory", title, f"Each dot is an account (size: potential), coloured by its rep after the "
                 f"allocation ({len(reps)} reps; colours repeat, so read neighbouring areas, not single colours); "
                 "black circles mark accounts that change rep.", fig)

