"""Old names of pay-plan keys (``[plans]``, ``plan_id``, ``plans.…`` paths) still load, each with a note saying what
to rename; old and new together are refused; saving writes the new names; fingerprints do not depend on the names."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
from importlib import resources
from pathlib import Path

import pytest

import scenarios
from scenarios import ScenarioDeprecationWarning, ScenarioError
from scenarios.deprecations import upgrade_header, upgrade_path


@pytest.fixture()
def new_folder(tmp_path: Path) -> Path:
    src = resources.files("scenarios").joinpath("bundled", "tiny")
    with resources.as_file(src) as path:
        shutil.copytree(path, tmp_path / "new")
    return tmp_path / "new"


def _to_old_names(folder: Path, toml: bool = True, reps: bool = True) -> Path:
    """Rewrite a scenario folder with the old names, as files written before the rename hold them."""
    if toml:
        path = folder / "scenario.toml"
        text = path.read_text(encoding="utf-8")
        assert "[pay_plans." in text
        path.write_text(text.replace("[pay_plans.", "[plans.").replace("[[pay_plans.", "[[plans."), encoding="utf-8")
    if reps:
        path = folder / "reps.csv"
        header, rest = path.read_text(encoding="utf-8").split("\n", 1)
        assert ",pay_plan_id," in header
        path.write_text(header.replace(",pay_plan_id,", ",plan_id,") + "\n" + rest, encoding="utf-8")
    return folder


def _load_noting(folder: Path) -> tuple[scenarios.Scenario, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = scenarios.load(folder)
    assert all(issubclass(w.category, ScenarioDeprecationWarning) for w in caught), [str(w) for w in caught]
    return s, [str(w.message) for w in caught]


def test_old_names_load_to_the_same_scenario_with_one_note_each(new_folder: Path, tmp_path: Path) -> None:
    reference = scenarios.load(new_folder)
    old = _to_old_names(shutil.copytree(new_folder, tmp_path / "old"))
    s, notes = _load_noting(old)
    assert s.equals(reference.replace(source=s.source))
    assert notes == ["scenario.toml: [plans] is the old name of [pay_plans]; rename it (quotaflow reads both for now)",
                     "reps.csv: column 'plan_id' is the old name of 'pay_plan_id'; rename it (quotaflow reads both "
                     "for now)"]


def test_each_old_name_is_read_alone(new_folder: Path, tmp_path: Path) -> None:
    reference = scenarios.load(new_folder)
    only_toml = _to_old_names(shutil.copytree(new_folder, tmp_path / "t"), reps=False)
    only_reps = _to_old_names(shutil.copytree(new_folder, tmp_path / "r"), toml=False)
    for folder, word in ((only_toml, "[plans]"), (only_reps, "'plan_id'")):
        s, notes = _load_noting(folder)
        assert s.equals(reference.replace(source=s.source)) and len(notes) == 1 and word in notes[0]


def test_new_names_load_without_a_note(new_folder: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scenarios.load(new_folder)


def test_old_and_new_section_together_are_refused(new_folder: Path) -> None:
    path = new_folder / "scenario.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[plans.extra]\ndescription = "x"\ncommission_rate = 0.01\n',
                    encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        scenarios.load(new_folder)
    problem = info.value.problems[0]
    assert problem.file == "scenario.toml" and problem.column == "plans"
    assert "both [plans] and [pay_plans]" in problem.message and "keep [pay_plans] only" in problem.fix


def test_old_and_new_column_together_are_refused(new_folder: Path) -> None:
    path = new_folder / "reps.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",plan_id"] + [line + ",capped" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        scenarios.load(new_folder)
    problem = info.value.problems[0]
    assert (problem.file, problem.line, problem.column) == ("reps.csv", 1, "plan_id")
    assert "both columns 'plan_id' and 'pay_plan_id'" in problem.message


def test_save_writes_the_new_names_and_round_trips(new_folder: Path, tmp_path: Path) -> None:
    old = _to_old_names(shutil.copytree(new_folder, tmp_path / "old"))
    s, _ = _load_noting(old)
    out = scenarios.save(s, tmp_path / "saved")
    toml = (out / "scenario.toml").read_text(encoding="utf-8")
    assert "[pay_plans.flat_commission]" in toml and "[plans." not in toml
    assert (out / "reps.csv").read_text(encoding="utf-8").split("\n", 1)[0].split(",")[10] == "pay_plan_id"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = scenarios.load(out)
    assert again.equals(s.replace(source=again.source))
    assert scenarios.save(again, tmp_path / "twice").joinpath("scenario.toml").read_bytes() == toml.encode("utf-8")


def test_fingerprint_does_not_depend_on_the_names(new_folder: Path, tmp_path: Path) -> None:
    """Plan folders and sweeps made for a scenario stay valid for it whichever names its files use."""
    old = _to_old_names(shutil.copytree(new_folder, tmp_path / "old"))
    s, _ = _load_noting(old)
    assert scenarios.fingerprint(s) == scenarios.fingerprint(scenarios.load(new_folder))
    # the value written into plan.json and manifests for the bundled tiny scenario since its behaviour settings
    # gained closing_speed_elasticity (the scenario's settings changed, so its identity did; renaming files never
    # changes it)
    assert scenarios.fingerprint(s) == "43ea389f951ecbd884c91127666fd9b33ab9cf56aec695651ec93fb23d8c43fd"
    changed = scenarios.modify(s, {"pay_plans.capped.commission_rate": 0.06})
    assert scenarios.fingerprint(changed) != scenarios.fingerprint(s)


@pytest.mark.parametrize(("old", "new"), [
    ("plans.capped.cap.target_multiple", "pay_plans.capped.cap.target_multiple"),
    ("plans.capped", "pay_plans.capped"),
    ("reps.plan_id", "reps.pay_plan_id"),
    ("reps[plan_id=capped].hours_per_week", "reps[pay_plan_id=capped].hours_per_week"),
    ("reps[region=North].plan_id", "reps[region=North].pay_plan_id"),
])
def test_old_what_if_paths_are_read_with_a_note(old: str, new: str) -> None:
    with pytest.warns(ScenarioDeprecationWarning, match=rf"--set: '{re.escape(old)}' uses an old name; write "
                                                        rf"'{re.escape(new)}'"):
        assert upgrade_path(old, "--set") == new


@pytest.mark.parametrize("path", ["pay_plans.capped.cap", "reps[tier=plan_id].hours_per_week", "accounts.plan_id",
                                  "tiers.junior.hours_per_week", "reps.pay_plan_id"])
def test_other_paths_pass_unchanged(path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert upgrade_path(path, "--set") == path


def test_modify_reads_old_paths(tiny: scenarios.Scenario) -> None:
    with pytest.warns(ScenarioDeprecationWarning):
        old = scenarios.modify(tiny, {"plans.capped.commission_rate": 0.07, "reps.plan_id": "capped"})
    new = scenarios.modify(tiny, {"pay_plans.capped.commission_rate": 0.07, "reps.pay_plan_id": "capped"})
    assert old.equals(new)


def test_header_of_another_table_is_left_alone() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert upgrade_header(["account_id", "plan_id"], "accounts", "accounts.csv") == ["account_id", "plan_id"]


def test_cli_prints_each_old_name_once_as_a_warning_line(new_folder: Path, tmp_path: Path) -> None:
    old = _to_old_names(shutil.copytree(new_folder, tmp_path / "old"))
    proc = subprocess.run([sys.executable, "-m", "quotaflow.cli", "validate", str(old)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    warning_lines = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warning_lines == [
        "warning: scenario.toml: [plans] is the old name of [pay_plans]; rename it (quotaflow reads both for now)",
        "warning: reps.csv: column 'plan_id' is the old name of 'pay_plan_id'; rename it (quotaflow reads both for "
        "now)"]
    assert "Traceback" not in proc.stderr and "DeprecationWarning" not in proc.stderr
    assert "valid: no problems found" in proc.stdout


def _with_behaviour_keys(folder: Path, lines: str) -> Path:
    path = folder / "scenario.toml"
    text = re.sub(r"customer_pull_share = [0-9.]+\ncustomer_push_share = [0-9.]+\n", lines,
                  path.read_text(encoding="utf-8"))
    assert lines in text
    path.write_text(text, encoding="utf-8")
    return folder


def test_the_single_customer_flexibility_is_read_as_both_shares(new_folder: Path) -> None:
    s, notes = _load_noting(_with_behaviour_keys(new_folder, "customer_flexibility = 0.4\n"))
    b = s.settings.behaviour
    assert (b.customer_pull_share, b.customer_push_share) == (0.4, 0.4)
    assert notes == ["scenario.toml: [behaviour] customer_flexibility is now customer_pull_share and "
                     "customer_push_share; write customer_pull_share = 0.4, customer_push_share = 0.4 (quotaflow "
                     "reads both for now)"]


def test_customer_flexibility_beside_a_new_share_is_refused(new_folder: Path) -> None:
    _with_behaviour_keys(new_folder, "customer_flexibility = 0.4\ncustomer_push_share = 0.2\n")
    with pytest.raises(ScenarioError, match="holds both 'customer_flexibility' and 'customer_push_share'"):
        scenarios.load(new_folder)


def test_a_what_if_of_customer_flexibility_names_the_two_shares() -> None:
    both = "behaviour.customer_pull_share and behaviour.customer_push_share"
    with pytest.raises(ScenarioError, match=re.escape(both)):
        upgrade_path("behaviour.customer_flexibility", "--set")
