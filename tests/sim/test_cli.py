"""The ``quotaflow simulate`` command: files, exit codes, no partial output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from simcases import MIXED_PLANS, mixed_plans
from typer.testing import CliRunner

import scenarios
from quotaflow.cli import app

runner = CliRunner()


def test_simulate_writes_tables(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = runner.invoke(app, ["simulate", "tiny", "--replications", "3", "--seed", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    kpis = pd.read_csv(out / "kpis.csv")
    assert kpis.columns.tolist() == ["metric", "mean", "ci_low", "ci_high"]
    funnel = pd.read_csv(out / "funnel.csv")
    assert funnel.columns[:6].tolist() == ["stage", "entered", "converted", "open", "conversion",
                                           "conversion_ci_low"]
    assert "mean_days" in funnel.columns
    assert pd.read_csv(out / "monthly.csv")["period"].iloc[0] == "2027-01"
    assert len(pd.read_csv(out / "reps.csv")) == 6
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["replications"] == 3 and summary["run"]["seed"] == 4
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seeds"] == {"simulation": 4}


def test_simulate_refuses_existing_folder_and_bad_plan(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    res = runner.invoke(app, ["simulate", "tiny", "--replications", "1", "--out", str(out)])
    assert res.exit_code == 5 and (out / "keep.txt").exists()
    bad = tmp_path / "plan"
    bad.mkdir()
    (bad / "assignments.csv").write_text("account_id,rep_id\nA000001,NOPE\n", encoding="utf-8")
    res = runner.invoke(app, ["simulate", "tiny", "--plan", str(bad), "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "NOPE" in res.output and not (tmp_path / "o2").exists()


def test_plan_folder_round_trip(tmp_path: Path) -> None:
    import scenarios

    s = scenarios.load("tiny")
    scenarios.Plan.current(s).to_csv(tmp_path / "plan")
    res = runner.invoke(app, ["simulate", "tiny", "--plan", str(tmp_path / "plan"), "--replications", "2",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output


def _year_pay(plan_id: str, bookings: float, quota: float, base: float) -> float:
    """A year's pay under tiny's plans, by hand from their descriptions in scenario.toml (12 months, no vacancy)."""
    if plan_id == "flat_commission":  # 5 % on every booking
        return base + 0.05 * bookings
    if plan_id == "annual_bonus":  # 4 % and 20 % of base at 100 % of annual quota
        return base + 0.04 * bookings + (0.2 * base if bookings >= quota else 0.0)
    if plan_id == "tiered_accelerator":  # 4 % to half of quota, 5 % to quota, 8 % above
        return base + 0.04 * min(bookings, 0.5 * quota) + 0.05 * min(max(bookings - 0.5 * quota, 0.0), 0.5 * quota) \
            + 0.08 * max(bookings - quota, 0.0)
    if plan_id == "capped":  # 5 %, capped at 1.5 x the commission at quota
        return base + min(0.05 * bookings, 1.5 * 0.05 * quota)
    raise AssertionError(plan_id)


def test_simulate_incentives_follow_the_reps_plans(tmp_path: Path) -> None:
    # Reps on four different plans: a run that put everyone on one plan (or paid by one plan while behaving by
    # another) pays some rep differently from that rep's own plan.
    tiny = scenarios.load("tiny")
    scenarios.save(mixed_plans(tiny), tmp_path / "mixed")
    runs = {}
    for mode in ("own", "none", "annual_bonus"):
        out = tmp_path / mode
        res = runner.invoke(app, ["simulate", str(tmp_path / "mixed"), "--replications", "2", "--seed", "4",
                                  "--incentives", mode, "--out", str(out)])
        assert res.exit_code == 0, res.output
        runs[mode] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert runs["own"]["run"]["behaviour"].startswith(
        "IncentiveBehaviour(annual_bonus x2, capped x2, flat_commission x1, tiered_accelerator x1;")
    assert runs["own"]["run"]["pay"] == "PlanPay(6 seats on 4 distinct plan(s))"
    assert runs["none"]["run"]["behaviour"].startswith("NormBehaviour(")
    assert "annual_bonus x6" in runs["annual_bonus"]["run"]["behaviour"]
    manifest = json.loads((tmp_path / "own" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["incentives"] == "own"
    reps = pd.read_csv(tmp_path / "own" / "replication_reps.csv")
    base = tiny.reps["base_salary"].to_dict()
    own = dict(zip(tiny.reps.index, MIXED_PLANS, strict=True))
    assert (reps["left"] == 0).all() and (reps["promoted"] == 0).all()
    for row in reps.itertuples():
        want = _year_pay(own[row.rep_id], row.bookings, row.quota, base[row.rep_id])
        assert row.pay == pytest.approx(want, rel=1e-9), (row.rep_id, own[row.rep_id])
    for plan_id in set(MIXED_PLANS):  # the check above tells the reps' own plans from any single plan
        uniform = [_year_pay(plan_id, r.bookings, r.quota, base[r.rep_id]) for r in reps.itertuples()]
        assert not np.allclose(uniform, reps["pay"], rtol=1e-6), plan_id
    assert runs["own"]["kpis"]["pay_total"]["mean"] != runs["annual_bonus"]["kpis"]["pay_total"]["mean"]
    bad = runner.invoke(app, ["simulate", "tiny", "--incentives", "nope", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "nope" in bad.output and not (tmp_path / "bad").exists()
