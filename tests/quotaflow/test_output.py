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
from quotaflow.output import OutputError, neutralise, staged_output, write_csv


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


def test_staged_output_refuses_existing_without_force(tmp_path: Path) -> None:
    out = tmp_path / "result"
    out.mkdir()
    (out / "old.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(OutputError, match="--force"), staged_output(out) as stage:
        (stage / "new.csv").write_text("y\n", encoding="utf-8")
    assert (out / "old.csv").exists()
    with staged_output(out, force=True) as stage:
        (stage / "new.csv").write_text("y\n", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["new.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["result"]


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
    """Issue 7: exports everywhere are plain UTF-8 by default and gain a BOM with --excel."""
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
