"""Cost of team / region bonuses and contests in simulation: every seat of baseline on ``flat_commission``, alone,
plus a quarterly region bonus, or plus a quarterly attainment contest; seconds per replication (4 replications).

Usage: ``.venv/bin/python benchmarks/team_contest.py``
"""

from __future__ import annotations

import os
import time

import numpy as np

import scenarios
import sim
from sim.incentives import IncentiveBehaviour

TEAM = {"scope": "region", "period": "quarter", "steps": [{"attainment": 1.0, "amount": 3000.0}]}
CONTEST = [{"name": "top", "period": "quarter", "metric": "attainment", "prizes": [5000.0, 2000.0]}]


def main() -> None:
    print(f"load: {os.getloadavg()}  cpus: {os.cpu_count()}")
    base = scenarios.load("baseline")
    variants = {"flat": base,
                "flat + region bonus": scenarios.modify(base, {"pay_plans.flat_commission.team_bonus": TEAM}),
                "flat + contest": scenarios.modify(base, {"pay_plans.flat_commission.contests": CONTEST})}
    for label, s in variants.items():
        m = sim.build(s)
        ids = ["flat_commission"] * m.n_seats
        behaviour, pay = IncentiveBehaviour.from_model(m, ids), sim.PayPlanPay.from_model(m, ids)
        t = time.perf_counter()
        for seed in np.random.SeedSequence(11).spawn(4):
            sim.run_replication(m, seed, behaviour, pay)
        print(f"  {label:<22} {(time.perf_counter() - t) / 4:.3f} s / replication")


if __name__ == "__main__":
    main()
