"""Speed and memory of ``quotaflow calibrate`` on a large export: 1,000,000 opportunities with about 5,000,000
stage-history rows (Salesforce API-name files), end to end in a child process (read, clean, estimate, write and
validate the scenario). Target: at most 2 minutes and 4 GB on 2 cores.

Run: ``.venv/bin/python benchmarks/calibrate_scale.py [--opportunities N] [--keep DIR]``. The export is generated
first (not timed) with vectorised numpy: 24 months of Poisson arrivals, 500 reps, 50,000 accounts, five products,
six open stages passed with probability 0.86 each after log-normal dwells, then won (60 %) or lost.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Proposal/Price Quote",
          "Negotiation/Review"]


def generate(folder: Path, n: int, seed: int = 1) -> int:
    """Write Opportunity.csv and OpportunityHistory.csv; return the number of history rows."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-01T00:00:00", "s")
    horizon_s = 730 * 86_400
    created = start + np.sort(rng.integers(0, horizon_s, n)).astype("timedelta64[s]")
    as_of = start + np.timedelta64(horizon_s, "s")
    ids = np.char.add("006", np.char.zfill(np.arange(n).astype(str), 12))
    owner = np.char.add("005R", np.char.zfill(rng.integers(0, 500, n).astype(str), 4))
    account = np.char.add("001A", np.char.zfill(rng.integers(0, 50_000, n).astype(str), 6))
    product = np.array(["Basic", "Plus", "Pro", "Enterprise", "Services"])[rng.integers(0, 5, n)]
    amount = np.round(np.exp(rng.normal(8.0, 0.8, n)), 2)
    t = created.copy()
    alive = np.ones(n, dtype=bool)
    h_id, h_time, h_stage = [], [], []
    stage_now = np.full(n, "", dtype=object)
    for k, name in enumerate(STAGES):
        idx = np.flatnonzero(alive & (t <= as_of))
        h_id.append(ids[idx])
        h_time.append(t[idx])
        h_stage.append(np.full(len(idx), name, dtype=object))
        stage_now[idx] = name
        dwell = np.exp(rng.normal(np.log(8.0 + 2 * k), 0.7, len(idx))) * 86_400
        t[idx] = t[idx] + dwell.astype("timedelta64[s]")
        failed = idx[rng.random(len(idx)) >= 0.86]
        alive[failed] = False
        outcome = failed[t[failed] <= as_of]
        h_id.append(ids[outcome])
        h_time.append(t[outcome])
        h_stage.append(np.full(len(outcome), "Closed Lost", dtype=object))
        stage_now[outcome] = "Closed Lost"
    final = np.flatnonzero(alive & (t <= as_of))
    won = final[rng.random(len(final)) < 0.6]
    lost = np.setdiff1d(final, won)
    for idx, name in ((won, "Closed Won"), (lost, "Closed Lost")):
        h_id.append(ids[idx])
        h_time.append(t[idx])
        h_stage.append(np.full(len(idx), name, dtype=object))
        stage_now[idx] = name
    closed = np.isin(stage_now, ["Closed Won", "Closed Lost"])
    close_date = np.where(closed, t.astype("datetime64[D]"), created.astype("datetime64[D]") + 60)
    opp = pa.table({"Id": ids, "OwnerId": owner, "AccountId": account, "StageName": stage_now.astype(str),
                    "Amount": amount, "CloseDate": close_date.astype(str), "CreatedDate": created.astype(str),
                    "IsClosed": np.where(closed, "true", "false"),
                    "IsWon": np.where(stage_now == "Closed Won", "true", "false"), "Product2Name": product})
    hist = pa.table({"OpportunityId": np.concatenate(h_id), "CreatedDate": np.concatenate(h_time).astype(str),
                     "StageName": np.concatenate(h_stage).astype(str)})
    pacsv.write_csv(opp, folder / "Opportunity.csv")
    pacsv.write_csv(hist, folder / "OpportunityHistory.csv")
    return hist.num_rows


MAPPING = """name = "salesforce-bench"
[opportunities]
file = "Opportunity.csv"
id = "Id"
owner = "OwnerId"
account = "AccountId"
product = "Product2Name"
stage = "StageName"
amount = "Amount"
created = "CreatedDate"
closed = "CloseDate"
is_closed = "IsClosed"
is_won = "IsWon"
[history]
file = "OpportunityHistory.csv"
opportunity_id = "OpportunityId"
changed = "CreatedDate"
stage = "StageName"
""" + "".join(f'[[stages]]\nname = "{s}"\nkind = "open"\n' for s in STAGES) + \
    '[[stages]]\nname = "Closed Won"\nkind = "won"\n[[stages]]\nname = "Closed Lost"\nkind = "lost"\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Keep the generated export in this folder.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="calibrate-scale-"))
    export = args.keep or work / "export"
    export.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = generate(export, args.opportunities)
    print(f"generated {args.opportunities:,} opportunities and {rows:,} history rows in "
          f"{time.perf_counter() - t0:.1f} s")
    mapping = work / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    quotaflow = Path(sys.executable).with_name("quotaflow")
    cmd = [str(quotaflow), "calibrate", str(export), "--mapping", str(mapping), "--out", str(work / "out")]
    with open("/proc/loadavg", encoding="ascii") as fh:
        load = fh.read().split()[:3]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_gb = usage.ru_maxrss / 1024 ** 2
    cpu = usage.ru_utime + usage.ru_stime
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit(f"calibrate failed with exit code {proc.returncode}")
    print(f"calibrate: {seconds:.1f} s wall ({cpu:.1f} s CPU), peak RSS {peak_gb:.2f} GB, load before "
          f"{' '.join(load)}, "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"command: {' '.join(cmd)}")
    ok = seconds <= 120 and peak_gb <= 4.0
    print("target (<= 120 s, <= 4 GB):", "met" if ok else "NOT met")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
