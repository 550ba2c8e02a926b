"""From the files of an export to the tidy long model, with every excluded or repaired row counted by reason.

Nothing is dropped silently: each rule below adds a line to the cleaning report (reason, file, action, rows, an
example row, column and value). ``--strict`` turns any line into an error (exit 2).

Reasons (action; rule):

- ``malformed_row`` (excluded): a row with more or fewer cells than the header.
- ``duplicate_header`` (repaired): a header name repeated in one file; later copies get a ``(2)`` suffix and the
  first is used.
- ``placeholder_id`` (excluded / repaired): an empty or placeholder deal id (``000000000000000AAA``) excludes the
  deal; a placeholder owner or account is cleared.
- ``duplicate_id`` (excluded): a deal id seen before in the file (the first row is kept).
- ``unknown_stage`` (excluded / repaired): a stage not in the mapping; a closed deal whose flags or status say
  won/lost is kept as won/lost.
- ``unreadable_value`` (repaired): a date, amount or flag that cannot be read is treated as missing (when more
  than 5 % of a column fails, the column is refused instead: it is mis-mapped or in an unknown format).
- ``negative_amount`` (repaired): a negative amount is treated as missing.
- ``product_spelling`` (repaired): a product that matches the products table only when spaces and case are
  ignored (``GTXPro`` for ``GTX Pro``).
- ``history_unknown_opportunity`` (excluded): a history row whose deal is not in the opportunities table.
- ``same_second_burst`` (excluded): several stage changes of one deal at the same instant; the last one in file
  order is kept.
- ``close_missing_in_history`` (repaired): a closed deal whose history never closes it gets a closing change on
  its close date.
- ``no_date`` (excluded): a deal with no usable date (it cannot be placed in time).
- ``close_before_create`` (excluded): a deal that closed before it was created.
- ``after_as_of`` (excluded / repaired): deals created after ``--as-of`` are excluded; changes after it are
  ignored (a deal closed later is open on that day).
- ``stale_open`` (excluded): an open deal older than the longest-lived deal that ever closed (a forgotten record,
  not a live deal).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from calibration.errors import CalibrationError, Problem
from calibration.mapping import Mapping, StageSpec, normalise
from calibration.model import CrmModel, as_of, day_end, first_last
from calibration.reading import (
    MAX_BAD_SHARE,
    RawTable,
    find_file,
    parse_booleans,
    parse_dates,
    parse_numbers,
    read_table,
    resolve_column,
)

__all__ = ["REASONS", "CleaningReport", "ReadInfo", "build_model"]

REASONS = {
    "malformed_row": "row with more or fewer cells than the header",
    "duplicate_header": "header name repeated in one file; the first copy is used",
    "placeholder_id": "empty or placeholder id",
    "duplicate_id": "deal id seen before in the file; the first row is kept",
    "unknown_stage": "stage not listed in the mapping",
    "unreadable_value": "date, amount or flag that cannot be read; treated as missing",
    "negative_amount": "negative amount; treated as missing",
    "product_spelling": "product matched to the products table ignoring spaces and case",
    "history_unknown_opportunity": "history row of a deal that is not in the opportunities table",
    "same_second_burst": "several stage changes of one deal at the same instant; the last is kept",
    "close_missing_in_history": "closed deal whose history never closes it; closing change added on its close date",
    "no_date": "deal with no usable date; it cannot be placed in time",
    "close_before_create": "deal closed before it was created",
    "after_as_of": "dated after --as-of",
    "stale_open": "open deal older than the longest-lived deal that ever closed",
}
"""Every cleaning reason and what it means (the table in the module docstring says what is done)."""


@dataclass
class CleaningReport:
    """Excluded and repaired rows by reason (one entry per reason, file and action)."""

    entries: list[dict[str, object]] = field(default_factory=list)

    def add(self, reason: str, file: str, action: str, rows: int, *, example_row: int | None = None,
            column: str | None = None, value: object = None) -> None:
        """Record ``rows`` rows of ``file`` excluded or repaired for ``reason`` (nothing when ``rows`` is 0)."""
        if rows <= 0:
            return
        assert reason in REASONS, reason
        self.entries.append({"reason": reason, "file": file, "action": action, "rows": int(rows),
                             "example_row": example_row, "example_column": column,
                             "example_value": None if value is None else str(value), "meaning": REASONS[reason]})

    def frame(self) -> pd.DataFrame:
        """The report as a table (reason, file, action, rows, example_row, example_column, example_value,
        meaning)."""
        cols = ["reason", "file", "action", "rows", "example_row", "example_column", "example_value", "meaning"]
        return pd.DataFrame(self.entries, columns=cols)

    def counts(self) -> dict[str, int]:
        """Rows per reason, over files and actions."""
        out: dict[str, int] = {}
        for e in self.entries:
            out[str(e["reason"])] = out.get(str(e["reason"]), 0) + int(e["rows"])  # type: ignore[call-overload]
        return out

    def problems(self) -> list[Problem]:
        """One problem per entry, for ``--strict``."""
        out = []
        for e in self.entries:
            row = e["example_row"]
            out.append(Problem(str(e["file"]), f"{e['rows']} row(s) {e['action']}: {e['meaning']}",
                               "correct the export, or run without --strict to accept the cleaning report",
                               line=None if row is None else int(row) + 1,  # type: ignore[call-overload]
                               column=None if e["example_column"] is None else str(e["example_column"]),
                               value=None if e["example_value"] is None else str(e["example_value"])))
        return out


@dataclass(frozen=True)
class ReadInfo:
    """How each file was read (for the report and the manifest)."""

    files: dict[str, dict[str, object]]
    notes: list[str]


def _per_value(s: pd.Series, fn: Callable[[str], object]) -> pd.Series:
    """``fn`` applied once per distinct value of ``s`` (blank as ""), then spread back: exports repeat a few
    stage, status and product names over millions of rows."""
    codes, uniques = pd.factorize(s.fillna(""))
    mapped = np.array([fn(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[np.where(codes < 0, len(uniques), codes)], index=s.index, dtype=object)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_bad(report: CleaningReport, table: RawTable, column: str, bad: np.ndarray, values: pd.Series,
               kind: str) -> None:
    """Count unreadable cells; a column where many cells fail is mis-mapped or in an unknown format: an error."""
    n_bad = int(bad.sum())
    if not n_bad:
        return
    i = _first(bad)
    row = int(table.frame["_row"].iloc[i])
    filled = int((values.fillna("").str.strip() != "").sum())
    if n_bad > MAX_BAD_SHARE * max(filled, 1):
        hint = {"date": "write dates as YYYY-MM-DD or set [dates] format in a --mapping (e.g. \"%d.%m.%Y\")",
                "number": "write plain numbers, or check that the mapping names the amount column",
                "boolean": "write TRUE/FALSE or 1/0"}[kind]
        raise CalibrationError(Problem(table.file, f"{n_bad} of {filled} cells are not a {kind}", hint,
                                       line=row + 1, column=column, value=str(values.iloc[i])))
    report.add("unreadable_value", table.file, "repaired", n_bad, example_row=row, column=column,
               value=values.iloc[i])


def _text(table: RawTable, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series(pd.NA, index=table.frame.index, dtype="string")
    s = table.frame[column]
    if not isinstance(s.dtype, pd.StringDtype):
        s = s.astype(pd.StringDtype("pyarrow"))
    s = s.str.strip()
    return s.mask(s == "")


def _dates(report: CleaningReport, table: RawTable, column: str | None, mapping: Mapping) -> np.ndarray:
    if column is None:
        return np.full(len(table), np.datetime64("NaT"), dtype="datetime64[ns]")
    values, bad, _ = parse_dates(table.frame[column], mapping.dates.format, mapping.dates.day_first)
    _check_bad(report, table, column, bad, table.frame[column], "date")
    return values


def _read(folder: Path, spec: object, encoding: str | None, info: dict[str, dict[str, object]],
          report: CleaningReport) -> RawTable | None:
    path = find_file(folder, spec)  # type: ignore[arg-type]
    if path is None:
        return None
    table = read_table(path, encoding)
    info[table.file] = {"rows": len(table), "encoding": table.encoding, "separator": table.separator}
    if table.malformed_rows:
        bad = table.malformed_rows[0]
        report.add("malformed_row", table.file, "excluded", len(table.malformed_rows),
                   example_row=bad if bad >= 0 else None)
    if table.duplicate_headers:
        report.add("duplicate_header", table.file, "repaired", len(table.duplicate_headers),
                   column=table.duplicate_headers[0])
    return table


def _placeholder(s: pd.Series, mapping: Mapping) -> np.ndarray:
    marks = {p.casefold() for p in mapping.placeholder_ids}
    return s.fillna("").str.casefold().isin(marks).to_numpy(dtype=bool)


def _terminal(mapping: Mapping) -> dict[str, StageSpec]:
    """The won and lost stages (the first of each kind; an implicit one when the mapping lists none)."""
    out = {}
    for kind in ("won", "lost"):
        listed = [s for s in mapping.stages if s.kind == kind]
        out[kind] = listed[0] if listed else StageSpec(name=kind.capitalize(), kind=kind)  # type: ignore[arg-type]
    return out


def _stage_entered_columns(table: RawTable, mapping: Mapping) -> dict[str, str]:
    """Stage name -> column of the date the deal entered it (explicit, then by header prefix)."""
    lookup = mapping.stage_lookup()
    out: dict[str, str] = {}
    for stage, column_spec in mapping.opportunities.stage_entered.items():
        col = resolve_column(table, column_spec, f"opportunities.stage_entered.{stage}", required=True)
        assert col is not None
        out[lookup[normalise(stage)].name] = col
    prefix = mapping.opportunities.stage_entered_prefix
    if prefix:
        for col in table.frame.columns:
            name = str(col)
            if not name.casefold().startswith(prefix.casefold()):
                continue
            rest = name[len(prefix):].strip().strip('"').strip()
            if rest.endswith(")") and "(" in rest:  # HubSpot adds the pipeline: "Closed Won (Sales Pipeline)"
                rest = rest[: rest.rfind("(")].strip().strip('"')
            found = lookup.get(normalise(rest))
            if found is not None and found.name not in out:
                out[found.name] = name
    return out


def _opportunities(table: RawTable, mapping: Mapping, report: CleaningReport, products: pd.DataFrame,
                   base_currency: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Typed opportunities (one row per kept deal) and the dated stage entries found on their rows."""
    m = mapping.opportunities
    file = table.file
    col = {key: resolve_column(table, getattr(m, key), f"opportunities.{key}", required=key in ("id", "stage"))
           for key in ("id", "stage", "owner", "account", "product", "region", "amount", "currency", "created",
                       "closed", "is_closed", "is_won", "status")}
    rows = table.frame["_row"].to_numpy()
    ids = _text(table, col["id"])
    bad_id = ids.isna().to_numpy() | _placeholder(ids, mapping)
    if bad_id.any():
        i = _first(bad_id)
        report.add("placeholder_id", file, "excluded", int(bad_id.sum()), example_row=int(rows[i]),
                   column=col["id"], value=ids.iloc[i] if not pd.isna(ids.iloc[i]) else "")
    dup = ids.duplicated(keep="first").to_numpy() & ~bad_id
    if dup.any():
        i = _first(dup)
        report.add("duplicate_id", file, "excluded", int(dup.sum()), example_row=int(rows[i]), column=col["id"],
                   value=ids.iloc[i])
    frame = pd.DataFrame({"opportunity_id": ids, "row": rows})
    for key in ("owner", "account"):
        s = _text(table, col[key])
        ph = _placeholder(s, mapping)
        if ph.any():
            i = _first(ph)
            report.add("placeholder_id", file, "repaired", int(ph.sum()), example_row=int(rows[i]), column=col[key],
                       value=s.iloc[i])
        frame[key] = s.mask(pd.Series(ph, index=s.index))
    frame["region"] = _text(table, col["region"])
    product = _text(table, col["product"])
    if len(products) and col["product"] is not None:
        known = {normalise(p): p for p in products.index}
        loose = {normalise(p).replace(" ", ""): p for p in products.index}
        alias = {normalise(k): v for k, v in mapping.product_aliases.items()}
        keys = _per_value(product, normalise).astype(str)
        exact = keys.map(known)
        aliased = keys.map(alias)
        fuzzy = keys.str.replace(" ", "", regex=False).map(loose)
        repaired = exact.isna() & aliased.isna() & fuzzy.notna()
        if repaired.any():
            i = _first(repaired.to_numpy(dtype=bool))
            report.add("product_spelling", file, "repaired", int(repaired.sum()), example_row=int(rows[i]),
                       column=col["product"], value=product.iloc[i])
        found = exact.where(exact.notna(), aliased)
        found = found.where(found.notna(), fuzzy)
        product = found.where(found.notna(), product.astype(object)).astype("string")
    elif mapping.product_aliases:
        product = product.replace(mapping.product_aliases)
    frame["product"] = product

    # Outcome: a status column, else IsClosed/IsWon flags, else the stage's kind.
    lookup = mapping.stage_lookup()
    terminal = _terminal(mapping)
    stage_text = _text(table, col["stage"])
    stage_spec = _per_value(stage_text, lambda v: lookup.get(normalise(v)))
    stage_kind = _per_value(stage_text, lambda v: None if normalise(v) not in lookup else lookup[normalise(v)].kind)
    kind = pd.Series(stage_kind, dtype=object)
    if col["status"] is not None:
        status = _per_value(_text(table, col["status"]), normalise)
        status_kind = {normalise(v): k for k, vs in m.status_values.items() for v in vs}
        from_status = status.map(status_kind)
        kind = from_status.where(from_status.notna(), kind)
    if col["is_closed"] is not None:
        closed_flag, bad_c = parse_booleans(table.frame[col["is_closed"]])
        _check_bad(report, table, col["is_closed"], bad_c, table.frame[col["is_closed"]], "boolean")
        won_flag = np.full(len(table), np.nan)
        if col["is_won"] is not None:
            won_flag, bad_w = parse_booleans(table.frame[col["is_won"]])
            _check_bad(report, table, col["is_won"], bad_w, table.frame[col["is_won"]], "boolean")
        flag_kind = np.full(len(table), None, dtype=object)
        flag_kind[closed_flag == 0] = "open"
        flag_kind[(closed_flag == 1) & (won_flag == 1)] = "won"
        flag_kind[(closed_flag == 1) & (won_flag == 0)] = "lost"
        flag = pd.Series(flag_kind, index=kind.index, dtype=object)
        kind = flag.where(flag.notna(), kind)
    unknown = stage_spec.isna().to_numpy() & ~bad_id & ~dup
    rescued = unknown & kind.isin(["won", "lost"]).to_numpy()
    lost_rows = unknown & ~rescued
    if rescued.any():
        i = _first(rescued)
        report.add("unknown_stage", file, "repaired", int(rescued.sum()), example_row=int(rows[i]),
                   column=col["stage"], value=stage_text.iloc[i])
    if lost_rows.any():
        i = _first(lost_rows)
        report.add("unknown_stage", file, "excluded", int(lost_rows.sum()), example_row=int(rows[i]),
                   column=col["stage"], value=stage_text.iloc[i])
    stage_name = _per_value(stage_text, lambda v: None if normalise(v) not in lookup else lookup[normalise(v)].name)
    # A closed deal is in its won/lost stage whatever pipeline stage the export shows (Pipedrive keeps the last).
    for k in ("won", "lost"):
        stage_name = stage_name.where(kind != k, terminal[k].name)
    frame["stage"] = stage_name.astype(object)
    frame["kind"] = kind.astype(object)
    frame["created"] = _dates(report, table, col["created"], mapping)
    closed = _dates(report, table, col["closed"], mapping)
    frame["closed"] = np.where(frame["kind"].isin(["won", "lost"]).to_numpy(), closed,
                               np.datetime64("NaT")).astype("datetime64[ns]")

    amount = np.full(len(table), np.nan)
    if col["amount"] is not None:
        amount, bad_a, _ = parse_numbers(table.frame[col["amount"]], mapping.decimal, table.separator)
        _check_bad(report, table, col["amount"], bad_a, table.frame[col["amount"]], "number")
        neg = amount < 0
        if neg.any():
            i = _first(neg)
            report.add("negative_amount", file, "repaired", int(neg.sum()), example_row=int(rows[i]),
                       column=col["amount"], value=table.frame[col["amount"]].iloc[i])
            amount = np.where(neg, np.nan, amount)
    currency = base_currency
    if col["currency"] is not None:
        cur = _text(table, col["currency"]).fillna("").str.upper()
        if not currency:
            common = cur[cur != ""].value_counts()
            currency = str(common.index[0]) if len(common) else ""
        rates = {k.upper(): v for k, v in mapping.currency.rates.items()}
        rates[currency.upper()] = 1.0
        rate = cur.map(rates).astype("float64").to_numpy()
        rate = np.where((cur == "").to_numpy(), 1.0, rate)
        missing = np.isnan(rate) & ~np.isnan(amount) & ~bad_id & ~dup
        if missing.any():
            i = _first(missing)
            raise CalibrationError(Problem(file, f"amount in {cur.iloc[i]} has no conversion rate to {currency}",
                                           f"add {cur.iloc[i]} = <{currency} per {cur.iloc[i]}> under [currency.rates]"
                                           " in a --mapping", line=int(rows[i]) + 1, column=col["currency"],
                                           value=cur.iloc[i]))
        amount = amount * np.where(np.isnan(rate), 1.0, rate)
    frame["amount"] = amount
    keep = ~bad_id & ~dup & ~lost_rows

    entered = _stage_entered_columns(table, mapping)
    parts = []
    for stage, column in entered.items():
        values = _dates(report, table, column, mapping)
        ok = keep & ~np.isnat(values)
        parts.append(pd.DataFrame({"opportunity_id": ids.to_numpy(dtype=object, na_value="")[ok], "changed": values[ok],
                                   "stage": stage,
                                   "row": rows[ok]}))
    stage_dates = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {"opportunity_id": pd.Series(dtype=object), "changed": pd.Series(dtype="datetime64[ns]"),
         "stage": pd.Series(dtype=object), "row": pd.Series(dtype=np.int64)})
    out = frame.loc[keep].copy()
    # Plain Python strings from here on: membership tests and lookups against sets and indexes are hash-based.
    for key in ("opportunity_id", "owner", "account", "product", "region"):
        values = out[key].to_numpy(dtype=object, na_value=None)
        out[key] = values.astype(str) if key == "opportunity_id" else values
    return out.set_index("opportunity_id"), stage_dates, currency


