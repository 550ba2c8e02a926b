"""The timing fit of ``quotaflow calibrate --fit-timing``: the customer shares for the two timing games (signing
early for a discount, agreeing to wait) and the closing speed's elasticity to the reps' effort whose simulated
period-end profile of wins comes closest to an export's, under an assumed pay plan (method of simulated moments on
a grid).

Procedure: every rep of the calibrated scenario is put on the assumed pay plan (default the bundled
``quarterly_bonus``: a CRM export does not say how its reps were paid, so this is an assumption, written into
the result and the manifest). For each pair (``[behaviour] customer_pull_share``, ``customer_push_share``) on the
grid the scenario is simulated ``replications`` times on the same customers (common random numbers). The moments
are the share of wins in the first, second and third month of each calendar quarter, pooled over replications,
and, where the export covers a December (``calibration.CloseTiming.december``), December's measure for that year:
its share of the year's wins, or December's wins over the average month of the covered part of the year, taken
over the same calendar months of the simulated horizon. Each moment's distance is weighted by its bootstrap
interval (squared difference over the squared half-width, a diagonal weighting matrix); the estimate is the grid
pair with the smallest sum. The fit *reproduces* the export when every simulated moment lies inside the export's
interval.

Effort is the second channel beside timing (Steenburgh 2008; Chung, Steenburgh & Sudhir 2014): a calibrated
stage records no rep hours, so the reps' effort acts on it through ``[behaviour] closing_speed_elasticity`` (the
customer side runs at ``(hours / norm) ** elasticity``, ``sim.processes``). It is fitted jointly with the pull
share: with the push share held at the first step's estimate, every pair (pull share, elasticity) of the grid is
simulated on the same customers, and the estimate is the (pull, push, elasticity) of smallest distance over both
steps. Only 3 + 1 moments carry the fit (the three month shares sum to one: two degrees of freedom, plus
December), so ``grid`` keeps the distance of every point: how flat it is around the estimate is the honest
statement of what the export identifies.

When no pair reproduces the export, the last step adds the customer side as a residual: with the reps' shares held
at their estimate, the share of buyers who wait for the quarter end (``[simulation] quarter_end_waiting``) is
fitted on its own grid by the same distance, and reported apart from the reps' games; it is used only when it
brings the profile closer.

Before that residual, the process side: long deals whose outcome waits for the quarter's review (``[simulation]
decision_calendar``, with the export's split between short and long deals as ``decision_calendar_days``,
``calibration.CloseCalendar``). With the reps' shares and elasticity held at their estimate, each share of
``calendar_grid`` is simulated on the same customers; the calendar is used when a share brings the profile closer
than the reps' estimate alone, and the residual waiting is then fitted on top of it. The distance stays on the
wins' moments; the simulated month shares of losses (``lost_month_1`` …, stage losses only: deals never decided
are not closes) are kept beside them for every point, to be read against the export's losses as a check the
fit did not use. It lives in the application layer because it needs both the calibration and the
simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import scenarios
import sim
from sim.deals import LOST, LOST_STAGE, WON
from sim.incentives import IncentiveBehaviour

__all__ = ["CALENDAR_GRID", "ELASTICITY_GRID", "SHARE_GRID", "WAITING_GRID", "TimingFit", "december_measure",
           "fit_timing", "month_of_quarter_shares"]

SHARE_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Customer pull and push shares the fit simulates (every pair)."""

ELASTICITY_GRID = (0.0, 1.0, 2.0, 4.0, 8.0)
"""Closing-speed elasticities to effort the fit simulates with every pull share (0: effort acts through hours only;
the reps' weekly hours move about +-10 % around the norm, so 8 paces a stage about 2x faster or slower)."""

CALENDAR_GRID = (0.25, 0.5, 0.75, 1.0)
"""Shares of long deals held for the quarter's review that the calendar step simulates (0 is the reps' estimate), on the
same 0.25 steps as the customer shares."""

WAITING_GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
"""Quarter-end waiting shares the residual step simulates."""

_MOMENTS = ("month_1", "month_2", "month_3")


