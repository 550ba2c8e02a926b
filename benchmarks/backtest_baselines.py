"""The two naive back-test baselines on a CRM export (default: the Maven export at cutoffs 2017-06-30 and
2017-09-30, three months each), scored as ``quotaflow backtest`` will score the simulator beside them.

For each cutoff the pipeline is rebuilt from the rows dated on or before it (``calibration.backtest``), the
weighted pipeline and the seasonal naive forecast the wins and won value of the next months with predictive
quantiles (``calibration.baselines``), and ``calibration.scores`` compares them with what happened.

Run: ``.venv/bin/python benchmarks/backtest_baselines.py [--export DIR] [--preset maven] [--cutoffs D1,D2]
[--horizon 3] [--draws 4000] [--seed 0] [--out DIR]``. Prints the inputs, the scored table and the summary as
Markdown; ``--out`` (a new folder) also writes ``backtest.csv`` and ``backtest_summary.csv``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd

import calibration
from calibration.backtest import actuals_table, backtest_data
from calibration.baselines import DRAWS, baseline_forecasts
from calibration.cleaning import build_model
from calibration.scores import score_forecasts

ROOT = Path(__file__).resolve().parents[1]
MAVEN = ROOT.parent / "shared" / "benchmarks" / "crm" / "maven"


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.{digits}f}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, default=MAVEN)
    parser.add_argument("--preset", default="maven")
    parser.add_argument("--cutoffs", default="2017-06-30,2017-09-30")
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--draws", type=int, default=DRAWS)
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
    full = build_model(args.export, mapping)[0]
    data = [backtest_data(args.export, mapping, c, args.horizon, full=full) for c in cutoffs]
    prepared = time.perf_counter()
    forecasts, runs = baseline_forecasts(data, draws=args.draws, seed=args.seed)
    detail, summary = score_forecasts(forecasts, actuals_table(data))
    done = time.perf_counter()
    print(f"export {args.export} ({args.preset}), cutoffs {args.cutoffs}, horizon {args.horizon} months, "
          f"{args.draws} draws, seed {args.seed}")
    print(f"data {prepared - start:.1f} s, forecasts and scores {done - prepared:.1f} s\n")
    for d in data:
        print(f"{d!r}; window from {d.model.observed_from.date()}")
    for r in runs:
        print(f"{r.model} @ {r.cutoff.date()}: " + ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.details.items()))
    shown = detail[["cutoff", "month", "metric", "model", "actual", "point", "p10", "p50", "p90"]]
    print("\n" + _markdown(shown.sort_values(["metric", "model", "cutoff", "month"]), 1))
    print("\n" + _markdown(summary.sort_values(["metric", "model"])))
    if args.out is not None:
        args.out.mkdir(parents=True)
        detail.to_csv(args.out / "backtest.csv", index=False)
        summary.to_csv(args.out / "backtest_summary.csv", index=False)
        print(f"\nwrote {args.out / 'backtest.csv'} and {args.out / 'backtest_summary.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
