"""Scores of probabilistic forecasts against what happened: the back-test tables.

A forecast is three predictive quantiles (``p10``, ``p50``, ``p90``) of one metric in one month, made at one cutoff
by one model; ``point`` (the model's own point forecast, e.g. the weighted pipeline's expected value) may ride
along and is reported, not scored. The scores, per metric and model over every cutoff and month:

- **coverage of the 80 % interval**: the share of forecasts with ``p10 <= actual <= p90`` (nominal 0.8);
- **pinball loss** at 0.1, 0.5 and 0.9 (Koenker's quantile loss, the proper score of a quantile;
  Gneiting & Raftery 2007, JASA 102:359): ``L_q(y, f) = max(q (y - f), (q - 1)(y - f))``, averaged; in the
  metric's units (deals or currency). ``pinball_mean`` averages the three, a three-point approximation of the
  continuous ranked probability score up to a factor;
- **absolute percentage error of the median**: ``|p50 - y| / y``, averaged over the forecasts whose actual is
  positive (``ape_forecasts`` says how many), since it is undefined at zero.

``score_forecasts`` returns both tables of the back-test: the detail (``backtest.csv``: one row per cutoff, month,
metric and model with the actual, the quantiles and each score) and the summary (``backtest_summary.csv``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DETAIL_COLUMNS", "FORECAST_COLUMNS", "QUANTILES", "SUMMARY_COLUMNS", "pinball_loss", "score_forecasts"]

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
"""The predictive quantiles a back-test scores."""

FORECAST_COLUMNS = ["cutoff", "month", "metric", "model", "point", "p10", "p50", "p90"]
"""A forecasts table (``point`` optional)."""

DETAIL_COLUMNS = ["cutoff", "month", "metric", "model", "actual", "point", "p10", "p50", "p90", "covered_80",
                  "pinball_10", "pinball_50", "pinball_90", "ape_median"]
"""Columns of ``backtest.csv``."""

SUMMARY_COLUMNS = ["metric", "model", "forecasts", "coverage_80", "pinball_10", "pinball_50", "pinball_90",
                   "pinball_mean", "ape_median", "ape_forecasts"]
"""Columns of ``backtest_summary.csv``."""


def pinball_loss(actual: np.ndarray | float, forecast: np.ndarray | float, q: float) -> np.ndarray:
    """Pinball (quantile) loss of the ``q`` quantile forecast ``forecast`` of ``actual``, element-wise.

    Examples
    --------
    >>> round(pinball_loss(10.0, 8.0, 0.9).item(), 6), round(pinball_loss(10.0, 12.0, 0.9).item(), 6)
    (1.8, 0.2)
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile level {q} must lie strictly between 0 and 1")
    diff = np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float)
    return np.asarray(np.maximum(q * diff, (q - 1.0) * diff), dtype=float)


def score_forecasts(forecasts: pd.DataFrame, actuals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score quantile forecasts against actuals.

    Parameters
    ----------
    forecasts
        ``cutoff, month, metric, model, p10, p50, p90`` and optionally ``point``; one row per cutoff, month,
        metric and model.
    actuals
        ``cutoff, month, metric, actual``.

    Returns
    -------
    (detail, summary)
        ``DETAIL_COLUMNS`` and ``SUMMARY_COLUMNS`` (see the module docstring).

    Raises
    ------
    ValueError
        Missing columns, duplicated forecasts, quantiles out of order, or a forecast without an actual.

    Examples
    --------
    >>> f = pd.DataFrame({"cutoff": "2017-06-30", "month": ["2017-07", "2017-08"], "metric": "won_deals",
    ...                   "model": "m", "p10": [8.0, 8.0], "p50": [10.0, 10.0], "p90": [12.0, 12.0]})
    >>> a = pd.DataFrame({"cutoff": "2017-06-30", "month": ["2017-07", "2017-08"], "metric": "won_deals",
    ...                   "actual": [11.0, 20.0]})
    >>> detail, summary = score_forecasts(f, a)
    >>> summary[["coverage_80", "pinball_50", "ape_median"]].round(3).to_dict("records")
    [{'coverage_80': 0.5, 'pinball_50': 2.75, 'ape_median': 0.295}]
    """
    keys = ["cutoff", "month", "metric"]
    missing = [c for c in [*keys, "model", *QUANTILES] if c not in forecasts.columns]
    missing += [c for c in [*keys, "actual"] if c not in actuals.columns]
    if missing:
        raise ValueError(f"columns missing from the forecasts or actuals: {', '.join(missing)}")
    f = forecasts.copy()
    if "point" not in f.columns:
        f["point"] = np.nan
    a = actuals[[*keys, "actual"]].copy()
    for frame in (f, a):
        frame["cutoff"] = frame["cutoff"].astype(str)
        frame["month"] = frame["month"].astype(str)
    if f.duplicated([*keys, "model"]).any():
        raise ValueError("forecasts hold more than one row for a cutoff, month, metric and model")
    if a.duplicated(keys).any():
        raise ValueError("actuals hold more than one row for a cutoff, month and metric")
    q = f[list(QUANTILES)].to_numpy(dtype=float)
    if np.isnan(q).any() or (np.diff(q, axis=1) < 0).any():
        raise ValueError("every forecast needs p10 <= p50 <= p90 (no missing quantile)")
    detail = f.merge(a, on=keys, how="left", validate="many_to_one")
    if detail["actual"].isna().any():
        row = detail[detail["actual"].isna()].iloc[0]
        raise ValueError(f"no actual for cutoff {row['cutoff']}, month {row['month']}, metric {row['metric']}")
    y = detail["actual"].to_numpy(dtype=float)
    detail["covered_80"] = (detail["p10"] <= y) & (y <= detail["p90"])
    for name, level in QUANTILES.items():
        detail[f"pinball_{name[1:]}"] = pinball_loss(y, detail[name].to_numpy(dtype=float), level)
    with np.errstate(divide="ignore", invalid="ignore"):
        detail["ape_median"] = np.where(y > 0, np.abs(detail["p50"].to_numpy(dtype=float) - y) / y, np.nan)
    detail = detail.reindex(columns=DETAIL_COLUMNS)
    rows = []
    for (metric, model), g in detail.groupby(["metric", "model"], sort=False):
        pinballs = [float(g[f"pinball_{k}"].mean()) for k in ("10", "50", "90")]
        rows.append({"metric": metric, "model": model, "forecasts": len(g),
                     "coverage_80": float(g["covered_80"].mean()), "pinball_10": pinballs[0],
                     "pinball_50": pinballs[1], "pinball_90": pinballs[2], "pinball_mean": float(np.mean(pinballs)),
                     "ape_median": float(g["ape_median"].mean()) if g["ape_median"].notna().any() else np.nan,
                     "ape_forecasts": int(g["ape_median"].notna().sum())})
    return detail, pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
