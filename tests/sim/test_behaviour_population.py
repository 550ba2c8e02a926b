"""The behaviour functions iterated week by week over a population of reps (a stand-in for the simulator, with
bookings = pro-rata run rate × hours share + common noise) reproduce the directions of the field studies.

This is a cross-check of `sim.incentives` on its own, not the simulator's must-show tests: the simulator adds the
funnel, pipelines and deal priorities. Every plan sees the same reps, quotas and noise (common random numbers).
"""

from __future__ import annotations

import numpy as np
import pytest

from scenarios import BehaviourSettings, PayPlanSettings
from sim.incentives import Position, appraise, prepare, weekly_moments

WEEKS_PER_MONTH = 4
PLANS = {
    "flat": PayPlanSettings(commission_rate=0.05),
    "annual": PayPlanSettings.model_validate(
        {"commission_rate": 0.03, "bonuses": [{"period": "year", "steps": [{"attainment": 1.0,
                                                                           "share_of_base": 0.2}]}]}),
    "quarterly": PayPlanSettings.model_validate(
        {"commission_rate": 0.03, "bonuses": [{"period": "quarter", "steps": [{"attainment": 1.0,
                                                                              "share_of_base": 0.05}]}]}),
    "capped": PayPlanSettings.model_validate({"commission_rate": 0.05, "cap": {"target_multiple": 1.3}}),
    "tiered": PayPlanSettings.model_validate({"commission": {"tiers": [{"threshold": 0.0, "rate": 0.04},
                                                                    {"threshold": 1.0, "rate": 0.08}]}}),
}


def _run(pay_plan: PayPlanSettings, seed: int, reps: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Monthly bookings (reps × 12) and each rep's expected attainment (run rate / quota)."""
    rng = np.random.default_rng(seed)
    ability = rng.lognormal(0.0, 0.25, reps)
    quota_error = rng.lognormal(0.0, 0.15, reps)
    noise = rng.random((reps, 12 * WEEKS_PER_MONTH))
    behaviour = BehaviourSettings()
    out = np.zeros((reps, 12))
    for r in range(reps):
        inc = prepare(pay_plan, np.full(12, 100_000.0 * ability[r] * quota_error[r]), 60_000.0, behaviour)
        weekly = ability[r] * 100_000.0 / WEEKS_PER_MONTH
        mean, sd = weekly_moments(weekly, 30_000.0)
        for week in range(12 * WEEKS_PER_MONTH):
            month = week // WEEKS_PER_MONTH
            share = appraise(inc, Position(month, (week % WEEKS_PER_MONTH) / WEEKS_PER_MONTH, out[r], mean, sd,
                                           WEEKS_PER_MONTH)).hours_share
            for fraction, lands in ((behaviour.closing_share, month), (1 - behaviour.closing_share,
                                                                      month + behaviour.lag_months)):
                if lands < 12:
                    out[r, lands] += weekly * (share - 1.0) * fraction
            out[r, month] += weekly * (0.5 + noise[r, week])
    return out, 1.0 / quota_error  # expected attainment: run rate / quota


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {name: _run(p, seed=1) for name, p in PLANS.items()}


def test_annual_bonus_bunches_bookings_at_year_end(runs: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    def q4_share(b: np.ndarray) -> float:
        return float(b[:, 9:].sum() / b.sum())

    assert q4_share(runs["annual"][0]) > q4_share(runs["flat"][0])


def test_removing_the_cap_raises_revenue(runs: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    assert runs["flat"][0].sum() > runs["capped"][0].sum()


def test_overachievement_commission_raises_top_performers(runs: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    flat, rel = runs["flat"]
    top = rel > np.quantile(rel, 0.75)
    assert runs["tiered"][0][top].sum() > flat[top].sum()


def test_quarterly_bonus_lifts_low_performers_over_annual(runs: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    _, rel = runs["annual"]
    low = rel < 0.85  # expected to reach less than 85 % of quota: behind all year
    assert low.sum() >= 5
    assert runs["quarterly"][0][low].sum() > runs["annual"][0][low].sum()