def _history_table(table: RawTable, mapping: Mapping, known: pd.Index, report: CleaningReport) -> pd.DataFrame:
    h = mapping.history
    assert h is not None
    file = table.file
    col = {key: resolve_column(table, getattr(h, key), f"history.{key}",
                               required=key in ("opportunity_id", "changed", "stage"))
           for key in ("opportunity_id", "changed", "stage", "amount", "field")}
    frame = table.frame
    if col["field"] is not None:
        frame = frame[frame[col["field"]].astype("string").str.strip().str.casefold() == h.field_value.casefold()]
        table = dataclasses.replace(table, frame=frame)
    rows = table.frame["_row"].to_numpy()
    ids = _text(table, col["opportunity_id"])
    changed = _dates(report, table, col["changed"], mapping)
    lookup = mapping.stage_lookup()
    stage_text = _text(table, col["stage"])
    stage = _per_value(stage_text, lambda v: lookup[normalise(v)].name if normalise(v) in lookup else None)
    amount = np.full(len(table), np.nan)
    if col["amount"] is not None:
        amount, bad_a, _ = parse_numbers(table.frame[col["amount"]], mapping.decimal, table.separator)
        _check_bad(report, table, col["amount"], bad_a, table.frame[col["amount"]], "number")
        amount = np.where(amount < 0, np.nan, amount)
    position = pc.index_in(pa.array(ids.astype(pd.StringDtype("pyarrow")), type=pa.string()),
                           value_set=pa.array(known.to_numpy(dtype=object), type=pa.string()))
    deal = position.to_numpy(zero_copy_only=False)
    deal = np.where(np.isnan(deal.astype(float)), -1, deal).astype(np.int64)
    orphan = deal < 0
    if orphan.any():
        i = _first(orphan)
        report.add("history_unknown_opportunity", file, "excluded", int(orphan.sum()), example_row=int(rows[i]),
                   column=col["opportunity_id"], value=ids.iloc[i])
    unknown = stage.isna().to_numpy() & ~orphan
    if unknown.any():
        i = _first(unknown)
        report.add("unknown_stage", file, "excluded", int(unknown.sum()), example_row=int(rows[i]),
                   column=col["stage"], value=stage_text.iloc[i])
    undated = np.isnat(changed) & ~orphan & ~unknown
    if undated.any():
        i = _first(undated)
        report.add("no_date", file, "excluded", int(undated.sum()), example_row=int(rows[i]), column=col["changed"],
                   value=table.frame[col["changed"]].iloc[i])
    ok = ~orphan & ~unknown & ~undated
    return pd.DataFrame({"_deal": deal[ok], "changed": changed[ok],
                         "stage": stage.to_numpy()[ok], "amount": amount[ok], "row": rows[ok], "derived": False})


