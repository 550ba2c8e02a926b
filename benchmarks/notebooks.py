"""Wall time of each planner notebook, run top to bottom by papermill in a fresh kernel.

Default: the notebooks' own small parameters (what the test suite runs). ``--scenario baseline
--replications 20`` measures the scale-up the notebooks suggest. Run from the repository root:

    .venv/bin/python benchmarks/notebooks.py [--scenario baseline] [--replications 20] [--only 01 02]
        [--param NAME=JSON ...]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import papermill

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=None, help="SCENARIO parameter (default: the notebook's)")
    parser.add_argument("--replications", type=int, default=None, help="REPLICATIONS parameter")
    parser.add_argument("--only", nargs="*", default=None, help="notebook name prefixes, e.g. 01 03")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=JSON",
                        help='another parameter, e.g. --param \'NEW_REP_RULES={"optimizer.balance.0.min": 0.6}\'')
    args = parser.parse_args()
    params: dict[str, object] = {}
    if args.scenario:
        params["SCENARIO"] = args.scenario
    if args.replications:
        params["REPLICATIONS"] = args.replications
    for item in args.param:
        name, _, value = item.partition("=")
        params[name] = json.loads(value)
    print(f"parameters: {params or 'notebook defaults'}")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if args.only and not any(path.stem.startswith(p) for p in args.only):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            papermill.execute_notebook(str(path), str(Path(tmp) / path.name), cwd=tmp, parameters=params,
                                       kernel_name="python3", progress_bar=False)
            print(f"{path.stem:<16} {time.perf_counter() - start:7.1f} s")


if __name__ == "__main__":
    main()
