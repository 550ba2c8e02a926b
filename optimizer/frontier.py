"""Pareto frontier between two objective terms by the epsilon-constraint method with a lexicographic second stage.

Terms: ``value`` (expected value, maximised), ``travel`` (km, minimised), ``disruption`` (potential moved away
from today's rep, minimised), and on the x axis only ``balance``: the largest relative deviation of a rep's
workload (hours) from the mean workload per rep, held by a +-epsilon hours band at each point.

At each of ``points`` levels of the x term spread between its two extremes, stage 1 optimises y with x held to the
level; stage 2 optimises x with the level kept and y held at the optimum of stage 1 (Mavrotas 2009 shows that the
plain epsilon-constraint method returns weakly efficient points, which this second stage removes). When both
stages are solved to optimality every reported point is efficient: no plan is at least as good on both terms and
better on one. Levels that lead to the same point are reported once, with the number of levels and their range.
Every point's plan passes the independent validator and carries its own status.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import AllocationError
from optimizer.model import AllocationInputs, prepare
from optimizer.objectives import SENSE, TERMS, level, optimise
from optimizer.status import Status
from scenarios import BalanceBand, OptimizerSettings, Scenario, write_csv

__all__ = ["TERMS", "FrontierResult", "frontier"]

_OK = (Status.OPTIMAL, Status.FEASIBLE)
_WORST_LAST = [Status.OPTIMAL, Status.FEASIBLE, Status.NO_SOLUTION, Status.INFEASIBLE, Status.ERROR]
# Relative slack on a held level, so that the plan that set the level stays feasible despite solver tolerances.
_HAIR = 1e-7
# Two term values closer than this (relative) are one level: ten times the hair a held level may be exceeded by.
_SAME = 1e-6
COLUMNS = ["epsilon", "epsilon_loosest", "levels", "x", "y", "status", "gap"]


@dataclass(frozen=True, eq=False)
class FrontierResult:
    """Points of a two-term trade-off curve.

    Parameters
    ----------
    points
        One row per distinct point, in the order the levels were imposed: ``x``, ``y`` (term values of the
        validated plan), ``status`` (optimal when both stages were proven optimal, else feasible;
        infeasible/no_solution/error for a level without a plan, one row each with ``x`` and ``y`` empty),
        ``gap`` (the larger relative gap of the two stages), ``levels`` (how many of the imposed levels gave
        this point), ``epsilon`` and ``epsilon_loosest`` (the tightest and the loosest of those levels on x).
    x, y
        Term names.
    """

    points: pd.DataFrame
    x: str
    y: str

    def __repr__(self) -> str:
        ok = self.points[self.points["status"].isin(_OK)]
        levels = int(self.points["levels"].sum())
        failed = int(self.points.loc[~self.points["status"].isin(_OK), "levels"].sum())
        return (f"FrontierResult({self.x} vs {self.y}: {len(ok)} efficient points from {levels} levels"
                f"{f' ({failed} without a plan)' if failed else ''}; {self.x} {ok['x'].min():,.2f}.."
                f"{ok['x'].max():,.2f}, {self.y} {ok['y'].min():,.2f}..{ok['y'].max():,.2f})")

    def tables(self) -> dict[str, pd.DataFrame]:
        """The exported table by file stem: ``frontier`` (the points)."""
        return {"frontier": self.points}

    def summary(self) -> dict[str, object]:
        """The headline figures: terms, efficient points, levels imposed and the range of each term."""
        ok = self.points[self.points["status"].isin(_OK)]
        def span(col: str) -> list[float] | None:
            return [float(ok[col].min()), float(ok[col].max())] if len(ok) else None
        return {"x": self.x, "y": self.y, "points": len(ok), "levels": int(self.points["levels"].sum()),
                "levels_without_plan": int(self.points.loc[~self.points["status"].isin(_OK), "levels"].sum()),
                "x_range": span("x"), "y_range": span("y")}

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write frontier.csv (``scenarios.write_csv``; a BOM when ``excel``)."""
        for name, frame in self.tables().items():
            write_csv(frame, Path(folder) / f"{name}.csv", excel=excel)


def _held(name: str, level: float) -> tuple[str, float]:
    """``name`` held to ``level`` with a hair of slack for solver tolerances."""
    tol = _HAIR * max(1.0, abs(level))
    return name, level - tol if SENSE[name] == "max" else level + tol


