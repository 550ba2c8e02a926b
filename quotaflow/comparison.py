"""Side-by-side comparison of pay plans with common random numbers and paired statistics.

``compare`` runs the simulator once per pay plan with every rep on that pay plan (``sim.IncentiveBehaviour`` for
the reps' response, ``sim.PayPlanPay`` for what is paid) and the same root seed, so replication ``i`` of every pay
plan sees exactly the same customers (leads, values, durations and outcome draws are pre-drawn per replication).
Each metric gets a mean and a Student-t 95 % interval per pay plan, and a delta against the first pay plan paired
by replication, with a paired-t interval and two-sided p-value. How much pairing helped is reported per metric as
the variance of the paired deltas against ``var(a) + var(b)``, the variance the same deltas would have if the two
pay plans had been run on independent seeds with the same per-plan variances (computed, not a second run).

The ``quotaflow compare`` command writes ``comparison.csv``, ``monthly.csv``, ``variance.csv``,
``replications.csv``, ``reps.csv``, PNG plots (``quotaflow.plots``), ``summary.json`` and ``manifest.json``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from scipy import stats
from tqdm import tqdm

import scenarios
import sim
from quotaflow.manifest import write_manifest
from quotaflow.options import (
    AllowForeignPlanOpt,
    DecimalOpt,
    EncodingOpt,
    ForceOpt,
    OldPlansOpt,
    SetOpt,
    capped_workers,
    pay_plan_option,
    read_plan,
    scenario_source,
)
from quotaflow.output import claim_output, staged_output
from quotaflow.writer import write_csv, write_json
from sim.incentives import IncentiveBehaviour, annual_base, target_variable_pay

__all__ = ["METRICS", "ComparisonError", "ComparisonResult", "attainment_spread", "compare", "compare_command",
           "gini"]

METRICS = ("revenue", "gross_margin", "compensation_cost", "cost_of_sales_share", "share_reps_at_quota",
           "attainment_p10", "attainment_p50", "attainment_p90", "pay_gini", "attrition_rate", "payout_vs_budget",
           "final_month_share", "final_quarter_share", "deals_pulled_in", "deals_pushed_out")
"""Metrics of a comparison, in report order. ``payout_vs_budget`` = total pay over the pay plan's budget: every
seat's base plus the pay plan's target variable pay at 100 % of quota (``sim.incentives.target_variable_pay``) over the
horizon.
``final_month_share`` / ``final_quarter_share``: the share of the horizon's bookings booked in its last month /
last three months (end-of-period bunching). ``deals_pulled_in`` / ``deals_pushed_out``: timing games played
(0 unless ``[behaviour] timing_games = true``)."""


class ComparisonError(scenarios.ScenarioError):
    """A comparison that cannot run (unknown or repeated pay plan ids, fewer than two replications); exit code 2."""


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = all equal, towards 1 = one takes all).

    .. math:: G = \\frac{\\sum_i (2i - n - 1) x_{(i)}}{n \\sum_i x_{(i)}}

    Examples
    --------
    >>> gini(np.array([1.0, 1.0, 1.0])), round(gini(np.array([0.0, 0.0, 3.0])), 4)
    (0.0, 0.6667)
    """
    x = np.sort(np.asarray(values, dtype=float))
    n, total = len(x), float(x.sum())
    if n == 0 or total <= 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * x).sum() / (n * total))


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
    """

    comparison: pd.DataFrame
    monthly: pd.DataFrame
    variance: pd.DataFrame
    replications: pd.DataFrame
    reps: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by file stem, in the order they are written."""
        return {"comparison": self.comparison, "monthly": self.monthly, "variance": self.variance,
                "replications": self.replications, "reps": self.reps}

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write every table as ``<stem>.csv`` (UTF-8, with a BOM when ``excel``) into ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables().items():
            write_csv(frame, out / f"{name}.csv", excel=excel)

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
                    cells.append(f"{row['mean']:>20,.4g}")
                else:
                    star = "*" if row["p_value"] < 0.05 else " "
                    # float noise of an exactly unchanged mean (e.g. 1e-18) reads as a change: show it as 0
                    delta = 0.0 if abs(row["delta"]) < 1e-12 * max(1.0, abs(row["mean"])) else row["delta"]
                    cells.append(f"{delta:>+19,.3g}{star}")
            lines.append(f"  {metric:<20}" + "".join(cells))
        lines.append(f"  (first column: mean of {pay_plans[0] if pay_plans else '-'}; others: paired delta against it, "
                     "* = 95 % CI excludes 0)")
        return "\n".join(lines)


