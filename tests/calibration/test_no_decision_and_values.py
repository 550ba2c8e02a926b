"""Deals that never get a decision, and the value of simulated deals, through the simulator and back.

A run of the clean recovery scenario (tests/calibration/simulated_export.py) in which a known share of each
stage's deals never gets a decision is written as an export and calibrated: the estimated share must hold the truth
inside its 90 % interval near the nominal rate. A calibrated scenario must value its simulated won deals at the
export's mean won deal value (the old scaling, which folded the win probability into account potential, valued
them at about the win probability times it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import simulated_export as se

import calibration
import scenarios
from scenarios.demand import account_demand
from sim import build
from sim.deals import LOST, LOST_NO_DECISION
from sim.pipeline import open_deals as sim_open_deals
from sim.simulation import run_replication

SHARES = (0.10, 0.05, 0.15, 0.08, 0.12)
"""No-decision share of each of the recovery scenario's five stages (spread so that each stage is checked at its
own level, as a real funnel's would differ)."""


def _scenario(skill_seed: int) -> scenarios.Scenario:
    base = se.scenario(skill_seed=skill_seed)
    return scenarios.modify(base, {f"funnel.stages.{i}.no_decision_share": q for i, q in enumerate(SHARES)})


def _calibrate(sc: scenarios.Scenario, seed: int, folder: Path) -> calibration.CalibrationResult:
    return se.export_and_calibrate(build(sc), sc, seed, folder)[0]


def _hits(result: calibration.CalibrationResult) -> np.ndarray:
    est = result.funnel.set_index("stage_id").reindex([s for s in se.scenario().stage_ids])
    truth = np.array(SHARES)
    return np.asarray((est["no_decision_low"] <= truth) & (truth <= est["no_decision_high"]), dtype=bool)


def test_simulator_records_no_decision_and_keeps_other_draws() -> None:
    sc = _scenario(0)
    plain = se.scenario(skill_seed=0)
    leads_q, rec_q = run_replication(build(sc), np.random.SeedSequence(4))
    leads_0, rec_0 = run_replication(build(plain), np.random.SeedSequence(4))
    # the no-decision draws come from their own stream: every lead and its other draws are the same
    assert np.array_equal(leads_q.time, leads_0.time) and np.array_equal(leads_q.outcome_u, leads_0.outcome_u)
    silent = (rec_q.status == LOST) & (rec_q.lost_reason == LOST_NO_DECISION)
    assert silent.sum() > 0 and not ((rec_0.status == LOST) & (rec_0.lost_reason == LOST_NO_DECISION)).any()
    # a deal won without the exit is either won with it or left without a decision, never lost on the merits
    won_0 = rec_0.status == 1
    assert np.all((rec_q.status[won_0] == 1) | silent[won_0] | (rec_q.status[won_0] == 0))
    assert rec_q.status.tolist().count(1) < rec_0.status.tolist().count(1)


def test_no_decision_share_is_recovered(tmp_path: Path) -> None:
    hits = np.concatenate([_hits(_calibrate(_scenario(seed), seed, tmp_path / f"s{seed}")) for seed in range(2)])
    # 10 checks at a nominal 90 %: fewer than 7 is more than two standard errors below it
    assert hits.mean() >= 0.7, hits


@pytest.mark.slow
def test_no_decision_coverage_is_near_nominal_over_many_seeds(tmp_path: Path) -> None:
    hits = np.concatenate([_hits(_calibrate(_scenario(seed), seed, tmp_path / f"s{seed}")) for seed in range(20)])
    n = len(hits)
    print(f"no-decision share: {hits.mean():.3f} of {n} intervals hold the truth")
    assert abs(hits.mean() - 0.9) < 3.5 * np.sqrt(0.9 * 0.1 / n) + 0.01, hits.mean()


def test_calibrated_deals_are_worth_the_exports_won_deals(tmp_path: Path) -> None:
    result = _calibrate(se.scenario(skill_seed=1), 1, tmp_path / "export")
    sizes = result.deal_sizes
    priced = sizes[sizes["mean"].notna()]
    mean_won = float((priced["mean"] * priced["mix"]).sum() / priced["mix"].sum())
    sc = result.scenario
    demand = account_demand(sc)
    lead_value = float((demand["leads"] * demand["deal_value"]).sum() / demand["leads"].sum())
    # the scaled potentials are rounded to the cent
    assert lead_value == pytest.approx(mean_won, rel=1e-4)
    model = build(scenarios.modify(sc, {"calendar.months": 12}))
    values = []
    for child in np.random.SeedSequence(2).spawn(2):
        leads, rec = run_replication(model, child)
        values.append(leads.value[(rec.status == 1) & (rec.closed >= 0)])
    won = np.concatenate(values)
    se_mean = float(won.std(ddof=1) / np.sqrt(len(won)))
    # within four standard errors of the export's mean; the old scaling valued them at the win probability (about
    # 0.2 in this funnel) times it, tens of standard errors away
    assert abs(float(won.mean()) - mean_won) < 4.0 * se_mean, (won.mean(), mean_won, se_mean)
    win = float(np.prod([st.conversion * (1.0 - (st.no_decision_share or 0.0)) for st in sc.settings.funnel.stages]))
    assert abs(win * mean_won - mean_won) > 10.0 * se_mean


def test_an_old_open_deal_is_almost_surely_undecided_and_a_new_one_at_the_share() -> None:
    share = 0.2
    tiny = scenarios.modify(scenarios.load("tiny"), {"funnel.stages.2.no_decision_share": share})
    model = build(tiny)
    mean = float(model.mean_days[2])
    n = 400
    frame = pd.DataFrame({"owner": [model.rep_ids[i % len(model.rep_ids)] for i in range(2 * n)], "stage": 2,
                          "days_in_stage": [0.0] * n + [20.0 * mean] * n, "age_days": [0.0] * n + [20.0 * mean] * n})
    opened = sim_open_deals(model, frame)
    silent = np.zeros(2 * n)
    for child in np.random.SeedSequence(5).spawn(3):
        _, rec = run_replication(model, child, pipeline=opened)
        last = rec.lost_reason[-2 * n:]
        silent += (rec.status[-2 * n:] == LOST) & (last == LOST_NO_DECISION)
    young, old = silent[:n].mean() / 3, silent[n:].mean() / 3
    # Bayes' rule: a deal just entered is undecided at the stage's share; twenty mean durations on, only the
    # undecided are still open
    assert abs(young - share) < 4 * np.sqrt(share * (1 - share) / (3 * n)), young
    assert old > 0.99, old
