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


def _region_plan(tmp_path: Path, *, stamp: bool = True) -> Path:
    """Every account of tiny to one rep per region (R0002 North, R0004 South), and a quota of 1000 per rep, month
    and product: neither is what the simulator would do without the plan."""
    import scenarios

    s = scenarios.load("tiny")
    owners = s.accounts["region"].map({"North": "R0002", "South": "R0004"}).rename("rep_id")
    quotas = pd.DataFrame([(r, p, prod, 1000.0) for r in s.reps.index for p in s.settings.calendar.periods()
                           for prod in s.settings.products], columns=["rep_id", "period", "product", "quota"])
    folder = tmp_path / "plan"
    scenarios.Plan(assignment=owners, quotas=quotas).to_csv(folder, scenario=s if stamp else None)
    return folder


def test_plan_folder_round_trip(tmp_path: Path) -> None:
    """The simulated run uses the plan's owners and quotas, not today's assignment and derived quotas."""
    folder = _region_plan(tmp_path)
    res = runner.invoke(app, ["simulate", "tiny", "--plan", str(folder), "--replications", "3", "--seed", "2",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "warning" not in res.output
    reps = pd.read_csv(tmp_path / "o" / "reps.csv").set_index("rep_id")
    assert (reps["quota"] == 1000.0 * 12 * 3).all()  # every rep in seat all year, 3 products
    # reps who own no account in the plan book nothing; today's owners of those accounts did
    assert (reps.loc[["R0001", "R0003", "R0005"], "bookings"] == 0).all()
    assert reps.loc[["R0002", "R0004"], "bookings"].sum() > 0.8 * reps["bookings"].sum()
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["quota_source"] == "plan" and summary["run"]["plan"] == str(folder)
    today = runner.invoke(app, ["simulate", "tiny", "--replications", "3", "--seed", "2", "--out", str(tmp_path / "t")])
    assert today.exit_code == 0, today.output
    today_reps = pd.read_csv(tmp_path / "t" / "reps.csv").set_index("rep_id")
    assert today_reps.loc[["R0001", "R0003", "R0005"], "bookings"].sum() > 0
    assert not (today_reps["quota"] == 36000.0).all()


def test_simulate_refuses_a_plan_made_for_another_scenario(tmp_path: Path) -> None:
    import shutil
    from importlib import resources

    import scenarios

    folder = _region_plan(tmp_path)
    with resources.as_file(resources.files("scenarios").joinpath("bundled", "tiny")) as src:
        shutil.copytree(src, tmp_path / "edited")
    toml = tmp_path / "edited" / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'currency = "EUR"' in text
    toml.write_text(text.replace('currency = "EUR"', 'currency = "CHF"', 1), encoding="utf-8")
    edited = scenarios.load(tmp_path / "edited")
    args = ["simulate", str(tmp_path / "edited"), "--plan", str(folder), "--replications", "2"]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and not (tmp_path / "o").exists()
    assert scenarios.fingerprint(scenarios.load("tiny"))[:12] in res.output
    assert scenarios.fingerprint(edited)[:12] in res.output and "--allow-foreign-plan" in res.output
    res = runner.invoke(app, [*args, "--allow-foreign-plan", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output


def test_simulate_warns_about_a_hand_made_plan(tmp_path: Path) -> None:
    folder = _region_plan(tmp_path, stamp=False)
    res = runner.invoke(app, ["simulate", "tiny", "--plan", str(folder), "--replications", "2",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "warning: plan folder" in res.output and "has no plan.json" in res.output


def test_simulate_refuses_a_plan_with_a_negative_quota_naming_the_line(tmp_path: Path) -> None:
    folder = _region_plan(tmp_path)
    path = folder / "quotas.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",-1000.0"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["simulate", "tiny", "--plan", str(folder), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and not (tmp_path / "o").exists()
    assert "quotas.csv line 6, column 'quota': is negative (value '-1000.0')" in res.output


def test_simulate_reads_a_plan_in_gbk_with_encoding(tmp_path: Path) -> None:
    folder = _region_plan(tmp_path)
    path = folder / "assignments.csv"
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    text = (text.replace("rep_id\n", "rep_id,备注\n", 1).replace(",R0002\n", ",R0002,北区\n")
            .replace(",R0004\n", ",R0004,南区\n"))
    assert "北区" in text and "备注" in text
    path.write_bytes(text.encode("gbk"))
    args = ["simulate", "tiny", "--plan", str(folder), "--replications", "2"]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "assignments.csv: is not UTF-8; it looks like GBK (Chinese). Fix: re-save it as UTF-8 or pass " \
           "--encoding gbk" in res.output
    res = runner.invoke(app, [*args, "--encoding", "gbk", "--out", str(tmp_path / "o")])
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
    assert runs["own"]["run"]["pay"] == "PayPlanPay(6 seats on 4 distinct pay plan(s))"
    assert runs["none"]["run"]["behaviour"].startswith("NormBehaviour(")
    assert "annual_bonus x6" in runs["annual_bonus"]["run"]["behaviour"]
    manifest = json.loads((tmp_path / "own" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["incentives"] == "own"
    reps = pd.read_parquet(tmp_path / "own" / "replication_reps.parquet")  # unrounded pay
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
