"""A plan folder is checked against the scenario it is used with: its origin (plan.json) and every file, with
messages that name file, line, column, value and fix."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scenarios
from scenarios import Plan, PlanOrigin, PlanWarning, ScenarioError


@pytest.fixture()
def plan_dir(tmp_path: Path, tiny: scenarios.Scenario) -> Path:
    """Today's assignment, a quota of 1000 per rep, month and product, and a small budget, stamped for tiny."""
    periods = tiny.settings.calendar.periods()
    quotas = pd.DataFrame([(r, p, prod, 1000.0) for r in tiny.reps.index for p in periods
                           for prod in tiny.settings.products], columns=scenarios.plan.QUOTA_COLUMNS)
    budget = pd.DataFrame([("events", "North", p, 500.0, 4.0, 9000.0) for p in periods],
                          columns=scenarios.plan.BUDGET_COLUMNS)
    folder = tmp_path / "plan"
    Plan(assignment=Plan.current(tiny).assignment, quotas=quotas, budget=budget).to_csv(folder, scenario=tiny)
    return folder


def _problems(folder: Path, scenario: scenarios.Scenario, **kwargs: bool) -> list[scenarios.Problem]:
    with pytest.raises(ScenarioError) as info:
        Plan.load(folder, scenario, **kwargs)
    return info.value.problems


def _rewrite(path: Path, edit: object) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = edit(lines)  # type: ignore[operator]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_stamped_folder_round_trips(plan_dir: Path, tiny: scenarios.Scenario) -> None:
    stamp = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    assert stamp["scenario"] == {"name": "tiny", "fingerprint": scenarios.fingerprint(tiny)}
    plan = Plan.load(plan_dir, tiny)
    assert plan.made_for == PlanOrigin.of(tiny)
    assert plan.assignment.equals(Plan.current(tiny).assignment)
    assert plan.quotas is not None and plan.quotas["quota"].sum() == 1000.0 * 12 * 3 * len(tiny.reps)


def test_a_plan_for_another_scenario_is_refused_naming_both(plan_dir: Path, tiny: scenarios.Scenario) -> None:
    """Same ids, different calendar: the case the fingerprint exists for."""
    other = scenarios.modify(tiny, {"calendar.start": "2028-01-01"})
    (p,) = _problems(plan_dir, other)
    assert p.file == "plan.json" and p.column == "scenario.fingerprint"
    assert scenarios.fingerprint(tiny)[:12] in p.message and scenarios.fingerprint(other)[:12] in p.message
    assert "'tiny'" in p.message and "same name, different content" in p.message
    assert "--allow-foreign-plan" in p.fix and "quotaflow allocate" in p.fix
    # allowed, the files are still checked against the scenario: its quotas lie outside the new horizon
    problems = _problems(plan_dir, other, allow_foreign=True)
    assert {(p.file, p.column) for p in problems} == {("quotas.csv", "period"), ("budget.csv", "period"),
                                                      ("quotas.csv", "rep_id")}
    assert any("outside the scenario's horizon 2028-01..2028-12" in p.message for p in problems)


def test_a_hand_made_folder_warns_and_loads(plan_dir: Path, tiny: scenarios.Scenario) -> None:
    (plan_dir / "plan.json").unlink()
    with pytest.warns(PlanWarning, match="has no plan.json"):
        plan = Plan.load(plan_dir, tiny)
    assert plan.made_for is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Plan.load(plan_dir, tiny, allow_foreign=True)


def test_a_broken_plan_json_is_an_input_error(plan_dir: Path, tiny: scenarios.Scenario) -> None:
    (plan_dir / "plan.json").write_text("{not json", encoding="utf-8")
    (p,) = _problems(plan_dir, tiny)
    assert p.file == "plan.json" and "not a quotaflow plan description" in p.message and "delete" in p.fix


def test_assignments_missing_duplicate_and_unknown(plan_dir: Path, tiny: scenarios.Scenario) -> None:
    def edit(lines: list[str]) -> list[str]:
        del lines[5]  # A000005 has no row
        lines[2] = lines[1]  # A000001 twice (line 3)
        lines[3] = lines[3].split(",")[0] + ",R9999"  # unknown rep (line 4)
        return [*lines, "A999999,R0001"]  # unknown account (last line)
    _rewrite(plan_dir / "assignments.csv", edit)
    found = {(p.line, p.column, p.value): p for p in _problems(plan_dir, tiny)}
    assert set(found) == {(3, "account_id", "A000001"), (4, "rep_id", "R9999"), (31, "account_id", "A999999"),
                          (None, "account_id", "A000002")}
    assert "repeats" in found[(3, "account_id", "A000001")].message
    missing = found[(None, "account_id", "A000002")]
    assert "2 accounts of the scenario have no row: A000002, A000005" in missing.message
    assert "leave rep_id empty" in missing.fix


def test_empty_rep_id_means_uncovered(plan_dir: Path, tiny: scenarios.Scenario) -> None:
    _rewrite(plan_dir / "assignments.csv", lambda lines: [lines[0], lines[1].split(",")[0] + ",", *lines[2:]])
    plan = Plan.load(plan_dir, tiny)
    assert pd.isna(plan.assignment["A000001"]) and plan.assignment.notna().sum() == tiny.accounts[
        "current_rep_id"].drop("A000001").notna().sum()