def _budget(model: sim.Model, pay_plan: scenarios.PayPlanSettings) -> float:
    """Base plus target variable pay at 100 % of quota, summed over seats, over the horizon."""
    months = model.n_months
    total = 0.0
    for r in range(model.n_seats):
        salary = float(model.base_salary[r])
        total += annual_base(salary, pay_plan) * months / 12.0
        total += float(target_variable_pay(model.quotas[r], salary, pay_plan).sum())
    return total


def attainment_spread(replication_reps: pd.DataFrame) -> pd.DataFrame:
    """Per replication, the reps' attainment P10 / P50 / P90 (``attainment_p10`` ...): how evenly quotas fit
    the reps, which the company-level attainment (total bookings over total quota) cannot show.

    Examples
    --------
    >>> reps = pd.DataFrame({"replication": [0, 0, 0], "attainment": [0.5, 1.0, 1.5]})
    >>> attainment_spread(reps).round(2).to_dict("records")
    [{'replication': 0, 'attainment_p10': 0.6, 'attainment_p50': 1.0, 'attainment_p90': 1.4}]
    """
    att = replication_reps.groupby("replication")["attainment"]
    return pd.DataFrame({"attainment_p10": att.quantile(0.1), "attainment_p50": att.quantile(0.5),
                         "attainment_p90": att.quantile(0.9)}).reset_index()


def _per_replication(result: sim.SimulationResult, budget: float) -> pd.DataFrame:
    reps = result.replication_reps
    r = result.replications
    g = reps.groupby("replication")
    spread = attainment_spread(reps).set_index("replication").reindex(r["replication"])
    out = pd.DataFrame({
        "replication": r["replication"].to_numpy(),
        "revenue": r["revenue"].to_numpy(),
        "gross_margin": r["gross_margin"].to_numpy(),
        "compensation_cost": r["pay_total"].to_numpy(),
        "cost_of_sales_share": r["cost_of_sales_share"].to_numpy(),
        "share_reps_at_quota": r["share_reps_at_quota"].to_numpy(),
        "attainment_p10": spread["attainment_p10"].to_numpy(),
        "attainment_p50": spread["attainment_p50"].to_numpy(),
        "attainment_p90": spread["attainment_p90"].to_numpy(),
        "pay_gini": g["pay"].apply(lambda s: gini(s.to_numpy())).to_numpy(),
        "attrition_rate": r["attrition_rate"].to_numpy(),
        "payout_vs_budget": r["pay_total"].to_numpy() / budget if budget > 0 else np.nan,
        "final_month_share": _final_share(result.replication_monthly, 1),
        "final_quarter_share": _final_share(result.replication_monthly, 3),
        "deals_pulled_in": r["deals_pulled_in"].to_numpy(),
        "deals_pushed_out": r["deals_pushed_out"].to_numpy(),
    })
    return out