def _worse(a: Status, b: Status) -> Status:
    return max(a, b, key=_WORST_LAST.index)


def _largest(a: float, b: float) -> float:
    return float("nan") if not (np.isfinite(a) and np.isfinite(b)) else max(a, b)


@dataclass(frozen=True)
class _Point:
    """The outcome of one level: term values of its plan (NaN without a plan), status and gap."""

    x: float
    y: float
    status: Status
    gap: float

    @property
    def ok(self) -> bool:
        return self.status in _OK


def _two_stage(inputs: AllocationInputs, x: str, y: str, limit: tuple[str, float] | None, time_limit: float,
               mip_gap: float) -> _Point:
    """One efficient point: y optimised with ``limit`` on x, then x optimised with y held at that optimum."""
    held = [] if limit is None else [limit]
    status, best_y, gap = optimise(inputs, y, None, time_limit / 2, mip_gap, more=held)
    if best_y is None:
        return _Point(float("nan"), float("nan"), status, gap)
    status2, best_x, gap2 = optimise(inputs, x, None, time_limit / 2, mip_gap,
                                      more=[*held, _held(y, level(inputs, best_y, y))])
    # Stage 2 cannot be infeasible (the plan of stage 1 satisfies it); should it end without a plan anyway, the
    # plan of stage 1 is still a valid, if possibly weakly efficient, answer and is reported as merely feasible.
    plan = best_x if best_x is not None else best_y
    return _Point(level(inputs, plan, x), level(inputs, plan, y),
                  _worse(status, status2 if best_x is not None else Status.FEASIBLE), _largest(gap, gap2))


def _better(a: float, b: float, sense: str) -> bool:
    """``a`` strictly better than ``b`` beyond the tolerance of equal levels."""
    tol = _SAME * max(1.0, abs(a), abs(b))
    return a < b - tol if sense == "min" else a > b + tol


def _merge(levels: list[tuple[float, _Point]], x: str, y: str) -> pd.DataFrame:
    """One row per distinct point, counting the levels that gave it.

    A point another level beat on both terms (possible only when a stage stopped short of a proven optimum,
    e.g. at the time limit or within a MIP gap) is not efficient; its level is counted with the better point,
    which is feasible at that level too.
    """
    sx, sy = SENSE[x], SENSE[y]

    def no_worse(a: _Point, b: _Point) -> bool:
        return not _better(b.x, a.x, sx) and not _better(b.y, a.y, sy)

    def dominates(a: _Point, b: _Point) -> bool:
        return no_worse(a, b) and (_better(a.x, b.x, sx) or _better(a.y, b.y, sy))

    solved = [(eps, p) for eps, p in levels if p.ok]
    efficient = [p for _, p in solved if not any(dominates(o, p) for _, o in solved)]
    groups: list[tuple[_Point, list[float], list[_Point]]] = []
    for eps, p in solved:
        # Its own point when efficient, else an efficient point that dominates it.
        home = next((g for g in groups if no_worse(g[0], p) and no_worse(p, g[0])), None)
        if home is None and p in efficient:
            groups.append((p, [eps], [p]))
            continue
        if home is None:
            best = next(o for o in efficient if dominates(o, p))
            home = next((g for g in groups if g[0] is best), None)
            if home is None:
                home = (best, [], [])
                groups.append(home)
        home[1].append(eps)
        if p in efficient:
            home[2].append(p)
    order = {eps: k for k, (eps, _) in enumerate(levels)}
    rows = []
    for point, eps_list, members in groups:
        eps_sorted = sorted(eps_list)
        tight, loose = (eps_sorted[0], eps_sorted[-1]) if sx == "min" else (eps_sorted[-1], eps_sorted[0])
        status, gap = point.status, point.gap
        for m in members:
            status, gap = _worse(status, m.status), _largest(gap, m.gap)
        rows.append((min(order[e] for e in eps_list), {
            "epsilon": tight, "epsilon_loosest": loose, "levels": len(eps_sorted), "x": point.x, "y": point.y,
            "status": str(status), "gap": gap}))
    rows += [(order[eps], {"epsilon": eps, "epsilon_loosest": eps, "levels": 1, "x": p.x, "y": p.y,
                           "status": str(p.status), "gap": p.gap}) for eps, p in levels if not p.ok]
    # In the order the levels were imposed (each point at its first level).
    return pd.DataFrame([r for _, r in sorted(rows, key=lambda kr: kr[0])], columns=COLUMNS)


