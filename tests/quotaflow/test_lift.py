"""The simulated effect of lifting a credibly worse rep-stage to the peer median (``quotaflow.lift``): the effect
has the sign of the lift and grows with the gap, rows that are not flagged (and time flags, which the calibrated
scenario cannot express) get no effect, the paired runs are reproducible, and the lever's training hours follow
the simulator's monthly compounding."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import scenarios
from calibration.diagnosis import DIAGNOSIS_COLUMNS
from quotaflow.lift import LIFT_COLUMNS, TIME_NOT_SIMULATED, lift_targets, simulate_lift, training_hours

REP, STAGE = "R0004", "needs_analysis"  # a mid-tier rep of tiny (owner routing: they work their own deals)
PEER = 0.5


def _row(shrunk: float, *, flagged: bool = True, measure: str = "conversion", rep: str = REP,
         stage: str = STAGE) -> dict[str, object]:
    return {"rep": rep, "stage": stage.title(), "stage_id": stage, "measure": measure, "n": 80, "raw": shrunk,
            "shrunk": shrunk, "low": shrunk - 0.05, "high": shrunk + 0.05, "peer_median": PEER,
            "prob_worse": 0.99 if flagged else 0.5, "credibly_worse": flagged, "indistinguishable": False}


def _diagnosis(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=DIAGNOSIS_COLUMNS)


def test_the_effect_is_positive_and_larger_for_a_larger_gap(tiny: scenarios.Scenario) -> None:
    small = simulate_lift(tiny, _diagnosis(_row(0.45)), replications=40, seed=3).iloc[0]
    large = simulate_lift(tiny, _diagnosis(_row(0.35)), replications=40, seed=3).iloc[0]
    # the rep's needs-analysis skill (their tier's: no own column) is raised by peer / shrunk: 1.11 and 1.43
    base = tiny.settings.tiers[str(tiny.reps.loc[REP, "tier"])].skill[STAGE]
    assert small["lift_skill_from"] == pytest.approx(base) and large["lift_skill_from"] == pytest.approx(base)
    assert small["lift_skill_to"] == pytest.approx(base * PEER / 0.45)
    assert large["lift_skill_to"] == pytest.approx(base * PEER / 0.35)
    for row in (small, large):
        assert row["lift_won_deals_low"] > 0 and row["lift_won_value_low"] > 0, row
        assert row["lift_team_won_deals_low"] > 0, row
        assert row["lift_won_deals_low"] <= row["lift_won_deals"] <= row["lift_won_deals_high"]
    assert large["lift_won_deals"] > small["lift_won_deals"]
    assert large["lift_won_value"] > small["lift_won_value"]
    assert large["lift_training_hours"] > small["lift_training_hours"] > 0


def test_rows_that_are_not_flagged_and_time_flags_get_no_effect(tiny: scenarios.Scenario) -> None:
    d = _diagnosis(_row(0.3, flagged=False), _row(20.0, measure="median_days"),
                   _row(0.3, flagged=False, rep="R0001", stage="demo"))
    out = simulate_lift(tiny, d, replications=5, seed=0)
    assert list(out.columns) == DIAGNOSIS_COLUMNS + LIFT_COLUMNS
    numbers = [c for c in LIFT_COLUMNS if c != "lift_note"]
    assert out[numbers].isna().all().all()
    assert out["lift_note"].tolist() == ["", TIME_NOT_SIMULATED, ""]
    pd.testing.assert_frame_equal(out[DIAGNOSIS_COLUMNS], d)


def test_a_lift_that_cannot_change_the_run_is_refused(tiny: scenarios.Scenario) -> None:
    targets = lift_targets(tiny, _diagnosis(_row(0.3, rep="nobody")))
    assert math.isnan(targets["skill_to"].iloc[0]) and "no rep 'nobody'" in targets["note"].iloc[0]
    # tiny's deals reach this rep after prospecting: lifting their prospecting is refused, not run
    out = simulate_lift(tiny, _diagnosis(_row(0.3, rep="R0003", stage="prospecting")), replications=4, seed=0).iloc[0]
    assert math.isnan(out["lift_won_deals"]) and "works no deal at this stage" in out["lift_note"]


def test_paired_runs_are_reproducible(tiny: scenarios.Scenario) -> None:
    d = _diagnosis(_row(0.35))
    first = simulate_lift(tiny, d, replications=8, seed=11)
    again = simulate_lift(tiny, d, replications=8, seed=11)
    pd.testing.assert_frame_equal(first, again)
    other = simulate_lift(tiny, d, replications=8, seed=12)
    assert other["lift_team_won_value"].iloc[0] != first["lift_team_won_value"].iloc[0]


def test_training_hours_follow_the_simulators_monthly_compounding() -> None:
    # a year at the scenario's pace (40 hours, +5 % a year in 12 monthly steps) raises skill by (1 + 0.05/12)^12
    assert training_hours((1 + 0.05 / 12) ** 12, 40.0, 0.05) == pytest.approx(40.0)
    assert training_hours(1.0, 40.0, 0.05) == 0.0
    assert np.isnan(training_hours(1.1, 40.0, 0.0))
