"""The hand-off between the engines: a ``Plan`` says which rep owns each account, each rep's quota by period and
product, and the marketing spend by channel, region and period.

The optimizer produces plans, the simulator runs them; a plan can also be today's assignment in the scenario or
come from a plan folder: ``assignments.csv`` (``account_id, rep_id``; an empty ``rep_id`` leaves the account
uncovered), optional ``quotas.csv`` (``rep_id, period, product, quota``) and ``budget.csv`` (``channel, region,
period, spend, expected_leads, expected_value``), and ``plan.json``, which names the scenario the plan was made
for by its fingerprint (``scenarios.fingerprint``). ``Plan.load`` refuses a folder made for another scenario
unless told to allow it, and checks every file as strictly as a scenario's tables (``scenarios.plan_checks``).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.errors import Problem, ScenarioError
from scenarios.io import fingerprint, write_atomic, write_csv
from scenarios.limits import MAX_AMOUNT
from scenarios.plan_checks import assignment_problems, budget_problems, quota_problems
from scenarios.scenario import Scenario
from scenarios.text import TextFormat, decimal_problem, decode, parse_numbers, read_rows

__all__ = ["BUDGET_COLUMNS", "PLAN_FILE", "QUOTA_COLUMNS", "Plan", "PlanOrigin", "PlanWarning"]

QUOTA_COLUMNS = ["rep_id", "period", "product", "quota"]
BUDGET_COLUMNS = ["channel", "region", "period", "spend", "expected_leads", "expected_value"]
PLAN_FILE = "plan.json"
_FORMAT = "quotaflow plan folder"


class PlanWarning(UserWarning):
    """A plan folder without ``plan.json`` (made by hand): it cannot be checked against the scenario's
    fingerprint, only file by file."""


@dataclass(frozen=True)
class PlanOrigin:
    """The scenario a plan was made for: its name and content fingerprint (``scenarios.fingerprint``).

    Examples
    --------
    >>> import scenarios, tempfile
    >>> origin = PlanOrigin.of(scenarios.load("tiny"))
    >>> folder = Path(tempfile.mkdtemp())
    >>> PlanOrigin.read(origin.write(folder).parent) == origin
    True
    """

    scenario: str
    fingerprint: str

    @classmethod
    def of(cls, scenario: Scenario) -> PlanOrigin:
        """The origin of plans made for ``scenario`` as it is (settings and every table)."""
        return cls(scenario=scenario.name, fingerprint=fingerprint(scenario))

    def write(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``plan.json`` into ``folder`` (deterministic content, so equal runs give equal files)."""
        path = Path(folder) / PLAN_FILE
        record = {"format": _FORMAT, "version": 1,
                  "scenario": {"name": self.scenario, "fingerprint": self.fingerprint}}
        write_atomic(path, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        return path

    @classmethod
    def read(cls, folder: str | os.PathLike[str]) -> PlanOrigin | None:
        """The origin recorded in ``folder``'s ``plan.json``; None when the folder has none (a hand-made plan).

        Raises
        ------
        ScenarioError
            When ``plan.json`` exists but is not a plan description.
        """
        path = Path(folder) / PLAN_FILE
        if not path.exists():
            return None
        fix = (f"delete {PLAN_FILE} to use the folder as a hand-made plan, or write the plan again with "
               "quotaflow allocate")
        try:
            record = json.loads(path.read_bytes().decode("utf-8-sig"))
            scenario = record["scenario"]
            origin = cls(scenario=str(scenario["name"]), fingerprint=str(scenario["fingerprint"]))
        except OSError as exc:
            raise ScenarioError(Problem(PLAN_FILE, f"cannot be read ({exc.strerror})", fix)) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ScenarioError(Problem(PLAN_FILE, f"is not a quotaflow plan description ({exc!r})", fix)) from None
        if record.get("format") != _FORMAT or len(origin.fingerprint) != 64:
            raise ScenarioError(Problem(PLAN_FILE, "is not a quotaflow plan description", fix,
                                        column="format", value=str(record.get("format"))))
        return origin


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
    made_for
        The scenario the plan was made for (None for a hand-made plan); ``to_csv`` records it in ``plan.json``.

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
    made_for: PlanOrigin | None = None

    @classmethod
    def current(cls, scenario: Scenario) -> Plan:
        """Today's assignment from ``accounts.current_rep_id``; no quotas or budget."""
        assignment = scenario.accounts["current_rep_id"].rename("rep_id")
        return cls(assignment=assignment, source="current", made_for=PlanOrigin.of(scenario))

    def check(self, scenario: Scenario) -> None:
        """Raise ``ScenarioError`` unless the plan fits ``scenario``: known accounts and reps, quotas for every
        month each rep is in seat (known products, months of the horizon, amounts >= 0, no repeated rows) and a
        budget on known channels, regions and months. Accounts missing from an in-memory assignment are
        uncovered; a plan folder must list every account (``load``)."""
        problems = assignment_problems(self.assignment, scenario)
        if self.quotas is not None and len(self.quotas):
            problems += quota_problems(self.quotas, scenario, upper=MAX_AMOUNT)
        if self.budget is not None:
            problems += budget_problems(self.budget, scenario, upper=MAX_AMOUNT)
        if problems:
            raise ScenarioError(problems)

    @classmethod
    def load(cls, folder: str | os.PathLike[str], scenario: Scenario, *, allow_foreign: bool = False,
             encoding: str | None = None, decimal: str = ".") -> Plan:
        """Read a plan folder and check it against ``scenario``.

        Parameters
        ----------
        folder
            Holds ``assignments.csv`` (``account_id, rep_id``: one row per account of the scenario, an empty
            ``rep_id`` for an account left uncovered), optional ``quotas.csv`` and ``budget.csv``, and the
            ``plan.json`` that the tool writes. Extra columns are ignored, so an ``allocate`` output folder is a
            plan folder.
        scenario
            The scenario the plan is used with.
        allow_foreign
            Use a plan made for another scenario (``plan.json`` names a different fingerprint) and take a
            hand-made plan without a warning. Every file is still checked against ``scenario``.
        encoding, decimal
            How to read files that are not UTF-8, and the decimal mark of ``;``-separated files (see
            ``scenarios.load``).

        Raises
        ------
        ScenarioError
            A plan made for another scenario (naming both), or every problem found in the files, each with file,
            line, column, value and fix.

        Warns
        -----
        PlanWarning
            A folder without ``plan.json`` (unless ``allow_foreign``).

        Examples
        --------
        >>> import scenarios, tempfile
        >>> s = scenarios.load("tiny")
        >>> folder = Path(tempfile.mkdtemp())
        >>> Plan.current(s).to_csv(folder)
        >>> Plan.load(folder, s).assignment.equals(Plan.current(s).assignment)
        True
        """
        path = Path(folder)
        if not path.is_dir():
            raise ScenarioError(Problem(str(path), "is not a folder",
                                        "point --plan at a plan folder, e.g. one written by 'quotaflow allocate'"))
        fmt = TextFormat(encoding=encoding, decimal=decimal)
        origin = PlanOrigin.read(path)
        if not allow_foreign:
            _check_origin(origin, scenario, path)
        read = _read_table(path / "assignments.csv", ["account_id", "rep_id"], [], ["account_id"], fmt)
        if read is None:
            raise ScenarioError(Problem("assignments.csv", f"not found in {path}",
                                        "point --plan at a folder written by 'quotaflow allocate'"))
        frame, lines, _ = read
        owners = frame["rep_id"].where(frame["rep_id"] != "", None)
        assignment = pd.Series(owners.to_numpy(dtype=object), index=pd.Index(frame["account_id"], name="account_id"),
                               name="rep_id")
        problems = assignment_problems(assignment, scenario, lines, complete=True)
        quotas = budget = None
        read = _read_table(path / "quotas.csv", QUOTA_COLUMNS, ["quota"], ["rep_id", "period", "product"], fmt)
        if read is not None:
            quotas, q_lines, q_cells = read
            problems += quota_problems(quotas, scenario, q_lines, upper=MAX_AMOUNT, cells=q_cells)
        read = _read_table(path / "budget.csv", BUDGET_COLUMNS, ["spend", "expected_leads", "expected_value"],
                           ["channel", "region", "period"], fmt)
        if read is not None:
            budget, b_lines, b_cells = read
            problems += budget_problems(budget, scenario, b_lines, upper=MAX_AMOUNT, cells=b_cells)
        if problems:
            raise ScenarioError(problems)
        assignment = assignment.reindex(scenario.accounts.index).rename("rep_id")
        return cls(assignment=assignment, quotas=quotas, budget=budget, source=str(path), made_for=origin)

    def to_csv(self, folder: str | os.PathLike[str], scenario: Scenario | None = None, *,
               excel: bool = False) -> None:
        """Write the plan as ``assignments.csv`` (+ ``quotas.csv``, ``budget.csv``) through ``scenarios.write_csv``
        (a BOM when ``excel``) and ``plan.json``, readable by ``load``.

        ``plan.json`` names ``scenario`` when given, else the scenario the plan records (``made_for``); a plan
        that knows neither is written without it and loads as hand-made.
        """
        out = Path(folder)
        frame = self.assignment.rename("rep_id").rename_axis("account_id").reset_index()
        write_csv(frame, out / "assignments.csv", excel=excel)
        if self.quotas is not None:
            write_csv(self.quotas[QUOTA_COLUMNS], out / "quotas.csv", excel=excel)
        if self.budget is not None:
            write_csv(self.budget[BUDGET_COLUMNS], out / "budget.csv", excel=excel)
        origin = PlanOrigin.of(scenario) if scenario is not None else self.made_for
        if origin is not None:
            origin.write(out)


def _check_origin(origin: PlanOrigin | None, scenario: Scenario, path: Path) -> None:
    if origin is None:
        warnings.warn(PlanWarning(
            f"plan folder {path} has no {PLAN_FILE}, so it cannot be checked to belong to scenario "
            f"'{scenario.name}'; its files were checked against the scenario (pass --allow-foreign-plan, or "
            "allow_foreign=True, to use a hand-made plan without this warning)"), stacklevel=3)
        return
    mine = fingerprint(scenario)
    if origin.fingerprint != mine:
        same = " (same name, different content)" if origin.scenario == scenario.name else ""
        raise ScenarioError(Problem(
            PLAN_FILE, f"the plan in {path} was made for scenario '{origin.scenario}' (fingerprint "
                       f"{origin.fingerprint[:12]}), not for '{scenario.name}' (fingerprint {mine[:12]}){same}",
            f"make the plan again for this scenario (quotaflow allocate {scenario.source or scenario.name} --out "
            "DIR), or pass --allow-foreign-plan (allow_foreign=True) to use it anyway; every plan file is still "
            "checked against this scenario", column="scenario.fingerprint", value=origin.fingerprint[:12]))


def _read_table(path: Path, needed: list[str], numeric: list[str], keys: list[str],
                fmt: TextFormat) -> tuple[pd.DataFrame, np.ndarray, dict[str, list[str]]] | None:
    """One plan file as text cells (numbers parsed), the file line of each row and the numbers as written; None
    when it does not exist. Cell-level problems (missing columns or keys, numbers that are not numbers) are raised
    here."""
    name = path.name
    if not path.exists():
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(Problem(name, f"cannot be read ({exc.strerror})", "check the file")) from None
    rows = read_rows(decode(data, name, fmt), name)
    if not rows.header or rows.header == [""]:
        raise ScenarioError(Problem(name, "is empty (no header row)", f"start the file with the header: "
                                    f"{','.join(needed)}"))
    missing = [c for c in needed if c not in rows.header]
    repeated = sorted({c for c in rows.header if c in needed and rows.header.count(c) > 1})
    problems = [Problem(name, f"required column '{c}' is missing", f"add columns {','.join(needed)}", line=1)
                for c in missing]
    problems += [Problem(name, "the header repeats a column", "keep one column of each name", line=1, column=c)
                 for c in repeated]
    if problems:
        raise ScenarioError(problems)
    lines = np.asarray(rows.lines, dtype=np.int64)
    position = {c: rows.header.index(c) for c in needed}
    cells = {c: [row[position[c]].strip() for row in rows.rows] for c in needed}
    frame = pd.DataFrame({c: pd.Series(cells[c], dtype=object) for c in needed})
    for key in keys:
        empty = (frame[key] == "").to_numpy()
        for pos in np.flatnonzero(empty)[:5]:
            problems.append(Problem(name, "value is missing", f"fill in '{key}'", line=int(lines[pos]), column=key))
    decimal = fmt.decimal_for(rows.sep)
    for col in numeric:
        values, bad = parse_numbers(cells[col], decimal)
        mark, other = decimal_problem(cells[col], bad, lines, name, col, rows.sep, decimal)
        if mark is not None:
            problems.append(mark)
        for pos in np.flatnonzero(bad & ~other)[:5]:
            problems.append(Problem(name, "is not a finite number", "write a plain number such as 1250.5",
                                    line=int(lines[pos]), column=col, value=cells[col][pos]))
        frame[col] = values
    if problems:
        raise ScenarioError(problems)
    return frame, lines, {c: cells[c] for c in numeric}
