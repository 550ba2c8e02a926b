"""Files saved in another encoding, with ';' separators or decimal commas: read when the user says how, named
exactly when not, and names in any script survive."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

import scenarios
from scenarios import ScenarioError
from scenarios.text import guess_encodings


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    src = resources.files("scenarios").joinpath("bundled", "tiny")
    with resources.as_file(src) as path:
        shutil.copytree(path, tmp_path / "tiny")
    return tmp_path / "tiny"


def _message(folder: Path, **kwargs: str) -> str:
    with pytest.raises(ScenarioError) as info:
        scenarios.load(folder, **kwargs)
    return str(info.value)


def _reencode(path: Path, encoding: str) -> None:
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))


def _chinese_only(folder: Path) -> scenarios.Scenario:
    """GBK has no German letters: a Chinese planner's accounts.csv names its German account in Chinese."""
    path = folder / "accounts.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Müller & Söhne", "慕勒父子公司"), encoding="utf-8")
    return scenarios.load(folder)


def test_gbk_file_is_named_and_read_with_encoding(folder: Path) -> None:
    expected = _chinese_only(folder)
    _reencode(folder / "accounts.csv", "gbk")
    assert _message(folder) == ("accounts.csv: is not UTF-8; it looks like GBK (Chinese). "
                                "Fix: re-save it as UTF-8 or pass --encoding gbk")
    back = scenarios.load(folder, encoding="gbk")
    assert back.equals(expected)
    # Chinese and Cyrillic names survive the round trip through GBK
    assert {"北京贸易有限公司", "Москва Снаб", "慕勒父子公司"} <= set(back.accounts["name"])


def test_cp1252_file_is_named_and_read_with_encoding(folder: Path) -> None:
    expected = scenarios.load(folder)
    _reencode(folder / "reps.csv", "cp1252")
    assert _message(folder) == ("reps.csv: is not UTF-8; it looks like Windows-1252 (Western European). "
                                "Fix: re-save it as UTF-8 or pass --encoding cp1252")
    back = scenarios.load(folder, encoding="cp1252")
    assert back.equals(expected) and "Chloé Moreau" in set(back.reps["name"])


def test_encoding_applies_only_to_files_that_are_not_utf8(folder: Path) -> None:
    """One --encoding serves a GBK table next to UTF-8 tables: the UTF-8 German name is not re-read as GBK."""
    expected = scenarios.load(folder)
    _reencode(folder / "reps.csv", "cp1252")
    assert scenarios.load(folder, encoding="cp1252").equals(expected)
    assert "Müller & Söhne" in set(expected.accounts["name"])


def test_wrong_encoding_is_refused_not_misread(folder: Path) -> None:
    _chinese_only(folder)
    _reencode(folder / "accounts.csv", "gbk")
    message = _message(folder, encoding="utf-16-le")
    assert message.startswith("accounts.csv: is neither UTF-8 nor valid utf-16-le (line ")
    assert "it looks like GBK (Chinese)" in message and "--encoding gbk" in message


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_files_with_a_byte_order_mark_are_read_as_they_are(folder: Path, codec: str) -> None:
    expected = scenarios.load(folder)
    for name in ("accounts.csv", "reps.csv", "scenario.toml"):
        path = folder / name
        text = path.read_text(encoding="utf-8")
        bom = {"utf-16-le": "\ufeff", "utf-16-be": "\ufeff"}.get(codec, "")
        path.write_bytes((bom + text).encode(codec))
    assert (folder / "accounts.csv").read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff", b"\xef\xbb")
    back = scenarios.load(folder)
    assert back.equals(expected)
    assert {"北京贸易有限公司", "Москва Снаб", "Müller & Söhne"} <= set(back.accounts["name"])


def test_excel_unicode_text_export_is_read(folder: Path) -> None:
    """Excel's "Unicode Text" is UTF-16 LE with a BOM, tab-separated, CRLF line ends."""
    expected = scenarios.load(folder)
    path = folder / "accounts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    tabbed = "\r\n".join(line.replace(",", "\t") for line in lines) + "\r\n"
    assert "Müller & Söhne" in tabbed  # no commas inside names in this table
    path.write_bytes(b"\xff\xfe" + tabbed.encode("utf-16-le"))
    assert scenarios.load(folder).equals(expected)


def test_utf16_without_bom_is_named(folder: Path) -> None:
    _reencode(folder / "reps.csv", "utf-16-le")
    assert _message(folder) == ("reps.csv: is not UTF-8; it looks like UTF-16 LE without a byte-order mark. "
                                "Fix: re-save it as UTF-8 or pass --encoding utf-16-le")
    assert scenarios.load(folder, encoding="utf-16-le").equals(scenarios.load("tiny").replace(source=str(folder)))


