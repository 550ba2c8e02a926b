"""Back-test data: the pipeline of a cutoff is rebuilt from what was known that day (future rows carry poison values
that must never appear), it equals the pipeline of the export a CRM would have written that day, and the actuals
are the wins booked in the horizon months."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import synthetic_export as se

import calibration
from calibration.backtest import backtest_data, open_pipeline
from calibration.model import day_end

TRUTH = se.Truth(months=10, arrivals_per_month=80.0)
POISON_ROW = 888_888.0  # the opportunity row's amount of a deal still open on the export day
POISON_HISTORY = 777_777.0  # every history amount dated after the cutoff
CUTOFFS = [dt.date(2022, 4, 30), dt.date(2022, 6, 30)]


def _then_amount(final: pd.Series) -> pd.Series:
    """The amount a deal carried before the export day: its final amount less a tenth (so a leak of the final
    amount is told apart from it)."""
    return (final * 0.9).round(2)


def _poisoned_export(folder: Path, deals: pd.DataFrame, history: pd.DataFrame, cutoff: dt.date) -> Path:
    """The export on the last day, with an amount column in the history: the then-amount up to the cutoff and
    poison after it; the opportunity rows carry today's amounts (poison for deals open today)."""
    opp, hist = se.export_as_of(deals, history, TRUTH.end)
    final = deals.set_index("Id")["Amount"]
    opp = opp.copy()
    opp["Amount"] = np.where(opp["IsClosed"] == "true", opp["Id"].map(final), POISON_ROW)
    when = pd.to_datetime(hist["CreatedDate"], utc=True).dt.tz_localize(None)
    hist = hist.assign(Amount=np.where(when < day_end(cutoff), hist["OpportunityId"].map(_then_amount(final)),
                                       POISON_HISTORY))
    folder.mkdir(parents=True, exist_ok=True)
    opp.to_csv(folder / "Opportunity.csv", index=False)
    hist.to_csv(folder / "OpportunityHistory.csv", index=False)
    return folder


def _truth_at(deals: pd.DataFrame, history: pd.DataFrame, cutoff: dt.date) -> pd.DataFrame:
    """Each deal open at the end of ``cutoff``, its stage and days in it, straight from the simulated history."""
    end = day_end(cutoff)
    seen = history[history["CreatedDate"] < end]
    last = seen.groupby("OpportunityId").tail(1).set_index("OpportunityId")
    open_ = last[~last["StageName"].isin(["Closed Won", "Closed Lost"])]
    return pd.DataFrame({"stage": open_["StageName"],
                         "days_in_stage": (end - open_["CreatedDate"]) / pd.Timedelta(days=1)})


@pytest.fixture(scope="module")
def drawn() -> tuple[pd.DataFrame, pd.DataFrame]:
    return se.simulate_deals(TRUTH, 3)


@pytest.mark.parametrize("cutoff", CUTOFFS)
def test_no_future_value_reaches_the_pipeline(drawn: tuple[pd.DataFrame, pd.DataFrame], cutoff: dt.date,
                                              tmp_path: Path) -> None:
    deals, history = drawn
    folder = _poisoned_export(tmp_path / "export", deals, history, cutoff)
    data = backtest_data(folder, se.mapping(), cutoff, 3)
    pipe = data.pipeline.set_index("opportunity_id")
    truth = _truth_at(deals, history, cutoff)
    stale = int(data.cleaning.loc[data.cleaning["reason"] == "stale_open", "rows"].sum())
    # Every deal open that day is in the pipeline, except those the cleaning judged stale with that day's data.
    assert set(pipe.index) <= set(truth.index) and len(truth) - len(pipe) == stale
    assert len(pipe) > 50
    t = truth.loc[pipe.index]
    assert (pipe["stage"] == t["stage"]).all()
    assert np.allclose(pipe["days_in_stage"], t["days_in_stage"], rtol=0, atol=1e-4)  # export keeps milliseconds
    # The amount is the one the history carried then: neither today's amount nor any poison.
    then = _then_amount(deals.set_index("Id")["Amount"])
    assert np.allclose(pipe["amount"], then.loc[pipe.index])
    opps = data.model.opportunities
    assert not opps["amount"].isin([POISON_ROW, POISON_HISTORY]).any()
    assert not data.model.history["amount"].isin([POISON_HISTORY]).any()
    # Nothing dated after the cutoff: no later deal, change or close date, and deals open that day have none.
    end = day_end(cutoff)
    assert (opps["created"] < end).all() and (data.model.history["changed"] < end).all()
    assert (opps["closed"].dropna() < end).all() and opps.loc[opps["kind"] == "open", "closed"].isna().all()
    assert data.model.as_of == pd.Timestamp(cutoff)


