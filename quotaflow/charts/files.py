"""PNG plots: of a pay plan comparison (monthly bookings per pay plan with 95 % bands, attainment histograms,
pay-versus-attainment curves), of an allocation frontier, of a back-test and of a sweep's response to each swept
parameter. Figures are drawn without pyplot, so a caller's backend (a notebook's) is untouched.

Examples
--------
>>> import tempfile, pathlib, scenarios
>>> from quotaflow.comparison import compare
>>> res = compare(scenarios.load("tiny"), ["flat_commission", "annual_bonus"], replications=2, seed=1)
>>> with tempfile.TemporaryDirectory() as d:
...     p = pathlib.Path(d) / "m.png"
...     plot_monthly(res, p)
...     p.read_bytes()[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from quotaflow.charts.style import png_bytes
from scenarios import write_atomic

if TYPE_CHECKING:
    from optimizer import FrontierResult
    from quotaflow.comparison import ComparisonResult

__all__ = ["backtest_finding", "plot_attainment", "plot_backtest", "plot_comparison", "plot_frontier", "plot_monthly",
           "plot_pay_curve", "plot_response"]


def _save(fig: Figure, path: Path, dpi: int = 110) -> None:
    write_atomic(path, png_bytes(fig, dpi, tight=True))


def plot_comparison(result: ComparisonResult, folder: Path) -> list[str]:
    """Write the three plots of a comparison into ``folder``; return their file names."""
    names = []
    for name, fn in (("monthly_bookings.png", plot_monthly), ("attainment.png", plot_attainment),
                     ("pay_vs_attainment.png", plot_pay_curve)):
        fn(result, folder / name)
        names.append(name)
    return names


_TERM_AXES = {"value": "expected value per year", "travel": "travel, km per year",
              "disruption": "potential moved to another rep", "balance": "largest workload deviation from the mean"}


def plot_frontier(result: FrontierResult, scenario_name: str, path: Path) -> None:
    """The efficient points of a frontier (optimal or feasible), one objective term against the other."""
    x, y = result.x, result.y
    ok = result.points[result.points["status"].isin(["optimal", "feasible"])]
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.subplots()
    ax.plot(ok["x"], ok["y"], marker="o")
    ax.set_xlabel(_TERM_AXES.get(x, x))
    ax.set_ylabel(_TERM_AXES.get(y, y))
    levels = int(result.points["levels"].sum())
    ax.set_title(f"{scenario_name}: {y} vs {x} ({len(ok)} efficient points from {levels} levels)")
    ax.grid(alpha=0.3)
    _save(fig, path, dpi=120)


def plot_monthly(result: ComparisonResult, path: Path) -> None:
    """Mean monthly bookings per plan with their 95 % intervals."""
    fig = Figure(figsize=(9, 4.5))
    ax = fig.subplots()
    for plan, g in result.monthly.groupby("plan", sort=False):
        x = np.arange(len(g))
        ax.plot(x, g["bookings"], marker="o", label=str(plan))
        ax.fill_between(x, g["bookings_ci_low"], g["bookings_ci_high"], alpha=0.15)
        ax.set_xticks(x, g["period"].tolist(), rotation=45, ha="right")
    ax.set_ylabel("bookings per month")
    ax.set_title(f"Monthly bookings, {result.info.get('replications')} replications (95 % CI)")
    ax.legend()
    _save(fig, path)


def plot_attainment(result: ComparisonResult, path: Path) -> None:
    """Histogram of rep attainment (all reps and replications) per plan."""
    fig = Figure(figsize=(9, 4.5))
    ax = fig.subplots()
    att = result.reps["attainment"].to_numpy(float)
    hi = float(np.nanquantile(att, 0.99)) if len(att) else 2.0
    bins = np.linspace(0.0, max(hi, 1.5), 31)
    for plan, g in result.reps.groupby("plan", sort=False):
        ax.hist(np.clip(g["attainment"].to_numpy(float), 0.0, bins[-1]), bins=bins.tolist(), histtype="step",
                linewidth=1.5, label=str(plan), density=True)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("attainment (bookings / quota)")
    ax.set_ylabel("density")
    ax.set_title("Rep attainment")
    ax.legend()
    _save(fig, path)


def plot_pay_curve(result: ComparisonResult, path: Path) -> None:
    """Mean pay by attainment band (0.1 wide) per plan: the plan's pay curve as realised in the simulation."""
    fig = Figure(figsize=(9, 4.5))
    ax = fig.subplots()
    for plan, g in result.reps.groupby("plan", sort=False):
        band = np.floor(np.clip(g["attainment"].to_numpy(float), 0.0, 2.5) * 10.0) / 10.0 + 0.05
        curve = g.assign(band=band).groupby("band")["pay"].mean()
        ax.plot(curve.index, curve.to_numpy(), marker=".", label=str(plan))
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("attainment (bookings / quota)")
    ax.set_ylabel("mean pay over the horizon")
    ax.set_title("Pay versus attainment")
    ax.legend()
    _save(fig, path)


