"""Writing a CRM export: deals and their stage history in the tables and columns of a mapping preset, so that the
importer (``calibration.build_model``) reads back exactly the deals, stages and dates that were written.

This is how a simulated run becomes an export a planner's tools (and ``quotaflow calibrate``) accept, and what makes
the strongest test of calibration possible: simulate known parameters, export, calibrate, compare.

The input is the long model in plain frames (``EXPORT_DEAL_COLUMNS`` and ``EXPORT_HISTORY_COLUMNS``), with calendar
timestamps; whoever produced them (the simulator's ``sim.crm.crm_frames``) owns the conversion from its clock.
Every column the preset names for a field the frames hold is written, under the preset's first spelling of it;
the stages are the caller's open stages in funnel order plus the preset's won and lost stage, and the mapping
that reads the files (the preset with those stages) is written beside them as ``mapping.toml``:
``quotaflow calibrate DIR --mapping DIR/mapping.toml``.

Formats follow a Salesforce data export: timestamps (creation, stage changes) as ``YYYY-MM-DDTHH:MM:SS.000+0000``
in UTC, the close date as ``YYYY-MM-DD``, booleans ``true``/``false``, amounts to the cent, an open deal's close
date empty (a CRM's expected close date is a rep's guess, not a fact the run knows). Values are written verbatim:
no spreadsheet guard, because the file is data to be read back exactly (ids and stage names must survive).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.mapping import Mapping, StageSpec, load_mapping, normalise
from scenarios.io import write_atomic

__all__ = ["EXPORT_DEAL_COLUMNS", "EXPORT_HISTORY_COLUMNS", "export_mapping", "write_crm_export"]

EXPORT_DEAL_COLUMNS = ["opportunity_id", "owner", "account", "created", "stage", "kind", "closed", "amount"]
"""One row per deal: ``stage`` is the current open stage's name (ignored for won and lost deals, which take the
preset's won or lost stage), ``kind`` open / won / lost, ``closed`` NaT while open, ``amount`` NaN when unknown."""
EXPORT_HISTORY_COLUMNS = ["opportunity_id", "changed", "stage", "kind"]
"""One row per stage change: the stage entered (an open stage's name; won and lost rows take the preset's stage)."""

_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.000+0000"
_DATE = "%Y-%m-%d"
_PRESETS = "presets"


def _first(column: str | list[str] | None) -> str | None:
    return column[0] if isinstance(column, list) else column


def _outcome_stage(mapping: Mapping, kind: str) -> str:
    names = [s.name for s in mapping.stages if s.kind == kind]
    if not names:
        raise ValueError(f"mapping '{mapping.name}' has no {kind} stage to write {kind} deals in")
    return names[0]


