"""Exports as written in the wild: one test per encoding and separator convention, each read to the same model
with exact counts, names and amounts; amount, date and flag formats; file names in any case."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calibration
from calibration.reading import decode, parse_booleans, parse_dates, parse_numbers

OWNERS = ["Müller", "Søren Ærø", "José Peña", "Zoë Œuvre"]  # all in cp1252
CHINESE = ["王芳", "李娜", "张伟", "刘洋"]  # all in GBK


def _rows(owners: list[str], sep: str, decimal: str) -> str:
    lines = [sep.join(["Id", "OwnerId", "StageName", "Amount", "CloseDate", "CreatedDate", "IsClosed", "IsWon"])]
    for i in range(24):
        # Open deals are the youngest, so none is older than the longest-lived closed deal.
        created = dt.date(2024, 1, 1) + dt.timedelta(days=7 * i if i < 20 else 147 + i - 20)
        closed = created + dt.timedelta(days=20)
        amount = f"{1234.5 + i:.2f}".replace(".", decimal)
        if i < 20:
            stage, won, is_closed, close = ("Closed Won", "1", "1", closed.isoformat()) if i % 2 else \
                ("Closed Lost", "0", "1", closed.isoformat())
        else:
            stage, won, is_closed, close = "Prospecting", "0", "0", ""
        lines.append(sep.join([f"O{i}", owners[i % 4], stage, amount, close, created.isoformat(), is_closed, won]))
    return "\r\n".join(lines) + "\r\n"


def _read(folder: Path, encoding: str | None = None) -> calibration.CrmModel:
    return calibration.build_model(folder, calibration.load_mapping(preset="salesforce"), encoding=encoding)[0]


def _expect(model: calibration.CrmModel, owners: list[str]) -> None:
    opps = model.opportunities
    assert (opps["kind"] == "won").sum() == 10 and (opps["kind"] == "lost").sum() == 10
    assert (opps["kind"] == "open").sum() == 4
    assert sorted(set(opps["owner"])) == sorted(owners)
    assert opps["amount"].to_numpy() == pytest.approx(1234.5 + np.arange(24))


@pytest.mark.parametrize(("encoding", "owners"), [
    ("utf-8", OWNERS), ("utf-8-sig", OWNERS), ("utf-16", OWNERS), ("cp1252", OWNERS), ("gbk", CHINESE),
    ("gb18030", CHINESE), ("utf-8", CHINESE)])
def test_encodings_are_detected(tmp_path: Path, encoding: str, owners: list[str]) -> None:
    (tmp_path / "Opportunity.csv").write_bytes(_rows(owners, ",", ".").encode(encoding))
    _expect(_read(tmp_path), owners)


def test_utf16_without_bom(tmp_path: Path) -> None:
    (tmp_path / "Opportunity.csv").write_bytes(_rows(OWNERS, ",", ".").encode("utf-16-le"))
    _expect(_read(tmp_path), OWNERS)


def test_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    (tmp_path / "Opportunity.csv").write_bytes(_rows(OWNERS, ";", ",").encode("cp1252"))
    _expect(_read(tmp_path), OWNERS)


def test_forced_encoding(tmp_path: Path) -> None:
    (tmp_path / "Opportunity.csv").write_bytes(_rows(CHINESE, ",", ".").encode("gbk"))
    _expect(_read(tmp_path, "gbk"), CHINESE)
    with pytest.raises(calibration.CalibrationError, match=r"Opportunity.csv line 2: is not utf-8 text"):
        _read(tmp_path, "utf-8")
    with pytest.raises(calibration.CalibrationError, match="not an encoding"):
        _read(tmp_path, "klingon")


def test_file_names_match_in_any_case(tmp_path: Path) -> None:
    (tmp_path / "OPPORTUNITY.CSV").write_text(_rows(OWNERS, ",", "."), encoding="utf-8")
    _expect(_read(tmp_path), OWNERS)


def test_detection_tells_cp1252_from_gbk() -> None:
    assert decode("Müller;Søren;Œuvre;€ 5".encode("cp1252"), "f")[1] == "cp1252"
    assert decode("王芳,李娜,张伟,北京贸易有限公司".encode("gbk"), "f")[1] == "gb18030"


def test_amount_formats() -> None:
    values, bad, mark = parse_numbers(pd.Series(["$2K", "$1,932.00", "(1,000.50)", "USD 3.5M", "€ 12", "7",
                                                 "", "-", "1.2.3"]))
    assert values[:6].tolist() == [2000.0, 1932.0, -1000.5, 3_500_000.0, 12.0, 7.0]
    assert bad.tolist() == [False] * 7 + [True, True] and mark == "."
    euro, bad, mark = parse_numbers(pd.Series(["1.932,00 €", "2.000", "0,5"]), separator=";")
    assert euro.tolist() == [1932.0, 2000.0, 0.5] and mark == "," and not bad.any()
    with pytest.raises(calibration.CalibrationError, match="mix decimal commas and decimal points"):
        parse_numbers(pd.Series(["1,50", "2.25"]))


def test_boolean_and_date_formats() -> None:
    flags, bad = parse_booleans(pd.Series(["0", "1", "TRUE", "false", "Yes", "", "?"]))
    assert flags[:5].tolist() == [0.0, 1.0, 1.0, 0.0, 1.0] and bad.tolist() == [False] * 6 + [True]
    us, _, fmt = parse_dates(pd.Series(["12/31/2023", "1/2/2024"]))
    assert fmt == "%m/%d/%Y" and str(us[1])[:10] == "2024-01-02"
    eu, _, fmt = parse_dates(pd.Series(["31.12.2023", "02.01.2024"]))
    assert fmt == "%d.%m.%Y" and str(eu[1])[:10] == "2024-01-02"
    both, _, fmt = parse_dates(pd.Series(["01/02/2024"]), day_first=True)
    assert fmt == "%d/%m/%Y" and str(both[0])[:10] == "2024-02-01"
    stamps, _, _ = parse_dates(pd.Series(["2024-03-01T23:30:00.000+0100", "2024-03-01"]))
    assert str(stamps[0]) == "2024-03-01T22:30:00.000000000"  # to UTC


def test_mixed_currencies_convert_by_the_rate_table(tmp_path: Path) -> None:
    text = _rows(OWNERS, ",", ".").splitlines()
    text[0] += ",CurrencyIsoCode"
    text[1:] = [line + (",EUR" if i % 2 else ",USD") for i, line in enumerate(text[1:])]
    (tmp_path / "Opportunity.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    base = calibration.load_mapping(preset="salesforce")
    mapping = base.model_copy(update={"currency": calibration.mapping.CurrencySettings(base="USD",
                                                                                         rates={"EUR": 1.1})})
    model = calibration.build_model(tmp_path, mapping)[0]
    expected = (1234.5 + np.arange(24)) * np.where(np.arange(24) % 2, 1.1, 1.0)
    assert model.opportunities["amount"].to_numpy() == pytest.approx(expected) and model.currency == "USD"
    with pytest.raises(calibration.CalibrationError, match=r"line 3, column 'CurrencyIsoCode'.*no conversion rate"):
        calibration.build_model(tmp_path, base.model_copy(update={"currency": calibration.mapping.CurrencySettings(
            base="USD")}))
