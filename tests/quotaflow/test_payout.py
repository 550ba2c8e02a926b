"""CLI contract for `quotaflow pay`: statements for fixed bookings under each plan, clean errors, no half output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from clirunners import stderr_apart
from typer.testing import CliRunner

import scenarios
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode
from quotaflow.metrics import gini

runner = CliRunner()


def _bookings(tiny: scenarios.Scenario, path: Path, value: float = 30_000.0) -> Path:
    rows = [(r, p, value, 25_000.0) for r in tiny.reps.index for p in tiny.settings.calendar.periods()]
    pd.DataFrame(rows, columns=["rep_id", "period", "bookings", "quota"]).to_csv(path, index=False)
    return path


def test_pay_writes_statements_summary_and_plan_totals(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["pay", "tiny", "--bookings", str(_bookings(tiny, tmp_path / "b.csv")),
                                 "--out", str(out), "--pay-plans", "flat_commission,capped"])
    assert result.exit_code == 0, result.output
    pay_plans = pd.read_csv(out / "plans.csv", encoding="utf-8-sig").set_index("plan")
    # Everyone books 360k against 300k: 120 % attainment. Flat 5 % -> 18k each; capped at 1.5 x 15k = 22.5k,
    # which 18k does not reach.
    assert pay_plans.loc["flat_commission", "variable"] == pytest.approx(6 * 18_000.0)
    assert pay_plans.loc["capped", "variable"] == pytest.approx(6 * 18_000.0)
    assert pay_plans.loc["flat_commission", "share_at_quota"] == 1.0
    statements = pd.read_csv(out / "statements.csv", encoding="utf-8-sig")
    assert len(statements) == 2 * 6 * 12 and statements["period"].iloc[0] == "2027-01"
    assert (out / "summary.csv").exists() and (out / "manifest.json").exists()


def test_pay_cap_binds_for_high_bookings(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["pay", "tiny", "--bookings", str(_bookings(tiny, tmp_path / "b.csv", 50_000.0)),
                                 "--out", str(out), "--pay-plans", "capped"])
    assert result.exit_code == 0, result.output
    pay_plans = pd.read_csv(out / "plans.csv", encoding="utf-8-sig").set_index("plan")
    # 600k x 5 % = 30k uncapped; cap 1.5 x (5 % x 300k) = 22.5k per rep.
    assert pay_plans.loc["capped", "variable"] == pytest.approx(6 * 22_500.0)
    assert pay_plans.loc["capped", "share_capped"] == 1.0


@pytest.mark.parametrize(("edit", "message"), [
    (lambda f: f.assign(period="2031-01"), "not a month of the horizon"),
    (lambda f: f.assign(bookings="lots"), "is not a number"),
    (lambda f: f.drop(columns="quota"), "missing column"),
    (lambda f: f.iloc[1:], "lack a row"),
    (lambda f: f.assign(rep_id="R9999"), "is not a rep"),
])
def test_pay_bad_bookings_exit_2_without_output(tiny: scenarios.Scenario, tmp_path: Path,
                                                edit: Callable[[pd.DataFrame], pd.DataFrame], message: str) -> None:
    path = _bookings(tiny, tmp_path / "b.csv")
    edit(pd.read_csv(path)).to_csv(path, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["pay", "tiny", "--bookings", str(path), "--out", str(out)])
    assert result.exit_code == ExitCode.INPUT
    assert message in result.output
    assert not out.exists()


def test_pay_unknown_plan(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    result = runner.invoke(app, ["pay", "tiny", "--bookings", str(_bookings(tiny, tmp_path / "b.csv")),
                                 "--out", str(tmp_path / "o"), "--pay-plans", "nope"])
    assert result.exit_code == ExitCode.INPUT and "unknown pay plan" in result.output


def test_gini() -> None:
    assert gini(pd.Series([5.0, 5.0])) == 0.0
    assert gini(pd.Series([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)


def test_pay_reads_a_european_export_with_decimal_comma(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    """A German Excel's 'CSV (Trennzeichen-getrennt)': cp1252, ';' separators, decimal commas."""
    plain = _bookings(tiny, tmp_path / "b.csv", value=30_000.5)
    text = plain.read_text(encoding="utf-8").replace(",", ";").replace(".", ",")
    european = tmp_path / "eu.csv"
    european.write_bytes(text.encode("cp1252"))
    args = ["pay", "tiny", "--bookings", str(european), "--pay-plans", "flat_commission"]
    refused = runner.invoke(app, [*args, "--out", str(tmp_path / "no")])
    assert refused.exit_code == ExitCode.INPUT and not (tmp_path / "no").exists()
    assert "eu.csv line 2, column 'bookings': is not a number with '.' as decimal mark" in refused.output
    assert "pass --decimal ','" in refused.output
    read = runner.invoke(app, [*args, "--decimal", ",", "--out", str(tmp_path / "eu")])
    assert read.exit_code == 0, read.output
    ref = runner.invoke(app, ["pay", "tiny", "--bookings", str(plain), "--pay-plans", "flat_commission",
                              "--out", str(tmp_path / "ref")])
    assert ref.exit_code == 0, ref.output
    assert (tmp_path / "eu" / "plans.csv").read_bytes() == (tmp_path / "ref" / "plans.csv").read_bytes()




def test_pay_reads_the_old_option_name_with_a_warning(tiny: scenarios.Scenario, tmp_path: Path) -> None:
    bookings = str(_bookings(tiny, tmp_path / "b.csv"))
    split = stderr_apart()
    new = split.invoke(app, ["pay", "tiny", "--bookings", bookings, "--out", str(tmp_path / "new"),
                              "--pay-plans", "capped"])
    old = split.invoke(app, ["pay", "tiny", "--bookings", bookings, "--out", str(tmp_path / "old"),
                              "--plans", "capped"])
    assert new.exit_code == old.exit_code == 0, old.output
    assert "warning: --plans is the old name of --pay-plans" in old.stderr and "warning" not in new.stderr
    for name in ("statements.csv", "summary.csv", "plans.csv"):
        assert (tmp_path / "old" / name).read_bytes() == (tmp_path / "new" / name).read_bytes()
    both = runner.invoke(app, ["pay", "tiny", "--bookings", bookings, "--out", str(tmp_path / "both"),
                               "--plans", "capped", "--pay-plans", "capped"])
    assert both.exit_code == ExitCode.INPUT and "--plans is its old name" in both.output
    assert not (tmp_path / "both").exists()