def _final_share(monthly: pd.DataFrame, months: int) -> np.ndarray:
    """Per replication: bookings of the last ``months`` periods over the horizon's bookings (NaN without any)."""
    wide = monthly.pivot(index="replication", columns="period", values="bookings").sort_index(axis=1)
    total = wide.sum(axis=1).to_numpy()
    last = wide.iloc[:, -months:].sum(axis=1).to_numpy()
    out: np.ndarray = np.divide(last, total, out=np.full(len(total), np.nan), where=total > 0)
    return out


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
        raise ComparisonError(scenarios.Problem("--pay-plans", f"unknown pay plan(s) {unknown}",
                                                f"use pay plans of scenario.toml [pay_plans]: {sorted(known)}"))
    if len(set(ids)) != len(ids):
        raise ComparisonError(scenarios.Problem("--pay-plans", f"a pay plan is listed twice in {ids}",
                                                "list each pay plan once"))
    if replications < 2:
        raise ComparisonError(scenarios.Problem("--replications", f"{replications} replication(s)",
                                                "use at least 2 so intervals and paired tests exist"))
    sim.check_memory(scenario, replications, copies=len(ids))  # every pay plan's results are held to pair them
    model = sim.build(scenario, plan)
    per_pay_plan: dict[str, pd.DataFrame] = {}
    monthly_rows: list[pd.DataFrame] = []
    rep_rows: list[pd.DataFrame] = []
    for pid in ids:
        behaviour = IncentiveBehaviour.from_model(model, [pid] * model.n_seats)
        pay = sim.PayPlanPay.from_model(model, [pid] * model.n_seats)
        report: Callable[[int], None] | None = None
        if progress is not None:
            def report(done: int, _pid: str = pid) -> None:
                progress(_pid, done)  # type: ignore[misc]
        res = sim.simulate(scenario, plan, replications=replications, seed=seed, workers=workers,
                           behaviour=behaviour, pay=pay, progress=report)
        per_pay_plan[pid] = _per_replication(res, _budget(model, known[pid]))
        rm = res.replication_monthly
        pivot = rm.pivot(index="replication", columns="period", values="bookings")
        mean, lo, hi = sim.mean_ci(pivot.to_numpy())
        monthly_rows.append(pd.DataFrame({"plan": pid, "period": pivot.columns.astype(str), "bookings": mean,
                                          "bookings_ci_low": lo, "bookings_ci_high": hi}))
        rep_rows.append(res.replication_reps[["replication", "rep_id", "bookings", "quota", "attainment", "pay"]]
                        .assign(plan=pid))

    rows, var_rows = [], []
    first = per_pay_plan[ids[0]]
    for metric in METRICS:
        for pid in ids:
            x = per_pay_plan[pid][metric].to_numpy(float)
            mean, lo, hi = sim.mean_ci(x)
            if pid == ids[0]:
                d = (float("nan"),) * 4
            else:
                a = first[metric].to_numpy(float)
                d = _paired(a, x)
                var_p = float(np.var(x - a, ddof=1))
                var_i = float(np.var(a, ddof=1) + np.var(x, ddof=1))
                var_rows.append({"metric": metric, "plan": pid, "var_paired": var_p, "var_independent": var_i,
                                 "variance_reduction": 1.0 - var_p / var_i if var_i > 0 else float("nan")})
            rows.append({"metric": metric, "plan": pid, "mean": float(mean), "ci_low": float(lo),
                         "ci_high": float(hi), "delta": d[0], "delta_ci_low": d[1], "delta_ci_high": d[2],
                         "p_value": d[3]})
    reps_table = pd.concat(rep_rows, ignore_index=True)[["plan", "replication", "rep_id", "bookings", "quota",
                                                         "attainment", "pay"]]
    replications_table = pd.concat([per_pay_plan[p].assign(plan=p) for p in ids], ignore_index=True)
    replications_table = replications_table[["plan", "replication", *METRICS]]
    info = {"scenario": scenario.name, "plans": ids, "replications": replications, "seed": seed,
            "plan_source": model.quota_source, "behaviour_enabled": scenario.settings.behaviour.enabled,
            "budget": "base + target variable pay at 100 % of quota under each plan, all seats, over the horizon",
            "variance_independent": "var(a) + var(b) of the per-plan replications (not a second, independent run)"}
    return ComparisonResult(
        comparison=pd.DataFrame(rows), monthly=pd.concat(monthly_rows, ignore_index=True),
        variance=pd.DataFrame(var_rows, columns=["metric", "plan", "var_paired", "var_independent",
                                                 "variance_reduction"]),
        replications=replications_table, reps=reps_table, info=info)


