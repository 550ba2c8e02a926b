"""Every measurement a comparison, a sweep or a report states, declared in one place with what it means and
how it is computed from a simulation (``sim.SimulationResult``), and the statistics behind them (`gini`).

`COMPARISON_METRICS` are the per-replication metrics of ``quotaflow compare`` in report order; `SPREAD_METRICS`
the reps' attainment spread a sweep adds to the simulator's own replication measures; `STEP_METRICS` the
outcomes of the optional optimisation steps a sweep point runs. The simulator's own measures (``revenue``,
``win_rate`` ...) are those of ``SimulationResult.replications`` and are not renamed here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

import scenarios
import sim
from sim.incentives import annual_base, target_variable_pay

__all__ = ["COMPARISON_METRICS", "METRICS", "SPREAD_METRICS", "STEP_METRICS", "Metric", "attainment_spread",
           "final_share", "gini", "pay_budget", "per_replication"]

Values = npt.NDArray[np.float64]


def gini(values: npt.ArrayLike) -> float:
    """Gini coefficient of non-negative values: 0 when all are equal, towards 1 when one takes all.

    .. math:: G = \\frac{\\sum_i (2i - n - 1) x_{(i)}}{n \\sum_i x_{(i)}}

    Empty input has no dispersion to measure and gives NaN; values that are all zero are all equal and give 0.
    A negative total (which non-negative values cannot have) gives NaN.

    Examples
    --------
    >>> gini([1.0, 1.0, 1.0]), round(gini([0.0, 0.0, 3.0]), 4), gini([0.0, 0.0]), gini([])
    (0.0, 0.6667, 0.0, nan)
    """
    x = np.sort(np.asarray(values, dtype=float))
    n, total = len(x), float(x.sum())
    if n == 0 or total < 0:
        return float("nan")
    if total == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * x).sum() / (n * total))


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


def final_share(monthly: pd.DataFrame, months: int) -> Values:
    """Per replication: bookings of the last ``months`` periods over the horizon's bookings (NaN without any)."""
    wide = monthly.pivot(index="replication", columns="period", values="bookings").sort_index(axis=1)
    total = wide.sum(axis=1).to_numpy()
    last = wide.iloc[:, -months:].sum(axis=1).to_numpy()
    out: Values = np.divide(last, total, out=np.full(len(total), np.nan), where=total > 0)
    return out


def pay_budget(model: sim.Model,
               pay_plan: scenarios.PayPlanSettings | Sequence[scenarios.PayPlanSettings]) -> float:
    """A pay plan's budget over the horizon: every seat's base plus the pay plan's target variable pay at 100 %
    of quota (``sim.incentives.target_variable_pay``), summed over seats. ``pay_plan`` is one pay plan for every
    seat, or one per seat (reps on their own pay plans)."""
    months = model.n_months
    plans = [pay_plan] * model.n_seats if isinstance(pay_plan, scenarios.PayPlanSettings) else list(pay_plan)
    total = 0.0
    for r in range(model.n_seats):
        salary = float(model.base_salary[r])
        total += annual_base(salary, plans[r]) * months / 12.0
        total += float(target_variable_pay(model.quotas[r], salary, plans[r]).sum())
    return total


@dataclass(frozen=True)
class Metric:
    """One reported measurement: its name (a column or ``metric`` value in the output files), what it means,
    and, for a comparison metric, how it is computed per replication from a simulation and the pay plan's
    budget (`pay_budget`). ``lower`` / ``upper`` bound what the metric can be (0 for amounts, counts and shares, 1
above for shares of a whole), so that its interval over replications respects them (``sim.mean_ci``); a paired
difference has no such bound."""

    name: str
    description: str
    compute: Callable[[sim.SimulationResult, float], Values] | None = None
    lower: float | None = None
    upper: float | None = None


def _column(name: str) -> Callable[[sim.SimulationResult, float], Values]:
    return lambda result, budget: result.replications[name].to_numpy()


def _spread(name: str) -> Callable[[sim.SimulationResult, float], Values]:
    def compute(result: sim.SimulationResult, budget: float) -> Values:
        spread = attainment_spread(result.replication_reps).set_index("replication")
        return spread.reindex(result.replications["replication"])[name].to_numpy()
    return compute


def _pay_gini(result: sim.SimulationResult, budget: float) -> Values:
    return result.replication_reps.groupby("replication")["pay"].apply(lambda s: gini(s.to_numpy())).to_numpy()