def _european(path: Path) -> None:
    """What a German Excel writes for 'CSV (Trennzeichen-getrennt)': ';' separators and decimal commas."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [lines[0].replace(",", ";")]
    for line in lines[1:]:
        out.append(";".join(cell.replace(".", ",") if cell.replace(".", "").replace("-", "").isdigit() else cell
                            for cell in line.split(",")))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def test_semicolons_and_decimal_commas_are_named_and_read_with_decimal(folder: Path) -> None:
    expected = scenarios.load(folder)
    _european(folder / "accounts.csv")
    assert "46,89935" in (folder / "accounts.csv").read_text(encoding="utf-8")
    assert _message(folder) == (
        "accounts.csv line 2, column 'latitude': is not a number with '.' as decimal mark: the file looks like it "
        "uses ',' as decimal mark and ';' as separator (a European Excel export) (value '46,89935'). Fix: re-save "
        "it with '.' as decimal mark (Excel: CSV UTF-8 in an English locale), or pass --decimal ','")
    # reps.csv stays comma-separated with '.' decimals: --decimal ',' applies to the ';'-separated file only
    assert scenarios.load(folder, decimal=",").equals(expected)


def test_semicolons_alone_are_read(folder: Path) -> None:
    expected = scenarios.load(folder)
    path = folder / "reps.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    assert scenarios.load(folder).equals(expected)


def test_decimal_comma_option_refuses_points(folder: Path) -> None:
    """'1.250' is 1250 in Germany and 1.25 elsewhere: with --decimal ',' a point is refused, not guessed."""
    path = folder / "reps.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    assert _message(folder, decimal=",") == (
        "reps.csv line 2, column 'latitude': has a '.' in a number although the decimal mark is ',' (value "
        "'46.77675'). Fix: write numbers with ',' as decimal mark and no thousands separators (e.g. 1250,5), or "
        "leave out --decimal ',' if the file uses '.'")


def test_quoted_decimal_comma_in_a_comma_file(folder: Path) -> None:
    _edit = (folder / "reps.csv").read_text(encoding="utf-8").replace(",40.0,42200.0,", ',"40,5",42200.0,', 1)
    (folder / "reps.csv").write_text(_edit, encoding="utf-8")
    assert _message(folder) == (
        "reps.csv line 2, column 'hours_per_week': is not a number: it has a decimal comma, which a "
        "comma-separated file cannot use (value '40,5'). Fix: write the number with '.' as decimal mark")


def test_scenario_toml_in_gbk(folder: Path) -> None:
    path = folder / "scenario.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('name = "tiny"', 'name = "华北试点"', 1),
                    encoding="gbk")
    assert _message(folder) == ("scenario.toml: is not UTF-8; it looks like GBK (Chinese). "
                                "Fix: re-save it as UTF-8 or pass --encoding gbk")
    assert scenarios.load(folder, encoding="gbk").name == "华北试点"


def test_unknown_encoding_name() -> None:
    with pytest.raises(ScenarioError, match="'latin-9000' is not an encoding Python can read"):
        scenarios.load("tiny", encoding="latin-9000")
    with pytest.raises(ScenarioError, match="not an encoding"):
        scenarios.load("tiny", encoding="base64")  # a bytes-to-bytes codec, not a text encoding


@pytest.mark.parametrize(("text", "codec", "expected"), [
    ("rep_id,name\nr1,Dvořák\nr2,Łukasz Wałęsa\n", "cp1250", ["cp1250"]),
    ("rep_id,name\nr1,Иванов Пётр\n", "cp1251", ["cp1251"]),
    ("rep_id,name\nr1,山田太郎\nr2,やまだ\n", "cp932", ["cp932"]),
    ("rep_id,name\nr1,王偉\nr2,台北貿易有限公司\n", "big5", ["big5"]),
    ("rep_id,name\nr1,王伟\nr2,李娜\n", "gbk", ["gbk"]),
    # Korean syllables read as common Chinese characters in GBK and Big5: all are named, the planner knows which
    ("rep_id,name\nr1,김민준\n", "cp949", ["gbk", "cp949", "big5"]),
])
def test_guess_names_the_encoding_of_short_files(text: str, codec: str, expected: list[str]) -> None:
    assert [c for c, _ in guess_encodings(text.encode(codec))] == expected


def test_binary_file_is_not_guessed() -> None:
    assert guess_encodings(bytes(range(128, 256)) * 3) == []
