"""Intervals of levels respect the quantity's support: a t interval that would reach below zero (or above one for
a share) becomes a seeded percentile bootstrap; one that fits is left exactly as it was; paired differences keep
their t intervals and may be negative."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import scenarios
import sim
from quotaflow.comparison import compare
from quotaflow.metrics import COMPARISON_METRICS


def test_a_fitting_t_interval_is_kept_exactly_and_a_crossing_one_is_bootstrapped() -> None:
    x = np.array([[0.0, 10.0], [0.0, 11.0], [0.0, 12.0], [1.0, 11.0]])
    mean, lo, hi = sim.mean_ci(x, lower=0.0)
    _, t_lo, t_hi = sim.mean_ci(x)
    assert t_lo[0] < 0.0 and lo[0] >= 0.0 and hi[0] <= 1.0  # the t interval of column 0 claimed a negative mean
    assert (lo[1], hi[1]) == (t_lo[1], t_hi[1])  # column 1's t interval fits: unchanged
    half = stats.t.ppf(0.975, 3) * x[:, 1].std(ddof=1) / 2.0
    assert hi[1] - mean[1] == pytest.approx(half)
    again = sim.mean_ci(x, lower=0.0)
    assert np.array_equal(again[1], lo) and np.array_equal(again[2], hi)  # seeded: the same every time


def test_shares_stay_at_or_below_one() -> None:
    mean, lo, hi = sim.mean_ci(np.array([1.0, 1.0, 1.0, 0.5]), lower=0.0, upper=1.0)
    assert 0.5 <= float(lo) <= float(mean) <= float(hi) <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=2, max_size=12))
def test_a_nonnegative_quantity_never_gets_a_negative_bound(values: list[float]) -> None:
    x = np.array(values)
    mean, lo, hi = sim.mean_ci(x, lower=0.0)
    assert float(lo) >= 0.0 or np.isclose(float(lo), 0.0, atol=1e-9 * max(1.0, float(x.max())))
    assert float(lo) <= float(mean) + 1e-9 * max(1.0, abs(float(mean))) and float(hi) >= float(lo)


def test_comparison_levels_respect_support_and_differences_keep_t() -> None:
    res = compare(scenarios.load("tiny"), ["flat_commission", "tiered_accelerator"], replications=4, seed=3)
    c = res.comparison
    for metric in COMPARISON_METRICS:
        rows = c[c["metric"] == metric.name]
        if metric.lower is not None:
            assert (rows["ci_low"].dropna() >= metric.lower - 1e-9).all(), metric.name
        if metric.upper is not None:
            assert (rows["ci_high"].dropna() <= metric.upper + 1e-9).all(), metric.name
    # the paired difference of compensation cost is still the paired t interval (it may be negative)
    r = res.replications
    d = (r[r["plan"] == "tiered_accelerator"]["compensation_cost"].to_numpy()
         - r[r["plan"] == "flat_commission"]["compensation_cost"].to_numpy())
    _, lo, hi, _ = res.delta("compensation_cost", "tiered_accelerator")
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    assert (lo, hi) == pytest.approx((d.mean() - half, d.mean() + half))
    assert (res.monthly["bookings_ci_low"] >= 0.0).all()


def test_simulation_summary_intervals_respect_support() -> None:
    res = sim.simulate(sim.build(scenarios.load("tiny")), replications=3, seed=5)
    assert (res.kpis["ci_low"].dropna() >= 0.0).all()
    share = res.kpis.set_index("metric").loc["share_reps_at_quota"]
    assert share["ci_high"] <= 1.0
    assert (res.monthly["bookings_ci_low"] >= 0.0).all()
    for column in ("bookings_ci_low", "pay_ci_low", "attainment_ci_low"):
        assert (res.reps[column].dropna() >= 0.0).all()
