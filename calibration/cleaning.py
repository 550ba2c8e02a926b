"""From the files of an export to the tidy long model, with every excluded or repaired row counted by reason.

Nothing is dropped silently: each rule below adds a line to the cleaning report (reason, file, action, rows, an
example row, column and value). ``--strict`` turns any line into an error (exit 2).

Reasons (action; rule); the row rules live in ``calibration.row_cleaning``, the report in
``calibration.cleaning_report``, and the rules on whole deals (history, dates, window, ``--as-of``, stale) here:

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
  not a live deal). Its stage changes are kept aside (``CrmModel.stale_history``): such deals are what the
  share of deals that never get a decision is estimated from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from calibration.cleaning_report import REASONS, CleaningReport, ReadInfo
from calibration.errors import CalibrationError, Problem
from calibration.mapping import Mapping, StageSpec, normalise
from calibration.model import CrmModel, as_of, day_end, first_last
from calibration.row_cleaning import (
    first_true,
    history_rows,
    opportunity_rows,
    read_export_table,
    reference_table,
    terminal_stages,
)

__all__ = ["REASONS", "CleaningReport", "ReadInfo", "build_model"]


def _collapse(mapping: Mapping) -> list[StageSpec]:
    terminal = terminal_stages(mapping)
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
    opp_table = read_export_table(root, mapping.opportunities.file, encoding, info, report)
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
        tables[key] = None if table_spec is None else read_export_table(root, table_spec.file, encoding, info, report)
        if table_spec is not None and tables[key] is None:
            notes.append(f"{key} table {table_spec.file} not found in the export; estimates that need it are pooled")
    owners = reference_table(tables["owners"], mapping.owners, {"name": "name", "region": "region", "tier": "tier",
                                                            "manager": "manager"}, mapping)
    accounts = reference_table(tables["accounts"], mapping.accounts, {"name": "name", "segment": "segment",
                                                                  "region": "region"}, mapping)
    products = reference_table(tables["products"], mapping.products, {"price": "price"}, mapping)
    opps, stage_dates, currency = opportunity_rows(opp_table, mapping, report, products, mapping.currency.base)
    # A close date without a time (Salesforce's CloseDate) is compared by day: a deal created at 10:00 and closed
    # that day did not close before it was created.
    closed_col = opps["closed"]
    date_only = bool((closed_col.dropna().dt.normalize() == closed_col.dropna()).all())
    created_col = opps["created"].dt.normalize() if date_only else opps["created"]
    backwards = (closed_col < created_col).to_numpy()
    if backwards.any():
        i = first_true(backwards)
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
    kind_of = {s.name: s.kind for s in mapping.stages} | {s.name: s.kind for s in terminal_stages(mapping).values()}
    stages = list(mapping.stages)
    for k, terminal_stage in terminal_stages(mapping).items():
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
        table_rows = history_rows(tables["history"], mapping, all_ids, report)
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
        i = first_true(burst)
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
        i = first_true(~dated)
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
        i = first_true(backwards)
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
    i = first_true(stale)
    report.add("stale_open", file, "excluded", int(stale.sum()), example_row=int(opps["row"].iloc[i]),
               value=f"{opps.index[i]} open since {first.iloc[i].date()} (longest closed deal: {longest.days} days)")
    keep = opps.index[~stale]
    kept = hist["opportunity_id"].isin(keep)
    return dataclasses.replace(model, opportunities=opps.loc[keep], history=hist[kept].reset_index(drop=True),
                               stale_history=hist[~kept].reset_index(drop=True))
