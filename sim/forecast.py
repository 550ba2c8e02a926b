"""The simulator as a forecaster: the wins booked in each month of the horizon when the run starts from an open
pipeline, per replication (``won_by_month``), and their predictive quantiles (``forecast_quantiles``) in the shape
of a back-test's forecast rows, so the simulator is scored beside the naive baselines.

A win counts in the month it closes (its booking day); its value is the deal's value as created, the amount a CRM
would show, not the booking after an account's yearly cap or a pulled-in deal's discount (a back-test's actuals are
the export's amounts). Wins from the pipeline and from new leads are both counted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.deals import WON
from sim.model import Model
from sim.pipeline import OpenDeals, open_deals
from sim.policy import Behaviour
from sim.simulation import run_replication

__all__ = ["FORECAST_COLUMNS", "QUANTILES", "forecast_quantiles", "won_by_month"]

FORECAST_COLUMNS = ["cutoff", "month", "metric", "model", "point", "p10", "p50", "p90"]
"""The columns of a back-test's forecast rows (``calibration.scores.FORECAST_COLUMNS``, repeated here because the
simulator does not import the calibration layer)."""
QUANTILES = (0.1, 0.5, 0.9)


def won_by_month(model: Model, pipeline: pd.DataFrame | OpenDeals | None, *, replications: int, seed: int,
                 behaviour: Behaviour | None = None) -> pd.DataFrame:
    """Wins and won value per replication and horizon month of runs started from ``pipeline``.

    Parameters
    ----------
    model
        The built model (its calendar's first month is the first forecast month).
    pipeline
        The deals open on day 0 (``sim.pipeline.open_deals`` columns), or None to start from the warm-up.
    replications, seed
        Replications and root seed (replication ``i`` gets child ``i`` of ``SeedSequence(seed)``, as in
        ``simulate``).
    behaviour
        The behaviour hook (default ``NormBehaviour``).

    Returns
    -------
    pandas.DataFrame
        ``replication, period, won_deals, won_value``.

    Examples
    --------
    >>> import scenarios
    >>> from sim import build
    >>> m = build(scenarios.load("tiny"))
    >>> frame = pd.DataFrame({"owner": [m.rep_ids[0]], "stage": [4], "days_in_stage": [2.0], "age_days": [30.0]})
    >>> out = won_by_month(m, frame, replications=2, seed=1)
    >>> out.columns.tolist(), len(out) == 2 * m.n_months
    (['replication', 'period', 'won_deals', 'won_value'], True)
    """
    if replications < 1:
        raise ValueError(f"give at least 1 replication, not {replications}")
    opened = open_deals(model, pipeline) if isinstance(pipeline, pd.DataFrame) else pipeline
    ms = model.month_start
    n_months = model.n_months
    deals = np.zeros((replications, n_months))
    value = np.zeros((replications, n_months))
    for k, child in enumerate(np.random.SeedSequence(seed).spawn(replications)):
        leads, rec = run_replication(model, child, behaviour, pipeline=opened)
        closed = np.nan_to_num(rec.closed, nan=-1.0)
        won = (rec.status == WON) & (closed >= 0.0) & (closed < model.horizon)
        month = np.searchsorted(ms, closed[won], side="right") - 1
        deals[k] = np.bincount(month, minlength=n_months)[:n_months]
        value[k] = np.bincount(month, weights=leads.value[won], minlength=n_months)[:n_months]
    return pd.DataFrame({"replication": np.repeat(np.arange(replications), n_months),
                         "period": np.tile(model.periods, replications),
                         "won_deals": deals.ravel(), "won_value": value.ravel()})


def forecast_quantiles(draws: pd.DataFrame, *, cutoff: str, months: Sequence[str] | None = None,
                       model_name: str = "simulator") -> pd.DataFrame:
    """Forecast rows from ``won_by_month`` draws: per period and metric the mean (``point``) and the inverted-CDF
    quantiles ``p10, p50, p90`` over replications (actual draw values, so counts stay whole deals, as the baselines
    report theirs).

    ``months`` relabels the periods (e.g. ``2017-07``); by default they keep the simulator's labels.

    Examples
    --------
    >>> d = pd.DataFrame({"replication": [0, 1, 2], "period": ["2027-01"] * 3, "won_deals": [1.0, 2.0, 3.0],
    ...                   "won_value": [10.0, 20.0, 30.0]})
    >>> forecast_quantiles(d, cutoff="2026-12-31")[["metric", "p10", "p50", "p90"]].to_dict("records")[0]
    {'metric': 'won_deals', 'p10': 1.0, 'p50': 2.0, 'p90': 3.0}
    """
    periods = list(dict.fromkeys(draws["period"]))
    labels = list(months) if months is not None else periods
    if len(labels) != len(periods):
        raise ValueError(f"{len(labels)} month labels for {len(periods)} periods")
    rows = []
    for metric in ("won_deals", "won_value"):
        for period, label in zip(periods, labels, strict=True):
            x = draws.loc[draws["period"] == period, metric].to_numpy(dtype=float)
            q = np.quantile(x, QUANTILES, method="inverted_cdf")
            rows.append({"cutoff": cutoff, "month": str(label), "metric": metric, "model": model_name,
                         "point": float(x.mean()), "p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])})
    return pd.DataFrame(rows, columns=FORECAST_COLUMNS)
