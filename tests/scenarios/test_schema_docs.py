"""The schema is data: the README's table documentation is generated from it and must not drift."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import scenarios
from scenarios.schema import TABLES, columns

ROOT = Path(__file__).resolve().parents[2]


def test_docs_table_is_in_sync() -> None:
    doc = (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    # Regenerate with: python -m scenarios.schema (paste into the Tables part of docs/scenario-format.md)
    assert scenarios.schema_markdown() in doc


def test_every_table_has_an_id_first() -> None:
    for table in TABLES:
        first = columns(table)[0]
        assert first.name.endswith("_id"), table


def test_bundled_scenarios_are_package_data(tmp_path: Path) -> None:
    """``scenarios.load("baseline")`` must work from an installed wheel, so the wheel must carry the files."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {proc.stderr[-300:]}")
    wheel = next(tmp_path.glob("quotaflow-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in scenarios.bundled():
        for file in ("scenario.toml", "reps.csv", "accounts.csv"):
            assert f"scenarios/bundled/{name}/{file}" in names
    assert "scenarios/schema.csv" in names
