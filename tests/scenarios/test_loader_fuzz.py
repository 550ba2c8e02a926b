"""Hypothesis fuzzing of the loader: whatever the bytes, loading either works or raises ScenarioError."""

from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scenarios

_TINY = resources.files("scenarios").joinpath("bundled", "tiny")
_FILES = {name: _TINY.joinpath(name).read_bytes() for name in ("scenario.toml", "reps.csv", "accounts.csv")}

_NASTY_CELLS = st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "9" * 400, "0x10", "1,5",
                                "\"", "\"\"", "é", "北京", "\x00", "=1+1", " ", "\t", "TRUE", "1e-400",
                                "2027-02-30", "-0", "+5", "1_000"])
_CELL = st.one_of(_NASTY_CELLS, st.text(max_size=12))


def _load_with(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as d:
        for name, data in files.items():
            (Path(d) / name).write_bytes(data)
        try:
            scenarios.load(d)
        except scenarios.ScenarioError as exc:
            assert exc.problems and all(p.fix for p in exc.problems)


@st.composite
def mutated_csv(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(["reps.csv", "accounts.csv"]))
    lines = _FILES[name].decode("utf-8").splitlines()
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.integers(0, len(lines) - 1))
        cells = lines[row].split(",")
        action = draw(st.sampled_from(["set", "drop", "add", "dup_row", "swap_header"]))
        if action == "set":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(_CELL)
        elif action == "drop" and len(cells) > 1:
            cells.pop(draw(st.integers(0, len(cells) - 1)))
        elif action == "add":
            cells.append(draw(_CELL))
        elif action == "dup_row":
            lines.append(lines[row])
        elif action == "swap_header":
            cells = lines[0].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(_CELL)
            row = 0
        lines[row] = ",".join(cells)
    text = "\n".join(lines)
    data = text.encode("utf-8", errors="surrogatepass") if draw(st.booleans()) else text.encode("utf-8", "replace")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return name, data


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_csv())
def test_mutated_csv_raises_only_scenario_error(case: tuple[str, bytes]) -> None:
    name, data = case
    _load_with({**_FILES, name: data})


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["scenario.toml", "reps.csv", "accounts.csv"]))
def test_random_bytes_raise_only_scenario_error(data: bytes, name: str) -> None:
    _load_with({**_FILES, name: data})


_TOML_VALUES = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=False, allow_infinity=False),
                         st.sampled_from(["nan", "inf", "-inf", "\"text\"", "[1, 2]", "{a = 1}", "true",
                                          "1979-05-27", "\"\"", "[]"]))


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_toml_raises_only_scenario_error(data: st.DataObject) -> None:
    lines = _FILES["scenario.toml"].decode("utf-8").splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        row = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["value", "duplicate", "delete", "junk_key"]))
        if action == "value" and " = " in lines[row]:
            key = lines[row].split(" = ", 1)[0]
            lines[row] = f"{key} = {data.draw(_TOML_VALUES)}"
        elif action == "duplicate":
            lines.insert(row, lines[row])
        elif action == "delete":
            lines.pop(row)
        elif action == "junk_key":
            lines.insert(row, f"{data.draw(st.from_regex(r'[a-z_]{1,8}', fullmatch=True))} = 1")
    _load_with({**_FILES, "scenario.toml": "\n".join(lines).encode("utf-8")})
