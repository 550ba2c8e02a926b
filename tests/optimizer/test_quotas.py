"""Quota setting: exact sums, bounds, ramp, methods cross-checked against independent computations, errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import scenarios
from optimizer import (
    QuotaError,
    Status,
    expected_sales,
    ramp_factors,
    set_quotas,
    split_target,
)

METHODS = ["even", "potential", "expected_sales", "fair"]


@pytest.fixture(scope="module")
def feasible(tiny: scenarios.Scenario) -> scenarios.Scenario:
    """tiny, whose target its tiers' min/max quotas can carry."""
    return tiny


def _check_invariants(s: scenarios.Scenario, r: object) -> None:
    from optimizer.quotas import QuotaResult

    assert isinstance(r, QuotaResult)
    t = s.settings.targets
    by_cell = r.quotas.groupby(["period", "product"])["quota"].sum()
    want = r.targets.groupby(["period", "product"])["target"].sum()
    assert (by_cell.reindex(want.index) == want).all()
    assert r.quotas["quota"].sum() == round(t.annual * t.over_assignment)
    assert (r.quotas["quota"] >= 0).all()
    assert (r.quotas["quota"] % s.settings.quotas.unit == 0).all()
    totals = r.quotas.groupby("rep_id")["quota"].sum().reindex(r.reps.index)
    assert (totals == r.reps["quota"]).all()
    assert (totals >= r.reps["min_quota"] - 1e-9).all()
    assert (totals <= r.reps["max_quota"] + 1e-9).all()
    if t.by_region:
        per_region = r.quotas.merge(s.reps["region"], left_on="rep_id", right_index=True).groupby(
            ["region", "period", "product"])["quota"].sum()
        wanted = r.targets.set_index(["region", "period", "product"])["target"]
        assert (per_region.reindex(wanted.index, fill_value=0.0) == wanted).all()


@pytest.mark.parametrize("method", METHODS)
def test_every_method_meets_the_target_exactly(feasible: scenarios.Scenario, method: str) -> None:
    r = set_quotas(feasible, scenarios.Plan.current(feasible).assignment, method=method)
    _check_invariants(feasible, r)
    assert r.method == method
    assert r.status == (Status.OPTIMAL if method == "fair" else Status.SOLVED)
    assert len(r.quotas) == len(feasible.reps) * 12 * len(feasible.settings.products)


def test_split_target_is_hierarchically_exact(tiny: scenarios.Scenario) -> None:
    t = split_target(tiny)
    total = round(tiny.settings.targets.annual * tiny.settings.targets.over_assignment)
    assert t["target"].sum() == total
    season = np.array(tiny.settings.calendar.seasonality)
    by_period = t.groupby("period", sort=False)["target"].sum().to_numpy()
    # each period within one unit per product of its seasonal share
    assert np.abs(by_period - total * season / season.sum()).max() <= len(tiny.settings.products)
    by_region = t.groupby("region")["target"].sum()
    for region, share in tiny.settings.targets.by_region.items():
        assert abs(by_region[region] - total * share) <= len(t) / 2


def test_ramp_curve_by_hand(tiny: scenarios.Scenario) -> None:
    hire = dt.date(2027, 3, 1)  # joins at the start of the third month of the horizon
    reps = tiny.reps.copy()
    reps["hire_date"] = reps["hire_date"].astype("datetime64[ns]")
    reps.loc["R0001", "hire_date"] = pd.Timestamp(hire)
    s = tiny.replace(reps=reps)
    junior = s.settings.tiers["junior"]  # ramp_months 6, ramp_start 0.3
    f = ramp_factors(s).loc["R0001"]
    assert f["2027-01"] == 0.0 and f["2027-02"] == 0.0
    mid_march_months = 15 / 30.4375  # middle of March (day 15 from the 1st) in months since hire
    assert f["2027-03"] == pytest.approx(junior.ramp_start + (1 - junior.ramp_start) * mid_march_months / 6)
    assert f["2027-12"] == 1.0
    assert (np.diff(f.to_numpy()) >= -1e-12).all()
    assert (ramp_factors(s, ramp=False).loc["R0001", "2027-03":] == 1.0).all()


