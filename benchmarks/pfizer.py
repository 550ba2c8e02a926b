"""The Pfizer Turkey territory case (22 bricks, 4 sales reps) as a quotaflow scenario.

Workload = the brick's index value (pair ``hours``), distance = km from the rep's office (pair ``travel_km``),
disruption = index value of bricks that leave today's rep (``annual_potential`` = index value). For the workload
band [0.8, 1.2] the literature values are: today 187.41 km, minimum distance 154.60 km, minimum disruption
0.1696. Prints one CSV row per question.

Usage::

    python benchmarks/pfizer.py ../shared/benchmarks/territory/pfizer
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import scenarios
from optimizer import allocate, evaluate, scenario_from_pairs

__all__ = ["pfizer_scenario", "solve_pfizer"]


def pfizer_scenario(folder: Path, low: float = 0.8, high: float = 1.2) -> scenarios.Scenario:
    """The case as a scenario with an absolute workload band [low, high] and distance as the cost."""
    bricks = pd.read_csv(folder / "bricks.csv")
    reps = pd.read_csv(folder / "reps.csv")
    rep_ids = [f"SR{int(r)}" for r in reps["sr_id"]]
    acc_ids = [f"B{int(b)}" for b in bricks["brick_id"]]
    pairs = pd.DataFrame({
        "rep_id": np.repeat(rep_ids, len(acc_ids)),
        "account_id": np.tile(acc_ids, len(rep_ids)),
        "value": 0.0,
        "hours": np.tile(bricks["index_value"].to_numpy(dtype=float), len(rep_ids)),
        "travel_km": np.concatenate([bricks[f"km_to_sr{int(r)}"].to_numpy(dtype=float) for r in reps["sr_id"]]),
    })
    current = dict(zip(acc_ids, [f"SR{int(r)}" for r in bricks["current_sr"]], strict=True))
    potential = dict(zip(acc_ids, bricks["index_value"].to_numpy(dtype=float), strict=True))
    opt = {"objective": "cost", "travel_weight": 1.0, "disruption_weight": 0.0, "mip_gap": 0.0, "method": "mip",
           "balance": [{"attribute": "hours", "min": low, "max": high, "relative": False}]}
    return scenario_from_pairs(pairs, {r: 10.0 for r in rep_ids}, current=current, potential=potential,
                               optimizer=opt, name="pfizer", account_order=acc_ids)


def solve_pfizer(folder: Path, low: float = 0.8, high: float = 1.2) -> dict[str, float]:
    """Today's distance, the minimum distance, and the minimum disruption (with its distance)."""
    s = pfizer_scenario(folder, low, high)
    today = evaluate(s, scenarios.Plan.current(s), s.settings.optimizer.model_copy(update={"balance": []}))
    distance = allocate(s)
    disruption_settings = s.settings.optimizer.model_copy(update={"travel_weight": 0.0, "disruption_weight": 1.0})
    disruption = allocate(s, disruption_settings)
    km = float(disruption.assignments["travel_km"].sum()) if disruption.ok else float("nan")
    return {"today_km": today.objective, "min_km": distance.objective, "min_km_status": str(distance.status),
            "min_disruption": disruption.objective, "min_disruption_status": str(disruption.status),
            "km_at_min_disruption": km}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--low", type=float, default=0.8)
    parser.add_argument("--high", type=float, default=1.2)
    args = parser.parse_args(argv)
    out = solve_pfizer(args.folder, args.low, args.high)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(list(out))
    w.writerow([f"{v:.4f}" if isinstance(v, float) else v for v in out.values()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
