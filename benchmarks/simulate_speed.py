"""Speed of the funnel simulator: baseline replication time, a 200 reps x 20,000 accounts scenario
(time and peak memory), time per simulated event against a bare SimPy timeout loop measured in the same run,
and the speed-up of replications on 2 worker processes.

Run: ``.venv/bin/python benchmarks/simulate_speed.py`` (add ``--quick`` to skip the large scenario).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

import scenarios
from sim import NormBehaviour, build, collect, commission_pay, draw_leads, run_replication, simulate, streams
from sim.model import Model
from sim.processes import Funnel, RunRecord


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bare_loop(processes: int, events: int) -> float:
    """Seconds per event of plain SimPy processes yielding pre-drawn timeouts (heap of ``processes``)."""
    delays = np.random.default_rng(0).exponential(1.0, events).tolist()
    per = events // processes
    env = simpy.Environment()

    def proc(k: int) -> Any:
        for d in delays[k * per:(k + 1) * per]:
            yield env.timeout(d)

    for k in range(processes):
        env.process(proc(k))
    t = time.perf_counter()
    env.run()
    return (time.perf_counter() - t) / (per * processes)


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def two_core_calibration() -> float:
    """Speed-up of a pure-Python CPU loop on 2 processes right now: what the machine can give (about 2 when the
    two cores are free, about 1 when other jobs keep one busy)."""
    from concurrent.futures import ProcessPoolExecutor

    work = [8_000_000] * 4
    t = time.perf_counter()
    for n in work:
        _spin(n)
    one = time.perf_counter() - t
    t = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, work))
    return one / (time.perf_counter() - t)


_BIG: dict[str, Model] = {}


def _timed_replication(seed: np.random.SeedSequence) -> tuple[int, float]:
    t = time.perf_counter()
    leads, rec = run_replication(_BIG["model"], seed)
    collect(_BIG["model"], leads.time, rec)
    return os.getpid(), time.perf_counter() - t


def pool_diagnostic(model: Model, n: int) -> str:
    """Wall time of ``n`` replications on 2 processes against the busiest worker's own replication time: the
    difference is what the pool costs; a worker's time per replication against a sequential one shows how
    much CPU the machine actually gave each worker."""
    from concurrent.futures import ProcessPoolExecutor

    _BIG["model"] = model
    seeds = np.random.SeedSequence(5).spawn(n)
    sequential = [_timed_replication(s)[1] for s in seeds]
    t = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        timed = list(pool.map(_timed_replication, seeds))
    wall = time.perf_counter() - t
    busy: dict[int, float] = {}
    for pid, sec in timed:
        busy[pid] = busy.get(pid, 0.0) + sec
    per_task = sum(sec for _, sec in timed) / n
    return (f"pool diagnostic ({n} replications): sequential {sum(sequential):.2f} s ({np.mean(sequential):.2f} s "
            f"each), 2 processes wall {wall:.2f} s, busiest worker {max(busy.values()):.2f} s, pool overhead "
            f"{wall - max(busy.values()):.2f} s; a replication took {per_task:.2f} s inside a worker "
            f"({per_task / np.mean(sequential):.2f}x sequential: the CPU share each worker got)")


def phases(model: Model, seed: int) -> tuple[dict[str, float], RunRecord]:
    """Seconds spent drawing leads, setting up the processes, running the event loop and collecting."""
    t0 = time.perf_counter()
    rng = streams(np.random.SeedSequence(seed))
    leads = draw_leads(model, rng)
    t1 = time.perf_counter()
    funnel = Funnel(model, leads, rng["lifecycle"], NormBehaviour(), commission_pay)
    t2 = time.perf_counter()
    rec = funnel.run()
    t3 = time.perf_counter()
    collect(model, leads.time, rec)
    t4 = time.perf_counter()
    return {"draw": t1 - t0, "setup": t2 - t1, "run": t3 - t2, "collect": t4 - t3, "total": t4 - t0}, rec


def best_phases(model: Model, seed: int, repeat: int) -> tuple[dict[str, float], RunRecord]:
    runs = [phases(model, seed) for _ in range(repeat)]
    best = min(runs, key=lambda x: x[0]["total"])
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"load: {os.getloadavg()}  cpus: {os.cpu_count()}")
    base = scenarios.load("baseline")
    model = build(base)
    t, rec = best_phases(model, 1, 5)
    print(f"baseline, 1 replication, 12 months: {t['total']:.3f} s (draw {t['draw']:.3f}, setup {t['setup']:.3f}, "
          f"event loop {t['run']:.3f}, collect {t['collect']:.3f}); {rec.events} events")
    # per-event cost against plain SimPy with the same number of events and a heap as large as the model's
    heap = int(max(rec.wip_samples[:, 1].max(), 1) + model.n_seats)
    bare = min(bare_loop(heap, max(rec.events, 50_000)) for _ in range(5))
    print(f"time per event: event loop {t['run'] / rec.events * 1e6:.2f} us, whole replication "
          f"{t['total'] / rec.events * 1e6:.2f} us; bare SimPy loop {bare * 1e6:.2f} us (heap {heap}); ratios "
          f"{t['run'] / rec.events / bare:.2f} (loop) / {t['total'] / rec.events / bare:.2f} (whole)")

    print(f"2-process calibration (pure-Python loop): speed-up {two_core_calibration():.2f}x")
    reps = 8
    t1, _ = best_of(1, lambda: simulate(base, replications=reps, seed=3, workers=1))
    t2, _ = best_of(1, lambda: simulate(base, replications=reps, seed=3, workers=2))
    print(f"{reps} replications baseline: 1 worker {t1:.2f} s, 2 workers {t2:.2f} s, speed-up {t1 / t2:.2f}x "
          f"(load {os.getloadavg()[0]:.2f})")

    if not args.quick:
        t = time.perf_counter()
        big = scenarios.generate(reps=200, accounts=20_000, seed=1)
        big_model = build(big)
        t_build = time.perf_counter() - t
        tb, rec_big = best_phases(big_model, 2, 2)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        heap_big = int(max(rec_big.wip_samples[:, 1].max(), 1) + big_model.n_seats)
        bare_big = min(bare_loop(heap_big, rec_big.events) for _ in range(3))
        print(f"200 reps x 20,000 accounts: generate+build {t_build:.2f} s, 1 replication {tb['total']:.2f} s "
              f"(event loop {tb['run']:.2f} s), {rec_big.events} events; per event: loop "
              f"{tb['run'] / rec_big.events * 1e6:.2f} us, whole {tb['total'] / rec_big.events * 1e6:.2f} us, bare "
              f"{bare_big * 1e6:.2f} us (heap {heap_big}), ratios {tb['run'] / rec_big.events / bare_big:.2f} / "
              f"{tb['total'] / rec_big.events / bare_big:.2f}; peak RSS of this process {rss:,.0f} MB")
        one, two = [], []
        for _ in range(2):  # interleaved, best of 2: load from other jobs comes and goes
            one.append(best_of(1, lambda: simulate(big, replications=8, seed=3, workers=1))[0])
            two.append(best_of(1, lambda: simulate(big, replications=8, seed=3, workers=2))[0])
        print(f"8 replications 200x20k end to end (build + run + summarise): 1 worker {min(one):.2f} s, 2 workers "
              f"{min(two):.2f} s, speed-up {min(one) / min(two):.2f}x (load {os.getloadavg()[0]:.2f})")
        print(pool_diagnostic(big_model, 4))
    print(f"load at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
