"""Start-up of a large allocation: the work before any region starts solving, step by step, with peak memory.

Times ``candidate_pairs``, ``prepare`` (which builds the candidate pairs again, then the objective and the bands)
and ``precheck``: the public steps ``allocate`` runs before it cuts the model into regions. The scenario is
generated once and kept under ``--work`` (the folder ``benchmarks/allocate_scale.py`` uses, so its cached
scenarios are read, never written).

Usage::

    python benchmarks/allocate_startup.py --accounts 250000 --reps 1000 --regions 8
    python benchmarks/allocate_startup.py --accounts 20000 --reps 200 --profile startup.html
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from allocate_scale import scale_arguments, scenario_folder  # this folder is on the path when run as a script

import scenarios
from optimizer import candidate_pairs, precheck, prepare

T = TypeVar("T")


def _peak_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(args: argparse.Namespace) -> scenarios.Scenario:
    return scenarios.load(scenario_folder(args))


def _phases(scenario: scenarios.Scenario) -> dict[str, float]:
    seconds: dict[str, float] = {}

    def timed(name: str, call: Callable[[], T]) -> T:
        start = time.perf_counter()
        out = call()
        seconds[name] = round(time.perf_counter() - start, 2)
        seconds[f"{name}_peak_mb"] = round(_peak_mb())
        return out

    pairs = timed("candidate_pairs", lambda: len(candidate_pairs(scenario).pairs))
    inputs = timed("prepare", lambda: prepare(scenario))
    timed("precheck", lambda: precheck(scenario, inputs))
    seconds["pairs"] = pairs
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    scale_arguments(parser)
    parser.add_argument("--profile", type=Path, help="write a pyinstrument HTML profile here (needs pyinstrument)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    scenario = _load(args)
    loaded = round(time.perf_counter() - start, 1)
    load_before = [round(x, 2) for x in os.getloadavg()]
    if args.profile is not None:
        from pyinstrument import Profiler

        with Profiler() as profiler:
            seconds = _phases(scenario)
        args.profile.write_text(profiler.output_html())
        print(profiler.output_text(color=False, show_all=False))
    else:
        seconds = _phases(scenario)
    print(json.dumps({"accounts": args.accounts, "reps": args.reps, "load_seconds": loaded, **seconds,
                      "peak_rss_mb": round(_peak_mb()), "load_before": load_before,
                      "load_after": [round(x, 2) for x in os.getloadavg()]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
