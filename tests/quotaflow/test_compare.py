"""``compare`` and ``quotaflow compare``: paired statistics cross-checked by hand, CRN, files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clirunners import stderr_apart
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from typer.testing import CliRunner

import scenarios
import sim
from quotaflow.cli import app
from quotaflow.comparison import ComparisonError, compare
from quotaflow.metrics import METRICS, gini
from sim.incentives import IncentiveBehaviour

runner = CliRunner()


@pytest.fixture(scope="module")
def result() -> object:
    return compare(scenarios.load("tiny"), ["flat_commission", "annual_bonus", "capped"], replications=4, seed=2)


def test_table_shapes_and_repr(result: object) -> None:
    from quotaflow.comparison import ComparisonResult

    assert isinstance(result, ComparisonResult)
    c = result.comparison
    assert c.columns.tolist() == ["metric", "plan", "mean", "ci_low", "ci_high", "delta", "delta_ci_low",
                                  "delta_ci_high", "p_value"]
    assert len(c) == len(METRICS) * 3
    assert c[c["plan"] == "flat_commission"]["delta"].isna().all()
    assert result.monthly.columns.tolist() == ["plan", "period", "bookings", "bookings_ci_low", "bookings_ci_high"]
    assert len(result.monthly) == 3 * 12
    text = repr(result)
    assert "common random numbers" in text and len(text.splitlines()) < 25


def test_paired_delta_matches_scipy_and_first_plan_matches_simulate(result: object) -> None:
    from quotaflow.comparison import ComparisonResult

    assert isinstance(result, ComparisonResult)
    r = result.replications
    # tiny's reps have selling hours to spare, so the plans change pay, not revenue: compare what they cost
    a = r[r["plan"] == "flat_commission"]["compensation_cost"].to_numpy()
    b = r[r["plan"] == "capped"]["compensation_cost"].to_numpy()
    assert (b != a).all()
    delta, lo, hi, p = result.delta("compensation_cost", "capped")
    test = stats.ttest_rel(b, a)
    assert delta == pytest.approx(float((b - a).mean()))
    assert p == pytest.approx(float(test.pvalue))
    half = stats.t.ppf(0.975, len(a) - 1) * (b - a).std(ddof=1) / np.sqrt(len(a))
    assert (lo, hi) == pytest.approx((delta - half, delta + half))
    # the first plan's run is an ordinary simulation with the adapter and the plan's pay
    s = scenarios.load("tiny")
    direct = sim.simulate(s, replications=4, seed=2, behaviour=IncentiveBehaviour.from_scenario(s, "flat_commission"),
                          pay=sim.PayPlanPay.from_scenario(s, "flat_commission"))
    np.testing.assert_allclose(r[r["plan"] == "flat_commission"]["revenue"].to_numpy(),
                               direct.replications["revenue"].to_numpy())


def test_variance_reduction_is_computed_from_the_replications(result: object) -> None:
    from quotaflow.comparison import ComparisonResult

    assert isinstance(result, ComparisonResult)
    var = result.variance
    v = var[(var["metric"] == "revenue") & (var["plan"] == "annual_bonus")].iloc[0]
    r = result.replications
    a = r[r["plan"] == "flat_commission"]["revenue"].to_numpy()
    b = r[r["plan"] == "annual_bonus"]["revenue"].to_numpy()
    assert v["var_paired"] == pytest.approx(np.var(b - a, ddof=1))
    assert v["var_independent"] == pytest.approx(np.var(a, ddof=1) + np.var(b, ddof=1))
    # common random numbers: the same customers make the two plans' revenues move together
    assert v["variance_reduction"] > 0.5


def test_gini() -> None:
    assert gini(np.array([5.0, 5.0])) == 0.0
    x = np.array([1.0, 2.0, 3.0, 10.0])
    pairs = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())  # the textbook definition
    assert gini(x) == pytest.approx(pairs)


def test_bad_plans_and_replications() -> None:
    s = scenarios.load("tiny")
    with pytest.raises(ComparisonError, match="unknown pay plan"):
        compare(s, ["flat_commission", "nope"], replications=2, seed=1)
    with pytest.raises(ComparisonError, match="twice"):
        compare(s, ["capped", "capped"], replications=2, seed=1)
    with pytest.raises(ComparisonError, match="at least 2"):
        compare(s, ["capped"], replications=1, seed=1)


def test_cli_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    res = runner.invoke(app, ["compare", "tiny", "--pay-plans", "flat_commission,tiered_accelerator", "--replications",
                              "3", "--seed", "7", "--out", str(out), "--excel"])
    assert res.exit_code == 0, res.output
    for name in ("comparison.csv", "monthly.csv", "variance.csv", "replications.csv", "reps.csv", "summary.json",
                 "manifest.json", "monthly_bookings.png", "attainment.png", "pay_vs_attainment.png"):
        assert (out / name).exists(), name
    assert (out / "comparison.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    c = pd.read_csv(out / "comparison.csv", encoding="utf-8-sig")
    assert set(c["plan"]) == {"flat_commission", "tiered_accelerator"}
    assert (out / "attainment.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["seed"] == 7 and "revenue/tiered_accelerator" in summary["crn_variance_reduction"]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["plans"] == ["flat_commission",
                                                                                        "tiered_accelerator"]


def test_cli_errors_leave_nothing(tmp_path: Path) -> None:
    res = runner.invoke(app, ["compare", "tiny", "--pay-plans", "flat_commission,nope", "--replications", "2",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "nope" in res.output and not (tmp_path / "o").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "x.txt").write_text("x")
    res = runner.invoke(app, ["compare", "tiny", "--pay-plans", "flat_commission", "--replications", "2",
                              "--out", str(kept)])
    assert res.exit_code == 5 and (kept / "x.txt").exists()




def test_cli_reads_the_old_option_name_with_a_warning(tmp_path: Path) -> None:
    args = ["compare", "tiny", "--replications", "2", "--seed", "3"]
    split = stderr_apart()
    new = split.invoke(app, [*args, "--pay-plans", "flat_commission,capped", "--out", str(tmp_path / "new")])
    old = split.invoke(app, [*args, "--plans", "flat_commission,capped", "--out", str(tmp_path / "old")])
    assert new.exit_code == old.exit_code == 0, old.output
    assert old.stderr.count("warning: --plans is the old name of --pay-plans") == 1
    for name in ("comparison.csv", "monthly.csv", "variance.csv", "replications.csv", "reps.csv"):
        assert (tmp_path / "old" / name).read_bytes() == (tmp_path / "new" / name).read_bytes(), name
    both = runner.invoke(app, [*args, "--plans", "capped", "--pay-plans", "capped", "--out", str(tmp_path / "b")])
    assert both.exit_code == 2 and "--plans is its old name" in both.output and not (tmp_path / "b").exists()
    neither = runner.invoke(app, [*args, "--out", str(tmp_path / "n")])
    assert neither.exit_code == 2 and "--pay-plans" in neither.output and not (tmp_path / "n").exists()


@settings(max_examples=60, deadline=None)
# Subnormal amounts are left out: halving 5e-324 gives 0, which changes the input itself, not the index.
@given(values=st.lists(st.floats(0.0, 1e7, allow_subnormal=False), min_size=1, max_size=40),
       scale=st.floats(0.01, 100.0))
def test_gini_properties(values: list[float], scale: float) -> None:
    x = np.asarray(values)
    g = gini(x)
    assert 0.0 <= g <= 1.0 - 1.0 / len(x) + 1e-9  # n-1 zeros and one positive value is the maximum
    assert gini(x * scale) == pytest.approx(g, abs=1e-9)  # scale free
    assert gini(x[::-1]) == pytest.approx(g, abs=1e-12)  # order free


def test_compare_counts_team_bonuses_in_compensation_cost(tiny: scenarios.Scenario) -> None:
    team = {"scope": "company", "period": "quarter", "steps": [{"attainment": 0.5, "amount": 4_000.0}]}
    with_team = scenarios.modify(tiny, {"pay_plans.capped.team_bonus": team})
    base = compare(tiny, ["flat_commission", "capped"], replications=2, seed=2)
    more = compare(with_team, ["flat_commission", "capped"], replications=2, seed=2)
    cost = base.comparison.set_index(["metric", "plan"]).loc[("compensation_cost", "capped"), "mean"]
    cost_team = more.comparison.set_index(["metric", "plan"]).loc[("compensation_cost", "capped"), "mean"]
    assert cost_team > cost


def test_compare_cli_set_changes_the_scenario_for_the_run(tmp_path: Path) -> None:
    out = tmp_path / "games"
    args = ["compare", "tiny", "--pay-plans", "flat_commission,annual_bonus", "--replications", "2", "--seed", "2"]
    result = runner.invoke(app, [*args, "--out", str(out), "--set", "behaviour.timing_games=true"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"] == {"behaviour.timing_games": True}
    several = runner.invoke(app, [*args, "--out", str(tmp_path / "x"), "--set", "behaviour.push_risk=0.2,0.3"])
    assert several.exit_code == 2 and "quotaflow sweep" in several.output and not (tmp_path / "x").exists()
    unknown = runner.invoke(app, [*args, "--out", str(tmp_path / "y"), "--set", "behaviour.nope=1"])
    assert unknown.exit_code == 2 and "behaviour.nope" in unknown.output
