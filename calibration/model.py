"""The tidy long model of a CRM export, and its snapshot as it stood on an earlier day.

``opportunities`` holds one row per deal (what the export says today: owner, account, product, current stage,
amount, dates); ``history`` one row per stage change (the deal entered ``stage`` at ``changed``). Every estimate
reads time from ``history`` only, so that ``as_of`` can rebuild the pipeline of any earlier day from rows dated
on or before it: an opportunity row's current stage, amount and close date are facts about the export day, not
about an earlier one, and ``as_of`` never lets them leak backwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibration.mapping import StageSpec

__all__ = ["OPPORTUNITY_COLUMNS", "CrmModel", "as_of", "day_end", "deal_codes", "first_last", "run_ends"]

OPPORTUNITY_COLUMNS = ["owner", "account", "product", "region", "stage", "kind", "created", "closed", "amount",
                       "row"]
"""Columns of ``CrmModel.opportunities`` (index ``opportunity_id``)."""


def day_end(date: dt.date | pd.Timestamp) -> pd.Timestamp:
    """The first instant after ``date``: rows dated before it are "on or before" that day.

    Examples
    --------
    >>> day_end(dt.date(2017, 6, 30))
    Timestamp('2017-07-01 00:00:00')
    """
    return pd.Timestamp(date).normalize() + pd.Timedelta(days=1)


def deal_codes(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of a column of deal ids and the ids they stand for (the categories of a categorical
    column, as ``CrmModel.history`` keeps it, else found by factorising)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return ids.cat.codes.to_numpy(), pd.Index(ids.cat.categories.astype(object), name="opportunity_id")
    codes, uniques = pd.factorize(ids)
    return codes, pd.Index(np.asarray(uniques, dtype=object), name="opportunity_id")


def run_ends(history: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """Row positions where each deal's run starts and ends in a history sorted by deal and time (as
    ``CrmModel.history`` is), with the deals' codes and ids: per-deal first and last rows without grouping
    millions of text ids."""
    codes, ids = deal_codes(history["opportunity_id"])
    if len(codes) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, ids
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)] - 1
    return starts, ends, codes, ids


def first_last(history: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each deal's first and last change time (index ``opportunity_id``)."""
    starts, ends, codes, ids = run_ends(history)
    when = history["changed"].to_numpy()
    index = ids[codes[starts]] if len(starts) else pd.Index([], name="opportunity_id", dtype=object)
    return pd.Series(when[starts], index=index), pd.Series(when[ends], index=index)


@dataclass(frozen=True, eq=False)
class CrmModel:
    """A cleaned CRM export in long form.

    Parameters
    ----------
    opportunities
        Index ``opportunity_id``; columns ``owner``, ``account``, ``product``, ``region`` (text, missing
        allowed), ``stage`` (current stage name), ``kind`` (open / won / lost), ``created`` and ``closed``
        (datetime64, NaT when unknown or open), ``amount`` (float in ``currency``, NaN when unknown), ``row``
        (the row in the export file, for messages).
    history
        One row per stage change: ``opportunity_id``, ``changed`` (datetime64), ``stage``, ``kind``,
        ``amount`` (the amount after the change when the export has it, else NaN), ``derived`` (True when the
        row was reconstructed from dates on the opportunity row rather than read from a history table),
        sorted by opportunity and time.
    stages
        The export's stages in funnel order (open stages first as listed, then won and lost).
    owners, accounts, products
        Optional reference tables indexed by id (empty frames when the export has none).
    as_of
        The day the data describes (open deals are right-censored at its end).
    observed_from
        First day the export covers completely (deals that ended before it are missing: left truncation).
    currency
        Currency of every amount.
    collapsed
        True when the export has no dated stage changes between creation and close, so the funnel is one
        stage from creation to close.
    stale_history
        The stage changes of the open deals the cleaning set aside as stale (older than any deal that ever
        closed), or None: left out of conversion and durations, they are the evidence of deals that never get a
        decision (``calibration.funnel.estimate_no_decision``).
    """

    opportunities: pd.DataFrame
    history: pd.DataFrame
    stages: list[StageSpec]
    owners: pd.DataFrame
    accounts: pd.DataFrame
    products: pd.DataFrame
    as_of: pd.Timestamp
    observed_from: pd.Timestamp
    currency: str = ""
    collapsed: bool = False
    stale_history: pd.DataFrame | None = None

    @property
    def open_stages(self) -> list[StageSpec]:
        """Open stages in funnel order."""
        return [s for s in self.stages if s.kind == "open"]

    def stage_order(self) -> dict[str, int]:
        """Stage name -> position in the funnel (open stages 0..k-1, won k, lost k + 1)."""
        return {s.name: i for i, s in enumerate(self.stages)}

    def __repr__(self) -> str:
        kinds = self.opportunities["kind"].value_counts()
        return (f"CrmModel({len(self.opportunities)} opportunities: {int(kinds.get('open', 0))} open, "
                f"{int(kinds.get('won', 0))} won, {int(kinds.get('lost', 0))} lost; {len(self.history)} stage "
                f"changes; observed {self.observed_from.date()} to {self.as_of.date()})")


