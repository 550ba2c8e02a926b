"""The timing fit of ``quotaflow calibrate --fit-timing``: the customer flexibility whose simulated month-of-quarter
profile of wins comes closest to an export's, under an assumed pay plan (method of simulated moments on a grid).

Procedure: every rep of the calibrated scenario is put on the assumed pay plan (default the bundled
``quarterly_bonus``: a CRM export does not say how its reps were paid, so this is an assumption, written into
the result); for each ``[behaviour] customer_flexibility`` on the grid the scenario is simulated ``replications``
times on the same customers (common random numbers), and the share of the horizon's wins in the first, second and
third month of each quarter is pooled over replications. The estimate is the grid value with the smallest sum of
squared differences from the export's shares (``calibration.estimate_timing``); the fit *reproduces* the export
when every simulated share lies inside the export's bootstrap interval. When no grid value does, the estimate is
not used: the scenario keeps its flexibility and the result says why. It lives in the application layer because
it needs both the calibration and the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import scenarios
import sim
from sim.deals import WON
from sim.incentives import IncentiveBehaviour

__all__ = ["FLEXIBILITY_GRID", "TimingFit", "fit_timing", "month_of_quarter_shares"]

FLEXIBILITY_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Customer flexibility values the fit simulates."""


@dataclass(frozen=True, eq=False)
class TimingFit:
    """The grid of simulated profiles and the estimate (None when no grid value reproduces the export)."""

    pay_plan: str
    replications: int
    grid: pd.DataFrame  # flexibility, month_1, month_2, month_3, distance, inside, pulled, pushed
    export: pd.DataFrame  # position, share, low, high (the export's profile)
    estimate: float | None

    def note(self) -> str:
        """One sentence for the calibration report."""
        best = self.grid.iloc[int(np.argmin(self.grid["distance"].to_numpy()))]
        shares = " / ".join(f"{best[f'month_{k}']:.3f}" for k in (1, 2, 3))
        target = " / ".join(f"{x:.3f}" for x in self.export["share"])
        if self.estimate is not None:
            return (f"timing fit: customer_flexibility {self.estimate:g} reproduces the export's month-of-quarter "
                    f"profile ({shares} simulated vs {target}) with reps on '{self.pay_plan}'")
        return (f"timing fit: no customer_flexibility on {list(self.grid['flexibility'])} reproduces the export's "
                f"month-of-quarter profile with reps on '{self.pay_plan}' (closest {best['flexibility']:g}: "
                f"{shares} simulated vs {target}); the scenario keeps its flexibility")


def month_of_quarter_shares(model: sim.Model, record: sim.RunRecord) -> np.ndarray:
    """Counts of the horizon's wins by month of quarter (first, second, third) in one replication."""
    closed = np.asarray(record.closed, dtype=float)
    won = (np.asarray(record.status) == WON) & (closed >= 0.0) & (closed < float(model.month_start[-1]))
    month = np.searchsorted(model.month_start, closed[won], side="right") - 1
    return np.bincount(month % 3, minlength=3).astype(float)


def fit_timing(scenario: scenarios.Scenario, export: pd.DataFrame, *, pay_plan: str = "quarterly_bonus",
               grid: tuple[float, ...] = FLEXIBILITY_GRID, replications: int = 8, seed: int = 1) -> TimingFit:
    """Estimate ``customer_flexibility`` from an export's month-of-quarter profile (see the module docstring).

    Parameters
    ----------
    scenario
        The calibrated scenario.
    export
        The export's profile: ``calibration.CloseTiming.month_of_quarter`` (position, share, low, high).
    pay_plan
        The pay plan every rep is assumed to have been paid under.
    grid, replications, seed
        Flexibility values, replications per value and root seed (the same customers for every value).

    Raises
    ------
    scenarios.ScenarioError
        ``pay_plan`` is not one of the scenario's pay plans.
    """
    if pay_plan not in scenario.settings.pay_plans:
        raise scenarios.ScenarioError(scenarios.Problem(
            file="scenario.toml", message=f"timing fit: pay plan '{pay_plan}' is not one of the scenario's pay plans",
            fix=f"choose one of {', '.join(scenario.settings.pay_plans)} with --timing-plan"))
    rows = []
    for flexibility in grid:
        s = scenarios.modify(scenario, {"behaviour.customer_flexibility": flexibility,
                                        "behaviour.timing_games": True})
        model = sim.build(s)
        behaviour = IncentiveBehaviour.from_model(model, [pay_plan] * model.n_seats)
        pay = sim.PayPlanPay.from_model(model, [pay_plan] * model.n_seats)
        counts = np.zeros(3)
        pulled = pushed = 0.0
        for child in np.random.SeedSequence(seed).spawn(replications):
            _, rec = sim.run_replication(model, child, behaviour, pay)
            counts += month_of_quarter_shares(model, rec)
            pulled += float(rec.pulled.sum())
            pushed += float(rec.pushed.sum())
        shares = counts / max(counts.sum(), 1.0)
        target = export["share"].to_numpy(float)
        inside = bool(((shares >= export["low"].to_numpy(float)) & (shares <= export["high"].to_numpy(float))).all())
        rows.append({"flexibility": flexibility, "month_1": shares[0], "month_2": shares[1], "month_3": shares[2],
                     "distance": float(((shares - target) ** 2).sum()), "inside": inside,
                     "pulled": pulled / replications, "pushed": pushed / replications})
    table = pd.DataFrame(rows)
    best = table.iloc[int(np.argmin(table["distance"].to_numpy()))]
    estimate = float(best["flexibility"]) if bool(best["inside"]) else None
    return TimingFit(pay_plan=pay_plan, replications=replications, grid=table,
                     export=export[["position", "share", "low", "high"]].reset_index(drop=True), estimate=estimate)
