"""Scale benchmark of ``quotaflow allocate``: a generated scenario (accounts x reps in 8 regions, capacity, +-10 %
workload band, 15 % moved-potential budget) solved end to end through the CLI, with wall time, peak memory
(``peak_mb``: the largest single process; ``peak_all_processes_mb``: the command and its workers summed, sampled
every 0.5 s; psutil comes with dask.distributed), status and gap to the proven bound from summary.json.

``--plain`` runs the plain approach for comparison: one PuLP MIP over all candidate pairs handed to HiGHS with
the time limit (no LP first, no validation), reporting what HiGHS returns and the wall time it really took.
The default runs the CLI (``method = auto``: column generation for the proven LP bound, relax-and-fix for the
plan).

Usage::

    python benchmarks/allocate_scale.py --accounts 20000 --reps 200 --time-limit 60
    python benchmarks/allocate_scale.py --accounts 50000 --reps 400 --time-limit 300
    python benchmarks/allocate_scale.py --accounts 20000 --reps 200 --time-limit 300 --plain
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

import scenarios


def _plain(folder: Path, limit: float) -> int:
    from optimizer import build, prepare, solve

    load = os.getloadavg()
    start = time.perf_counter()
    inputs = prepare(scenarios.load(folder))
    model = build(inputs)
    built = time.perf_counter() - start
    out = solve(model, "highs", limit, inputs.settings.mip_gap)
    wall = time.perf_counter() - start
    print(json.dumps({"plain": True, "pairs": inputs.n_pairs, "claim": out.claim, "objective": out.objective,
                      "bound": out.bound, "build_seconds": round(built, 1), "wall_seconds": round(wall, 1),
                      "time_limit": limit, "load_before": [round(x, 2) for x in load]}))
    return 0


def _tree_peak(proc: subprocess.Popen[str], every: float = 0.5) -> list[float]:
    """Sample the summed resident memory of ``proc`` and all its descendants (the region workers, a Dask
    cluster's processes) until it ends; returns a one-item list that holds the peak in MB."""
    peak = [0.0]

    def run() -> None:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):  # a worker may end between listing and reading
                        total += p.memory_info().rss
            except psutil.Error:
                break
            peak[0] = max(peak[0], total / 2**20)
            time.sleep(every)

    threading.Thread(target=run, daemon=True).start()
    return peak


def scale_arguments(parser: argparse.ArgumentParser) -> None:
    """The generated scenario's size and where it is kept (shared with ``allocate_startup.py``)."""
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "quotaflow-scale")


def scenario_folder(args: argparse.Namespace, method: str = "auto") -> Path:
    """The generated scenario's folder under ``--work``, generated and saved on first use."""
    folder = Path(args.work) / f"s{args.accounts}x{args.reps}-r{args.regions}-s{args.seed}-{method}"
    if not (folder / "scenario.toml").is_file():
        s = scenarios.generate(reps=args.reps, accounts=args.accounts, seed=args.seed, regions=args.regions)
        s = scenarios.modify(s, {"optimizer.method": method})
        scenarios.save(s, folder, overwrite=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    scale_arguments(parser)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--method", choices=["auto", "mip", "lp_fix"], default="auto")
    parser.add_argument("--plain", action="store_true", help="one MIP over all pairs, in process")
    parser.add_argument("--dask-local", type=int, default=0, help="run the regions on a Dask LocalCluster of K workers")
    args = parser.parse_args(argv)
    folder = scenario_folder(args, args.method)
    if args.plain:
        return _plain(folder, args.time_limit)
    out = args.work / f"out-{folder.name}"
    exe = Path(sys.executable).with_name("quotaflow")
    load = os.getloadavg()
    cmd = ["/usr/bin/time", "-v", str(exe), "allocate", str(folder), "--out", str(out), "--force",
           "--time-limit", str(args.time_limit)]
    if args.dask_local:
        cmd += ["--dask-local", str(args.dask_local)]
    start = time.perf_counter()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        tree = _tree_peak(proc)
        _, stderr = proc.communicate()
    wall = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    peak_mb = int(rss.group(1)) / 1024 if rss else float("nan")
    summary = json.loads((out / "summary.json").read_text()) if proc.returncode == 0 else {}
    row = {"accounts": args.accounts, "reps": args.reps, "method": args.method, "exit": proc.returncode,
           "status": summary.get("status", "-"), "objective": summary.get("objective"),
           "bound": summary.get("bound"), "gap": summary.get("gap"), "solver_seconds": summary.get("seconds"),
           "wall_seconds": round(wall, 1), "peak_mb": round(peak_mb),
           "peak_all_processes_mb": round(tree[0]), "executor": f"dask-local {args.dask_local}" if args.dask_local
           else "process pool", "load_before": [round(x, 2) for x in load],
           "used": summary.get("method")}
    print(json.dumps(row))
    if proc.returncode != 0:
        print(stderr[-2000:], file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
