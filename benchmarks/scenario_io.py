"""Benchmark: generate, save and load a large scenario (target: 100,000 accounts in a few seconds, < 1 GB).

Usage: python benchmarks/scenario_io.py [--accounts 100000] [--reps 1000] [--regions 8] [--repeat 3]

Prints one CSV row per phase (phase, seconds_best, seconds_median) and the process's peak resident memory.
Each phase is repeated and the best and median wall times reported, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scenarios


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=1_000)
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{args.reps} reps x {args.accounts} accounts in {args.regions} regions")
    print("phase,seconds_best,seconds_median")
    best, med, s = _time(lambda: scenarios.generate(args.reps, args.accounts, seed=1, regions=args.regions),
                         args.repeat)
    print(f"generate,{best:.3f},{med:.3f}")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "big"
        best, med, _ = _time(lambda: scenarios.save(s, folder, overwrite=True), args.repeat)
        print(f"save,{best:.3f},{med:.3f}")
        best, med, loaded = _time(lambda: scenarios.load(folder), args.repeat)
        print(f"load,{best:.3f},{med:.3f}")
        size = sum(p.stat().st_size for p in folder.iterdir())
    assert loaded.equals(s.replace(source=str(folder)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# folder size {size / 1e6:.1f} MB; peak resident memory of this process {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
