"""The hand-off between the engines: a ``Plan`` says which rep owns each account, each rep's quota by period and
product, and the marketing spend by channel, region and period.

The optimizer produces plans, the simulator runs them; a plan can also be today's assignment in the scenario or
come from CSV files in a folder (``assignments.csv``, optional ``quotas.csv`` and ``budget.csv``).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.errors import Problem, ScenarioError
from scenarios.scenario import Scenario

__all__ = ["BUDGET_COLUMNS", "QUOTA_COLUMNS", "Plan"]

QUOTA_COLUMNS = ["rep_id", "period", "product", "quota"]
BUDGET_COLUMNS = ["channel", "region", "period", "spend", "expected_leads", "expected_value"]


@dataclass(frozen=True, eq=False)
class Plan:
    """Who sells to whom, against which quota, with which marketing money.

    Parameters
    ----------
    assignment
        Series indexed by ``account_id`` giving the ``rep_id`` (missing = uncovered).
    quotas
        Optional frame with columns ``rep_id, period, product, quota`` (period ``YYYY-MM``).
    budget
        Optional frame with columns ``channel, region, period, spend, expected_leads, expected_value``.
    source
        Where the plan came from (``current``, ``optimizer``, a folder).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> plan = Plan.current(s)
    >>> plan.assignment.index.equals(s.accounts.index)
    True
    """

    assignment: pd.Series
    quotas: pd.DataFrame | None = None
    budget: pd.DataFrame | None = None
    source: str = ""

    @classmethod
    def current(cls, scenario: Scenario) -> Plan:
        """Today's assignment from ``accounts.current_rep_id``; no quotas or budget."""
        assignment = scenario.accounts["current_rep_id"].rename("rep_id")
        return cls(assignment=assignment, source="current")

    def check(self, scenario: Scenario) -> None:
        """Raise ``ScenarioError`` unless every id in the plan exists in ``scenario``."""
        problems: list[Problem] = []
        reps = set(scenario.reps.index)
        unknown_acc = self.assignment.index.difference(scenario.accounts.index)
        for acc in list(unknown_acc)[:5]:
            problems.append(Problem("assignments.csv", "account is not in the scenario",
                                    "use account ids of the scenario", column="account_id", value=str(acc)))
        owners = self.assignment.dropna()
        bad = owners[~owners.isin(reps)]
        for acc, rep in list(bad.items())[:5]:
            problems.append(Problem("assignments.csv", f"account {acc} is given to an unknown rep",
                                    "use rep ids of the scenario", column="rep_id", value=str(rep)))
        if self.quotas is not None:
            bad_q = self.quotas.loc[~self.quotas["rep_id"].isin(reps), "rep_id"]
            for rep in list(bad_q.unique())[:5]:
                problems.append(Problem("quotas.csv", "quota for an unknown rep", "use rep ids of the scenario",
                                        column="rep_id", value=str(rep)))
        if problems:
            raise ScenarioError(problems)

    @classmethod
    def load(cls, folder: str | os.PathLike[str], scenario: Scenario) -> Plan:
        """Read a plan from ``folder`` (``assignments.csv`` with ``account_id, rep_id``; optional
        ``quotas.csv`` and ``budget.csv``), checked against ``scenario``. Extra columns are ignored, so an
        allocator output folder is a valid plan folder."""
        path = Path(folder)
        frame = _read(path / "assignments.csv", ["account_id", "rep_id"], [])
        if frame is None:
            raise ScenarioError(Problem("assignments.csv", f"not found in {path}",
                                        "point --plan at a folder written by 'quotaflow allocate'"))
        dup = frame["account_id"].duplicated()
        if dup.any():
            pos = int(np.flatnonzero(dup.to_numpy())[0])
            raise ScenarioError(Problem("assignments.csv", "account appears twice", "keep one row per account",
                                        line=pos + 2, column="account_id", value=str(frame["account_id"].iloc[pos])))
        assignment = frame.set_index("account_id")["rep_id"].replace("", np.nan)
        missing = scenario.accounts.index.difference(assignment.index)
        assignment = assignment.reindex(scenario.accounts.index.append(assignment.index.difference(
            scenario.accounts.index))) if len(missing) else assignment
        quotas = _read(path / "quotas.csv", QUOTA_COLUMNS, ["quota"])
        budget = _read(path / "budget.csv", BUDGET_COLUMNS, ["spend", "expected_leads", "expected_value"])
        plan = cls(assignment=assignment.rename("rep_id"), quotas=quotas, budget=budget, source=str(path))
        plan.check(scenario)
        return plan

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write the plan as ``assignments.csv`` (+ ``quotas.csv``, ``budget.csv``) readable by ``load``, through
        ``scenarios.write_csv`` (a BOM when ``excel``)."""
        from scenarios.io import write_csv

        out = Path(folder)
        frame = self.assignment.rename("rep_id").rename_axis("account_id").reset_index()
        write_csv(frame, out / "assignments.csv", excel=excel)
        if self.quotas is not None:
            write_csv(self.quotas[QUOTA_COLUMNS], out / "quotas.csv", excel=excel)
        if self.budget is not None:
            write_csv(self.budget[BUDGET_COLUMNS], out / "budget.csv", excel=excel)


def _read(path: Path, needed: list[str], numeric: list[str]) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ScenarioError(Problem(path.name, f"cannot be read as a UTF-8 CSV ({exc})",
                                    "export it again as CSV UTF-8")) from None
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ScenarioError(Problem(path.name, f"missing column(s) {missing}", f"add columns {needed}", line=1))
    for col in numeric:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ScenarioError(Problem(path.name, "is not a finite number", "write a plain number",
                                        line=pos + 2, column=col, value=str(frame[col].iloc[pos])))
        frame[col] = values.astype(float)
    return frame[needed]
