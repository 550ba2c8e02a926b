"""Golden run on the Maven Analytics CRM export (../shared/benchmarks/crm/maven): the report shows the censored open
deals, the 30 agents' shrunk spread and the month-of-quarter profile of wins (about 0.24 / 0.35 / 0.42 for
April to December 2017, which this test pins from the export itself)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import calibration
import scenarios
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode


@pytest.fixture(scope="module")
def maven(shared_benchmarks: Path) -> Path:
    return shared_benchmarks / "crm" / "maven"


@pytest.fixture(scope="module")
def result(maven: Path) -> calibration.CalibrationResult:
    return calibration.calibrate(maven, calibration.load_mapping(preset="maven"))


def test_counts_and_cleaning(result: calibration.CalibrationResult, maven: Path) -> None:
    raw = pd.read_csv(maven / "sales_pipeline.csv")
    c = result.counts()
    assert c["won"] == (raw["deal_stage"] == "Won").sum() == 4238
    assert c["lost"] == (raw["deal_stage"] == "Lost").sum() == 2473
    cleaning = result.cleaning.set_index("reason")["rows"]
    # Deals still in Prospecting carry no date at all; 'GTXPro' is 'GTX Pro' in products.csv.
    assert cleaning["no_date"] == (raw["deal_stage"] == "Prospecting").sum() == 500
    assert cleaning["product_spelling"] == (raw["product"] == "GTXPro").sum()
    engaging = (raw["deal_stage"] == "Engaging").sum()
    assert c["open_censored"] + cleaning["stale_open"] == engaging
    assert c["open_censored"] > 0 and str(result.model.observed_from.date()) == "2017-03-01"


def test_report_shows_censoring_shrinkage_and_quarter_profile(result: calibration.CalibrationResult) -> None:
    funnel = result.funnel.set_index("stage")
    engaging = funnel.loc["Engaging"]
    assert engaging["censored"] == result.counts()["open_censored"] and engaging["late_entries"] > 0
    assert engaging["conversion_low"] < engaging["conversion"] < engaging["conversion_high"]
    assert 0.58 < engaging["conversion"] < 0.68
    pooling = result.rep_pooling.set_index("stage").loc["Engaging"]
    assert pooling["reps"] == 30
    assert pooling["shrunk_rate_sd"] < pooling["raw_rate_sd"] / 5  # 30 agents within binomial noise of each other
    moq = result.timing.month_of_quarter.set_index("position")["share"]
    assert result.timing.quarters == ["2017Q2", "2017Q3", "2017Q4"]
    assert moq.round(2).tolist() == [0.24, 0.35, 0.42]
    text = result.report()
    assert f"{result.counts()['open_censored']} open and right-censored" in text
    assert "| Engaging | 30 |" in text and "| 3 | 1545 | 0.417" in text


def test_cli_golden_run(maven: Path, tmp_path: Path) -> None:
    out = tmp_path / "maven"
    result = CliRunner().invoke(app, ["calibrate", str(maven), "--preset", "maven", "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    s = scenarios.load(out)
    assert len(s.reps) == 30 and len(s.accounts) == 85 and s.stage_ids == ["engaging"]
    assert set(s.reps["region"]) == {"Central", "East", "West"}
    shares = pd.read_csv(out / "estimates" / "timing_month_of_quarter.csv")
    assert shares["share"].sum() == pytest.approx(1.0)