@dataclass(frozen=True, eq=False)
class TimingFit:
    """The grid of simulated moments and the estimate.

    ``grid`` has one row per simulated point: ``pull_share``, ``push_share``, ``closing_speed_elasticity``,
    ``quarter_end_waiting``, the moments ``month_1`` … ``month_3`` and ``december`` (NaN without a December in the
    export), ``distance``, ``inside`` and the games a year (``pulled``, ``pushed``, ``waited``). ``pull_share`` /
    ``push_share`` / ``elasticity`` are the minimum-distance point of the reps' games and effort; ``waiting`` the
    residual share (None when the reps' response reproduces the export or waiting does not bring it closer).
    """

    pay_plan: str
    replications: int
    grid: pd.DataFrame
    export: pd.DataFrame  # moment, share, low, high (the export's moments)
    pull_share: float
    push_share: float
    waiting: float | None
    elasticity: float = 0.0
    calendar: float = 0.0
    calendar_days: float | None = None

    @property
    def reproduces(self) -> bool:
        """Every simulated moment of the chosen point lies inside the export's interval."""
        return bool(self.chosen["inside"])

    @property
    def chosen(self) -> pd.Series:
        """The grid row of the estimate (with the residual waiting share when it is used)."""
        g = self.grid
        wait = 0.0 if self.waiting is None else self.waiting
        return g[self._at(g) & (g["quarter_end_waiting"] == wait)].iloc[0]

    def _at(self, g: pd.DataFrame) -> pd.Series:
        return ((g["pull_share"] == self.pull_share) & (g["push_share"] == self.push_share)
                & (g["closing_speed_elasticity"] == self.elasticity) & (g["decision_calendar"] == self.calendar))

    def settings(self) -> dict[str, float]:
        """The what-if changes that put the estimate into a scenario."""
        out = {"behaviour.customer_pull_share": self.pull_share, "behaviour.customer_push_share": self.push_share,
               "behaviour.closing_speed_elasticity": self.elasticity}
        if self.calendar_days is not None:
            out["simulation.decision_calendar"] = self.calendar
            out["simulation.decision_calendar_days"] = self.calendar_days
        if self.waiting is not None:
            out["simulation.quarter_end_waiting"] = self.waiting
        return out

    def note(self) -> str:
        """A few sentences for the calibration report."""
        def moments(row: pd.Series) -> str:
            text = " / ".join(f"{row[m]:.3f}" for m in _MOMENTS)
            return text + (f", December {row['december']:.3f}" if not np.isnan(row["december"]) else "")

        target = " / ".join(f"{x:.3f}" for x in self.export["share"].iloc[:3])
        if len(self.export) > 3:
            target += f", December {self.export['share'].iloc[3]:.3f}"
        games = self.grid[(self.grid["quarter_end_waiting"] == 0.0) & (self.grid["decision_calendar"] == 0.0)]
        reps = games[((games["pull_share"] == self.pull_share) & (games["push_share"] == self.push_share)
                      & (games["closing_speed_elasticity"] == self.elasticity))].iloc[0]
        text = (f"timing fit (reps on '{self.pay_plan}'): customer_pull_share {self.pull_share:g}, "
                f"customer_push_share {self.push_share:g}, closing_speed_elasticity {self.elasticity:g} "
                f"({moments(reps)} simulated vs {target}; "
                f"{reps['pulled']:.1f} pulls, {reps['pushed']:.1f} pushes a year)")
        if bool(reps["inside"]):
            return text + ": reproduces the export's profile within its intervals"
        text += ": the reps' games and effort alone do not reproduce the export's profile"
        if self.calendar_days is not None:
            if self.calendar > 0.0:
                cal = self.grid[self._at(self.grid) & (self.grid["quarter_end_waiting"] == 0.0)].iloc[0]
                text += (f"; the decision calendar (decision_calendar {self.calendar:g} of deals open longer than "
                         f"{self.calendar_days:g} days decided in the quarter's second month instead of its first, "
                         f"not the reps' doing) gives {moments(cal)}"
                         + (" and reproduces it" if bool(cal["inside"]) else ", still outside the intervals"))
                if bool(cal["inside"]):
                    return text
            else:
                text += "; the decision calendar does not bring it closer (decision_calendar 0)"
        if self.waiting is None:
            return text + "; customer-side quarter-end waiting does not bring it closer and is not used"
        row = self.chosen
        return (text + f"; the residual, customers waiting for the quarter end (quarter_end_waiting "
                f"{self.waiting:g}, not the reps' doing), gives {moments(row)}"
                + (" and reproduces it" if bool(row["inside"]) else ", still outside the intervals"))


def month_of_quarter_shares(model: sim.Model, record: sim.RunRecord) -> np.ndarray:
    """Counts of the horizon's wins by month of calendar quarter (first, second, third) in one replication."""
    return np.bincount((model.month_of_year - 1) % 3, weights=_monthly_wins(model, record), minlength=3)


