"""Parameter recovery through the simulator: a scenario with known stage conversions, durations, arrival rate and
per-rep skills is simulated, its run written as a Salesforce export (``calibration.write_crm_export``) and
calibrated by ``calibration.calibrate`` (what ``quotaflow calibrate`` calls); the truth is compared with the
reported 90 % intervals.

The scenario is the bundled ``baseline`` (40 reps, 2,000 accounts, five stages) made clean enough that its
parameters are the ones an export can show: no new-business channels, every account a tier-A customer bringing
repeat deals as a Poisson process at ``DEALS_PER_ACCOUNT_YEAR`` entering at the first stage, flat seasonality, no
churn, attrition, training, ramp-up or tier and channel multipliers, an unlimited stall limit, and no rep effort
(``effort_hours = 0``), so that a stage's dwell in the export is the customer side's duration only (with effort,
the export's dwell would include queueing and work, which the simulator keeps apart from ``mean_days``).

The truth of each pooled quantity is what the simulator draws, averaged over the spells the run produced: the
conversion of stage s is the mean over its spells of ``min(conversion_s x skill_rs, 1)``, the mean dwell the mean
of ``mean_days_s / skill_rs`` (a rep's skill divides a stage's duration as it multiplies its conversion), the
arrivals per month ``accounts x DEALS_PER_ACCOUNT_YEAR / 12``, a rep's rate at a stage ``min(conversion_s x
skill_rs, 1)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import calibration
import scenarios
from sim import Model, build, simulate

DEALS_PER_ACCOUNT_YEAR = 1.5
"""Repeat deals per account a year: 2,000 accounts give 250 deals a month, about 90 a rep a year at the first
stage, so that per-rep rates are noisy enough for shrinkage to matter."""
SKILL_SD = 0.15
"""Spread (sd of log) of the reps' stage skills: a 0.55 stage then ranges about 0.41-0.74 across reps."""


def scenario(months: int = 12, skill_seed: int = 0) -> scenarios.Scenario:
    """The clean recovery scenario (module docstring), reps' skills drawn once from ``skill_seed``."""
    base = scenarios.load("baseline")
    st = base.settings
    changes: dict[str, object] = {
        "calendar.months": months, "calendar.seasonality": [1.0] * 12, "funnel.stall_days": 1e6,
        "simulation.tier_conversion": {"A": 1.0, "B": 1.0, "C": 1.0},
        "simulation.repeat_orders_per_year": {"A": DEALS_PER_ACCOUNT_YEAR, "B": 0.0, "C": 0.0},
        "simulation.repeat_skip_stages": 0, "simulation.base_churn_per_year": 0.0,
        "simulation.neglect_churn_per_quarter": 0.0, "simulation.training_hours_per_year": 0.0,
        "simulation.training_skill_gain": 0.0}
    for i in range(len(st.funnel.stages)):
        changes[f"funnel.stages.{i}.effort_hours"] = 0.0
    for tier in st.tiers:
        changes[f"tiers.{tier}.attrition_per_year"] = 0.0
        changes[f"tiers.{tier}.skill"] = {}
        changes[f"tiers.{tier}.ramp_months"] = 0
        changes[f"tiers.{tier}.promotion"] = None
    for ch in st.channels:
        changes[f"channels.{ch}.default_monthly_spend"] = 0.0
        changes[f"channels.{ch}.lead_quality"] = 1.0
    out = scenarios.modify(base, changes)
    rng = np.random.default_rng(skill_seed)
    reps = out.reps.drop(columns=[c for c in out.reps.columns if c.startswith("skill_")])
    skills = np.exp(SKILL_SD * rng.standard_normal((len(reps), len(out.stage_ids))))
    reps = reps.assign(**{f"skill_{sid}": skills[:, j] for j, sid in enumerate(out.stage_ids)})
    reps = reps.assign(hire_date=pd.Timestamp("2015-01-01"))
    owners = out.accounts["current_rep_id"].where(out.accounts["current_rep_id"].notna(),
                                                   pd.Series(reps.index[np.arange(len(out.accounts)) % len(reps)],
                                                             index=out.accounts.index))
    accounts = out.accounts.assign(status="customer", tier="A", current_rep_id=owners)
    out = out.replace(reps=reps, accounts=accounts)
    scenarios.check(out)
    return out


@dataclass
class Recovery:
    """One seed's truths and the calibration's reports."""

    funnel: pd.DataFrame  # per stage: truth and estimate with interval, for conversion and mean_days
    arrivals: dict[str, float]
    reps: pd.DataFrame  # per rep and stage: truth, raw, shrunk, interval
    notes: list[str] = field(default_factory=list)


