"""One test per cleaning reason: a small clean Salesforce export, one kind of damage injected, the exact count in
the report, nothing else reported, and --strict refusing it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import calibration
from calibration.cleaning import REASONS

_OPP_COLS = ["Id", "OwnerId", "AccountId", "StageName", "Amount", "CloseDate", "CreatedDate", "IsClosed", "IsWon"]
_HIST_COLS = ["OpportunityId", "CreatedDate", "StageName"]


def clean_export() -> tuple[list[list[str]], list[list[str]]]:
    """30 deals over 2024: 12 won and 12 lost (created every 9 days, closed 15 days later), then 6 open ones
    created in the last days (younger than any closed deal); each history starts at Prospecting."""
    opps, hist = [], []
    for i in range(30):
        oid = f"006A{i:05d}"
        day = 9 * i if i < 24 else 214 + (i - 24)
        created = dt.datetime(2024, 1, 1) + dt.timedelta(days=day)
        hist.append([oid, f"{created:%Y-%m-%dT%H:%M:%S}.000+0000", "Prospecting"])
        qualified = created + dt.timedelta(days=5)
        hist.append([oid, f"{qualified:%Y-%m-%dT%H:%M:%S}.000+0000", "Qualification"])
        if i < 24:
            closed = qualified + dt.timedelta(days=10)
            stage, won = ("Closed Won", "true") if i % 2 == 0 else ("Closed Lost", "false")
            hist.append([oid, f"{closed:%Y-%m-%dT%H:%M:%S}.000+0000", stage])
            opps.append([oid, f"005R{i % 3}", f"001A{i % 7}", stage, f"{1000 + 10 * i}", f"{closed:%Y-%m-%d}",
                         f"{created:%Y-%m-%dT%H:%M:%S}.000+0000", "true", won])
        else:
            opps.append([oid, f"005R{i % 3}", f"001A{i % 7}", "Qualification", f"{1000 + 10 * i}", "2025-03-01",
                         f"{created:%Y-%m-%dT%H:%M:%S}.000+0000", "false", "false"])
    return opps, hist


def write(folder: Path, opps: list[list[str]], hist: list[list[str]], header: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(opps, columns=header or _OPP_COLS).to_csv(folder / "Opportunity.csv", index=False)
    pd.DataFrame(hist, columns=_HIST_COLS).to_csv(folder / "OpportunityHistory.csv", index=False)
    return folder


def counts(folder: Path, as_of: dt.date | None = None) -> dict[tuple[str, str], int]:
    _, report, _ = calibration.build_model(folder, calibration.load_mapping(preset="salesforce"), as_of_date=as_of)
    out: dict[tuple[str, str], int] = {}
    for e in report.entries:
        key = (str(e["reason"]), str(e["action"]))
        out[key] = out.get(key, 0) + int(e["rows"])  # type: ignore[call-overload]
    return out


def test_the_clean_export_reports_nothing(tmp_path: Path) -> None:
    opps, hist = clean_export()
    assert counts(write(tmp_path, opps, hist)) == {}


def test_placeholder_ids(tmp_path: Path) -> None:
    opps, hist = clean_export()
    opps[0][0] = "000000000000000AAA"
    opps[1][0] = ""
    opps[2][1] = "000000000000000AAA"  # placeholder owner: cleared, deal kept
    c = counts(write(tmp_path, opps, hist))
    # The two deals' history rows now belong to no deal.
    assert c == {("placeholder_id", "excluded"): 2, ("placeholder_id", "repaired"): 1,
                 ("history_unknown_opportunity", "excluded"): 6}


def test_duplicate_ids(tmp_path: Path) -> None:
    opps, hist = clean_export()
    opps.append(list(opps[3]))
    opps.append(list(opps[4]))
    opps.append(list(opps[4]))
    assert counts(write(tmp_path, opps, hist)) == {("duplicate_id", "excluded"): 3}


def test_unknown_stages(tmp_path: Path) -> None:
    opps, hist = clean_export()
    opps[25][3] = "Mystery"  # open, nothing says what it is: excluded
    opps[0][3] = "Signed (custom)"  # closed and won by its flags: kept as won
    hist.append([opps[5][0], "2024-12-30T00:00:00.000+0000", "Limbo"])
    c = counts(write(tmp_path, opps, hist))
    assert c == {("unknown_stage", "excluded"): 2, ("unknown_stage", "repaired"): 1,
                 ("history_unknown_opportunity", "excluded"): 2}


def test_negative_and_unreadable_amounts(tmp_path: Path) -> None:
    opps, hist = clean_export()
    opps[0][4] = "-500"
    opps[2][4] = "-1"
    opps[4][4] = "lots"
    assert counts(write(tmp_path, opps, hist)) == {("negative_amount", "repaired"): 2,
                                                    ("unreadable_value", "repaired"): 1}


def test_a_column_that_mostly_fails_is_an_error_not_a_repair(tmp_path: Path) -> None:
    opps, hist = clean_export()
    for row in opps[:10]:
        row[4] = "n/a"
    with pytest.raises(calibration.CalibrationError, match=r"Opportunity.csv line 2, column 'Amount'.*'n/a'"):
        counts(write(tmp_path, opps, hist))


def test_close_before_create(tmp_path: Path) -> None:
    opps, hist = clean_export()
    # Migrated deals: created on import day, closed (by their close date) before it.
    opps[0][5] = "2023-12-01"
    opps[1][5] = "2023-11-15"
    assert counts(write(tmp_path, opps, hist)) == {("close_before_create", "excluded"): 2}


def test_dates_after_as_of(tmp_path: Path) -> None:
    opps, hist = clean_export()
    # As of 2024-06-30, deals created later are excluded, deals closed later are open on that day, and their
    # later stage changes are ignored.
    as_of = dt.date(2024, 6, 30)
    created = {o[0]: dt.date.fromisoformat(o[6][:10]) for o in opps}
    closed = {o[0]: dt.date.fromisoformat(o[5]) for o in opps if o[7] == "true"}
    kept = {k for k, d in created.items() if d <= as_of}
    later = len(created) - len(kept)
    reopened = sum(1 for k in kept if k in closed and closed[k] > as_of)
    ignored = sum(1 for h in hist if h[0] in kept and h[1][:10] > as_of.isoformat())
    folder = write(tmp_path, opps, hist)
    _, report, _ = calibration.build_model(folder, calibration.load_mapping(preset="salesforce"), as_of_date=as_of)
    got = {(e["file"], e["action"]): e["rows"] for e in report.entries if e["reason"] == "after_as_of"}
    assert got == {("Opportunity.csv", "excluded"): later, ("Opportunity.csv", "repaired"): reopened,
                   ("OpportunityHistory.csv", "excluded"): ignored}
    assert later > 0 and reopened > 0 and ignored >= reopened
    assert {e["reason"] for e in report.entries} == {"after_as_of"}


def test_stale_open_deals(tmp_path: Path) -> None:
    opps, hist = clean_export()
    for i in range(24, 27):  # three open deals created years before anything closed this fast
        oid = opps[i][0]
        hist[:] = [h for h in hist if h[0] != oid]
        hist.append([oid, "2021-01-05T00:00:00.000+0000", "Prospecting"])
        opps[i][6] = "2021-01-05T00:00:00.000+0000"
    assert counts(write(tmp_path, opps, hist)) == {("stale_open", "excluded"): 3}


def test_same_second_bursts(tmp_path: Path) -> None:
    opps, hist = clean_export()
    burst = next(h for h in hist if h[0] == opps[0][0] and h[2] == "Qualification")
    hist.append([burst[0], burst[1], "Needs Analysis"])  # same instant as the move to Qualification
    hist.append([burst[0], burst[1], "Value Proposition"])
    assert counts(write(tmp_path, opps, hist)) == {("same_second_burst", "excluded"): 2}


def test_close_missing_in_history(tmp_path: Path) -> None:
    opps, hist = clean_export()
    for i in (0, 1, 2):
        hist[:] = [h for h in hist if not (h[0] == opps[i][0] and h[2].startswith("Closed"))]
    assert counts(write(tmp_path, opps, hist)) == {("close_missing_in_history", "repaired"): 3}


def test_deals_without_any_date(tmp_path: Path) -> None:
    opps, hist = clean_export()
    for i in (24, 25):
        hist[:] = [h for h in hist if h[0] != opps[i][0]]
        opps[i][6] = ""
    assert counts(write(tmp_path, opps, hist)) == {("no_date", "excluded"): 2}


def test_malformed_rows_and_duplicate_headers(tmp_path: Path) -> None:
    opps, hist = clean_export()
    folder = write(tmp_path, opps, hist)
    text = (folder / "Opportunity.csv").read_text(encoding="utf-8").splitlines()
    text[0] += ",Amount"  # a second 'Amount' column
    text = [text[0]] + [line + ",x" for line in text[1:]]
    text.append("006B,005R1,001A1,Prospecting,5,2024-01-01,2024-01-01T00:00:00.000+0000,false,false,x,extra")
    (folder / "Opportunity.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    assert counts(folder) == {("duplicate_header", "repaired"): 1, ("malformed_row", "excluded"): 1}


def test_product_spelling(tmp_path: Path) -> None:
    opps, hist = clean_export()
    header = [*_OPP_COLS, "Product"]
    names = ["GTX Pro", "GTXPro", "gtx pro", "MG Special"]
    rows = [[*row, names[i % 4]] for i, row in enumerate(opps)]
    folder = write(tmp_path, rows, hist, header)
    pd.DataFrame({"product": ["GTX Pro", "MG Special"], "sales_price": [4821, 55]}).to_csv(
        folder / "products.csv", index=False)
    base = calibration.load_mapping(preset="salesforce")
    from calibration.mapping import ProductColumns

    mapping = base.model_copy(update={
        "opportunities": base.opportunities.model_copy(update={"product": "Product"}),
        "products": ProductColumns(file="products.csv", id="product", price="sales_price")})
    model, report, _ = calibration.build_model(folder, mapping)
    entry = [e for e in report.entries if e["reason"] == "product_spelling"]
    assert len(report.entries) == 1 and entry[0]["rows"] == 8  # 'GTXPro' rows; 'gtx pro' only differs in case
    assert set(model.opportunities["product"]) == {"GTX Pro", "MG Special"}


def test_every_reason_has_a_test() -> None:
    tested = {"placeholder_id", "duplicate_id", "unknown_stage", "negative_amount", "unreadable_value",
              "close_before_create", "after_as_of", "stale_open", "same_second_burst", "close_missing_in_history",
              "no_date", "malformed_row", "duplicate_header", "product_spelling", "history_unknown_opportunity"}
    assert tested == set(REASONS)


def test_strict_turns_any_cleaning_into_an_error(tmp_path: Path) -> None:
    opps, hist = clean_export()
    opps[0][4] = "-500"
    folder = write(tmp_path, opps, hist)
    mapping = calibration.load_mapping(preset="salesforce")
    with pytest.raises(calibration.CalibrationError, match=r"Opportunity.csv line 2, column 'Amount'.*'-500'"):
        calibration.calibrate(folder, mapping, strict=True)
