"""OR-Library Generalized Assignment Problem instances solved by quotaflow's allocator, through the public API.

Each instance becomes a scenario (``optimizer.scenario_from_pairs``): agents are reps whose yearly capacity is
the instance capacity (exactly, as hours/week x 32 weeks), jobs are accounts, every (agent, job) is a candidate
pair with ``value`` = profit/cost and ``hours`` = resource use. ``--sense max`` maximises profit (objective ``value``),
``--sense min`` minimises cost (objective ``cost``). Prints CSV rows: file, instance, m, n, sense, objective,
bound, status, seconds.

Usage::

    python benchmarks/gap.py ../shared/benchmarks/gap/gap1.txt --sense max
    python benchmarks/gap.py ../shared/benchmarks/gap/gapa.txt --sense min --time-limit 60
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import scenarios
from optimizer import AllocationResult, allocate, scenario_from_pairs

__all__ = ["GapInstance", "read_gap", "solve_gap", "to_scenario"]

_NAMES = {f"gap{k}.txt": f"c{m}{n}" for k, (m, n) in enumerate(
    [(5, 15), (5, 20), (5, 25), (5, 30), (8, 24), (8, 32), (8, 40), (8, 48), (10, 30), (10, 40), (10, 50),
     (10, 60)], start=1)}


@dataclass(frozen=True)
class GapInstance:
    """One GAP instance: profit/cost and resource matrices (m agents x n jobs) and agent capacities."""

    file: str
    index: int
    name: str
    value: np.ndarray
    resource: np.ndarray
    capacity: np.ndarray

    @property
    def m(self) -> int:
        return int(self.value.shape[0])

    @property
    def n(self) -> int:
        return int(self.value.shape[1])


def read_gap(path: Path) -> Iterator[GapInstance]:
    """Parse an OR-Library GAP file by whitespace (gapa-d wrap lines every 12 numbers)."""
    tokens = path.read_text(encoding="ascii").split()
    values = [int(t) for t in tokens]
    pos = 0
    count = values[pos]
    pos += 1
    for k in range(1, count + 1):
        m, n = values[pos], values[pos + 1]
        pos += 2
        value = np.array(values[pos:pos + m * n], dtype=float).reshape(m, n)
        pos += m * n
        resource = np.array(values[pos:pos + m * n], dtype=float).reshape(m, n)
        pos += m * n
        capacity = np.array(values[pos:pos + m], dtype=float)
        pos += m
        stem = path.stem
        name = f"{_NAMES[path.name]}-{k}" if path.name in _NAMES else f"{stem[-1]}{m:02d}{n}"
        yield GapInstance(path.name, k, name, value, resource, capacity)


def to_scenario(inst: GapInstance, sense: str, time_limit: float, mip_gap: float = 0.0) -> scenarios.Scenario:
    """The instance as a quotaflow scenario (pair table + per-rep capacity), solved exactly by default."""
    m, n = inst.m, inst.n
    reps = [f"agent{i + 1}" for i in range(m)]
    jobs = [f"job{j + 1}" for j in range(n)]
    pairs = pd.DataFrame({
        "rep_id": np.repeat(reps, n), "account_id": np.tile(jobs, m),
        "value": inst.value.ravel(), "hours": inst.resource.ravel(),
    })
    opt = {"objective": "value" if sense == "max" else "cost", "time_limit_s": time_limit, "mip_gap": mip_gap,
           "travel_weight": 0.0, "disruption_weight": 0.0, "method": "mip"}
    return scenario_from_pairs(pairs, dict(zip(reps, inst.capacity, strict=True)), optimizer=opt,
                               name=inst.name, account_order=jobs)


def solve_gap(inst: GapInstance, sense: str, time_limit: float, solver: str = "highs") -> AllocationResult:
    """Solve one instance with ``allocate``."""
    s = to_scenario(inst, sense, time_limit)
    if solver != "highs":
        s = scenarios.modify(s, {"optimizer.solver": solver})
    return allocate(s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--sense", choices=["max", "min"], default="max")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    args = parser.parse_args(argv)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["file", "instance", "m", "n", "sense", "objective", "bound", "status", "seconds"])
    for path in args.files:
        for inst in read_gap(path):
            r = solve_gap(inst, args.sense, args.time_limit, args.solver)
            out.writerow([inst.file, inst.name, inst.m, inst.n, args.sense, f"{r.objective:.6g}",
                          f"{r.bound:.6g}", str(r.status), f"{r.seconds:.2f}"])
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
