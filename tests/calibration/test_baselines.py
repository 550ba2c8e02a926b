"""The naive baselines of the back-test on synthetic exports with known truth: the seasonal naive repeats the right
months and its quantiles are the negative binomial the module promises; the weighted pipeline's point forecast is
near the truth's steady state and its median near its point; neither reads anything dated after the cutoff."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import synthetic_export as se
from scipy import stats

import calibration
from calibration.backtest import BacktestData, backtest_data
from calibration.baselines import seasonal_naive, weighted_pipeline

TRUTH = se.Truth(months=15, arrivals_per_month=150.0)
CUTOFF = dt.date(2022, 9, 30)


@pytest.fixture(scope="module")
def drawn() -> tuple[pd.DataFrame, pd.DataFrame]:
    return se.simulate_deals(TRUTH, 11)


@pytest.fixture(scope="module")
def export(drawn: tuple[pd.DataFrame, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    opp, hist = se.export_as_of(*drawn, TRUTH.end)
    opp.to_csv(folder / "Opportunity.csv", index=False)
    hist.to_csv(folder / "OpportunityHistory.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def data(export: Path) -> BacktestData:
    return backtest_data(export, se.mapping(), CUTOFF, 3)


def test_seasonal_naive_repeats_the_previous_quarter(data: BacktestData,
                                                     drawn: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    # The window starts in January 2022, so October-December 2021 are not covered: the season is the quarter.
    run = seasonal_naive(data, draws=20_000, seed=1)
    assert run.details["season_months"] == 3 and run.details["lag_months"] == "2022-07, 2022-08, 2022-09"
    deals = drawn[0]
    won = deals[deals["outcome"] == "Closed Won"]
    by_month = won.groupby(won["close"].dt.normalize().dt.to_period("M"))["Amount"].agg(["size", "sum"])
    f = run.forecasts.set_index(["metric", "month"])
    for lag, month in zip(["2022-07", "2022-08", "2022-09"], ["2022-10", "2022-11", "2022-12"], strict=True):
        y = int(by_month.loc[pd.Period(lag, "M"), "size"])
        assert f.loc[("won_deals", month), "point"] == y
        assert f.loc[("won_value", month), "point"] == pytest.approx(by_month.loc[pd.Period(lag, "M"), "sum"])
        # Gamma(y + 1/2, 1)-Poisson is a negative binomial with y + 1/2 successes at probability 1/2.
        exact = stats.nbinom.ppf([0.1, 0.5, 0.9], y + 0.5, 0.5)
        assert np.abs(f.loc[("won_deals", month), ["p10", "p50", "p90"]].to_numpy(float) - exact).max() <= 1.0


def test_seasonal_naive_takes_the_year_when_the_window_covers_it(export: Path) -> None:
    run = seasonal_naive(backtest_data(export, se.mapping(), dt.date(2022, 12, 31), 3), draws=500)
    assert run.details["season_months"] == 12 and run.details["lag_months"] == "2022-01, 2022-02, 2022-03"


def test_seasonal_naive_refuses_a_cutoff_without_a_previous_quarter(export: Path) -> None:
    early = backtest_data(export, se.mapping(), dt.date(2022, 2, 28), 3)
    with pytest.raises(calibration.CalibrationError, match="neither the same months of the previous year"):
        seasonal_naive(early, draws=100)


def test_weighted_pipeline_is_near_the_steady_state(data: BacktestData) -> None:
    run = weighted_pipeline(data, draws=4000, seed=2)
    f = run.forecasts.set_index(["metric", "month"])
    deals = f.loc["won_deals"]
    # Steady state of the truth: 150 arrivals a month, each winning with the product of the stage conversions.
    steady = TRUTH.arrivals_per_month * float(np.prod(TRUTH.conversion))
    assert 0.8 * 3 * steady < deals["point"].sum() < 1.25 * 3 * steady, deals
    # The median of the draws sits on the point forecast (the expectation), within Monte-Carlo and skew error.
    assert (np.abs(deals["p50"] - deals["point"]) <= 0.05 * deals["point"] + 1.0).all(), deals
    assert (deals["p10"] < deals["p50"]).all() and (deals["p50"] < deals["p90"]).all()
    value = f.loc["won_value"]
    mean_value = float(np.dot(TRUTH.product_mix, [m for m, _ in TRUTH.products.values()]))
    assert 0.8 * mean_value < value["point"].sum() / deals["point"].sum() < 1.25 * mean_value
    assert run.details["pipeline_deals"] == len(data.pipeline) > 0
    assert run.details["entry_stage"] == "Prospecting"


def test_baselines_read_nothing_after_the_cutoff(drawn: tuple[pd.DataFrame, pd.DataFrame], data: BacktestData,
                                                 tmp_path: Path) -> None:
    # Another future: every deal open at the cutoff is lost the next day at a poison amount, and no deal arrives
    # after it. With the same seed, both baselines must forecast exactly what they forecast from the real future.
    deals, history = drawn
    end = pd.Timestamp(CUTOFF) + pd.Timedelta(days=1)
    deals = deals[deals["CreatedDate"] < end].copy()
    history = history[history["CreatedDate"] < end]
    last = history.groupby("OpportunityId").tail(1)
    still_open = last.loc[~last["StageName"].isin(["Closed Won", "Closed Lost"]), "OpportunityId"]
    lost = pd.DataFrame({"OpportunityId": still_open, "CreatedDate": end + pd.Timedelta(hours=10),
                         "StageName": "Closed Lost"})
    history = pd.concat([history, lost]).sort_values(["OpportunityId", "CreatedDate"], kind="stable")
    changed = deals["Id"].isin(still_open)
    deals.loc[changed, "outcome"] = "Closed Lost"
    deals.loc[changed, "close"] = end + pd.Timedelta(hours=10)
    deals.loc[changed, "Amount"] = 999_999.0
    opp, hist = se.export_as_of(deals, history, TRUTH.end)
    opp.to_csv(tmp_path / "Opportunity.csv", index=False)
    hist.to_csv(tmp_path / "OpportunityHistory.csv", index=False)
    # The export's own day is its last day (its latest date is the day after the cutoff).
    full = calibration.build_model(tmp_path, se.mapping(), as_of_date=TRUTH.end.date())[0]
    other = backtest_data(tmp_path, se.mapping(), CUTOFF, 3, full=full)
    assert other.actuals["won_deals"].sum() == 0 < data.actuals["won_deals"].sum()
    for fn in (weighted_pipeline, seasonal_naive):
        a = fn(data, draws=1000, seed=5).forecasts
        b = fn(other, draws=1000, seed=5).forecasts
        pd.testing.assert_frame_equal(a, b)
