"""Hypothesis properties of quota setting: exact sums per period and product, no negatives, tier bounds hold,
and an infeasible answer only when the bounds truly cannot carry the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios
from optimizer.quotas import QuotaError, set_quotas

BASE = scenarios.generate(reps=8, accounts=80, seed=11, regions=2, products=4)
ASSIGNMENT = scenarios.Plan.current(BASE).assignment
SAMPLES = np.random.default_rng(3).gamma(3.0, 1.0, size=(len(BASE.reps), 64))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    annual=st.floats(1e5, 3e7),
    over=st.floats(1.0, 1.5),
    method=st.sampled_from(["even", "potential", "expected_sales", "fair", "equal_probability"]),
    season=st.lists(st.floats(0.2, 2.0), min_size=12, max_size=12),
    min_scale=st.floats(0.0, 1.0),
    by_region=st.booleans(),
    unit=st.sampled_from([1.0, 10.0, 1000.0]),
    sample_scale=st.floats(1e4, 1e6),
    hires=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 400)), max_size=4),
)
def test_quotas_sum_exactly_and_respect_bounds(annual: float, over: float, method: str, season: list[float],
                                               min_scale: float, by_region: bool, unit: float,
                                               sample_scale: float, hires: list[tuple[int, int]]) -> None:
    changes: dict[str, object] = {
        "targets.annual": annual, "targets.over_assignment": over, "calendar.seasonality": season,
        "quotas.unit": unit,
    }
    for tier in BASE.settings.tiers:
        changes[f"tiers.{tier}.min_quota"] = 300_000.0 * min_scale
    if not by_region:
        changes["targets.by_region"] = {}
    s = scenarios.modify(BASE, changes)
    if hires:  # some reps join during the horizon (days after its start)
        reps = s.reps.copy()
        reps["hire_date"] = reps["hire_date"].astype("datetime64[ns]")
        for rep, days in hires:
            reps.iloc[rep, reps.columns.get_loc("hire_date")] = pd.Timestamp("2027-01-01") + pd.Timedelta(days=days)
        s = s.replace(reps=reps)
    total = round(annual * over / unit) * unit
    try:
        r = set_quotas(s, ASSIGNMENT, method=method, sales_distribution=SAMPLES * sample_scale)
    except QuotaError as exc:
        # Only when some pool's total lies outside the sum of its reps' bounds, or hire dates leave months that
        # no rep (or not enough reps, within max_quota) of a pool is in seat for.
        from optimizer.quotas import expected_sales, ramp_factors, split_target

        in_seat = ramp_factors(s) > 0
        pools_of = s.reps["region"] if by_region else s.reps["region"].map(lambda _: "(all)")
        empty_month = any((~in_seat[(pools_of == g).to_numpy()]).all(axis=0).any() for g in set(pools_of))
        if empty_month or ("few reps are in seat" in str(exc) and (~in_seat).any().any()):
            return

        info = expected_sales(s, ASSIGNMENT)
        tiers = s.settings.tiers
        lo = np.array([tiers[t].min_quota or 0.0 for t in info["tier"]]) * info["ramp"].to_numpy()
        hi = np.array([tiers[t].max_quota or np.inf for t in info["tier"]]) * info["ramp"].to_numpy()
        targets = split_target(s).groupby("region")["target"].sum()
        pools = info["region"] if by_region else info["region"].map(lambda _: "(all)")
        assert any(lo[(pools == g).to_numpy()].sum() > t + unit or hi[(pools == g).to_numpy()].sum() < t - unit
                   for g, t in targets.items())
        return
    q = r.quotas
    assert q["quota"].sum() == total
    sums = q.groupby(["period", "product"])["quota"].sum()
    want = r.targets.groupby(["period", "product"])["target"].sum()
    assert (sums.reindex(want.index) == want).all()
    assert (q["quota"] >= 0).all()
    rep_total = q.groupby("rep_id")["quota"].sum().reindex(r.reps.index)
    assert (rep_total >= r.reps["min_quota"] - 1e-6).all()
    assert (rep_total <= r.reps["max_quota"] + 1e-6).all()
    # the effective bounds are the tier bounds pro-rated by ramp, to within one unit
    tiers = s.settings.tiers
    raw_lo = np.array([tiers[t].min_quota or 0.0 for t in r.reps["tier"]]) * r.reps["ramp"].to_numpy()
    assert (rep_total.to_numpy() >= raw_lo - unit).all()
