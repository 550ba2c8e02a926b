"""The skill model and the demand it reads: what an account puts in play and what a rep can expect to book never
exceed the account's potential, whatever the skills, tiers, assignment or horizon."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios
from scenarios.demand import account_demand, channel_leads
from scenarios.skill import _capped_mean, _expected_booked, account_sales, expected_sales


def test_an_account_puts_its_potential_in_play_at_todays_spend(tiny: scenarios.Scenario) -> None:
    d = account_demand(tiny)
    potential = tiny.accounts["annual_potential"]
    assert np.allclose(d["leads"] * d["deal_value"], d["reach"] * potential)
    many = d["leads"] >= 1
    assert many.any() and (~many).any()
    assert np.allclose(d.loc[many, "leads"] * d.loc[many, "deal_value"], potential[many])
    # new-business leads of a region add up to what the channels bring there at today's spend
    by_region = d["new_leads"].groupby(tiny.accounts["region"]).sum()
    assert np.allclose(by_region, channel_leads(tiny).sum(axis=1).reindex(by_region.index))


def test_capped_lognormal_mean_matches_a_monte_carlo() -> None:
    rng = np.random.default_rng(3)
    for mean, sd, cap in ((100.0, 60.0, 120.0), (100.0, 250.0, 50.0), (10.0, 1.0, 1e6)):
        s2 = math.log1p((sd / mean) ** 2)
        x = np.exp(rng.normal(math.log(mean) - s2 / 2, math.sqrt(s2), 2_000_000))
        closed = float(_capped_mean(np.array(mean), np.array(sd), np.array(cap))[0])
        assert abs(closed - float(np.minimum(x, cap).mean())) < 0.005 * mean


def test_expected_booked_matches_a_monte_carlo_of_the_same_draws(tiny: scenarios.Scenario) -> None:
    """Poisson wins, deal values by product mix and lognormal noise, capped at the year's potential: the
    closed form against 200,000 simulated years per case."""
    s = tiny.settings
    price = np.array([p.price for p in s.products.values()])
    mix = np.array([p.mix for p in s.products.values()])
    mix = mix / mix.sum()
    rel = price / float(price @ mix)
    cv = s.simulation.value_cv
    s2 = math.log1p(cv * cv)
    rng = np.random.default_rng(11)
    for wins, value, cap in ((0.3, 50.0, 40.0), (2.5, 25.0, 100.0), (6.0, 30.0, 120.0)):
        n = rng.poisson(wins, 200_000)
        total = np.zeros(len(n))
        for k in range(int(n.max())):
            has = n > k
            z = np.exp(rng.normal(-s2 / 2, math.sqrt(s2), has.sum()))
            total[has] += value * rel[rng.choice(len(rel), has.sum(), p=mix)] * z
        mc = float(np.minimum(total, cap).mean())
        closed = float(_expected_booked(np.array([wins]), np.array([value]), np.array([cap]), tiny)[0])
        assert abs(closed - mc) < 0.02 * mc, (wins, value, cap, closed, mc)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[scenarios.Scenario, pd.Series]:
    regions = draw(st.integers(1, 3))
    s = scenarios.generate(reps=regions + draw(st.integers(0, 4)), accounts=draw(st.integers(5, 60)),
                           seed=draw(st.integers(0, 10_000)), regions=regions,
                           months=draw(st.sampled_from([6, 12, 18])))
    skill = st.floats(0.01, 4.0, allow_nan=False)  # the validated range starts at 0.01 (scenarios.limits)
    changes: dict[str, object] = {
        "simulation.tier_conversion": {t: draw(st.floats(0.5, 2.5)) for t in ("A", "B", "C")},
        "simulation.repeat_orders_per_year": {t: draw(st.floats(0.0, 8.0)) for t in ("A", "B", "C")},
        "simulation.repeat_skip_stages": draw(st.integers(0, 6)),
        "simulation.value_cv": draw(st.floats(0.0, 2.0)),
    }
    for tier in s.settings.tiers:
        changes[f"tiers.{tier}.skill"] = {stage: draw(skill) for stage in s.stage_ids}
    for ch in s.settings.channels:
        changes[f"channels.{ch}.lead_quality"] = draw(st.floats(0.1, 3.0))
        changes[f"channels.{ch}.default_monthly_spend"] = draw(st.sampled_from([0.0, 1e2, 1e5]))
    s = scenarios.modify(s, changes)
    reps = s.reps.assign(skill_demo=draw(st.lists(st.one_of(st.none(), skill), min_size=len(s.reps),
                                                 max_size=len(s.reps))))
    s = s.replace(reps=reps.assign(skill_demo=pd.to_numeric(reps["skill_demo"])))
    owners = draw(st.lists(st.sampled_from([None, *s.reps.index]), min_size=len(s.accounts),
                           max_size=len(s.accounts)))
    return s, pd.Series(owners, index=s.accounts.index, dtype=object)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_expected_sales_never_exceed_potential(case: tuple[scenarios.Scenario, pd.Series]) -> None:
    s, assignment = case
    e = expected_sales(s, assignment)
    assert (e["expected_sales"] <= e["potential"] * (1 + 1e-9) + 1e-6).all()
    assert float(e["expected_sales"].sum()) <= float(e["potential"].sum()) * (1 + 1e-9) + 1e-6
    factors = e[["reach", "capture", "coverage", "ramp"]]
    assert ((factors >= 0) & (factors <= 1 + 1e-12)).all().all()
    a = account_sales(s, assignment)
    _, _, share = scenarios.skill.horizon_weights(s)
    assert (a["expected_sales"] <= a["potential"] * share * (1 + 1e-9) + 1e-6).all()
    assert ((a["win_probability"] >= 0) & (a["win_probability"] <= 1)).all()
    assert (a["expected_sales"] <= a["reach"] * a["win_probability"] * a["potential"] * share * (1 + 1e-9)
            + 1e-6).all()
