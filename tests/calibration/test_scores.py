"""Back-test scores against hand-computed values: pinball loss, coverage of the 80 % interval, absolute percentage
error of the median, and the shapes of backtest.csv and backtest_summary.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration.scores import DETAIL_COLUMNS, SUMMARY_COLUMNS, pinball_loss, score_forecasts


def test_pinball_loss_by_hand() -> None:
    # Under-forecast by 2: the 0.9 quantile pays 0.9 x 2, the 0.1 quantile 0.1 x 2; over-forecast the other way.
    assert pinball_loss(10.0, 8.0, 0.9) == pytest.approx(1.8)
    assert pinball_loss(10.0, 8.0, 0.1) == pytest.approx(0.2)
    assert pinball_loss(10.0, 12.0, 0.1) == pytest.approx(1.8)
    assert pinball_loss(10.0, 12.0, 0.9) == pytest.approx(0.2)
    assert pinball_loss(10.0, 13.0, 0.5) == pytest.approx(1.5)
    assert pinball_loss(np.array([1.0, 5.0]), np.array([1.0, 5.0]), 0.5).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="strictly between"):
        pinball_loss(1.0, 1.0, 1.0)


@settings(max_examples=60, deadline=None)
@given(sample=st.lists(st.integers(min_value=0, max_value=500), min_size=5, max_size=60),
       q=st.sampled_from([0.1, 0.5, 0.9]))
def test_the_sample_quantile_minimises_the_mean_pinball_loss(sample: list[int], q: float) -> None:
    y = np.asarray(sample, dtype=float)
    best = float(np.quantile(y, q, method="inverted_cdf"))
    loss = float(pinball_loss(y, best, q).mean())
    for other in np.unique(y):
        assert loss <= float(pinball_loss(y, other, q).mean()) + 1e-9


def _forecasts() -> tuple[pd.DataFrame, pd.DataFrame]:
    f = pd.DataFrame({
        "cutoff": ["2017-06-30"] * 4, "month": ["2017-07", "2017-08"] * 2, "metric": ["won_deals"] * 4,
        "model": ["a", "a", "b", "b"], "point": [10.0, 10.0, 5.0, 5.0],
        "p10": [8.0, 8.0, 4.0, 0.0], "p50": [10.0, 10.0, 5.0, 0.0], "p90": [12.0, 12.0, 6.0, 0.0]})
    a = pd.DataFrame({"cutoff": ["2017-06-30"] * 2, "month": ["2017-07", "2017-08"], "metric": ["won_deals"] * 2,
                      "actual": [12.0, 0.0]})
    return f, a


def test_scores_by_hand() -> None:
    detail, summary = score_forecasts(*_forecasts())
    assert list(detail.columns) == DETAIL_COLUMNS and list(summary.columns) == SUMMARY_COLUMNS
    d = detail.set_index(["model", "month"])
    # Model a, July: actual 12 on p90 = 12 is inside (the interval is closed); August: 0 is below p10 = 8.
    assert d.loc[("a", "2017-07"), "covered_80"] and not d.loc[("a", "2017-08"), "covered_80"]
    assert d.loc[("a", "2017-07"), ["pinball_10", "pinball_50", "pinball_90"]].tolist() == pytest.approx(
        [0.1 * 4, 0.5 * 2, 0.0])
    assert d.loc[("a", "2017-08"), ["pinball_10", "pinball_50", "pinball_90"]].tolist() == pytest.approx(
        [0.9 * 8, 0.5 * 10, 0.1 * 12])
    assert d.loc[("a", "2017-07"), "ape_median"] == pytest.approx(2 / 12)
    assert np.isnan(d.loc[("a", "2017-08"), "ape_median"])  # undefined at a zero actual
    s = summary.set_index("model")
    assert s.loc["a", "coverage_80"] == 0.5 and s.loc["b", "coverage_80"] == 0.5
    assert s.loc["a", "pinball_50"] == pytest.approx((1.0 + 5.0) / 2)
    assert s.loc["a", "pinball_mean"] == pytest.approx(np.mean([(0.4 + 7.2) / 2, 3.0, (0.0 + 1.2) / 2]))
    assert s.loc["a", "ape_median"] == pytest.approx(2 / 12) and s.loc["a", "ape_forecasts"] == 1
    # Model b, July: 12 above p90 = 6 (miss), pinball at 0.5 is 0.5 x 7; August: 0 on a point mass at 0 (hit).
    assert s.loc["b", "pinball_50"] == pytest.approx((3.5 + 0.0) / 2)
    assert s.loc["b", "ape_median"] == pytest.approx(7 / 12)


def test_bad_forecasts_are_refused() -> None:
    f, a = _forecasts()
    with pytest.raises(ValueError, match="p10 <= p50 <= p90"):
        score_forecasts(f.assign(p10=20.0), a)
    with pytest.raises(ValueError, match="no actual for cutoff 2017-06-30, month 2017-08"):
        score_forecasts(f, a.iloc[:1])
    with pytest.raises(ValueError, match="more than one row"):
        score_forecasts(pd.concat([f, f.iloc[:1]]), a)
    with pytest.raises(ValueError, match=r"columns missing.*p90"):
        score_forecasts(f.drop(columns="p90"), a)
