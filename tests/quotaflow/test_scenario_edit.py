"""``quotaflow scenario copy / add-reps / remove-reps``: copies byte for byte, edits that validate and allocate,
refusals that leave every file as it was."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from clirunners import stderr_apart

import scenarios
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode
from quotaflow.scenario_edit import add_reps, copy_scenario, new_rep_ids, remove_reps

runner = stderr_apart()


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    out = tmp_path / "my-tiny"
    result = runner.invoke(app, ["scenario", "copy", "tiny", str(out)])
    assert result.exit_code == 0, result.stderr
    return out


def test_copy_is_byte_for_byte_and_only_the_scenario(tiny_copy: Path, tmp_path: Path) -> None:
    bundled = Path(str(scenarios.load("tiny").source))  # a name; find the package folder instead
    from quotaflow.commands.options import scenario_source

    source = scenario_source("tiny")
    assert source is not None and bundled.name == "tiny"
    assert _hashes(tiny_copy) == {k: v for k, v in _hashes(source).items() if not k.startswith("__")}
    assert scenarios.load(tiny_copy).equals(scenarios.load("tiny").replace(source=str(tiny_copy)))
    # a folder beside the scenario that is not part of it is not copied
    (tiny_copy / "notes").mkdir()
    (tiny_copy / "notes" / "x.txt").write_text("mine", encoding="utf-8")
    again = tmp_path / "again"
    copy_scenario(str(tiny_copy), again)
    assert sorted(p.name for p in again.iterdir()) == ["accounts.csv", "reps.csv", "scenario.toml"]


def test_copy_refuses_a_folder_that_holds_files_or_lies_inside_the_source(tiny_copy: Path, tmp_path: Path) -> None:
    before = _hashes(tiny_copy)
    for target in (tiny_copy, tiny_copy / "inside"):
        result = runner.invoke(app, ["scenario", "copy", str(tiny_copy), str(target)])
        assert result.exit_code == ExitCode.OUTPUT, result.stderr
        assert "error:" in result.stderr and "Traceback" not in result.stderr
    result = runner.invoke(app, ["scenario", "copy", "tiny", str(tiny_copy)])
    assert result.exit_code == ExitCode.OUTPUT and "not an empty folder" in result.stderr
    assert _hashes(tiny_copy) == before and not (tiny_copy / "inside").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(app, ["scenario", "copy", "tiny", str(empty)]).exit_code == 0
    assert (empty / "scenario.toml").is_file()
    assert not [p for p in tmp_path.iterdir() if "quotaflow-copy" in p.name]  # no staging folder left


def test_new_ids_follow_the_numbering_and_never_clash() -> None:
    assert new_rep_ids(["R0001", "R0009", "R0010"], 2) == ["R0011", "R0012"]
    assert new_rep_ids(["a", "NEW_1"], 2) == ["NEW_2", "NEW_3"]


def test_add_reps_then_validate_and_allocate(tiny_copy: Path) -> None:
    before = scenarios.load(tiny_copy)
    toml = (tiny_copy / "scenario.toml").read_bytes()
    accounts = (tiny_copy / "accounts.csv").read_bytes()
    result = runner.invoke(app, ["scenario", "add-reps", str(tiny_copy), "--region", "South", "--tier", "mid",
                                 "--count", "1"])
    assert result.exit_code == 0, result.stderr
    assert "median" in result.stdout and "[tiers.mid]" in result.stdout
    after = scenarios.load(tiny_copy)
    new = after.reps.loc[~after.reps.index.isin(before.reps.index)]
    assert len(new) == 1 and set(new["tier"]) == {"mid"} and set(new["region"]) == {"South"}
    assert (new["hours_per_week"] == before.settings.tiers["mid"].hours_per_week).all()
    peers = before.reps[(before.reps["tier"] == "mid") & (before.reps["region"] == "South")]
    assert (new["base_salary"] == peers["base_salary"].median()).all()
    assert after.reps.loc[before.reps.index].equals(before.reps)  # the old reps are untouched
    # only reps.csv was rewritten; scenario.toml and accounts.csv keep their bytes
    assert (tiny_copy / "scenario.toml").read_bytes() == toml
    assert (tiny_copy / "accounts.csv").read_bytes() == accounts
    assert runner.invoke(app, ["validate", str(tiny_copy)]).exit_code == 0
    out = tiny_copy.parent / "alloc"
    allocated = runner.invoke(app, ["allocate", str(tiny_copy), "--out", str(out)])
    assert allocated.exit_code == 0, allocated.stderr
    assigned = (out / "assignments.csv").read_text(encoding="utf-8")
    assert str(new.index[0]) in assigned  # the new rep serves accounts


def test_add_reps_names_the_limits_that_may_keep_new_reps_idle(tiny_copy: Path) -> None:
    # tiny moves at most 15 % of its potential and asks every rep for 90 % of the region's mean hours: two
    # new juniors in North cannot both be filled, and add-reps says which limits to loosen
    result = runner.invoke(app, ["scenario", "add-reps", str(tiny_copy), "--region", "North", "--tier", "junior",
                                 "--count", "2"])
    assert result.exit_code == 0
    assert "max_moved_share = 0.15" in result.stdout and "hours balance band's min = 0.9" in result.stdout
    allocated = runner.invoke(app, ["allocate", str(tiny_copy), "--out", str(tiny_copy.parent / "alloc")])
    assert allocated.exit_code == ExitCode.INFEASIBLE and "disruption budget" in allocated.stderr


def test_remove_reps_unassigns_their_accounts_then_validate_and_allocate(tiny_copy: Path) -> None:
    before = scenarios.load(tiny_copy)
    held = before.accounts.index[before.accounts["current_rep_id"] == "R0001"]
    assert len(held) > 0
    result = runner.invoke(app, ["scenario", "remove-reps", str(tiny_copy), "--rep", "R0001"])
    assert result.exit_code == 0, result.stderr
    assert "unassigned" in result.stdout
    after = scenarios.load(tiny_copy)
    assert "R0001" not in after.reps.index and after.accounts.loc[held, "current_rep_id"].isna().all()
    assert runner.invoke(app, ["validate", str(tiny_copy)]).exit_code == 0
    out = tiny_copy.parent / "alloc"
    assert runner.invoke(app, ["allocate", str(tiny_copy), "--out", str(out)]).exit_code == 0


def test_removing_a_regions_last_reps_is_refused_and_nothing_changes(tiny_copy: Path) -> None:
    s = scenarios.load(tiny_copy)
    north = [str(r) for r in s.reps.index[s.reps["region"] == "North"]]
    before = _hashes(tiny_copy)
    args = ["scenario", "remove-reps", str(tiny_copy)] + [a for r in north for a in ("--rep", r)]
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.INPUT
    assert "no eligible rep" in result.stderr and "Traceback" not in result.stderr
    assert _hashes(tiny_copy) == before


@pytest.mark.parametrize("args, words", [
    (["--region", "Nort", "--tier", "junior"], "did you mean 'North'"),
    (["--region", "North", "--tier", "intern"], "unknown tier"),
    (["--region", "North", "--tier", "junior", "--pay-plan", "nope"], "unknown pay plan"),
])
def test_add_reps_refuses_bad_options(tiny_copy: Path, args: list[str], words: str) -> None:
    before = _hashes(tiny_copy)
    result = runner.invoke(app, ["scenario", "add-reps", str(tiny_copy), *args])
    assert result.exit_code == ExitCode.INPUT and words in result.stderr
    assert _hashes(tiny_copy) == before


def test_a_bundled_name_is_not_edited_in_place() -> None:
    result = runner.invoke(app, ["scenario", "add-reps", "tiny", "--region", "North", "--tier", "junior"])
    assert result.exit_code == ExitCode.INPUT and "scenario copy tiny" in result.stderr


def test_an_edit_that_fails_validation_leaves_no_file_changed(tiny_copy: Path) -> None:
    before = _hashes(tiny_copy)
    # a salary above the schema's bound passes the option check but fails the staged copy's validation
    with pytest.raises(scenarios.ScenarioError, match="base_salary"):
        add_reps(tiny_copy, region="North", tier="junior", count=1, base_salary=1e14)
    assert _hashes(tiny_copy) == before
    assert not [p for p in tiny_copy.iterdir() if p.name.startswith(".quotaflow")]


def test_a_failed_rename_rolls_back_the_files_already_replaced(tiny_copy: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before = _hashes(tiny_copy)
    real = os.replace
    calls: list[str] = []

    def flaky(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(str(dst))
        if len(calls) == 3:  # reps.csv is in place; accounts.csv's first rename fails
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        remove_reps(tiny_copy, ["R0001"])
    monkeypatch.setattr(os, "replace", real)
    assert _hashes(tiny_copy) == before


@pytest.mark.parametrize("region, tier, count", [("North", "senior", 1), ("South", "junior", 3)])
def test_removing_the_reps_just_added_gives_the_scenario_back(tiny_copy: Path, region: str, tier: str,
                                                              count: int) -> None:
    before = scenarios.load(tiny_copy)
    added = add_reps(tiny_copy, region=region, tier=tier, count=count)
    assert len(added.rep_ids) == count and not set(added.rep_ids) & set(before.reps.index)
    remove_reps(tiny_copy, list(added.rep_ids))
    assert scenarios.load(tiny_copy).equals(before)


def test_an_edit_keeps_the_tables_it_replaces(tiny_copy: Path) -> None:
    # the folder may be the planner's own: a replaced table is moved aside, never deleted
    reps_before = (tiny_copy / "reps.csv").read_bytes()
    first = add_reps(tiny_copy, region="North", tier="junior", count=1)
    second = remove_reps(tiny_copy, list(first.rep_ids))
    kept = sorted((tiny_copy / ".quotaflow-previous").iterdir())
    assert len(kept) == 2  # one folder per edit, in time order
    assert (kept[0] / "reps.csv").read_bytes() == reps_before
    assert (kept[1] / "reps.csv").read_bytes() != reps_before  # the reps the first edit wrote
    assert (tiny_copy / "reps.csv").read_bytes() == reps_before  # taking the rep out again gives the table back
    assert any(".quotaflow-previous" in note for note in first.notes + second.notes)
    assert scenarios.load(tiny_copy).reps.index.tolist() == scenarios.load("tiny").reps.index.tolist()
