"""Naive forecasts of the wins after a cutoff, the yardsticks a calibrated simulation has to beat.

Both read only ``BacktestData.model`` and ``BacktestData.pipeline`` (what was known at the cutoff) and forecast,
per horizon month, the wins booked (``won_deals``) and their value (``won_value``): a point forecast and the
predictive quantiles ``p10, p50, p90`` from ``draws`` Monte-Carlo draws of a stated generative model (a seeded
generator; 4,000 draws put a quantile's level within about half a percentage point).

**Weighted pipeline** (what every CRM shows). Each open deal wins with its stage's win rate, the product of the
stage conversions from its stage on (``estimate_funnel`` at the cutoff: competing risks with censoring, so the
rate is not "won among closed"); its win falls in a horizon month by the typical time to close: the time from
entering its stage to the booking among deals won by the cutoff, keeping those that had already spent at least as
long in the stage as this deal has (or the ``MIN_TIMING`` longest when fewer did, timed from the shortest of
them). Its value is the amount the history carried at the cutoff, else the mean won value of its product (of
every product when it has no won deal) among deals won in the observation window. New deals arrive at the average
rate of the last ``HISTORY_MONTHS`` months of the window (exposure-weighted), win at the rate of the stage deals
are created in, and close after the typical time from creation to booking of the deals won by the cutoff. The
point forecast is the expectation of that sum. Its predictive distribution draws every uncertain part: each
stage conversion from its Jeffreys posterior at the funnel's effective number of exits, each deal's win
(Bernoulli) and its month (from the same timing sample), unknown amounts by bootstrap from the product's won
values, the arrival rate from its Jeffreys Gamma posterior, Poisson arrivals in each month, their wins, dates
and values. What it leaves out, as a weighted pipeline does: that old deals win less often, that some open deals
never resolve, trend and seasonality of arrivals, and skipped stages (a pass is taken to lead to the next stage);
and its timing sample holds only deals won by the cutoff, so long times to close are under-represented (right
truncation) and wins land somewhat early.

**Seasonal naive** (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §5.2): month ``h``
of the horizon repeats the month ``s * (floor((h - 1) / s) + 1)`` months earlier, with the season ``s`` = 12
(the same months of the previous year) when the window covers those months completely, else ``s`` = 3 (the same
months of the previous quarter: exports show a month-of-quarter pattern of closes, docs/calibration.md). The
point is that month's wins and value. The predictive distribution treats that month's count ``y`` as one Poisson
draw of a rate that holds again: rate ~ Gamma(y + 1/2, 1) (the Jeffreys posterior), wins ~ Poisson(rate) (a
negative binomial with mean ``y + 1/2`` and variance ``2 (y + 1/2)``), each win's value drawn from that month's own
won values (from all won values of the window when it had none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibration.arrivals import monthly_counts
from calibration.backtest import METRICS, BacktestData
from calibration.errors import CalibrationError, Problem
from calibration.funnel import estimate_funnel
from calibration.model import CrmModel, day_end, run_ends
from calibration.scores import FORECAST_COLUMNS
from calibration.timing import won_closes

__all__ = ["DRAWS", "HISTORY_MONTHS", "MIN_TIMING", "BaselineForecast", "baseline_forecasts", "seasonal_naive",
           "weighted_pipeline"]

DRAWS = 4000
"""Monte-Carlo draws per forecast: the level of an estimated 10 % quantile has a standard error of
sqrt(0.1 x 0.9 / 4000) = 0.5 percentage points."""
HISTORY_MONTHS = 12
"""Months of history (the latest inside the window) behind the weighted pipeline's arrival rate: a year, so every
month of the year weighs once when the window allows."""
MIN_TIMING = 20
"""Won deals the timing of an open deal is drawn from at least; below it a deal older than nearly every won deal
would hang on one or two examples."""
_DAY_NS = 86_400e9


@dataclass(frozen=True, eq=False)
class BaselineForecast:
    """One model's forecasts at one cutoff: ``forecasts`` in ``calibration.scores.FORECAST_COLUMNS`` (one row per
    month and metric) and ``details``, the inputs worth reporting (rates, counts, season)."""

    model: str
    cutoff: pd.Timestamp
    forecasts: pd.DataFrame
    details: dict[str, float | int | str] = field(default_factory=dict)


def _quantile_rows(cutoff: pd.Timestamp, months: pd.PeriodIndex, model: str, point: dict[str, np.ndarray],
                   draws: dict[str, np.ndarray]) -> pd.DataFrame:
    """Forecast rows from point forecasts and draws (shape months x draws) per metric; the quantiles are the
    draws' inverted-CDF quantiles (actual draw values: whole deals for counts)."""
    rows = []
    for metric in METRICS:
        q = np.quantile(draws[metric], [0.1, 0.5, 0.9], axis=1, method="inverted_cdf")
        for i, month in enumerate(months):
            rows.append({"cutoff": str(cutoff.date()), "month": str(month), "metric": metric, "model": model,
                         "point": float(point[metric][i]), "p10": float(q[0, i]), "p50": float(q[1, i]),
                         "p90": float(q[2, i])})
    return pd.DataFrame(rows, columns=FORECAST_COLUMNS)


