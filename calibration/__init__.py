"""Calibration of a scenario from a CRM export: mapping presets, reading and cleaning into a long model, survival
and empirical-Bayes estimates with intervals, and their translation into a scenario folder.

The layer sits beside ``optimizer`` and ``sim`` and imports only ``scenarios`` (import-linter enforces it).
"""

from __future__ import annotations

from calibration.arrivals import ArrivalModel, estimate_arrivals, monthly_counts, pooled_rates
from calibration.cleaning import REASONS, CleaningReport, build_model
from calibration.deal_sizes import estimate_deal_sizes
from calibration.errors import CalibrationError
from calibration.funnel import estimate_funnel, stage_spells
from calibration.mapping import Mapping, StageSpec, load_mapping, preset_names
from calibration.model import CrmModel, as_of
from calibration.pipeline import DEFAULT_BASE, calibrate
from calibration.reps import BetaPrior, estimate_rep_skills, fit_beta_binomial, rep_tiers
from calibration.result import CalibrationResult
from calibration.sufficiency import MIN_CLOSED, sufficiency_table
from calibration.timing import CloseTiming, estimate_timing

__all__ = [
    "DEFAULT_BASE",
    "MIN_CLOSED",
    "REASONS",
    "ArrivalModel",
    "BetaPrior",
    "CalibrationError",
    "CalibrationResult",
    "CleaningReport",
    "CloseTiming",
    "CrmModel",
    "Mapping",
    "StageSpec",
    "as_of",
    "build_model",
    "calibrate",
    "estimate_arrivals",
    "estimate_deal_sizes",
    "estimate_funnel",
    "estimate_rep_skills",
    "estimate_timing",
    "fit_beta_binomial",
    "load_mapping",
    "monthly_counts",
    "pooled_rates",
    "preset_names",
    "rep_tiers",
    "stage_spells",
    "sufficiency_table",
]
