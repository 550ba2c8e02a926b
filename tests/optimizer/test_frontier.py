"""How frontier levels become reported points: duplicates merged with their count, dominated levels counted with
the point that beats them, levels without a plan kept one per row, on both senses of the x term."""

from __future__ import annotations

import math

import pytest

import scenarios
from optimizer import frontier
from optimizer.frontier import _merge, _Point


def _p(x: float, y: float, status: str = "optimal", gap: float = 0.0) -> _Point:
    return _Point(x, y, status, gap)


def test_levels_giving_one_point_are_one_row_with_their_count_and_range() -> None:
    levels = [(10.0, _p(10.0, 5.0)), (11.0, _p(10.5, 4.0)), (12.0, _p(10.5, 4.0 + 1e-9)), (13.0, _p(10.5, 4.0)),
              (14.0, _p(14.0, 1.0))]
    f = _merge(levels, "travel", "disruption")
    assert f[["x", "y", "levels", "epsilon", "epsilon_loosest"]].values.tolist() == [
        [10.0, 5.0, 1, 10.0, 10.0], [10.5, 4.0, 3, 11.0, 13.0], [14.0, 1.0, 1, 14.0, 14.0]]


def test_a_dominated_level_is_counted_with_the_point_that_beats_it() -> None:
    # The level at 12 stopped at its time limit with a plan that the level at 11 beats on both terms.
    levels = [(11.0, _p(10.5, 4.0)), (12.0, _p(11.5, 4.2, "feasible", 0.3)), (14.0, _p(14.0, 1.0))]
    f = _merge(levels, "travel", "disruption")
    assert f[["x", "y", "levels", "epsilon_loosest", "status"]].values.tolist() == [
        [10.5, 4.0, 2, 12.0, "optimal"], [14.0, 1.0, 1, 14.0, "optimal"]]


def test_merged_status_and_gap_are_the_worst_of_the_levels_that_found_the_point() -> None:
    levels = [(11.0, _p(10.5, 4.0)), (12.0, _p(10.5, 4.0, "feasible", 0.02)), (13.0, _p(10.5, 4.0, "feasible",
                                                                                      math.nan))]
    f = _merge(levels, "travel", "disruption")
    assert len(f) == 1
    assert f.loc[0, "status"] == "feasible" and math.isnan(f.loc[0, "gap"])


def test_levels_without_a_plan_stay_one_row_each_in_level_order() -> None:
    levels = [(0.30, _p(0.25, 100.0)), (0.20, _p(0.18, 90.0)), (0.10, _p(math.nan, math.nan, "infeasible",
                                                                         math.nan)),
              (0.05, _p(math.nan, math.nan, "infeasible", math.nan))]
    f = _merge(levels, "balance", "value")
    assert f["status"].tolist() == ["optimal", "optimal", "infeasible", "infeasible"]
    assert f["epsilon"].tolist() == [0.30, 0.20, 0.10, 0.05]
    assert f["levels"].sum() == 4


def test_a_maximised_x_term_uses_its_own_sense() -> None:
    # x = value (maximised): more value at no more travel dominates.
    levels = [(100.0, _p(120.0, 50.0)), (110.0, _p(115.0, 50.0, "feasible", 0.1)), (130.0, _p(130.0, 70.0)),
              (125.0, _p(130.0, 70.0))]
    f = _merge(levels, "value", "travel")
    assert f[["x", "y", "levels", "epsilon", "epsilon_loosest"]].values.tolist() == [
        [120.0, 50.0, 2, 110.0, 100.0], [130.0, 70.0, 2, 130.0, 125.0]]


@pytest.mark.parametrize("points", [2, 5])
def test_every_level_is_accounted_for(tiny: scenarios.Scenario, points: int) -> None:
    f = frontier(tiny, "travel", "disruption", points=points)
    assert f.points["levels"].sum() == points
    ok = f.points[f.points["status"] == "optimal"]
    assert ok["x"].is_monotonic_increasing and ok["y"].is_monotonic_decreasing
    assert not ok.duplicated(["x", "y"]).any()