def _window_wins(model: CrmModel) -> pd.DataFrame:
    """Wins booked inside the observation window (on or before the model's day): ``opportunity_id``, ``closed``,
    ``amount``."""
    wins = won_closes(model)
    inside = (wins["closed"] >= model.observed_from) & (wins["closed"] < day_end(model.as_of))
    return wins[inside.to_numpy()].reset_index(drop=True)


def _win_rates(model: CrmModel, draws: int, rng: np.random.Generator) -> tuple[dict[str, float],
                                                                             dict[str, np.ndarray], list[str]]:
    """Each open stage's win rate (product of conversions from it on) and its posterior draws; stages without an
    observed exit count as passing every deal (listed in the third value)."""
    funnel = estimate_funnel(model).set_index("stage")
    names = [s.name for s in model.open_stages]
    point = np.ones(len(names))
    sample = np.ones((len(names), draws))
    unestimated = []
    conversion = funnel["conversion"].reindex(names).to_numpy(dtype=float)
    effective = funnel["effective_exits"].reindex(names).to_numpy(dtype=float)
    for i, name in enumerate(names):
        conv, n_eff = conversion[i], effective[i]
        if not np.isfinite(conv) or not np.isfinite(n_eff) or n_eff <= 0:
            unestimated.append(name)
            continue
        point[i] = conv
        sample[i] = rng.beta(conv * n_eff + 0.5, (1.0 - conv) * n_eff + 0.5, size=draws)
    # Win rate from stage i: the deal passes stage i and every later open stage.
    point_rate = np.cumprod(point[::-1])[::-1]
    sample_rate = np.cumprod(sample[::-1], axis=0)[::-1]
    return ({n: float(point_rate[i]) for i, n in enumerate(names)},
            {n: sample_rate[i] for i, n in enumerate(names)}, unestimated)


def _stage_entries_of_wins(model: CrmModel, wins: pd.DataFrame) -> pd.DataFrame:
    """For each win and each open stage it visited: the days from its last entry into that stage to its booking
    (``stage``, ``days``)."""
    hist = model.history
    hist = hist[hist["opportunity_id"].isin(wins["opportunity_id"]) & (hist["kind"] == "open")]
    last = hist.drop_duplicates(["opportunity_id", "stage"], keep="last")
    booked = pd.Series(wins["closed"].to_numpy(), index=wins["opportunity_id"].to_numpy(dtype=object))
    closed = booked.reindex(last["opportunity_id"].to_numpy(dtype=object)).to_numpy(dtype="datetime64[ns]")
    days = (closed - last["changed"].to_numpy(dtype="datetime64[ns]")).astype(np.int64) / _DAY_NS
    return pd.DataFrame({"stage": last["stage"].to_numpy(dtype=object), "days": np.maximum(days, 0.0)})


