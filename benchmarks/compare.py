"""Speed of the pay-plan comparison: per-replication cost of the incentive adapter and PayPlanPay on baseline,
and a full 5-plan comparison end to end.

Run: ``.venv/bin/python benchmarks/compare.py`` (``--replications N``, default 20; ``--quick`` skips the full
comparison; ``--no-timing-games`` turns ``[behaviour] timing_games`` off, on by default).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import scenarios
import sim
from quotaflow.comparison import compare
from sim.incentives import IncentiveBehaviour

PLANS = ["flat_commission", "annual_bonus", "quarterly_bonus", "tiered_accelerator", "capped"]


def per_replication(s: scenarios.Scenario, n: int = 5) -> None:
    m = sim.build(s)

    def run(behaviour: sim.Behaviour | None, pay: sim.PayFunction | None) -> float:
        best = float("inf")
        for _ in range(2):
            t = time.perf_counter()
            for seed in np.random.SeedSequence(11).spawn(n):
                sim.run_replication(m, seed, behaviour, pay)
            best = min(best, (time.perf_counter() - t) / n)
        return best

    print(f"  NormBehaviour + commission_pay          {run(None, None):.3f} s / replication")
    for pay_plan in PLANS:
        b = IncentiveBehaviour.from_model(m, [pay_plan] * m.n_seats)
        pay = sim.PayPlanPay.from_model(m, [pay_plan] * m.n_seats)
        print(f"  IncentiveBehaviour + PayPlanPay {pay_plan:<18} {run(b, pay):.3f} s / replication")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-timing-games", action="store_true")
    args = ap.parse_args()
    print(f"load: {os.getloadavg()}  cpus: {os.cpu_count()}")
    s = scenarios.load("baseline")
    if args.no_timing_games:
        s = scenarios.modify(s, {"behaviour.timing_games": False})
    print(f"baseline{' without' if args.no_timing_games else ' with'} timing games, best of 2 x 5 replications:")
    per_replication(s)
    if not args.quick:
        t = time.perf_counter()
        res = compare(s, PLANS, replications=args.replications, seed=20261123)
        print(f"compare baseline, {len(PLANS)} plans x {args.replications} replications, 1 worker: "
              f"{time.perf_counter() - t:.1f} s")
        print(res)
        print(res.variance[res.variance["metric"] == "revenue"].to_string(index=False))
    print(f"load at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
