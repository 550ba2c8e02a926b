"""The simulator started from an open pipeline: the pipeline drains with the wins each deal's conditional win
probability predicts, the time left in a stage follows the duration law conditioned on the days already spent,
pay plans compared from one pipeline see the same deals, and bad pipelines are refused naming row and column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from simcases import neutral

import scenarios
from sim import SimulationError, build, mean_ci, run_replication, simulate
from sim.deals import LOST, OPEN, WON
from sim.model import Model
from sim.pipeline import open_deals, remaining_days


def _no_arrivals(s: scenarios.Scenario, months: int) -> scenarios.Scenario:
    """``neutral`` without new business (channels at zero spend) and without repeat orders: only the pipeline
    is in the funnel."""
    out = neutral(s, months=months)
    changes: dict[str, object] = {f"channels.{c}.default_monthly_spend": 0.0 for c in out.settings.channels}
    return scenarios.modify(out, changes)


def _pipeline(model: Model, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stage = rng.integers(0, len(model.stage_ids), n)
    in_stage = rng.exponential(model.mean_days[stage])
    return pd.DataFrame({"opportunity_id": [f"P{i}" for i in range(n)],
                         "owner": [model.rep_ids[k] for k in rng.integers(0, model.n_seats, n)],
                         "stage": [model.stage_ids[k] for k in stage], "days_in_stage": in_stage,
                         "age_days": in_stage + rng.exponential(20.0, n), "amount": np.nan})


def _win_probability(model: Model, frame: pd.DataFrame) -> np.ndarray:
    """Each deal's chance to win from its stage: the product of its owner's pass probabilities from there on,
    computed independently of the engine from the scenario's tables."""
    d = open_deals(model, frame)
    mult = model.tier_conversion[model.account_tier[d.account]]
    out = np.ones(len(d))
    for i in range(len(d)):
        for s in range(int(d.stage[i]), len(model.stage_ids)):
            out[i] *= min(model.conversion[s] * model.skill[d.seat[i], s] * mult[i], 1.0)
    return out


def test_pipeline_drains_with_the_expected_wins(tiny: scenarios.Scenario) -> None:
    # Reps of differing skill, account tiers with their own multipliers: the expected number of wins is the sum of
    # each deal's own conditional win probability; with no arrivals and a long horizon the pipeline drains.
    s = _no_arrivals(tiny, months=36)
    s = scenarios.modify(s, {"simulation.tier_conversion": {"A": 1.2, "B": 1.0, "C": 0.8}})
    s = s.replace(reps=s.reps.assign(**{"skill_demo": np.linspace(0.7, 1.3, len(s.reps)),
                                        "skill_quote": np.linspace(1.2, 0.8, len(s.reps))}))
    model = build(s)
    frame = _pipeline(model, 60, seed=3)
    expected = float(_win_probability(model, frame).sum())
    opened = open_deals(model, frame)
    wins = []
    for child in np.random.SeedSequence(5).spawn(150):
        leads, rec = run_replication(model, child, pipeline=opened)
        assert len(leads) == leads.n_open == 60  # no new business, no warm-up
        assert not (rec.status == OPEN).any()  # drained within the horizon
        assert set(np.unique(rec.status)) <= {WON, LOST}
        wins.append(float((rec.status == WON).sum()))
    mean, lo, hi = mean_ci(np.array(wins), level=0.99)
    assert float(lo) <= expected <= float(hi), (float(mean), expected)
    # and the test can fail: the engine's wins are not those of the plain product of base conversions
    naive = float(np.sum([np.prod(model.conversion[model.stage_ids.index(st_):]) for st_ in frame["stage"]]))
    assert not float(lo) <= naive <= float(hi), naive


@pytest.mark.parametrize("gamma", [False, True])
def test_remaining_time_is_the_conditioned_duration(gamma: bool) -> None:
    # Cross-check against rejection sampling: draw stage durations, keep those longer than the elapsed days,
    # subtract them; the inverse-transform draws must follow the same law (two-sample Kolmogorov-Smirnov).
    rng = np.random.default_rng(7)
    mean, cv = 20.0, 0.8
    for elapsed in (0.0, 10.0, 45.0):
        if gamma:
            shape = 1.0 / cv**2
            z = rng.gamma(shape, 1.0 / shape, 400_000)
        else:
            sig = np.sqrt(np.log1p(cv**2))
            z = np.exp(sig * rng.standard_normal(400_000) - sig**2 / 2)
        reference = z[z * mean > elapsed] * mean - elapsed
        n = 4000
        ours = remaining_days(np.full(n, mean), np.full(n, cv), np.full(n, gamma), np.full(n, elapsed),
                              rng.random(n))
        assert (ours >= 0).all()
        assert stats.ks_2samp(ours, reference[:20_000]).pvalue > 0.001, elapsed
    # the conditioning matters: 45 days into a 20-day stage, ignoring the days spent (an unconditioned duration
    # minus them, at least 0) would leave most deals closing at once
    left = remaining_days(np.full(4000, mean), np.full(4000, cv), np.full(4000, gamma), np.full(4000, 45.0),
                          np.random.default_rng(1).random(4000))
    unconditioned = np.maximum(z * mean - 45.0, 0.0)
    assert left.mean() > 5 * unconditioned.mean()
    assert (left > 0).mean() > 0.99 > 5 * (unconditioned > 0).mean()