def _monthly_wins(model: sim.Model, record: sim.RunRecord) -> np.ndarray:
    closed = np.asarray(record.closed, dtype=float)
    won = (np.asarray(record.status) == WON) & (closed >= 0.0) & (closed < float(model.month_start[-1]))
    month = np.searchsorted(model.month_start, closed[won], side="right") - 1
    return np.bincount(month, minlength=model.n_months).astype(float)


def _monthly_losses(model: sim.Model, record: sim.RunRecord) -> np.ndarray:
    """Deals the customer turned down at a stage, per month of the horizon (what a CRM closes as lost)."""
    closed = np.asarray(record.closed, dtype=float)
    lost = ((np.asarray(record.status) == LOST) & (np.asarray(record.lost_reason) == LOST_STAGE) & (closed >= 0.0)
            & (closed < float(model.month_start[-1])))
    month = np.searchsorted(model.month_start, closed[lost], side="right") - 1
    return np.bincount(month, minlength=model.n_months).astype(float)


def december_measure(model: sim.Model, monthly: np.ndarray, measure: str, months_covered: int) -> float:
    """The export's December measure on simulated monthly wins (``monthly``, summed over replications): December's
    share of the last ``months_covered`` calendar months ending with it, or its wins over their average month.
    NaN when the horizon holds no December with that many months before it."""
    decembers = np.flatnonzero(model.month_of_year == 12)
    decembers = decembers[decembers + 1 >= months_covered]
    if not len(decembers):
        return float("nan")
    d = int(decembers[0])
    window = monthly[d + 1 - months_covered:d + 1]
    total = float(window.sum())
    if total <= 0.0:
        return float("nan")
    share = float(monthly[d]) / total
    return share if measure == "december_share_of_year" else share * months_covered


def _export_moments(month_of_quarter: pd.DataFrame, december: pd.DataFrame | None) -> pd.DataFrame:
    mq = month_of_quarter
    rows = [{"moment": f"month_{k}", "share": share, "low": low, "high": high} for k, share, low, high in zip(
        mq["position"].astype(int), mq["share"].astype(float), mq["low"].astype(float), mq["high"].astype(float),
        strict=True)]
    if december is not None and len(december):
        last = december.iloc[-1]
        rows.append({"moment": "december", "share": float(last["value"]), "low": float(last["low"]),
                     "high": float(last["high"]), "measure": str(last["measure"]),
                     "months_covered": int(last["months_covered"])})
    return pd.DataFrame(rows)


