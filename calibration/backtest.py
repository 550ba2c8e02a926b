"""Back-test data: the pipeline as it stood on a cutoff day, rebuilt from what was known then, and what happened in
the months after it.

For a cutoff (the last day of a month), ``backtest_data`` reads the export through ``build_model`` with
``as_of_date=cutoff``: every cleaning rule runs on that day's knowledge (stale open deals are judged by the deals
closed by then, the observation window by the closes seen by then), and ``calibration.as_of`` rebuilds each deal
from the history rows dated on or before the cutoff only. So

- a deal created after the cutoff does not exist;
- a deal closed after the cutoff is open at the cutoff, in the stage of its last change dated on or before it;
- its amount is the one the history carried then (the export's history amount column), else unknown: the
  opportunity row's amount, stage and close date describe the export day, not the cutoff;
- days in stage and age are measured from the history's change into the stage and the deal's creation to the
  end of the cutoff (to the cutoff itself when the export has dates without times, as ``stage_spells`` censors).

Owner, account and product are taken as fixed (exports carry no history of them; docs/calibration.md).

The actuals are the wins booked in each of the ``H`` calendar months after the cutoff, read from the whole export
(its close dates and amounts, as ``calibration.timing.won_closes`` books them): ``won_deals`` and ``won_value``.
Those months must lie inside the export (the last one ends on or before its as-of day).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibration.cleaning import build_model
from calibration.errors import CalibrationError, Problem
from calibration.mapping import Mapping
from calibration.model import CrmModel, day_end, first_last, run_ends
from calibration.timing import won_closes

__all__ = ["METRICS", "PIPELINE_COLUMNS", "BacktestData", "actuals_table", "backtest_data", "horizon_months",
           "open_pipeline",
           "won_by_month"]

METRICS = ("won_deals", "won_value")
"""What a back-test forecasts per month: the number of wins booked and their value."""

PIPELINE_COLUMNS = ["opportunity_id", "owner", "product", "stage", "entered_stage", "days_in_stage", "age_days",
                    "amount"]
"""Columns of ``open_pipeline``: one row per deal open at the model's day."""


@dataclass(frozen=True, eq=False)
class BacktestData:
    """One cutoff of a back-test.

    Attributes
    ----------
    cutoff
        The last day whose data is used.
    model
        The export as it stood at the end of the cutoff (cleaned with that day's knowledge); every estimate of a
        forecast made at the cutoff reads this model only.
    pipeline
        ``open_pipeline(model)``.
    actuals
        ``month`` (``pandas.Period``), ``won_deals``, ``won_value``: what happened in the horizon months.
    cleaning
        The cleaning report of the cutoff's model (``CleaningReport.frame``), with ``after_as_of`` counting what
        the cutoff left out.
    """

    cutoff: pd.Timestamp
    model: CrmModel
    pipeline: pd.DataFrame
    actuals: pd.DataFrame
    cleaning: pd.DataFrame

    @property
    def months(self) -> pd.PeriodIndex:
        """The horizon months."""
        return pd.PeriodIndex(self.actuals["month"], freq="M")

    def __repr__(self) -> str:
        return (f"BacktestData(cutoff {self.cutoff.date()}, {len(self.pipeline)} open deals, horizon "
                f"{self.months[0]}..{self.months[-1]}: {int(self.actuals['won_deals'].sum())} wins)")


def _censor_instant(model: CrmModel) -> pd.Timestamp:
    """Where spells still running are cut: the end of the day, or the day itself when the history has no times
    (as ``calibration.funnel.stage_spells`` does, so ages and spell durations agree)."""
    hist = model.history
    date_only = bool((hist["changed"].dt.normalize() == hist["changed"]).all())
    return model.as_of if date_only else day_end(model.as_of)


