"""The decision table a planner reads at the end of ``quotaflow demo`` and ``quotaflow compare``: per pay plan the
money (revenue, gross margin, compensation cost, profit after pay), the cost of sales, the payout against the
compensation budget, the share of reps at quota and attrition, each with its paired difference against the
reference pay plan and that difference's 95 % interval, and one plain-language line naming the winner.

The figures are those of ``ComparisonResult.comparison`` (means and paired-t intervals over replications run on
the same customers), reshaped one row per pay plan, so the table and ``comparison.csv`` cannot disagree. The
intervals stay Student-t: with the handful of replications a comparison runs (8 in the demo), a percentile
bootstrap of the paired differences is narrower than its nominal 95 % (it has only ``n`` distinct values to
resample), while the paired-t interval is exact for normal differences and robust for sums over many deals.

The compensation budget is not a scenario setting: it is derived per pay plan as every seat's base salary plus the
pay plan's target variable pay at 100 % of quota over the horizon (``quotaflow.metrics.pay_budget``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DECISION_MEASURES", "Measure", "decision_table", "decision_text", "format_amount", "format_number",
           "format_share", "ranking_line"]


@dataclass(frozen=True)
class Measure:
    """One row of the decision table: the comparison metric, its label, and whether it is money or a share."""

    metric: str
    label: str
    kind: str  # "money" or "share"


DECISION_MEASURES: tuple[Measure, ...] = (
    Measure("revenue", "Revenue", "money"),
    Measure("gross_margin", "Gross margin", "money"),
    Measure("compensation_cost", "Compensation cost", "money"),
    Measure("profit_after_pay", "Profit after pay", "money"),
    Measure("cost_of_sales_share", "Cost of sales (pay / revenue)", "share"),
    Measure("payout_vs_budget", "Payout / compensation budget", "share"),
    Measure("share_reps_at_quota", "Reps at quota", "share"),
    Measure("attrition_rate", "Attrition", "share"),
)
"""The decision table's rows, in the order printed (and its column groups in ``decision.csv``)."""


def format_amount(value: float, currency: str = "", *, signed: bool = False) -> str:
    """A money amount for people: K / M / B with a few significant digits, the currency after it; empty text for
    a missing value.

    Examples
    --------
    >>> format_amount(12_345_678, "EUR"), format_amount(-4_560, "EUR", signed=True), format_amount(512.4)
    ('12.3 M EUR', '-4.56 K EUR', '512')
    >>> format_amount(0.0, signed=True), format_amount(float("nan"))
    ('0', '')
    """
    if not math.isfinite(value):
        return ""
    size = abs(value)
    for limit, suffix in ((1e9, " B"), (1e6, " M"), (1e3, " K")):
        if size >= limit:
            scaled, unit = value / limit, suffix
            break
    else:
        scaled, unit = value, ""
    digits = 0 if not unit else (2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0)
    text = f"{scaled:+,.{digits}f}" if signed and scaled != 0 else f"{scaled:,.{digits}f}"
    return f"{text}{unit}" + (f" {currency}" if currency else "")


def format_number(value: float, *, signed: bool = False) -> str:
    """Any measure for people: from 1,000 up with K / M / B (`format_amount`), below that 3 significant digits in
    plain notation (never ``1e-05``); empty text when missing.

    Examples
    --------
    >>> format_number(58_590_401.7), format_number(0.0909), format_number(1.05e-05, signed=True), format_number(3.0)
    ('58.6 M', '0.0909', '+0.0000105', '3')
    """
    if not math.isfinite(value):
        return ""
    if abs(value) >= 1e3:
        return format_amount(value, signed=signed)
    text = np.format_float_positional(value, precision=3, unique=False, fractional=False, trim="-")
    return ("+" + text) if signed and value > 0 else text


def format_share(value: float, *, signed: bool = False) -> str:
    """A share as a percentage (a difference of shares in percentage points, ``pp``); empty text when missing.

    Examples
    --------
    >>> format_share(0.4567), format_share(-0.012, signed=True), format_share(float("inf"))
    ('45.7 %', '-1.2 pp', '')
    """
    if not math.isfinite(value):
        return ""
    if signed:
        return f"{100 * value:+.1f} pp" if value != 0 else "0.0 pp"
    return f"{100 * value:.1f} %"


def _fmt(measure: Measure, value: float, currency: str, *, signed: bool = False) -> str:
    return format_amount(value, currency, signed=signed) if measure.kind == "money" else format_share(value,
                                                                                                       signed=signed)


def decision_table(comparison: pd.DataFrame, info: Mapping[str, Any]) -> pd.DataFrame:
    """One row per pay plan (reference first): ``plan, reference``, then for every `DECISION_MEASURES` metric
    ``<metric>, <metric>_delta, <metric>_delta_ci_low, <metric>_delta_ci_high`` (the mean and the paired difference
    against the reference with its 95 % interval; empty for the reference itself), with ``compensation_budget``
    and ``over_budget`` (mean payout above the budget) after ``payout_vs_budget``.

    Examples
    --------
    >>> import scenarios
    >>> from quotaflow.comparison import compare
    >>> res = compare(scenarios.load("tiny"), ["flat_commission", "capped"], replications=3, seed=1)
    >>> table = decision_table(res.comparison, res.info)
    >>> table["plan"].tolist(), bool(table["reference"].iloc[0])
    (['flat_commission', 'capped'], True)
    >>> bool((table["profit_after_pay"] - (table["gross_margin"] - table["compensation_cost"])).abs().max() < 1e-6)
    True
    """
    plans = [str(p) for p in info.get("plans", comparison["plan"].unique())]
    budgets = dict(info.get("compensation_budget", {}))
    rows = {(str(r["metric"]), str(r["plan"])): r for r in comparison.to_dict("records")}
    records = []
    for i, plan in enumerate(plans):
        record: dict[str, Any] = {"plan": plan, "reference": i == 0}
        for m in DECISION_MEASURES:
            row = rows[(m.metric, plan)]
            record[m.metric] = float(row["mean"])
            for key in ("delta", "delta_ci_low", "delta_ci_high"):
                record[f"{m.metric}_{key}"] = float(row[key]) if i else float("nan")
            if m.metric == "payout_vs_budget":
                record["compensation_budget"] = float(budgets.get(plan, float("nan")))
                record["over_budget"] = bool(float(row["mean"]) > 1.0)
        records.append(record)
    return pd.DataFrame(records)