def as_of(model: CrmModel, date: dt.date | pd.Timestamp) -> CrmModel:
    """The export as it stood at the end of ``date``, rebuilt from history rows dated on or before it.

    A deal is in the snapshot when its first stage change is dated on or before ``date``; its stage and kind
    are those of its last such change. A deal closed by then for good (that change is its last in the export)
    keeps the close date and amount of its opportunity row (the booking; a closed deal's value is taken as
    settled at close); a deal closed then but reopened later gets the change's date and the history's amount
    (unknown without one); a deal still open has no close date and the history's amount, else unknown. Owner,
    account and product are kept: exports carry no history of them (an assumption recorded in
    docs/calibration.md). History rows after ``date`` are dropped.

    Parameters
    ----------
    model
        The model (usually the full export).
    date
        The day to rebuild; it must not be after ``model.as_of``.

    Examples
    --------
    >>> opps = pd.DataFrame({"owner": ["a"], "account": [None], "product": [None], "region": [None],
    ...     "stage": ["Won"], "kind": ["won"], "created": [pd.Timestamp("2024-01-01")],
    ...     "closed": [pd.Timestamp("2024-03-01")], "amount": [100.0], "row": [1]},
    ...     index=pd.Index(["o1"], name="opportunity_id"))
    >>> hist = pd.DataFrame({"opportunity_id": ["o1", "o1"], "changed": pd.to_datetime(["2024-01-01",
    ...     "2024-03-01"]), "stage": ["Open", "Won"], "kind": ["open", "won"], "amount": [np.nan, np.nan],
    ...     "derived": [True, True]})
    >>> m = CrmModel(opps, hist, [], pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
    ...              pd.Timestamp("2024-06-30"), pd.Timestamp("2024-01-01"))
    >>> snap = as_of(m, dt.date(2024, 2, 1)).opportunities
    >>> row = snap.loc["o1"]
    >>> [row["stage"], row["kind"]], pd.isna(row["closed"]), bool(np.isnan(row["amount"]))
    (['Open', 'open'], True, True)
    """
    day = pd.Timestamp(date).normalize()
    if day > model.as_of:
        raise ValueError(f"as_of({day.date()}) is after the model's own day {model.as_of.date()}")
    end = day_end(day)
    hist = model.history[model.history["changed"] < end]
    starts, ends, codes, ids = run_ends(hist)
    last = hist.iloc[ends].drop(columns="opportunity_id").set_axis(ids[codes[ends]], axis=0)
    first = pd.Series(hist["changed"].to_numpy()[starts], index=last.index)
    opps = model.opportunities.loc[model.opportunities.index.intersection(last.index)].copy()
    last = last.reindex(opps.index)
    closed_now = (last["kind"] != "open").to_numpy()
    was_closed = (opps["kind"] != "open").to_numpy()
    final = first_last(model.history)[1].reindex(opps.index)
    # Closed by that day for good: its last change is the export's last change of the deal, so the close date and
    # amount on the opportunity row (the booking) are facts of that day too.
    for_good = closed_now & was_closed & (last["changed"].to_numpy() == final.to_numpy())
    changed = last["changed"].to_numpy(dtype="datetime64[ns]")
    row_closed = opps["closed"].to_numpy(dtype="datetime64[ns]")
    opps["stage"] = last["stage"].to_numpy()
    opps["kind"] = last["kind"].to_numpy()
    # A booking date after the day (a row whose close date differs from its history's) is not known that day.
    known_close = ~np.isnat(row_closed) & (row_closed < end.to_datetime64())
    opps["closed"] = np.where(for_good & known_close, row_closed,
                              np.where(closed_now, changed, np.datetime64("NaT"))).astype("datetime64[ns]")
    opps["created"] = opps["created"].where(opps["created"] < end, first.reindex(opps.index))
    hist_amount = last["amount"].to_numpy(dtype=float)
    opps["amount"] = np.where(~np.isnan(hist_amount), hist_amount,
                              np.where(for_good, opps["amount"].to_numpy(dtype=float), np.nan))
    # deals set aside as stale at the model's own day were decided by what happened after ``date``
    return dataclasses.replace(model, opportunities=opps, history=hist.reset_index(drop=True), as_of=day,
                               stale_history=None)