def test_new_hire_gets_no_quota_before_joining_and_a_prorated_total(feasible: scenarios.Scenario) -> None:
    reps = feasible.reps.copy()
    reps["hire_date"] = reps["hire_date"].astype("datetime64[ns]")
    reps.loc["R0002", "hire_date"] = pd.Timestamp("2027-07-01")
    s = feasible.replace(reps=reps)
    r = set_quotas(s, scenarios.Plan.current(s).assignment, method="even")
    _check_invariants(s, r)
    mine = r.quotas[r.quotas["rep_id"] == "R0002"].groupby("period")["quota"].sum()
    assert (mine.loc[:"2027-06"] == 0).all()
    assert r.reps.loc["R0002", "ramp"] < 0.5
    mid = s.settings.tiers["mid"]
    assert r.reps.loc["R0002", "max_quota"] <= mid.max_quota * r.reps.loc["R0002", "ramp"] + 1  # pro-rated


def test_fair_lp_matches_an_independent_bisection(feasible: scenarios.Scenario) -> None:
    """The smallest largest relative deviation z* is where the intervals [max(lo, T e (1-z)), min(hi, T e (1+z))]
    first admit the pool total: found here by bisection on z without any LP."""
    r = set_quotas(feasible, scenarios.Plan.current(feasible).assignment, method="fair")
    worst = 0.0
    for region in feasible.settings.targets.by_region:
        reps = r.reps[r.reps["region"] == region]
        total = r.targets.loc[r.targets["region"] == region, "target"].sum()
        e = reps["expected_sales"].to_numpy() / reps["expected_sales"].sum()
        lo, hi = reps["min_quota"].to_numpy(), reps["max_quota"].to_numpy()

        def feasible_at(z: float, e: np.ndarray = e, lo: np.ndarray = lo, hi: np.ndarray = hi,
                        total: float = total) -> bool:
            low = np.maximum(lo, total * e * (1 - z))
            high = np.minimum(hi, total * e * (1 + z))
            return bool((low <= high + 1e-9).all() and low.sum() <= total + 1e-6 <= high.sum() + 2e-6)

        a, b = 0.0, 100.0
        for _ in range(100):
            a, b = (a, (a + b) / 2) if feasible_at((a + b) / 2) else ((a + b) / 2, b)
        worst = max(worst, b)
    # rounding to whole units moves shares by ~1e-6 at these sizes
    assert r.max_relative_deviation == pytest.approx(worst, abs=1e-4)


def test_fair_without_binding_bounds_is_proportional_to_expected_sales(tiny: scenarios.Scenario) -> None:
    loose = {f"tiers.{t}.{k}": v for t in tiny.settings.tiers for k, v in (("min_quota", 0.0), ("max_quota", 1e9))}
    s = scenarios.modify(tiny, loose)
    a = scenarios.Plan.current(s).assignment
    fair = set_quotas(s, a, method="fair")
    prop = set_quotas(s, a, method="expected_sales")
    assert fair.lp_objective is not None and fair.lp_objective < 1e-9
    # rounding each of a rep's period-product cells to whole units moves its total by under one unit per cell
    cells = 12 * len(s.settings.products)
    assert fair.max_relative_deviation < 2 * cells / fair.reps["quota"].min()
    assert np.abs(fair.reps["quota"] - prop.reps["quota"]).max() <= 2 * cells


def test_cbc_and_highs_agree_on_the_fair_optimum(feasible: scenarios.Scenario) -> None:
    a = scenarios.Plan.current(feasible).assignment
    h = set_quotas(feasible, a, method="fair", solver="highs")
    c = set_quotas(feasible, a, method="fair", solver="cbc")
    assert h.max_relative_deviation == pytest.approx(c.max_relative_deviation, abs=1e-5)


