"""The timing fit (``quotaflow calibrate --fit-timing``): simulated month-of-quarter (and December) moments per
pair of customer pull and push shares, the minimum-distance estimate, customer-side waiting only as a residual, and
the Maven golden run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calibration
import scenarios
import sim
from quotaflow.timing_fit import december_measure, fit_timing, month_of_quarter_shares
from sim.deals import WON
from sim.incentives import IncentiveBehaviour


def _profile(shares: list[float], half_width: float) -> pd.DataFrame:
    return pd.DataFrame({"position": [1, 2, 3], "share": shares, "low": [x - half_width for x in shares],
                         "high": [x + half_width for x in shares]})


def test_the_fit_finds_a_profile_it_simulated_and_adds_waiting_only_as_a_residual() -> None:
    s = scenarios.load("baseline")
    far = fit_timing(s, _profile([0.1, 0.2, 0.7], 0.01), grid=(0.0, 1.0), elasticity_grid=(), waiting_grid=(0.3,),
                     replications=2)
    assert not far.reproduces and not far.grid["inside"].any()
    assert "do not reproduce" in far.note()
    games = far.grid[far.grid["quarter_end_waiting"] == 0.0]
    assert len(games) == 4 and len(far.grid) == 5  # every pair, then the residual at the reps' estimate
    # quarter-end waiting moves wins into the third month, so it brings this profile closer and is used
    assert far.waiting == 0.3 and "quarter_end_waiting 0.3" in far.note()
    assert far.chosen["month_3"] > games["month_3"].max() and far.chosen["waited"] > 0
    # nobody willing, nothing moves; pull share alone pulls, push share alone pushes
    by = {(r.pull_share, r.push_share): r for r in games.itertuples()}
    assert by[0.0, 0.0].pulled == by[0.0, 0.0].pushed == 0
    assert by[1.0, 0.0].pushed == 0 and by[0.0, 1.0].pulled == 0
    assert by[1.0, 0.0].pulled > 0 and by[0.0, 1.0].pushed > 0
    # the profile simulated at one pair is found again, without a residual
    own = by[1.0, 0.0]
    target = [own.month_1, own.month_2, own.month_3]
    found = fit_timing(s, _profile(target, 1e-9), grid=(0.0, 1.0), elasticity_grid=(), replications=2)
    assert (found.pull_share, found.push_share, found.waiting) == (1.0, 0.0, None) and found.reproduces
    assert found.chosen["distance"] == pytest.approx(0.0, abs=1e-9)
    assert found.settings() == {"behaviour.customer_pull_share": 1.0, "behaviour.customer_push_share": 0.0,
                                "behaviour.closing_speed_elasticity": 0.0}


def test_the_elasticity_is_fitted_with_the_pull_share_where_stages_have_no_hours() -> None:
    """On stages without hours (as calibrated ones) the closing speed's elasticity to effort moves the profile, and
    the fit finds again the (pull share, elasticity) it simulated; every grid point keeps its distance."""
    base = scenarios.load("baseline")
    s = scenarios.modify(base, {f"funnel.stages.{i}.effort_hours": 0.0 for i in range(len(base.stage_ids))})
    first = fit_timing(s, _profile([0.3, 0.3, 0.4], 0.5), grid=(0.0, 1.0), elasticity_grid=(0.0, 4.0),
                       waiting_grid=(), replications=1)
    g = first.grid
    # the pull x push grid at elasticity 0, then every pull share at elasticity 4 with the push share held
    assert len(g) == 4 + 2 and (g["closing_speed_elasticity"] == 4.0).sum() == 2
    assert g["distance"].notna().all()
    paced = g[g["closing_speed_elasticity"] == 4.0].iloc[-1]
    still = g[(g["closing_speed_elasticity"] == 0.0) & (g["pull_share"] == paced["pull_share"])
              & (g["push_share"] == paced["push_share"])].iloc[0]
    assert abs(paced["month_3"] - still["month_3"]) > 1e-3  # the effort moves the profile
    target = [paced["month_1"], paced["month_2"], paced["month_3"]]
    found = fit_timing(s, _profile(target, 1e-9), grid=(0.0, 1.0), elasticity_grid=(0.0, 4.0), waiting_grid=(),
                       replications=1)
    assert (found.pull_share, found.push_share, found.elasticity) == (
        paced["pull_share"], paced["push_share"], 4.0)
    assert found.chosen["distance"] == pytest.approx(0.0, abs=1e-9) and found.reproduces
    assert found.settings()["behaviour.closing_speed_elasticity"] == 4.0
    assert "closing_speed_elasticity 4" in found.note()
    # where every stage records hours the elasticity changes nothing: the same moments at 0 and 4
    hours = fit_timing(base, _profile([0.3, 0.3, 0.4], 0.5), grid=(1.0,), elasticity_grid=(0.0, 4.0),
                       waiting_grid=(), replications=1).grid
    assert hours["month_3"].iloc[0] == hours["month_3"].iloc[1]


def test_the_decision_calendar_is_fitted_before_the_residual_waiting_and_found_again() -> None:
    """On top of the reps' estimate, each share of long deals held for the quarter's review is simulated on the same
    customers; the fit finds again the share it simulated, writes it with the split, and keeps the losses' shares."""
    s = scenarios.modify(scenarios.load("baseline"), {"accounts.service_hours_per_year": 0.0})
    kw = {"grid": (0.0,), "elasticity_grid": (), "waiting_grid": (0.3,), "calendar_days": 30.0,
          "calendar_grid": (0.5, 1.0), "replications": 1}
    first = fit_timing(s, _profile([0.1, 0.6, 0.3], 0.01), **kw)  # type: ignore[arg-type]
    g = first.grid
    assert list(g["decision_calendar"]) == [0.0, 0.5, 1.0, first.calendar]  # then the residual on top of it
    assert g["quarter_end_waiting"].iloc[-1] == 0.3
    # holding long deals moves wins and losses alike out of a quarter's first month into its second
    assert g["month_1"].iloc[2] < g["month_1"].iloc[1] < g["month_1"].iloc[0]
    assert g["lost_month_1"].iloc[2] < g["lost_month_1"].iloc[0] and g["lost_month_2"].iloc[2] > g[
        "lost_month_2"].iloc[0]
    cal = g.iloc[:3]
    assert first.calendar == cal["decision_calendar"].iloc[int(cal["distance"].argmin())] > 0.0
    assert f"decision_calendar {first.calendar:g}" in first.note()
    held = g.iloc[1]
    found = fit_timing(s, _profile([held["month_1"], held["month_2"], held["month_3"]], 1e-9),
                       **kw)  # type: ignore[arg-type]
    assert found.calendar == 0.5 and found.waiting is None and found.reproduces
    assert found.settings()["simulation.decision_calendar"] == 0.5
    assert found.settings()["simulation.decision_calendar_days"] == 30.0
    # without a split from the export there is no calendar step and the scenario's calendar is left alone
    none = fit_timing(s, _profile([0.1, 0.6, 0.3], 0.01), grid=(0.0,), elasticity_grid=(), waiting_grid=(),
                      replications=1)
    assert len(none.grid) == 1 and "simulation.decision_calendar" not in none.settings()


