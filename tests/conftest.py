"""Shared fixtures: bundled scenarios (loaded once) and the path to ../shared/benchmarks when present."""

from __future__ import annotations

from pathlib import Path

import pytest

import scenarios

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


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