def _reference(table: RawTable | None, spec: object, keys: dict[str, str], mapping: Mapping) -> pd.DataFrame:
    """An owners/accounts/products table indexed by id, text columns only (price parsed as a number)."""
    if table is None or spec is None:
        return pd.DataFrame(columns=list(keys.values()))
    id_col = resolve_column(table, spec.id, "id", required=True)  # type: ignore[attr-defined]
    assert id_col is not None
    out = pd.DataFrame({"id": _text(table, id_col)})
    for key, name in keys.items():
        column = resolve_column(table, getattr(spec, key), key)
        if key == "price" and column is not None:
            out[name] = parse_numbers(table.frame[column], mapping.decimal, table.separator)[0]
        else:
            out[name] = _text(table, column)
    out = out[out["id"].notna()].drop_duplicates("id")
    out["id"] = out["id"].astype(str)
    return out.set_index("id")


def _collapse(mapping: Mapping) -> list[StageSpec]:
    terminal = _terminal(mapping)
    return [StageSpec(name="Open", kind="open", id="open"), terminal["won"], terminal["lost"]]


def build_model(folder: str | os.PathLike[str], mapping: Mapping, *, as_of_date: dt.date | None = None,
                encoding: str | None = None) -> tuple[CrmModel, CleaningReport, ReadInfo]:
    """Read an export folder through ``mapping`` into a ``CrmModel``, cleaning it by the rules of this module.

    Parameters
    ----------
    folder
        The export folder.
    mapping
        Files, columns, stages and formats (``load_mapping``).
    as_of_date
        The day the data describes; default the latest date found in the export.
    encoding
        Force one encoding for every file (default: detected per file).

    Raises
    ------
    CalibrationError
        Missing folder or opportunities file, a required column missing, a column that cannot be read, a
        currency without a rate: each names the file, row, column and value.
    """
    root = Path(folder)
    if not root.is_dir():
        raise CalibrationError(Problem(str(root), "is not a folder", "give the folder that holds the export's CSV "
                                       "files"))
    report = CleaningReport()
    info: dict[str, dict[str, object]] = {}
    notes: list[str] = []
    opp_table = _read(root, mapping.opportunities.file, encoding, info, report)
    if opp_table is None:
        names = ", ".join(sorted(p.name for p in root.iterdir() if p.is_file())[:20]) or "none"
        spec = mapping.opportunities.file
        raise CalibrationError(Problem(str(root), f"holds no opportunities file "
                                       f"{spec if isinstance(spec, str) else ' or '.join(spec)}",
                                       f"files found: {names}; choose the matching --preset or write a --mapping"))
    if len(opp_table) == 0:
        raise CalibrationError(Problem(opp_table.file, "has no data rows", "export the opportunities with their rows",
                                       line=2))
    tables = {}
    for key in ("owners", "accounts", "products", "history"):
        table_spec = getattr(mapping, key)
        tables[key] = None if table_spec is None else _read(root, table_spec.file, encoding, info, report)
        if table_spec is not None and tables[key] is None:
            notes.append(f"{key} table {table_spec.file} not found in the export; estimates that need it are pooled")
    owners = _reference(tables["owners"], mapping.owners, {"name": "name", "region": "region", "tier": "tier",
                                                            "manager": "manager"}, mapping)
    accounts = _reference(tables["accounts"], mapping.accounts, {"name": "name", "segment": "segment",
                                                                  "region": "region"}, mapping)
    products = _reference(tables["products"], mapping.products, {"price": "price"}, mapping)
    opps, stage_dates, currency = _opportunities(opp_table, mapping, report, products, mapping.currency.base)
    backwards = (opps["closed"] < opps["created"]).to_numpy()
    if backwards.any():
        i = _first(backwards)
        report.add("close_before_create", opp_table.file, "excluded", int(backwards.sum()),
                   example_row=int(opps["row"].iloc[i]), column=str(mapping.opportunities.closed),
                   value=f"created {opps['created'].iloc[i].date()}, closed {opps['closed'].iloc[i].date()}")
    all_ids = opps.index
    opps = opps[~backwards]
    if len(owners) and opps["region"].isna().all():
        opps["region"] = opps["owner"].map(owners["region"]).astype(object)
    if len(accounts) and opps["region"].isna().all() and accounts["region"].notna().any():
        opps["region"] = opps["account"].map(accounts["region"]).astype(object)

    lookup = mapping.stage_lookup()
    kind_of = {s.name: s.kind for s in mapping.stages} | {s.name: s.kind for s in _terminal(mapping).values()}
    stages = list(mapping.stages)
    for k, terminal_stage in _terminal(mapping).items():
        if all(s.kind != k for s in stages):
            stages.append(terminal_stage)
    has_table = tables["history"] is not None
    collapsed = not has_table and stage_dates.empty and len(mapping.open_stages) > 1
    first_open = mapping.open_stages[0].name
    created_stage = lookup[normalise(mapping.opportunities.created_stage)].name if \
        mapping.opportunities.created_stage else first_open
    if collapsed:
        stages = _collapse(mapping)
        kind_of["Open"] = "open"
        created_stage = "Open"
        opps["stage"] = opps["stage"].where(opps["kind"] != "open", "Open")
        notes.append("the export has no stage history: the funnel is one stage from creation to close")

    # History: the table when there is one, else rebuilt from the dates on the opportunity rows. Rows carry their
    # deal as an integer (its row in ``opps``): millions of text ids are looked up once, by pyarrow, and never
    # copied into Python strings.
    n = len(opps)
    parts = []
    with_table = np.zeros(n, dtype=bool)
    if has_table:
        assert tables["history"] is not None
        table_rows = _history_table(tables["history"], mapping, all_ids, report)
        keep_pos = np.cumsum(~backwards) - 1  # row in opps of each deal of all_ids (excluded ones dropped)
        table_rows = table_rows[~backwards[table_rows["_deal"].to_numpy()]]
        table_rows["_deal"] = keep_pos[table_rows["_deal"].to_numpy()]
        parts.append(table_rows)
        with_table = np.bincount(table_rows["_deal"].to_numpy(), minlength=n) > 0
    need = ~with_table
    sd_pos = opps.index.get_indexer(pd.Index(stage_dates["opportunity_id"].to_numpy(dtype=object)))
    sd_ok = (sd_pos >= 0) & need[np.maximum(sd_pos, 0)]
    parts.append(pd.DataFrame({"_deal": sd_pos[sd_ok], "changed": stage_dates["changed"].to_numpy()[sd_ok],
                               "stage": stage_dates["stage"].to_numpy()[sd_ok], "amount": np.nan,
                               "row": stage_dates["row"].to_numpy()[sd_ok], "derived": True}))
    created_pos = np.flatnonzero(need & opps["created"].notna().to_numpy())
    parts.append(pd.DataFrame({"_deal": created_pos, "changed": opps["created"].to_numpy()[created_pos],
                               "stage": created_stage, "amount": np.nan, "row": opps["row"].to_numpy()[created_pos],
                               "derived": True}))
    hist = pd.concat(parts, ignore_index=True)
    hist["kind"] = hist["stage"].map(kind_of)
    # A closed deal whose history never reaches won/lost closes on its close date.
    reached = np.bincount(hist.loc[hist["kind"] != "open", "_deal"].to_numpy(), minlength=n) > 0
    add_pos = np.flatnonzero((opps["kind"] != "open").to_numpy() & ~reached & opps["closed"].notna().to_numpy())
    in_table = with_table[add_pos]
    if in_table.any():
        report.add("close_missing_in_history", opp_table.file, "repaired", int(in_table.sum()),
                   example_row=int(opps["row"].to_numpy()[add_pos[in_table][0]]),
                   column=str(mapping.opportunities.closed))
    hist = pd.concat([hist, pd.DataFrame({"_deal": add_pos, "changed": opps["closed"].to_numpy()[add_pos],
                                          "stage": opps["stage"].to_numpy()[add_pos],
                                          "kind": opps["kind"].to_numpy()[add_pos], "amount": np.nan,
                                          "row": opps["row"].to_numpy()[add_pos], "derived": True})],
                     ignore_index=True)
    hist = hist[hist["changed"].notna()]
    order = {s.name: i for i, s in enumerate(stages)}
    hist["_order"] = hist["stage"].map(order).astype(int)
    hist["_seq"] = np.arange(len(hist))
    # Sorting by the deal's position in the opportunities table (an integer) instead of its text id is what keeps
    # millions of rows quick.
    hist = hist.iloc[np.lexsort((hist["_seq"].to_numpy(), hist["changed"].to_numpy(), hist["_deal"].to_numpy()))]
    # Derived rows of the same deal, day and stage are one fact written twice (Maven's engage_date is both the
    # creation and the "Engaging" date): keep one. Table rows at the same instant are a burst: keep the last.
    deal = hist["_deal"].to_numpy()
    when = hist["changed"].to_numpy()
    same = (deal[1:] == deal[:-1]) & (when[1:] == when[:-1])
    dup_stage = same & (hist["_order"].to_numpy()[1:] == hist["_order"].to_numpy()[:-1])
    burst = np.concatenate([same & ~dup_stage, [False]]) & ~hist["derived"].to_numpy()
    if burst.any():
        i = _first(burst)
        report.add("same_second_burst", tables["history"].file if has_table else opp_table.file,  # type: ignore[union-attr]
                   "excluded", int(burst.sum()), example_row=int(hist["row"].iloc[i]),
                   value=f"{opps.index[hist['_deal'].iloc[i]]} {hist['changed'].iloc[i]}")
    drop = np.concatenate([dup_stage, [False]]) | burst
    hist = hist[~drop]
    # A derived close on the same day as derived entries goes after them (funnel order breaks same-day ties).
    hist = hist.iloc[np.lexsort((hist["_order"].to_numpy(), hist["changed"].to_numpy(), hist["_deal"].to_numpy()))]
    # Consecutive rows in the same stage (amount or date edits) are not stage changes.
    ids = hist["_deal"].to_numpy()
    st = hist["_order"].to_numpy()
    repeat = np.concatenate([[False], (ids[1:] == ids[:-1]) & (st[1:] == st[:-1])])
    hist = hist[~repeat]

    # Deals that cannot be placed in time.
    deal = hist["_deal"].to_numpy()
    dated = np.bincount(deal, minlength=len(opps)) > 0
    if (~dated).any():
        i = _first(~dated)
        report.add("no_date", opp_table.file, "excluded", int((~dated).sum()), example_row=int(opps["row"].iloc[i]),
                   column=str(mapping.opportunities.created), value=f"opportunity {opps.index[i]}: no date")
    # History is sorted by deal, so each deal's first and last change sit at its group's two ends.
    starts = np.flatnonzero(np.r_[True, deal[1:] != deal[:-1]])
    ends = np.r_[starts[1:], len(deal)] - 1
    first = pd.Series(hist["changed"].to_numpy()[starts], index=opps.index[deal[starts]])
    last_kind = pd.Series(hist["kind"].to_numpy()[ends], index=first.index)
    last_time = pd.Series(hist["changed"].to_numpy()[ends], index=first.index)
    opps = opps[dated]
    opps["created"] = opps["created"].fillna(first.reindex(opps.index))
    close_time = last_time.where(last_kind != "open").reindex(opps.index)
    backwards = (close_time < opps["created"]).to_numpy()
    if backwards.any():
        i = _first(backwards)
        report.add("close_before_create", opp_table.file, "excluded", int(backwards.sum()),
                   example_row=int(opps["row"].iloc[i]), column=str(mapping.opportunities.closed),
                   value=f"created {opps['created'].iloc[i].date()}, closed {close_time.iloc[i].date()}")
        opps = opps[~backwards]
    kept = dated & ~_positions(backwards, dated)
    hist = hist[kept[deal]]
    new_position = np.cumsum(kept) - 1  # a kept deal's row in the filtered opportunities table
    # A closed deal without a close date on its row closes when its history says it did.
    opps["closed"] = opps["closed"].where(opps["kind"] == "open", opps["closed"].fillna(close_time.reindex(opps.index)))

    latest = max(pd.Timestamp(hist["changed"].max()).normalize(), pd.Timestamp(opps["created"].max()).normalize())
    observed_from = pd.Timestamp(mapping.observed_from) if mapping.observed_from is not None else None
    # Deal ids, stages and kinds repeat over millions of history rows: categorical columns keep them small and
    # make lookups, filters and comparisons work on integer codes.
    codes = new_position[hist["_deal"].to_numpy()]
    hist = hist.drop(columns=["_order", "_seq", "_deal"]).reset_index(drop=True)
    hist["opportunity_id"] = pd.Categorical.from_codes(codes, categories=opps.index)
    hist["stage"] = pd.Categorical(hist["stage"], categories=[s.name for s in stages])
    hist["kind"] = pd.Categorical(hist["kind"], categories=["open", "won", "lost"])
    model = CrmModel(opportunities=opps, history=hist,
                     stages=stages, owners=owners, accounts=accounts, products=products, as_of=latest,
                     observed_from=observed_from if observed_from is not None else latest, currency=currency,
                     collapsed=collapsed)
    if as_of_date is not None:
        day = pd.Timestamp(as_of_date)
        hist_file = tables["history"].file if tables["history"] is not None else None
        model = _cut(model, day, opp_table.file, hist_file, report) if day < latest else dataclasses.replace(
            model, as_of=day)
    if observed_from is None:
        start, truncated = _window_start(model)
        model = dataclasses.replace(model, observed_from=start)
        if truncated:
            notes.append(f"observation window starts {start.date()}: fewer deals were created before the first close "
                         "than the later rate predicts, so deals that closed earlier are missing (left truncation); "
                         "deals open on that day enter the estimates late")
        else:
            notes.append(f"observation window starts {start.date()} (the first deal created; the export looks "
                         "complete from then on)")
    model = _drop_stale(model, opp_table.file, report)
    return model, report, ReadInfo(files=info, notes=notes)


