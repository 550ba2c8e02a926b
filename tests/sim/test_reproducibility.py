"""Same seed -> byte-identical CSVs whatever the number of workers; another seed -> different results."""

from __future__ import annotations

from pathlib import Path

import scenarios
from sim import simulate


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def test_same_seed_same_bytes_with_one_and_two_workers(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    simulate(tiny, replications=4, seed=7, workers=1).to_csv(tmp_path / "w1")
    simulate(tiny, replications=4, seed=7, workers=2).to_csv(tmp_path / "w2")
    simulate(tiny, replications=4, seed=8, workers=1).to_csv(tmp_path / "other")
    one, two, other = _files(tmp_path / "w1"), _files(tmp_path / "w2"), _files(tmp_path / "other")
    assert set(one) == {"kpis.csv", "monthly.csv", "reps.csv", "funnel.csv", "replications.csv",
                        "replication_monthly.csv", "replication_reps.csv"}
    assert one == two
    assert one["kpis.csv"] != other["kpis.csv"]


def test_cli_files_identical_with_one_and_two_workers(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from quotaflow.cli import app

    runner = CliRunner()
    for k in (1, 2):
        res = runner.invoke(app, ["simulate", "tiny", "--replications", "3", "--seed", "11", "--workers", str(k),
                                  "--out", str(tmp_path / f"w{k}")])
        assert res.exit_code == 0, res.output
    assert _files(tmp_path / "w1") == _files(tmp_path / "w2")
