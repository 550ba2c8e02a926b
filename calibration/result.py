"""The result of a calibration: the scenario, every estimate as a table, the cleaning and sufficiency reports, a
JSON summary and a readable report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import scenarios
from calibration.arrivals import ArrivalModel
from calibration.model import CrmModel
from calibration.timing import CloseTiming

__all__ = ["CalibrationResult", "DiagnosisResult"]


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts (typed access for the checker, unlike ``itertuples``)."""
    return [{str(k): v for k, v in rec.items()} for rec in frame.to_dict(orient="records")]


def _num(x: Any) -> Any:
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _num(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Everything ``calibrate`` produced. ``tables()`` gives every estimate as a frame; ``summary()`` the JSON
    record; ``report()`` a one-page text report."""

    scenario: scenarios.Scenario
    model: CrmModel
    mapping_name: str
    cleaning: pd.DataFrame
    sufficiency: pd.DataFrame
    funnel: pd.DataFrame
    rep_skills: pd.DataFrame
    rep_pooling: pd.DataFrame
    rep_tiers: pd.DataFrame
    arrivals: ArrivalModel
    arrivals_by_owner: pd.DataFrame
    arrivals_by_region: pd.DataFrame
    arrivals_by_account: pd.DataFrame
    deal_sizes: pd.DataFrame
    timing: CloseTiming
    files: dict[str, dict[str, object]]
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every estimate and report as a table, keyed by the CSV name it is written to (without ``.csv``)."""
        arr = self.arrivals
        level = pd.DataFrame([{"estimate": "arrivals_per_month", "value": arr.level, "low": arr.level_low,
                               "high": arr.level_high, "months": int((arr.counts["exposure"] > 0).sum()),
                               "deals": int(arr.counts["arrivals"].sum()), "dispersion": arr.dispersion,
                               "season": arr.season_kind},
                              {"estimate": "trend_per_year", "value": arr.trend_per_year, "low": arr.trend_low,
                               "high": arr.trend_high, "months": int((arr.counts["exposure"] > 0).sum()),
                               "deals": int(arr.counts["arrivals"].sum()), "dispersion": arr.dispersion,
                               "season": arr.season_kind}])
        return {
            "cleaning_report": self.cleaning,
            "sufficiency": self.sufficiency,
            "estimates/funnel": self.funnel,
            "estimates/rep_skills": self.rep_skills,
            "estimates/rep_pooling": self.rep_pooling,
            "estimates/rep_tiers": self.rep_tiers,
            "estimates/arrivals": level,
            "estimates/arrivals_monthly": arr.counts.drop(columns=["start"]),
            "estimates/arrivals_terms": arr.tests,
            "estimates/arrivals_season": arr.season,
            "estimates/arrivals_by_owner": self.arrivals_by_owner,
            "estimates/arrivals_by_region": self.arrivals_by_region,
            "estimates/arrivals_by_account": self.arrivals_by_account,
            "estimates/deal_sizes": self.deal_sizes,
            "estimates/timing_month_of_quarter": self.timing.month_of_quarter,
            "estimates/timing_quarters": self.timing.per_quarter,
            "estimates/timing_december": self.timing.december,
            **({"estimates/timing_calendar": self.timing.calendar.table} if self.timing.calendar is not None else {}),
        }

    def counts(self) -> dict[str, int]:
        """Deals by outcome after cleaning."""
        kinds = self.model.opportunities["kind"].value_counts()
        return {"opportunities": len(self.model.opportunities), "open_censored": int(kinds.get("open", 0)),
                "won": int(kinds.get("won", 0)), "lost": int(kinds.get("lost", 0)),
                "stage_changes": len(self.model.history)}

    def summary(self) -> dict[str, Any]:
        """The ``calibration.json`` record: source, window, counts, cleaning, gates, every headline estimate with
        its interval and sample size, and the notes."""
        arr = self.arrivals
        return {
            "mapping": self.mapping_name,
            "files": self.files,
            "as_of": str(self.model.as_of.date()),
            "observed_from": str(self.model.observed_from.date()),
            "currency": self.model.currency,
            "collapsed_funnel": self.model.collapsed,
            "counts": self.counts(),
            "cleaning": _records(self.cleaning[["reason", "file", "action", "rows"]]),
            "sufficiency": _records(self.sufficiency),
            "funnel": _records(self.funnel),
            "rep_pooling": _records(self.rep_pooling),
            "arrivals": {"per_month": arr.level, "low": arr.level_low, "high": arr.level_high,
                         "trend_per_year": arr.trend_per_year, "trend_low": arr.trend_low,
                         "trend_high": arr.trend_high, "season": arr.season_kind, "dispersion": arr.dispersion,
                         "months": int((arr.counts["exposure"] > 0).sum()),
                         "deals": int(arr.counts["arrivals"].sum()),
                         "seasonality": _records(arr.season)},
            "deal_sizes": _records(self.deal_sizes),
            "timing": {"quarters": self.timing.quarters,
                       "month_of_quarter": _records(self.timing.month_of_quarter),
                       "december": _records(self.timing.december),
                       **({"calendar": self.calendar_summary()} if self.timing.calendar is not None else {})},
            "scenario": {"name": self.scenario.name, "reps": len(self.scenario.reps),
                         "accounts": len(self.scenario.accounts), "stages": self.scenario.stage_ids,
                         "products": list(self.scenario.settings.products)},
            "notes": self.notes,
        }

    def calendar_summary(self) -> dict[str, Any]:
        """The calendar of closes by outcome and length: the split, how it was found, the table and its reading."""
        cal = self.timing.calendar
        assert cal is not None
        return {"split_days": cal.split_days, "split_rule": cal.split_rule, "reading": cal.reading,
                "shares": _records(cal.table)}

    def report(self) -> str:
        """A one-page text report (also written as ``report.md``)."""
        c = self.counts()
        lines = [f"# Calibration of a CRM export ({self.mapping_name})", "",
                 f"Window {self.model.observed_from.date()} to {self.model.as_of.date()} (as of). "
                 f"{c['opportunities']} opportunities after cleaning: {c['won']} won, {c['lost']} lost, "
                 f"{c['open_censored']} open and right-censored at the as-of date.", ""]
        excluded = self.cleaning[self.cleaning["action"] == "excluded"]["rows"].sum()
        repaired = self.cleaning[self.cleaning["action"] == "repaired"]["rows"].sum()
        cleaned = ", ".join(f"{e['reason']} {e['rows']}" for e in _rows(self.cleaning))
        lines += [f"Cleaning: {int(excluded)} rows excluded, {int(repaired)} repaired "
                  f"({cleaned or 'none'}).", "",
                  "## Funnel (90 % intervals)", "",
                  "| stage | spells | censored | late entries | conversion | naive won/closed | mean days |",
                  "|---|---|---|---|---|---|---|"]
        for r in _rows(self.funnel):
            conv = (f"{r['conversion']:.3f} [{r['conversion_low']:.3f}, {r['conversion_high']:.3f}]"
                    if pd.notna(r['conversion']) else "not estimable")
            days = (f"{r['mean_days']:.1f} [{r['mean_days_low']:.1f}, {r['mean_days_high']:.1f}]"
                    if pd.notna(r['mean_days']) else "-")
            naive = f"{r['naive_conversion']:.3f}" if pd.notna(r['naive_conversion']) else "-"
            lines.append(f"| {r['stage']} | {r['spells']} | {r['censored']} | {r['late_entries']} | {conv} | "
                         f"{naive} | {days} |")
        lines += ["", "## Reps (empirical-Bayes shrinkage)", "",
                  "| stage | reps | raw rate sd | shrunk rate sd | between-rep sd | median own-data weight | "
                  "indistinguishable |", "|---|---|---|---|---|---|---|"]
        for r in _rows(self.rep_pooling):
            lines.append(f"| {r['stage']} | {r['reps']} | {r['raw_rate_sd']:.4f} | {r['shrunk_rate_sd']:.4f} | "
                         f"{r['between_rep_sd']:.4f} | {r['own_weight_median']:.3f} | {r['indistinguishable']} |")
        arr = self.arrivals
        trend = "none supported" if arr.trend_per_year is None else \
            f"x{arr.trend_per_year:.3f} a year [{arr.trend_low:.3f}, {arr.trend_high:.3f}]"
        lines += ["", "## Arrivals", "",
                  f"{arr.level:.1f} opportunities a month [{arr.level_low:.1f}, {arr.level_high:.1f}] over "
                  f"{int((arr.counts['exposure'] > 0).sum())} months; trend {trend}; seasonality "
                  f"{arr.season_kind.replace('_', ' ')}; overdispersion {arr.dispersion:.2f}.", "",
                  "## Timing of wins", "",
                  f"Complete quarters: {', '.join(self.timing.quarters) or 'none'}.", "",
                  "| month of quarter | wins | share [90 % bootstrap] |", "|---|---|---|"]
        for r in _rows(self.timing.month_of_quarter):
            lines.append(f"| {r['position']} | {r['wins']} | {r['share']:.3f} [{r['low']:.3f}, {r['high']:.3f}] |")
        for r in _rows(self.timing.december):
            lines.append(f"\nDecember {r['year']}: {r['measure'].replace('_', ' ')} {r['value']:.3f} [{r['low']:.3f}, "
                         f"{r['high']:.3f}] ({r['months_covered']} months covered).")
        cal = self.timing.calendar
        if cal is not None:
            rule = ("the valley of the cycle times' density" if cal.split_rule == "valley"
                    else "no clear second mode in the cycle times: a month")
            lines += ["", f"Closes by outcome and deal length (long: open more than {cal.split_days:g} days, {rule}):",
                      "", "| outcome | length | closes | month 1 | month 2 | month 3 |", "|---|---|---|---|---|---|"]
            for r in _rows(cal.table):
                lines.append(f"| {r['outcome']} | {r['length']} | {r['closes']} | "
                             + " | ".join(f"{r[f'month_{k}']:.3f}" for k in (1, 2, 3)) + " |")
            lines += ["", f"Reading: {cal.reading}."]
        lines += ["", "## Data sufficiency", "", "| gate | requirement | value | met |", "|---|---|---|---|"]
        for r in _rows(self.sufficiency):
            lines.append(f"| {r['gate']} | {r['requirement']} | {r['value']} | {'yes' if r['met'] else 'no'} |")
        lines += ["", "## Notes (defaults and what the scenario cannot hold)", ""]
        lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, eq=False)
