"""The decision calendar (``[simulation] decision_calendar``): long deals whose outcome would fall in a calendar
quarter's first month are decided in its second instead, wins and losses alike; short deals and runs with the
calendar off are untouched."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import calibration
import scenarios
import sim
from sim.deals import LOST, LOST_STAGE, WON

SPLIT = 30.0


def _run(s: scenarios.Scenario, seed: int = 3) -> tuple[sim.Model, np.ndarray, sim.RunRecord]:
    model = sim.build(s)
    leads, rec = sim.run_replication(model, np.random.SeedSequence(seed), None)
    return model, np.asarray(leads.time, dtype=float), rec


def _calendar(s: scenarios.Scenario, share: float | None) -> scenarios.Scenario:
    return scenarios.modify(s, {"simulation.decision_calendar": share, "simulation.decision_calendar_days": SPLIT})


def _decided(model: sim.Model, created: np.ndarray, rec: sim.RunRecord) -> dict[str, np.ndarray]:
    """Per lead: decided in the horizon (won, or lost at a stage), long, and in a calendar quarter's first month."""
    closed = np.asarray(rec.closed, dtype=float)
    status, reason = np.asarray(rec.status), np.asarray(rec.lost_reason)
    inside = (closed >= 0.0) & (closed < float(model.month_start[-1]))
    month = np.clip(np.searchsorted(model.month_start, np.where(inside, closed, 0.0), side="right") - 1, 0,
                    model.n_months - 1)
    first = ((model.month_of_year[month] - 1) % 3 == 0) & inside
    return {"won": (status == WON) & inside, "lost": (status == LOST) & (reason == LOST_STAGE) & inside,
            "long": closed - created > SPLIT, "first": first}


def _assert_same_record(plain: Any, zero: Any) -> None:
    """Every field of two run records equal, arrays element by element."""
    for f in dataclasses.fields(plain):
        a, b = getattr(plain, f.name), getattr(zero, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
        else:
            assert a == b, f.name


@pytest.mark.parametrize("name", ["tiny", "baseline"])
def test_a_zero_share_changes_nothing(name: str) -> None:
    s = scenarios.load(name)
    _, _, plain = _run(s)
    _, _, zero = _run(_calendar(s, 0.0))
    _assert_same_record(plain, zero)


def test_a_full_share_leaves_no_long_deal_decided_in_a_first_month_wins_and_losses_alike() -> None:
    # a win makes its account a customer who takes service hours from selling, so a held win would move other
    # deals through the reps' time; without service hours the only change is the calendar's own
    s = scenarios.modify(scenarios.load("baseline"), {"behaviour.enabled": False,
                                                      "accounts.service_hours_per_year": 0.0})
    model, created, off = _run(s)
    _, _, on = _run(_calendar(s, 1.0))
    before, after = _decided(model, created, off), _decided(model, created, on)
    for outcome in ("won", "lost"):
        held = before[outcome] & before["long"] & before["first"]
        assert held.sum() > 10, outcome  # the run has long deals decided in first months to move
        assert not (after[outcome] & after["long"] & after["first"]).any(), outcome
        # each held deal keeps its outcome and is decided in the next month, a quarter's second
        moved = held & after[outcome]
        assert moved.sum() >= 0.9 * held.sum(), outcome
        m_before = np.searchsorted(model.month_start, np.asarray(off.closed)[moved], side="right") - 1
        m_after = np.searchsorted(model.month_start, np.asarray(on.closed)[moved], side="right") - 1
        np.testing.assert_array_equal(m_after, m_before + 1)
    # short deals are untouched: the same outcome on the same day
    short = (before["won"] | before["lost"]) & ~before["long"]
    np.testing.assert_array_equal(np.asarray(on.status)[short], np.asarray(off.status)[short])
    np.testing.assert_array_equal(np.asarray(on.closed)[short], np.asarray(off.closed)[short])


def test_a_share_holds_about_that_share_of_long_first_month_outcomes() -> None:
    s = scenarios.modify(scenarios.load("baseline"), {"behaviour.enabled": False})
    model, created, off = _run(s)
    _, _, half = _run(_calendar(s, 0.5))
    before, after = _decided(model, created, off), _decided(model, created, half)
    n_before = (before["won"] | before["lost"]) & before["long"] & before["first"]
    n_after = (after["won"] | after["lost"]) & after["long"] & after["first"]
    assert 0.3 < n_after.sum() / n_before.sum() < 0.7


def test_a_share_without_a_split_is_refused() -> None:
    with pytest.raises(scenarios.ScenarioError, match="decision_calendar_days"):
        scenarios.modify(scenarios.load("tiny"), {"simulation.decision_calendar": 0.5})


def test_a_zero_share_changes_nothing_on_the_calibrated_maven_scenario(shared_benchmarks: Path) -> None:
    res = calibration.calibrate(shared_benchmarks / "crm" / "maven", calibration.load_mapping(preset="maven"))
    s = scenarios.modify(res.scenario, {"behaviour.timing_games": True, "behaviour.customer_pull_share": 1.0})
    _, _, plain = _run(s)
    _, _, zero = _run(_calendar(s, 0.0))
    _assert_same_record(plain, zero)
