"""Loading and saving scenario folders (``scenario.toml`` plus CSV tables), bundled or on disk.

Loading never executes anything from the files: TOML is parsed as data and CSVs as text. Every failure,
from a missing file to a bad byte, becomes a ``ScenarioError`` naming the file.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Callable
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w
from pydantic import ValidationError

from scenarios.checks import check
from scenarios.deprecations import fingerprinted_header, fingerprinted_settings, upgrade_settings
from scenarios.errors import Problem, ScenarioError
from scenarios.scenario import Scenario, settings_problems
from scenarios.settings import Settings
from scenarios.tables import format_table, parse_table, read_table_file
from scenarios.text import TextFormat, decode

__all__ = ["bundled", "fingerprint", "is_id_column", "load", "neutralise", "require_regular_file", "save",
           "write_atomic", "write_csv"]

_TOML = "scenario.toml"


def bundled() -> list[str]:
    """Names of the scenarios shipped with the package.

    Examples
    --------
    >>> "baseline" in bundled() and "tiny" in bundled()
    True
    """
    root = resources.files("scenarios").joinpath("bundled")
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.joinpath(_TOML).is_file())


def _inside(folder: Path, relative: str, key: str) -> Path:
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise ScenarioError(Problem(_TOML, f"table file '{relative}' lies outside the scenario folder",
                                    "keep the table inside the scenario folder", column=key, value=relative))
    require_regular_file(path)
    return path


def _read_settings(folder: Path, text_format: TextFormat) -> Settings:
    toml_path = folder / _TOML
    require_regular_file(toml_path)
    try:
        data = toml_path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(Problem(_TOML, f"not found in {folder}",
                                    "point at a scenario folder (it holds scenario.toml), or use a bundled "
                                    f"name: {', '.join(bundled())}")) from None
    except OSError as exc:
        raise ScenarioError(Problem(_TOML, f"cannot be read ({exc.strerror})", "check the file")) from None
    text = decode(data, _TOML, text_format)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ScenarioError(Problem(_TOML, f"is not valid TOML ({exc})",
                                    "fix the syntax (keys may appear once per table; strings need quotes)",
                                    line=int(match.group(1)) if match else None)) from None
    try:
        return Settings.model_validate(upgrade_settings(raw, _TOML))
    except ValidationError as exc:
        raise ScenarioError(settings_problems(exc)) from None


def _resolve(source: str | os.PathLike[str], stack: ExitStack) -> tuple[Path, str]:
    path = Path(source)
    if path.is_dir():
        return path, str(path)
    name = str(source)
    if name in bundled():
        traversable = resources.files("scenarios").joinpath("bundled", name)
        return stack.enter_context(resources.as_file(traversable)), name
    raise ScenarioError(Problem(name, "is neither a scenario folder nor a bundled scenario",
                                f"give a folder holding scenario.toml, or one of: {', '.join(bundled())}"))


def load(source: str | os.PathLike[str], *, encoding: str | None = None, decimal: str = ".") -> Scenario:
    """Load and check a scenario from a folder or by bundled name.

    Parameters
    ----------
    source
        A folder with ``scenario.toml`` and CSV tables, or a bundled name (``baseline``, ``tiny``). An
        existing folder wins over a bundled name.
    encoding
        Encoding of files that are not UTF-8 (e.g. ``gbk``, ``cp1252``); files with a byte-order mark and valid
        UTF-8 files are read as such whatever this says. None = such a file is an error naming the encoding it
        looks like (see ``scenarios.text``).
    decimal
        Decimal mark of the numbers in the CSV tables: ``.`` or ``,``.

    Raises
    ------
    ScenarioError
        Listing every problem found, each with file, line, column, value and fix.

    Examples
    --------
    >>> s = load("tiny")
    >>> s.settings.name
    'tiny'
    """
    fmt = TextFormat(encoding=encoding, decimal=decimal)
    with ExitStack() as stack:
        folder, label = _resolve(source, stack)
        settings = _read_settings(folder, fmt)
        stages = [s.id for s in settings.funnel.stages]
        files = settings.tables
        reps = read_table_file(_inside(folder, files.reps, "tables.reps"), "reps", stages, fmt)
        accounts = read_table_file(_inside(folder, files.accounts, "tables.accounts"), "accounts", stages, fmt)
        lines: dict[str, np.ndarray] = {"reps": reps.lines, "accounts": accounts.lines}
        pairs = None
        pair_name = files.rep_accounts or "rep_accounts.csv"
        pair_path = _inside(folder, pair_name, "tables.rep_accounts")
        if files.rep_accounts is not None or pair_path.is_file():
            parsed = read_table_file(pair_path, "rep_accounts", stages, fmt)
            pairs, lines["rep_accounts"] = parsed.frame, parsed.lines
        scenario = Scenario(settings=settings, reps=reps.frame, accounts=accounts.frame, rep_accounts=pairs,
                            source=label)
    check(scenario, lines)
    return scenario


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so no half-written file is left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the user's usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def require_regular_file(path: Path) -> None:
    """Refuse a path that exists but is not a regular file (a FIFO, socket or device) before it is opened.

    Reading a named pipe blocks until another program writes to it, and a device such as ``/dev/zero`` never
    ends, so either would hang the run instead of failing; a missing path is left to the reader's own message.

    Raises
    ------
    ScenarioError
        Naming the path and what it is instead.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISREG(mode):
        return
    kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file")
    raise ScenarioError(Problem(path.name, f"is {kind} ({path}), not a regular file",
                                "give the path of a file saved on disk (copy the data into a CSV or TOML file)"))