def fit_timing(scenario: scenarios.Scenario, month_of_quarter: pd.DataFrame, december: pd.DataFrame | None = None,
               *, pay_plan: str = "quarterly_bonus", grid: tuple[float, ...] = SHARE_GRID,
               elasticity_grid: tuple[float, ...] = ELASTICITY_GRID, waiting_grid: tuple[float, ...] = WAITING_GRID,
               calendar_days: float | None = None, calendar_grid: tuple[float, ...] = CALENDAR_GRID,
               replications: int = 8, seed: int = 1) -> TimingFit:
    """Estimate ``customer_pull_share``, ``customer_push_share`` and ``closing_speed_elasticity`` from an export's
    period-end profile (see the module docstring).

    Parameters
    ----------
    scenario
        The calibrated scenario.
    month_of_quarter
        The export's profile: ``calibration.CloseTiming.month_of_quarter`` (position, share, low, high).
    december
        ``calibration.CloseTiming.december`` (its last year is used), or None / empty when the export covers no
        December.
    pay_plan
        The pay plan every rep is assumed to have been paid under.
    grid
        Pull and push shares; every pair is simulated (at elasticity 0).
    elasticity_grid
        Closing-speed elasticities; each is simulated with every pull share at the push share estimated first
        (only 0, or empty: effort is not fitted and the elasticity stays 0).
    waiting_grid
        Quarter-end waiting shares for the residual step (empty: no residual step).
    calendar_days
        The export's split between short and long deals (``calibration.CloseCalendar.split_days``); None: no
        calendar step, and the scenario's ``decision_calendar`` is left as it is.
    calendar_grid
        Shares of long deals held for the quarter's review (the calendar step, before the residual).
    replications, seed
        Replications per point and root seed (the same customers for every point).

    Raises
    ------
    scenarios.ScenarioError
        ``pay_plan`` is not one of the scenario's pay plans.
    """
    if pay_plan not in scenario.settings.pay_plans:
        raise scenarios.ScenarioError(scenarios.Problem(
            file="scenario.toml", message=f"timing fit: pay plan '{pay_plan}' is not one of the scenario's pay plans",
            fix=f"choose one of {', '.join(scenario.settings.pay_plans)} with --timing-plan"))
    export = _export_moments(month_of_quarter, december)
    target = export["share"].to_numpy(float)
    half = np.maximum((export["high"] - export["low"]).to_numpy(float) / 2.0, 1e-9)
    low, high = export["low"].to_numpy(float), export["high"].to_numpy(float)
    has_december = len(export) > 3

    def point(pull: float, push: float, waiting: float, elasticity: float = 0.0,
              calendar: float = 0.0) -> dict[str, float | bool]:
        changes: dict[str, object] = {"behaviour.customer_pull_share": pull, "behaviour.customer_push_share": push,
                                      "behaviour.closing_speed_elasticity": elasticity,
                                      "behaviour.timing_games": True,
                                      "simulation.quarter_end_waiting": waiting if waiting > 0.0 else None}
        if calendar_days is not None:
            changes["simulation.decision_calendar"] = calendar if calendar > 0.0 else None
            changes["simulation.decision_calendar_days"] = calendar_days
        s = scenarios.modify(scenario, changes)
        model = sim.build(s)
        behaviour = IncentiveBehaviour.from_model(model, [pay_plan] * model.n_seats)
        pay = sim.PayPlanPay.from_model(model, [pay_plan] * model.n_seats)
        monthly = np.zeros(model.n_months)
        lost = np.zeros(model.n_months)
        pulled = pushed = waited = 0.0
        for child in np.random.SeedSequence(seed).spawn(replications):
            _, rec = sim.run_replication(model, child, behaviour, pay)
            monthly += _monthly_wins(model, rec)
            lost += _monthly_losses(model, rec)
            pulled += float(rec.pulled.sum())
            pushed += float(rec.pushed.sum())
            waited += float(np.asarray(rec.waited).sum())
        counts = np.bincount((model.month_of_year - 1) % 3, weights=monthly, minlength=3)
        sim_moments = list(counts / max(counts.sum(), 1.0))
        dec = (december_measure(model, monthly, str(export["measure"].iloc[3]), int(export["months_covered"].iloc[3]))
               if has_december else float("nan"))
        if has_december:
            sim_moments.append(dec)
        x = np.asarray(sim_moments)
        usable = ~np.isnan(x)
        lost_q = np.bincount((model.month_of_year - 1) % 3, weights=lost, minlength=3)
        lost_q = lost_q / max(lost_q.sum(), 1.0)
        return {"pull_share": pull, "push_share": push, "closing_speed_elasticity": elasticity,
                "decision_calendar": calendar, "quarter_end_waiting": waiting,
                **{m: float(v) for m, v in zip(_MOMENTS, x[:3], strict=True)}, "december": dec,
                "distance": float((((x - target) / half)[usable] ** 2).sum()),
                "inside": bool(((x >= low) & (x <= high))[usable].all()),
                "pulled": pulled / replications, "pushed": pushed / replications, "waited": waited / replications,
                **{f"lost_month_{k + 1}": float(lost_q[k]) for k in range(3)}}

    rows = [point(pull, push, 0.0) for pull in grid for push in grid]
    first = rows[int(np.argmin([float(r["distance"]) for r in rows]))]
    push = float(first["push_share"])
    rows += [point(pull, push, 0.0, e) for e in elasticity_grid if e > 0.0 for pull in grid]
    table = pd.DataFrame(rows)
    best = table.iloc[int(np.argmin(table["distance"].to_numpy()))]
    pull, elasticity = float(best["pull_share"]), float(best["closing_speed_elasticity"])
    calendar = 0.0
    if not bool(best["inside"]) and calendar_days is not None and calendar_grid:
        held = pd.DataFrame([point(pull, push, 0.0, elasticity, d) for d in calendar_grid if d > 0.0])
        table = pd.concat([table, held], ignore_index=True)
        closest = held.iloc[int(np.argmin(held["distance"].to_numpy()))]
        if float(closest["distance"]) < float(best["distance"]):
            calendar, best = float(closest["decision_calendar"]), closest
    waiting = None
    if not bool(best["inside"]) and waiting_grid:
        extra = pd.DataFrame([point(pull, push, w, elasticity, calendar) for w in waiting_grid])
        table = pd.concat([table, extra], ignore_index=True)
        closest = extra.iloc[int(np.argmin(extra["distance"].to_numpy()))]
        if float(closest["distance"]) < float(best["distance"]):
            waiting = float(closest["quarter_end_waiting"])
    return TimingFit(pay_plan=pay_plan, replications=replications, grid=table,
                     export=export[["moment", "share", "low", "high"]], pull_share=pull, push_share=push,
                     waiting=waiting, elasticity=elasticity, calendar=calendar, calendar_days=calendar_days)