def _positions(mask: np.ndarray, dated: np.ndarray) -> np.ndarray:
    """``mask`` over the dated deals, spread back over every deal (False for the undated)."""
    out = np.zeros(len(dated), dtype=bool)
    out[np.flatnonzero(dated)] = mask
    return out


def _window_start(model: CrmModel) -> tuple[pd.Timestamp, bool]:
    """The first day the export covers completely, and whether it is truncated.

    An export that lacks the deals closed before some day (as Maven's does before March 2017) holds, from before
    its first close, only the deals that survived to it: far fewer than the creation rate after that day
    predicts. When the count created before the first close is below that prediction with Poisson p < 0.01, the
    window starts at the first close; otherwise at the first creation.
    """
    hist = model.history
    first_created = pd.Timestamp(model.opportunities["created"].min()).normalize()
    closes = hist.loc[hist["kind"] != "open", "changed"]
    if not len(closes):
        return first_created, False
    first_close = pd.Timestamp(closes.min()).normalize()
    before_days = (first_close - first_created).days
    after_days = (day_end(model.as_of) - first_close).days
    if before_days < 1 or after_days < 1:
        return first_created, False
    created = model.opportunities["created"]
    rate = float((created >= first_close).sum()) / after_days
    observed = int((created < first_close).sum())
    expected = rate * before_days
    truncated = observed < expected and float(stats.poisson.cdf(observed, expected)) < 0.01
    return (first_close, True) if truncated else (first_created, False)


