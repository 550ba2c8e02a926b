"""Shared fixtures: bundled scenarios (loaded once) and the path to ../shared/benchmarks when present."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

import scenarios

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"

# `make test-oldest` runs an older Hypothesis in the same checkout as `make test`; the example database's format
# is not shared across versions (6.90 replaying entries a newer version saved fails with data_too_large), so that
# run keeps no database: `pytest --hypothesis-profile=no-database`.
settings.register_profile("no-database", database=None)


@pytest.fixture(scope="session")
def tiny() -> scenarios.Scenario:
    return scenarios.load("tiny")


@pytest.fixture(scope="session")
def baseline() -> scenarios.Scenario:
    return scenarios.load("baseline")


@pytest.fixture(scope="session")
def shared_benchmarks() -> Path:
    """../shared/benchmarks, or skip the test cleanly when this clone has no ../shared."""
    if not SHARED.is_dir():
        pytest.skip("../shared/benchmarks is not present (a user's clone has none)")
    return SHARED
