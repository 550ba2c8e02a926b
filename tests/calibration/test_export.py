"""A simulated run written as a CRM export in the salesforce preset's format reads back (through the importer every
export goes through) as the same deals, owners, stages and dates; the writer never writes over existing files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calibration
import scenarios
from sim import build, simulate


@pytest.fixture(scope="module")
def run() -> tuple[scenarios.Scenario, pd.DataFrame, pd.DataFrame]:
    sc = scenarios.load("tiny")
    res = simulate(build(sc), replications=2, seed=3, deal_log=True)
    assert res.deal_log is not None
    deals, history = res.deal_log
    one = deals["replication"] == 1
    return sc, deals[one].drop(columns="replication"), history[history["replication"] == 1].drop(
        columns="replication")


def _write(sc: scenarios.Scenario, deals: pd.DataFrame, history: pd.DataFrame, folder: Path) -> Path:
    stages = sc.settings.funnel.stages
    return calibration.write_crm_export(deals, history, folder, stages=[s.name for s in stages],
                                        stage_ids=[s.id for s in stages])


def test_export_reads_back_as_the_same_deals_stages_and_dates(run: tuple[scenarios.Scenario, pd.DataFrame,
                                                                          pd.DataFrame], tmp_path: Path) -> None:
    sc, deals, history = run
    folder = _write(sc, deals, history, tmp_path / "export")
    header = (folder / "Opportunity.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    preset = calibration.load_mapping(preset="salesforce").opportunities
    assert header == [preset.id, preset.owner, preset.account, preset.stage, preset.amount, preset.closed,
                      preset.created, preset.is_closed, preset.is_won]
    end = dt.date(2027, 12, 31)  # the run's last day: open deals are open on it
    model, report, _ = calibration.build_model(folder, calibration.load_mapping(path=folder / "mapping.toml"),
                                               as_of_date=end)
    # deals lost the instant they arrived (their account had no rep) have their creation and their close at one
    # instant: the importer keeps the close, and says so; nothing else is cleaned
    instant = history.groupby("opportunity_id")["changed"].transform(lambda t: t.duplicated(keep=False))
    burst_rows = int(instant.sum()) - int(history.loc[instant, "opportunity_id"].nunique())
    cleaning = report.frame()
    assert set(cleaning["reason"]) <= {"same_second_burst"}
    assert int(cleaning["rows"].sum()) == burst_rows

    opps = model.opportunities.reindex(deals["opportunity_id"])
    assert opps.index.notna().all() and len(opps) == len(deals)
    assert (opps["owner"].fillna("-").to_numpy() == deals["owner"].fillna("-").to_numpy()).all()
    assert (opps["account"].to_numpy() == deals["account"].to_numpy()).all()
    assert (opps["kind"].to_numpy() == deals["kind"].to_numpy()).all()
    assert (opps["created"].to_numpy() == deals["created"].to_numpy()).all()
    closed = pd.to_datetime(deals["closed"]).dt.normalize()  # CloseDate is a date in Salesforce
    assert opps["closed"].fillna(pd.Timestamp(0)).equals(closed.fillna(pd.Timestamp(0)).set_axis(opps.index))
    assert np.allclose(opps["amount"].to_numpy(), deals["amount"].to_numpy())
    open_deals = deals["kind"] == "open"
    assert (opps.loc[open_deals.to_numpy(), "stage"].to_numpy() == deals.loc[open_deals, "stage"].to_numpy()).all()

    # every stage change, with its instant, except the creation rows of those instant losses
    hist = model.history
    got = pd.DataFrame({"id": hist["opportunity_id"].astype(str), "changed": hist["changed"],
                        "stage": hist["stage"].astype(str)})
    names = {"won": "Closed Won", "lost": "Closed Lost"}
    want = history[~(instant & (history["kind"] == "open"))]
    want = pd.DataFrame({"id": want["opportunity_id"], "changed": want["changed"],
                         "stage": np.where(want["kind"] == "open", want["stage"], want["kind"].map(names))})
    key = ["id", "changed", "stage"]
    assert got.sort_values(key).reset_index(drop=True).equals(want.sort_values(key).reset_index(drop=True))


def test_calibration_reads_the_scenario_stages(run: tuple[scenarios.Scenario, pd.DataFrame, pd.DataFrame],
                                               tmp_path: Path) -> None:
    sc, deals, history = run
    folder = _write(sc, deals, history, tmp_path / "export")
    mapping = calibration.load_mapping(path=folder / "mapping.toml")
    assert [s.scenario_id for s in mapping.stages if s.kind == "open"] == sc.stage_ids
    assert mapping.opportunities == calibration.load_mapping(preset="salesforce").opportunities


def test_existing_files_are_never_replaced(run: tuple[scenarios.Scenario, pd.DataFrame, pd.DataFrame],
                                           tmp_path: Path) -> None:
    sc, deals, history = run
    mine = tmp_path / "Opportunity.csv"
    mine.write_text("a user's file", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"Opportunity\.csv"):
        _write(sc, deals, history, tmp_path)
    assert mine.read_text(encoding="utf-8") == "a user's file"
    assert not (tmp_path / "OpportunityHistory.csv").exists()


def test_bad_frames_are_refused(run: tuple[scenarios.Scenario, pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    sc, deals, history = run
    with pytest.raises(ValueError, match="not among the stages"):
        calibration.write_crm_export(deals, history, tmp_path / "a", stages=["Prospecting"])
    with pytest.raises(ValueError, match="needs columns"):
        _write(sc, deals.drop(columns="created"), history, tmp_path / "b")
    with pytest.raises(ValueError, match="won or lost stage"):
        calibration.export_mapping(["Lead", "Closed Won"])