def test_equal_probability_on_scaled_samples_is_proportional(feasible: scenarios.Scenario) -> None:
    """If rep r's sales are a_r times one common distribution, equal chances mean quotas proportional to a_r."""
    rng = np.random.default_rng(7)
    base = np.sort(rng.gamma(5.0, 1.0, size=400))
    scale = np.array([3.0, 2.0, 4.0, 5.0, 3.0, 3.5]) * 1e5
    loose = {f"tiers.{t}.{k}": v for t in feasible.settings.tiers for k, v in (("min_quota", 0.0),
                                                                              ("max_quota", 1e9))}
    s = scenarios.modify(feasible, loose)
    r = set_quotas(s, scenarios.Plan.current(s).assignment, method="equal_probability",
                   sales_distribution=scale[:, None] * base[None, :])
    _check_invariants(s, r)
    for region in s.settings.targets.by_region:
        mask = (s.reps["region"] == region).to_numpy()
        ratio = r.reps["quota"].to_numpy()[mask] / scale[mask]
        assert ratio.max() / ratio.min() == pytest.approx(1.0, abs=1e-4)
        p = r.attainment_probability[region]
        chances = r.reps.loc[mask, "attainment_probability"].to_numpy()
        assert np.abs(chances - p).max() <= 2 / 400


def test_equal_probability_accepts_a_frame_and_warns_when_chances_are_low(feasible: scenarios.Scenario) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.gamma(4, 40_000, size=(6, 300)), index=feasible.reps.index[::-1])
    r = set_quotas(feasible, scenarios.Plan.current(feasible).assignment, method="equal_probability",
                   sales_distribution=frame)
    _check_invariants(feasible, r)
    assert any("chance of reaching quota" in w for w in r.warnings)
    assert "chance of reaching quota" in repr(r)


def test_equal_probability_needs_samples(feasible: scenarios.Scenario) -> None:
    a = scenarios.Plan.current(feasible).assignment
    with pytest.raises(scenarios.ScenarioError, match="needs simulated sales"):
        set_quotas(feasible, a, method="equal_probability")
    with pytest.raises(scenarios.ScenarioError, match="shape"):
        set_quotas(feasible, a, method="equal_probability", sales_distribution=np.ones((3, 10)))
    with pytest.raises(scenarios.ScenarioError, match="finite"):
        set_quotas(feasible, a, method="equal_probability", sales_distribution=np.full((6, 10), np.nan))


def test_unknown_method_and_unknown_rep_are_input_errors(feasible: scenarios.Scenario) -> None:
    a = scenarios.Plan.current(feasible).assignment
    with pytest.raises(scenarios.ScenarioError, match="unknown quota method 'magic'"):
        set_quotas(feasible, a, method="magic")
    bad = a.copy()
    bad.iloc[0] = "NOBODY"
    with pytest.raises(scenarios.ScenarioError, match="unknown rep"):
        set_quotas(feasible, bad)


def test_infeasible_bounds_name_the_region_and_the_fix(tiny: scenarios.Scenario) -> None:
    low = scenarios.modify(tiny, {"targets.annual": 100_000.0})
    with pytest.raises(QuotaError, match=r"region North.*min_quota.*Fix: lower min_quota"):
        set_quotas(low, scenarios.Plan.current(low).assignment)
    high = scenarios.modify(tiny, {"targets.annual": 50_000_000.0})
    with pytest.raises(QuotaError, match=r"more than its .* reps .* max_quota"):
        set_quotas(high, scenarios.Plan.current(high).assignment)


def test_gap_analysis_flags_reps_above_the_share_of_potential(feasible: scenarios.Scenario) -> None:
    # a threshold inside the range of quota / potential, so both sides of the rule are exercised
    shares = set_quotas(feasible, scenarios.Plan.current(feasible).assignment, method="expected_sales").reps
    middle = float((shares["quota"] / shares["potential"]).median())
    s = scenarios.modify(feasible, {"quotas.max_potential_share": middle})
    r = set_quotas(s, scenarios.Plan.current(s).assignment, method="expected_sales")
    share = r.reps["quota"] / r.reps["potential"]
    assert (r.reps["flagged"] == (share > middle)).all()
    assert r.reps["flagged"].any() and not r.reps["flagged"].all()
    assert str(r.reps.index[r.reps["flagged"]][0]) in r.warnings[0]


