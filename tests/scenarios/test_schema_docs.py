"""The schema is data: the README's table documentation is generated from it and must not drift."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
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


def _wheel_tools_missing() -> str | None:
    """Why this interpreter cannot build a wheel without the network, or None when it can.

    The wheel is built with ``--no-build-isolation`` (no download of the build backend), so it needs pip and
    the backend of ``[build-system]`` here: setuptools, 70.1 or newer unless the ``wheel`` package is present
    (older setuptools build wheels through it). The dev extra installs both; anything else that stops the build
    is a packaging fault and fails the test.
    """
    if importlib.util.find_spec("pip") is None:
        return "pip is not installed in this environment"
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools (the build backend) is not installed in this environment"
    if importlib.util.find_spec("wheel") is None:
        version = tuple(int(p) for p in re.findall(r"\d+", importlib.metadata.version("setuptools"))[:2])
        if version < (70, 1):
            return f"setuptools {importlib.metadata.version('setuptools')} needs the wheel package to build wheels"
    return None


def test_bundled_scenarios_are_package_data(tmp_path: Path) -> None:
    """``scenarios.load("baseline")`` must work from an installed wheel, so the wheel must carry the files."""
    missing = _wheel_tools_missing()
    if missing is not None:
        pytest.skip(f"cannot build a wheel offline here: {missing}")
    # Built from a copy: an in-tree build leaves build/ and *.egg-info in the checkout, and setuptools reuses
    # them, so files dropped from the package data would still ship from a stale build/lib.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "out"))
    dist = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(dist), str(source)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"building the wheel failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    wheels = list(dist.glob("quotaflow-*.whl"))
    assert len(wheels) == 1, wheels
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for name in scenarios.bundled():
        for file in ("scenario.toml", "reps.csv", "accounts.csv"):
            assert f"scenarios/bundled/{name}/{file}" in names
    assert "scenarios/schema.csv" in names
    # and from the unpacked wheel alone (not this checkout), every bundled scenario loads
    site = tmp_path / "site"
    zipfile.ZipFile(wheels[0]).extractall(site)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import scenarios; "
            "assert scenarios.__file__.startswith(sys.argv[1]), scenarios.__file__; "
            "print(sorted((n, len(scenarios.load(n).reps)) for n in scenarios.bundled()))")
    run = subprocess.run([sys.executable, "-c", code, str(site)], capture_output=True, text=True, check=False,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == str(sorted((n, len(scenarios.load(n).reps)) for n in scenarios.bundled()))
