"""The one-page report of a demo or compare folder: an HTML page holding the decision table and every chart as a
valid PNG, chart titles whose findings match the run's tables, refusals with their exit codes, and a report that
never changes the folder it reads."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
import shutil
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from clirunners import stderr_apart

from quotaflow.cli import app
from quotaflow.decision import format_amount, ranking_line
from quotaflow.report_page import REPORT_FILES, build_report

runner = stderr_apart()
DEMO_CHARTS = ["differences", "monthly", "attainment", "pay_curves", "quotas", "funnel", "budget", "workload",
               "territory"]


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "d"
    res = runner.invoke(app, ["demo", "--scenario", "tiny", "--replications", "2", "--workers", "1", "--report",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output + res.stderr
    return out


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "c"
    res = runner.invoke(app, ["compare", "tiny", "--pay-plans", "flat_commission,annual_bonus,capped",
                              "--replications", "3", "--workers", "1", "--report", "--out", str(out)])
    assert res.exit_code == 0, res.output + res.stderr
    return out


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"',
                                                      page)]


def _valid_png(data: bytes) -> bool:
    return data[:8] == b"\x89PNG\r\n\x1a\n" and mpimg.imread(io.BytesIO(data), format="png").size > 0


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_demo_report_holds_the_decision_table_and_every_chart(demo_folder: Path) -> None:
    for name in REPORT_FILES:
        assert (demo_folder / name).is_file(), name
    page = (demo_folder / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page  # nothing fetched
    images = _images(page)
    assert len(images) == len(DEMO_CHARTS) and all(_valid_png(i) for i in images)
    assert [m for m in re.findall(r"<figure id=(\w+)>", page)] == DEMO_CHARTS
    assert "Charts left out" not in page
    decision = pd.read_parquet(demo_folder / "comparison" / "decision.parquet")
    text = html.unescape(page)
    assert ranking_line(decision, "EUR") in text  # the verdict line, as demo prints it
    for plan, profit in zip(decision["plan"], decision["profit_after_pay"], strict=True):
        assert f"<th>{plan}" in page
        assert format_amount(float(profit), "EUR") in text
    assert text.index("Profit after pay") < text.index("<figure")  # the table comes before the charts
    assert (demo_folder / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert _valid_png((demo_folder / "overview.png").read_bytes())


def test_chart_titles_state_findings_that_match_the_tables(demo_folder: Path) -> None:
    report = build_report(demo_folder)
    titles = {c.key: c.title for c in report.charts}
    decision = pd.read_parquet(demo_folder / "comparison" / "decision.parquet")
    best = str(decision.loc[decision["profit_after_pay"].idxmax(), "plan"])
    assert titles["differences"].startswith(f"{best} ")

    monthly = pd.read_parquet(demo_folder / "comparison" / "monthly.parquet")
    assert titles["monthly"].startswith(f"{monthly.groupby('plan')['bookings'].sum().idxmax()} books the most")

    reps = pd.read_parquet(demo_folder / "comparison" / "reps.parquet")
    reps = reps[reps["quota"] > 0]
    at_quota = (reps["attainment"] >= 1.0).groupby(reps["plan"]).mean()
    assert titles["attainment"].startswith(f"{at_quota.idxmax()} puts the most reps at quota")

    curves = pd.read_parquet(demo_folder / "comparison" / "pay_curves.parquet")
    at_one = curves[np.isclose(curves["attainment"], 1.0)].set_index("plan")["total_pay"]
    assert titles["pay_curves"].startswith(f"At quota {at_one.idxmax()} pays the most")

    territory = pd.read_parquet(demo_folder / "plan" / "territory.parquet")
    assignments = pd.read_parquet(demo_folder / "plan" / "assignments.parquet")
    assert titles["territory"].startswith(f"{int(assignments['moved'].sum())} of {len(assignments)} accounts move")
    assert len(territory) == len(assignments)

    after = pd.read_parquet(demo_folder / "plan" / "reps.parquet")
    today = pd.read_parquet(demo_folder / "plan" / "workload_today.parquet")
    over = [int((t["hours"] > t["capacity_hours"] * (1 + 1e-9)).sum()) for t in (after, today)]
    assert titles["workload"].endswith(f"{over[0]} reps over capacity ({over[1]} today)")


def test_designed_pay_curve_is_the_pay_engines(demo_folder: Path) -> None:
    import scenarios

    s = scenarios.load("tiny")
    curves = pd.read_parquet(demo_folder / "comparison" / "pay_curves.parquet")
    flat = curves[curves["plan"] == "flat_commission"]
    rate = s.settings.pay_plans["flat_commission"].commission_rate
    assert rate is not None and rate > 0
    np.testing.assert_allclose(flat["variable"], rate * flat["bookings"], rtol=1e-9)
    capped = curves[curves["plan"] == "capped"].sort_values("attainment")
    assert (np.diff(capped["total_pay"].to_numpy()) >= -1e-9).all()  # more bookings never pay less
    quotas = pd.read_parquet(demo_folder / "plan" / "quota_reps.parquet")["quota"]
    assert curves["quota"].iloc[0] == pytest.approx(float(quotas[quotas > 0].median()))


def test_report_command_writes_its_own_folder_and_leaves_the_run_alone(demo_folder: Path, tmp_path: Path) -> None:
    before = _snapshot(demo_folder)
    out = tmp_path / "r"
    res = runner.invoke(app, ["report", str(demo_folder), "--out", str(out)])
    assert res.exit_code == 0, res.output + res.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*REPORT_FILES, "manifest.json"])
    assert len(_images((out / "report.html").read_text(encoding="utf-8"))) == len(DEMO_CHARTS)
    assert _snapshot(demo_folder) == before


@pytest.mark.parametrize("where", ["same", "inside"])
def test_report_refuses_an_out_in_the_folder_it_reads(demo_folder: Path, where: str) -> None:
    before = _snapshot(demo_folder)
    out = demo_folder if where == "same" else demo_folder / "report"
    res = runner.invoke(app, ["report", str(demo_folder), "--out", str(out), "--force"])
    assert res.exit_code == 5, res.output + res.stderr
    assert _snapshot(demo_folder) == before


def test_report_refuses_folders_it_cannot_read(demo_folder: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path.parent / "x")])
    assert res.exit_code == 2 and "not a folder quotaflow" in res.stderr
    res = runner.invoke(app, ["report", str(demo_folder)])
    assert res.exit_code == 2 and "--out" in res.output + res.stderr
    edited = tmp_path / "edited"
    shutil.copytree(demo_folder, edited)
    decision = pd.read_parquet(edited / "comparison" / "decision.parquet")
    decision.assign(profit_after_pay=decision["profit_after_pay"] + 1.0).to_parquet(
        edited / "comparison" / "decision.parquet", index=False)
    res = runner.invoke(app, ["report", str(edited), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "changed after the run" in res.stderr
    assert not (tmp_path / "r").exists()


def test_a_chart_without_its_data_is_left_out_with_a_note(demo_folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "d"
    shutil.copytree(demo_folder, copy)
    (copy / "plan" / "territory.parquet").unlink()
    report = build_report(copy)
    assert "territory" not in [c.key for c in report.charts]
    assert len(report.notes) == 1 and report.notes[0].startswith("Territory map: left out")
    assert report.notes[0] in html.unescape(report.html())


def test_compare_report_leaves_out_the_plan_charts(compare_folder: Path) -> None:
    page = (compare_folder / "report.html").read_text(encoding="utf-8")
    images = _images(page)
    assert re.findall(r"<figure id=(\w+)>", page) == ["differences", "monthly", "attainment", "pay_curves",
                                                      "funnel"]
    assert len(images) == 5 and all(_valid_png(i) for i in images)
    for label in ("Quotas", "Marketing budget", "Workload", "Territory map"):
        assert f"{label}: left out (a compare run takes the plan as given" in html.unescape(page)
    decision = pd.read_parquet(compare_folder / "decision.parquet")
    assert ranking_line(decision, "EUR") in html.unescape(page)
