"""The synthetic generator: valid at any size, deterministic in its seed, realistic in shape, and solvable by its
own allocator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios
from optimizer import allocate


@settings(max_examples=25, deadline=None)
@given(regions=st.integers(1, 6), extra_reps=st.integers(0, 12), accounts=st.integers(1, 300),
       products=st.integers(1, 5), months=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_any_size_is_valid(regions: int, extra_reps: int, accounts: int, products: int, months: int,
                           seed: int) -> None:
    s = scenarios.generate(reps=regions + extra_reps, accounts=accounts, seed=seed, regions=regions,
                           products=products, months=months)
    scenarios.check(s)
    assert len(s.reps) == regions + extra_reps and len(s.accounts) == accounts
    assert set(s.reps["region"]) == set(s.regions) or len(set(s.accounts["region"])) < regions
    assert len(s.settings.products) == products and s.settings.calendar.months == months


def test_same_seed_same_scenario_other_seed_differs() -> None:
    a = scenarios.generate(reps=8, accounts=200, seed=11)
    b = scenarios.generate(reps=8, accounts=200, seed=11)
    c = scenarios.generate(reps=8, accounts=200, seed=12)
    assert a.equals(b)
    assert not a.equals(c)


def test_realistic_shape() -> None:
    s = scenarios.generate(reps=60, accounts=5000, seed=1, regions=5)
    acc = s.accounts
    pot = acc["annual_potential"]
    # Heavy tail: the top 10 % (tier A) hold a large share of the potential.
    assert acc.loc[acc["tier"] == "A", "annual_potential"].sum() / pot.sum() > 0.35
    assert pot.max() / pot.median() > 10
    assert (acc.groupby("tier")["service_hours_per_year"].mean().sort_index().diff().dropna() < 0).all()
    capacity = (s.reps["hours_per_week"] * s.settings.calendar.weeks_per_year).sum()
    assert 0.6 < acc["service_hours_per_year"].sum() / capacity < 0.9
    assert set(s.reps["tier"]) == {"junior", "mid", "senior"}
    assert set(s.reps["role"]) == {"hunter", "farmer", "hybrid"}
    # Clustered geography: accounts are close to their region's reps.
    region_of = s.reps.groupby("region")[["latitude", "longitude"]].mean()
    own = region_of.loc[acc["region"]].to_numpy()
    dist_own = scenarios.great_circle_km(acc["latitude"], acc["longitude"], own[:, 0], own[:, 1])
    assert np.median(dist_own) < 150
    # Today's assignment stays in the region and leaves some prospects unassigned.
    assigned = acc["current_rep_id"].dropna()
    assert (s.reps.loc[assigned.to_numpy(), "region"].to_numpy() == acc.loc[assigned.index, "region"]).all()
    assert acc.loc[acc["status"] == "prospect", "current_rep_id"].isna().mean() > 0.05


def _allocates(s: scenarios.Scenario) -> None:
    # Feasibility is the property: a 5 % gap lets HiGHS stop at a good plan instead of proving the last 0.1 %.
    r = allocate(s, s.settings.optimizer.model_copy(update={"mip_gap": 0.05, "time_limit_s": 120.0}))
    band = s.settings.optimizer.balance[0]
    assert r.status in ("optimal", "feasible"), (s.name, band, s.settings.optimizer.max_moved_share, r.explanation)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(regions=st.integers(1, 6), extra_reps=st.integers(0, 12), accounts=st.integers(1, 300),
       seed=st.integers(0, 2**32 - 1))
def test_every_generated_scenario_allocates(regions: int, extra_reps: int, accounts: int, seed: int) -> None:
    _allocates(scenarios.generate(reps=regions + extra_reps, accounts=accounts, seed=seed, regions=regions))


@pytest.mark.parametrize(("reps", "accounts", "regions"), [
    (6, 30, 2), (20, 500, 4), pytest.param(50, 2000, 8, marks=pytest.mark.slow)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sizes_that_used_to_be_infeasible_allocate(reps: int, accounts: int, regions: int, seed: int) -> None:
    _allocates(scenarios.generate(reps=reps, accounts=accounts, seed=seed, regions=regions))


def test_settings_stay_at_ten_percent_and_fifteen_percent_where_the_accounts_allow() -> None:
    for seed in range(3):
        opt = scenarios.generate(reps=20, accounts=500, seed=seed, regions=4).settings.optimizer
        band = opt.balance[0]
        assert (band.attribute, band.min, band.max, band.scope) == ("hours", 0.9, 1.1, "region")
        assert opt.max_moved_share == 0.15


def test_a_few_accounts_per_rep_widen_the_band_to_what_they_allow() -> None:
    # Five accounts a rep of very different size cannot be balanced to +-10 %; the band says how close they can be.
    band = scenarios.generate(reps=6, accounts=30, seed=0, regions=2).settings.optimizer.balance[0]
    assert 0.0 <= band.min < 0.9 and band.max > 1.1
    assert band.min + band.max == pytest.approx(2.0)