def export_and_calibrate(model: Model, sc: scenarios.Scenario, seed: int,
                         folder: Path) -> tuple[calibration.CalibrationResult, pd.DataFrame]:
    """Simulate ``sc`` once with ``seed``, write the run as a CRM export into ``folder`` and calibrate it as of the
    horizon's last day: the calibration and the run's stage history."""
    res = simulate(model, replications=1, seed=seed, deal_log=True)
    assert res.deal_log is not None
    deals, history = res.deal_log
    stages = sc.settings.funnel.stages
    calibration.write_crm_export(deals, history, folder, stages=[s.name for s in stages],
                                 stage_ids=[s.id for s in stages])
    cal = sc.settings.calendar
    last_day = (pd.Timestamp(dt.date(cal.start.year, cal.start.month, 1)) + pd.DateOffset(months=cal.months)
                - pd.Timedelta(days=1)).date()
    result = calibration.calibrate(folder, calibration.load_mapping(path=folder / "mapping.toml"), as_of=last_day,
                                   seed=seed)
    return result, history


def recover(sc: scenarios.Scenario, seed: int, folder: Path) -> Recovery:
    """Simulate ``sc`` once with ``seed``, export, calibrate, and line the truth up against the estimates."""
    model = build(sc)
    result, history = export_and_calibrate(model, sc, seed, folder)

    # spells per rep and stage, from the run's own stage entries
    entries = history[history["kind"] == "open"]
    seat = entries["seat"].to_numpy()
    stage = pd.Categorical(entries["stage_id"], categories=sc.stage_ids).codes
    counts = np.zeros((model.n_seats, len(sc.stage_ids)))
    np.add.at(counts, (seat, stage), 1.0)
    p = np.minimum(model.conversion[None, :] * model.skill, 1.0)
    days = model.mean_days[None, :] / model.skill
    weights = counts / counts.sum(axis=0, keepdims=True)
    truth_conv = (weights * p).sum(axis=0)
    truth_days = (weights * days).sum(axis=0)
    est = result.funnel.set_index("stage_id").reindex(sc.stage_ids)
    funnel = pd.DataFrame({"stage_id": sc.stage_ids, "conversion_true": truth_conv, "mean_days_true": truth_days})
    for col in ("conversion", "conversion_low", "conversion_high", "mean_days", "mean_days_low", "mean_days_high",
                "duration_method"):
        funnel[col] = est[col].to_numpy()
    arr = result.arrivals
    arrivals = {"true": len(sc.accounts) * DEALS_PER_ACCOUNT_YEAR / 12.0, "level": arr.level,
                "low": arr.level_low, "high": arr.level_high}
    skills = result.rep_skills
    seat_of = {r: i for i, r in enumerate(model.rep_ids)}
    stage_of = {s: j for j, s in enumerate(sc.stage_ids)}
    rows = skills[skills["stage_id"].isin(stage_of)].copy()
    rows["rate_true"] = [p[seat_of[str(r)], stage_of[str(s)]] for r, s in zip(rows["rep"], rows["stage_id"],
                                                                               strict=True)]
    flags = result.rep_pooling.set_index("stage_id")["indistinguishable"]
    rows["indistinguishable"] = rows["stage_id"].map(flags).fillna(False).astype(bool).to_numpy()
    reps = rows[["rep", "stage_id", "trials", "rate_true", "raw_rate", "shrunk_rate", "rate_low", "rate_high",
                 "indistinguishable"]]
    return Recovery(funnel=funnel, arrivals=arrivals, reps=reps.reset_index(drop=True), notes=result.notes)


def coverage(runs: list[Recovery]) -> dict[str, float]:
    """Share of 90 % intervals holding the truth, per kind of estimate, and the per-rep errors."""
    f = pd.concat([r.funnel for r in runs])
    reps = pd.concat([r.reps for r in runs])
    conv = (f["conversion_low"] <= f["conversion_true"]) & (f["conversion_true"] <= f["conversion_high"])
    days = (f["mean_days_low"] <= f["mean_days_true"]) & (f["mean_days_true"] <= f["mean_days_high"])
    arr = [r.arrivals["low"] <= r.arrivals["true"] <= r.arrivals["high"] for r in runs]
    rep_hit = (reps["rate_low"] <= reps["rate_true"]) & (reps["rate_true"] <= reps["rate_high"])
    pooled = reps["indistinguishable"].to_numpy(dtype=bool)
    return {"conversion": float(conv.mean()), "mean_days": float(days.mean()), "arrivals": float(np.mean(arr)),
            "rep_rates": float(rep_hit.mean()),
            "rep_rates_distinguishable": float(rep_hit[~pooled].mean()) if (~pooled).any() else float("nan"),
            "rep_rates_indistinguishable": float(rep_hit[pooled].mean()) if pooled.any() else float("nan"),
            "checks_indistinguishable": float(pooled.sum()), "checks_conversion": float(len(f)),
            "checks_reps": float(len(reps)),
            "rmse_raw": float(np.sqrt(np.mean((reps["raw_rate"] - reps["rate_true"]) ** 2))),
            "rmse_shrunk": float(np.sqrt(np.mean((reps["shrunk_rate"] - reps["rate_true"]) ** 2)))}
