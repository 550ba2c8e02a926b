"""``quotaflow backtest`` contract: the simulator and both baselines scored at every cutoff against the export's
own later wins; clear exit-2 errors for cutoffs that cannot be scored; outputs never overlapping inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import synthetic_export as se
from typer.testing import CliRunner

import calibration
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode

runner = CliRunner()

TRUTH = se.Truth(months=10, arrivals_per_month=80.0, reps=6)  # 2022-01 to 2022-10
CUTOFFS = ["2022-06-30", "2022-07-31"]
HORIZON = 3


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return se.write_export(tmp_path_factory.mktemp("bt") / "export", TRUTH, 5)


def _args(export: Path, out: Path, cutoffs: str = ",".join(CUTOFFS), horizon: int = HORIZON) -> list[str]:
    return ["backtest", str(export), "--preset", "salesforce", "--cutoffs", cutoffs, "--horizon-months",
            str(horizon), "--replications", "20", "--seed", "1", "--draws", "500", "--out", str(out)]


def test_backtest_scores_the_simulator_and_both_baselines(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, _args(export, out))
    assert result.exit_code == ExitCode.OK, result.output
    for name in ("backtest.csv", "backtest_summary.csv", "backtest.png", "summary.json", "manifest.json"):
        assert (out / name).is_file(), name
    assert (out / "backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "backtest.png" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    detail = pd.read_csv(out / "backtest.csv", dtype={"cutoff": str, "month": str})
    models = {"simulator", "weighted_pipeline", "seasonal_naive"}
    assert set(detail["model"]) == models
    assert len(detail) == len(CUTOFFS) * HORIZON * 2 * len(models)
    assert set(detail["metric"]) == {"won_deals", "won_value"}
    # the actuals are the export's own wins after each cutoff, read independently of the command
    full = calibration.build_model(export, se.mapping())[0]
    data = [calibration.backtest_data(export, se.mapping(), pd.Timestamp(c).date(), HORIZON, full=full)
            for c in CUTOFFS]
    actuals = calibration.actuals_table(data).set_index(["cutoff", "month", "metric"])["actual"]
    got = detail.set_index(["cutoff", "month", "metric"])["actual"]
    assert got.to_numpy() == pytest.approx(actuals.reindex(got.index).to_numpy())
    assert (detail["p10"] <= detail["p50"]).all() and (detail["p50"] <= detail["p90"]).all()
    sim_rows = detail[detail["model"] == "simulator"]
    assert (sim_rows.loc[sim_rows["metric"] == "won_deals", "p50"] > 0).all()  # the simulator forecast wins
    summary = pd.read_csv(out / "backtest_summary.csv")
    assert set(zip(summary["metric"], summary["model"], strict=True)) == {
        (m, k) for m in ("won_deals", "won_value") for k in models}
    assert summary["coverage_80"].between(0, 1).all() and (summary["pinball_50"] >= 0).all()
    record = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(record["simulator"]) == set(CUTOFFS) and record["replications"] == 20
    assert "weighted_pipeline" in result.output


def test_a_cutoff_that_is_not_a_month_end_is_exit_2(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, _args(export, out, cutoffs="2022-06-15"))
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "--cutoffs" in result.output and "2022-06-15" in result.output and not out.exists()


def test_a_horizon_past_the_export_is_exit_2(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, _args(export, out, cutoffs="2022-09-30"))
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "2022-10-31" in result.output and not out.exists()


def test_out_inside_the_export_is_exit_5(export: Path) -> None:
    before = sorted(p.name for p in export.iterdir())
    result = runner.invoke(app, _args(export, export / "bt"))
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert sorted(p.name for p in export.iterdir()) == before


def test_a_failing_plot_leaves_no_output(export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import quotaflow.commands.backtest as command

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("plot failed after the tables were written")

    monkeypatch.setattr(command, "plot_backtest", broken)
    out = tmp_path / "out"
    result = runner.invoke(app, _args(export, out, cutoffs=CUTOFFS[0]))
    assert result.exit_code == ExitCode.INTERNAL, result.output
    # neither the folder nor its staging sibling is left: no half-written output
    assert sorted(p.name for p in tmp_path.iterdir()) == [], sorted(p.name for p in tmp_path.iterdir())
