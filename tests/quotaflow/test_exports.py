"""Exports for people: names beside ids, CSV numbers rounded in plain notation with empty cells for missing values,
raw Parquet twins, the ``--xlsx`` workbook (read back with openpyxl), and the CLI polish around them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import scenarios
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode
from quotaflow.writer import decimals, named, rounded, write_tables, write_workbook

runner = CliRunner()

_SCIENTIFIC = re.compile(rb"\d[eE][+-]?\d")


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny with a rep and an account whose names a spreadsheet would run as formulas, and non-Latin names."""
    s = scenarios.load("tiny")
    reps = s.reps.copy()
    reps.iloc[0, reps.columns.get_loc("name")] = "=1+2"
    reps.iloc[1, reps.columns.get_loc("name")] = "王小明"
    accounts = s.accounts.copy()
    accounts.iloc[0, accounts.columns.get_loc("name")] = "+Ärger & Söhne"
    accounts.iloc[1, accounts.columns.get_loc("name")] = "-@Ñandú"
    folder = tmp_path_factory.mktemp("awkward") / "scen"
    scenarios.save(s.replace(reps=reps, accounts=accounts), folder)
    return folder


def test_named_puts_names_tiers_and_regions_beside_the_ids() -> None:
    s = scenarios.load("tiny")
    rep, account = s.reps.index[0], s.accounts.index[0]
    frame = pd.DataFrame({"account_id": [account, "A-not-there"], "rep_id": [rep, rep], "value": [1.0, 2.0]})
    out = named(frame, s)
    assert out.columns.tolist() == ["account_id", "account_name", "account_tier", "account_region", "rep_id",
                                    "rep_name", "rep_tier", "rep_region", "value"]
    assert out["rep_name"].tolist() == [s.reps.loc[rep, "name"]] * 2
    assert out["account_name"].iloc[0] == s.accounts.loc[account, "name"] and pd.isna(out["account_name"].iloc[1])
    # a reps table that has its own tier and region keeps them and gains only the name
    reps = pd.DataFrame({"rep_id": [rep], "tier": ["x"], "region": ["y"]})
    assert named(reps, s).columns.tolist() == ["rep_id", "rep_name", "tier", "region"]
    assert named(frame, None) is frame


def test_rounding_rules_by_column_name() -> None:
    assert [decimals(c) for c in ("revenue", "gross_margin", "compensation_cost", "profit_after_pay", "quota",
                                  "spend", "expected_value")] == [2] * 7
    assert [decimals(c) for c in ("hours", "capacity_hours", "selling_hours", "travel_km", "cycle_days")] == [1] * 5
    assert [decimals(c) for c in ("cost_of_sales_share", "payout_vs_budget", "win_rate", "attainment", "p_value",
                                  "value_per_lead", "pay_gini", "conversion")] == [4] * 8
    assert decimals("var_paired") is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=-1e13, max_value=1e13),
                          st.sampled_from([np.inf, -np.inf, np.nan, 1e-9, 123456789012.345, -0.00004])),
                min_size=1, max_size=8))
@example([2814749767107.4453])  # numpy's round() gave .44 for this amount, a cent short
def test_csv_cells_are_plain_numbers_or_empty(values: list[float]) -> None:
    import tempfile

    frame = pd.DataFrame({"revenue": values, "win_rate": values, "hours": values, "var_paired": values})
    with tempfile.TemporaryDirectory() as d:
        write_tables({"t": frame}, Path(d))
        data = (Path(d) / "t.csv").read_bytes()
        raw = pd.read_parquet(Path(d) / "t.parquet")
    assert not _SCIENTIFIC.search(data) and b"inf" not in data.lower() and b"nan" not in data.lower()
    rows = data.decode("utf-8").split("\r\n")[1:-1]
    for row, value in zip(rows, values, strict=True):
        cells = row.split(",")
        if not np.isfinite(value):
            assert cells == ["", "", "", ""]
        else:
            # to the stated decimals (numpy's rounding may differ from Python's by one unit at an exact half)
            assert abs(float(cells[0]) - value) <= 0.0051 and len(cells[0].partition(".")[2]) <= 2
            assert abs(float(cells[1]) - value) <= 0.000051 * max(1.0, abs(value) / 1e9)
            assert len(cells[1].partition(".")[2]) <= 4
            assert abs(float(cells[2]) - value) <= 0.051 and len(cells[2].partition(".")[2]) <= 1
    # Parquet keeps the raw values, infinities included
    np.testing.assert_array_equal(raw["revenue"].to_numpy(), np.asarray(values, dtype=float))


