"""Row rules of each file of an export: the typed opportunities table, the history table and the reference tables
(owners, accounts, products), with the cleaning each row needs on its own.

The reasons applied here (see ``calibration.cleaning`` for the full table): ``malformed_row`` and
``duplicate_header`` (reading), ``placeholder_id``, ``duplicate_id``, ``unknown_stage``, ``unreadable_value``,
``negative_amount`` and ``product_spelling`` (opportunities), ``history_unknown_opportunity``, ``unknown_stage``
and ``no_date`` (history rows). Rules that need a deal's whole history live in ``calibration.cleaning``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calibration.cleaning_report import CleaningReport
from calibration.errors import CalibrationError, Problem
from calibration.mapping import Mapping, StageSpec, normalise
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

__all__ = ["first_true", "history_rows", "opportunity_rows", "read_export_table", "reference_table",
           "terminal_stages"]

def _per_value(s: pd.Series, fn: Callable[[str], object]) -> pd.Series:
    """``fn`` applied once per distinct value of ``s`` (blank as ""), then spread back: exports repeat a few
    stage, status and product names over millions of rows."""
    codes, uniques = pd.factorize(s.fillna(""))
    mapped = np.array([fn(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[np.where(codes < 0, len(uniques), codes)], index=s.index, dtype=object)


def first_true(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_bad(report: CleaningReport, table: RawTable, column: str, bad: np.ndarray, values: pd.Series,
               kind: str) -> None:
    """Count unreadable cells; a column where many cells fail is mis-mapped or in an unknown format: an error."""
    n_bad = int(bad.sum())
    if not n_bad:
        return
    i = first_true(bad)
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


def read_export_table(folder: Path, spec: object, encoding: str | None, info: dict[str, dict[str, object]],
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


def terminal_stages(mapping: Mapping) -> dict[str, StageSpec]:
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


def opportunity_rows(table: RawTable, mapping: Mapping, report: CleaningReport, products: pd.DataFrame,
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
        i = first_true(bad_id)
        report.add("placeholder_id", file, "excluded", int(bad_id.sum()), example_row=int(rows[i]),
                   column=col["id"], value=ids.iloc[i] if not pd.isna(ids.iloc[i]) else "")
    dup = ids.duplicated(keep="first").to_numpy() & ~bad_id
    if dup.any():
        i = first_true(dup)
        report.add("duplicate_id", file, "excluded", int(dup.sum()), example_row=int(rows[i]), column=col["id"],
                   value=ids.iloc[i])
    frame = pd.DataFrame({"opportunity_id": ids, "row": rows})
    for key in ("owner", "account"):
        s = _text(table, col[key])
        ph = _placeholder(s, mapping)
        if ph.any():
            i = first_true(ph)
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
            i = first_true(repaired.to_numpy(dtype=bool))
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
    terminal = terminal_stages(mapping)
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
        i = first_true(rescued)
        report.add("unknown_stage", file, "repaired", int(rescued.sum()), example_row=int(rows[i]),
                   column=col["stage"], value=stage_text.iloc[i])
    if lost_rows.any():
        i = first_true(lost_rows)
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
            i = first_true(neg)
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
            i = first_true(missing)
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


def history_rows(table: RawTable, mapping: Mapping, known: pd.Index, report: CleaningReport) -> pd.DataFrame:
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
        i = first_true(orphan)
        report.add("history_unknown_opportunity", file, "excluded", int(orphan.sum()), example_row=int(rows[i]),
                   column=col["opportunity_id"], value=ids.iloc[i])
    unknown = stage.isna().to_numpy() & ~orphan
    if unknown.any():
        i = first_true(unknown)
        report.add("unknown_stage", file, "excluded", int(unknown.sum()), example_row=int(rows[i]),
                   column=col["stage"], value=stage_text.iloc[i])
    undated = np.isnat(changed) & ~orphan & ~unknown
    if undated.any():
        i = first_true(undated)
        report.add("no_date", file, "excluded", int(undated.sum()), example_row=int(rows[i]), column=col["changed"],
                   value=table.frame[col["changed"]].iloc[i])
    ok = ~orphan & ~unknown & ~undated
    return pd.DataFrame({"_deal": deal[ok], "changed": changed[ok],
                         "stage": stage.to_numpy()[ok], "amount": amount[ok], "row": rows[ok], "derived": False})


def reference_table(table: RawTable | None, spec: object, keys: dict[str, str], mapping: Mapping) -> pd.DataFrame:
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


