"""Side-by-side comparison of pay plans with common random numbers and paired statistics.

``compare`` runs the simulator once per pay plan with every rep on that pay plan (``sim.IncentiveBehaviour`` for
the reps' response, ``sim.PayPlanPay`` for what is paid) and the same root seed, so replication ``i`` of every pay
plan sees exactly the same customers (leads, values, durations and outcome draws are pre-drawn per replication).
Each metric gets a mean and a 95 % interval per pay plan (Student-t; a seeded percentile bootstrap where the t
interval would leave what the metric can be, e.g. a revenue interval reaching below zero: ``sim.mean_ci``), and
a delta against the first pay plan paired
by replication, with a paired-t interval and two-sided p-value. How much pairing helped is reported per metric as
the variance of the paired deltas against ``var(a) + var(b)``, the variance the same deltas would have if the two
pay plans had been run on independent seeds with the same per-plan variances (computed, not a second run).
The metrics themselves are declared, with their computation, in ``quotaflow.metrics``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import scenarios
import sim
from quotaflow.decision import decision_table, decision_text, format_number
from quotaflow.errors import ComparisonError
from quotaflow.metrics import COMPARISON_METRICS, METRICS, pay_budget, per_replication
from quotaflow.writer import write_tables
from sim.incentives import IncentiveBehaviour

__all__ = ["ComparisonError", "ComparisonResult", "assemble", "compare", "monthly_rows", "rep_rows", "require_pairs"]


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """Pay plans compared on the same customers. In every table the ``plan`` column holds the pay plan id.

    Parameters
    ----------
    comparison
        ``metric, plan, mean, ci_low, ci_high, delta, delta_ci_low, delta_ci_high, p_value`` (deltas paired
        against the first pay plan; NaN for the first pay plan itself).
    monthly
        ``plan, period, bookings, bookings_ci_low, bookings_ci_high``.
    variance
        ``metric, plan, var_paired, var_independent, variance_reduction`` for every pay plan after the first: the
        variance of the paired per-replication deltas, ``var(a) + var(b)``, and ``1 - paired / independent``.
    replications
        ``plan, replication`` and every metric (per replication).
    reps
        ``plan, replication, rep_id, bookings, quota, attainment, pay`` (for histograms and pay curves).
    info
        Scenario, pay plans (key ``plans``), replications, seed, budget definition.
    funnel
        ``plan, stage, entered, converted, open, conversion, conversion_ci_low, conversion_ci_high, mean_days,
        mean_wait_days, base_conversion`` per pay plan (deals per replication; ``sim.SimulationResult.funnel``).
    """

    comparison: pd.DataFrame
    monthly: pd.DataFrame
    variance: pd.DataFrame
    replications: pd.DataFrame
    reps: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    funnel: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by file stem, in the order they are written."""
        return {"decision": self.decision(), "comparison": self.comparison, "monthly": self.monthly,
                "variance": self.variance, "replications": self.replications, "reps": self.reps,
                **({"funnel": self.funnel} if len(self.funnel) else {})}

    def summary(self) -> dict[str, Any]:
        """The run facts, every metric's mean, interval and paired delta per pay plan (NaN as None), and the
        variance reduction of common random numbers per metric and pay plan (as summary.json holds them)."""
        def num(x: Any) -> float | None:
            v = float(x)
            return v if np.isfinite(v) else None

        table: dict[str, dict[str, dict[str, float | None]]] = {}
        for row in self.comparison.itertuples(index=False):
            table.setdefault(str(row.metric), {})[str(row.plan)] = {
                k: num(getattr(row, k)) for k in ("mean", "ci_low", "ci_high", "delta", "delta_ci_low",
                                                  "delta_ci_high", "p_value")}
        crn = {f"{r.metric}/{r.plan}": num(r.variance_reduction) for r in self.variance.itertuples(index=False)}
        return {"run": self.info, "metrics": table, "crn_variance_reduction": crn}

    def decision(self) -> pd.DataFrame:
        """The decision table, one row per pay plan (``quotaflow.decision.decision_table``)."""
        return decision_table(self.comparison, self.info)

    def decision_text(self) -> str:
        """The decision table and its ranking line as ``quotaflow demo`` and ``compare`` print them, then the
        comparison's notes and, for arms whose plans came from the allocator, why a result moved."""
        text = decision_text(self.decision(), self.info)
        notes = [*self.info.get("notes", []), *self.info.get("why", [])]
        return text + "".join(f"\n- {line}" for line in notes) if notes else text

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write every table as ``<stem>.csv`` (rounded for people; UTF-8, with a BOM when ``excel``) and
        ``<stem>.parquet`` (raw values) into ``folder`` (``quotaflow.writer.write_tables``)."""
        write_tables(self.tables(), Path(folder), excel=excel)

    def delta(self, metric: str, pay_plan: str) -> tuple[float, float, float, float]:
        """``(delta, ci_low, ci_high, p_value)`` of ``metric`` for ``pay_plan`` against the first pay plan."""
        rows = self.comparison
        row = rows[(rows["metric"] == metric) & (rows["plan"] == pay_plan)].iloc[0]
        return (float(row["delta"]), float(row["delta_ci_low"]), float(row["delta_ci_high"]),
                float(row["p_value"]))

    def __repr__(self) -> str:
        pay_plans = list(self.info.get("plans", []))
        lines = [f"ComparisonResult: {self.info.get('scenario')} | {len(pay_plans)} pay plans | "
                 f"{self.info.get('replications')} replications, seed {self.info.get('seed')} (common random numbers)"]
        c = self.comparison.set_index(["metric", "plan"])
        lines.append(f"  {'metric':<20}" + "".join(f"{p[:18]:>20}" for p in pay_plans))
        for metric in METRICS:
            cells = []
            for p in pay_plans:
                row = c.loc[(metric, p)]
                if p == pay_plans[0] or not np.isfinite(row["delta"]):
                    cells.append(f"{format_number(float(row['mean'])):>20}")
                else:
                    star = "*" if row["p_value"] < 0.05 else " "
                    # float noise of an exactly unchanged mean (e.g. 1e-18) reads as a change: show it as 0
                    delta = 0.0 if abs(row["delta"]) < 1e-12 * max(1.0, abs(row["mean"])) else row["delta"]
                    cells.append(f"{format_number(float(delta), signed=True):>19}{star}")
            lines.append(f"  {metric:<20}" + "".join(cells))
        lines.append(f"  (first column: mean of {pay_plans[0] if pay_plans else '-'}; others: paired delta against it, "
                     "* = 95 % CI excludes 0)")
        return "\n".join(lines)


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float]:
    d = b - a
    n = len(d)
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else float("nan")
    if not np.isfinite(sd) or sd == 0.0:
        return mean, mean, mean, (1.0 if mean == 0.0 else 0.0) if np.isfinite(sd) else float("nan")
    half = float(stats.t.ppf(0.975, n - 1)) * sd / np.sqrt(n)
    p = float(2.0 * stats.t.sf(abs(mean) / (sd / np.sqrt(n)), n - 1))
    return mean, mean - half, mean + half, p


def compare(scenario: scenarios.Scenario, pay_plans: Sequence[str], *, replications: int, seed: int,
            workers: int = 1, plan: scenarios.Plan | None = None,
            progress: Callable[[str, int], None] | None = None) -> ComparisonResult:
    """Compare pay plans on the same customers (every rep on each pay plan in turn).

    Parameters
    ----------
    scenario
        The scenario; its ``[behaviour]`` settings drive the reps' response (``enabled = false`` compares the
        pay plans' pure pay effect at unchanged effort).
    pay_plans
        Pay plan ids of ``scenario.settings.pay_plans``; the first is the reference for the paired deltas.
    replications
        Replications per pay plan (at least 2 for intervals).
    seed
        Root seed shared by every pay plan (common random numbers).
    workers
        Worker processes per simulation (results do not depend on it).
    plan
        The ``scenarios.Plan`` (assignment, quotas, budget) to run; default today's assignment.
    progress
        Called with ``(pay_plan_id, replications_done)``.

    Returns
    -------
    ComparisonResult

    Raises
    ------
    ComparisonError
        Unknown or repeated pay plan ids, no pay plan, fewer than 2 replications.

    Examples
    --------
    >>> import scenarios
    >>> res = compare(scenarios.load("tiny"), ["flat_commission", "capped"], replications=3, seed=1)
    >>> res.comparison.columns.tolist()[:5]
    ['metric', 'plan', 'mean', 'ci_low', 'ci_high']
    >>> res.delta("revenue", "flat_commission")[0]
    nan
    """
    ids = [str(p) for p in pay_plans]
    known = scenario.settings.pay_plans
    if not ids:
        raise ComparisonError(scenarios.Problem("--pay-plans", "no pay plan given",
                                                f"name pay plans from {sorted(known)}"))
    unknown = [p for p in ids if p not in known]
    if unknown:
        hints = "".join(scenarios.did_you_mean(p, known) for p in unknown)
        raise ComparisonError(scenarios.Problem("--pay-plans", f"unknown pay plan(s) {unknown}",
                                                hints + f"use pay plans of scenario.toml [pay_plans]: "
                                                f"{sorted(known)}"))
    if len(set(ids)) != len(ids):
        raise ComparisonError(scenarios.Problem("--pay-plans", f"a pay plan is listed twice in {ids}",
                                                "list each pay plan once"))
    require_pairs(replications)
    sim.check_memory(scenario, replications, copies=len(ids))  # every pay plan's results are held to pair them
    model = sim.build(scenario, plan)
    per_pay_plan: dict[str, pd.DataFrame] = {}
    budgets: dict[str, float] = {}
    monthly: list[pd.DataFrame] = []
    reps: list[pd.DataFrame] = []
    funnels: list[pd.DataFrame] = []
    for pid in ids:
        behaviour = IncentiveBehaviour.from_model(model, [pid] * model.n_seats)
        pay = sim.PayPlanPay.from_model(model, [pid] * model.n_seats)
        report: Callable[[int], None] | None = None
        if progress is not None:
            def report(done: int, _pid: str = pid) -> None:
                progress(_pid, done)  # type: ignore[misc]
        res = sim.simulate(model, replications=replications, seed=seed, workers=workers,
                           behaviour=behaviour, pay=pay, progress=report)
        budgets[pid] = pay_budget(model, known[pid])
        per_pay_plan[pid] = per_replication(res, budgets[pid])
        monthly.append(monthly_rows(pid, res))
        reps.append(rep_rows(pid, res))
        funnels.append(res.funnel.assign(plan=pid))

    info = {"scenario": scenario.name, "plans": ids, "replications": replications, "seed": seed,
            "plan_source": model.quota_source, "behaviour_enabled": scenario.settings.behaviour.enabled,
            "currency": scenario.settings.currency,
            "budget": "base + target variable pay at 100 % of quota under each plan, all seats, over the horizon",
            "compensation_budget": budgets,
            "variance_independent": "var(a) + var(b) of the per-plan replications (not a second, independent run)"}
    return assemble(ids, per_pay_plan, monthly, reps, info, funnels)


def require_pairs(replications: int) -> None:
    """Refuse fewer than two replications: a comparison needs them for its intervals and paired tests."""
    if replications < 2:
        raise ComparisonError(scenarios.Problem("--replications", f"{replications} replication(s)",
                                                "use at least 2 so intervals and paired tests exist"))


def monthly_rows(label: str, result: sim.SimulationResult) -> pd.DataFrame:
    """One arm's ``monthly`` rows: mean bookings per period with an interval that stays at or above zero."""
    pivot = result.replication_monthly.pivot(index="replication", columns="period", values="bookings")
    mean, lo, hi = sim.mean_ci(pivot.to_numpy(), lower=0.0)
    return pd.DataFrame({"plan": label, "period": pivot.columns.astype(str), "bookings": mean,
                         "bookings_ci_low": lo, "bookings_ci_high": hi})