def _residuals(times: np.ndarray, elapsed: float) -> np.ndarray:
    """Remaining days to the booking of a deal ``elapsed`` days into its stage: ``T - elapsed`` over the won
    deals' times ``T > elapsed``, or over the ``MIN_TIMING`` longest, timed from the shortest of them, when fewer
    exceed it."""
    longer = times[times > elapsed]
    if len(longer) >= MIN_TIMING or len(longer) == len(times):
        return np.asarray(longer - elapsed) if len(longer) else np.zeros(1)
    top = np.sort(times)[-MIN_TIMING:]
    return np.asarray(top - top[0])


def _month_index(when: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Horizon month (0..H-1) of each instant, H for after the horizon (instants before it count in month 0)."""
    return np.clip(np.searchsorted(edges, when, side="right") - 1, 0, len(edges) - 1)


def _edges(months: pd.PeriodIndex) -> np.ndarray:
    """Start of each horizon month and the end of the last, as datetime64[ns]."""
    starts = [m.start_time for m in months] + [(months[-1] + 1).start_time]
    return np.array(starts, dtype="datetime64[ns]")


def _bootstrap_values(values: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(values, size=size) if len(values) else np.zeros(size)


def weighted_pipeline(data: BacktestData, *, draws: int = DRAWS,
                      seed: int | np.random.SeedSequence = 0) -> BaselineForecast:
    """The open pipeline times its stage win rates, plus average arrivals times their win rate, spread over the
    horizon by the typical time to close (see the module docstring).

    Examples
    --------
    The weighted pipeline of ``BacktestData`` from ``calibration.backtest.backtest_data``; its forecasts go to
    ``calibration.scores.score_forecasts`` with the data's actuals (benchmarks/backtest_baselines.py).
    """
    rng = np.random.default_rng(seed)
    model = data.model
    months = data.months
    n_months = len(months)
    edges = _edges(months)
    pipe = data.pipeline
    wins = _window_wins(model)
    if len(wins) == 0:
        raise CalibrationError(Problem(f"cutoff {data.cutoff.date()}", "no deal was won inside the observation "
                                       "window by this cutoff, so no win rate or time to close can be estimated",
                                       "choose a later cutoff"))
    rates, rate_draws, unestimated = _win_rates(model, draws, rng)
    amounts = wins["amount"].to_numpy(dtype=float)
    product_of = model.opportunities["product"].astype(object)
    win_product = product_of.reindex(wins["opportunity_id"].to_numpy(dtype=object)).to_numpy(dtype=object)
    known = np.isfinite(amounts) & (amounts > 0)
    all_values = amounts[known]
    by_product = {str(p): all_values[win_product[known] == p] for p in pd.unique(win_product[known])
                  if p is not None and not pd.isna(p)}
    stage_times = _stage_entries_of_wins(model, wins)
    times_of = {str(k): g.to_numpy(dtype=float) for k, g in stage_times.groupby("stage")["days"]}
    won_opps = model.opportunities.loc[wins["opportunity_id"].to_numpy(dtype=object)]
    to_close = ((wins["closed"].to_numpy(dtype="datetime64[ns]")
                 - won_opps["created"].to_numpy(dtype="datetime64[ns]")).astype(np.int64) / _DAY_NS)
    to_close = np.maximum(to_close, 0.0)
    hist = model.history
    date_only = bool((hist["changed"].dt.normalize() == hist["changed"]).all())
    at = (model.as_of if date_only else day_end(model.as_of)).to_datetime64()

    won_deals = np.zeros((n_months + 1, draws))
    won_value = np.zeros((n_months + 1, draws))
    point_deals = np.zeros(n_months + 1)
    point_value = np.zeros(n_months + 1)
    reps = np.arange(draws)
    cells = (n_months + 1) * draws
    timing: dict[tuple[str, float], np.ndarray] = {}
    for stage, elapsed, product, amount in zip(pipe["stage"].astype(str), pipe["days_in_stage"].to_numpy(float),
                                               pipe["product"].astype(str), pipe["amount"].to_numpy(float),
                                               strict=True):
        key = (stage, float(elapsed))
        if key not in timing:
            # No win passed through the stage by the cutoff: time the deal as a win from its creation.
            remaining = _residuals(times_of.get(stage, to_close), float(elapsed))
            when = at + (remaining * _DAY_NS).astype("timedelta64[ns]")
            timing[key] = np.bincount(_month_index(when, edges), minlength=n_months + 1) / len(remaining)
        month_probs = timing[key]
        pool = by_product.get(product, all_values)
        mean_value = amount if np.isfinite(amount) and amount > 0 else (float(pool.mean()) if len(pool) else 0.0)
        p = rates[stage]
        point_deals += p * month_probs
        point_value += p * mean_value * month_probs
        won = rng.random(draws) < rate_draws[stage]
        month = rng.choice(n_months + 1, size=draws, p=month_probs)
        value = (np.full(draws, amount) if np.isfinite(amount) and amount > 0
                 else _bootstrap_values(pool, draws, rng))
        flat = month[won] * draws + reps[won]
        won_deals += np.bincount(flat, minlength=cells).reshape(n_months + 1, draws)
        won_value += np.bincount(flat, weights=value[won], minlength=cells).reshape(n_months + 1, draws)

    # New deals: the arrival rate of the latest months, the win rate of the stage deals are created in.
    counts = monthly_counts(model)
    counts = counts[counts["exposure"] > 0].tail(HISTORY_MONTHS)
    arrived = float(counts["arrivals"].sum())
    exposure = float(counts["exposure"].sum())
    starts = run_ends(hist)[0]
    created_in = pd.Series(hist["stage"].to_numpy(dtype=object)[starts]).value_counts()
    entry_stage = str(created_in.index[0]) if len(created_in) else model.open_stages[0].name
    lam = arrived / exposure if exposure > 0 else 0.0
    lam_draws = rng.gamma(arrived + 0.5, 1.0 / exposure, size=draws) if exposure > 0 else np.zeros(draws)
    p_new = rates.get(entry_stage, 1.0)
    p_new_draws = rate_draws.get(entry_stage, np.ones(draws))
    mean_new_value = float(all_values.mean()) if len(all_values) else 0.0
    grid = (np.arange(200) + 0.5) / 200.0
    for j in range(n_months):
        start, length = edges[j], (edges[j + 1] - edges[j]).astype(np.int64)
        arrive = start + (grid * length).astype("timedelta64[ns]")
        when = (arrive[:, None] + (to_close[None, :] * _DAY_NS).astype("timedelta64[ns]")).ravel()
        month_probs = np.bincount(_month_index(when, edges), minlength=n_months + 1) / len(when)
        point_deals += lam * p_new * month_probs
        point_value += lam * p_new * mean_new_value * month_probs
        n_won = rng.binomial(rng.poisson(lam_draws), p_new_draws)
        total = int(n_won.sum())
        rep = np.repeat(reps, n_won)
        when = (start + (rng.random(total) * length).astype("timedelta64[ns]")
                + (rng.choice(to_close, size=total) * _DAY_NS).astype("timedelta64[ns]"))
        month = _month_index(when, edges)
        flat = month * draws + rep
        won_deals += np.bincount(flat, minlength=cells).reshape(n_months + 1, draws)
        won_value += np.bincount(flat, weights=_bootstrap_values(all_values, total, rng),
                                 minlength=cells).reshape(n_months + 1, draws)
    details: dict[str, float | int | str] = {
        "pipeline_deals": len(pipe), "pipeline_expected_wins": float(sum(rates[str(s)] for s in pipe["stage"])),
        "arrivals_per_month": lam, "arrival_months": len(counts), "entry_stage": entry_stage,
        "win_rate_new": p_new, "mean_won_value": mean_new_value, "wins_for_timing": len(wins),
        "median_days_to_close": float(np.median(to_close)),
        "unestimated_stages": ", ".join(unestimated)}
    forecasts = _quantile_rows(data.cutoff, months, "weighted_pipeline",
                               {"won_deals": point_deals[:n_months], "won_value": point_value[:n_months]},
                               {"won_deals": won_deals[:n_months], "won_value": won_value[:n_months]})
    return BaselineForecast("weighted_pipeline", data.cutoff, forecasts, details)


def _covered_months(model: CrmModel) -> pd.PeriodIndex:
    """Calendar months the observation window covers completely (up to the model's day)."""
    first = model.observed_from.to_period("M")
    if model.observed_from.normalize() != first.start_time:
        first = first + 1
    last = model.as_of.to_period("M")
    if model.as_of.normalize() != last.end_time.normalize():
        last = last - 1
    return pd.period_range(first, last, freq="M") if last >= first else pd.PeriodIndex([], freq="M")


def seasonal_naive(data: BacktestData, *, draws: int = DRAWS,
                   seed: int | np.random.SeedSequence = 0) -> BaselineForecast:
    """Each horizon month repeats the same month of the previous year, else of the previous quarter (see the
    module docstring).

    Raises
    ------
    CalibrationError
        The window by the cutoff covers neither the months a year nor a quarter before the horizon.
    """
    rng = np.random.default_rng(seed)
    model = data.model
    months = data.months
    covered = set(_covered_months(model))
    season = 0
    for s in (12, 3):
        lags = [m - s * ((h // s) + 1) for h, m in enumerate(months)]
        if all(lag in covered for lag in lags):
            season = s
            break
    if not season:
        raise CalibrationError(Problem(f"cutoff {data.cutoff.date()}", "the observation window by this cutoff "
                                       "covers neither the same months of the previous year nor of the previous "
                                       "quarter", "choose a later cutoff: the window must cover the three whole "
                                       "months before the horizon"))
    wins = _window_wins(model)
    month_of = pd.DatetimeIndex(wins["closed"]).to_period("M")
    amounts = wins["amount"].to_numpy(dtype=float)
    positive = np.isfinite(amounts) & (amounts > 0)
    n = len(months)
    point_deals, point_value = np.zeros(n), np.zeros(n)
    won_deals, won_value = np.zeros((n, draws)), np.zeros((n, draws))
    for i, lag in enumerate(lags):
        in_lag = (month_of == lag)
        y = int(in_lag.sum())
        point_deals[i] = y
        point_value[i] = float(np.nansum(amounts[in_lag]))
        count = rng.poisson(rng.gamma(y + 0.5, 1.0, size=draws))
        pool = amounts[in_lag & positive] if (in_lag & positive).any() else amounts[positive]
        total = int(count.sum())
        won_deals[i] = count
        won_value[i] = np.bincount(np.repeat(np.arange(draws), count),
                                   weights=_bootstrap_values(pool, total, rng), minlength=draws)
    details: dict[str, float | int | str] = {"season_months": season,
                                             "lag_months": ", ".join(str(m) for m in lags)}
    forecasts = _quantile_rows(data.cutoff, months, "seasonal_naive",
                               {"won_deals": point_deals, "won_value": point_value},
                               {"won_deals": won_deals, "won_value": won_value})
    return BaselineForecast("seasonal_naive", data.cutoff, forecasts, details)


def baseline_forecasts(cutoffs: Sequence[BacktestData], *, draws: int = DRAWS,
                       seed: int = 0) -> tuple[pd.DataFrame, list[BaselineForecast]]:
    """Both baselines at every cutoff, each from its own random stream of ``seed``.

    Returns
    -------
    (forecasts, runs)
        The forecasts of every cutoff and model stacked (``calibration.scores.FORECAST_COLUMNS``), and each run
        with its details.
    """
    streams = np.random.SeedSequence(seed).spawn(2 * len(cutoffs))
    runs = []
    for i, data in enumerate(cutoffs):
        runs.append(weighted_pipeline(data, draws=draws, seed=streams[2 * i]))
        runs.append(seasonal_naive(data, draws=draws, seed=streams[2 * i + 1]))
    return pd.concat([r.forecasts for r in runs], ignore_index=True), runs