def test_december_is_a_moment_when_the_export_covers_one() -> None:
    s = scenarios.load("tiny")
    december = pd.DataFrame({"year": [2017], "months_covered": [9], "december_wins": [10], "wins": [60],
                             "measure": ["december_vs_average_month"], "value": [1.5], "low": [1.4],
                             "high": [1.6]})
    fit = fit_timing(s, _profile([0.3, 0.3, 0.4], 0.5), december, pay_plan="annual_bonus", grid=(0.0,),
                     elasticity_grid=(), waiting_grid=(), replications=2)
    row = fit.chosen
    model = sim.build(scenarios.modify(s, {"behaviour.customer_pull_share": 0.0,
                                           "behaviour.customer_push_share": 0.0}))
    monthly = np.zeros(model.n_months)
    for child in np.random.SeedSequence(1).spawn(2):
        _, rec = sim.run_replication(model, child, IncentiveBehaviour.from_model(model, ["annual_bonus"] *
                                                                                 model.n_seats),
                                     sim.PayPlanPay.from_model(model, ["annual_bonus"] * model.n_seats))
        closed = np.asarray(rec.closed)
        won = (np.asarray(rec.status) == WON) & (closed >= 0.0) & (closed < model.month_start[-1])
        monthly += np.bincount(np.searchsorted(model.month_start, closed[won], side="right") - 1,
                               minlength=model.n_months)
    d = int(np.flatnonzero(model.month_of_year == 12)[0])
    assert row["december"] == pytest.approx(monthly[d] / monthly[d - 8:d + 1].mean())
    assert list(fit.export["moment"]) == ["month_1", "month_2", "month_3", "december"]
    assert "December" in fit.note()
    assert december_measure(model, monthly, "december_share_of_year", 12) == pytest.approx(
        monthly[d] / monthly[d - 11:d + 1].sum())


def test_month_of_quarter_counts_only_the_horizons_wins() -> None:
    s = scenarios.load("tiny")
    model = sim.build(s)
    _, rec = sim.run_replication(model, np.random.SeedSequence(1), None)
    counts = month_of_quarter_shares(model, rec)
    closed = np.asarray(rec.closed)
    in_horizon = (np.asarray(rec.status) == WON) & (closed >= 0.0) & (closed < model.month_start[-1])
    assert counts.sum() == in_horizon.sum() > 0


def test_an_unknown_pay_plan_is_refused() -> None:
    with pytest.raises(scenarios.ScenarioError, match="--timing-plan"):
        fit_timing(scenarios.load("tiny"), _profile([0.3, 0.3, 0.4], 0.1), pay_plan="nope")


@pytest.mark.slow
def test_the_maven_scenario_reproduces_the_exports_month_of_quarter_profile(shared_benchmarks: Path) -> None:
    res = calibration.calibrate(shared_benchmarks / "crm" / "maven", calibration.load_mapping(preset="maven"))
    assert res.timing.calendar is not None
    fit = fit_timing(res.scenario, res.timing.month_of_quarter, res.timing.december,
                     calendar_days=res.timing.calendar.split_days, replications=8)
    assert fit.reproduces
    # the decision calendar carries it: no point of the reps' games and effort alone lies inside every interval
    # (nor did the residual waiting at d 0: 0.268 / 0.309 / 0.423, benchmarks/RESULTS.md)
    assert fit.calendar > 0.0 and fit.calendar_days == 33.0
    assert not fit.grid[fit.grid["decision_calendar"] == 0.0]["inside"].any()