def open_pipeline(model: CrmModel) -> pd.DataFrame:
    """The deals open at the end of ``model.as_of``, with their stage, time in it and age.

    Parameters
    ----------
    model
        Usually the snapshot of a cutoff (``BacktestData.model``, or ``calibration.as_of``): it must not hold
        history after its own day.

    Returns
    -------
    pandas.DataFrame
        ``PIPELINE_COLUMNS``: ``stage`` and ``entered_stage`` from the deal's last stage change, ``days_in_stage``
        and ``age_days`` (from creation) in days at the censoring instant, ``amount`` as the model knows it
        (NaN when unknown).

    Examples
    --------
    >>> opps = pd.DataFrame({"owner": ["a", "b"], "account": [None, None], "product": ["P", "P"],
    ...     "region": [None, None], "stage": ["Demo", "Won"], "kind": ["open", "won"],
    ...     "created": pd.to_datetime(["2024-01-01", "2024-01-05"]), "closed": pd.to_datetime([None, "2024-01-20"]),
    ...     "amount": [np.nan, 50.0], "row": [1, 2]}, index=pd.Index(["o1", "o2"], name="opportunity_id"))
    >>> hist = pd.DataFrame({"opportunity_id": ["o1", "o1", "o2", "o2"], "changed": pd.to_datetime(["2024-01-01",
    ...     "2024-01-21", "2024-01-05", "2024-01-20"]), "stage": ["Lead", "Demo", "Lead", "Won"],
    ...     "kind": ["open", "open", "open", "won"], "amount": np.nan, "derived": False})
    >>> m = CrmModel(opps, hist, [], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
    ...              pd.Timestamp("2024-01-31"), pd.Timestamp("2024-01-01"))
    >>> open_pipeline(m)[["opportunity_id", "stage", "days_in_stage", "age_days"]].to_dict("records")
    [{'opportunity_id': 'o1', 'stage': 'Demo', 'days_in_stage': 10.0, 'age_days': 30.0}]
    """
    hist = model.history
    if len(hist) and pd.Timestamp(hist["changed"].max()) >= day_end(model.as_of):
        raise ValueError("the model holds history after its own day; take calibration.as_of(model, day) first")
    opps = model.opportunities
    is_open = opps["kind"] == "open"
    _, ends, codes, ids = run_ends(hist)
    last_change = pd.Series(hist["changed"].to_numpy()[ends], index=ids[codes[ends]])
    last_stage = pd.Series(hist["stage"].to_numpy(dtype=object)[ends], index=last_change.index)
    first = first_last(hist)[0]
    open_ids = opps.index[is_open.to_numpy()]
    at = _censor_instant(model)
    entered = last_change.reindex(open_ids)
    created = opps.loc[open_ids, "created"].fillna(first.reindex(open_ids))
    at64 = at.to_datetime64()
    day_ns = 86_400e9
    out = pd.DataFrame({
        "opportunity_id": open_ids.to_numpy(dtype=object),
        "owner": opps.loc[open_ids, "owner"].to_numpy(dtype=object),
        "product": opps.loc[open_ids, "product"].to_numpy(dtype=object),
        "stage": last_stage.reindex(open_ids).to_numpy(dtype=object),
        "entered_stage": entered.to_numpy(dtype="datetime64[ns]"),
        "days_in_stage": (at64 - entered.to_numpy(dtype="datetime64[ns]")).astype(np.int64) / day_ns,
        "age_days": (at64 - created.to_numpy(dtype="datetime64[ns]")).astype(np.int64) / day_ns,
        "amount": opps.loc[open_ids, "amount"].to_numpy(dtype=float),
    })
    return out.reindex(columns=PIPELINE_COLUMNS).reset_index(drop=True)


def horizon_months(cutoff: dt.date | pd.Timestamp, horizon: int) -> pd.PeriodIndex:
    """The ``horizon`` calendar months after ``cutoff``, which must be the last day of a month.

    Examples
    --------
    >>> [str(m) for m in horizon_months(dt.date(2017, 6, 30), 3)]
    ['2017-07', '2017-08', '2017-09']
    """
    day = pd.Timestamp(cutoff).normalize()
    if horizon < 1:
        raise ValueError(f"the horizon must be at least one month, not {horizon}")
    if not day.is_month_end:
        raise ValueError(f"cutoff {day.date()} is not the last day of a month; back-tests forecast whole months "
                         f"after it (use {day.to_period('M').end_time.date()} or "
                         f"{(day.to_period('M') - 1).end_time.date()})")
    return pd.period_range(day.to_period("M") + 1, periods=horizon, freq="M")


