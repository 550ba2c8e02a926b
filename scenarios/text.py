"""Reading the text files planners export from spreadsheets: encodings, separators and decimal marks.

A file with a byte-order mark is read in the encoding the mark names: UTF-8 (Excel's "CSV UTF-8"), UTF-16 (Excel's
"Unicode Text", tab-separated) or UTF-32. A file without one is read as UTF-8 when it is valid UTF-8; otherwise in
the encoding the user names (``--encoding`` on the command line, ``encoding=`` in Python), and without a name the
error says which encoding the bytes look like, so the planner can re-save the file or name it.

The guess is a documented heuristic, not a general detector: each candidate a spreadsheet on Windows writes in
some locale (GBK, Shift-JIS, CP949, Big5, Windows-1251/1253/1250/1252/1254, UTF-16 without a mark) decodes the
bytes, and the share of non-ASCII characters that are common letters of that encoding's script, in words of one
script, scores it. A general detector (charset-normalizer 3.5) was measured on short CSVs and named a
Windows-1252 "Müller" file Windows-1250 and a GBK "王伟,李娜" file Korean, so it is not used. A regional code
page that reads the file exactly as well as the common one (Windows-1250 and -1252 read "Müller" alike) is not
named; encodings of different scripts that fit equally well are all named (GBK and CP949 read Korean syllables
as common Chinese characters, and short Greek and Cyrillic texts read as each other).

A CSV's separator is recognised from its header row (``,`` or, when the header has only one field that way,
``;`` or a tab), since every table's column names are known and contain neither. The decimal mark is never
guessed, because ``1,250`` means 1.25 in one locale and 1250 in another: numbers use ``.`` unless the user passes
``decimal=","`` (``--decimal ,``); a file that looks like it uses ``,`` gets an error that says so.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.errors import Problem, ScenarioError

__all__ = ["CsvRows", "TextFormat", "decimal_problem", "decode", "guess_encodings", "parse_numbers",
           "read_rows"]


@dataclass(frozen=True)
class TextFormat:
    """How to read input text files that are not UTF-8, and which decimal mark their numbers use.

    Parameters
    ----------
    encoding
        Encoding of files that carry no byte-order mark and are not valid UTF-8 (e.g. ``gbk``, ``cp1252``,
        ``utf-16-le``); None = such files are refused with a message naming the encoding they look like. Files
        that are valid UTF-8 are read as UTF-8 whatever this says, so one setting serves a command that reads a
        GBK table next to a UTF-8 scenario.
    decimal
        ``.`` (default) or ``,``: the decimal mark of files separated by ``;`` or tabs (a European spreadsheet
        export). Comma-separated files always use ``.``, as every spreadsheet writes them, so one setting serves
        a European table next to the tool's own files. With ``,`` a ``.`` in a number is an error rather than a
        thousands separator silently dropped.

    Examples
    --------
    >>> TextFormat(encoding="gbk", decimal=",")
    TextFormat(encoding='gbk', decimal=',')
    >>> TextFormat(encoding="klingon")
    Traceback (most recent call last):
    ...
    scenarios.errors.ScenarioError: --encoding: 'klingon' is not an encoding Python can read (value 'klingon'). \
Fix: use a name such as utf-8, gbk, cp1252, utf-16, cp932 (Shift-JIS) or big5
    """

    encoding: str | None = None
    decimal: str = "."

    def __post_init__(self) -> None:
        if self.encoding is not None:
            try:
                info = codecs.lookup(self.encoding)
            except LookupError:
                info = None
            if info is None or not getattr(info, "_is_text_encoding", True):
                raise ScenarioError(Problem("--encoding", f"{self.encoding!r} is not an encoding Python can read",
                                            "use a name such as utf-8, gbk, cp1252, utf-16, cp932 (Shift-JIS) or "
                                            "big5", value=self.encoding))
        if self.decimal not in (".", ","):
            raise ScenarioError(Problem("--decimal", f"{self.decimal!r} is not a decimal mark",
                                        "use '.' or ','", value=self.decimal))

    def decimal_for(self, sep: str) -> str:
        """The decimal mark of a file with separator ``sep``.

        Examples
        --------
        >>> TextFormat(decimal=",").decimal_for(";"), TextFormat(decimal=",").decimal_for(",")
        (',', '.')
        """
        return "." if sep == "," else self.decimal


# Longest marks first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def _line_of(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def decode(data: bytes, file: str, text_format: TextFormat | None = None) -> str:
    """The text of a file, read as described in the module docstring.

    Raises
    ------
    ScenarioError
        When the file is not UTF-8 and no encoding was named (the message names the encoding it looks like), when
        it is not valid in the named encoding either, or when it holds NUL characters (a binary file).

    Examples
    --------
    >>> decode("rep_id,name\\nr1,Müller\\n".encode("utf-16"), "reps.csv")
    'rep_id,name\\nr1,Müller\\n'
    >>> decode("rep_id,name\\nr1,王伟\\n".encode("gbk"), "reps.csv")
    Traceback (most recent call last):
    ...
    scenarios.errors.ScenarioError: reps.csv: is not UTF-8; it looks like GBK (Chinese). Fix: re-save it as UTF-8 \