def test_rounded_leaves_text_and_integers_alone() -> None:
    frame = pd.DataFrame({"rep_id": ["R1"], "accounts": [3], "pay": [1.005], "x": [np.inf]})
    out = rounded(frame)
    assert out["rep_id"].tolist() == ["R1"] and out["accounts"].dtype == frame["accounts"].dtype
    assert np.isnan(out["x"].iloc[0])


def test_workbook_sheets_formats_names_and_no_formulas(tmp_path: Path) -> None:
    frame = pd.DataFrame({"rep_id": ["=R1", "R2"], "rep_name": ["=HYPERLINK(\"x\")", "王小明"],
                          "revenue": [1234567.891, np.nan], "win_rate": [0.25, np.inf], "hours": [12.34, 5.0],
                          "accounts": [3, 4], "flagged": [True, False]})
    path = tmp_path / "book.xlsx"
    long_name = "a/very:long*sheet?name[that]needs_cleaning_beyond_31"
    write_workbook({"reps": frame, long_name: frame.head(1)}, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "reps" and len(book.sheetnames) == 2
    assert len(book.sheetnames[1]) <= 31 and not set("[]:*?/\\") & set(book.sheetnames[1])
    sheet = book["reps"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == frame.columns.tolist()
    assert sheet["A2"].value == "=R1" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == "=HYPERLINK(\"x\")" and sheet["B2"].data_type == "s"
    assert sheet["B3"].value == "王小明"
    assert sheet["C2"].value == pytest.approx(1234567.891) and sheet["C2"].number_format == "#,##0.00"
    assert sheet["C3"].value is None and sheet["D3"].value is None  # NaN and inf are empty cells
    assert sheet["D2"].number_format == "0.00%" and sheet["E2"].number_format == "#,##0.0"
    assert sheet["F2"].value == 3 and sheet["G2"].value is True
    assert sheet.column_dimensions["B"].width >= len("=HYPERLINK(\"x\")")
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)


def test_compare_writes_decision_named_tables_parquet_and_workbook(awkward: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    res = runner.invoke(app, ["compare", str(awkward), "--pay-plans", "flat_commission,capped", "--replications",
                              "3", "--seed", "4", "--xlsx", "--out", str(out)])
    assert res.exit_code == ExitCode.OK, res.output
    assert "Decision table" in res.output and "Profit after pay" in res.output
    assert res.output.strip().splitlines()[-1].startswith(("flat_commission", "capped"))
    for stem in ("decision", "comparison", "monthly", "variance", "replications", "reps"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}.parquet").is_file(), stem
    decision = pd.read_csv(out / "decision.csv")
    assert decision["plan"].tolist() == ["flat_commission", "capped"]
    reps = pd.read_csv(out / "reps.csv", dtype=str, keep_default_na=False)
    assert reps.columns.tolist()[:6] == ["plan", "replication", "rep_id", "rep_name", "rep_tier", "rep_region"]
    assert "'=1+2" in set(reps["rep_name"]) and "王小明" in set(reps["rep_name"])
    for csv in out.glob("*.csv"):
        data = csv.read_bytes()
        assert not _SCIENTIFIC.search(data), csv.name
        assert not re.search(rb"(^|,)(-?inf|nan|NaN)(,|\r)", data), csv.name
    book = openpyxl.load_workbook(out / "compare.xlsx")
    assert book.sheetnames == ["decision", "comparison", "monthly", "variance", "replications", "reps", "funnel",
                               "pay_curves"]
    names = {c.value for c in book["reps"]["D"][1:]}
    assert {"=1+2", "王小明"} <= names
    assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)
    assert book["decision"]["C2"].number_format == "#,##0.00"  # revenue


@pytest.mark.parametrize("command", ["allocate", "quotas", "budget", "simulate", "compare", "pay", "frontier",
                                     "sweep", "calibrate", "diagnose", "backtest", "demo"])
def test_every_exporting_command_offers_xlsx(command: str) -> None:
    res = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert res.exit_code == 0 and "--xlsx" in res.output
    if command == "demo":
        assert "--excel" in res.output


def test_allocate_workbook_has_every_table_with_names(awkward: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    res = runner.invoke(app, ["allocate", str(awkward), "--xlsx", "--out", str(out)])
    assert res.exit_code == ExitCode.OK, res.output
    book = openpyxl.load_workbook(out / "allocate.xlsx")
    assert book.sheetnames == ["assignments", "reps", "quotas", "quota_reps", "budget", "budget_channels"]
    header = [c.value for c in book["assignments"][1]]
    assert header[:8] == ["account_id", "account_name", "account_tier", "account_region", "rep_id", "rep_name",
                          "rep_tier", "rep_region"]
    names = {c.value for c in book["assignments"]["B"][1:]}
    assert {"+Ärger & Söhne", "-@Ñandú"} <= names
    # the plan folder still reads back, workbook and Parquet files beside it
    s = scenarios.load(awkward)
    assert scenarios.Plan.load(out, s).assignment.notna().all()


def test_help_renders_bracketed_names_and_flags_without_type_tags() -> None:
    res = runner.invoke(app, ["sweep", "--help"], terminal_width=200)
    assert "[grid]" in res.output and "[[variants]]" in res.output and "reps[tier=junior]" in res.output
    assert "<bool>" not in res.output
    res = runner.invoke(app, ["quotas", "--help"], terminal_width=200)
    assert "[quotas] method" in res.output


def test_version_and_workflow_order() -> None:
    from importlib.metadata import version

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"quotaflow {version('quotaflow')}"
    listed = runner.invoke(app, ["--help"], terminal_width=200).output
    order = [listed.index(f"  {name} ") for name in ("validate", "generate", "calibrate", "demo", "allocate",
                                                     "quotas", "budget", "simulate", "compare", "sweep", "report")]
    assert order == sorted(order)


@pytest.mark.parametrize(("args", "hint"), [
    (["simulate", "tiny", "--set", "behaviour.timing_game=true"], "did you mean 'timing_games'?"),
    (["simulate", "tiny", "--set", "behavior.timing_games=true"], "did you mean 'behaviour'?"),
    (["simulate", "tiny", "--set", "reps.hour_per_week=30"], "did you mean 'hours_per_week'?"),
    (["simulate", "tiny", "--incentives", "flat_comission"], "did you mean 'flat_commission'?"),
    (["compare", "tiny", "--pay-plans", "flat_commission,caped", "--replications", "2"], "did you mean 'capped'?"),
])
def test_did_you_mean_for_typos(args: list[str], hint: str, tmp_path: Path) -> None:
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert res.exit_code == ExitCode.INPUT, res.output
    assert hint in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_sweep_workbook_is_listed_in_its_manifest_so_force_can_replace_it(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", "tiny", "--set", "tiers.junior.hours_per_week=30,40", "--replications", "2", "--xlsx",
            "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == ExitCode.OK, res.output
    book = openpyxl.load_workbook(out / "sweep.xlsx")
    assert book.sheetnames == ["points", "summary"]
    again = runner.invoke(app, [*args, "--force"])
    assert again.exit_code == ExitCode.OK, again.output