# Cells a spreadsheet would run as a formula (OWASP "CSV injection"): =, +, -, @, and tab / carriage return,
# which some spreadsheets strip before looking for those characters.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Columns that hold ids of the scenario's tables or of scenario.toml sections: written verbatim, because the
# tool reads them back (a plan folder) and validation refuses ids that a spreadsheet would run.
_ID_COLUMNS = frozenset({"plan", "channel", "product", "period"})


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with ``'`` (OWASP CSV injection).

    Numbers are left alone, so negative amounts stay numbers.

    Examples
    --------
    >>> neutralise("=HYPERLINK(1)"), neutralise(-3.5), neutralise("Müller")
    ("'=HYPERLINK(1)", -3.5, 'Müller')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def is_id_column(name: object) -> bool:
    """True for a column of ids (``*_id``, ``plan``, ``channel``, ``product``, ``period``), written verbatim.

    Examples
    --------
    >>> is_id_column("rep_id"), is_id_column("plan"), is_id_column("name")
    (True, True, False)
    """
    return isinstance(name, str) and (name.endswith("_id") or name in _ID_COLUMNS)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *, excel: bool = False, index: bool = False,
              float_format: str | Callable[[object], str] | None = None) -> None:
    """Write ``frame`` as an export CSV: the one writer behind every CSV the engines and the CLI produce.

    RFC 4180 (comma, ``\\r\\n`` line ends, quotes where needed), UTF-8 (with a BOM when ``excel``, so Excel
    shows non-Latin names right), dates as ``YYYY-MM-DD``, text cells that a spreadsheet would run as a formula
    prefixed with ``'`` (`neutralise`) except in id columns (`is_id_column`), and written atomically (a
    temporary file renamed into place), so a reader never sees half a file.

    Parameters
    ----------
    frame
        The table; its index is written only when ``index``.
    path
        Target file (its folder is created when missing).
    excel
        Start the file with a UTF-8 byte-order mark.
    index
        Write the index as the first column(s).
    float_format
        ``printf`` format for floats (e.g. ``%.10g``) or a function of one float; default Python's shortest
        round-trip form.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "x.csv"
    >>> write_csv(pd.DataFrame({"rep_id": ["-R1"], "name": ["=cmd"], "x": [-1.5]}), f)
    >>> f.read_bytes()
    b"rep_id,name,x\\r\\n-R1,'=cmd,-1.5\\r\\n"
    """
    out = frame.reset_index() if index else frame
    safe = out.copy()
    for col in safe.columns:
        if is_id_column(col):
            continue
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(neutralise)
    text = safe.to_csv(index=False, lineterminator="\r\n", date_format="%Y-%m-%d", float_format=float_format)
    write_atomic(Path(path), text.encode("utf-8-sig" if excel else "utf-8"))


