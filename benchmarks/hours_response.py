"""When do a month's extra hours book? Every rep works ``--factor`` times the norm hours in one month of the horizon
(``--month``, 0 = first) and at the norm otherwise; the paired difference in bookings per month against the
norm-hours run, on the same customers, says how fast effort turns into bookings in the simulator.

Usage: ``.venv/bin/python benchmarks/hours_response.py [--month 5] [--factor 1.25] [--replications 24]``
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from scipy import stats

import scenarios
import sim
from sim.policy import NormBehaviour, RepState


@dataclass(frozen=True)
class OneMonthBoost(NormBehaviour):
    """Norm hours, times ``factor`` in horizon month ``month``."""

    month: int = 5
    factor: float = 1.25

    def weekly_hours(self, rep: RepState) -> float:
        boosted = rep.month == self.month and rep.now >= 0.0
        return rep.norm_hours * (self.factor if boosted else 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--month", type=int, default=5)
    ap.add_argument("--factor", type=float, default=1.25)
    ap.add_argument("--replications", type=int, default=24)
    ap.add_argument("--root", type=int, default=3)
    a = ap.parse_args()
    t0 = time.perf_counter()
    model = sim.build(scenarios.load("baseline"))
    seeds = np.random.SeedSequence(a.root).spawn(a.replications)
    norm = np.array([sim.run_replication(model, sd)[1].bookings.sum(axis=0) for sd in seeds])
    seeds = np.random.SeedSequence(a.root).spawn(a.replications)
    boost = OneMonthBoost(month=a.month, factor=a.factor)
    more = np.array([sim.run_replication(model, sd, boost)[1].bookings.sum(axis=0) for sd in seeds])
    d = more - norm
    mean, se = d.mean(axis=0), d.std(axis=0, ddof=1) / np.sqrt(a.replications)
    half = float(stats.t.ppf(0.975, a.replications - 1))
    print(f"baseline, hours x{a.factor} in month {a.month}, {a.replications} replications, root {a.root}")
    print(f"bookings in month {a.month} at the norm: {norm[:, a.month].mean() / 1e3:,.0f} k")
    for m in range(a.month, model.n_months):
        lo, hi = (mean[m] - half * se[m]) / 1e3, (mean[m] + half * se[m]) / 1e3
        print(f"  month {m:>2}: extra bookings {mean[m] / 1e3:+8,.0f} k  (95 % CI {lo:+,.0f} to {hi:+,.0f})")
    later = d[:, a.month:].sum(axis=1)
    print(f"  rest of the horizon: {later.mean() / 1e3:+,.0f} k (95 % CI "
          f"{(later.mean() - half * later.std(ddof=1) / np.sqrt(a.replications)) / 1e3:+,.0f} to "
          f"{(later.mean() + half * later.std(ddof=1) / np.sqrt(a.replications)) / 1e3:+,.0f})")
    print(f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
