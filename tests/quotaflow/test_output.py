"""Safe exports: formula injection neutralised, BOM for Excel, non-Latin text intact, nothing half-written."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quotaflow.manifest import write_manifest
from quotaflow.output import OutputError, claim_output, staged_output
from quotaflow.writer import neutralise, write_csv


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def test_formula_cells_neutralised_numbers_untouched(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "+SUM(A1)", "-2+3", "@x", "\tTab", "\rCR", "Plain",
                                   "北京贸易有限公司"],
                          "value": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0]})
    write_csv(frame, tmp_path / "x.csv")
    rows = _read(tmp_path / "x.csv")
    assert rows[0] == ["name", "value"]
    names = [r[0] for r in rows[1:]]
    assert names[:6] == ["'=cmd|' /C calc'!A0", "'+SUM(A1)", "'-2+3", "'@x", "'\tTab", "'\rCR"]
    assert names[6:] == ["Plain", "北京贸易有限公司"]
    assert [r[1] for r in rows[1:]][:3] == ["-1.5", "2.0", "-3.0"]


def test_excel_bom_and_crlf(tmp_path: Path) -> None:
    frame = pd.DataFrame({"account": ["Müller & Söhne", "株式会社さくら電機"]})
    write_csv(frame, tmp_path / "plain.csv")
    write_csv(frame, tmp_path / "excel.csv", excel=True)
    plain, excel = (tmp_path / "plain.csv").read_bytes(), (tmp_path / "excel.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel.startswith(b"\xef\xbb\xbf") and excel[3:] == plain
    assert b"\r\n" in plain  # RFC 4180 line ends
    assert _read(tmp_path / "excel.csv")[2] == ["株式会社さくら電機"]


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_neutralised_text_never_starts_a_formula(values: list[str]) -> None:
    for v in values:
        out = neutralise(v)
        assert isinstance(out, str)
        assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert out == v or out == "'" + v


def test_staged_output_keeps_nothing_on_error(tmp_path: Path) -> None:
    out = tmp_path / "result"
    with pytest.raises(RuntimeError), staged_output(out) as stage:
        (stage / "half.csv").write_text("a,b\n", encoding="utf-8")
        raise RuntimeError("solver blew up")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def _quotaflow_folder(out: Path, name: str = "old.csv") -> None:
    """A folder as a quotaflow run leaves it: staged, with a sealed manifest."""
    with staged_output(out) as stage:
        (stage / name).write_text("x\n", encoding="utf-8")
        write_manifest(stage, command=["quotaflow", "test"])


def test_staged_output_refuses_existing_without_force(tmp_path: Path) -> None:
    out = tmp_path / "result"
    _quotaflow_folder(out)
    with pytest.raises(OutputError, match="--force"), staged_output(out) as stage:
        (stage / "new.csv").write_text("y\n", encoding="utf-8")
    assert (out / "old.csv").exists()
    with staged_output(out, force=True) as stage:
        (stage / "new.csv").write_text("y\n", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["new.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["result"]


def test_force_never_replaces_a_folder_quotaflow_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"years of work")
    with pytest.raises(OutputError, match=r"has no quotaflow manifest\.json"), staged_output(mine, force=True):
        pass
    # a manifest.json that is not quotaflow's is not enough
    (mine / "manifest.json").write_text('{"command": ["something else"]}', encoding="utf-8")
    with pytest.raises(OutputError, match=r"has no quotaflow manifest\.json"), staged_output(mine, force=True):
        pass
    assert (mine / "thesis.docx").read_bytes() == b"years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_force_refuses_a_quotaflow_folder_the_user_added_files_to(tmp_path: Path) -> None:
    out = tmp_path / "result"
    _quotaflow_folder(out)
    (out / "my notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError, match=r"my notes\.txt"), staged_output(out, force=True):
        pass
    assert (out / "my notes.txt").read_text(encoding="utf-8") == "keep me"
    (out / "my notes.txt").unlink()
    (out / "old.csv").write_text("x, corrected by hand\n", encoding="utf-8")  # an edit is the user's work too
    with pytest.raises(OutputError, match=r"old\.csv \(changed\)"), staged_output(out, force=True):
        pass
    assert (out / "old.csv").read_text(encoding="utf-8") == "x, corrected by hand\n"
    (out / "old.csv").write_text("x\n", encoding="utf-8")
    (out / "sub").mkdir()
    (out / "sub" / ".git").mkdir()  # a repository inside is the user's too
    with pytest.raises(OutputError, match=r"sub/\.git"), staged_output(out, force=True):
        pass
    assert (out / "sub" / ".git").is_dir()


def test_force_moves_the_old_folder_aside_and_back_when_the_swap_fails(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    out = tmp_path / "result"
    _quotaflow_folder(out)
    real_rename = os.rename

    def rename(src: object, dst: object) -> None:
        if str(src).endswith(".partial") and Path(str(dst)) == out:
            raise OSError(28, "No space left on device")
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OutputError, match="could not be moved") as info, staged_output(out, force=True) as stage:
        (stage / "new.csv").write_text("y\n", encoding="utf-8")
    monkeypatch.undo()
    assert (out / "old.csv").exists() and not (out / "new.csv").exists()  # the old result is back in place
    kept = next(tmp_path.glob("result.conflict-*"))
    assert str(kept) in str(info.value) and (kept / "new.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "aside or staging folder left behind"


def test_a_result_that_cannot_be_published_is_kept_beside_the_output(tmp_path: Path) -> None:
    out = tmp_path / "result"
    with pytest.raises(OutputError, match="appeared while this run was working") as info, \
            staged_output(out) as stage:
        (stage / "mine.csv").write_text("run\n", encoding="utf-8")
        out.mkdir()  # another program writes the same folder meanwhile
        (out / "theirs.csv").write_text("other\n", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["theirs.csv"]  # nothing of theirs replaced
    kept = next(tmp_path.glob("result.conflict-*"))
    assert str(kept) in str(info.value)
    assert (kept / "mine.csv").read_text(encoding="utf-8") == "run\n"


def test_two_runs_on_one_output_the_second_is_refused_at_once(tmp_path: Path) -> None:
    import threading

    out = tmp_path / "result"
    inside, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with staged_output(out) as stage:
                (stage / "first.csv").write_text("1\n", encoding="utf-8")
                write_manifest(stage, command=["first"])
                inside.set()
                done.wait(30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(30)
    with pytest.raises(OutputError, match="another quotaflow run"), staged_output(out, force=True):
        pass
    done.set()
    thread.join()
    assert not errors
    assert sorted(p.name for p in out.iterdir()) == ["first.csv", "manifest.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["result"]  # no lock file, no staging left


def test_leftovers_of_a_killed_run_are_cleaned_or_reported(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from quotaflow.output_lock import host as _host

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    pid = int(dead.stdout)  # a process that has ended: its pid is free
    host = _host()
    out = tmp_path / "result"
    ours = tmp_path / f".result.{host}-{pid}-0123abcd.partial"
    ours.mkdir()
    (ours / "half.csv").write_text("a\n", encoding="utf-8")
    unknown = tmp_path / ".result.k3j4h5.partial"  # an older naming: not attributable
    unknown.mkdir()
    elsewhere = tmp_path / f".result.other-machine-{pid}-0123abcd.partial"  # a run on a shared disk's other host
    elsewhere.mkdir()
    alive = tmp_path / f".result.{host}-{os.getpid()}-0123abcd.partial"  # a run that is still going
    alive.mkdir()
    notes: list[str] = []
    with claim_output(out, note=notes.append):
        pass
    assert not ours.exists() and unknown.is_dir() and elsewhere.is_dir() and alive.is_dir()
    assert any("removed" in n and str(ours) in n for n in notes)
    assert all(any("left" in n and str(p) in n for n in notes) for p in (unknown, elsewhere, alive))
    for p in (unknown, elsewhere, alive):
        p.rmdir()
    # a run killed between the two renames of a --force replacement: the old folder is put back
    _quotaflow_folder(out)
    aside = tmp_path / f".result.{host}-{pid}-0000beef.replaced"
    out.rename(aside)
    notes.clear()
    with pytest.raises(OutputError, match="already exists"):  # restored first, then found in the way as usual
        claim_output(out, note=notes.append)
    assert (out / "old.csv").exists() and not aside.exists()
    assert any("restored" in n for n in notes)


@pytest.mark.parametrize("where", ["is", "inside", "contains", "symlink"])
def test_output_may_not_touch_an_input(tmp_path: Path, where: str) -> None:
    source = tmp_path / "scenario"
    source.mkdir()
    (source / "scenario.toml").write_text("name = 'x'\n", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(source, target_is_directory=True)
    out = {"is": source, "inside": source / "out", "contains": tmp_path, "symlink": link}[where]
    with pytest.raises(OutputError, match="which this command reads"):
        claim_output(out, force=True, reads=[source])
    assert sorted(p.name for p in source.iterdir()) == ["scenario.toml"]


def test_output_may_not_be_or_hold_the_current_or_home_folder_or_a_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "home" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for out, what in [(Path("."), "current folder"), (Path(".."), "current folder"), (tmp_path, "current folder")]:
        with pytest.raises(OutputError, match=what):
            claim_output(out, force=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="home folder"):
        claim_output(tmp_path / "home", force=True)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    with pytest.raises(OutputError, match="repository"):
        claim_output(repo, force=True)
    with pytest.raises(OutputError, match="filesystem root"):
        claim_output("/", force=True)
    with claim_output(work / "out"):  # a new folder below the current one is what --out is for
        pass


def test_write_csv_guards_text_but_writes_ids_verbatim(tmp_path: Path) -> None:
    frame = pd.DataFrame({"rep_id": ["-R1", "=R2"], "plan": ["+p", "@q"], "name": ["=cmd", "-x"],
                          "account_id": ["@A", "A2"], "amount": [-1.0, 2.0]})
    write_csv(frame, tmp_path / "x.csv")
    rows = _read(tmp_path / "x.csv")
    assert rows[1] == ["-R1", "+p", "'=cmd", "@A", "-1.0"]
    assert rows[2] == ["=R2", "@q", "'-x", "A2", "2.0"]


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    target = tmp_path / "x.csv"
    write_csv(pd.DataFrame({"a": [1]}), target)
    before = target.read_bytes()

    def boom(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_csv(pd.DataFrame({"a": [2, 3]}), target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_manifest_records_scenario_and_versions(tmp_path: Path) -> None:
    import json

    import scenarios

    write_manifest(tmp_path, command=["quotaflow", "x"], scenario=scenarios.load("tiny"), seeds={"sim": 3},
                   solver={"name": "highs", "mip_gap": 0.001}, status="optimal")
    data = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert data["status"] == "optimal" and data["seeds"] == {"sim": 3}
    assert data["scenario"]["fingerprint"] == scenarios.fingerprint(scenarios.load("tiny"))
    assert data["packages"]["pulp"] != "not installed"


def test_every_exporting_command_offers_excel() -> None:
    """Exports everywhere are plain UTF-8 by default and gain a BOM with --excel."""
    from typer.testing import CliRunner

    from quotaflow.cli import app

    runner = CliRunner()
    for command in ("allocate", "frontier", "quotas", "budget", "simulate", "sweep", "pay"):
        text = runner.invoke(app, [command, "--help"]).output
        assert "--excel" in text, command


def test_allocate_excel_flag_controls_the_bom(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from quotaflow.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["allocate", "tiny", "--out", str(tmp_path / "plain")]).exit_code == 0
    assert runner.invoke(app, ["allocate", "tiny", "--out", str(tmp_path / "xl"), "--excel"]).exit_code == 0
    for name in ("assignments.csv", "reps.csv", "quotas.csv", "budget.csv"):
        assert not (tmp_path / "plain" / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
        assert (tmp_path / "xl" / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    names = pd.read_csv(tmp_path / "xl" / "assignments.csv", encoding="utf-8-sig")["account_id"]
    assert len(names) == 30
