"""The period-end pattern of closes: the share of a quarter's wins in each of its months, and December's share
of a year's wins, with bootstrap intervals.

Only complete quarters inside the observation window count (a quarter cut by the window's start or end would
distort the shares). Shares are pooled over those quarters; their 90 % intervals come from a parametric
bootstrap of the won deals (multinomial resampling of the deal counts per month, ``BOOTSTRAP`` draws from a
seeded generator), which treats deals as independent and so does not include quarter-to-quarter variation: the
per-quarter profiles are listed beside the pooled one so that variation can be seen. The share of won value by
month of quarter is reported too, with a delta-method interval for a ratio of means.

December: for every complete calendar year in the window, December's share of the year's wins; when no year is
complete, December's wins relative to the average month of the covered part of its year (1 = no year-end
effect), both with bootstrap intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from calibration.funnel import LEVEL
from calibration.model import CrmModel

__all__ = ["BOOTSTRAP", "CloseTiming", "estimate_timing", "won_closes"]

BOOTSTRAP = 2000
"""Bootstrap draws for the timing intervals."""


def won_closes(model: CrmModel) -> pd.DataFrame:
    """Booking date and amount of every win: the opportunity's close date (what a sales organisation books
    against), else the date of its change into a won stage."""
    opps = model.opportunities
    won = opps[opps["kind"] == "won"]
    hist = model.history
    wins = hist[hist["kind"] == "won"].drop_duplicates("opportunity_id", keep="last")
    changed = pd.Series(wins["changed"].to_numpy(), index=wins["opportunity_id"].to_numpy(dtype=object))
    closed = won["closed"].fillna(changed.reindex(won.index))
    return pd.DataFrame({"opportunity_id": won.index.to_numpy(), "closed": closed.to_numpy(),
                         "amount": won["amount"].to_numpy(dtype=float)})


@dataclass(frozen=True, eq=False)
class CloseTiming:
    """Month-of-quarter and December shares of wins."""

    quarters: list[str]
    month_of_quarter: pd.DataFrame  # position, wins, share, low, high, value_share, value_low, value_high
    per_quarter: pd.DataFrame  # quarter, month_1, month_2, month_3, wins
    december: pd.DataFrame  # year, months_covered, december_wins, wins, measure, value, low, high


def _complete_quarters(model: CrmModel) -> pd.PeriodIndex:
    first = model.observed_from.to_period("Q")
    if model.observed_from.normalize() != first.start_time:
        first = first + 1
    last = model.as_of.to_period("Q")
    if model.as_of.normalize() != last.end_time.normalize():
        last = last - 1
    if last < first:
        return pd.PeriodIndex([], freq="Q")
    return pd.period_range(first, last, freq="Q")


def estimate_timing(model: CrmModel, *, level: float = LEVEL, seed: int = 0) -> CloseTiming:
    """Shares of wins by month of quarter and in December (see the module docstring).

    Parameters
    ----------
    model
        The export.
    level
        Interval level.
    seed
        Seed of the bootstrap generator (the same seed gives the same intervals).
    """
    rng = np.random.default_rng(seed)
    a = (1.0 - level) / 2.0
    wins = won_closes(model)
    quarters = _complete_quarters(model)
    q = wins["closed"].dt.to_period("Q")
    inq = wins[q.isin(quarters).to_numpy()]
    position = ((inq["closed"].dt.month - 1) % 3).to_numpy()
    counts = np.bincount(position, minlength=3).astype(float)
    total = counts.sum()
    rows = []
    if total > 0:
        draws = rng.multinomial(int(total), counts / total, size=BOOTSTRAP) / total
        lo, hi = np.quantile(draws, [a, 1.0 - a], axis=0)
        amounts = np.nan_to_num(inq["amount"].to_numpy(dtype=float))
        value_total = amounts.sum()
        z = stats.norm.ppf(1.0 - a)
        for k in range(3):
            share = counts[k] / total
            v_share = float(amounts[position == k].sum() / value_total) if value_total > 0 else np.nan
            if value_total > 0:
                resid = amounts * ((position == k).astype(float) - v_share)
                se = float(np.std(resid, ddof=1) / np.sqrt(len(amounts)) / amounts.mean())
            else:
                se = np.nan
            rows.append({"position": k + 1, "wins": int(counts[k]), "share": share, "low": float(lo[k]),
                         "high": float(hi[k]), "value_share": v_share, "value_low": v_share - z * se,
                         "value_high": v_share + z * se})
    moq = pd.DataFrame(rows, columns=["position", "wins", "share", "low", "high", "value_share", "value_low",
                                      "value_high"])
    per_q = []
    for quarter in quarters:
        sel = (inq["closed"].dt.to_period("Q") == quarter).to_numpy()
        c = np.bincount(position[sel], minlength=3).astype(float)
        n = c.sum()
        per_q.append({"quarter": str(quarter), "month_1": c[0] / n if n else np.nan,
                      "month_2": c[1] / n if n else np.nan, "month_3": c[2] / n if n else np.nan, "wins": int(n)})
    dec_rows = []
    start, end = model.observed_from.normalize(), model.as_of.normalize()
    for year in sorted(set(wins["closed"].dt.year)):
        y0, y1 = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        if end < pd.Timestamp(year, 12, 31):
            continue  # December not complete
        first_month = 1 if start <= y0 else (start.month + (0 if start.day == 1 else 1))
        covered = 13 - first_month
        if covered < 2:
            continue
        sel = wins[(wins["closed"] >= max(y0, pd.Timestamp(year, first_month, 1))) & (wins["closed"] <= y1)]
        months = sel["closed"].dt.month.to_numpy()
        c = np.bincount(months - first_month, minlength=covered).astype(float)
        n = c.sum()
        if n == 0:
            continue
        draws = rng.multinomial(int(n), c / n, size=BOOTSTRAP)
        if covered == 12:
            measure = "december_share_of_year"
            value = c[-1] / n
            sample = draws[:, -1] / n
        else:
            measure = "december_vs_average_month"
            value = c[-1] / (n / covered)
            sample = draws[:, -1] / (n / covered)
        lo_d, hi_d = np.quantile(sample, [a, 1.0 - a])
        dec_rows.append({"year": year, "months_covered": covered, "december_wins": int(c[-1]), "wins": int(n),
                         "measure": measure, "value": float(value), "low": float(lo_d), "high": float(hi_d)})
    december = pd.DataFrame(dec_rows, columns=["year", "months_covered", "december_wins", "wins", "measure", "value",
                                               "low", "high"])
    return CloseTiming(quarters=[str(x) for x in quarters], month_of_quarter=moq, per_quarter=pd.DataFrame(per_q),
                       december=december)