def test_expected_sales_model_factors(tiny: scenarios.Scenario) -> None:
    e = expected_sales(tiny, scenarios.Plan.current(tiny).assignment)
    owners = tiny.accounts["current_rep_id"].dropna()
    pot = tiny.accounts.loc[owners.index, "annual_potential"].groupby(owners).sum()
    assert np.allclose(e["potential"], pot.reindex(e.index, fill_value=0.0))
    # R0003 has a demo-skill override of 1.4 on top of a senior tier: it books more of the same accounts
    plain = tiny.replace(reps=tiny.reps.assign(skill_demo=np.nan))
    assert e.loc["R0003", "capture"] > expected_sales(plain, scenarios.Plan.current(plain).assignment).loc[
        "R0003", "capture"]
    factors = e[["reach", "capture", "coverage", "ramp"]]
    assert ((factors >= 0) & (factors <= 1)).all().all()
    assert np.allclose(e["expected_sales"], e["potential"] * e["reach"] * e["capture"] * e["coverage"] * e["ramp"])


def test_unit_rounding_keeps_exact_sums(feasible: scenarios.Scenario) -> None:
    s = scenarios.modify(feasible, {"quotas.unit": 100.0})
    r = set_quotas(s, scenarios.Plan.current(s).assignment, method="potential")
    _check_invariants(s, r)


def test_result_goes_into_a_plan_and_back(feasible: scenarios.Scenario, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    plan = scenarios.Plan.current(feasible)
    r = set_quotas(feasible, plan.assignment)
    scenarios.Plan(assignment=plan.assignment, quotas=r.quotas).to_csv(folder, scenario=feasible)
    back = scenarios.Plan.load(folder, feasible)
    assert back.quotas is not None
    pd.testing.assert_frame_equal(back.quotas, r.quotas, check_dtype=False)
    r.to_csv(folder / "r")
    assert (folder / "r" / "quotas.csv").is_file() and (folder / "r" / "quota_reps.csv").is_file()


def test_months_with_few_reps_in_seat_move_rep_totals_minimally() -> None:
    """Three of four North reps join in November: the one in seat must carry January-October alone, so the
    method's totals are moved (least change, spread evenly over the late joiners) and a warning says so."""
    base = scenarios.generate(reps=8, accounts=80, seed=11, regions=2, products=4)
    loose = {f"tiers.{t}.{k}": v for t in base.settings.tiers for k, v in (("min_quota", 0.0), ("max_quota", 1e9))}
    s = scenarios.modify(base, {"targets.annual": 8e6, **loose})
    reps = s.reps.copy()
    reps["hire_date"] = reps["hire_date"].astype("datetime64[ns]")
    north = reps.index[reps["region"] == reps["region"].iloc[0]]
    reps.loc[north[1:], "hire_date"] = pd.Timestamp("2027-11-01")
    s = s.replace(reps=reps)
    r = set_quotas(s, scenarios.Plan.current(s).assignment, method="even")
    _check_invariants(s, r)
    assert any("few reps in seat" in w for w in r.warnings)
    by_period = r.quotas.pivot_table(index="rep_id", columns="period", values="quota", aggfunc="sum")
    assert (by_period.loc[north[1:], :"2027-10"] == 0).all().all()
    late = r.reps.loc[north[1:]]
    same_tier = late[late["tier"] == late["tier"].mode()[0]]
    assert len(same_tier) >= 2
    ratio = same_tier["quota"] / same_tier["ramp"]
    assert ratio.max() / ratio.min() < 1.1  # the reduction is shared, not dumped on one rep
    assert (late["quota"] > 0).all()