def _cut(model: CrmModel, day: pd.Timestamp, file: str, history_file: str | None,
         report: CleaningReport) -> CrmModel:
    """Apply ``--as-of``: deals created later are excluded, deals closed later are open on that day, and later
    stage changes of the deals kept are ignored (each counted)."""
    end = day_end(day)
    snap = as_of(model, day)
    gone = model.opportunities.index.difference(snap.opportunities.index)
    if len(gone):
        ex = model.opportunities.loc[gone]
        report.add("after_as_of", file, "excluded", len(gone), example_row=int(ex["row"].iloc[0]),
                   value=f"created {ex['created'].iloc[0].date()}" if pd.notna(ex["created"].iloc[0]) else None)
    was = model.opportunities.loc[snap.opportunities.index, "kind"]
    reopened = snap.opportunities[(snap.opportunities["kind"] == "open").to_numpy() & (was != "open").to_numpy()]
    if len(reopened):
        report.add("after_as_of", file, "repaired", len(reopened), example_row=int(reopened["row"].iloc[0]),
                   value=f"closed {model.opportunities.loc[reopened.index[0], 'closed'].date()}")
    if history_file is not None:
        later = model.history[(model.history["changed"] >= end) & ~model.history["derived"]
                              & model.history["opportunity_id"].isin(snap.opportunities.index)]
        if len(later):
            report.add("after_as_of", history_file, "excluded", len(later), example_row=int(later["row"].iloc[0]),
                       value=str(later["changed"].iloc[0]))
    return snap


def _drop_stale(model: CrmModel, file: str, report: CleaningReport) -> CrmModel:
    opps = model.opportunities
    hist = model.history
    first, last = first_last(hist)
    first, last = first.reindex(opps.index), last.reindex(opps.index)
    closed = opps["kind"] != "open"
    lifetimes = (last - first)[closed]
    if not len(lifetimes):
        return model
    longest = lifetimes.max()
    age = day_end(model.as_of) - first
    stale = (~closed & (age > longest + pd.Timedelta(days=1))).to_numpy()
    if not stale.any():
        return model
    i = _first(stale)
    report.add("stale_open", file, "excluded", int(stale.sum()), example_row=int(opps["row"].iloc[i]),
               value=f"{opps.index[i]} open since {first.iloc[i].date()} (longest closed deal: {longest.days} days)")
    keep = opps.index[~stale]
    return dataclasses.replace(model, opportunities=opps.loc[keep],
                               history=hist[hist["opportunity_id"].isin(keep)].reset_index(drop=True))