def save(scenario: Scenario, folder: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a scenario folder that ``load`` reads back to an equal scenario.

    Parameters
    ----------
    scenario
        The scenario (checked before anything is written).
    folder
        Target folder; created if needed.
    overwrite
        Replace an existing ``scenario.toml`` in ``folder``; without it that is an error.

    Examples
    --------
    >>> import tempfile
    >>> s = load("tiny")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     load(save(s, d)).equals(s)
    True
    """
    out = Path(folder)
    if (out / _TOML).exists() and not overwrite:
        raise ScenarioError(Problem(str(out), "already holds a scenario",
                                    "choose another folder, or pass overwrite=True (--force on the CLI)"))
    settings = scenario.settings
    if scenario.rep_accounts is None and settings.tables.rep_accounts is not None:
        settings = settings.model_copy(update={"tables": settings.tables.model_copy(update={"rep_accounts": None})})
    stages = scenario.stage_ids
    tables: dict[str, tuple[str, pd.DataFrame]] = {
        "reps": (settings.tables.reps, scenario.reps),
        "accounts": (settings.tables.accounts, scenario.accounts),
    }
    if scenario.rep_accounts is not None:
        tables["rep_accounts"] = (settings.tables.rep_accounts or "rep_accounts.csv", scenario.rep_accounts)
    blobs: dict[str, bytes] = {}
    lines: dict[str, np.ndarray] = {}
    for table, (relative, frame) in tables.items():
        _inside(out, relative, "tables")
        blobs[relative] = format_table(frame, table, stages)
        # Parsing the exact bytes about to be written checks every column as load() will.
        lines[table] = parse_table(blobs[relative], table, relative, stages).lines
    check(scenario, lines)
    toml = tomli_w.dumps(settings.model_dump(mode="python", exclude_none=True)).encode("utf-8")
    for relative, blob in blobs.items():
        write_atomic(out / relative, blob)
    stale_pairs = out / "rep_accounts.csv"
    if scenario.rep_accounts is None and stale_pairs.is_file():
        stale_pairs.unlink()  # load() would otherwise pick up a pair table this scenario does not have
    write_atomic(out / _TOML, toml)
    return out


def fingerprint(scenario: Scenario) -> str:
    """SHA-256 of the scenario's content as ``save`` would write it (settings and every table).

    Equal scenarios have equal fingerprints wherever they came from; manifests and sweep task ids use it.

    Examples
    --------
    >>> s = load("tiny")
    >>> fingerprint(s) == fingerprint(load("tiny")) and len(fingerprint(s)) == 64
    True
    """
    digest = hashlib.sha256()
    settings = fingerprinted_settings(scenario.settings.model_dump(mode="python", exclude_none=True))
    digest.update(tomli_w.dumps(settings).encode("utf-8"))
    stages = scenario.stage_ids
    tables = [("reps", scenario.reps), ("accounts", scenario.accounts)]
    if scenario.rep_accounts is not None:
        tables.append(("rep_accounts", scenario.rep_accounts))
    for table, frame in tables:
        digest.update(f"\0{table}\0".encode())
        header, newline, rows = format_table(frame, table, stages).partition(b"\n")
        digest.update(fingerprinted_header(header, table) + newline + rows)
    return digest.hexdigest()
