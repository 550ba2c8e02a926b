"""Marketing budget allocation: money to the channels, regions and months that bring the most pipeline value.

An LP over channel x region x month cells (``optimizer.budget_model``). Each cell's lead response is the
channel's concave piecewise-linear curve scaled by the region's weight and the channel's and demand's
seasonality, exactly as the shared ``scenarios.expected_leads`` defines it (so the simulator, which reads
``expected_leads`` from the budget frame, sees the same numbers).

Pipeline, each step public: ``lead_value`` (expected pipeline value of one lead per channel) ->
``allocate_budget`` (check -> build -> solve -> validate -> extract). The result's ``budget`` frame is exactly
what goes into ``scenarios.Plan.budget``.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.budget_model import BudgetCells, BudgetModel, budget_cells, build_budget_model, channel_marginal
from optimizer.errors import BudgetError, BudgetSolverError
from optimizer.solvers import SOLVERS, run
from optimizer.status import Status
from scenarios import Problem, Scenario, ScenarioError, expected_leads, write_atomic, write_csv
from scenarios.plan import BUDGET_COLUMNS

__all__ = ["BudgetResult", "allocate_budget", "lead_value"]

def lead_value(scenario: Scenario) -> pd.DataFrame:
    """Expected pipeline value of one lead from each channel: win rate x deal value.

    - ``win_rate = min(1, lead_quality * prod_s conversion_s)``: the funnel's stage conversions multiplied
      through (the chance an average lead is won), scaled by the channel's lead quality (its conversion uplift).
    - ``deal_value = sum_p mix_p price_p / sum_p mix_p``: the expected value of a won deal given the product
      mix (equal mix when every mix is 0).

    Parameters
    ----------
    scenario
        The scenario (``[funnel]``, ``[products]``, ``[channels]``).

    Returns
    -------
    pandas.DataFrame
        Index ``channel``; columns ``lead_quality, win_rate, deal_value, value_per_lead``.

    Examples
    --------
    >>> import scenarios
    >>> v = lead_value(scenarios.load("tiny"))
    >>> round(float(v.loc["content", "win_rate"]), 3)
    0.122
    >>> bool((v["value_per_lead"] == v["win_rate"] * v["deal_value"]).all())
    True
    """
    s = scenario.settings
    base = float(np.prod([st.conversion * (1.0 - (st.no_decision_share or 0.0)) for st in s.funnel.stages]))
    mix = np.array([p.mix for p in s.products.values()], dtype=float)
    price = np.array([p.price for p in s.products.values()], dtype=float)
    deal = float((mix * price).sum() / mix.sum()) if mix.sum() > 0 else float(price.mean())
    rows = {c: (ch.lead_quality, min(1.0, ch.lead_quality * base)) for c, ch in s.channels.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["lead_quality", "win_rate"])
    frame.index.name = "channel"
    frame["deal_value"] = deal
    frame["value_per_lead"] = frame["win_rate"] * frame["deal_value"]
    return frame


def _check_feasible(scenario: Scenario, channels: list[str], months: int, total: float) -> None:
    """Raise ``BudgetError`` when the spending floors cannot fit under the budget or the ceilings.

    With ``f_c = max(min_spend_c, months * min_monthly_c)`` a channel's floor and ``F_c = min(max_spend_c,
    months * max_monthly_c)`` its ceiling, the checks are: ``f_c <= F_c`` per channel, ``sum_c f_c <= B``,
    ``months * min_month <= B``, ``sum_c f_c <= months * max_month`` and ``months * min_month <= sum_c F_c``
    (every floor fits under the budget and under the other families' ceilings; the LP catches anything subtler).
    """
    s = scenario.settings
    floors, ceilings = {}, {}
    for c in channels:
        ch = s.channels[c]
        floors[c] = max(ch.min_spend, ch.min_monthly_spend * months)
        caps = [x for x in (ch.max_spend, None if ch.max_monthly_spend is None else ch.max_monthly_spend * months)
                if x is not None]
        ceilings[c] = min(caps) if caps else math.inf
        if floors[c] > ceilings[c] + 1e-9:
            raise BudgetError(
                f"channel {c} must spend at least {floors[c]:,.0f} (min_spend {ch.min_spend:,.0f}, "
                f"min_monthly_spend {ch.min_monthly_spend:,.0f} x {months} months) but may spend at most "
                f"{ceilings[c]:,.0f} (max_spend, max_monthly_spend x months). Fix: make channels.{c}'s floors and "
                "caps agree")
    floor = sum(floors.values())
    listed = ", ".join(f"{c} {v:,.0f}" for c, v in floors.items() if v > 0)
    if floor > total + 1e-9:
        raise BudgetError(f"the channels' minimum spends add up to {floor:,.0f} ({listed}), above the budget of "
                          f"{total:,.0f}. Fix: lower channels.<channel>.min_spend (or min_monthly_spend) or raise "
                          "budget.total (--total)")
    month_floor = s.budget.min_monthly_spend * months
    if month_floor > total + 1e-9:
        raise BudgetError(f"budget.min_monthly_spend {s.budget.min_monthly_spend:,.0f} x {months} months = "
                          f"{month_floor:,.0f} is above the budget of {total:,.0f}. Fix: lower "
                          "budget.min_monthly_spend or raise budget.total (--total)")
    if s.budget.max_monthly_spend is not None and floor > s.budget.max_monthly_spend * months + 1e-9:
        raise BudgetError(f"the channels' minimum spends add up to {floor:,.0f} ({listed}) but "
                          f"budget.max_monthly_spend allows only {s.budget.max_monthly_spend * months:,.0f} over "
                          f"{months} months. Fix: lower the minimums or raise budget.max_monthly_spend")
    ceiling = sum(ceilings.values())
    if month_floor > ceiling + 1e-9:
        raise BudgetError(f"budget.min_monthly_spend x {months} months = {month_floor:,.0f} is more than the "
                          f"channels' caps allow in total ({ceiling:,.0f}). Fix: lower budget.min_monthly_spend or "
                          "raise a channel's max_spend / max_monthly_spend")


@dataclass(frozen=True, eq=False)
class BudgetResult:
    """Marketing spend by channel, region and month, with its expected leads and pipeline value.

    Parameters
    ----------
    budget
        Columns ``channel, region, period, spend, expected_leads, expected_value``: what goes into
        ``scenarios.Plan.budget``. ``expected_leads`` is ``scenarios.expected_leads`` of the spend (leads at zero
        spend included, so every cell is listed).
    channels
        Index ``channel``: ``spend, min_spend, max_spend, expected_leads, expected_value, win_rate,
        value_per_lead, marginal_value`` (pipeline value of one more unit spent on the channel, from the duals).
    status
        ``optimal``: the LP was proven optimal (an LP has no gap) and the recomputed value of the returned spend
        matches the LP objective.
    total, spent
        The budget and what the plan spends (less than the budget only when ``unspent_reason`` says why).
    objective
        Expected pipeline value of the plan (sum of ``expected_value``), recomputed from the spend.
    marginal_value
        Pipeline value of one more unit of budget overall (dual of the budget row); 0 when money is left.
    unspent_reason
        Why money is left unspent (curves saturated, channel or month caps), or ``""``.
    seconds, solver
        Wall time and LP solver.

    Examples
    --------
    >>> import scenarios
    >>> r = allocate_budget(scenarios.load("tiny"))
    >>> print(repr(r)[:73])
    BudgetResult(optimal): spent 86,000 of 86,000 over 4 channels x 2 regions
    >>> r.summary()["gap"]
    0.0
    """

    budget: pd.DataFrame
    channels: pd.DataFrame
    status: Status
    total: float
    spent: float
    objective: float
    marginal_value: float
    unspent_reason: str = ""
    seconds: float = 0.0
    solver: str = "highs"

    def summary(self) -> dict[str, Any]:
        """The headline figures as a JSON-ready dict (what ``quotaflow budget`` writes to summary.json)."""
        return {
            "kind": "budget",
            "status": str(self.status),
            "solver": self.solver,
            "objective_expected_pipeline_value": self.objective,
            "bound": self.objective,
            "gap": 0.0,
            "budget": self.total,
            "spent": self.spent,
            "unspent": max(0.0, self.total - self.spent),
            "unspent_reason": self.unspent_reason,
            "marginal_value_per_unit_budget": self.marginal_value,
            "expected_leads": float(self.budget["expected_leads"].sum()),
            "channels": {str(c): {"spend": float(r["spend"]), "expected_leads": float(r["expected_leads"]),
                                  "expected_value": float(r["expected_value"]),
                                  "marginal_value_per_unit": float(r["marginal_value"])}
                         for c, r in self.channels.iterrows()},
            "seconds": self.seconds,
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """The exported tables by file stem: ``budget`` (a plan's budget.csv) and ``budget_channels``."""
        return {"budget": self.budget[BUDGET_COLUMNS], "budget_channels": self.channels.reset_index()}

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write ``budget.csv``, ``budget_channels.csv`` (``scenarios.write_csv``; a BOM when ``excel``) and
        ``budget_summary.json`` to ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables().items():
            write_csv(frame, out / f"{name}.csv", excel=excel)
        write_atomic(out / "budget_summary.json", (json.dumps(self.summary(), indent=2, ensure_ascii=False)
                                                   + "\n").encode("utf-8"))

    def __repr__(self) -> str:
        left = f"; {self.unspent_reason}" if self.unspent_reason else ""
        best = self.channels["expected_value"].idxmax() if len(self.channels) else "-"
        return (f"BudgetResult({self.status}): spent {self.spent:,.0f} of {self.total:,.0f} over "
                f"{self.budget['channel'].nunique()} channels x {self.budget['region'].nunique()} regions x "
                f"{self.budget['period'].nunique()} months; expected leads "
                f"{self.budget['expected_leads'].sum():,.1f}, pipeline value {self.objective:,.0f} (best channel "
                f"{best}); one more unit of budget returns {self.marginal_value:,.2f}{left}")


def allocate_budget(scenario: Scenario, *, total: float | None = None, solver: str | None = None,
                    time_limit: float | None = None) -> BudgetResult:
    """Spend the marketing budget where it brings the most expected pipeline value.

    Maximises ``sum_cells leads_cgm(spend_cgm) * win_rate_c * deal_value`` (see ``lead_value``) where
    ``leads_cgm`` is ``scenarios.expected_leads`` (channel curve per unit of region weight, times the weight,
    the channel's seasonality and the demand seasonality), subject to: the total budget; each channel's
    ``min_spend``/``max_spend`` over the horizon and ``min_monthly_spend``/``max_monthly_spend`` in each month;
    ``budget.min_monthly_spend``/``max_monthly_spend`` on all channels together per month.
    Money beyond the point where every curve is flat (or capped) is left unspent and the reason is reported.

    Parameters
    ----------
    scenario
        The scenario (``[channels]``, ``[budget]``, funnel, products, calendar, accounts for region weights).
    total
        Budget over the horizon; default ``budget.total``.
    solver, time_limit
        ``highs`` or ``cbc`` and seconds; default ``[optimizer]``.

    Returns
    -------
    BudgetResult

    Raises
    ------
    BudgetError
        Floors that cannot fit (channel minimums above the budget, ...), worded for planners.
    BudgetSolverError
        The solver failed, or the answer failed the independent check.
    scenarios.ScenarioError
        The scenario has no channels, or the total is negative.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> r = allocate_budget(s)
    >>> r.status, round(r.spent) == round(s.settings.budget.total)
    (<Status.OPTIMAL: 'optimal'>, True)
    >>> list(r.budget.columns)
    ['channel', 'region', 'period', 'spend', 'expected_leads', 'expected_value']
    >>> allocate_budget(s, total=5_000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    optimizer.errors.BudgetError: the channels' minimum spends add up to 7,200 (partners 7,200), above ...
    """
    started = time.perf_counter()
    s = scenario.settings
    total = s.budget.total if total is None else float(total)
    if not math.isfinite(total) or total < 0:
        raise ScenarioError(Problem("command line", "the budget must be a finite amount >= 0",
                                    "pass --total with a plain number", column="total", value=str(total)))
    if solver is not None and solver not in SOLVERS:
        raise ScenarioError(Problem("command line", f"unknown solver '{solver}'", "use highs or cbc",
                                    column="solver", value=solver))
    channels = list(s.channels)
    if not channels:
        raise ScenarioError(Problem("scenario.toml", "there are no marketing channels to spend on",
                                    "add [channels.<id>] sections with lead-response curves", column="channels"))
    regions, periods = scenario.regions, s.calendar.periods()
    _check_feasible(scenario, channels, len(periods), total)
    values = lead_value(scenario)
    value = values["value_per_lead"].to_numpy()
    cells = budget_cells(scenario, channels, regions, periods)
    model = build_budget_model(scenario, cells, channels, periods, value, total)
    used_solver = solver or s.optimizer.solver
    status = run(model.prob, used_solver, time_limit or s.optimizer.time_limit_s).status
    if status is Status.INFEASIBLE:
        raise BudgetError("the spending floors and ceilings conflict: check channels.<channel>.min_spend/"
                          "max_spend against budget.min_monthly_spend/max_monthly_spend and the budget "
                          f"({total:,.0f})")
    if status is not Status.OPTIMAL:
        raise BudgetSolverError(f"the solver did not prove the budget LP optimal (status {status}); try --solver "
                                "cbc or a longer optimizer.time_limit_s")
    return _extract(scenario, model, cells, channels, regions, periods, values, total, used_solver, started)


def _extract(scenario: Scenario, model: BudgetModel, cells: BudgetCells, channels: list[str], regions: list[str],
             periods: list[str], values: pd.DataFrame, total: float, used_solver: str,
             started: float) -> BudgetResult:
    s = scenario.settings
    y = np.array([v.value() or 0.0 for v in model.seg])
    spend = _release_unforced_waste(scenario, cells, channels, len(periods), y,
                                    np.array([v.value() or 0.0 for v in model.waste]))
    np.add.at(spend, cells.seg_cell, y)
    spend = np.where(np.abs(spend) < 1e-9, 0.0, spend)
    value = values["value_per_lead"].to_numpy()
    lp_value = float((value[cells.channel[cells.seg_cell]] * cells.seg_leads * y).sum()
                     + (value[cells.channel] * cells.base_leads).sum())
    demand = np.array([s.calendar.seasonality[int(p[5:7]) - 1] for p in periods]) / (sum(s.calendar.seasonality)
                                                                                       / 12.0)
    leads = np.array([expected_leads(s.channels[channels[c]], float(x), int(periods[m][5:7]), float(w),
                                     float(demand[m]))
                      for c, m, w, x in zip(cells.channel, cells.month, cells.weight, spend, strict=True)])
    cell_value = leads * value[cells.channel]
    _validate(scenario, spend, cells, channels, total, lp_value, float(cell_value.sum()))
    budget = pd.DataFrame({
        "channel": np.asarray(channels, dtype=object)[cells.channel],
        "region": np.asarray(regions, dtype=object)[cells.region],
        "period": np.asarray(periods, dtype=object)[cells.month],
        "spend": spend, "expected_leads": leads, "expected_value": cell_value,
    })
    spent = float(spend.sum())
    budget_dual = abs(float(model.budget_row.pi or 0.0)) if spent >= total - 1e-6 * max(1.0, total) else 0.0
    by_channel = budget.groupby("channel", sort=False)[["spend", "expected_leads", "expected_value"]].sum()
    by_channel = by_channel.reindex(channels)
    by_channel.insert(1, "min_spend", [s.channels[c].min_spend for c in channels])
    by_channel.insert(2, "max_spend", [s.channels[c].max_spend if s.channels[c].max_spend is not None
                                       else math.inf for c in channels])
    by_channel["win_rate"] = values["win_rate"]
    by_channel["value_per_lead"] = values["value_per_lead"]
    by_channel["marginal_value"] = [channel_marginal(model, c) for c in range(len(channels))]
    by_channel.index.name = "channel"
    reason = _unspent_reason(scenario, spend, cells, channels, periods, total)
    return BudgetResult(budget=budget, channels=by_channel, status=Status.OPTIMAL, total=total,
                        spent=spent, objective=float(cell_value.sum()), marginal_value=budget_dual,
                        unspent_reason=reason, seconds=time.perf_counter() - started, solver=used_solver)


def _release_unforced_waste(scenario: Scenario, cells: BudgetCells, channels: list[str], n_months: int,
                            y: np.ndarray, waste: np.ndarray) -> np.ndarray:
    """Drop the money-that-buys-nothing that no floor requires; returns the remaining waste per cell.

    The waste penalty is of the order of the solvers' dual feasibility tolerance (1e-7), so a solver may stop
    "optimal" with some budget still parked past a curve's end. Removing unvalued spend changes no lead or
    value figure and only lowers spend, so every ceiling still holds; each cell gives up what the floors on its
    channel, its channel-month and its month leave free.
    """
    s = scenario.settings
    waste = np.where(waste > 1e-9, waste, 0.0)
    if not waste.any():
        return waste
    spend = waste.copy()
    np.add.at(spend, cells.seg_cell, y)
    n_channels = len(channels)
    per_channel = np.bincount(cells.channel, weights=spend, minlength=n_channels)
    per_channel_month = np.zeros((n_channels, n_months))
    np.add.at(per_channel_month, (cells.channel, cells.month), spend)
    per_month = np.bincount(cells.month, weights=spend, minlength=n_months)
    floor = [s.channels[c].min_spend for c in channels]
    monthly_floor = [s.channels[c].min_monthly_spend for c in channels]
    for i in np.flatnonzero(waste):
        c, m = int(cells.channel[i]), int(cells.month[i])
        free = min(waste[i], per_channel[c] - floor[c], per_channel_month[c, m] - monthly_floor[c],
                   per_month[m] - s.budget.min_monthly_spend)
        if free > 0:
            waste[i] -= free
            per_channel[c] -= free
            per_channel_month[c, m] -= free
            per_month[m] -= free
    return waste


def _validate(scenario: Scenario, spend: np.ndarray, cells: BudgetCells, channels: list[str], total: float,
              lp_value: float, true_value: float) -> None:
    """Independent re-check: spend within every bound, and the shared lead function agrees with the LP."""
    s = scenario.settings
    tol = 1e-6 * max(1.0, total)
    problems = []
    if (spend < -1e-9).any():
        problems.append("negative spend")
    if spend.sum() > total + tol:
        problems.append(f"spend {spend.sum():,.2f} above the budget {total:,.2f}")
    per_channel = np.bincount(cells.channel, weights=spend, minlength=len(channels))
    for ci, key in enumerate(channels):
        ch = s.channels[key]
        if per_channel[ci] < ch.min_spend - tol or (ch.max_spend is not None and per_channel[ci] > ch.max_spend + tol):
            problems.append(f"channel {key} spends {per_channel[ci]:,.2f} outside its bounds")
    months = int(cells.month.max(initial=-1)) + 1
    for ci, key in enumerate(channels):
        ch = s.channels[key]
        mine = cells.channel == ci
        by_month = np.bincount(cells.month[mine], weights=spend[mine], minlength=months)
        if (by_month < ch.min_monthly_spend - tol).any() or (
                ch.max_monthly_spend is not None and (by_month > ch.max_monthly_spend + tol).any()):
            problems.append(f"channel {key} is outside its monthly bounds in some month")
    per_month = np.bincount(cells.month, weights=spend)
    if (per_month < s.budget.min_monthly_spend - tol).any() or (
            s.budget.max_monthly_spend is not None and (per_month > s.budget.max_monthly_spend + tol).any()):
        problems.append("a month's spend is outside budget.min_monthly_spend/max_monthly_spend")
    # Concavity means the LP's segment value can only understate the curve (never overstate it).
    if true_value < lp_value - 1e-6 * max(1.0, abs(lp_value)):
        problems.append(f"pipeline value {true_value:,.2f} from the shared lead curves is below the LP's "
                        f"{lp_value:,.2f}")
    if problems:
        raise BudgetSolverError("budget check failed (" + "; ".join(problems) + "); please report this scenario")


def _unspent_reason(scenario: Scenario, spend: np.ndarray, cells: BudgetCells, channels: list[str],
                    periods: list[str], total: float) -> str:
    """Planner words for money left over: which curves are flat and which caps bind."""
    left = total - float(spend.sum())
    if left <= 1e-6 * max(1.0, total):
        return ""
    s = scenario.settings
    saturated = int((spend >= cells.saturation - 1e-6 * np.maximum(1.0, cells.saturation)).sum())
    parts = [f"{left:,.0f} of the budget is left unspent because more money buys no more leads: {saturated} of "
             f"{spend.size} channel-region-months are at or past their curve's last breakpoint"]
    per_channel = np.bincount(cells.channel, weights=spend, minlength=len(channels))
    caps = [math.inf if s.channels[c].max_spend is None else float(s.channels[c].max_spend or 0.0)
            for c in channels]
    capped = [c for ci, c in enumerate(channels) if per_channel[ci] >= caps[ci] - 1e-6 * max(1.0, total)]
    if capped:
        parts.append(f"channels at their max_spend: {', '.join(capped)}")
    monthly_capped = []
    for ci, c in enumerate(channels):
        cap = s.channels[c].max_monthly_spend
        if cap is not None:
            mine = cells.channel == ci
            by_month = np.bincount(cells.month[mine], weights=spend[mine], minlength=len(periods))
            if (by_month >= cap - 1e-6 * max(1.0, total)).any():
                monthly_capped.append(c)
    if monthly_capped:
        parts.append(f"channels at their max_monthly_spend in some months: {', '.join(monthly_capped)}")
    if s.budget.max_monthly_spend is not None:
        per_month = np.bincount(cells.month, weights=spend, minlength=len(periods))
        full = [periods[m] for m in range(len(periods))
                if per_month[m] >= s.budget.max_monthly_spend - 1e-6 * max(1.0, total)]
        if full:
            parts.append(f"months at budget.max_monthly_spend: {', '.join(full)}")
    no_room = int(((cells.weight <= 0) | (cells.season <= 0)).sum())
    if no_room:
        parts.append(f"{no_room} cells have no market (region weight or seasonality 0)")
    return "; ".join(parts)
