"""The output contract of every command that writes ``--out``: inputs and the user's folders are never touched,
``--out`` is refused before any work, concurrent runs cannot replace each other's results, SIGTERM cleans up like
Ctrl-C, resource limits are refused or capped with a message, and the API and the CLI write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import optimizer
import scenarios
import sim
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode
from quotaflow.writer import write_tables

runner = CliRunner()
SWEEP = ["--set", "reps[tier=junior].hours_per_week=30,40", "--replications", "2", "--seed", "3"]


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def _cli(*args: str, timeout: float = 240, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "quotaflow.cli", *args], capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=cwd)


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """A scenario folder, a plan folder, a bookings file, a grid file and a samples file, as a user keeps them."""
    s = scenarios.load("tiny")
    scen = tmp_path / "scen"
    scenarios.save(s, scen)
    plan = tmp_path / "plan"
    scenarios.Plan.current(s).to_csv(plan)
    data = tmp_path / "data"
    data.mkdir()
    periods = s.settings.calendar.periods()
    rows = [(r, p, 1000.0, 900.0) for r in s.reps.index for p in periods]
    pd.DataFrame(rows, columns=["rep_id", "period", "bookings", "quota"]).to_csv(data / "bookings.csv", index=False)
    (data / "grid.toml").write_text('[grid]\n"budget.total" = [1.0e6, 2.0e6]\n', encoding="utf-8")
    samples = [(r, v) for r in s.reps.index for v in (1.0, 2.0, 3.0)]
    pd.DataFrame(samples, columns=["rep_id", "sales"]).to_csv(data / "samples.csv", index=False)
    return {"scen": scen, "plan": plan, "data": data, "bookings": data / "bookings.csv", "grid": data / "grid.toml",
            "samples": data / "samples.csv"}


def _commands(i: dict[str, Path]) -> dict[str, list[str]]:
    """One invocation per writing command whose --out is (in, around or) one of its inputs."""
    scen, plan = str(i["scen"]), str(i["plan"])
    return {
        "allocate": ["allocate", scen, "--out", scen],
        "quotas": ["quotas", scen, "--out", str(i["scen"] / "q")],
        "quotas-samples": ["quotas", "tiny", "--samples", str(i["samples"]), "--method", "equal_probability",
                           "--out", str(i["data"]), "--force"],
        "budget": ["budget", scen, "--out", scen, "--force"],
        "frontier": ["frontier", scen, "--x", "travel", "--y", "disruption", "--out", str(i["scen"].parent)],
        "simulate": ["simulate", scen, "--out", str(i["scen"] / "sim")],
        "simulate-plan": ["simulate", "tiny", "--plan", plan, "--out", plan, "--force"],
        "compare": ["compare", scen, "--pay-plans", "flat_commission,capped", "--out", scen],
        "sweep": ["sweep", scen, *SWEEP, "--out", scen, "--force"],
        "sweep-grid": ["sweep", "tiny", "--grid", str(i["grid"]), "--out", str(i["data"]), "--resume"],
        "demo": ["demo", "--scenario", scen, "--out", str(i["scen"] / "demo")],
        "pay": ["pay", "tiny", "--bookings", str(i["bookings"]), "--out", str(i["bookings"])],
    }


@pytest.mark.parametrize("command", ["allocate", "quotas", "quotas-samples", "budget", "frontier", "simulate",
                                     "simulate-plan", "compare", "sweep", "sweep-grid", "demo", "pay"])
def test_every_command_refuses_an_output_on_its_inputs_before_any_work(
        inputs: dict[str, Path], command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_work(*_: object, **__: object) -> None:
        raise AssertionError("the command started work before checking --out")

    monkeypatch.setattr(scenarios, "load", no_work)
    before = {k: _digest(v) if v.is_dir() else v.read_bytes() for k, v in inputs.items()}
    result = runner.invoke(app, _commands(inputs)[command])
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "which this command reads" in result.output
    assert before == {k: _digest(v) if v.is_dir() else v.read_bytes() for k, v in inputs.items()}


@pytest.mark.parametrize("command", ["generate", "budget", "sweep"])
def test_current_folder_is_refused_even_with_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   command: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "important.xlsx").write_bytes(b"keep")
    monkeypatch.chdir(work)
    monkeypatch.setattr(scenarios, "generate", lambda *a, **k: pytest.fail("generated before checking --out"))
    args = {"generate": ["generate", ".", "--force"], "budget": ["budget", "tiny", "--out", ".", "--force"],
            "sweep": ["sweep", "tiny", *SWEEP, "--out", "..", "--force"]}[command]
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "current folder" in result.output and "Traceback" not in result.output
    assert [p.name for p in work.iterdir()] == ["important.xlsx"]


def test_an_existing_output_is_refused_before_solving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "plan"
    out.mkdir()
    (out / "x.csv").write_text("1\n", encoding="utf-8")
    monkeypatch.setattr(optimizer, "allocate", lambda *a, **k: pytest.fail("solved before checking --out"))
    result = runner.invoke(app, ["allocate", "tiny", "--out", str(out)])
    assert result.exit_code == ExitCode.OUTPUT and "--force" in result.output


def test_force_replaces_only_a_quotaflow_output(tmp_path: Path) -> None:
    out = tmp_path / "budget"
    assert runner.invoke(app, ["budget", "tiny", "--out", str(out)]).exit_code == ExitCode.OK
    first = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert first["tool"] == "quotaflow" and "budget.csv" in first["files"]
    again = runner.invoke(app, ["budget", "tiny", "--out", str(out), "--force", "--total", "50000"])
    assert again.exit_code == ExitCode.OK, again.output
    assert pd.read_csv(out / "budget.csv")["spend"].sum() == pytest.approx(50_000)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    refused = runner.invoke(app, ["budget", "tiny", "--out", str(out), "--force"])
    assert refused.exit_code == ExitCode.OUTPUT and "notes.txt" in refused.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["budget"]


def test_sweep_out_that_is_a_file_or_unwritable_exits_5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "results.txt"
    file.write_text("mine\n", encoding="utf-8")
    result = runner.invoke(app, ["sweep", "tiny", *SWEEP, "--out", str(file)])
    assert result.exit_code == ExitCode.OUTPUT and "is a file" in result.output
    assert file.read_text(encoding="utf-8") == "mine\n"
    locked = tmp_path / "read-only"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make the folder refuse writes the way a read-only mount does
        real_mkdir = Path.mkdir

        def mkdir(self: Path, *args: object, **kwargs: object) -> None:
            if self.is_relative_to(locked) and self != locked:
                raise PermissionError(13, "Permission denied", str(self))
            real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "mkdir", mkdir)
    else:
        locked.chmod(0o555)
    try:
        result = runner.invoke(app, ["sweep", "tiny", *SWEEP, "--out", str(locked)])
    finally:
        locked.chmod(0o755)
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "Permission denied" in result.output and "Traceback" not in result.output


def test_two_runs_started_together_one_wins_and_nothing_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "budget"
    cmd = [sys.executable, "-m", "quotaflow.cli", "budget", "tiny", "--out", str(out)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=240), p.stderr.read() if p.stderr else "") for p in procs]
    for p in procs:
        for stream in (p.stdout, p.stderr):
            if stream is not None:
                stream.close()
    assert sorted(code for code, _ in results) == [ExitCode.OK, ExitCode.OUTPUT], results
    loser = next(err for code, err in results if code == ExitCode.OUTPUT)
    assert "another quotaflow run" in loser or "already exists" in loser
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["status"] == "optimal"
    assert (out / "budget.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["budget"]  # no lock, staging or second result left


def _wait_for(predicate: object, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_sigterm_cleans_up_like_ctrl_c(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    proc = subprocess.Popen([sys.executable, "-m", "quotaflow.cli", "simulate", "baseline", "--replications", "400",
                             "--workers", "2", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _wait_for(lambda: list(tmp_path.glob(".sim.*.partial")))
    time.sleep(1.0)  # inside the simulation, with the worker processes running
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.TERMINATED == 143, stderr
    assert time.monotonic() - started < 60, "SIGTERM must stop the run at the next replication, not at the end"
    assert "terminated" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == [], "no output, staging or lock file may be left"


def test_sigterm_during_a_sweep_keeps_finished_tasks_for_resume(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    args = ["sweep", "tiny", "--set", "reps[tier=junior].hours_per_week=28,30,32,34,36,38,40", "--replications",
            "12", "--seed", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "quotaflow.cli", *args, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: list((out / "tasks").glob("*.parquet")))
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.TERMINATED, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["status"] == "interrupted"
    done = len(list((out / "tasks").glob("*.parquet")))
    assert 1 <= done < 7
    resumed = runner.invoke(app, [*args, "--out", str(out), "--resume"])
    assert resumed.exit_code == ExitCode.OK, resumed.output
    assert f"{7 - done} tasks run, {done} reused" in resumed.output


def test_resume_writes_only_into_the_same_sweep(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    assert runner.invoke(app, ["sweep", "tiny", *SWEEP, "--out", str(out)]).exit_code == ExitCode.OK
    before = _digest(out)
    other_seed = [*SWEEP[:-1], "4"]
    result = runner.invoke(app, ["sweep", "tiny", *other_seed, "--out", str(out), "--resume"])
    assert result.exit_code == ExitCode.OUTPUT and "--seed 3" in result.output, result.output
    grid = runner.invoke(app, ["sweep", "tiny", "--set", "reps[tier=junior].hours_per_week=30,35", *SWEEP[2:],
                               "--out", str(out), "--resume"])
    assert grid.exit_code == ExitCode.OUTPUT and "grid of points differs" in grid.output, grid.output
    assert _digest(out) == before
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "a.csv").write_text("1\n", encoding="utf-8")
    foreign = runner.invoke(app, ["sweep", "tiny", *SWEEP, "--out", str(mine), "--resume"])
    assert foreign.exit_code == ExitCode.OUTPUT and "not a quotaflow sweep folder" in foreign.output
    assert sorted(p.name for p in mine.iterdir()) == ["a.csv"]
    both = runner.invoke(app, ["sweep", "tiny", *SWEEP, "--out", str(out), "--resume", "--force"])
    assert both.exit_code == ExitCode.INPUT
    old_tasks = {p.name for p in (out / "tasks").iterdir()}
    replaced = runner.invoke(app, ["sweep", "tiny", *other_seed, "--out", str(out), "--force"])
    assert replaced.exit_code == ExitCode.OK, replaced.output
    assert not old_tasks & {p.name for p in (out / "tasks").iterdir()}  # the earlier sweep was replaced whole
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["sweep"]["seed"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "sw"]


def test_missing_cluster_extra_names_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask[distributed] were not installed
    result = runner.invoke(app, ["sweep", "tiny", *SWEEP, "--dask-local", "2", "--out", str(tmp_path / "sw")])
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "pip install 'quotaflow[cluster]'" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_dask_local_cluster_listens_on_this_machine_only() -> None:
    pytest.importorskip("distributed")
    import urllib.error
    import urllib.request

    from quotaflow.cluster import local_cluster

    for dashboard, status in ((False, 404), (True, 200)):
        cluster = local_cluster(1, dashboard)
        try:
            # tornado's listening sockets: every one bound to the loopback address, none to 0.0.0.0
            bound = [s.getsockname()[0] for s in cluster.scheduler.http_server._sockets.values()]
            assert bound and set(bound) == {"127.0.0.1"}
            assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
            link = cluster.dashboard_link
            try:
                code = urllib.request.urlopen(link, timeout=20).status
            except urllib.error.HTTPError as exc:
                code = exc.code
            assert code == status, (dashboard, link)
        finally:
            cluster.close()


def test_workers_above_the_task_count_are_capped_with_a_note(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = runner.invoke(app, ["simulate", "tiny", "--replications", "2", "--workers", "64", "--out", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    assert "--workers 64 capped to" in result.output
    workers = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["workers"]
    assert workers <= 2


def test_workers_above_the_cpu_count_are_capped_with_a_note(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import quotaflow.commands.options as options

    monkeypatch.setattr(options, "_cpus", lambda: 3)
    assert options.capped_workers(1000, 50) == 3
    assert "--workers 1000 capped to 3: this machine lets quotaflow use 3 CPUs" in capsys.readouterr().err
    assert options.capped_workers(2, 50) == 2 and capsys.readouterr().err == ""


def test_replications_that_cannot_fit_in_memory_are_refused_before_running(tmp_path: Path) -> None:
    started = time.monotonic()
    result = runner.invoke(app, ["simulate", "tiny", "--replications", str(10**12), "--out", str(tmp_path / "s")])
    assert result.exit_code == ExitCode.INPUT, result.output
    assert "memory" in result.output and "use at most" in result.output and "Traceback" not in result.output
    assert time.monotonic() - started < 30 and list(tmp_path.iterdir()) == []
    tiny = scenarios.load("tiny")
    per = sim.replication_bytes(tiny)
    sim.check_memory(tiny, 1000, available=per * 1000 * 2)
    with pytest.raises(sim.SimulationError, match="x 4 at once"):
        sim.check_memory(tiny, 1000, copies=4, available=per * 1000 * 2)


def _fifo(path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    return path


def test_fifos_given_as_tables_or_files_are_refused_not_read(inputs: dict[str, Path], tmp_path: Path) -> None:
    _fifo(inputs["scen"] / "reps.csv")
    validate = _cli("validate", str(inputs["scen"]), timeout=120)
    assert validate.returncode == ExitCode.INPUT and "named pipe" in validate.stderr, validate.stderr
    fifo = _fifo(tmp_path / "pipe.csv")
    for args in (["pay", "tiny", "--bookings", str(fifo), "--out", str(tmp_path / "pay")],
                 ["sweep", "tiny", "--grid", str(fifo), "--out", str(tmp_path / "sw")],
                 ["quotas", "tiny", "--method", "equal_probability", "--samples", str(fifo), "--out",
                  str(tmp_path / "q")]):
        proc = _cli(*args, timeout=120)
        assert proc.returncode == ExitCode.INPUT, (args, proc.stderr)
        assert "named pipe" in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def formula_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny with names a spreadsheet would run."""
    s = scenarios.load("tiny")
    reps = s.reps.copy()
    reps.iloc[0, reps.columns.get_loc("name")] = "=cmd|' /C calc'!A0"
    accounts = s.accounts.copy()
    accounts.iloc[0, accounts.columns.get_loc("name")] = "@SUM(A1:A9)"
    folder = tmp_path_factory.mktemp("formula") / "scen"
    scenarios.save(scenarios.Scenario(settings=s.settings, reps=reps, accounts=accounts,
                                      rep_accounts=s.rep_accounts, source="formula"), folder)
    return folder


