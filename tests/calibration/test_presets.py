"""Every preset reads an export in its vendor's shape: HubSpot's wide "Date entered" columns become stage history,
Pipedrive's status decides won/lost, a Salesforce report's labels, US dates and "$" amounts are read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import calibration


def _deals(n: int = 24) -> list[dict[str, object]]:
    out = []
    for i in range(n):
        created = dt.date(2024, 1, 1) + dt.timedelta(days=5 * i if i < n - 4 else 5 * (n - 5) + 10 + i - (n - 4))
        out.append({"i": i, "created": created, "closed": created + dt.timedelta(days=12),
                    "kind": "open" if i >= n - 4 else ("won" if i % 3 else "lost")})
    return out


def test_hubspot_wide_stage_dates_become_history(tmp_path: Path) -> None:
    rows = []
    for d in _deals():
        stage = {"won": "closedwon", "lost": "Closed Lost", "open": "Qualified To Buy"}[d["kind"]]  # ids and labels
        c = d["created"]
        assert isinstance(c, dt.date)
        row = {"Record ID": f"{d['i']}", "Deal Stage": stage, "Amount": "1,500.00", "Deal owner": f"Rep {d['i'] % 3}",
               "Create Date": f"{c:%Y-%m-%d} 09:00",
               'Date entered "Appointment Scheduled (Sales Pipeline)"': f"{c:%Y-%m-%d} 09:00",
               'Date entered "Qualified To Buy (Sales Pipeline)"': f"{c + dt.timedelta(days=4):%Y-%m-%d} 10:00",
               'Date entered "Closed Won (Sales Pipeline)"': "", 'Date entered "Closed Lost (Sales Pipeline)"': "",
               "Close Date": ""}
        if d["kind"] != "open":
            key = "Closed Won" if d["kind"] == "won" else "Closed Lost"
            row[f'Date entered "{key} (Sales Pipeline)"'] = f"{d['closed']:%Y-%m-%d} 11:00"
            row["Close Date"] = f"{d['closed']:%Y-%m-%d} 11:00"
        rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / "hubspot-crm-exports-all-deals-2024.csv", index=False)
    model, report, _ = calibration.build_model(tmp_path, calibration.load_mapping(preset="hubspot"))
    assert report.entries == []
    assert len(model.history) == 20 * 3 + 4 * 2
    funnel = calibration.estimate_funnel(model).set_index("stage")
    assert funnel.loc["Appointment Scheduled", "passed"] == 24 - funnel.loc["Appointment Scheduled", "censored"]
    assert funnel.loc["Qualified To Buy", "passed"] == sum(d["kind"] == "won" for d in _deals())
    assert model.opportunities["amount"].eq(1500.0).all()


def test_pipedrive_status_decides_the_outcome(tmp_path: Path) -> None:
    rows = []
    for d in _deals():
        rows.append({"Deal - ID": d["i"], "Deal - Owner": f"Rep {d['i'] % 2}", "Deal - Stage": "Proposal Made",
                     "Deal - Value": "2500", "Deal - Currency": "EUR", "Deal - Deal created": f"{d['created']}",
                     "Deal - Deal closed on": "" if d["kind"] == "open" else f"{d['closed']}",
                     "Deal - Status": d["kind"]})
    pd.DataFrame(rows).to_csv(tmp_path / "deals-export.csv", index=False, sep=";")
    model, report, _ = calibration.build_model(tmp_path, calibration.load_mapping(preset="pipedrive"))
    kinds = model.opportunities["kind"].value_counts()
    assert kinds["won"] == 13 and kinds["lost"] == 7 and kinds["open"] == 4 and report.entries == []
    assert model.collapsed and model.currency == "EUR"  # no stage history: one stage from creation to close
    assert calibration.estimate_funnel(model)["conversion"].iloc[0] == pytest.approx(13 / 20, abs=0.02)


def test_salesforce_report_labels_dates_and_amounts(tmp_path: Path) -> None:
    rows = []
    for d in _deals():
        c, e = d["created"], d["closed"]
        assert isinstance(c, dt.date) and isinstance(e, dt.date)
        rows.append({"Opportunity Name": f"Deal {d['i']}", "Opportunity Owner": f"Rep {d['i'] % 4}",
                     "Stage": {"won": "Closed Won", "lost": "Closed Lost", "open": "Negotiation/Review"}[d["kind"]],
                     "Amount": f"${1000 + d['i']:,.2f}", "Created Date": f"{c.month}/{c.day}/{c.year}",
                     "Close Date": f"{e.month}/{e.day}/{e.year}", "Closed": "0" if d["kind"] == "open" else "1",
                     "Won": "1" if d["kind"] == "won" else "0"})
    pd.DataFrame(rows).to_csv(tmp_path / "report1700000000000.csv", index=False, encoding="utf-8-sig")
    model, report, _ = calibration.build_model(tmp_path, calibration.load_mapping(preset="salesforce-report"))
    assert report.entries == [] and len(model.opportunities) == 24
    assert model.opportunities["amount"].tolist() == [1000.0 + i for i in range(24)]
    first = model.opportunities.loc["Deal 0"]
    assert first["created"] == pd.Timestamp("2024-01-01") and first["closed"] == pd.Timestamp("2024-01-13")