@pytest.mark.parametrize("cutoff", CUTOFFS)
def test_pipeline_equals_the_export_written_that_day(drawn: tuple[pd.DataFrame, pd.DataFrame], cutoff: dt.date,
                                                     tmp_path: Path) -> None:
    deals, history = drawn
    today = se.write_export(tmp_path / "today", TRUTH, 3)
    opp, hist = se.export_as_of(deals, history, pd.Timestamp(cutoff))
    then_folder = tmp_path / "then"
    then_folder.mkdir()
    opp.to_csv(then_folder / "Opportunity.csv", index=False)
    hist.to_csv(then_folder / "OpportunityHistory.csv", index=False)
    rebuilt = backtest_data(today, se.mapping(), cutoff, 3).pipeline.set_index("opportunity_id")
    written = open_pipeline(calibration.build_model(then_folder, se.mapping())[0]).set_index("opportunity_id")
    assert sorted(rebuilt.index) == sorted(written.index)
    written = written.loc[rebuilt.index]
    assert (rebuilt["stage"] == written["stage"]).all() and (rebuilt["owner"] == written["owner"]).all()
    assert np.allclose(rebuilt["days_in_stage"], written["days_in_stage"])
    assert np.allclose(rebuilt["age_days"], written["age_days"])


def test_actuals_are_the_wins_booked_in_each_horizon_month(drawn: tuple[pd.DataFrame, pd.DataFrame],
                                                           tmp_path: Path) -> None:
    deals, _ = drawn
    folder = se.write_export(tmp_path / "e", TRUTH, 3)
    data = backtest_data(folder, se.mapping(), dt.date(2022, 6, 30), 3)
    won = deals[deals["outcome"] == "Closed Won"]
    # The export books a win on its CloseDate (a day): the month of the close day.
    month = won["close"].dt.normalize().dt.to_period("M")
    expected = won.groupby(month)["Amount"].agg(["size", "sum"])
    got = data.actuals.set_index("month")
    assert [str(m) for m in got.index] == ["2022-07", "2022-08", "2022-09"]
    assert got["won_deals"].tolist() == expected.loc[got.index, "size"].tolist()
    assert np.allclose(got["won_value"], expected.loc[got.index, "sum"])


def test_cutoffs_that_cannot_be_scored_are_refused(tmp_path: Path) -> None:
    folder = se.write_export(tmp_path / "e", TRUTH, 3)
    with pytest.raises(calibration.CalibrationError, match="not the last day of a month"):
        backtest_data(folder, se.mapping(), dt.date(2022, 6, 15), 3)
    with pytest.raises(calibration.CalibrationError, match=r"after the export's last day 2022-10-31.*on or before "
                                                           r"2022-07-31"):
        backtest_data(folder, se.mapping(), dt.date(2022, 8, 31), 3)
    with pytest.raises(calibration.CalibrationError, match="before the export's first deal"):
        backtest_data(folder, se.mapping(), dt.date(2021, 12, 31), 3)


def test_maven_cutoffs(shared_benchmarks: Path) -> None:
    folder = shared_benchmarks / "crm" / "maven"
    mapping = calibration.load_mapping(preset="maven")
    raw = pd.read_csv(folder / "sales_pipeline.csv", parse_dates=["engage_date", "close_date"])
    full = calibration.build_model(folder, mapping)[0]
    for cutoff in (dt.date(2017, 6, 30), dt.date(2017, 9, 30)):
        data = backtest_data(folder, mapping, cutoff, 3, full=full)
        day = pd.Timestamp(cutoff)
        # Open that day: engaged by then and not closed by then (whatever the row says today).
        open_then = raw[(raw["engage_date"] <= day) & ~(raw["close_date"] <= day)]
        stale = int(data.cleaning.loc[data.cleaning["reason"] == "stale_open", "rows"].sum())
        assert set(data.pipeline["opportunity_id"]) <= set(open_then["opportunity_id"])
        assert len(data.pipeline) == len(open_then) - stale and stale > 0
        assert (data.pipeline["stage"] == "Engaging").all() and data.pipeline["amount"].isna().all()
        won = raw[raw["deal_stage"] == "Won"]
        months = [day.to_period("M") + k for k in (1, 2, 3)]
        expected = [int((won["close_date"].dt.to_period("M") == m).sum()) for m in months]
        assert data.actuals["won_deals"].tolist() == expected
        assert data.actuals["won_value"].tolist() == [float(won.loc[won["close_date"].dt.to_period("M") == m,
                                                                     "close_value"].sum()) for m in months]
