"""``as_of`` rebuilds the pipeline of an earlier day from history rows only: it equals the export a CRM would
have written that day, and nothing dated later leaks into it (what a back-test needs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import synthetic_export as se
from hypothesis import given, settings
from hypothesis import strategies as st

import calibration
from calibration.model import day_end

TRUTH = se.Truth(months=8, arrivals_per_month=60.0)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[calibration.CrmModel, pd.DataFrame, pd.DataFrame]:
    deals, history = se.simulate_deals(TRUTH, 21)
    folder = tmp_path_factory.mktemp("full")
    opp, hist = se.export_as_of(deals, history, TRUTH.end)
    opp.to_csv(folder / "Opportunity.csv", index=False)
    hist.to_csv(folder / "OpportunityHistory.csv", index=False)
    mapping = se.mapping().model_copy(update={"observed_from": TRUTH.start})
    return calibration.build_model(folder, mapping)[0], deals, history


def test_snapshot_equals_the_export_of_that_day(full: tuple[calibration.CrmModel, pd.DataFrame, pd.DataFrame],
                                                tmp_path: Path) -> None:
    model, deals, history = full
    day = pd.Timestamp("2022-05-15")
    opp, hist = se.export_as_of(deals, history, day)
    opp.to_csv(tmp_path / "Opportunity.csv", index=False)
    hist.to_csv(tmp_path / "OpportunityHistory.csv", index=False)
    mapping = se.mapping().model_copy(update={"observed_from": TRUTH.start})
    then, report, _ = calibration.build_model(tmp_path, mapping, as_of_date=day.date())
    snap = calibration.as_of(model, day.date())
    stale = sum(int(e["rows"]) for e in report.entries if e["reason"] == "stale_open")  # type: ignore[call-overload]
    common = snap.opportunities.index.intersection(then.opportunities.index)
    assert len(snap.opportunities) - len(common) <= stale and len(then.opportunities) == len(common)
    a, b = snap.opportunities.loc[common], then.opportunities.loc[common]
    assert (a["stage"] == b["stage"]).all() and (a["kind"] == b["kind"]).all()
    assert ((a["closed"] == b["closed"]) | (a["closed"].isna() & b["closed"].isna())).all()
    closed = a["kind"] != "open"
    assert np.allclose(a.loc[closed, "amount"], b.loc[closed, "amount"])
    assert a.loc[~closed, "amount"].isna().all()  # an open deal's amount that day is not known from the history
    assert snap.as_of == day


@settings(max_examples=25, deadline=None)
@given(offset=st.integers(min_value=0, max_value=240))
def test_nothing_after_the_day_leaks_in(full: tuple[calibration.CrmModel, pd.DataFrame, pd.DataFrame],
                                        offset: int) -> None:
    model = full[0]
    day = dt.date(2022, 1, 1) + dt.timedelta(days=offset)
    snap = calibration.as_of(model, day)
    end = day_end(day)
    opps = snap.opportunities
    assert (snap.history["changed"] < end).all()
    assert (opps["created"] < end).all()
    assert (opps["closed"].dropna() < end).all()
    # A deal closed by that day closed then for good, with the same date and amount as in the full export.
    closed = opps[opps["kind"] != "open"]
    later = model.opportunities.loc[closed.index]
    assert (closed["closed"] == later["closed"]).all() and np.allclose(closed["amount"], later["amount"])
    # Every deal still open that day is open, or closed after it, in the full export.
    still = model.opportunities.loc[opps.index[opps["kind"] == "open"]]
    assert ((still["kind"] == "open") | (still["closed"] >= end)).all()
    # Spells, the input of every estimate, stop that day as well.
    spells = calibration.stage_spells(snap)
    assert (spells["end"] <= end).all()


def test_as_of_refuses_a_later_day(full: tuple[calibration.CrmModel, pd.DataFrame, pd.DataFrame]) -> None:
    with pytest.raises(ValueError, match="after the model's own day"):
        calibration.as_of(full[0], dt.date(2030, 1, 1))
