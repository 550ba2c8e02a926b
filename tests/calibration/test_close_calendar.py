"""The calendar of closes (``calibration.estimate_close_calendar``): month-of-quarter shares by outcome and deal
length, the split between short and long deals at the valley of the cycle times, and its reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calibration
from calibration.timing import DEFAULT_SPLIT_DAYS, _reading, _split


def test_the_split_is_the_valley_between_two_modes_else_a_month() -> None:
    rng = np.random.default_rng(0)
    bimodal = np.concatenate([rng.gamma(4.0, 2.5, 3000), rng.normal(90.0, 20.0, 2000).clip(45.0)])
    split, rule = _split(bimodal)
    assert rule == "valley" and 25.0 < split < 50.0
    split, rule = _split(rng.gamma(4.0, 10.0, 3000))  # one mode: no valley
    assert (split, rule) == (DEFAULT_SPLIT_DAYS, "default")
    assert _split(np.array([1.0, 2.0])) == (DEFAULT_SPLIT_DAYS, "default")


def test_the_maven_export_closes_no_long_deal_in_a_quarters_first_month_won_or_lost(shared_benchmarks: Path) -> None:
    res = calibration.calibrate(shared_benchmarks / "crm" / "maven", calibration.load_mapping(preset="maven"))
    cal = res.timing.calendar
    assert cal is not None and cal.split_rule == "valley" and cal.split_days == 33.0
    t = cal.table.set_index(["outcome", "length"])
    # the wins of every length are the month-of-quarter profile itself
    won = res.timing.month_of_quarter.set_index("position")
    assert t.loc[("won", "all"), "closes"] == won["wins"].sum()
    assert t.loc[("won", "all"), "month_2"] == pytest.approx(won.loc[2, "share"])
    assert t.loc[("won", "long"), "closes"] + t.loc[("won", "short"), "closes"] == t.loc[("won", "all"), "closes"]
    for outcome in ("won", "lost"):
        assert t.loc[(outcome, "long"), "closes"] > 1000
        assert t.loc[(outcome, "long"), "month_1"] == 0.0
        assert t.loc[(outcome, "short"), "month_1"] > 0.5
    assert "losses follow the same calendar as wins" in cal.reading
    # written to the tables, calibration.json and the report
    assert "estimates/timing_calendar" in res.tables()
    assert res.summary()["timing"]["calendar"]["split_days"] == 33.0
    assert "Reading: deals open longer than 33 days" in res.report()


def test_a_calendar_only_the_wins_keep_is_read_as_the_reps_timing() -> None:
    rows = []
    for outcome, long_first in (("won", 0.0), ("lost", 0.3)):
        for length in ("all", "short", "long"):
            first = long_first if length == "long" else 0.3
            rows.append({"outcome": outcome, "length": length, "closes": 500, "month_1": first,
                         "month_2": (1 - first) / 2, "month_3": (1 - first) / 2,
                         "low_1": max(first - 0.03, 0.0), "high_1": first + 0.03 if first else 0.0})
    text = _reading(pd.DataFrame(rows), 30.0)
    assert "only the wins avoid the first month" in text
