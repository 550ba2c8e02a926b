"""The data-sufficiency report, in the spirit of the CRM vendors' own gates before they forecast.

Gates (requirement; source; when not met):

- closed deals: more than 10 won or lost deals with a close date; Dynamics 365 predictive forecasting; error
  (exit 2): nothing can be estimated.
- won deals in the last 24 months: at least 200; Salesforce Einstein Opportunity Scoring; wide intervals.
- lost deals in the last 24 months: at least 200; Salesforce Einstein Opportunity Scoring; wide intervals.
- months of history: at least 12; Salesforce Einstein Forecasting; no month-of-year effects, level and trend less
  certain.
- month-of-year seasonality: at least 24 months (each month seen twice, the notes); month-of-quarter or none.
- deals per rep: the median rep's own data weighs at least 5 % of their shrunk estimate (empirical Bayes,
  ``calibration.reps``); otherwise reps are pooled to the group.

Besides the gates the report lists what was pooled or defaulted (sparse products, stages without dated exits,
indistinguishable reps) so nobody reads a default as a finding.
"""

from __future__ import annotations

import pandas as pd

from calibration.errors import CalibrationError, Problem
from calibration.model import CrmModel

__all__ = ["MIN_CLOSED", "check_minimum", "sufficiency_table"]

MIN_CLOSED = 11
"""Fewest closed deals with a close date that calibration accepts (Dynamics 365: "more than 10")."""


def check_minimum(model: CrmModel, file: str, stage_column: str) -> None:
    """Refuse an export too small to calibrate: fewer than ``MIN_CLOSED`` dated closed deals, or no open stage
    with an observed exit.

    Raises
    ------
    CalibrationError
        Naming the opportunities file, its stage column and the count found.
    """
    closed = int(((model.opportunities["kind"] != "open") & model.opportunities["closed"].notna()).sum())
    if closed < MIN_CLOSED:
        raise CalibrationError(Problem(
            file, f"has only {closed} won or lost deal(s) with a close date after cleaning; calibration needs at "
            f"least {MIN_CLOSED} (Dynamics 365 asks for more than 10 closed opportunities before it forecasts)",
            "export a longer period, or check that the stage/outcome columns and stage kinds in the mapping are "
            "right (see the cleaning report for excluded rows)", column=stage_column, value=str(closed)))


def sufficiency_table(model: CrmModel, funnel: pd.DataFrame, priors: pd.DataFrame, months: int,
                      season_kind: str) -> pd.DataFrame:
    """One row per gate: ``gate, requirement, value, met, source, consequence``."""
    opps = model.opportunities
    recent = opps["closed"] >= model.as_of - pd.DateOffset(months=24)
    won = int(((opps["kind"] == "won") & recent).sum())
    lost = int(((opps["kind"] == "lost") & recent).sum())
    closed = int(((opps["kind"] != "open") & opps["closed"].notna()).sum())
    own = float(priors["own_weight_median"].min()) if len(priors) else float("nan")
    rows = [
        ("closed deals", "more than 10 with a close date", closed, closed >= MIN_CLOSED,
         "Dynamics 365 predictive forecasting", "error: the export cannot be calibrated"),
        ("won deals, last 24 months", "at least 200", won, won >= 200, "Salesforce Einstein Opportunity Scoring",
         "wide intervals on conversion"),
        ("lost deals, last 24 months", "at least 200", lost, lost >= 200, "Salesforce Einstein Opportunity Scoring",
         "wide intervals on conversion"),
        ("months of history", "at least 12", months, months >= 12, "Salesforce Einstein Forecasting",
         "no month-of-year effects; level and trend less certain"),
        ("month-of-year seasonality", "at least 24 months", months, months >= 24, "the notes: each month seen twice",
         f"seasonality: {season_kind.replace('_', ' ')}"),
        ("deals per rep", "median rep's own-data weight at least 0.05 at every stage", round(own, 4),
         bool(own >= 0.05) if own == own else False, "empirical Bayes (beta-binomial)",
         "reps pooled to the group mean"),
        ("open deals censored", "reported", int((opps["kind"] == "open").sum()), True, "survival analysis",
         "open deals are right-censored at --as-of"),
        ("deals entering late", "reported", int(funnel["late_entries"].fillna(0).sum()), True, "survival analysis",
         f"spells begun before {model.observed_from.date()} enter the risk set late"),
    ]
    # Counts and weights are written as text so that one column can hold both without turning 6711 into 6711.0.
    shown = [(g, r, f"{v:g}" if isinstance(v, float) else str(v), bool(m), s, c) for g, r, v, m, s, c in rows]
    return pd.DataFrame(shown, columns=["gate", "requirement", "value", "met", "source", "consequence"])
