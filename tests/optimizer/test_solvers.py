"""The solvers ``optimizer.solvers`` makes: their output never reaches stdout (HiGHS prints a copyright banner on
file descriptor 1 the first time a ``highspy.Highs`` is made in a process, so the commands and benchmark scripts are
run in fresh processes and their stdout is read as data), and a solve stopped before any plan claims none."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pulp
import pytest

import scenarios
from optimizer import allocate
from optimizer.model import build, prepare
from optimizer.solvers import _QuietHiGHS, make_solver, solver_output_to_log

ROOT = Path(__file__).resolve().parents[2]
BANNER_WORDS = ("HiGHS", "Copyright", "licence", "THIRD_PARTY")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # As a user's shell runs them: piped stdout block-buffered (no PYTHONUNBUFFERED), UTF-8.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | {"PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
                          check=False)


def _no_banner(text: str) -> None:
    for word in BANNER_WORDS:
        assert word not in text, text


def test_allocate_command_prints_no_solver_banner(tmp_path: Path) -> None:
    res = _run("-c", "from quotaflow.cli import main; main()", "allocate", "tiny", "--out", str(tmp_path / "plan"))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("AllocationResult(optimal"), res.stdout
    _no_banner(res.stdout)


def test_gap_benchmark_prints_clean_csv(shared_benchmarks: Path) -> None:
    res = _run("benchmarks/gap.py", str(shared_benchmarks / "gap" / "gap1.txt"), "--sense", "max",
               "--time-limit", "30")
    assert res.returncode == 0, res.stderr
    _no_banner(res.stdout)
    table = pd.read_csv(io.StringIO(res.stdout))
    assert list(table.columns) == ["file", "instance", "m", "n", "sense", "objective", "bound", "status", "seconds"]
    assert len(table) == 5
    assert (table["status"] == "optimal").all()
    assert table["instance"].tolist() == [f"c515-{k}" for k in range(1, 6)]


def test_pfizer_benchmark_prints_clean_csv(shared_benchmarks: Path) -> None:
    res = _run("benchmarks/pfizer.py", str(shared_benchmarks / "territory" / "pfizer"))
    assert res.returncode == 0, res.stderr
    _no_banner(res.stdout)
    table = pd.read_csv(io.StringIO(res.stdout))
    assert len(table) == 1
    assert table.loc[0, "min_km"] == pytest.approx(154.60, abs=0.005)


def test_a_process_with_no_stdout_still_solves() -> None:
    # pythonw, daemons and some schedulers start Python with descriptor 1 closed.
    code = ("import os, sys; os.close(1); import scenarios, optimizer; "
            "r = optimizer.allocate(scenarios.load('tiny')); sys.stderr.write(str(r.status))")
    res = _run("-c", code)
    assert res.returncode == 0, res.stderr
    assert res.stderr.endswith("optimal")


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_output_goes_to_the_debug_log_and_fd_1_is_restored(capfd: pytest.CaptureFixture[str],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    before = os.fstat(1)
    with caplog.at_level(logging.DEBUG, logger="optimizer.solvers"), solver_output_to_log():
        os.write(1, b"Running HiGHS 9.9: Copyright (c) 2099\n")
    after = os.fstat(1)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
    os.write(1, b"data,1\n")
    assert capfd.readouterr().out == "data,1\n"
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "Copyright (c) 2099" in caplog.records[0].getMessage()


def test_python_text_printed_before_a_solve_stays_on_stdout() -> None:
    # Piped stdout is block-buffered: text printed before a solve must not be flushed into the solver log when
    # something (another thread, a progress bar) flushes stdout while the solver runs.
    code = ("import os, sys; from optimizer.solvers import solver_output_to_log; print('header,row'); "
            "cm = solver_output_to_log(); cm.__enter__(); os.write(1, b'banner\\n'); sys.stdout.flush(); "
            "cm.__exit__(None, None, None); print('1,2')")
    res = _run("-c", code)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "header,row\n1,2\n"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to count open descriptors")
def test_concurrent_and_failing_solves_leak_no_descriptor(capfd: pytest.CaptureFixture[str]) -> None:
    allocate(scenarios.load("tiny"))  # first solve of the process done, so later ones open nothing new
    before = _open_fds()
    barrier = threading.Barrier(3)

    def work() -> None:
        with solver_output_to_log():
            barrier.wait(timeout=30)
            os.write(1, b"from a thread\n")
            barrier.wait(timeout=30)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with pytest.raises(RuntimeError, match="inside"), solver_output_to_log():
        raise RuntimeError("inside")
    assert _open_fds() == before
    os.write(1, b"after\n")
    assert capfd.readouterr().out == "after\n"


def test_works_when_sys_stdout_is_not_a_file(monkeypatch: pytest.MonkeyPatch,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    fake = io.StringIO()  # as in Jupyter or an embedding application: no fileno()
    monkeypatch.setattr(sys, "stdout", fake)
    prob = pulp.LpProblem("one", pulp.LpMaximize)
    v = prob.add_variable("v", upBound=3.0)
    prob.setObjective(pulp.LpAffineExpression([(v, 1.0)]))
    with solver_output_to_log():
        os.write(1, b"banner\n")
    prob.solve(make_solver("highs", 10.0))
    assert v.value() == 3.0
    assert fake.getvalue() == ""
    assert capfd.readouterr().out == ""


def test_unknown_solver_is_refused() -> None:
    from optimizer import SolverError

    with pytest.raises(SolverError, match="unknown solver 'gurobi'"):
        make_solver("gurobi", 10.0)


def test_a_solve_interrupted_before_any_plan_claims_no_solution(tiny: scenarios.Scenario) -> None:
    # The deadline has passed before the solve starts, so the interrupt callback stops HiGHS before any incumbent;
    # PuLP alone would call that integer-feasible and hand back values that are no plan.
    model = build(prepare(tiny))
    solver = _QuietHiGHS(time.perf_counter() - 1.0, msg=False, timeLimit=60.0, gapRel=0.0, mip=True, threads=2)
    model.problem.solve(solver)
    assert model.problem.sol_status == pulp.LpSolutionNoSolutionFound