def _csvs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def test_api_and_cli_write_the_same_bytes(formula_scenario: Path, tmp_path: Path) -> None:
    """The CLI's files are the one writer's rendering of the API's result: the same CSV bytes (names beside ids,
    rounded), and Parquet twins holding the unrounded values."""
    s = scenarios.load(formula_scenario)
    api, cli = tmp_path / "api", tmp_path / "cli"
    plan = scenarios.Plan.current(s)
    runs: dict[str, tuple[Any, list[str], bool]] = {
        "simulate": (lambda: sim.simulate(s, replications=3, seed=5),
                     ["simulate", str(formula_scenario), "--replications", "3", "--seed", "5", "--incentives", "none",
                      "--excel"], True),
        "quotas": (lambda: optimizer.set_quotas(s, plan.assignment), ["quotas", str(formula_scenario)], False),
        "budget": (lambda: optimizer.allocate_budget(s), ["budget", str(formula_scenario)], False),
        "allocate": (lambda: optimizer.allocate(s), ["allocate", str(formula_scenario)], False),
        "frontier": (lambda: optimizer.frontier(s, "travel", "disruption", points=3),
                     ["frontier", str(formula_scenario), "--x", "travel", "--y", "disruption", "--points", "3"], False),
    }
    for name, (make, args, excel) in runs.items():
        made = make()
        write_tables(made.tables(), api / name, excel=excel, scenario=s)
        result = runner.invoke(app, [*args, "--out", str(cli / name)])
        assert result.exit_code == ExitCode.OK, (name, result.output)
        from_api, from_cli = _csvs(api / name), _csvs(cli / name)
        assert from_api and set(from_api) <= set(from_cli), name
        for file, data in from_api.items():
            assert data == from_cli[file], (name, file)
        for stem, frame in made.tables().items():
            raw = pd.read_parquet(cli / name / f"{stem}.parquet")
            pd.testing.assert_frame_equal(raw[list(frame.columns)], frame.reset_index(drop=True),
                                          check_dtype=False, obj=f"{name}/{stem}")
    reps = (cli / "simulate" / "reps.csv").read_bytes()
    assert reps.startswith(b"\xef\xbb\xbf")
    assert b"'=cmd|' /C calc'!A0" in reps and b",=cmd" not in reps  # guarded in a name column
