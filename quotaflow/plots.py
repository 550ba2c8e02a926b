"""PNG plots: of a pay plan comparison (monthly bookings per pay plan with 95 % bands, attainment histograms,
pay-versus-attainment curves) and of an allocation frontier. Figures are drawn without pyplot, so a caller's
backend (a notebook's) is untouched.

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

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from scenarios import write_atomic

if TYPE_CHECKING:
    from optimizer import FrontierResult
    from quotaflow.comparison import ComparisonResult

__all__ = ["plot_attainment", "plot_comparison", "plot_frontier", "plot_monthly", "plot_pay_curve"]


def _save(fig: Figure, path: Path, dpi: int = 110) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    write_atomic(path, buf.getvalue())


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