def _summary(result: ComparisonResult, files: list[str]) -> dict[str, Any]:
    def num(x: Any) -> float | None:
        v = float(x)
        return v if np.isfinite(v) else None

    table: dict[str, dict[str, dict[str, float | None]]] = {}
    for row in result.comparison.itertuples(index=False):
        table.setdefault(str(row.metric), {})[str(row.plan)] = {
            k: num(getattr(row, k)) for k in ("mean", "ci_low", "ci_high", "delta", "delta_ci_low",
                                              "delta_ci_high", "p_value")}
    crn = {f"{r.metric}/{r.plan}": num(r.variance_reduction) for r in result.variance.itertuples(index=False)}
    return {"run": result.info, "metrics": table, "crn_variance_reduction": crn, "files": files}


def compare_command(
    scenario: Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (written only when the run succeeds).")],
    pay_plans: Annotated[str | None, typer.Option(
        "--pay-plans", help="Comma-separated pay plan ids; the first is the reference.")] = None,
    replications: Annotated[int | None, typer.Option(
        min=2, help="Replications per pay plan (default: simulation.replications of the scenario).")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Root seed shared by all pay plans (default: simulation.seed).")]
    = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: simulation.workers).")]
    = None,
    plan: Annotated[Path | None, typer.Option("--plan", help="Plan folder (assignments.csv, optional quotas.csv, "
                                                             "budget.csv); default: today's assignment.")] = None,
    set_: SetOpt = None,
    force: ForceOpt = False,
    excel: Annotated[bool, typer.Option("--excel", help="Write CSVs with a UTF-8 BOM for Excel.")] = False,
    allow_foreign_plan: AllowForeignPlanOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
    old_plans: OldPlansOpt = None,
) -> None:
    """Compare pay plans on the same customers: paired deltas with 95 % CIs, monthly bookings, plots."""
    from quotaflow.plots import plot_attainment, plot_monthly, plot_pay_curve
    from quotaflow.readers import Evaluation, check_whatifs
    from quotaflow.sweep import apply_sets

    pay_plans = pay_plan_option(pay_plans, old_plans)
    if pay_plans is None:
        raise typer.BadParameter("name the pay plans to compare, e.g. --pay-plans flat_commission,capped",
                                 param_hint="--pay-plans")
    claim = claim_output(out, force=force, reads=[scenario_source(scenario), plan])
    base = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    s, changes = apply_sets(base, set_ or [])
    the_plan = (read_plan(plan, base, allow_foreign=allow_foreign_plan, encoding=encoding, decimal=decimal)
                if plan is not None else None)
    ids = [p.strip() for p in pay_plans.split(",") if p.strip()]
    if changes:  # a --set no compared pay plan can see is refused before any simulation starts
        evaluation = Evaluation("compare", compared=tuple(ids), plan_assignment=the_plan is not None,
                                plan_quotas=the_plan is not None and the_plan.quotas is not None,
                                plan_budget=the_plan is not None and the_plan.budget is not None,
                                replications_given=replications is not None, seed_given=seed is not None)
        for note in check_whatifs(base, [("", changes)], evaluation):
            typer.echo(f"warning: {note}", err=True)
    n = replications or s.settings.simulation.replications
    root = s.settings.simulation.seed if seed is None else seed
    k = capped_workers(workers or s.settings.simulation.workers, n)
    done: dict[str, int] = {}
    with tqdm(total=n * len(ids), desc="replications", unit="rep", disable=n * len(ids) < 5, leave=False) as bar, \
            staged_output(claim) as stage:
        def tick(pay_plan_id: str, count: int) -> None:
            done[pay_plan_id] = count
            bar.update(sum(done.values()) - bar.n)

        result = compare(s, ids, replications=n, seed=root, workers=k, plan=the_plan, progress=tick)
        result.to_csv(stage, excel=excel)
        files = [f"{name}.csv" for name in result.tables()]
        for name, fn in (("monthly_bookings.png", plot_monthly), ("attainment.png", plot_attainment),
                         ("pay_vs_attainment.png", plot_pay_curve)):
            fn(result, stage / name)
            files.append(name)
        files += ["summary.json", "manifest.json"]
        write_json(_summary(result, files), stage / "summary.json")
        write_manifest(stage, scenario=s, seeds={"simulation": int(root)},
                       extra={"replications": n, "workers": k, "plans": ids, "plan": result.info["plan_source"],
                              "changes": changes})
    typer.echo(repr(result))
    typer.echo(f"\nwrote {out}: " + ", ".join(files))
