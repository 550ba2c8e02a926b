"""``quotaflow simulate --crm-export``: replication 1 as a Salesforce export that ``quotaflow calibrate`` reads back,
in a folder claimed like ``--out`` (never an input, never overlapping ``--out``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

import calibration
import scenarios
import sim
from quotaflow.cli import app
from quotaflow.exit_codes import ExitCode
from quotaflow.simulation import incentive_hooks

runner = CliRunner()


def test_simulate_writes_replication_1_as_an_export_that_calibrate_reads(tmp_path: Path) -> None:
    export = tmp_path / "crm"
    result = runner.invoke(app, ["simulate", "tiny", "--replications", "2", "--seed", "3", "--incentives", "none",
                                 "--out", str(tmp_path / "run"), "--crm-export", str(export)])
    assert result.exit_code == ExitCode.OK, result.output
    for name in ("Opportunity.csv", "OpportunityHistory.csv", "mapping.toml", "manifest.json"):
        assert (export / name).is_file(), name
    opp = pd.read_csv(export / "Opportunity.csv", dtype={"Id": str})
    tiny = scenarios.load("tiny")
    # replication 1 alone: the deals of the library's first replication of the same run, not the second's
    behaviour, pay = incentive_hooks(tiny, None, "none")
    run = sim.simulate(tiny, replications=2, seed=3, behaviour=behaviour, pay=pay, deal_log=True)
    assert run.deal_log is not None
    deals = run.deal_log[0]
    first, second = (deals[deals["replication"] == k] for k in (0, 1))
    assert len(opp) == len(first) != len(second) and opp["Id"].is_unique
    won = int((first["kind"] == "won").sum())
    assert int(opp["IsWon"].astype(str).str.lower().isin(["true", "1"]).sum()) == won > 0
    cal = tiny.settings.calendar
    last = (pd.Timestamp(cal.start.year, cal.start.month, 1) + pd.DateOffset(months=cal.months)
            - pd.Timedelta(days=1)).date()
    for how in (["--preset", "salesforce"], ["--mapping", str(export / "mapping.toml")]):
        out = tmp_path / f"cal{how[0]}"
        res = runner.invoke(app, ["calibrate", str(export), *how, "--as-of", str(last), "--out", str(out)])
        assert res.exit_code == ExitCode.OK, (how, res.output)
        summary = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
        assert summary["counts"]["won"] == won
    # the export's own mapping keeps the simulated funnel's stages
    assert scenarios.load(tmp_path / "cal--mapping").stage_ids == tiny.stage_ids
    built = calibration.build_model(export, calibration.load_mapping(path=export / "mapping.toml"), as_of_date=last)
    assert len(built[0].opportunities) == len(opp)


def test_crm_export_may_not_overlap_out_or_an_input(tmp_path: Path) -> None:
    run = tmp_path / "run"
    inside = runner.invoke(app, ["simulate", "tiny", "--replications", "1", "--out", str(run),
                                 "--crm-export", str(run / "crm")])
    assert inside.exit_code == ExitCode.OUTPUT, inside.output
    assert "another output folder" in inside.output and not run.exists()
    same = runner.invoke(app, ["simulate", "tiny", "--replications", "1", "--out", str(run), "--crm-export", str(run)])
    assert same.exit_code == ExitCode.OUTPUT and not run.exists(), same.output
    scen = tmp_path / "scen"
    scenarios.save(scenarios.load("tiny"), scen)
    before = sorted(p.name for p in scen.iterdir())
    into_input = runner.invoke(app, ["simulate", str(scen), "--replications", "1", "--out", str(tmp_path / "o"),
                                     "--crm-export", str(scen / "crm")])
    assert into_input.exit_code == ExitCode.OUTPUT, into_input.output
    assert sorted(p.name for p in scen.iterdir()) == before and not (tmp_path / "o").exists()
