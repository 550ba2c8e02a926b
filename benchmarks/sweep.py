"""Benchmark: a what-if sweep of the bundled baseline (target: 500 points x 5 replications).

Usage: python benchmarks/sweep.py [--points 500] [--replications 5] [--workers 2] [--executors local,dask]

Runs the same sweep on each executor (a local process pool and a Dask LocalCluster with the same number of
workers), checks the summaries are identical, and prints wall time, tasks per second, replications per second
per core, and the peak resident memory of the driver and of its children (the workers).
"""

from __future__ import annotations

import argparse
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import scenarios
from quotaflow.grid import expand
from quotaflow.sweep import sweep
from quotaflow.whatif import simulate_point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--executors", default="local,dask")
    args = parser.parse_args()
    base = scenarios.load("baseline")
    # Two axes whose product is the requested number of points: junior selling hours and commission rate.
    n_hours = max(1, round(float(np.sqrt(args.points))))
    n_rate = int(np.ceil(args.points / n_hours))
    grid = {"reps[tier=junior].hours_per_week": [float(h) for h in np.linspace(30, 45, n_hours).round(2)],
            "pay_plans.flat_commission.commission_rate": [float(r) for r in np.linspace(0.02, 0.10, n_rate).round(5)]}
    points = expand(grid)[: args.points]
    print(f"# {platform.machine()}, Python {platform.python_version()}, {len(points)} points x "
          f"{args.replications} replications of baseline, {args.workers} workers")
    print("executor,seconds,tasks_per_s,replications_per_s_per_core")
    summaries = {}
    for executor in args.executors.split(","):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            result = sweep(base, points, evaluate=simulate_point, out=Path(d), replications=args.replications,
                           seed=7, workers=args.workers, dask_local=args.workers if executor == "dask" else None,
                           progress=False)
            wall = time.perf_counter() - t0
        summaries[executor] = result.summary
        reps_per_core = len(points) * args.replications / wall / args.workers
        print(f"{executor},{wall:.1f},{len(points) / wall:.2f},{reps_per_core:.2f}")
    frames = list(summaries.values())
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], other)
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"# summaries identical across executors; peak RSS driver {driver:.0f} MB, largest worker "
          f"{children:.0f} MB")


if __name__ == "__main__":
    main()