def won_by_month(model: CrmModel, months: pd.PeriodIndex) -> pd.DataFrame:
    """Wins booked (close date) in each of ``months``: ``month``, ``won_deals``, ``won_value`` (a win with an
    unknown amount counts as a deal and adds nothing to the value)."""
    wins = won_closes(model)
    month = pd.DatetimeIndex(wins["closed"]).to_period("M")
    amount = wins["amount"].fillna(0.0).to_numpy(dtype=float)
    frame = pd.DataFrame({"month": month, "amount": amount})
    frame = frame[frame["month"].isin(months)]
    grouped = frame.groupby("month")["amount"].agg(["size", "sum"]).reindex(months, fill_value=0)
    return pd.DataFrame({"month": months, "won_deals": grouped["size"].to_numpy(dtype=np.int64),
                         "won_value": grouped["sum"].to_numpy(dtype=float)})


def backtest_data(export: str | os.PathLike[str], mapping: Mapping, cutoff: dt.date, horizon: int, *,
                  full: CrmModel | None = None, encoding: str | None = None) -> BacktestData:
    """The pipeline at ``cutoff`` and the wins of the ``horizon`` months after it (see the module docstring).

    Parameters
    ----------
    export, mapping, encoding
        As for ``calibration.build_model``.
    cutoff
        Last day of a month; nothing dated after it is used for the pipeline or the snapshot model.
    horizon
        Months to score after the cutoff.
    full
        The export's model as of its own day (``build_model(export, mapping)[0]``), to read the actuals from;
        read here when not given (pass it when preparing several cutoffs).

    Raises
    ------
    CalibrationError
        A cutoff that is not a month end, before the export's first deal, or whose horizon runs past the
        export's day.
    """
    label = str(export)
    try:
        months = horizon_months(cutoff, horizon)
    except ValueError as err:
        raise CalibrationError(Problem(label, str(err), "give month-end cutoffs and a horizon of 1 or more months",
                                       column="--cutoffs", value=str(cutoff))) from err
    if full is None:
        full = build_model(export, mapping, encoding=encoding)[0]
    last_day = months[-1].end_time.normalize()
    if last_day > full.as_of:
        complete = full.as_of.to_period("M") - (0 if full.as_of.is_month_end else 1)
        latest = (complete - horizon).end_time.date()
        raise CalibrationError(Problem(label, f"the horizon after cutoff {cutoff} ends {last_day.date()}, after the "
                                       f"export's last day {full.as_of.date()}: those months cannot be scored",
                                       f"use a cutoff on or before {latest}", column="--cutoffs", value=str(cutoff)))
    first = pd.Timestamp(full.opportunities["created"].min())
    if pd.Timestamp(cutoff) < first:
        raise CalibrationError(Problem(label, f"cutoff {cutoff} is before the export's first deal "
                                       f"({first.date()})", "choose a cutoff inside the export's history",
                                       column="--cutoffs", value=str(cutoff)))
    model, report, _ = build_model(export, mapping, as_of_date=cutoff, encoding=encoding)
    return BacktestData(cutoff=pd.Timestamp(cutoff).normalize(), model=model, pipeline=open_pipeline(model),
                        actuals=won_by_month(full, months), cleaning=report.frame())


def actuals_table(cutoffs: list[BacktestData]) -> pd.DataFrame:
    """The actuals of every cutoff in long form, as ``calibration.scores.score_forecasts`` takes them:
    ``cutoff, month, metric, actual``."""
    rows = [{"cutoff": str(d.cutoff.date()), "month": str(m), "metric": metric, "actual": float(v)}
            for d in cutoffs for metric in METRICS for m, v in zip(d.actuals["month"], d.actuals[metric], strict=True)]
    return pd.DataFrame(rows, columns=["cutoff", "month", "metric", "actual"])
