"""The back-test of ``quotaflow backtest``: at each cutoff, the calibrated simulator run from that day's open
pipeline beside the two naive baselines, all scored against what happened.

For each cutoff: the export as it stood that day (``calibration.backtest_data``: the open pipeline from that day's
rows only), a scenario calibrated on the same day's data (``calibration.calibrate(..., as_of=cutoff)``) whose
calendar is set to the horizon months, the simulator run from that pipeline (``sim.won_by_month``) and its
quantiles (``sim.forecast_quantiles``); then the weighted pipeline and the seasonal naive
(``calibration.baseline_forecasts``) and the scores of all three (``calibration.score_forecasts``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import calibration
import scenarios
import sim
from calibration.baselines import DRAWS

__all__ = ["BASELINE_DRAWS", "BacktestResult", "run_backtest", "simulator_forecast"]

BASELINE_DRAWS = DRAWS
"""Monte Carlo draws of each baseline's predictive quantiles by default (``calibration.baselines.DRAWS``)."""


def simulator_forecast(export: str | os.PathLike[str], mapping: calibration.Mapping, data: calibration.BacktestData,
                       *, replications: int, seed: int,
                       encoding: str | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """The simulator's forecast rows for one cutoff (``model = "simulator"``), and facts worth reporting.

    The scenario is calibrated on the cutoff's data only; its calendar starts the day after the cutoff and runs
    the horizon. The cutoff's open deals keep their owner, stage, days in stage, age and amount as known that day;
    each gets its account when the calibrated scenario has it and the scenario's product id. Facts: the win
    probability of a new deal (decided share x conversion over the stages), the share of new deals that never get
    a decision, and the mean chance that a deal of the open pipeline is one (``sim.no_decision_given_open``).
    """
    cutoff = data.cutoff.date()
    horizon = len(data.actuals)
    cal = calibration.calibrate(export, mapping, as_of=cutoff, seed=seed, encoding=encoding)
    scen = scenarios.modify(cal.scenario, {"calendar.start": (data.cutoff + pd.Timedelta(days=1)).date(),
                                           "calendar.months": horizon})
    product_id = {p.name: pid for pid, p in scen.settings.products.items()}
    opps = data.model.opportunities
    pipe = data.pipeline.assign(
        account=opps["account"].reindex(data.pipeline["opportunity_id"]).to_numpy(dtype=object),
        product=data.pipeline["product"].map(product_id))
    pipe["account"] = pipe["account"].where(pipe["account"].isin(scen.accounts.index))
    model = sim.build(scen)
    opened = sim.open_deals(model, pipe)
    draws = sim.won_by_month(model, opened, replications=replications, seed=seed)
    rows = sim.forecast_quantiles(draws, cutoff=str(cutoff), months=[str(m) for m in data.months])
    funnel = cal.funnel.dropna(subset=["conversion"])
    decided = 1.0 - funnel["no_decision_share"].fillna(0.0)
    # the chance that an open deal is one that never gets a decision, given its days in stage (at skill 1)
    silent = sim.no_decision_given_open(model.mean_days[opened.stage], model.spread[opened.stage],
                                        model.gamma_stage[opened.stage], opened.in_stage,
                                        model.no_decision[opened.stage])
    facts = {"open_deals": float(len(pipe)), "known_amounts": float(pipe["amount"].notna().sum()),
             "win_probability": float(np.prod(funnel["conversion"] * decided)),
             "no_decision_share": float(1.0 - np.prod(decided)),
             "pipeline_no_decision": float(silent.mean()) if len(silent) else 0.0,
             "arrivals_per_month": float(cal.arrivals.level),
             "sim_mean_won_deals": float(draws["won_deals"].mean()),
             "sim_mean_won_value": float(draws["won_value"].mean())}
    return rows, facts


def _num(x: Any) -> Any:
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Scored forecasts of every cutoff: ``detail`` (``backtest.csv``: one row per cutoff, month, metric and model)
    and ``scores`` (``backtest_summary.csv``: per metric and model), with the simulator's facts per cutoff."""

    detail: pd.DataFrame
    scores: pd.DataFrame
    facts: dict[str, dict[str, float]]
    settings: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """``backtest`` and ``backtest_summary``."""
        return {"backtest": self.detail, "backtest_summary": self.scores}

    def summary(self) -> dict[str, Any]:
        """The JSON record: settings, the simulator's facts per cutoff and every model's scores."""
        return {**self.settings, "simulator": self.facts,
                "scores": [{str(k): _num(v) for k, v in r.items()} for r in self.scores.to_dict(orient="records")]}

    def __repr__(self) -> str:
        cols = ["metric", "model", "coverage_80", "pinball_mean", "ape_median"]
        shown = self.scores.sort_values(["metric", "model"])[[c for c in cols if c in self.scores.columns]]
        return ("Back-test scores (80 % interval coverage, mean pinball loss at 0.1/0.5/0.9, mean absolute "
                "percentage error of the median):\n" + shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def run_backtest(export: str | os.PathLike[str], mapping: calibration.Mapping, cutoffs: Sequence[dt.date],
                 horizon: int, *, replications: int, seed: int, draws: int = BASELINE_DRAWS,
                 encoding: str | None = None) -> BacktestResult:
    """Back-test the calibrated simulator and both baselines at every cutoff over ``horizon`` months.

    Raises
    ------
    calibration.CalibrationError
        A bad export or mapping, a cutoff that is not a month end, or a horizon running past the export's day.
    """
    full = calibration.build_model(export, mapping, encoding=encoding)[0]
    data = [calibration.backtest_data(export, mapping, c, horizon, full=full, encoding=encoding) for c in cutoffs]
    baselines, _ = calibration.baseline_forecasts(data, draws=draws, seed=seed)
    sim_rows, facts = [], {}
    for d in data:
        rows, fact = simulator_forecast(export, mapping, d, replications=replications, seed=seed, encoding=encoding)
        sim_rows.append(rows)
        facts[str(d.cutoff.date())] = fact
    forecasts = pd.concat([baselines, *sim_rows], ignore_index=True)
    detail, scores = calibration.score_forecasts(forecasts, calibration.actuals_table(data))
    settings = {"mapping": mapping.name, "cutoffs": [str(c) for c in cutoffs], "horizon_months": horizon,
                "replications": replications, "baseline_draws": draws, "seed": seed}
    return BacktestResult(detail=detail, scores=scores, facts=facts, settings=settings)
