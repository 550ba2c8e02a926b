"""Reading a CRM export as written in the wild: finding its files, decoding them, splitting their columns and
turning text cells into numbers, dates and booleans.

Files are matched case-insensitively (``opportunity.CSV`` for ``Opportunity.csv``; glob patterns allowed).
Encodings: a BOM decides (UTF-8, UTF-16); otherwise UTF-8 when every byte decodes, else the best of cp1252 and
GB18030 by charset-normalizer's coherence test, or ``--encoding``. The separator (comma, semicolon or tab) is
read from the header line; duplicate header names get a suffix and are reported. Cells are read as text by
pyarrow (fast, multithreaded) and converted column by column with vectorised pandas code: amounts may carry
currency symbols or codes, thousands separators, a decimal comma, a ``K``/``M``/``B`` suffix (``$2K``) or
accounting parentheses; booleans may be ``0``/``1``, ``TRUE``/``FALSE`` or ``yes``/``no``; dates are ISO 8601
or a day/month order detected from the values.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from calibration.errors import CalibrationError, Problem
from calibration.mapping import Column

__all__ = [
    "RawTable",
    "ValueIssue",
    "decode",
    "find_file",
    "parse_booleans",
    "parse_dates",
    "parse_numbers",
    "read_table",
    "resolve_column",
]

_CANDIDATES = ("cp1252", "gb18030")
# Share of a column's non-empty cells that may fail to parse before the column is taken to be mis-mapped or in
# an unreadable format (an error) rather than holding a few stray values (counted in the cleaning report).
MAX_BAD_SHARE = 0.05


@dataclass(frozen=True)
class ValueIssue:
    """Cells of one column that could not be read (counted in the cleaning report, never dropped silently)."""

    file: str
    column: str
    rows: np.ndarray  # 1-based data rows
    values: list[str]
    kind: str  # "date", "number" or "boolean"


@dataclass(frozen=True, eq=False)
class RawTable:
    """One CSV file read as text: a frame of string columns plus how it was read.

    ``frame`` has a ``_row`` column with each row's 1-based data row number (the header is line 1, so data row
    ``n`` is line ``n + 1`` when no cell spans lines).
    """

    file: str
    frame: pd.DataFrame
    encoding: str
    separator: str
    duplicate_headers: list[str] = field(default_factory=list)
    malformed_rows: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)


def find_file(folder: Path, names: Column) -> Path | None:
    """The file in ``folder`` matching one of ``names`` (case-insensitive, glob patterns allowed), or None.

    Raises
    ------
    CalibrationError
        When a pattern matches more than one file (the export is ambiguous).
    """
    wanted = [names] if isinstance(names, str) else list(names)
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for pattern in wanted:
        lowered = pattern.casefold()
        hits = [p for p in files if fnmatch.fnmatchcase(p.name.casefold(), lowered)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise CalibrationError(Problem(str(folder), f"{len(hits)} files match '{pattern}': "
                                           f"{', '.join(p.name for p in hits[:5])}",
                                           "keep one export per folder, or name the file in a --mapping"))
    return None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, file: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode an export file's bytes; return the text and the encoding used.

    Examples
    --------
    >>> decode("Müller;1".encode("cp1252"), "x.csv")
    ('Müller;1', 'cp1252')
    >>> decode("\\ufeffa,b".encode("utf-8"), "x.csv")
    ('a,b', 'utf-8-sig')
    >>> decode("北京贸易有限公司,上海精密机械".encode("gbk"), "x.csv")[1]
    'gb18030'
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CalibrationError(Problem("--encoding", f"'{encoding}' is not an encoding Python knows",
                                           "use e.g. utf-8, utf-16, cp1252 or gb18030", value=encoding)) from None
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise CalibrationError(Problem(file, f"is not {encoding} text (byte 0x{data[exc.start]:02x} at offset "
                                           f"{exc.start})", "give the file's real --encoding, or leave it out to "
                                           "detect it", line=_line_of(data, exc.start))) from None
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", file), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", file), "utf-16"
    head = data[:4096]
    if len(head) >= 4 and head.count(0) > len(head) // 4:
        # UTF-16 without a BOM: ASCII characters leave a zero byte beside each one.
        kind = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        return _strict(data, kind, file), kind
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000], cp_isolation=list(_CANDIDATES)).best()
    kind = "cp1252" if best is None else codecs.lookup(best.encoding).name
    if kind not in {codecs.lookup(c).name for c in _CANDIDATES}:
        kind = "cp1252"
    kind = "gb18030" if kind == codecs.lookup("gb18030").name else "cp1252"
    return _strict(data, kind, file), kind


def _strict(data: bytes, encoding: str, file: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CalibrationError(Problem(file, f"looks like {encoding} but byte 0x{data[exc.start]:02x} at offset "
                                       f"{exc.start} is not valid {encoding}", "save the file as UTF-8, or give "
                                       "its --encoding", line=_line_of(data, exc.start))) from None


def _separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda k: (counts[k], k == ","))


def _unique_names(names: list[str]) -> tuple[list[str], list[str]]:
    seen: dict[str, int] = {}
    out, dups = [], []
    for raw in names:
        name = raw.strip()
        key = name.casefold()
        if key in seen:
            seen[key] += 1
            dups.append(name)
            name = f"{name} ({seen[key]})"
        else:
            seen[key] = 1
        out.append(name)
    return out, dups


def read_table(path: Path, encoding: str | None = None) -> RawTable:
    """Read one CSV file as text columns.

    Raises
    ------
    CalibrationError
        The file cannot be read, decoded or split into columns, or has no data rows.
    """
    file = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CalibrationError(Problem(file, f"cannot be read ({exc.strerror})", "check the export folder")) from None
    text, used = decode(data, file, encoding)
    if used == "utf-8":
        payload = data
    elif used == "utf-8-sig":
        payload = data[len(codecs.BOM_UTF8):]
    else:
        text = text.removeprefix("\ufeff")
        payload = text.encode("utf-8")
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not first_line.strip():
        raise CalibrationError(Problem(file, "is empty or has no header line", "export the table with its header",
                                       line=1))
    sep = _separator(first_line)
    header = next(csv.reader([first_line], delimiter=sep))
    names, dups = _unique_names(header)
    malformed: list[int] = []

    def _bad_row(row: pacsv.InvalidRow) -> str:
        malformed.append(int(row.number) - 1 if row.number is not None else -1)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(payload),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, invalid_row_handler=_bad_row),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise CalibrationError(Problem(file, f"cannot be split into columns ({exc})",
                                       "export it again as CSV with one header line")) from None
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    if malformed and all(m >= 0 for m in malformed):
        kept = np.setdiff1d(np.arange(1, len(frame) + len(malformed) + 1), np.asarray(malformed))
    else:
        kept = np.arange(1, len(frame) + 1)
    frame["_row"] = kept[: len(frame)]
    return RawTable(file=file, frame=frame, encoding=used, separator=sep, duplicate_headers=dups,
                    malformed_rows=malformed)


def resolve_column(table: RawTable, spec: Column | None, key: str, *, required: bool = False) -> str | None:
    """The frame column a mapping entry names (first alternative present, case-insensitive), or None.

    Raises
    ------
    CalibrationError
        A required column is missing (the message lists the file's columns).
    """
    if spec is None:
        if required:
            raise CalibrationError(Problem("mapping", f"'{key}' is required", f"name the column of {key}",
                                           column=key))
        return None
    wanted = [spec] if isinstance(spec, str) else list(spec)
    lookup = {str(c).strip().casefold(): str(c) for c in table.frame.columns if c != "_row"}
    for name in wanted:
        hit = lookup.get(name.strip().casefold())
        if hit is not None:
            return hit
    if required:
        cols = [str(c) for c in table.frame.columns if c != "_row"]
        raise CalibrationError(Problem(table.file, f"has no column {' or '.join(repr(w) for w in wanted)} "
                                       f"(mapping key '{key}')", f"its columns are: {', '.join(cols[:30])}; "
                                       "fix the mapping or choose another --preset", column=wanted[0]))
    return None


def _arrow(s: pd.Series) -> pa.Array:
    """The column as one pyarrow string array, blanks (empty or spaces only) as nulls."""
    arr = pa.array(s.astype(pd.StringDtype("pyarrow")), type=pa.string())
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _blank(s: pd.Series) -> np.ndarray:
    return (s.isna() | (s.str.strip() == "")).to_numpy(dtype=bool)


_CURRENCY_SIGNS = r"[$€£¥₹₩¢₽₺₪]|R\$|CHF|US\$"
_COMMA_DECIMAL = r"^-?[\d.]*\d,\d{1,2}$|^-?\d+,\d{4,}$"
_DOT_DECIMAL = r"^-?[\d,]*\d\.\d{1,2}$|^-?\d+\.\d{4,}$"


def _plain_numbers(s: pd.Series) -> np.ndarray | None:
    """Every non-blank cell a plain number (``1234.5``): parsed by pyarrow at once; None otherwise."""
    try:
        values = pc.cast(_arrow(s), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out: np.ndarray = values.to_numpy(zero_copy_only=False).astype(float)
    return out


def parse_numbers(s: pd.Series, decimal: str = "auto", separator: str = ",") -> tuple[np.ndarray, np.ndarray, str]:
    """Parse amounts written as people and CRMs write them; return values (NaN = blank or bad), a mask of bad
    non-blank cells and the decimal mark used.

    Examples
    --------
    >>> v, bad, mark = parse_numbers(pd.Series(["$2K", "$1,932.00", "(50)", "EUR 3.5M", "", "n/a"]))
    >>> v.tolist()[:4], bad.tolist(), mark
    ([2000.0, 1932.0, -50.0, 3500000.0], [False, False, False, False, False, True], '.')
    >>> parse_numbers(pd.Series(["1.234,50 €", "12,5"]))[0].tolist()
    [1234.5, 12.5]
    """
    plain = _plain_numbers(s) if decimal == "." or (decimal == "auto" and separator != ";") else None
    if plain is not None:
        return plain, np.zeros(len(s), dtype=bool), "."
    blank = _blank(s)
    t = s.astype("string").fillna("").str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    negative = t.str.match(r"^\(.*\)$").fillna(False).to_numpy(dtype=bool)
    t = t.str.strip("()")
    t = t.str.replace(r"^[A-Za-z]{3}(?=[-+\d.,$€£¥])|(?<=[\d.,])[A-Za-z]{3}$", "", regex=True)
    t = t.str.replace(_CURRENCY_SIGNS, "", regex=True)
    suffix = t.str.extract(r"(?i)(?<=\d)([kmb])$", expand=False).str.lower()
    scale = suffix.map({"k": 1e3, "m": 1e6, "b": 1e9}).astype("float64").fillna(1.0).to_numpy(dtype=float)
    t = t.str.replace(r"(?i)(?<=\d)[kmb]$", "", regex=True)
    mark = decimal
    if mark == "auto":
        comma = bool(t.str.contains(_COMMA_DECIMAL, regex=True).any())
        dot = bool(t.str.contains(_DOT_DECIMAL, regex=True).any())
        if comma and dot:
            first = t[t.str.contains(_COMMA_DECIMAL, regex=True).fillna(False)].iloc[0]
            raise CalibrationError(Problem("amounts", "mix decimal commas and decimal points",
                                           "set decimal = \",\" or \".\" in a --mapping", value=str(first)))
        mark = "," if comma else "." if dot else ("," if separator == ";" else ".")
    if mark == ",":
        t = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        t = t.str.replace(",", "", regex=False)
    # A string column converts to a nullable numeric column; pandas 2.2.0 turns its NA into NaN only when told to.
    values = pd.to_numeric(t.where(~pd.Series(blank, index=t.index), None), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan)
    bad = ~blank & np.isnan(values)
    values = np.where(negative, -values, values) * scale
    return values, bad, mark


_TRUE = {"1", "true", "t", "yes", "y", "wahr", "x", "1.0"}
_FALSE = {"0", "false", "f", "no", "n", "falsch", "0.0"}


def parse_booleans(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse flags; return a float array (1, 0, NaN for blank or bad) and a mask of bad non-blank cells.

    Examples
    --------
    >>> v, bad = parse_booleans(pd.Series(["TRUE", "0", "", "maybe"]))
    >>> v.tolist()[:2], bad.tolist()
    ([1.0, 0.0], [False, False, False, True])
    """
    blank = _blank(s)
    codes, uniques = pd.factorize(s.astype(pd.StringDtype("pyarrow")).fillna(""))
    keys = [str(u).strip().casefold() for u in uniques]
    true_of = np.array([k in _TRUE for k in keys] + [False])
    false_of = np.array([k in _FALSE for k in keys] + [False])
    pos = np.where(codes < 0, len(keys), codes)
    is_true, is_false = true_of[pos], false_of[pos]
    out = np.where(is_true, 1.0, np.where(is_false, 0.0, np.nan))
    return out, ~blank & ~is_true & ~is_false


_DATE_FORMATS = ["ISO8601", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%y", "%d/%m/%y", "%d.%m.%y", "%Y/%m/%d",
                 "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M", "%m/%d/%Y %I:%M %p", "%d/%m/%Y %I:%M %p",
                 "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S"]
_DAY_FIRST = {"%d/%m/%Y", "%d.%m.%Y", "%d/%m/%y", "%d.%m.%y", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M",
              "%d/%m/%Y %I:%M %p", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S"}


def _to_datetime(values: pd.Series, fmt: str) -> pd.Series:
    out = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
    return out.dt.tz_convert(None)


def _iso_dates(s: pd.Series) -> np.ndarray | None:
    """Every non-blank cell an ISO 8601 date or timestamp: parsed by pyarrow at once (to naive UTC); None
    otherwise."""
    arr = _arrow(s)
    for kind in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
        try:
            parsed = pc.cast(arr, kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        if kind.tz is not None:
            parsed = pc.cast(parsed, pa.timestamp("ns"))
        out: np.ndarray = parsed.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
        return out
    return None


def parse_dates(s: pd.Series, fmt: str = "auto", day_first: bool = False) -> tuple[np.ndarray, np.ndarray, str]:
    """Parse dates or timestamps (to naive UTC); return datetime64 values (NaT = blank or bad), a mask of bad
    non-blank cells and the format used. Each distinct text is parsed once, so millions of rows that share a
    few thousand dates are quick.

    Examples
    --------
    >>> v, bad, f = parse_dates(pd.Series(["03/31/2017", "1/5/2017", ""]))
    >>> [str(x)[:10] for x in v[:2]], bad.tolist(), f
    (['2017-03-31', '2017-01-05'], [False, False, False], '%m/%d/%Y')
    """
    if fmt in ("auto", "ISO8601"):
        fast = _iso_dates(s)
        if fast is not None:
            return fast, np.zeros(len(s), dtype=bool), "ISO8601"
    blank = _blank(s)
    text = s.astype(pd.StringDtype("pyarrow")).fillna("").str.strip()
    codes, uniques = pd.factorize(text)
    uniq = pd.Series(uniques.astype(str))
    filled = uniq != ""
    if not filled.any():
        return np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]"), np.zeros(len(s), bool), fmt
    formats = _DATE_FORMATS if fmt == "auto" else [fmt]
    best: tuple[int, int, str, pd.Series] | None = None
    for k, f in enumerate(formats):
        parsed = _to_datetime(uniq.where(filled, None), f)
        fails = int((filled & parsed.isna()).sum())
        prefer = 0 if (f in _DAY_FIRST) == day_first else 1
        rank = (fails, prefer if fails == 0 else k, f, parsed)
        if best is None or rank[:2] < best[:2]:
            best = rank
        if fails == 0 and f == "ISO8601":
            break
    assert best is not None
    _, _, used, parsed = best
    values = parsed.to_numpy(dtype="datetime64[ns]")[codes]
    values[codes < 0] = np.datetime64("NaT")
    bad = ~blank & np.isnat(values)
    return values, bad, used
