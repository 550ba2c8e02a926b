"""The calibrated simulator's back-test beside the two naive baselines (default: the Maven export at cutoffs
2017-06-30 and 2017-09-30, three months each), scored as ``quotaflow backtest`` will score them.

For each cutoff: the export as it stood that day (``calibration.backtest_data``: the open pipeline from that day's
rows only), a scenario calibrated on the same day's data (``calibration.calibrate(..., as_of=cutoff)``, the library
call of ``quotaflow calibrate``) whose calendar is set to the horizon months, the simulator run from that pipeline
(``sim.forecast.won_by_month``) and its quantiles (``sim.forecast.forecast_quantiles``), scored with the weighted
pipeline and the seasonal naive by ``calibration.score_forecasts``. The glue is
``quotaflow.backtest.simulator_forecast``, which ``quotaflow backtest`` runs; this script adds timings and a table.

Run: ``.venv/bin/python benchmarks/backtest_simulator.py [--export DIR] [--preset maven] [--cutoffs D1,D2]
[--horizon 3] [--replications 200] [--draws 4000] [--seed 0] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd
from backtest_baselines import _markdown  # the same table format as the baselines' report

import calibration
from quotaflow.backtest import simulator_forecast

ROOT = Path(__file__).resolve().parents[1]
MAVEN = ROOT.parent / "shared" / "benchmarks" / "crm" / "maven"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, default=MAVEN)
    parser.add_argument("--preset", default="maven")
    parser.add_argument("--cutoffs", default="2017-06-30,2017-09-30")
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--draws", type=int, default=calibration.baselines.DRAWS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not args.export.is_dir():
        print(f"{args.export} is not a folder (the Maven export lives in ../shared/benchmarks/crm/maven)",
              file=sys.stderr)
        return 2
    if args.out is not None and args.out.exists():
        print(f"{args.out} exists; give a new folder", file=sys.stderr)
        return 5
    mapping = calibration.load_mapping(preset=args.preset)
    cutoffs = [dt.date.fromisoformat(c.strip()) for c in args.cutoffs.split(",")]
    start = time.perf_counter()
    full = calibration.build_model(args.export, mapping)[0]
    data = [calibration.backtest_data(args.export, mapping, c, args.horizon, full=full) for c in cutoffs]
    prepared = time.perf_counter()
    baselines, _ = calibration.baseline_forecasts(data, draws=args.draws, seed=args.seed)
    base_done = time.perf_counter()
    sim_rows = []
    for d in data:
        rows, facts = simulator_forecast(args.export, mapping, d, replications=args.replications, seed=args.seed)
        sim_rows.append(rows)
        print(f"simulator @ {d.cutoff.date()}: " + ", ".join(f"{k} {v:,.3f}" for k, v in facts.items()))
    done = time.perf_counter()
    forecasts = pd.concat([baselines, *sim_rows], ignore_index=True)
    detail, summary = calibration.score_forecasts(forecasts, calibration.actuals_table(data))
    print(f"export {args.export} ({args.preset}), cutoffs {args.cutoffs}, horizon {args.horizon} months, "
          f"{args.replications} replications, {args.draws} baseline draws, seed {args.seed}")
    print(f"data {prepared - start:.1f} s, baselines {base_done - prepared:.1f} s, calibrate + simulate "
          f"{done - base_done:.1f} s\n")
    shown = detail[["cutoff", "month", "metric", "model", "actual", "point", "p10", "p50", "p90"]]
    print(_markdown(shown.sort_values(["metric", "cutoff", "month", "model"]), 1))
    print("\n" + _markdown(summary.sort_values(["metric", "model"])))
    if args.out is not None:
        args.out.mkdir(parents=True)
        detail.to_csv(args.out / "backtest.csv", index=False)
        summary.to_csv(args.out / "backtest_summary.csv", index=False)
        print(f"\nwrote {args.out / 'backtest.csv'} and {args.out / 'backtest_summary.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