class DiagnosisResult:
    """The granular funnel view of an export (``calibration.diagnose_export``): ``diagnosis`` has one row per rep,
    open stage and measure (``calibration.diagnosis.DIAGNOSIS_COLUMNS``); ``cleaning`` says what was excluded or
    repaired on the way."""

    model: CrmModel
    mapping_name: str
    diagnosis: pd.DataFrame
    cleaning: pd.DataFrame
    files: dict[str, dict[str, object]]
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """``diagnosis`` and ``cleaning_report``, keyed by the CSV name each is written to."""
        return {"diagnosis": self.diagnosis, "cleaning_report": self.cleaning}

    def flagged(self) -> pd.DataFrame:
        """The rep-stages credibly worse than their peers (a coaching list), worst first within each measure."""
        d = self.diagnosis
        return d[d["credibly_worse"].astype(bool)].sort_values(["measure", "prob_worse"], ascending=[True, False])

    def summary(self) -> dict[str, Any]:
        """The JSON record: source, as-of day, what was diagnosed, and every credibly worse rep-stage."""
        d = self.diagnosis
        return {"mapping": self.mapping_name, "files": self.files, "as_of": str(self.model.as_of.date()),
                "observed_from": str(self.model.observed_from.date()),
                "reps": int(d["rep"].nunique()), "stages": sorted(set(d["stage_id"].astype(str))),
                "rows": len(d), "credibly_worse": _records(self.flagged()),
                "cleaning": _records(self.cleaning[["reason", "file", "action", "rows"]]), "notes": self.notes}

    def __repr__(self) -> str:
        flagged = self.flagged()
        reps, stages = self.diagnosis["rep"].nunique(), self.diagnosis["stage_id"].nunique()
        lines = [f"Diagnosis of {reps} rep{'s' * (reps != 1)} at {stages} open stage{'s' * (stages != 1)}, "
                 f"as of {self.model.as_of.date()} (90 % intervals; "
                 "credibly worse = the interval lies wholly on the worse side of the peer median)."]
        if flagged.empty:
            lines.append("Credibly worse than peers: none.")
        else:
            lines.append("Credibly worse than peers:")
            for r in _rows(flagged):
                unit = "" if r["measure"] == "conversion" else " days"
                lines.append(f"  {r['rep']} at {r['stage']} ({r['measure']}): {r['shrunk']:.3g}{unit} "
                             f"[{r['low']:.3g}, {r['high']:.3g}] vs peer median {r['peer_median']:.3g}{unit}, "
                             f"P(worse) {r['prob_worse']:.3f}, n {r['n']}")
                lines.extend(_lift_line(r))
        return "\n".join(lines)


