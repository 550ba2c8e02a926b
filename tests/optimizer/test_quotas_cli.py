"""CLI contract of ``quotaflow quotas`` and ``quotaflow budget``: files, exit codes, no partial output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import scenarios
from quotaflow.cli import app

runner = CliRunner()


def _feasible_tiny(folder: Path) -> Path:
    s = scenarios.load("tiny")
    scenarios.save(s, folder)
    return folder


def test_quotas_writes_quotas_and_summary(tmp_path: Path) -> None:
    scenario = _feasible_tiny(tmp_path / "s")
    out = tmp_path / "out"
    result = runner.invoke(app, ["quotas", str(scenario), "--method", "fair", "--out", str(out)])
    assert result.exit_code == 0, result.output
    quotas = pd.read_csv(out / "quotas.csv", encoding="utf-8-sig")
    assert list(quotas.columns) == ["rep_id", "rep_name", "rep_tier", "rep_region", "period", "product", "quota"]
    assert quotas["quota"].sum() == 770_000
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["method"] == "fair" and summary["status"] == "optimal"
    assert summary["target"] == 700_000 and summary["over_assignment"] == 1.1
    assert (out / "quota_reps.csv").is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "optimal" and manifest["method"] == "fair"


def test_quotas_reads_a_plan_folder_and_samples(tmp_path: Path) -> None:
    scenario = _feasible_tiny(tmp_path / "s")
    s = scenarios.load(scenario)
    plan = scenarios.Plan.current(s)
    moved = plan.assignment.copy()
    moved.iloc[:5] = "R0003"
    scenarios.Plan(assignment=moved).to_csv(tmp_path / "plan")
    rng = np.random.default_rng(0)
    rows = [(r, v) for r in s.reps.index for v in rng.gamma(4, 200_000, 50)]
    pd.DataFrame(rows, columns=["rep_id", "sales"]).to_csv(tmp_path / "samples.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["quotas", str(scenario), "--method", "equal_probability", "--plan",
                                 str(tmp_path / "plan"), "--samples", str(tmp_path / "samples.csv"),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    reps = pd.read_csv(out / "quota_reps.csv", encoding="utf-8-sig").set_index("rep_id")
    assert reps.loc["R0003", "accounts"] == (moved == "R0003").sum()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["attainment_probability"]) == {"North", "South"}


def test_equal_probability_without_samples_simulates_them(tmp_path: Path) -> None:
    from quotaflow.quotas import simulated_sales

    scenario = _feasible_tiny(tmp_path / "s")
    out = tmp_path / "out"
    result = runner.invoke(app, ["quotas", str(scenario), "--method", "equal_probability", "--replications", "6",
                                 "--seed", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "simulating 6 horizons (seed 4)" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["simulated_samples"] == {"replications": 6, "seed": 4}
    # the same quotas as passing those simulated sales by hand
    s = scenarios.load(scenario)
    samples = simulated_sales(s, scenarios.Plan.current(s).assignment, replications=6, seed=4)
    rows = [(r, v) for r in samples.index for v in samples.loc[r]]
    pd.DataFrame(rows, columns=["rep_id", "sales"]).to_csv(tmp_path / "samples.csv", index=False)
    by_hand = tmp_path / "by_hand"
    result = runner.invoke(app, ["quotas", str(scenario), "--method", "equal_probability", "--samples",
                                 str(tmp_path / "samples.csv"), "--out", str(by_hand)])
    assert result.exit_code == 0, result.output
    a = pd.read_csv(out / "quotas.csv", encoding="utf-8-sig")
    b = pd.read_csv(by_hand / "quotas.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(a, b)


def test_quotas_infeasible_exits_3_without_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenarios.save(scenarios.modify(scenarios.load("tiny"), {"targets.annual": 100_000.0}), tmp_path / "low")
    result = runner.invoke(app, ["quotas", str(tmp_path / "low"), "--out", str(out)])
    assert result.exit_code == 3
    assert "region North" in result.output and "Fix:" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_quotas_bad_samples_exit_2(tmp_path: Path) -> None:
    scenario = _feasible_tiny(tmp_path / "s")
    (tmp_path / "samples.csv").write_text("rep_id,sales\nR0001,abc\n", encoding="utf-8")
    result = runner.invoke(app, ["quotas", str(scenario), "--method", "equal_probability", "--samples",
                                 str(tmp_path / "samples.csv"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "samples.csv line 2, column 'sales'" in result.output
    result = runner.invoke(app, ["quotas", str(scenario), "--method", "nonsense", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "unknown quota method" in result.output


def test_budget_writes_budget_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["budget", "tiny", "--out", str(out)])
    assert result.exit_code == 0, result.output
    budget = pd.read_csv(out / "budget.csv", encoding="utf-8-sig")
    assert list(budget.columns) == ["channel", "region", "period", "spend", "expected_leads", "expected_value"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal" and summary["gap"] == 0.0
    assert summary["marginal_value_per_unit_budget"] > 0
    assert set(summary["channels"]) == set(scenarios.load("tiny").settings.channels)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["scenario"]["name"] == "tiny"
    # the folder is a plan folder's budget: Plan.load reads it back
    scenarios.Plan.current(scenarios.load("tiny")).to_csv(tmp_path / "plan")
    (tmp_path / "plan" / "budget.csv").write_bytes((out / "budget.csv").read_bytes())
    plan = scenarios.Plan.load(tmp_path / "plan", scenarios.load("tiny"))
    assert plan.budget is not None and len(plan.budget) == len(budget)


def test_budget_saturation_reason_and_exit_codes(tmp_path: Path) -> None:
    out = tmp_path / "big"
    result = runner.invoke(app, ["budget", "tiny", "--out", str(out), "--total", "1e7"])
    assert result.exit_code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["spent"] < 1e7 and "left unspent" in summary["unspent_reason"]
    result = runner.invoke(app, ["budget", "tiny", "--out", str(out), "--total", "1e7"])
    assert result.exit_code == 5  # exists, no --force
    result = runner.invoke(app, ["budget", "tiny", "--out", str(tmp_path / "small"), "--total", "100"])
    assert result.exit_code == 3 and "minimum spends" in result.output
    assert not (tmp_path / "small").exists()
    result = runner.invoke(app, ["budget", "tiny", "--out", str(tmp_path / "x"), "--solver", "gurobi"])
    assert result.exit_code == 2


def test_samples_need_the_same_count_per_rep(tmp_path: Path) -> None:
    from quotaflow.quotas import read_samples

    s = scenarios.load("tiny")
    rows = [(r, 1.0) for r in s.reps.index] + [(s.reps.index[0], 2.0)]
    pd.DataFrame(rows, columns=["rep_id", "sales"]).to_csv(tmp_path / "samples.csv", index=False)
    with pytest.raises(scenarios.ScenarioError, match="same number of samples"):
        read_samples(tmp_path / "samples.csv", s)
    pd.DataFrame([("NOBODY", 1.0)], columns=["rep_id", "sales"]).to_csv(tmp_path / "s2.csv", index=False)
    with pytest.raises(scenarios.ScenarioError, match=r"s2\.csv line 2, column 'rep_id'"):
        read_samples(tmp_path / "s2.csv", s)