def export_mapping(stages: Sequence[str], *, preset: str = "salesforce",
                   stage_ids: Sequence[str] | None = None) -> Mapping:
    """The preset with ``stages`` (open, in funnel order) in place of its own open stages, keeping its first won
    and lost stage: the mapping that reads an export written by ``write_crm_export``.

    Examples
    --------
    >>> m = export_mapping(["Lead", "Demo"], stage_ids=["lead", "demo"])
    >>> [(s.name, s.kind) for s in m.stages]
    [('Lead', 'open'), ('Demo', 'open'), ('Closed Won', 'won'), ('Closed Lost', 'lost')]
    """
    base = load_mapping(preset=preset)
    ids = list(stage_ids) if stage_ids is not None else [""] * len(stages)
    if len(ids) != len(stages):
        raise ValueError(f"{len(stages)} stages but {len(ids)} stage ids")
    if not stages:
        raise ValueError("an export needs at least one open stage")
    won, lost = _outcome_stage(base, "won"), _outcome_stage(base, "lost")
    clash = {normalise(s) for s in stages} & {normalise(won), normalise(lost)}
    if clash:
        raise ValueError(f"open stage(s) {sorted(clash)} have the name of the preset's won or lost stage")
    specs = [StageSpec(name=str(n), kind="open", id=str(i)) for n, i in zip(stages, ids, strict=True)]
    specs += [StageSpec(name=won, kind="won"), StageSpec(name=lost, kind="lost")]
    return base.model_copy(update={"stages": specs, "name": f"{base.name}-export"})


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mapping_toml(preset: str, mapping: Mapping) -> str:
    """The preset's own text (columns, files, comments) with its ``[[stages]]`` replaced by ``mapping``'s."""
    text = resources.files("calibration").joinpath(_PRESETS, f"{preset}.toml").read_text(encoding="utf-8")
    head = text.split("\n[[stages]]", 1)[0].rstrip() + "\n"
    blocks = []
    for s in mapping.stages:
        lines = ["[[stages]]", f"name = {_toml_string(s.name)}", f"kind = {_toml_string(s.kind)}"]
        if s.id:
            lines.append(f"id = {_toml_string(s.id)}")
        blocks.append("\n".join(lines))
    return (f"# Written by quotaflow beside a CRM export: the '{preset}' preset with the exported funnel's stages.\n"
            + head + "\n" + "\n\n".join(blocks) + "\n")


