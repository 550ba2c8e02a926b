"""``calibrate``: a CRM export to a calibrated scenario, one public step after the other.

``read and clean (cleaning.build_model) -> check the minimum (sufficiency) -> funnel (funnel) -> reps (reps) ->
arrivals (arrivals) -> deal sizes (deal_sizes) -> timing (timing) -> scenario (translation)``. Each step is callable
alone on a ``CrmModel``.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pandas as pd

import scenarios
from calibration.arrivals import estimate_arrivals, pooled_rates
from calibration.cleaning import build_model
from calibration.cleaning_report import CleaningReport, ReadInfo
from calibration.deal_sizes import estimate_deal_sizes
from calibration.diagnosis import diagnose
from calibration.errors import CalibrationError
from calibration.funnel import estimate_funnel, stage_spells
from calibration.mapping import Mapping
from calibration.model import CrmModel
from calibration.reps import estimate_rep_skills, rep_tiers
from calibration.result import CalibrationResult, DiagnosisResult
from calibration.sufficiency import check_minimum, sufficiency_table
from calibration.timing import estimate_timing
from calibration.translation import translate

__all__ = ["DEFAULT_BASE", "calibrate", "diagnose_export", "read_export"]

DEFAULT_BASE = "baseline"
"""The bundled scenario that supplies what an export cannot (pay plans, tier costs and hours, optimizer and
behaviour settings) when no ``--base`` is given; its values are documented in ``scenarios.generate``."""


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts (typed access for the checker, unlike ``itertuples``)."""
    return [{str(k): v for k, v in rec.items()} for rec in frame.to_dict(orient="records")]


def read_export(export: str | os.PathLike[str], mapping: Mapping, *, as_of: dt.date | None = None,
                strict: bool = False, encoding: str | None = None) -> tuple[CrmModel, CleaningReport, ReadInfo]:
    """Read and clean an export and refuse one too small to estimate from: the first step of `calibrate`, and
    of every command that reads an export the same way (``diagnose``).

    Raises
    ------
    CalibrationError
        Bad or too small export, unusable mapping, or (with ``strict``) any cleaning.
    """
    model, cleaning, info = build_model(export, mapping, as_of_date=as_of, encoding=encoding)
    if strict and cleaning.entries:
        raise CalibrationError(cleaning.problems())
    opp_file = next(iter(info.files))
    stage_col = mapping.opportunities.stage
    check_minimum(model, opp_file, stage_col if isinstance(stage_col, str) else stage_col[0])
    return model, cleaning, info


def diagnose_export(export: str | os.PathLike[str], mapping: Mapping, *, as_of: dt.date | None = None,
                    strict: bool = False, encoding: str | None = None) -> DiagnosisResult:
    """The per-rep per-stage diagnosis (`calibration.diagnose`) of an export read and cleaned as `calibrate`
    reads it.

    Raises
    ------
    CalibrationError
        As `read_export`.
    """
    model, cleaning, info = read_export(export, mapping, as_of=as_of, strict=strict, encoding=encoding)
    return DiagnosisResult(model=model, mapping_name=mapping.name, diagnosis=diagnose(model),
                           cleaning=cleaning.frame(), files=info.files, notes=list(info.notes))


def calibrate(export: str | os.PathLike[str], mapping: Mapping, *, as_of: dt.date | None = None,
              base: str | os.PathLike[str] | None = None, strict: bool = False, encoding: str | None = None,
              seed: int = 0, name: str | None = None) -> CalibrationResult:
    """Calibrate a scenario from a CRM export.

    Parameters
    ----------
    export
        The export folder.
    mapping
        Files, columns and stages (``calibration.load_mapping``).
    as_of
        The day the data describes (default: the latest date in the export); later information is not used.
    base
        Scenario whose pay plans, targets and channels are kept (default: the bundled ``baseline`` supplies
        only what an export cannot, and targets come from the data).
    strict
        Refuse the export if any row had to be excluded or repaired.
    encoding
        Force one text encoding for every file.
    seed
        Seed of the bootstrap intervals.
    name
        Scenario name (default ``calibrated-<mapping>``).

    Raises
    ------
    CalibrationError
        Bad or too small export, unusable mapping, or (with ``strict``) any cleaning.
    scenarios.ScenarioError
        A ``base`` that does not load.
    """
    model, cleaning, info = read_export(export, mapping, as_of=as_of, strict=strict, encoding=encoding)
    spells = stage_spells(model)
    funnel = estimate_funnel(model, spells)
    estimable = funnel[funnel["conversion"].notna()]
    skills, pooling = estimate_rep_skills(spells, dict(zip(estimable["stage"], estimable["stage_id"], strict=True)))
    arrivals = estimate_arrivals(model)
    by_owner = pooled_rates(model, "owner")
    by_region = pooled_rates(model, "region")
    by_account = pooled_rates(model, "account")
    sizes = estimate_deal_sizes(model)
    timing = estimate_timing(model, seed=seed)
    explicit = base is not None
    base_scenario = scenarios.load(base if base is not None else DEFAULT_BASE)
    tier_order = sorted(base_scenario.settings.tiers, key=lambda t: base_scenario.settings.tiers[t].rank)
    given = model.owners["tier"].dropna() if "tier" in model.owners.columns else None
    tiers = rep_tiers(skills, pooling, tier_order, given if given is not None and len(given) else None)
    scenario, notes = translate(model, funnel=funnel, skills=skills, tiers=tiers, arrivals=arrivals,
                                account_rates=by_account, deal_sizes=sizes, base=base_scenario,
                                explicit_base=explicit, name=name or f"calibrated-{mapping.name}")
    months = int((arrivals.counts["exposure"] > 0).sum())
    suff = sufficiency_table(model, funnel, pooling, months, arrivals.season_kind)
    for row in _rows(pooling):
        if row['indistinguishable']:
            notes.append(f"stage {row['stage']}: reps are indistinguishable from binomial noise (median own-data "
                         f"weight {row['own_weight_median']:.3f}); every rep is shrunk to the group")
    for row in _rows(sizes):
        if row['method'] != "empirical":
            notes.append(f"product {row['product']}: {row['method']} ({row['won_deals']} won deals)")
    if not explicit:
        notes.append(f"no --base: pay plans, tier hours and costs, optimizer and behaviour settings come from the "
                     f"bundled '{DEFAULT_BASE}' scenario")
    return CalibrationResult(scenario=scenario, model=model, mapping_name=mapping.name,
                             cleaning=cleaning.frame(), sufficiency=suff, funnel=funnel, rep_skills=skills,
                             rep_pooling=pooling, rep_tiers=tiers, arrivals=arrivals, arrivals_by_owner=by_owner,
                             arrivals_by_region=by_region, arrivals_by_account=by_account, deal_sizes=sizes,
                             timing=timing, files=info.files, notes=[*info.notes, *notes])

