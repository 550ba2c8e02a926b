"""save(load(x)) gives x back, for every bundled scenario: equal in memory and byte-identical on disk."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

import scenarios


@pytest.mark.parametrize("name", scenarios.bundled())
def test_bundled_round_trip_is_exact(name: str, tmp_path: Path) -> None:
    original = scenarios.load(name)
    scenarios.save(original, tmp_path)
    again = scenarios.load(tmp_path)
    assert again.equals(original)
    source = resources.files("scenarios").joinpath("bundled", name)
    for file in ("scenario.toml", "reps.csv", "accounts.csv"):
        assert (tmp_path / file).read_bytes() == source.joinpath(file).read_bytes(), file


def test_generated_round_trip(tmp_path: Path) -> None:
    s = scenarios.generate(reps=9, accounts=120, seed=5, regions=3, products=4, months=18)
    scenarios.save(s, tmp_path)
    assert scenarios.load(tmp_path).equals(s)


def test_pair_table_round_trip(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    import pandas as pd

    pairs = pd.DataFrame({"rep_id": ["R0001", "R0002"], "account_id": ["A000001", "A000001"],
                          "value": [10.5, None], "hours": [3.0, 4.0], "travel_km": [None, 12.25]})
    s = tiny.replace(rep_accounts=pairs.set_index(["rep_id", "account_id"]))
    scenarios.save(s, tmp_path)
    back = scenarios.load(tmp_path)
    assert back.rep_accounts is not None
    assert back.equals(s)


def test_save_refuses_to_overwrite(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    scenarios.save(tiny, tmp_path)
    with pytest.raises(scenarios.ScenarioError, match="already holds a scenario"):
        scenarios.save(tiny, tmp_path)
    scenarios.save(tiny, tmp_path, overwrite=True)