@pytest.mark.parametrize(("row", "column", "message"), [
    ("R0001,2027-01,hardware,-5", "quota", "is negative"),
    ("R0001,2027-13,hardware,5", "period", "is not a month written YYYY-MM"),
    ("R0001,2027-01-01,hardware,5", "period", "is not a month written YYYY-MM"),
    ("R0001,2026-12,hardware,5", "period", "is outside the scenario's horizon 2027-01..2027-12"),
    ("R0001,2027-01,ice_cream,5", "product", "names an unknown product"),
    ("R9999,2027-01,hardware,5", "rep_id", "names an unknown rep"),
    ("R0001,2027-01,hardware,inf", "quota", "is not a finite number"),
    ("R0001,2027-01,hardware,2e13", "quota", "is above the maximum 1e+13"),
    ("R0001,2027-01,hardware,5", "rep_id and period and product", "repeats an earlier row"),
])
def test_bad_quota_rows_are_named(plan_dir: Path, tiny: scenarios.Scenario, row: str, column: str,
                                  message: str) -> None:
    """The bad row replaces the first data row (R0001, 2027-01, hardware), or is added after the last to repeat it."""
    repeat = "repeats" in message
    _rewrite(plan_dir / "quotas.csv", lambda lines: [*lines, row] if repeat else [lines[0], row, *lines[2:]])
    (p,) = _problems(plan_dir, tiny)
    line = 2 + len(tiny.reps) * 12 * 3 if repeat else 2
    assert (p.file, p.line, p.column) == ("quotas.csv", line, column) and message in p.message
    assert p.value is not None and p.value.split(" / ")[-1] in row


def test_rep_missing_from_quotas(plan_dir: Path, tiny: scenarios.Scenario) -> None:
    _rewrite(plan_dir / "quotas.csv", lambda lines: [ln for ln in lines if not ln.startswith("R0003,")
                                                      and not ln.startswith("R0005,2027-07,")])
    problems = {p.value: p for p in _problems(plan_dir, tiny)}
    assert set(problems) == {"R0003", "R0005"}
    assert "rep R0003 is in seat during the horizon but has no rows" in problems["R0003"].message
    assert "has no row for 2027-07" in problems["R0005"].message


def test_a_rep_hired_after_the_horizon_needs_no_quota(tmp_path: Path, tiny: scenarios.Scenario) -> None:
    late = tiny.replace(reps=tiny.reps.assign(hire_date=tiny.reps["hire_date"].where(
        tiny.reps.index != "R0006", pd.Timestamp("2028-03-01"))))
    periods = late.settings.calendar.periods()
    quotas = pd.DataFrame([(r, p, "hardware", 10.0) for r in late.reps.index for p in periods
                           if r != "R0006" or p < "2027-10"], columns=scenarios.plan.QUOTA_COLUMNS)
    Plan(assignment=Plan.current(late).assignment, quotas=quotas).to_csv(tmp_path, scenario=late)
    assert Plan.load(tmp_path, late).quotas is not None  # rows before a hire are allowed, none are needed
    hired_mid_year = late.replace(reps=late.reps.assign(hire_date=late.reps["hire_date"].where(
        late.reps.index != "R0006", pd.Timestamp("2027-10-15"))))
    (p,) = _problems(tmp_path, hired_mid_year, allow_foreign=True)
    assert "rep R0006" in p.message and "2027-10, 2027-11, 2027-12" in p.message


@pytest.mark.parametrize(("row", "column", "message"), [
    ("tv,North,2027-01,1,1,1", "channel", "names an unknown channel"),
    ("events,Atlantis,2027-01,1,1,1", "region", "names an unknown region"),
    ("events,South,2029-01,1,1,1", "period", "is outside the scenario's horizon"),
    ("events,South,2027-01,-1,1,1", "spend", "is negative"),
    ("events,South,2027-01,1,-1,1", "expected_leads", "is negative"),
    ("events,South,2027-01,1,1,-1", "expected_value", "is negative"),
    ("events,North,2027-01,1,1,1", "channel and region and period", "repeats an earlier row"),
])
def test_bad_budget_rows_are_named(plan_dir: Path, tiny: scenarios.Scenario, row: str, column: str,
                                   message: str) -> None:
    _rewrite(plan_dir / "budget.csv", lambda lines: [*lines, row])
    (p,) = _problems(plan_dir, tiny)
    assert (p.file, p.line, p.column) == ("budget.csv", 14, column) and message in p.message


def test_cells_that_are_not_numbers_name_line_and_value(plan_dir: Path, tiny: scenarios.Scenario) -> None:
    _rewrite(plan_dir / "quotas.csv", lambda lines: [lines[0], lines[1].rsplit(",", 1)[0] + ",12 EUR", *lines[2:]])
    (p,) = _problems(plan_dir, tiny)
    assert (p.file, p.line, p.column, p.value) == ("quotas.csv", 2, "quota", "12 EUR")


def test_plan_files_in_other_encodings_and_layouts(plan_dir: Path, tiny: scenarios.Scenario) -> None:
    path = plan_dir / "quotas.csv"
    text = path.read_text(encoding="utf-8").replace(",", ";").replace("1000.0", "1000,5")
    path.write_bytes(text.encode("utf-16"))
    (p,) = _problems(plan_dir, tiny)
    assert "';' as separator (a European Excel export)" in p.message and p.value == "1000,5"
    plan = Plan.load(plan_dir, tiny, decimal=",")
    assert plan.quotas is not None and np.allclose(plan.quotas["quota"], 1000.5)


def test_in_memory_plans_get_the_same_checks(tiny: scenarios.Scenario) -> None:
    periods = tiny.settings.calendar.periods()
    quotas = pd.DataFrame([(r, p, "hardware", -1.0) for r in tiny.reps.index for p in periods],
                          columns=scenarios.plan.QUOTA_COLUMNS)
    with pytest.raises(ScenarioError, match="is negative") as info:
        Plan(assignment=Plan.current(tiny).assignment, quotas=quotas).check(tiny)
    assert len(info.value.problems) == 1  # one problem per offending value, not one per row
