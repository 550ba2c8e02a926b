"""The demo's allocation on ``baseline``: wall time, load, status, gap and hashes of the written files.

Run it on a quiet and on a busy machine: the hashes must agree, because the demo solves to the scenario's
``mip_gap`` and its wall limit (``quotaflow.demo.DEMO_TIME_LIMIT``) is only a safety net.

Usage::

    python benchmarks/demo_allocation.py
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import scenarios
from quotaflow.demo import demo_allocation
from quotaflow.writer import write_result


def main() -> int:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    result = demo_allocation(scenarios.load("baseline"))
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        write_result(result, Path(tmp), summary=None)
        hashes = {f: hashlib.sha256((Path(tmp) / f).read_bytes()).hexdigest()[:16]
                  for f in ("assignments.csv", "reps.csv")}
    print(f"load before {load:.2f}, after {os.getloadavg()[0]:.2f}; {seconds:.1f} s; {result.status}, gap "
          f"{result.gap:.5%}, objective {result.objective:,.2f}; {hashes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