or pass --encoding gbk
    >>> decode("rep_id,name\\nr1,王伟\\n".encode("gbk"), "reps.csv", TextFormat(encoding="gbk"))
    'rep_id,name\\nr1,王伟\\n'
    """
    fmt = text_format or TextFormat()
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ScenarioError(Problem(
                    file, f"starts with a {label} byte-order mark but is not valid {label} text "
                          f"(line {_line_of(data, exc.start)})",
                    "re-save it as UTF-8 (Excel: Save As 'CSV UTF-8')")) from None
            return _no_nul(text, file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    else:
        if "\x00" not in text:
            return text
        first_bad = text.index("\x00")
    if fmt.encoding is not None:
        try:
            text = data.decode(fmt.encoding)
        except UnicodeDecodeError as exc:
            guesses = guess_encodings(data)
            hint = f"; it looks like {_names(guesses)}" if guesses else ""
            raise ScenarioError(Problem(
                file, f"is neither UTF-8 nor valid {fmt.encoding} (line {_line_of(data, exc.start)}){hint}",
                _fix(guesses) if guesses else "re-save it as UTF-8, or pass the --encoding it was saved in")) from None
        return _no_nul(text, file)
    guesses = guess_encodings(data)
    if guesses:
        raise ScenarioError(Problem(file, f"is not UTF-8; it looks like {_names(guesses)}", _fix(guesses)))
    if b"\x00" in data:
        raise ScenarioError(Problem(file, "contains NUL bytes, so it is not a text CSV",
                                    "export the table again as CSV"))
    raise ScenarioError(Problem(
        file, f"is not UTF-8 and its encoding is not recognised (first unreadable byte on line "
              f"{_line_of(data, first_bad)})",
        "re-save it as UTF-8 (Excel: Save As 'CSV UTF-8'), or pass --encoding with the encoding it was saved in"))


def _no_nul(text: str, file: str) -> str:
    if "\x00" in text:
        raise ScenarioError(Problem(file, "contains NUL characters, so it is not a text CSV",
                                    "export the table again as CSV"))
    return text


def _names(guesses: list[tuple[str, str]]) -> str:
    return " or ".join(label for _, label in guesses)


def _fix(guesses: list[tuple[str, str]]) -> str:
    if len(guesses) == 1:
        return f"re-save it as UTF-8 or pass --encoding {guesses[0][0]}"
    options = " or ".join(f"--encoding {codec} ({label})" for codec, label in guesses)
    return f"re-save it as UTF-8, or pass the one that matches its language: {options}"


# --- the encoding guess -------------------------------------------------------------------------------------------

_LATIN_SYMBOLS = frozenset("€£¥§°±–—‘’‚“”„…•·×÷«»¿¡ªº©®™\u00a0")
_CYRILLIC_SYMBOLS = frozenset("№«»–—„“”…€\u00a0")
_GREEK_SYMBOLS = frozenset("«»–—‘’“”…€΄΅\u00a0")


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    for prefix, script in (("LATIN", "latin"), ("CYRILLIC", "cyrillic"), ("GREEK", "greek"),
                           ("CJK UNIFIED IDEOGRAPH", "han"), ("HIRAGANA", "kana"), ("KATAKANA", "kana"),
                           ("HANGUL SYLLABLE", "hangul")):
        if name.startswith(prefix):
            return script
    return "other"


def _cjk_symbol(ch: str) -> bool:
    code = ord(ch)
    return 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E or ch in "·—…‘’“”"


def _two_bytes(ch: str, codec: str, leads: tuple[int, int] | None = None) -> bool:
    """``ch`` is one double-byte character of ``codec`` (with a lead byte in ``leads`` when given)."""
    try:
        raw = ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return len(raw) == 2 and (leads is None or leads[0] <= raw[0] <= leads[1])


def _cjk_common(codec: str, frequent: dict[str, tuple[int, int] | None]) -> Callable[[str], bool]:
    """Common letters of a double-byte code page: the frequent block of each main script (e.g. GB2312 level 1),
    any double-byte letter of the other scripts it holds (Cyrillic and Greek names in a Chinese file)."""
    def common(ch: str) -> bool:
        script = _script(ch)
        if script in frequent:
            leads = frequent[script]
            return leads is None or _two_bytes(ch, codec, leads)
        return _two_bytes(ch, codec)
    return common


def _any_word(word: str) -> bool:
    return True


def _latin_word(word: str) -> bool:
    """A word made only of accented letters is another script read as Latin."""
    return len(word) <= 2 or any(ch.isascii() for ch in word)


def _cyrillic_word(word: str) -> bool:
    """A Cyrillic letter inside a Latin word is Latin bytes read in the wrong code page."""
    return not any(ch.isascii() for ch in word)


def _greek_word(word: str) -> bool:
    """As for Cyrillic; and the final sigma stands only at the end of a word."""
    return _cyrillic_word(word) and "ς" not in word[:-1]


@dataclass(frozen=True)
class _Candidate:
    codec: str
    label: str
    scripts: frozenset[str]
    symbols: Callable[[str], bool]
    common: Callable[[str], bool]  # a letter that is frequent in text of this encoding's locale
    word_ok: Callable[[str], bool] = _any_word
    defers_to: str | None = None  # dropped when this more common encoding fits as well


def _latin_common(rare: str) -> Callable[[str], bool]:
    return lambda ch: ch not in rare


_CJK_SCRIPTS = frozenset({"cyrillic", "greek"})

_CANDIDATES: tuple[_Candidate, ...] = (
    _Candidate("gbk", "GBK (Chinese)", _CJK_SCRIPTS | {"han", "kana"}, _cjk_symbol,
               _cjk_common("gb2312", {"han": (0xB0, 0xD7)})),
    _Candidate("gb18030", "GB18030 (Chinese)", _CJK_SCRIPTS | {"han", "kana"}, _cjk_symbol,
               _cjk_common("gb2312", {"han": (0xB0, 0xD7)}), defers_to="gbk"),
    _Candidate("cp932", "Shift-JIS (Japanese)", _CJK_SCRIPTS | {"han", "kana"}, _cjk_symbol,
               _cjk_common("cp932", {"han": (0x88, 0x98), "kana": None})),
    _Candidate("cp949", "CP949 (Korean)", _CJK_SCRIPTS | {"hangul"}, _cjk_symbol,
               _cjk_common("euc_kr", {"hangul": (0xB0, 0xC8)})),
    _Candidate("big5", "Big5 (Traditional Chinese)", _CJK_SCRIPTS | {"han"}, _cjk_symbol,
               _cjk_common("big5", {"han": (0xA4, 0xC6)})),
    _Candidate("cp1251", "Windows-1251 (Cyrillic)", frozenset({"cyrillic"}), _CYRILLIC_SYMBOLS.__contains__,
               _latin_common(""), _cyrillic_word),
    # Upsilon and iota with dialytika and tonos are rare letters where Cyrillic bytes land.
    _Candidate("cp1253", "Windows-1253 (Greek)", frozenset({"greek"}), _GREEK_SYMBOLS.__contains__,
               _latin_common("ΰΐ"), _greek_word),
    # Icelandic letters stand where Windows-1254 has the Turkish ones; they are rare outside Iceland.
    _Candidate("cp1252", "Windows-1252 (Western European)", frozenset({"latin"}), _LATIN_SYMBOLS.__contains__,
               _latin_common("ÐðÝýÞþ"), _latin_word),
    _Candidate("cp1250", "Windows-1250 (Central European)", frozenset({"latin"}), _LATIN_SYMBOLS.__contains__,
               _latin_common(""), _latin_word, defers_to="cp1252"),
    _Candidate("cp1254", "Windows-1254 (Turkish)", frozenset({"latin"}), _LATIN_SYMBOLS.__contains__,
               _latin_common(""), _latin_word, defers_to="cp1252"),
)
_SAMPLE_BYTES = 200_000
_MIN_SCORE = 0.8
_TIE = 0.02


def _plausibility(text: str, cand: _Candidate) -> float:
    """Share of the non-ASCII characters that are common letters of the candidate's script in words of one script
    (plus its usual punctuation); 0 when there are none."""
    total = good = 0
    for word in re.split(r"([^\W\d_]+)", text):
        non_ascii = [ch for ch in word if ord(ch) > 127]
        if not non_ascii:
            continue
        total += len(non_ascii)
        if not word[0].isalpha():  # between words: punctuation and symbols
            good += sum(1 for ch in non_ascii if cand.symbols(ch))
            continue
        if not {_script(ch) for ch in non_ascii} <= cand.scripts or not cand.word_ok(word):
            continue
        good += sum(1 for ch in non_ascii if cand.common(ch))
    return good / total if total else 0.0


def guess_encodings(data: bytes) -> list[tuple[str, str]]:
    """The encodings ``data`` most plausibly uses, as ``(codec, label)``: one, or several of different scripts that
    fit equally well; empty when none fits.

    Examples
    --------
    >>> guess_encodings("name\\nMüller\\nGärtner\\n".encode("cp1252"))
    [('cp1252', 'Windows-1252 (Western European)')]
    >>> guess_encodings("name\\nИванов Пётр\\n".encode("cp1251"))
    [('cp1251', 'Windows-1251 (Cyrillic)')]
    >>> guess_encodings("rep_id\\nr1\\n".encode("utf-16-le"))
    [('utf-16-le', 'UTF-16 LE without a byte-order mark')]
    """
    sample = data[:_SAMPLE_BYTES]
    if len(sample) < len(data) and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return [utf16]
    scored: list[tuple[float, _Candidate]] = []
    for cand in _CANDIDATES:
        try:
            text = sample.decode(cand.codec)
        except UnicodeDecodeError:
            continue
        scored.append((_plausibility(text, cand), cand))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    if best < _MIN_SCORE:
        return []
    tied = [cand for score, cand in scored if score >= best - _TIE]
    codecs_tied = {c.codec for c in tied}
    return [(c.codec, c.label) for c in tied if c.defers_to not in codecs_tied]


def _utf16_without_bom(sample: bytes) -> tuple[str, str] | None:
    """UTF-16 text of mostly Latin characters has a NUL in every other byte."""
    even, odd = sample[0::2], sample[1::2]
    if len(sample) < 4:
        return None
    for zeros, codec, label in ((odd, "utf-16-le", "UTF-16 LE"), (even, "utf-16-be", "UTF-16 BE")):
        others = even if zeros is odd else odd
        if zeros.count(0) > 0.6 * len(zeros) and others.count(0) < 0.05 * len(others):
            try:
                sample[: len(sample) // 2 * 2].decode(codec)
            except UnicodeDecodeError:
                continue
            return codec, f"{label} without a byte-order mark"
    return None


# --- CSV rows -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CsvRows:
    """A CSV file split into cells: the header, the non-blank data rows and the file line each row starts on.

    ``sep`` is the separator recognised from the header row.
    """

    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    sep: str


_SEPARATORS = (",", ";", "\t")
_SEP_NAMES = {",": "','", ";": "';'", "\t": "a tab"}


def _separator(text: str) -> str:
    first = text.split("\n", 1)[0]
    best, fields = ",", 1
    for sep in _SEPARATORS:
        try:
            n = len(next(csv.reader([first], delimiter=sep)))
        except (csv.Error, StopIteration):
            continue
        if sep == "," and n > 1:
            return ","
        if n > fields:
            best, fields = sep, n
    return best


def read_rows(text: str, file: str) -> CsvRows:
    """Split CSV text into rows with their file lines, refusing ragged rows and broken quoting.

    Blank rows are skipped; header names are stripped of spaces; the separator is ``,``, or ``;``/tab when the
    header has a single field with commas (see the module docstring).

    Examples
    --------
    >>> r = read_rows("rep_id;name\\nr1;Müller\\n\\nr2;Li\\n", "reps.csv")
    >>> r.header, r.rows, r.lines, r.sep
    (['rep_id', 'name'], [['r1', 'Müller'], ['r2', 'Li']], [2, 4], ';')
    """
    sep = _separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    header: list[str] | None = None
    try:
        for row in reader:
            if header is None:
                header = [h.strip() for h in row]
                continue
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                fix = "make every row have one value per header column (empty cells are fine)"
                if sep == "," and len(row) > len(header):
                    fix += ("; a number written with a decimal comma splits into two fields unless it is quoted: "
                            "save the file with '.' as decimal mark")
                raise ScenarioError(Problem(file, f"has {len(row)} fields but the header has {len(header)}", fix,
                                            line=reader.line_num))
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise ScenarioError(Problem(file, f"is not valid CSV ({exc})",
                                    "check quotes: a field with a separator or a quote must be quoted, "
                                    "and quotes inside doubled", line=reader.line_num)) from None
    return CsvRows(header=header or [], rows=rows, lines=lines, sep=sep)


# --- numbers ------------------------------------------------------------------------------------------------------

_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")


def parse_numbers(cells: list[str], decimal: str = ".") -> tuple[np.ndarray, np.ndarray]:
    """Numbers from stripped text cells: ``(values, bad)`` where empty cells are NaN and not bad, and cells that
    are not a plain number in the given decimal mark are NaN and bad. Non-finite values (``inf``, ``nan``) are bad.

    Examples
    --------
    >>> parse_numbers(["1250.5", "", "1e3", "x", "inf"])
    (array([1250.5,    nan, 1000. ,    nan,    nan]), array([False, False, False,  True,  True]))
    >>> parse_numbers(["1250,5", "7", "1.250,5"], decimal=",")[0]
    array([1250.5,    7. ,    nan])
    """
    arr = pd.Series(cells, dtype=object)
    empty = (arr == "").to_numpy()
    if decimal == ",":
        dotted = arr.str.contains(".", regex=False).to_numpy(dtype=bool)
        arr = arr.str.replace(",", ".", regex=False).where(~dotted, "x")
    nums = pd.to_numeric(arr.where(~empty, None), errors="coerce").to_numpy(dtype=np.float64, copy=True)
    bad = ~empty & ~np.isfinite(nums)
    nums[bad] = np.nan
    return nums, bad


def decimal_problem(cells: list[str], bad: np.ndarray, lines: list[int] | np.ndarray, file: str, column: str,
                    sep: str, decimal: str) -> tuple[Problem | None, np.ndarray]:
    """When unparseable numbers are numbers in the other decimal mark: one problem saying so (naming the first
    such cell) and the mask of those cells, so they need no message each; else ``(None, all False)``.

    Examples
    --------
    >>> p, mask = decimal_problem(["12,5", "x"], parse_numbers(["12,5", "x"])[1], [2, 3], "a.csv", "v", ";", ".")
    >>> print(p)  # doctest: +NORMALIZE_WHITESPACE
    a.csv line 2, column 'v': is not a number with '.' as decimal mark: the file looks like it uses ',' as decimal
    mark and ';' as separator (a European Excel export) (value '12,5'). Fix: re-save it with '.' as decimal mark
    (Excel: CSV UTF-8 in an English locale), or pass --decimal ','
    >>> mask
    array([ True, False])
    """
    series = pd.Series(cells, dtype=object)
    if decimal == ".":
        other = series.str.match(_DECIMAL_COMMA).to_numpy(dtype=bool) & bad
    else:
        dotted = series.str.contains(".", regex=False).to_numpy(dtype=bool)
        other = dotted & ~parse_numbers(cells, ".")[1] & (series != "").to_numpy() & bad
    if not other.any():
        return None, other
    pos = int(np.flatnonzero(other)[0])
    line, value = int(lines[pos]), cells[pos]
    if decimal == "." and sep == ",":
        return Problem(file, "is not a number: it has a decimal comma, which a comma-separated file cannot use",
                       "write the number with '.' as decimal mark", line=line, column=column, value=value), other
    if decimal == ".":
        where = " and ';' as separator (a European Excel export)" if sep == ";" else " (a European spreadsheet export)"
        return Problem(file, "is not a number with '.' as decimal mark: the file looks like it uses ',' as decimal "
                             f"mark{where}",
                       "re-save it with '.' as decimal mark (Excel: CSV UTF-8 in an English locale), or pass "
                       "--decimal ','", line=line, column=column, value=value), other
    return Problem(file, "has a '.' in a number although the decimal mark is ','",
                   "write numbers with ',' as decimal mark and no thousands separators (e.g. 1250,5), or leave out "
                   "--decimal ',' if the file uses '.'", line=line, column=column, value=value), other


def separator_name(sep: str) -> str:
    """The separator as people say it (``','``, ``';'``, ``a tab``)."""
    return _SEP_NAMES.get(sep, repr(sep))
