"""Benchmark: cost of the incentive engine inside a simulation (behaviour calls per rep-week, pay statements).

Usage: python benchmarks/incentives.py [--scenario baseline] [--repeat 5]

For every plan of the scenario, times `sim.incentives.prepare` (once per rep), `appraise` (once per rep and week),
`prioritise` with 20 open deals, and `sim.incentives.pay_statements` for the whole sales force over the horizon, with
quotas = the scenario's annual target split evenly. Prints one CSV row per (plan, step): plan, step, calls,
best_us_per_call, median_us_per_call. The simulator calls appraise/prioritise about reps x weeks times per
replication (40 x 46 = 1,840 for baseline).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import scenarios
from sim.incentives import Position, appraise, pay_statements, prepare, prioritise, weekly_moments


def _per_call(fn: Callable[[], Any], calls: int, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t0) / calls * 1e6)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    s = scenarios.load(args.scenario)
    months = s.settings.calendar.months
    reps = len(s.reps)
    quota = np.full(months, s.settings.targets.annual / reps / 12.0)
    rng = np.random.default_rng(0)
    bookings = quota * rng.uniform(0.5, 1.5, months)
    mean, sd = weekly_moments(quota[0] * 12 / s.settings.calendar.weeks_per_year, 30_000.0)
    deals = pd.DataFrame({"value": rng.uniform(5e3, 8e4, 20), "win_probability": rng.uniform(0.1, 0.9, 20),
                          "close_month": rng.integers(6, months + 2, 20), "hours": rng.uniform(1, 8, 20)})
    pos = Position(8, 0.4, bookings, mean, sd)
    print("plan,step,calls,best_us_per_call,median_us_per_call")
    b = s.settings.behaviour
    for pay_plan_id, pay_plan in s.settings.pay_plans.items():
        for step, fn, calls in [
            ("prepare", lambda p=pay_plan: prepare(p, quota, 60_000.0, b), 20),
            ("appraise", lambda p=pay_plan: appraise(prepare(p, quota, 60_000.0, b), pos), 1),
        ]:
            best, med = _per_call(fn, calls, args.repeat)
            print(f"{pay_plan_id},{step},{calls},{best:.1f},{med:.1f}")
        inc = prepare(pay_plan, quota, 60_000.0, b)
        for step, fn, calls in [("appraise", lambda i=inc: appraise(i, pos), 500),
                                ("prioritise_20_deals", lambda i=inc: prioritise(i, pos, deals), 50)]:
            best, med = _per_call(fn, calls, args.repeat)
            print(f"{pay_plan_id},{step},{calls},{best:.1f},{med:.1f}")
    timeline = pd.DataFrame([(r, m, bookings[m], quota[m]) for r in s.reps.index for m in range(months)],
                            columns=["rep_id", "month", "bookings", "quota"])
    for pay_plan_id in s.settings.pay_plans:
        r = s.reps.assign(pay_plan_id=pay_plan_id)
        best, med = _per_call(lambda r=r: pay_statements(timeline, r, s.settings.pay_plans), 1, args.repeat)
        print(f"{pay_plan_id},pay_statements_{reps}_reps,1,{best:.1f},{med:.1f}")


if __name__ == "__main__":
    main()