def rep_rows(label: str, result: sim.SimulationResult) -> pd.DataFrame:
    """One arm's ``reps`` rows."""
    return result.replication_reps[["replication", "rep_id", "bookings", "quota", "attainment", "pay"]].assign(
        plan=label)


def assemble(ids: Sequence[str], per_arm: dict[str, pd.DataFrame], monthly: Sequence[pd.DataFrame],
             reps: Sequence[pd.DataFrame], info: dict[str, Any],
             funnels: Sequence[pd.DataFrame] = ()) -> ComparisonResult:
    """The comparison of arms simulated on the same customers: per metric each arm's mean and interval (t, or
    a percentile bootstrap where t would cross the metric's support: ``sim.mean_ci``) and its paired-t
    difference against the first arm; ``per_arm`` holds each arm's `per_replication` table by label."""
    rows, var_rows = [], []
    first = per_arm[ids[0]]
    for metric in COMPARISON_METRICS:
        for pid in ids:
            x = per_arm[pid][metric.name].to_numpy(float)
            mean, lo, hi = sim.mean_ci(x, lower=metric.lower, upper=metric.upper)
            if pid == ids[0]:
                d = (float("nan"),) * 4
            else:
                a = first[metric.name].to_numpy(float)
                d = _paired(a, x)
                var_p = float(np.var(x - a, ddof=1))
                var_i = float(np.var(a, ddof=1) + np.var(x, ddof=1))
                var_rows.append({"metric": metric.name, "plan": pid, "var_paired": var_p, "var_independent": var_i,
                                 "variance_reduction": 1.0 - var_p / var_i if var_i > 0 else float("nan")})
            rows.append({"metric": metric.name, "plan": pid, "mean": float(mean), "ci_low": float(lo),
                         "ci_high": float(hi), "delta": d[0], "delta_ci_low": d[1], "delta_ci_high": d[2],
                         "p_value": d[3]})
    reps_table = pd.concat(reps, ignore_index=True)[["plan", "replication", "rep_id", "bookings", "quota",
                                                     "attainment", "pay"]]
    replications_table = pd.concat([per_arm[p].assign(plan=p) for p in ids], ignore_index=True)
    replications_table = replications_table[["plan", "replication", *METRICS]]
    return ComparisonResult(
        comparison=pd.DataFrame(rows), monthly=pd.concat(monthly, ignore_index=True),
        variance=pd.DataFrame(var_rows, columns=["metric", "plan", "var_paired", "var_independent",
                                                 "variance_reduction"]),
        replications=replications_table, reps=reps_table, info=info,
        funnel=(pd.concat(funnels, ignore_index=True).pipe(lambda f: f[["plan", *f.columns.drop("plan")]])
                if funnels else pd.DataFrame()))
