"""``quotaflow demo`` shows every long step as it runs, the allocation included, and checks its output folder
before any solving starts."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from clirunners import stderr_apart

import quotaflow.demo
from optimizer import Progress
from quotaflow.cli import app
from quotaflow.demo import DemoProgress
from quotaflow.exit_codes import ExitCode

runner = stderr_apart()


def test_demo_reports_each_step_and_the_allocations_phases(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--scenario", "tiny", "--out", str(out), "--replications", "2",
                              "--workers", "1"])
    assert res.exit_code == ExitCode.OK, res.stderr
    err = res.stderr
    for step in ("[1/5] allocate 30 accounts to 6 reps", "[2/5] set quotas", "[3/5] split the marketing budget",
                 "[4/5] simulate and compare 4 pay plans x 2 replications", "[5/5] write tables and plots"):
        assert f"demo {step} ..." in err and f"demo {step}: done in" in err, step
    assert "allocate: LP relaxation" in err and "allocate: validating the plan" in err  # the allocator's own phases
    assert "gap" in err and "flat_commission: 2/2 replications" in err
    assert err.index("allocate: LP relaxation") < err.index("demo [1/5] allocate 30 accounts to 6 reps: done")
    quiet = runner.invoke(app, ["demo", "--scenario", "tiny", "--out", str(tmp_path / "q"), "--replications", "2",
                                "--workers", "1", "--quiet"])
    assert quiet.exit_code == ExitCode.OK and "demo [" not in quiet.stderr


def test_a_long_solver_phase_keeps_reporting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quotaflow.demo, "HEARTBEAT_S", 0.05)
    stream = io.StringIO()
    show = DemoProgress(1, stream, live=False)
    report = show.allocation()
    report(Progress("MIP over all pairs", 10.0, float("nan"), float("nan"), 0.0))
    time.sleep(0.3)  # a solve that sends nothing for a while
    show.finish_allocation()
    text = stream.getvalue()
    assert text.count("allocate: MIP over all pairs") == 1
    assert "allocate: still in MIP over all pairs" in text


@pytest.mark.parametrize("kind", ["holds a user's file", "is the scenario"])
def test_output_folder_is_refused_before_any_solving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     kind: str) -> None:
    solved: list[str] = []
    monkeypatch.setattr(quotaflow.demo, "demo_allocation",
                        lambda *a, **k: solved.append("allocate"))  # would record any solve
    if kind == "is the scenario":
        scenario = tmp_path / "scen"
        assert runner.invoke(app, ["scenario", "copy", "tiny", str(scenario)]).exit_code == 0
        out = scenario
    else:
        scenario, out = Path("tiny"), tmp_path / "mine"
        out.mkdir()
        (out / "notes.txt").write_text("keep me", encoding="utf-8")
    before = sorted(p.name for p in out.iterdir())
    res = runner.invoke(app, ["demo", "--scenario", str(scenario), "--out", str(out), "--replications", "2"])
    assert res.exit_code == ExitCode.OUTPUT, res.stderr
    assert solved == [] and "demo [1/5]" not in res.stderr
    assert sorted(p.name for p in out.iterdir()) == before