def _lift_line(r: dict[str, Any]) -> list[str]:
    """The simulated effect of lifting a flagged rep-stage to the peer median, when the diagnosis carries it
    (``quotaflow.lift``): a line of figures, or why there is none."""
    effect = r.get("lift_won_deals")
    if effect is not None and effect == effect:
        hours = r["lift_training_hours"]
        cost = (f"about {hours:.0f} training hours at the scenario's pace" if hours == hours
                else "the scenario's training gives no skill gain")
        return [f"    lifted to the peer median (skill {r['lift_skill_from']:.3g} -> {r['lift_skill_to']:.3g}, "
                f"{cost}): "
                f"{r['lift_won_deals']:+.3g} won deals [{r['lift_won_deals_low']:+.3g}, "
                f"{r['lift_won_deals_high']:+.3g}] and {r['lift_won_value']:+,.0f} won value "
                f"[{r['lift_won_value_low']:+,.0f}, {r['lift_won_value_high']:+,.0f}] a year closed by the rep; "
                f"team {r['lift_team_won_deals']:+.3g} won deals [{r['lift_team_won_deals_low']:+.3g}, "
                f"{r['lift_team_won_deals_high']:+.3g}] and {r['lift_team_won_value']:+,.0f} won value "
                f"[{r['lift_team_won_value_low']:+,.0f}, {r['lift_team_won_value_high']:+,.0f}] "
                f"({int(r['lift_replications'])} paired replications, 90 % intervals)"]
    note = r.get("lift_note")
    return [f"    {note}"] if isinstance(note, str) and note else []