def ranking_line(table: pd.DataFrame, currency: str = "") -> str:
    """The plain-language verdict: which pay plan keeps the most profit after pay, by how much against the
    reference (with the 95 % interval, and a warning when that interval includes zero), and how it pays against
    its compensation budget.

    Examples
    --------
    >>> t = pd.DataFrame({"plan": ["flat", "tiered"], "reference": [True, False],
    ...                   "profit_after_pay": [1.0e6, 1.46e6], "profit_after_pay_delta": [np.nan, 4.6e5],
    ...                   "profit_after_pay_delta_ci_low": [np.nan, 2.0e5],
    ...                   "profit_after_pay_delta_ci_high": [np.nan, 7.0e5], "payout_vs_budget": [0.9, 1.3]})
    >>> print(ranking_line(t, "EUR"))  # doctest: +NORMALIZE_WHITESPACE
    tiered earns the most profit after pay: +460 K EUR (+200 K to +700 K) against flat, but pays 30.0 % over
    its compensation budget.
    """
    rows = table.to_dict("records")
    reference = str(rows[0]["plan"])
    best = max(rows, key=lambda r: float(r["profit_after_pay"]))
    name = str(best["plan"])
    if name == reference:
        text = f"{reference} (the reference) earns the most profit after pay"
        if len(rows) > 1:
            runner = max(rows[1:], key=lambda r: float(r["profit_after_pay"]))
            text += (f"; the next best, {runner['plan']}, keeps "
                     f"{format_amount(float(runner['profit_after_pay_delta']), currency, signed=True)} "
                     f"({format_amount(float(runner['profit_after_pay_delta_ci_low']), signed=True)} to "
                     f"{format_amount(float(runner['profit_after_pay_delta_ci_high']), signed=True)})")
    else:
        low, high = float(best["profit_after_pay_delta_ci_low"]), float(best["profit_after_pay_delta_ci_high"])
        text = (f"{name} earns the most profit after pay: "
                f"{format_amount(float(best['profit_after_pay_delta']), currency, signed=True)} "
                f"({format_amount(low, signed=True)} to {format_amount(high, signed=True)}) against {reference}")
        if low <= 0.0 <= high:
            text += " (the 95 % interval includes no difference)"
    payout = float(best["payout_vs_budget"])
    if math.isfinite(payout):
        if payout > 1.0:
            text += f", but pays {format_share(payout - 1.0)} over its compensation budget"
        else:
            text += f", within its compensation budget ({format_share(payout)} of it)"
    return text + "."


def decision_text(table: pd.DataFrame, info: Mapping[str, Any]) -> str:
    """The decision table as printed: one column per pay plan, per measure the mean and, under it, the paired
    difference against the reference and its 95 % interval; then the ranking line."""
    currency = str(info.get("currency", ""))
    plans = table["plan"].astype(str).tolist()
    width = max(22, *(len(p) + 2 for p in plans))
    label = 32
    lines = [f"Decision table: mean of {info.get('replications')} replications per pay plan; under it the paired "
             f"difference against {plans[0]} and its 95 % interval (same customers)",
             " " * label + "".join(f"{p:>{width}}" for p in plans)]
    for m in DECISION_MEASURES:
        means = [_fmt(m, float(v), currency) for v in table[m.metric]]
        if m.metric == "payout_vs_budget":
            means = [v + (" !" if over else "") for v, over in zip(means, table["over_budget"], strict=True)]
        lines.append(f"{m.label:<{label}}" + "".join(f"{v:>{width}}" for v in means))
        deltas = [""] + [_fmt(m, float(v), "", signed=True) for v in table[f"{m.metric}_delta"].iloc[1:]]
        lows = [""] + [_fmt(m, float(v), "", signed=True) for v in table[f"{m.metric}_delta_ci_low"].iloc[1:]]
        highs = [""] + [_fmt(m, float(v), "", signed=True) for v in table[f"{m.metric}_delta_ci_high"].iloc[1:]]
        lines.append(" " * label + "".join(f"{d:>{width}}" for d in deltas))
        lines.append(" " * label + "".join(f"{(f'{lo} to {hi}' if lo else ''):>{width}}"
                                          for lo, hi in zip(lows, highs, strict=True)))
    budgets = [format_amount(float(v), currency) for v in table["compensation_budget"]]
    lines.append(f"{'Compensation budget':<{label}}" + "".join(f"{v:>{width}}" for v in budgets))
    if bool(np.asarray(table["over_budget"]).any()):
        lines.append("  ! pays more than its compensation budget (base + target variable pay at 100 % of quota)")
    lines.append(ranking_line(table, currency))
    return "\n".join(lines)
