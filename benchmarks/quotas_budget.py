"""Benchmark quota setting and budget allocation at the sizes planners use (see RESULTS.md for the targets).

- Quotas: 2,000 reps x 12 months x 10 products (a generated scenario with 50,000 accounts in 8 regions), every
  method; equal_probability gets 200 simulated samples per rep (gamma around each rep's expected sales).
- Budget: 20 channels x 20 regions x 12 months with 10 breakpoints per curve (48,000 segment variables).

Run: ``.venv/bin/python benchmarks/quotas_budget.py [--repeat N]``; prints one CSV row per case (best of N
wall-clock seconds) and the machine load, for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

import numpy as np

import scenarios
from optimizer import allocate_budget, expected_sales, set_quotas


def _quota_scenario() -> scenarios.Scenario:
    return scenarios.generate(reps=2000, accounts=50_000, seed=4, regions=8, products=10, months=12)


def _budget_scenario() -> scenarios.Scenario:
    s = scenarios.generate(reps=40, accounts=4000, seed=4, regions=20, products=3, months=12)
    rng = np.random.default_rng(4)
    channels: dict[str, Any] = {}
    for c in range(20):
        widths = rng.uniform(500.0, 3000.0, size=9)
        slopes = np.sort(rng.uniform(0.001, 0.02, size=9))[::-1]
        spend = np.concatenate([[0.0], np.cumsum(widths)])
        leads = np.concatenate([[0.0], np.cumsum(widths * slopes)])
        channels[f"channel_{c + 1:02d}"] = {
            "curve_spend": spend.round(2).tolist(), "curve_leads": leads.round(4).tolist(),
            "lead_quality": float(rng.uniform(0.6, 1.6)),
            "seasonality": rng.uniform(0.5, 1.5, 12).round(3).tolist() if c % 2 else [],
            "min_spend": 5_000.0 if c < 5 else 0.0,
            "max_spend": 400_000.0 if c % 5 == 4 else None,
        }
    # ~60 % of what the curves can usefully absorb, so the budget binds
    capacity = sum(ch["curve_spend"][-1] for ch in channels.values()) * 20 * 12
    return scenarios.modify(s, {"channels": channels, "budget.total": float(round(0.6 * capacity, -3)),
                                "budget.max_monthly_spend": float(round(0.6 * capacity / 10, -3))})


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"# {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    t = time.perf_counter()
    s = _quota_scenario()
    assignment = scenarios.Plan.current(s).assignment
    print(f"# quota scenario generated in {time.perf_counter() - t:.1f} s: {s!r}")
    info = expected_sales(s, assignment)
    rng = np.random.default_rng(7)
    samples = rng.gamma(8.0, 1.0, size=(len(s.reps), 200)) * (info["expected_sales"].to_numpy()[:, None] / 8.0
                                                              * 0.4 + 1.0)
    print("case,size,method,seconds,status,cells,detail")
    for method in ("even", "potential", "expected_sales", "fair", "equal_probability"):
        secs, r = _best(lambda m=method: set_quotas(s, assignment, method=m, sales_distribution=samples),
                        args.repeat)
        detail = (f"max_rel_dev={r.max_relative_deviation:.4f}" if method != "equal_probability" else
                  "p=" + "/".join(f"{v:.3f}" for v in r.attainment_probability.values()))
        print(f"quotas,2000x12x10,{method},{secs:.2f},{r.status},{len(r.quotas)},{detail}")
    b = _budget_scenario()
    secs, r = _best(lambda: allocate_budget(b), args.repeat)
    print(f"budget,20x20x12x10,lp,{secs:.2f},{r.status},{len(r.budget)},"
          f"spent={r.spent:.0f}/{r.total:.0f} marginal={r.marginal_value:.4f}")
    print(f"# load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