def test_remaining_time_without_spread_is_the_rest_of_the_mean() -> None:
    left = remaining_days(np.array([10.0, 10.0]), np.zeros(2), np.zeros(2, bool), np.array([4.0, 12.0]),
                          np.array([0.3, 0.3]))
    assert left.tolist() == [6.0, 0.0]


def test_pipeline_draws_are_common_to_pay_plans_and_new_leads_unchanged(tiny: scenarios.Scenario) -> None:
    model = build(tiny)
    frame = _pipeline(model, 25, seed=1)
    opened = open_deals(model, frame)
    # a SeedSequence spawns its streams statefully: each run gets a fresh one from the same root
    plain, _ = run_replication(model, np.random.SeedSequence(9))
    a, rec_a = run_replication(model, np.random.SeedSequence(9), pipeline=opened)
    other = build(scenarios.modify(tiny, {"funnel.stall_days": 5.0}))
    b, rec_b = run_replication(other, np.random.SeedSequence(9), pipeline=opened)
    k = len(a) - a.n_open
    # new business from day 0 is the run without a pipeline's, without its warm-up
    keep = plain.time >= 0
    assert np.array_equal(a.time[:k], plain.time[keep])
    assert np.array_equal(a.outcome_u[:k], plain.outcome_u[keep])
    # the pipeline's deals and all their draws are the same in both variants
    for field in ("time", "value", "outcome_u", "duration_x", "stage_u", "account", "entry_stage"):
        assert np.array_equal(getattr(a, field)[k:], getattr(b, field)[k:]), field
    assert rec_a.status.shape == rec_b.status.shape


def test_deals_of_the_pipeline_are_counted_once(tiny: scenarios.Scenario) -> None:
    model = build(tiny)
    frame = _pipeline(model, 40, seed=2)
    res = simulate(model, replications=3, seed=4, pipeline=frame)
    assert res.info["open_pipeline"] == 40
    base = simulate(model, replications=3, seed=4)
    # the warm-up's open deals are replaced by the pipeline's
    assert res.kpi("leads") == base.kpi("leads")
    assert res.kpi("open_from_warmup") <= 40


@settings(max_examples=20, deadline=None, derandomize=True)
@given(days=st.floats(0, 400), extra=st.floats(0, 400), stage=st.integers(0, 4), seed=st.integers(0, 10**6))
def test_every_pipeline_deal_ends_won_lost_or_open(days: float, extra: float, stage: int, seed: int) -> None:
    model = _MODEL
    frame = pd.DataFrame({"owner": [model.rep_ids[seed % model.n_seats]], "stage": [stage],
                          "days_in_stage": [days], "age_days": [days + extra], "value": [1000.0]})
    leads, rec = run_replication(model, np.random.SeedSequence(seed), pipeline=open_deals(model, frame))
    last = len(leads) - 1
    assert leads.time[last] == -(days + extra)
    assert rec.status[last] in (OPEN, WON, LOST)
    if rec.status[last] != OPEN:
        assert rec.closed[last] >= 0.0
    if rec.status[last] == WON:
        assert rec.bookings.sum() + rec.potential_cut.sum() >= 1000.0 - 1e-6


_MODEL = build(scenarios.load("tiny"))


def test_bad_pipeline_rows_are_named(tiny: scenarios.Scenario) -> None:
    model = build(tiny)
    frame = pd.DataFrame({"owner": ["nobody", model.rep_ids[0]], "stage": ["demo", "signed"],
                          "days_in_stage": [-1.0, 2.0], "age_days": [3.0, np.nan], "amount": [100.0, -5.0]})
    with pytest.raises(SimulationError) as err:
        open_deals(model, frame)
    text = str(err.value)
    for piece in ("'nobody'", "line 2", "line 3", "owner", "'signed'", "stage", "days_in_stage", "age_days", "amount"):
        assert piece in text, piece
    with pytest.raises(SimulationError, match="lacks required column"):
        open_deals(model, frame.drop(columns=["age_days"]))


def test_forecast_rows_count_the_pipeline_wins_by_month(tiny: scenarios.Scenario) -> None:
    from sim.forecast import FORECAST_COLUMNS, forecast_quantiles, won_by_month

    s = _no_arrivals(tiny, months=36)
    model = build(s)
    frame = _pipeline(model, 60, seed=3)
    draws = won_by_month(model, frame, replications=60, seed=2)
    # with no new business every win is a pipeline deal's: over the months the total is the drain's expectation
    totals = draws.groupby("replication")["won_deals"].sum().to_numpy()
    _, lo, hi = mean_ci(totals, level=0.99)
    assert float(lo) <= float(_win_probability(model, frame).sum()) <= float(hi)
    rows = forecast_quantiles(draws, cutoff="2026-12-31")
    assert rows.columns.tolist() == FORECAST_COLUMNS
    assert len(rows) == 2 * model.n_months
    assert (rows["p10"] <= rows["p50"]).all() and (rows["p50"] <= rows["p90"]).all()
    first = rows[(rows["metric"] == "won_deals") & (rows["month"] == model.periods[0])].iloc[0]
    assert first["point"] == pytest.approx(draws.loc[draws["period"] == model.periods[0], "won_deals"].mean())