def _balance_frontier(scenario: Scenario, y: str, points: int, settings: OptimizerSettings,
                      limit: float) -> FrontierResult:
    """Value (or travel, disruption) against workload balance: the scenario's hours band is replaced by
    +-epsilon around the mean for epsilon from the loosest level (y optimised with no hours band) down to 2 %."""
    others = [b for b in settings.balance if b.attribute != "hours"]
    free = settings.model_copy(update={"balance": others})
    inputs = prepare(scenario, free)
    first = _two_stage(inputs, "balance", y, None, limit, free.mip_gap)
    if not first.ok:
        raise AllocationError(f"the scenario has no feasible plan ({first.status})",
                              "run 'quotaflow allocate' on it to see which constraints conflict")
    loosest = max(first.x, 0.02)
    rows: list[tuple[float, _Point]] = []
    for eps in np.linspace(loosest, 0.02, points):
        band = BalanceBand(attribute="hours", min=1.0 - float(eps), max=1.0 + float(eps), relative=True)
        st = free.model_copy(update={"balance": [*others, band]})
        banded = prepare(scenario, st)
        rows.append((float(eps), _two_stage(banded, "balance", y, None, limit, st.mip_gap)))
    return FrontierResult(_merge(rows, "balance", y), "balance", y)


def frontier(scenario: Scenario, x: str, y: str, points: int = 7, settings: OptimizerSettings | None = None,
             time_limit: float | None = None) -> FrontierResult:
    """Efficient trade-off curve of term ``y`` against term ``x`` (epsilon-constraint with a second stage).

    At each level of x, y is optimised with x held to the level, then x is optimised with y held at that
    optimum, so no reported point is dominated (see the module docstring); levels giving the same point are one
    row.

    Parameters
    ----------
    scenario
        The scenario (its constraints all apply at every point).
    x, y
        Terms among ``value``, ``travel``, ``disruption``; ``x`` may also be ``balance`` (largest relative
        deviation of a rep's hours from the mean, imposed as a +-epsilon band).
    points
        Number of epsilon levels (at least 2; the two extremes included).
    settings
        Optimizer settings (default: the scenario's).
    time_limit
        Seconds per level, shared by its two stages (default: the settings' ``time_limit_s``).

    Examples
    --------
    >>> import scenarios
    >>> f = frontier(scenarios.load("tiny"), "travel", "disruption", points=3)
    >>> list(f.points.columns)
    ['epsilon', 'epsilon_loosest', 'levels', 'x', 'y', 'status', 'gap']
    >>> int(f.points["levels"].sum())
    3
    >>> bool(f.points["y"].is_monotonic_decreasing)
    True
    """
    if x == "balance" and y in TERMS:
        if points < 2:
            raise AllocationError(f"points = {points}", "ask for at least 2 points")
        st = settings or scenario.settings.optimizer
        return _balance_frontier(scenario, y, points, st, time_limit or st.time_limit_s)
    if x == y or x not in TERMS or y not in TERMS:
        raise AllocationError(f"frontier terms '{x}' and '{y}'", f"choose two different terms among {', '.join(TERMS)}")
    if points < 2:
        raise AllocationError(f"points = {points}", "ask for at least 2 points")
    inputs = prepare(scenario, settings)
    st = inputs.settings
    limit = time_limit or st.time_limit_s
    # The two ends: x at its best, and x where y is at its best (y optimised first, then x with y held).
    s1, best_x, _ = optimise(inputs, x, None, limit, st.mip_gap)
    far = _two_stage(inputs, x, y, None, limit, st.mip_gap)
    if best_x is None or not far.ok:
        raise AllocationError(f"the scenario has no feasible plan ({s1}, {far.status})",
                              "run 'quotaflow allocate' on it to see which constraints conflict")
    lo, hi = level(inputs, best_x, x), far.x
    rows: list[tuple[float, _Point]] = []
    for k, eps in enumerate(np.linspace(lo, hi, points)):
        # The loosest level does not bind: its point is the far end already solved.
        point = far if k == points - 1 else _two_stage(inputs, x, y, _held(x, float(eps)), limit, st.mip_gap)
        rows.append((float(eps), point))
    return FrontierResult(_merge(rows, x, y), x, y)
