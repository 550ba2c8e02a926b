"""Calibration of a scenario from a CRM export: mapping presets, reading and cleaning into a long model, survival
and empirical-Bayes estimates with intervals, and their translation into a scenario folder.

Back-testing (``backtest``: the pipeline of a cutoff from that day's rows only; ``baselines``: the weighted pipeline
and the seasonal naive with predictive quantiles; ``scores``: coverage, pinball loss and error of any model's
quantiles) and the per-rep per-stage ``diagnosis`` are library steps the command line calls; ``export`` writes deals
and stage history back out in a preset's format (a simulated run as a CRM export).

The layer sits beside ``optimizer`` and ``sim`` and imports only ``scenarios`` (import-linter enforces it).
"""

from __future__ import annotations

from calibration.arrivals import ArrivalModel, estimate_arrivals, monthly_counts, pooled_rates
from calibration.backtest import BacktestData, actuals_table, backtest_data, open_pipeline
from calibration.baselines import BaselineForecast, baseline_forecasts, seasonal_naive, weighted_pipeline
from calibration.cleaning import REASONS, CleaningReport, build_model
from calibration.deal_sizes import estimate_deal_sizes
from calibration.diagnosis import diagnose
from calibration.errors import CalibrationError
from calibration.export import EXPORT_DEAL_COLUMNS, EXPORT_HISTORY_COLUMNS, export_mapping, write_crm_export
from calibration.funnel import estimate_funnel, stage_spells
from calibration.mapping import Mapping, StageSpec, load_mapping, preset_names
from calibration.model import CrmModel, as_of
from calibration.pipeline import DEFAULT_BASE, calibrate, diagnose_export, read_export
from calibration.reps import BetaPrior, estimate_rep_skills, fit_beta_binomial, rep_tiers
from calibration.result import CalibrationResult, DiagnosisResult
from calibration.scores import score_forecasts
from calibration.sufficiency import MIN_CLOSED, sufficiency_table
from calibration.timing import CloseTiming, estimate_timing

__all__ = [
    "DEFAULT_BASE",
    "EXPORT_DEAL_COLUMNS",
    "EXPORT_HISTORY_COLUMNS",
    "MIN_CLOSED",
    "REASONS",
    "ArrivalModel",
    "BacktestData",
    "BaselineForecast",
    "BetaPrior",
    "CalibrationError",
    "CalibrationResult",
    "CleaningReport",
    "CloseTiming",
    "CrmModel",
    "DiagnosisResult",
    "Mapping",
    "StageSpec",
    "actuals_table",
    "as_of",
    "backtest_data",
    "baseline_forecasts",
    "build_model",
    "calibrate",
    "diagnose",
    "diagnose_export",
    "estimate_arrivals",
    "estimate_deal_sizes",
    "estimate_funnel",
    "estimate_rep_skills",
    "estimate_timing",
    "export_mapping",
    "fit_beta_binomial",
    "load_mapping",
    "monthly_counts",
    "open_pipeline",
    "pooled_rates",
    "preset_names",
    "read_export",
    "rep_tiers",
    "score_forecasts",
    "seasonal_naive",
    "stage_spells",
    "sufficiency_table",
    "weighted_pipeline",
    "write_crm_export",
]
