"""The budget LP: the channel x region x month grid with its lead-response curve segments, and the model over it.

Each cell's lead response is the channel's concave piecewise-linear curve scaled by the region's weight and the
channel's and demand's seasonality, exactly as ``scenarios.expected_leads`` defines it. Concavity makes the
segments fill in order, so the curve needs no binaries. One function per constraint family, the maths in its
docstring; ``optimizer.budget.allocate_budget`` checks, solves, validates and extracts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from scenarios import Scenario, region_weights

__all__ = ["BudgetCells", "BudgetModel", "budget_cells", "build_budget_model", "channel_marginal"]

# Spend past a curve's last breakpoint buys nothing; a tiny cost per unit (relative to the best value per unit)
# keeps the LP from parking money there when nothing forces it, without moving any reported figure.
_WASTE_PENALTY = 1e-7


@dataclass(frozen=True)
class BudgetCells:
    """The channel x region x month grid and its curve segments, flattened (integer-indexed)."""

    channel: np.ndarray  # per cell, index into channels
    region: np.ndarray
    month: np.ndarray  # index into periods
    weight: np.ndarray  # region weight
    season: np.ndarray  # channel seasonality x demand seasonality
    base_leads: np.ndarray  # leads at zero spend
    saturation: np.ndarray  # spend at the last breakpoint
    seg_cell: np.ndarray  # per segment: its cell
    seg_width: np.ndarray  # currency
    seg_leads: np.ndarray  # leads per unit of currency on the segment


def budget_cells(scenario: Scenario, channels: list[str], regions: list[str], periods: list[str]) -> BudgetCells:
    s = scenario.settings
    potential = scenario.accounts.groupby("region")["annual_potential"].sum()
    weights = region_weights({r: float(potential.get(r, 0.0)) for r in regions})
    cal = s.calendar.seasonality
    demand = np.array([cal[int(p[5:7]) - 1] for p in periods]) / (sum(cal) / 12.0)
    c, g, m = (a.ravel() for a in np.meshgrid(np.arange(len(channels)), np.arange(len(regions)),
                                              np.arange(len(periods)), indexing="ij"))
    w = np.array([weights[r] for r in regions])[g]
    ch_season = np.array([[ch.seasonality[int(p[5:7]) - 1] if ch.seasonality else 1.0 for p in periods]
                          for ch in (s.channels[k] for k in channels)])
    season = ch_season[c, m] * demand[m]
    seg_cell, seg_width, seg_leads = [], [], []
    base, sat = np.zeros(c.size), np.zeros(c.size)
    for ci, key in enumerate(channels):
        ch = s.channels[key]
        spend, leads = np.asarray(ch.curve_spend), np.asarray(ch.curve_leads)
        slope = np.diff(leads) / np.diff(spend)
        cells = np.flatnonzero(c == ci)
        base[cells] = leads[0] * w[cells] * season[cells]
        sat[cells] = spend[-1] * w[cells]
        for k in range(slope.size):
            keep = cells[(w[cells] > 0) & (season[cells] > 0)] if slope[k] > 0 else cells[:0]
            seg_cell.append(keep)
            seg_width.append(np.diff(spend)[k] * w[keep])
            seg_leads.append(slope[k] * season[keep])
    return BudgetCells(channel=c, region=g, month=m, weight=w, season=season, base_leads=base, saturation=sat,
                  seg_cell=np.concatenate(seg_cell), seg_width=np.concatenate(seg_width),
                  seg_leads=np.concatenate(seg_leads))


@dataclass
class BudgetModel:
    prob: pulp.LpProblem
    seg: list[Any]
    waste: list[Any]
    channel_spend: list[Any]
    budget_row: Any
    channel_rows: list[Any]
    month_rows: list[Any] = field(default_factory=list)


def build_budget_model(scenario: Scenario, cells: BudgetCells, channels: list[str], periods: list[str],
                       value: np.ndarray, total: float) -> BudgetModel:
    """The LP: maximise ``sum_k v_c a_cgm s_k y_k - eps * sum waste`` over segment spends ``y_k`` (bounded by
    the segment widths) and ``waste`` (spend past the last breakpoint), with the constraint families below."""
    s = scenario.settings
    prob = pulp.LpProblem("budget", pulp.LpMaximize)
    seg = [prob.add_variable(f"y_{k}", lowBound=0.0, upBound=float(wd)) for k, wd in enumerate(cells.seg_width)]
    waste = [prob.add_variable(f"w_{i}", lowBound=0.0) for i in range(cells.channel.size)]
    channel_spend = []
    for ci, key in enumerate(channels):
        ch = s.channels[key]
        channel_spend.append(prob.add_variable(f"s_{ci}", lowBound=ch.min_spend, upBound=ch.max_spend))
    seg_value = value[cells.channel[cells.seg_cell]] * cells.seg_leads
    penalty = _WASTE_PENALTY * max(1.0, float(seg_value.max(initial=0.0)))
    prob += pulp.LpAffineExpression(list(zip(seg, seg_value.tolist(), strict=True))
                                    + [(v, -penalty) for v in waste])
    model = BudgetModel(prob=prob, seg=seg, waste=waste, channel_spend=channel_spend, budget_row=None,
                   channel_rows=[])
    _channel_rows(model, cells, len(channels))
    _budget_row(model, total)
    _month_rows(model, cells, len(periods), s.budget.min_monthly_spend, s.budget.max_monthly_spend)
    _channel_month_rows(model, cells, [s.channels[c] for c in channels], len(periods))
    return model


def _channel_rows(model: BudgetModel, cells: BudgetCells, n_channels: int) -> None:
    """``s_c - sum_{g,m} (sum_k y_cgmk + waste_cgm) = 0``: a channel's spend is what its cells spend.

    ``min_spend_c <= s_c <= max_spend_c`` are bounds of ``s_c``. The dual of this row is the pipeline value of
    one more unit spent on channel c (in its best cell), reported as the channel's marginal return.
    """
    members: list[list[tuple[Any, float]]] = [[(model.channel_spend[c], 1.0)] for c in range(n_channels)]
    for k, cell in enumerate(cells.seg_cell):
        members[cells.channel[cell]].append((model.seg[k], -1.0))
    for i, c in enumerate(cells.channel):
        members[c].append((model.waste[i], -1.0))
    for c in range(n_channels):
        row = pulp.LpAffineExpression(members[c]) == 0.0
        model.prob += (row, f"channel_{c}")
        model.channel_rows.append(row)


def _budget_row(model: BudgetModel, total: float) -> None:
    """``sum_c s_c <= B``: spend at most the budget (less only when nothing useful is left to buy).

    Its dual is the marginal pipeline value of one more unit of budget overall.
    """
    row = pulp.LpAffineExpression([(v, 1.0) for v in model.channel_spend]) <= total
    model.prob += (row, "budget")
    model.budget_row = row


def _month_rows(model: BudgetModel, cells: BudgetCells, n_months: int, low: float, high: float | None) -> None:
    """``min_month <= sum_{c,g} spend_cgm <= max_month`` for every month (only the bounds that are set)."""
    if low <= 0 and high is None:
        return
    members: list[list[tuple[Any, float]]] = [[] for _ in range(n_months)]
    for k, cell in enumerate(cells.seg_cell):
        members[cells.month[cell]].append((model.seg[k], 1.0))
    for i, m in enumerate(cells.month):
        members[m].append((model.waste[i], 1.0))
    for m in range(n_months):
        expr = pulp.LpAffineExpression(members[m])
        if low > 0:
            row = expr >= low
            model.prob += (row, f"month_min_{m}")
            model.month_rows.append(row)
        if high is not None:
            row = pulp.LpAffineExpression(members[m]) <= high
            model.prob += (row, f"month_max_{m}")
            model.month_rows.append(row)


def _channel_month_rows(model: BudgetModel, cells: BudgetCells, settings: list[Any], n_months: int) -> None:
    """``min_monthly_c <= sum_g spend_cgm <= max_monthly_c`` for every channel c and month m (bounds that are set)."""
    members: dict[tuple[int, int], list[tuple[Any, float]]] = {}
    bounded = {c for c, ch in enumerate(settings) if ch.min_monthly_spend > 0 or ch.max_monthly_spend is not None}
    if not bounded:
        return
    for k, cell in enumerate(cells.seg_cell):
        if cells.channel[cell] in bounded:
            members.setdefault((int(cells.channel[cell]), int(cells.month[cell])), []).append((model.seg[k], 1.0))
    for i, (c, m) in enumerate(zip(cells.channel, cells.month, strict=True)):
        if c in bounded:
            members.setdefault((int(c), int(m)), []).append((model.waste[i], 1.0))
    for (c, m), terms in members.items():
        ch = settings[c]
        if ch.min_monthly_spend > 0:
            model.prob += (pulp.LpAffineExpression(terms) >= ch.min_monthly_spend, f"channel_month_min_{c}_{m}")
        if ch.max_monthly_spend is not None:
            model.prob += (pulp.LpAffineExpression(terms) <= ch.max_monthly_spend, f"channel_month_max_{c}_{m}")


def channel_marginal(model: BudgetModel, c: int) -> float:
    """Dual of ``s_c - spend of c's cells = 0``: one more unit on the cells of c, in pipeline value.

    Moving the row's right-hand side from 0 to -1 lets c's cells spend one unit more than is charged to the
    budget and the channel's bounds, so the value is the dual's magnitude. Solvers differ in the sign they
    report for a maximisation; the value itself is never negative (more spend never loses leads), so the
    magnitude is taken. At a kink of a curve the dual is one valid slope between the left and right ones.
    """
    pi = model.channel_rows[c].pi
    return abs(float(pi)) if pi is not None else 0.0
