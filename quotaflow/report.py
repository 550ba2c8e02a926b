"""Reading a finished sweep folder back: the best points by a chosen metric and response plots of a metric
against each swept parameter (PNG), for ``quotaflow report DIR``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from quotaflow.charts.files import plot_response
from quotaflow.errors import ReportError
from quotaflow.manifest import read_manifest

__all__ = ["ReportError", "SweepReport", "report"]


@dataclass(frozen=True)
class SweepReport:
    """The best points of a sweep and where the response plots were written.

    Parameters
    ----------
    metric
        The metric ranked on.
    best
        The top points, best first: label, swept parameters, mean and interval of the metric.
    plots
        PNG files, one per swept parameter.
    """

    metric: str
    best: pd.DataFrame
    plots: list[Path]

    def __repr__(self) -> str:
        return f"Best points by {self.metric}:\n{self.best.to_string(index=False)}\nplots: " + ", ".join(
            str(p) for p in self.plots)


def _read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        points = pd.read_parquet(folder / "points.parquet")
        summary = pd.read_parquet(folder / "summary.parquet")
    except (FileNotFoundError, OSError):
        raise ReportError(f"{folder} holds no finished sweep (points.parquet / summary.parquet missing); run "
                          "'quotaflow sweep ... --out DIR' first, or '--resume' it to finish") from None
    for col in points.columns:
        if col in ("point_id", "label"):
            continue
        numbers = pd.to_numeric(points[col], errors="coerce")
        if numbers.notna().all():  # parameters are stored as text (they may mix types); restore numbers
            points[col] = numbers
    return points, summary


def report(folder: str | os.PathLike[str], *, metric: str, top: int = 5, minimise: bool = False,
           plots_to: str | os.PathLike[str] | None = None) -> SweepReport:
    """Rank the points of a sweep by ``metric`` and plot the metric against each swept parameter.

    Parameters
    ----------
    folder
        A sweep output folder.
    metric
        Metric to rank and plot (one of the sweep's metrics).
    top
        How many points to list.
    minimise
        Rank smallest first (for costs).
    plots_to
        Folder for the PNGs (default: ``folder``/plots).
    """
    path = Path(folder)
    record = read_manifest(path)
    if record is None or not isinstance(record.get("sweep"), dict):
        raise ReportError(f"{path} is not a sweep folder quotaflow wrote (no manifest.json with a sweep record); "
                          "point at the --out folder of 'quotaflow sweep'")
    if record.get("status") != "ok":
        raise ReportError(f"the sweep in {path} has not finished (status: {record.get('status')}); rerun it with "
                          "--resume to finish it first")
    points, summary = _read(path)
    metrics = sorted(summary["metric"].unique())
    if metric not in metrics:
        raise ReportError(f"metric {metric!r} is not in this sweep; choose one of: {', '.join(metrics)}")
    rows = summary[summary["metric"] == metric].drop(columns=["metric", "label"], errors="ignore")
    table = points.merge(rows, on="point_id")
    best = table.sort_values("mean", ascending=minimise, kind="stable").head(top)
    params = [c for c in points.columns if c not in ("point_id", "label")]
    out = Path(plots_to) if plots_to is not None else path / "plots"
    out.mkdir(parents=True, exist_ok=True)
    plots = [plot_response(table, p, metric, out) for p in params]
    return SweepReport(metric=metric, best=best.reset_index(drop=True), plots=plots)
