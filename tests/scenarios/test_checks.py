"""Bad input gets one error type whose message names file, line, column, value and the fix."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

import scenarios
from scenarios import ScenarioError


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    src = resources.files("scenarios").joinpath("bundled", "tiny")
    with resources.as_file(src) as path:
        shutil.copytree(path, tmp_path / "tiny")
    return tmp_path / "tiny"


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _error(folder: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenarios.load(folder)
    return info.value


def test_duplicate_id_names_line_and_value(folder: Path) -> None:
    _edit(folder / "reps.csv", "R0002,", "R0001,")
    err = _error(folder)
    p = err.problems[0]
    assert (p.file, p.line, p.column, p.value) == ("reps.csv", 3, "rep_id", "R0001")
    assert "repeats" in p.message and "Fix:" in str(err)


def test_unknown_plan_reference(folder: Path) -> None:
    _edit(folder / "reps.csv", "flat_commission", "gold_plan")
    p = _error(folder).problems[0]
    assert (p.file, p.line, p.column, p.value) == ("reps.csv", 2, "pay_plan_id", "gold_plan")
    assert "flat_commission" in p.fix


def test_unknown_tier_and_current_rep(folder: Path) -> None:
    _edit(folder / "reps.csv", ",junior,", ",trainee,")
    text = (folder / "accounts.csv").read_text(encoding="utf-8").splitlines()
    text[1] = text[1].rsplit(",", 1)[0] + ",R9999"
    (folder / "accounts.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    problems = _error(folder).problems
    assert {(p.file, p.column, p.value) for p in problems} >= {("reps.csv", "tier", "trainee"),
                                                              ("accounts.csv", "current_rep_id", "R9999")}


def test_pulp_name_collision(folder: Path) -> None:
    _edit(folder / "reps.csv", "R0001,", "R-1,")
    _edit(folder / "reps.csv", "R0002,", "R_1,")
    _edit(folder / "accounts.csv", ",R0001\n", ",R-1\n", count=-1)
    _edit(folder / "accounts.csv", ",R0002\n", ",R_1\n", count=-1)
    problems = _error(folder).problems
    assert len(problems) == 1
    assert problems[0].column == "rep_id" and "same name 'R_1'" in problems[0].message


@pytest.mark.parametrize(("value", "message"), [("abc", "not a finite number"), ("nan", "not a finite number"),
                                                ("inf", "not a finite number"), ("1e400", "not a finite number"),
                                                ("-5", "below the minimum")])
def test_bad_numbers(folder: Path, value: str, message: str) -> None:
    _edit(folder / "reps.csv", ",40.0,42200.0,", f",{value},42200.0,")
    p = _error(folder).problems[0]
    assert (p.line, p.column, p.value) == (2, "hours_per_week", value)
    assert message in p.message


def test_missing_and_unknown_columns(folder: Path) -> None:
    text = (folder / "accounts.csv").read_text(encoding="utf-8").replace("segment", "sector", 1)
    (folder / "accounts.csv").write_text(text, encoding="utf-8")
    problems = _error(folder).problems
    messages = " | ".join(str(p) for p in problems)
    assert "unknown column" in messages and "'sector'" in messages
    assert "required column 'segment' is missing" in messages


def test_bad_date_and_enum(folder: Path) -> None:
    _edit(folder / "reps.csv", "2026-05-08", "08/05/2026")
    _edit(folder / "reps.csv", ",hybrid,", ",closer,")
    problems = {p.column: p for p in _error(folder).problems}
    assert problems["hire_date"].value == "08/05/2026" and "YYYY-MM-DD" in problems["hire_date"].fix
    assert problems["role"].value == "closer" and "hunter" in problems["role"].fix


def test_empty_table(folder: Path) -> None:
    header = (folder / "reps.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "reps.csv").write_text(header + "\n", encoding="utf-8")
    assert "no data rows" in str(_error(folder))


def test_ragged_row(folder: Path) -> None:
    with (folder / "reps.csv").open("a", encoding="utf-8") as fh:
        fh.write("R0099,Extra,junior\n")
    p = _error(folder).problems[0]
    assert p.line == 8 and "fields" in p.message


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.csv", "sub/../../x.csv", "C:\\data\\reps.csv"])
def test_table_paths_stay_inside_the_folder(folder: Path, path: str) -> None:
    _edit(folder / "scenario.toml", 'reps = "reps.csv"', f"reps = '{path}'")
    err = _error(folder)
    assert err.problems[0].file == "scenario.toml"
    assert "tables.reps" in (err.problems[0].column or "")


def test_symlink_escape_is_rejected(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    shutil.copy(folder / "reps.csv", outside)
    (folder / "link.csv").symlink_to(outside)
    _edit(folder / "scenario.toml", 'reps = "reps.csv"', "reps = 'link.csv'")
    assert "outside the scenario folder" in str(_error(folder))


def test_unknown_toml_key_and_bad_setting(folder: Path) -> None:
    _edit(folder / "scenario.toml", "months = 12", "months = 12\nmonth = 3")
    _edit(folder / "scenario.toml", "weeks_per_year = 46.0", "weeks_per_year = -1.0")
    problems = {p.column: p for p in _error(folder).problems}
    assert "calendar.month" in problems and "spelling" in problems["calendar.month"].fix
    assert problems["calendar.weeks_per_year"].value == "-1.0"


def test_duplicate_toml_key_names_line(folder: Path) -> None:
    _edit(folder / "scenario.toml", 'name = "tiny"', 'name = "tiny"\nname = "again"')
    p = _error(folder).problems[0]
    assert p.file == "scenario.toml" and p.line == 2 and "not valid TOML" in p.message


def test_not_utf8(folder: Path) -> None:
    data = (folder / "accounts.csv").read_bytes().replace("北京".encode(), b"\xff\xfe")
    (folder / "accounts.csv").write_bytes(data)
    assert "not UTF-8" in str(_error(folder))


def test_excel_bom_is_accepted(folder: Path, tiny: scenarios.Scenario) -> None:
    data = (folder / "reps.csv").read_bytes()
    (folder / "reps.csv").write_bytes(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"))
    assert scenarios.load(folder).equals(tiny.replace(source=str(folder)))


def test_unknown_source_lists_bundled() -> None:
    with pytest.raises(ScenarioError, match="baseline"):
        scenarios.load("no-such-scenario")


def test_in_memory_check_catches_column_errors(tiny: scenarios.Scenario) -> None:
    bad = tiny.replace(accounts=tiny.accounts.assign(annual_potential=-1.0))
    with pytest.raises(ScenarioError, match="below the minimum"):
        scenarios.check(bad)


def test_settings_cross_references() -> None:
    s = scenarios.load("tiny")
    with pytest.raises(ScenarioError, match="unknown stage"):
        scenarios.modify(s, {"tiers.junior.skill": {"closing": 1.2}})
    with pytest.raises(ScenarioError, match="sum to 1"):
        scenarios.modify(s, {"targets.by_product": {"hardware": 0.5}})
    with pytest.raises(ScenarioError, match="does not exist"):
        scenarios.modify(s, {"tiers.junior.no_such_key": 1})
    assert scenarios.modify(s, {"calendar.seasonality.11": 2.0}).settings.calendar.seasonality[11] == 2.0


def test_concave_channel_curve_is_required() -> None:
    with pytest.raises(ValueError, match="concave"):
        scenarios.ChannelSettings(curve_spend=[0, 10, 20], curve_leads=[0, 1, 5])


def test_table_what_if_paths(tiny: scenarios.Scenario) -> None:
    scaled = scenarios.modify(tiny, {"accounts.annual_potential*": 1.1})
    assert (scaled.accounts["annual_potential"] / tiny.accounts["annual_potential"]).round(12).eq(1.1).all()
    with pytest.raises(ScenarioError, match="no column"):
        scenarios.modify(tiny, {"reps.hourz": 3})
    with pytest.raises(ScenarioError, match="matches no row"):
        scenarios.modify(tiny, {"reps[tier=boss].hours_per_week": 3})
    with pytest.raises(ScenarioError, match="below the minimum"):
        scenarios.modify(tiny, {"reps.hours_per_week": -1.0})
    assert tiny.reps["hours_per_week"].min() > 0  # the original is untouched


@pytest.mark.parametrize("bad", ["=R9", "+R9", "-R9", "@R9", "R\t9"])
def test_ids_a_spreadsheet_would_run_are_refused(folder: Path, bad: str) -> None:
    """Exports escape cells starting with = + - @, so such an id could not be read back from a plan folder."""
    cell = f'"{bad}"' if "\t" in bad else bad
    _edit(folder / "reps.csv", "R0002,", f"{cell},")
    _edit(folder / "accounts.csv", ",R0002\n", f",{cell}\n", count=99)
    problems = [p for p in _error(folder).problems if p.column == "rep_id"]
    assert [(p.file, p.line, p.value) for p in problems] == [("reps.csv", 3, bad)]
    assert "formula" in problems[0].message and problems[0].fix.startswith("rename it")


def test_regions_products_and_channels_with_formula_characters_are_refused(folder: Path) -> None:
    _edit(folder / "reps.csv", ",North,", ",-North,", count=99)
    _edit(folder / "accounts.csv", ",North,", ",-North,", count=99)
    _edit(folder / "scenario.toml", "[channels.events]", '[channels."@events"]')
    problems = _error(folder).problems
    found = {(p.file, p.line, p.column, p.value) for p in problems}
    assert ("reps.csv", 2, "region", "-North") in found and ("accounts.csv", 4, "region", "-North") in found
    assert ("scenario.toml", None, "channels.@events", "@events") in found
    # one problem per offending value, not one per row that repeats it
    assert sum(1 for p in problems if p.column == "region") == 2


def test_awkward_but_safe_ids_and_formula_like_names_are_valid(folder: Path) -> None:
    _edit(folder / "reps.csv", "R0002,Felix Wang,", "R 2/ü,=Müller,", count=1)
    _edit(folder / "accounts.csv", ",R0002\n", ",R 2/ü\n", count=99)
    _edit(folder / "accounts.csv", "A000003,", '"A,3 ""x""",')
    s = scenarios.load(folder)
    assert "R 2/ü" in s.reps.index and 'A,3 "x"' in s.accounts.index and "=Müller" in set(s.reps["name"])


def test_multiplying_a_setting_is_explained_with_the_value_it_would_give(tiny: scenarios.Scenario) -> None:
    # '*=' multiplies table columns only; on a setting the planner is told what '=' to write instead
    with pytest.raises(ScenarioError) as caught:
        scenarios.modify(tiny, {"tiers.junior.hours_per_week*": 1.1})
    message = str(caught.value)
    assert "is a setting, not a table column" in message
    today = tiny.settings.tiers["junior"].hours_per_week
    assert f"tiers.junior.hours_per_week={today * 1.1:g}" in message
    with pytest.raises(ScenarioError, match=r"'tiers\.junior\.no_such_key' does not exist"):
        scenarios.modify(tiny, {"tiers.junior.no_such_key*": 1.1})
