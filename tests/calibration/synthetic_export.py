"""A small generator of CRM exports with known parameters, independent of the simulator: deals arrive as a
Poisson process, pass each stage with a known per-rep probability after a log-normal dwell, and are written as a
Salesforce API-name export (Opportunity.csv with a product column, OpportunityHistory.csv) as of a given day.

The truth it was drawn from is returned with it, so tests can check that calibration recovers it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import calibration

STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote"]  # names of the salesforce preset


@dataclass
class Truth:
    """Parameters of a synthetic export."""

    start: dt.date = dt.date(2022, 1, 1)
    months: int = 18
    arrivals_per_month: float = 150.0
    month_of_quarter: tuple[float, float, float] = (1.0, 1.0, 1.0)
    conversion: tuple[float, ...] = (0.6, 0.7, 0.55)
    mean_days: tuple[float, ...] = (12.0, 20.0, 15.0)
    cv: tuple[float, ...] = (0.6, 0.6, 0.6)
    lost_days_factor: float = 1.0  # a lost spell's dwell over a passed one's (1 = cause-independent)
    reps: int = 12
    rep_skill_sd: float = 0.0  # sd of log skill across reps
    products: dict[str, tuple[float, float]] = field(default_factory=lambda: {"Basic": (1000.0, 0.3),
                                                                             "Pro": (5000.0, 0.5)})
    product_mix: tuple[float, ...] = (0.7, 0.3)
    observed_from: dt.date | None = None  # deals that closed before it are missing from the export
    rep_skills: np.ndarray = field(default_factory=lambda: np.ones((0, 0)))
    # (rep, stage) -> factor on that rep's pass probability / dwell at that stage, on top of rep_skill_sd
    rep_conversion: dict[tuple[int, int], float] = field(default_factory=dict)
    rep_dwell: dict[tuple[int, int], float] = field(default_factory=dict)

    @property
    def end(self) -> pd.Timestamp:
        """Last day of the history (the export's day)."""
        return pd.Timestamp(self.start) + pd.DateOffset(months=self.months) - pd.Timedelta(days=1)


def _lognormal(rng: np.random.Generator, mean: float, cv: float, size: int) -> np.ndarray:
    s2 = np.log1p(cv * cv)
    return np.exp(np.log(mean) - s2 / 2.0 + np.sqrt(s2) * rng.standard_normal(size))


def simulate_deals(truth: Truth, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every deal and its full stage history (no export cut yet)."""
    rng = np.random.default_rng(seed)
    n_stages = len(truth.conversion)
    skills = np.exp(truth.rep_skill_sd * rng.standard_normal((truth.reps, n_stages)))
    skills /= skills.mean(axis=0, keepdims=True)
    for (r, s), factor in truth.rep_conversion.items():
        skills[r, s] *= factor
    truth.rep_skills = skills
    dwell_factor = np.ones((truth.reps, n_stages))
    for (r, s), factor in truth.rep_dwell.items():
        dwell_factor[r, s] = factor
    starts = pd.date_range(truth.start, periods=truth.months, freq="MS")
    rows = []
    for month_start in starts:
        days = month_start.days_in_month
        rate = truth.arrivals_per_month * truth.month_of_quarter[(month_start.month - 1) % 3]
        n = rng.poisson(rate)
        rows.append(month_start + pd.to_timedelta(rng.random(n) * days, unit="D"))
    created = pd.DatetimeIndex(np.sort(np.concatenate([r.to_numpy() for r in rows])))
    n = len(created)
    rep = rng.integers(0, truth.reps, n)
    names = list(truth.products)
    product = rng.choice(len(names), size=n, p=np.asarray(truth.product_mix) / sum(truth.product_mix))
    amount = np.empty(n)
    for k, name in enumerate(names):
        mean, cv = truth.products[name]
        sel = product == k
        amount[sel] = np.round(_lognormal(rng, mean, cv, int(sel.sum())), 2)
    hist_ids, hist_time, hist_stage = [], [], []
    outcome = np.empty(n, dtype=object)
    close = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    t = created.to_numpy(dtype="datetime64[ns]").copy()
    alive = np.ones(n, dtype=bool)
    ids = np.array([f"006{i:012d}" for i in range(n)])
    for s in range(n_stages):
        idx = np.flatnonzero(alive)
        hist_ids.append(ids[idx])
        hist_time.append(t[idx].copy())
        hist_stage.append(np.full(len(idx), STAGES[s], dtype=object))
        p = np.minimum(truth.conversion[s] * skills[rep[idx], s], 1.0)
        passed = rng.random(len(idx)) < p
        dwell = _lognormal(rng, truth.mean_days[s], truth.cv[s], len(idx)) * dwell_factor[rep[idx], s]
        dwell = np.where(passed, dwell, dwell * truth.lost_days_factor)
        t[idx] = t[idx] + (dwell * 86_400e9).astype("timedelta64[ns]")
        lost = idx[~passed]
        outcome[lost] = "Closed Lost"
        close[lost] = t[lost]
        alive[lost] = False
    won = np.flatnonzero(alive)
    outcome[won] = "Closed Won"
    close[won] = t[won]
    for kind in ("Closed Lost", "Closed Won"):
        sel = outcome == kind
        hist_ids.append(ids[sel])
        hist_time.append(close[sel])
        hist_stage.append(np.full(int(sel.sum()), kind, dtype=object))
    deals = pd.DataFrame({"Id": ids, "OwnerId": [f"005R{r:03d}" for r in rep], "AccountId":
                          [f"001A{a:04d}" for a in rng.integers(0, 200, n)], "Product2Name": np.array(names)[product],
                          "Amount": amount, "CreatedDate": created.to_numpy(), "outcome": outcome, "close": close})
    history = pd.DataFrame({"OpportunityId": np.concatenate(hist_ids), "CreatedDate": np.concatenate(hist_time),
                            "StageName": np.concatenate(hist_stage)})
    return deals, history.sort_values(["OpportunityId", "CreatedDate"], kind="stable").reset_index(drop=True)


def export_as_of(deals: pd.DataFrame, history: pd.DataFrame, day: pd.Timestamp,
                 observed_from: dt.date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables as a CRM would export them at the end of ``day``."""
    end = pd.Timestamp(day).normalize() + pd.Timedelta(days=1)
    d = deals[deals["CreatedDate"] < end].copy()
    h = history[history["CreatedDate"] < end]
    h = h[h["OpportunityId"].isin(d["Id"])]
    if observed_from is not None:
        gone = d["Id"][(d["close"] < pd.Timestamp(observed_from)).to_numpy()]
        d = d[~d["Id"].isin(gone)]
        h = h[~h["OpportunityId"].isin(gone)]
    last = h.groupby("OpportunityId").tail(1).set_index("OpportunityId")["StageName"]
    d["StageName"] = d["Id"].map(last)
    closed = d["StageName"].isin(["Closed Won", "Closed Lost"])
    d["IsClosed"] = np.where(closed, "true", "false")
    d["IsWon"] = np.where(d["StageName"] == "Closed Won", "true", "false")
    # An open deal's CloseDate is the rep's expected date, not a fact; exports carry one anyway.
    d["CloseDate"] = np.where(closed, d["close"].dt.strftime("%Y-%m-%d"),
                              (d["CreatedDate"] + pd.Timedelta(days=60)).dt.strftime("%Y-%m-%d"))
    d["CreatedDate"] = d["CreatedDate"].dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    h = h.assign(CreatedDate=h["CreatedDate"].dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000"))
    cols = ["Id", "OwnerId", "AccountId", "StageName", "Amount", "CloseDate", "CreatedDate", "IsClosed", "IsWon",
            "Product2Name"]
    return d[cols], h[["OpportunityId", "CreatedDate", "StageName"]]


def write_export(folder: Path, truth: Truth, seed: int, day: pd.Timestamp | None = None) -> Path:
    """Draw deals from ``truth`` and write the Salesforce export as of ``day`` (default: the history's end)."""
    deals, history = simulate_deals(truth, seed)
    opp, hist = export_as_of(deals, history, truth.end if day is None else day, truth.observed_from)
    folder.mkdir(parents=True, exist_ok=True)
    opp.to_csv(folder / "Opportunity.csv", index=False)
    hist.to_csv(folder / "OpportunityHistory.csv", index=False)
    return folder


def mapping() -> calibration.Mapping:
    """The salesforce preset with the generator's product column."""
    m = calibration.load_mapping(preset="salesforce")
    return m.model_copy(update={"opportunities": m.opportunities.model_copy(update={"product": "Product2Name"})})
