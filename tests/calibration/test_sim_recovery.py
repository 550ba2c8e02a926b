"""Parameter recovery through the simulator (tests/calibration/simulated_export.py): a run with known stage
conversions, durations, arrival rate and per-rep skills, written as a Salesforce export and calibrated, must show
the truth inside the reported 90 % intervals near the nominal rate, and shrinkage must bring the per-rep rates
closer to the truth than the raw ones.

Per-rep intervals carry the uncertainty of the fitted group prior (``calibration.reps.hyper_posterior``), so they
hold the truth near the nominal rate also where the likelihood-ratio test misses a real spread (the last stage, about
15 resolved deals a rep a year): with the plug-in prior those intervals covered 0.07, integrated 0.80 (40 seeds,
benchmarks/RESULTS.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simulated_export as se


def test_truth_inside_the_intervals_and_shrinkage_helps(tmp_path: Path) -> None:
    runs = [se.recover(se.scenario(skill_seed=seed), seed, tmp_path / f"s{seed}") for seed in range(3)]
    cov = se.coverage(runs)
    pooled = [cov["conversion"], cov["mean_days"], cov["arrivals"]]
    # 33 pooled checks at a nominal 90 %: below 0.7 is more than three standard errors off; every interval
    # holding the truth in all 600 per-rep checks would mean intervals far too wide
    assert float(np.mean(pooled)) >= 0.7, cov
    assert 0.8 <= cov["rep_rates_distinguishable"] < 0.99, cov
    assert cov["rmse_shrunk"] < cov["rmse_raw"], cov


@pytest.mark.slow
def test_coverage_is_near_nominal_over_many_seeds(tmp_path: Path) -> None:
    runs = [se.recover(se.scenario(skill_seed=seed), seed, tmp_path / f"s{seed}") for seed in range(40)]
    cov = se.coverage(runs)
    print(cov)
    checks = {"conversion": 200, "mean_days": 200, "arrivals": 40, "rep_rates": cov["checks_reps"],
              "rep_rates_distinguishable": cov["checks_reps"] - cov["checks_indistinguishable"]}
    for kind, n in checks.items():
        se_rate = np.sqrt(0.9 * 0.1 / n)
        assert abs(cov[kind] - 0.9) < 3.5 * se_rate + 0.01, (kind, cov)
    assert cov["rmse_shrunk"] < 0.9 * cov["rmse_raw"], cov
    # Where the spread test missed (17 of 200 stage-seeds, ~680 cells in clusters of 40 reps sharing one miss), the
    # plug-in prior's intervals covered 0.07; integrated over the prior's uncertainty 0.80. A cell's coverage given
    # that the data understated the spread sits below nominal; the bound guards against falling back to plug-in.
    assert cov["rep_rates_indistinguishable"] >= 0.6, cov