_METRIC_AXES = {"won_deals": "won deals per month", "won_value": "won value per month"}


def backtest_finding(scores: pd.DataFrame) -> str:
    """One line on how the simulator did against the baselines: its 80 % coverage and, per metric, the model with
    the lowest mean pinball loss.

    Examples
    --------
    >>> s = pd.DataFrame({"metric": ["won_deals", "won_deals"], "model": ["simulator", "seasonal_naive"],
    ...                   "coverage_80": [0.5, 0.0], "pinball_mean": [3.0, 5.0]})
    >>> backtest_finding(s)
    'simulator 80 % band covered 50% of months; lowest pinball loss: won_deals simulator (3 vs seasonal_naive 5)'
    """
    sim_rows = scores[scores["model"] == "simulator"]
    coverage = float(sim_rows["coverage_80"].mean()) if len(sim_rows) else float("nan")
    parts = []
    for metric, group in scores.groupby("metric", sort=True):
        ranked = group.sort_values("pinball_mean")
        best, runner = ranked.iloc[0], ranked.iloc[1] if len(ranked) > 1 else None
        text = f"{metric} {best['model']} ({best['pinball_mean']:,.0f}"
        if runner is not None:
            text += f" vs {runner['model']} {runner['pinball_mean']:,.0f}"
        parts.append(text + ")")
    return (f"simulator 80 % band covered {coverage:.0%} of months; lowest pinball loss: " + "; ".join(parts))


def plot_backtest(detail: pd.DataFrame, scores: pd.DataFrame, path: Path) -> None:
    """Actual wins and won value against the simulator's P10-P90 band and median, with each baseline's median, one
    panel per cutoff (rows) and metric (columns); the title states how the simulator did."""
    cutoffs = sorted(detail["cutoff"].astype(str).unique())
    metrics = [m for m in ("won_deals", "won_value") if m in set(detail["metric"])]
    fig = Figure(figsize=(5.2 * len(metrics), 3.4 * len(cutoffs) + 0.8))
    axes = np.atleast_2d(np.asarray(fig.subplots(len(cutoffs), len(metrics), squeeze=False)))
    for i, cutoff in enumerate(cutoffs):
        for j, metric in enumerate(metrics):
            ax = axes[i, j]
            rows = detail[(detail["cutoff"].astype(str) == cutoff) & (detail["metric"] == metric)]
            months = list(dict.fromkeys(rows["month"].astype(str)))
            x = np.arange(len(months))
            sim_rows = rows[rows["model"] == "simulator"].set_index(rows.loc[rows["model"] == "simulator", "month"]
                                                                    .astype(str)).reindex(months)
            ax.fill_between(x, sim_rows["p10"].to_numpy(float), sim_rows["p90"].to_numpy(float), alpha=0.25,
                            label="simulator P10-P90")
            ax.plot(x, sim_rows["p50"].to_numpy(float), marker="o", label="simulator median")
            for model in sorted(set(rows["model"]) - {"simulator"}):
                base = rows[rows["model"] == model].set_index(rows.loc[rows["model"] == model, "month"]
                                                              .astype(str)).reindex(months)
                ax.plot(x, base["p50"].to_numpy(float), linestyle="--", marker=".",
                        label=f"{model.replace('_', ' ')} median")
            actual = sim_rows["actual"].to_numpy(float)
            ax.plot(x, actual, color="black", marker="s", linestyle="none", label="actual")
            ax.set_xticks(x, months)
            ax.set_title(f"cutoff {cutoff}: {_METRIC_AXES.get(metric, metric)}", fontsize=9)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(backtest_finding(scores), fontsize=9)
    _save(fig, path)


def plot_response(table: pd.DataFrame, param: str, metric: str, out: Path) -> Path:
    """A sweep's ``metric`` against one swept parameter (``table``: one row per point with the parameters and the
    metric's ``mean``, ``ci_low``, ``ci_high``), written as ``out/<metric>_vs_<param>.png``; returns the file."""
    values = pd.to_numeric(table[param], errors="coerce")
    numeric = values.notna().all()
    x = values if numeric else table[param].astype(str)
    # Average over the other parameters so each point on the curve is one value of this parameter.
    grouped = table.assign(_x=x).groupby("_x", sort=True).agg(mean=("mean", "mean"), low=("ci_low", "mean"),
                                                               high=("ci_high", "mean"), n=("mean", "size"))
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    xs = grouped.index.to_numpy() if numeric else np.arange(len(grouped))
    ax.plot(xs, grouped["mean"], marker="o")
    ax.fill_between(xs, grouped["low"], grouped["high"], alpha=0.25, label="95% CI (mean over other parameters)")
    if not numeric:
        ax.set_xticks(xs, [str(v) for v in grouped.index], rotation=30, ha="right")
    ax.set_xlabel(param)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} against {param}")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in param)
    file = out / f"{metric}_vs_{safe}.png"
    write_atomic(file, png_bytes(fig, 110))
    return file