def _payout_vs_budget(result: sim.SimulationResult, budget: float) -> Values:
    pay = result.replications["pay_total"].to_numpy()
    return pay / budget if budget > 0 else np.full(len(pay), np.nan)


COMPARISON_METRICS: tuple[Metric, ...] = (
    Metric("revenue", "bookings over the horizon", _column("revenue"), lower=0.0),
    Metric("gross_margin", "bookings times each product's margin", _column("gross_margin"), lower=0.0),
    Metric("compensation_cost", "everything paid to reps (the simulator's pay_total)", _column("pay_total"), lower=0.0),
    Metric("profit_after_pay", "gross margin minus compensation cost: what the company keeps after paying the "
           "reps (marketing and other costs not deducted)",
           lambda result, budget: (result.replications["gross_margin"].to_numpy()
                                   - result.replications["pay_total"].to_numpy())),
    Metric("cost_of_sales_share", "compensation cost over revenue", _column("cost_of_sales_share"), lower=0.0),
    Metric("share_reps_at_quota", "share of reps at or above quota", _column("share_reps_at_quota"), lower=0.0,
           upper=1.0),
    Metric("attainment_p10", "10th percentile of the reps' attainment", _spread("attainment_p10"), lower=0.0),
    Metric("attainment_p50", "median of the reps' attainment", _spread("attainment_p50"), lower=0.0),
    Metric("attainment_p90", "90th percentile of the reps' attainment", _spread("attainment_p90"), lower=0.0),
    Metric("pay_gini", "Gini coefficient of the reps' pay (gini)", _pay_gini, lower=0.0, upper=1.0),
    Metric("attrition_rate", "share of seats whose rep left", _column("attrition_rate"), lower=0.0),
    Metric("payout_vs_budget", "total pay over the pay plan's budget: every seat's base plus its target "
           "variable pay at 100 % of quota over the horizon (pay_budget)", _payout_vs_budget, lower=0.0),
    Metric("final_month_share", "share of the horizon's bookings booked in its last month (end-of-period "
           "bunching)", lambda result, budget: final_share(result.replication_monthly, 1), lower=0.0, upper=1.0),
    Metric("final_quarter_share", "share of the horizon's bookings booked in its last three months",
           lambda result, budget: final_share(result.replication_monthly, 3), lower=0.0, upper=1.0),
    Metric("deals_pulled_in", "timing games played: deals pulled into an earlier month (0 unless [behaviour] "
           "timing_games = true)", _column("deals_pulled_in"), lower=0.0),
    Metric("deals_pushed_out", "timing games played: deals pushed into a later month (0 unless [behaviour] "
           "timing_games = true)", _column("deals_pushed_out"), lower=0.0),
)
"""The metrics of a pay plan comparison, in report order."""

METRICS = tuple(m.name for m in COMPARISON_METRICS)
"""The names of `COMPARISON_METRICS`, in report order."""

SPREAD_METRICS: tuple[Metric, ...] = tuple(m for m in COMPARISON_METRICS if m.name.startswith("attainment_p"))
"""The reps' attainment spread, which a sweep adds to the simulator's replication measures: it shows what a
quota what-if does when company totals stay the same."""

STEP_METRICS: tuple[Metric, ...] = (
    Metric("allocation_feasible", "1 when the point's re-allocation found a plan, else 0 (and no simulated "
           "metrics)"),
    Metric("allocation_objective", "the re-allocation's objective value"),
    Metric("allocation_travel_km", "travel of the re-allocated plan, km per year"),
    Metric("allocation_moved", "accounts the re-allocation gives to another rep"),
    Metric("quotas_feasible", "1 when the point's quotas fit the tier bounds, else 0"),
    Metric("budget_feasible", "1 when the point's budget could be spent within the channel bounds, else 0"),
    Metric("budget_spent", "marketing spend of the optimised budget"),
    Metric("budget_expected_leads", "leads the optimised budget is expected to buy"),
)
"""The outcomes of a sweep point's optional steps (``quotaflow.whatif.simulate_point``)."""


def per_replication(result: sim.SimulationResult, budget: float) -> pd.DataFrame:
    """``replication`` and every `COMPARISON_METRICS` column for one simulated pay plan."""
    columns = {"replication": result.replications["replication"].to_numpy()}
    for metric in COMPARISON_METRICS:
        if metric.compute is None:  # a declaration error, caught by the test suite
            raise TypeError(f"comparison metric {metric.name} has no computation")
        columns[metric.name] = metric.compute(result, budget)
    return pd.DataFrame(columns)
