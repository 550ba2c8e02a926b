"""The simulated sales that ``equal_probability`` quotas are set from: drawn by the simulator
(`simulated_sales`) or read from a ``rep_id, sales`` file (`read_samples`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import scenarios
import sim
from scenarios import Problem, ScenarioError, require_regular_file
from scenarios.text import decimal_problem, decode, parse_numbers, read_rows

__all__ = ["QUOTA_SAMPLES", "read_samples", "sample_method", "simulated_sales"]


QUOTA_SAMPLES = 40
"""Simulated horizons per rep that ``equal_probability`` quotas are set from when the demo or a sweep draws them
(at least; the quotas command's ``--replications`` defaults to it too)."""


def simulated_sales(scenario: scenarios.Scenario, assignment: pd.Series, *, replications: int = QUOTA_SAMPLES,
                    seed: int = 1, workers: int = 1,
                    progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Simulated horizon sales of each rep under ``assignment``: the samples ``equal_probability`` needs.

    Runs ``replications`` horizons of the scenario (``sim.simulate``, reps at their norm hours; quotas play no
    part in what they sell then) and returns each rep's bookings per replication: a frame indexed by ``rep_id``
    with one column per replication, as ``set_quotas(sales_distribution=...)`` takes it.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> simulated_sales(s, scenarios.Plan.current(s).assignment, replications=3).shape
    (6, 3)
    """
    plan = scenarios.Plan(assignment=assignment, source="quota samples")
    result = sim.simulate(scenario, plan, replications=replications, seed=seed, workers=workers,
                          progress=progress)
    wide = result.replication_reps.pivot(index="rep_id", columns="replication", values="bookings")
    return wide.reindex(scenario.reps.index).fillna(0.0)


def sample_method(scenario: scenarios.Scenario, method: str | None) -> bool:
    """True when the quota method in force (``method``, else ``[quotas] method``) needs simulated sales."""
    return (method or scenario.settings.quotas.method) == "equal_probability"


def read_samples(path: Path, scenario: scenarios.Scenario, *, encoding: str | None = None,
                 decimal: str = ".") -> pd.DataFrame:
    """Read simulated sales per rep from a CSV with columns ``rep_id, sales`` (one row per simulated horizon).

    Every rep of the scenario needs the same number of rows. Returns a frame indexed by ``rep_id`` with one
    column per sample, as ``set_quotas(sales_distribution=...)`` takes it.

    Examples
    --------
    >>> import scenarios, tempfile, pathlib
    >>> s = scenarios.load("tiny")
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "samples.csv"
    >>> _ = f.write_text("rep_id,sales\\n" + "".join(f"{r},{v}\\n" for r in s.reps.index for v in (1, 2, 3)))
    >>> read_samples(f, s).shape
    (6, 3)
    """
    name = path.name
    require_regular_file(path)
    fmt = scenarios.TextFormat(encoding=encoding, decimal=decimal)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(Problem(name, f"not found at {path}", "give the path of a CSV with rep_id,sales")) from None
    except OSError as exc:
        raise ScenarioError(Problem(name, f"cannot be read ({exc.strerror})", "check the file")) from None
    rows = read_rows(decode(data, name, fmt), name)
    missing = [c for c in ("rep_id", "sales") if c not in rows.header]
    if missing:
        raise ScenarioError(Problem(name, f"missing column(s) {missing}", "add columns rep_id,sales", line=1))
    lines = rows.lines
    frame = pd.DataFrame({c: [row[rows.header.index(c)].strip() for row in rows.rows] for c in ("rep_id", "sales")},
                         dtype=object)
    cells = list(frame["sales"])
    values, bad = parse_numbers(cells, fmt.decimal_for(rows.sep))
    mark, _ = decimal_problem(cells, bad, lines, name, "sales", rows.sep, fmt.decimal_for(rows.sep))
    if mark is not None:
        raise ScenarioError(mark)
    bad = bad | np.isnan(values) | (values < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ScenarioError(Problem(name, "is not a finite amount >= 0", "write a plain number", line=lines[pos],
                                    column="sales", value=cells[pos]))
    sales = pd.Series(values)
    unknown = sorted(set(frame["rep_id"]) - set(scenario.reps.index))
    if unknown:
        pos = int(np.flatnonzero(frame["rep_id"].to_numpy() == unknown[0])[0])
        raise ScenarioError(Problem(name, "rep is not in the scenario", "use rep ids of the scenario",
                                    line=lines[pos], column="rep_id", value=unknown[0]))
    counts = frame.groupby("rep_id").size().reindex(scenario.reps.index, fill_value=0)
    if counts.nunique() != 1 or int(counts.iloc[0]) == 0:
        rep = counts.index[counts != counts.max()][0] if counts.nunique() != 1 else counts.index[0]
        raise ScenarioError(Problem(name, f"rep {rep} has {int(counts[rep])} samples, others up to "
                                    f"{int(counts.max())}", "give every rep the same number of samples",
                                    column="rep_id", value=str(rep)))
    frame = frame.assign(sales=sales.astype(float))
    frame["sample"] = frame.groupby("rep_id").cumcount()
    return frame.pivot(index="rep_id", columns="sample", values="sales").reindex(scenario.reps.index)