def _csv(frame: pd.DataFrame, path: Path) -> None:
    write_atomic(path, frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8"))


def _stamp(values: pd.Series, fmt: str) -> pd.Series:
    stamps = pd.to_datetime(values)
    return stamps.dt.strftime(fmt).where(stamps.notna(), "")


def _cents(values: pd.Series) -> pd.Series:
    amounts = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    text = np.char.mod("%.2f", np.where(np.isfinite(amounts), amounts, 0.0))
    return pd.Series(np.where(np.isfinite(amounts), text, ""), index=values.index)


def write_crm_export(deals: pd.DataFrame, history: pd.DataFrame, out_dir: str | os.PathLike[str], *,
                     stages: Sequence[str], stage_ids: Sequence[str] | None = None, preset: str = "salesforce",
                     overwrite: bool = False) -> Path:
    """Write ``deals`` and ``history`` as a CRM export in ``preset``'s format, with the ``mapping.toml`` that
    reads it; return the folder.

    Parameters
    ----------
    deals
        ``EXPORT_DEAL_COLUMNS``; ``created`` and ``closed`` are timestamps (UTC, naive), ``owner`` and ``account``
        may be missing (empty cells).
    history
        ``EXPORT_HISTORY_COLUMNS``, every deal's stage changes from its creation on.
    out_dir
        Target folder (created when missing).
    stages, stage_ids
        The funnel's open stages in order, as the deals and history name them, and their scenario ids.
    preset
        A preset with an opportunities and a history table (``salesforce``).
    overwrite
        Replace files of the same names; otherwise an existing one is an error (a user's files are never replaced
        unasked).

    Raises
    ------
    ValueError
        Missing columns, a stage not in ``stages``, a history row of an unknown deal, or a preset without a history
        table.
    FileExistsError
        A target file exists and ``overwrite`` is false.

    Examples
    --------
    >>> import tempfile
    >>> deals = pd.DataFrame({"opportunity_id": ["o1"], "owner": ["r1"], "account": ["a1"],
    ...     "created": pd.to_datetime(["2024-01-02 09:00"]), "stage": ["Demo"], "kind": ["won"],
    ...     "closed": pd.to_datetime(["2024-01-20 15:30"]), "amount": [1200.0]})
    >>> history = pd.DataFrame({"opportunity_id": ["o1", "o1"], "changed": deals["created"].tolist() +
    ...     deals["closed"].tolist(), "stage": ["Demo", None], "kind": ["open", "won"]})
    >>> folder = write_crm_export(deals, history, tempfile.mkdtemp(), stages=["Demo"])
    >>> sorted(p.name for p in folder.iterdir())
    ['Opportunity.csv', 'OpportunityHistory.csv', 'mapping.toml']
    >>> print((folder / "OpportunityHistory.csv").read_text().splitlines()[2])
    o1,2024-01-20T15:30:00.000+0000,Closed Won,1200.00
    """
    missing = [c for c in EXPORT_DEAL_COLUMNS if c not in deals.columns]
    missing += [f"history.{c}" for c in EXPORT_HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"write_crm_export needs columns {missing}")
    mapping = export_mapping(stages, preset=preset, stage_ids=stage_ids)
    if mapping.history is None:
        raise ValueError(f"preset '{preset}' has no stage history table to write the stage changes in")
    opp_cols, hist_cols = mapping.opportunities, mapping.history
    known = set(stages)
    bad_kind = sorted(set(deals["kind"]) - {"open", "won", "lost"})
    if bad_kind:
        raise ValueError(f"deal kinds {bad_kind}: use open, won or lost")
    for label, frame in (("deals", deals), ("history", history)):
        open_rows = frame[frame["kind"] == "open"]
        unknown = sorted(set(open_rows["stage"].astype(str)) - known)
        if unknown:
            raise ValueError(f"{label} name stage(s) {unknown[:5]} that are not among the stages {list(stages)}")
    stray = ~history["opportunity_id"].isin(deals["opportunity_id"])
    if stray.any():
        raise ValueError(f"history rows of unknown deals, e.g. {history.loc[stray, 'opportunity_id'].iloc[0]}")

    won, lost = _outcome_stage(mapping, "won"), _outcome_stage(mapping, "lost")
    outcome_name = {"won": won, "lost": lost}
    kind = deals["kind"].astype(str)
    stage = np.where(kind == "open", deals["stage"].astype(object), kind.map(outcome_name))
    amount = _cents(deals["amount"])
    fields: dict[str, pd.Series | np.ndarray] = {
        "id": deals["opportunity_id"].astype(str), "owner": deals["owner"].fillna("").astype(str),
        "account": deals["account"].fillna("").astype(str), "stage": stage, "amount": amount,
        "closed": _stamp(deals["closed"], _DATE), "created": _stamp(deals["created"], _TIMESTAMP),
        "is_closed": np.where(kind != "open", "true", "false"), "is_won": np.where(kind == "won", "true", "false"),
    }
    if opp_cols.status is not None:
        fields["status"] = kind.map({k: v[0] for k, v in opp_cols.status_values.items()})
    opp = pd.DataFrame({name: values for key, values in fields.items()
                        if (name := _first(getattr(opp_cols, key))) is not None})

    order = history.sort_values(["opportunity_id", "changed"], kind="stable")
    h_kind = order["kind"].astype(str)
    h_stage = np.where(h_kind == "open", order["stage"].astype(object), h_kind.map(outcome_name))
    h_fields: dict[str, pd.Series | np.ndarray] = {
        "opportunity_id": order["opportunity_id"].astype(str), "changed": _stamp(order["changed"], _TIMESTAMP),
        "stage": h_stage}
    if hist_cols.amount is not None:
        h_fields["amount"] = order["opportunity_id"].map(dict(zip(deals["opportunity_id"], amount, strict=True)))
    hist = pd.DataFrame({name: values for key, values in h_fields.items()
                         if (name := _first(getattr(hist_cols, key))) is not None})

    folder = Path(out_dir)
    targets = {"opportunities": folder / str(_first(opp_cols.file)), "history": folder / str(_first(hist_cols.file)),
               "mapping": folder / "mapping.toml"}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} exists; choose a new folder (a CRM export is never written over "
                              f"files it did not write)")
    folder.mkdir(parents=True, exist_ok=True)
    _csv(opp, targets["opportunities"])
    _csv(hist, targets["history"])
    write_atomic(targets["mapping"], _mapping_toml(preset, mapping).encode("utf-8"))
    return folder
