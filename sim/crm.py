"""A run's deal log as a CRM would hold it: one row per deal and one per stage change, in calendar time, as plain
DataFrames (``calibration.write_crm_export`` writes them as an export; the simulator knows nothing of file formats).

Day ``d`` of the simulator's clock is ``d`` days after midnight of the first day of the calendar's start month
(warm-up deals have dates before it), rounded to the second. A deal's owner is the rep of the seat that closed it,
else the seat whose queue it was in last, else its account's owner in the plan; its amount is the deal's value
when it was created (to the cent): what a CRM's opportunity carries, before any cut for an account that had
bought its potential or a pulled-in deal's discount. Its stage changes are the stages it entered, with the day
and the seat (``RunRecord.trail``, kept when the run asks for its log), then its close: won or lost. A deal lost
before any rep's queue took it (no filled seat for its account, or a churned account) has one change at its
creation, in its entry stage. A deal of the open pipeline starts its history with the day it entered the stage
it was in on day 0. A deal that got no decision (``LOST_NO_DECISION``) left the simulator's pipeline, but nobody
told the CRM: it stays open in the stage it reached, as such deals do in real exports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.deals import LOST, LOST_NO_DECISION, OPEN, WON
from sim.demand import Leads
from sim.model import Model
from sim.pipeline import OpenDeals
from sim.record import RunRecord

__all__ = ["DEAL_COLUMNS", "HISTORY_COLUMNS", "calendar_origin", "crm_frames", "stack_logs"]

DEAL_COLUMNS = ["opportunity_id", "owner", "account", "product", "created", "stage", "stage_id", "kind", "closed",
                "amount"]
"""One row per deal; ``stage`` is the name of its current (or last open) stage, ``kind`` open / won / lost."""
HISTORY_COLUMNS = ["opportunity_id", "changed", "stage", "stage_id", "kind", "seat"]
"""One row per stage change: an open stage entered (``kind`` open, with the rep of the queue), or the close."""

_KIND = {OPEN: "open", WON: "won", LOST: "lost"}


def calendar_origin(model: Model) -> pd.Timestamp:
    """The instant of day 0: midnight of the first day of the calendar's start month."""
    start = model.scenario.settings.calendar.start
    return pd.Timestamp(dt.date(start.year, start.month, 1))


def _stamps(origin: pd.Timestamp, days: np.ndarray) -> pd.DatetimeIndex:
    seconds = np.round(np.asarray(days, dtype=float) * 86_400.0)
    out = pd.Series(origin + pd.to_timedelta(np.where(np.isfinite(seconds), seconds, 0.0), unit="s"))
    return pd.DatetimeIndex(out.where(np.isfinite(seconds)))


def crm_frames(model: Model, leads: Leads, rec: RunRecord,
               pipeline: OpenDeals | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The deals and stage changes of one replication run with ``trace=True`` (``DEAL_COLUMNS``,
    ``HISTORY_COLUMNS``; the module docstring says how each field is read).

    Raises
    ------
    ValueError
        When the record holds no trail (the replication was run without ``trace``).

    Examples
    --------
    >>> import scenarios
    >>> from sim import build, run_replication
    >>> m = build(scenarios.load("tiny"))
    >>> leads, rec = run_replication(m, np.random.SeedSequence(2), trace=True)
    >>> deals, history = crm_frames(m, leads, rec)
    >>> len(deals) == len(leads), set(history["kind"]) <= {"open", "won", "lost"}
    (True, True)
    """
    if rec.trail is None:
        raise ValueError("the replication kept no stage entries: run it with trace=True (simulate deal_log=True)")
    origin = calendar_origin(model)
    stages = model.scenario.settings.funnel.stages
    names = np.array([s.name for s in stages], dtype=object)
    ids_of_stage = np.array([s.id for s in stages], dtype=object)
    n = len(leads)
    first_open = n - leads.n_open
    ids = np.array([f"SIM{i + 1:07d}" for i in range(n)], dtype=object)
    if pipeline is not None and leads.n_open:
        ids[first_open:] = np.array(pipeline.ids, dtype=object)
    rep_ids = np.array(model.rep_ids, dtype=object)
    account_ids = np.array(model.account_ids, dtype=object)

    trail = rec.trail
    lead = trail[:, 0].astype(np.int64)
    order = np.lexsort((np.arange(len(lead)), trail[:, 2], lead))
    lead, t_stage, t_day, t_seat = lead[order], trail[order, 1].astype(np.int64), trail[order, 2], \
        trail[order, 3].astype(np.int64)
    last_seat = np.full(n, -1, dtype=np.int64)
    last_seat[lead] = t_seat  # sorted by day within a lead: the last assignment wins
    seat = np.where(rec.closer >= 0, rec.closer, last_seat)
    seat = np.where(seat >= 0, seat, model.owner[leads.account])
    owner = pd.Series(rep_ids[np.maximum(seat, 0)]).where(seat >= 0).to_numpy(dtype=object)

    status = np.where((rec.status == LOST) & (rec.lost_reason == LOST_NO_DECISION), OPEN, rec.status)
    kind = np.array([_KIND[int(x)] for x in status], dtype=object)
    stage = rec.stage_reached
    deals = pd.DataFrame({
        "opportunity_id": ids, "owner": owner, "account": account_ids[leads.account],
        "product": np.array(model.product_ids, dtype=object)[leads.product],
        "created": _stamps(origin, leads.time), "stage": names[stage], "stage_id": ids_of_stage[stage],
        "kind": kind, "closed": _stamps(origin, np.where(status == OPEN, np.nan, rec.closed)),
        "amount": np.round(leads.value, 2)})

    entered = np.zeros(n, dtype=bool)
    entered[lead] = True
    quiet = np.flatnonzero(~entered)  # never queued: one change at creation, in the entry stage
    closed = np.flatnonzero(status != OPEN)
    h_lead = np.concatenate([lead, quiet, closed])
    h_day = np.concatenate([t_day, leads.time[quiet], rec.closed[closed]])
    h_stage = np.concatenate([t_stage, leads.entry_stage[quiet], stage[closed]])
    h_kind = np.concatenate([np.full(len(lead) + len(quiet), "open", dtype=object), kind[closed]])
    h_seat = np.concatenate([t_seat, np.full(len(quiet), -1, dtype=np.int64), rec.closer[closed]])
    rank = np.concatenate([np.zeros(len(lead) + len(quiet)), np.ones(len(closed))])  # a close after entries
    h_order = np.lexsort((rank, h_day, h_lead))
    is_open = h_kind[h_order] == "open"
    history = pd.DataFrame({
        "opportunity_id": ids[h_lead[h_order]], "changed": _stamps(origin, h_day[h_order]),
        "stage": pd.Series(names[h_stage[h_order]]).where(is_open),
        "stage_id": pd.Series(ids_of_stage[h_stage[h_order]]).where(is_open),
        "kind": h_kind[h_order], "seat": h_seat[h_order]})
    return deals, history


def stack_logs(logs: Sequence[tuple[pd.DataFrame, pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every replication's deals and stage changes in two frames, with a ``replication`` column first."""
    deals = pd.concat([d.assign(replication=k) for k, (d, _) in enumerate(logs)], ignore_index=True)
    history = pd.concat([h.assign(replication=k) for k, (_, h) in enumerate(logs)], ignore_index=True)
    return (deals[["replication", *DEAL_COLUMNS]], history[["replication", *HISTORY_COLUMNS]])
