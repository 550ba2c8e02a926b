"""Coverage of the per-rep 90 % intervals through the simulator, plug-in prior against the prior's uncertainty
integrated (``calibration.reps.hyper_posterior``), from the same per-rep counts.

Each seed runs the parameter-recovery pipeline of ``tests/calibration/simulated_export.py`` once (simulate the clean
``baseline``, export, calibrate); the per-rep counts are kept and both interval kinds computed from them: the plug-in
``Beta(w + alpha_hat, n - w + beta_hat)`` quantiles and the integrated ones. Prints coverage split by whether the
stage's spread test detected the reps' spread, by stage, the mean widths and the RMSE of the point estimates.

Usage: python benchmarks/rep_intervals.py [--seeds 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from calibration.reps import fit_beta_binomial, hyper_posterior, posterior_mean, posterior_quantile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "calibration"))
import simulated_export as se


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            rec = se.recover(se.scenario(skill_seed=seed), seed, Path(tmp) / f"s{seed}")
            rows.append(rec.reps.assign(seed=seed))
    d = pd.concat(rows, ignore_index=True)
    d["passed"] = np.round(d["raw_rate"] * d["trials"])
    parts = []
    for _, g in d.groupby(["seed", "stage_id"], sort=False):
        w, n = g["passed"].to_numpy(float), g["trials"].to_numpy(float)
        prior = fit_beta_binomial(w, n)
        hp = hyper_posterior(w, n)
        parts.append(g.assign(
            plugin_mean=(w + prior.alpha) / (n + prior.alpha + prior.beta),
            plugin_low=stats.beta.ppf(0.05, w + prior.alpha, n - w + prior.beta),
            plugin_high=stats.beta.ppf(0.95, w + prior.alpha, n - w + prior.beta),
            integrated_mean=posterior_mean(w, n, hp), integrated_low=posterior_quantile(0.05, w, n, hp),
            integrated_high=posterior_quantile(0.95, w, n, hp)))
    d = pd.concat(parts)
    missed = d["indistinguishable"].astype(bool)
    print(f"{args.seeds} seeds, {len(d)} rep-stage cells, spread missed in {int(missed.sum())}")
    for kind in ("plugin", "integrated"):
        hit = (d[f"{kind}_low"] <= d["rate_true"]) & (d["rate_true"] <= d[f"{kind}_high"])
        width = d[f"{kind}_high"] - d[f"{kind}_low"]
        rmse = float(np.sqrt(np.mean((d[f"{kind}_mean"] - d["rate_true"]) ** 2)))
        print(f"{kind:>10}: coverage all {hit.mean():.3f}, detected {hit[~missed].mean():.3f}, missed "
              f"{hit[missed].mean():.3f}; width detected {width[~missed].mean():.3f}, missed "
              f"{width[missed].mean():.3f}; RMSE {rmse:.4f}")
        print("            by stage " + ", ".join(f"{k} {v:.3f}" for k, v in hit.groupby(d["stage_id"]).mean().items()))
    raw = float(np.sqrt(np.mean((d["raw_rate"] - d["rate_true"]) ** 2)))
    print(f"RMSE raw {raw:.4f}")


if __name__ == "__main__":
    main()
