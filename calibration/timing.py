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

The calendar of decisions (``estimate_close_calendar``): the same month-of-quarter shares for the closes of each
outcome (won, lost) and deal length (short, long). A deal's length is its cycle time, close date minus creation
date. The split between short and long is found from the data: a Gaussian kernel density (Scott's bandwidth) of the
closed deals' cycle times on a one-day grid; when it has two modes and the lowest density between the two highest
is below half the lower of them (a clear valley), the split is the day of that minimum; otherwise
``DEFAULT_SPLIT_DAYS`` (a month, the calendar's own unit). The reading asks whether long deals avoid a quarter's first
month (the upper bound of that share below half of a uniform third), won and lost alike: pay plans move wins, not
losses, so a calendar that losses share says when outcomes are decided or recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from calibration.funnel import LEVEL
from calibration.model import CrmModel

__all__ = ["BOOTSTRAP", "DEFAULT_SPLIT_DAYS", "CloseCalendar", "CloseTiming", "estimate_close_calendar",
           "estimate_timing", "won_closes"]

BOOTSTRAP = 2000
"""Bootstrap draws for the timing intervals."""

DEFAULT_SPLIT_DAYS = 30.0
"""Split between short and long deals when the cycle times show no clear second mode: a month, the unit of the
calendar the split is used for."""


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
    calendar: CloseCalendar | None = None


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
                       december=december, calendar=estimate_close_calendar(model, level=level, seed=seed))


@dataclass(frozen=True, eq=False)
class CloseCalendar:
    """Month-of-quarter shares of closes by outcome and deal length, and the split between short and long deals."""

    split_days: float
    split_rule: str  # "valley" (density minimum between the two modes) or "default" (no clear second mode)
    table: pd.DataFrame  # outcome, length, closes, month_1..3 (shares), low_1..3, high_1..3
    reading: str


def _split(days: np.ndarray) -> tuple[float, str]:
    """Split between short and long deals at the valley of the cycle times' density (module docstring)."""
    if len(days) < 10 or np.ptp(days) <= 0.0:
        return DEFAULT_SPLIT_DAYS, "default"
    grid = np.arange(0.0, float(days.max()) + 1.0)
    f = stats.gaussian_kde(days)(grid)
    inner = np.arange(1, len(grid) - 1)
    peaks = inner[(f[inner] >= f[inner - 1]) & (f[inner] > f[inner + 1])]
    if len(peaks) < 2:
        return DEFAULT_SPLIT_DAYS, "default"
    a, b = np.sort(peaks[np.argsort(f[peaks])[-2:]])
    low = a + int(np.argmin(f[a:b + 1]))
    if f[low] >= 0.5 * min(f[a], f[b]):
        return DEFAULT_SPLIT_DAYS, "default"
    return float(grid[low]), "valley"


def estimate_close_calendar(model: CrmModel, *, level: float = LEVEL, seed: int = 0) -> CloseCalendar:
    """Shares of closes by month of quarter, per outcome and deal length (see the module docstring).

    Parameters
    ----------
    model
        The export.
    level
        Interval level (multinomial bootstrap, as for the wins).
    seed
        Seed of the bootstrap generator.
    """
    rng = np.random.default_rng(seed + 1)
    a = (1.0 - level) / 2.0
    opps = model.opportunities
    closed = opps[opps["kind"].isin(["won", "lost"]) & opps["closed"].notna() & opps["created"].notna()]
    days = ((closed["closed"] - closed["created"]).dt.total_seconds() / 86400.0).to_numpy(float)
    ok = days >= 0.0
    closed, days = closed[ok], days[ok]
    split, rule = _split(days)
    quarters = _complete_quarters(model)
    inq = closed["closed"].dt.to_period("Q").isin(quarters).to_numpy()
    position = ((closed["closed"].dt.month - 1) % 3).to_numpy()
    kind = closed["kind"].to_numpy(dtype=object)
    rows = []
    for outcome in ("won", "lost"):
        for length in ("all", "short", "long"):
            sel = inq & (kind == outcome)
            if length != "all":
                sel &= (days > split) if length == "long" else (days <= split)
            c = np.bincount(position[sel], minlength=3).astype(float)
            n = c.sum()
            row: dict[str, object] = {"outcome": outcome, "length": length, "closes": int(n)}
            if n > 0:
                draws = rng.multinomial(int(n), c / n, size=BOOTSTRAP) / n
                lo, hi = np.quantile(draws, [a, 1.0 - a], axis=0)
            else:
                lo = hi = np.full(3, np.nan)
            for k in range(3):
                row[f"month_{k + 1}"] = c[k] / n if n else np.nan
                row[f"low_{k + 1}"] = float(lo[k])
                row[f"high_{k + 1}"] = float(hi[k])
            rows.append(row)
    table = pd.DataFrame(rows)
    return CloseCalendar(split_days=split, split_rule=rule, table=table, reading=_reading(table, split))


def _reading(table: pd.DataFrame, split: float) -> str:
    """One line: do long deals, won and lost alike, avoid a quarter's first month (its share's upper bound below
    half of a uniform third)?"""
    def row(outcome: str, length: str) -> pd.Series:
        return table[(table["outcome"] == outcome) & (table["length"] == length)].iloc[0]

    long_won, long_lost = row("won", "long"), row("lost", "long")
    if not long_won["closes"] or not long_lost["closes"]:
        return f"too few won or lost deals open longer than {split:g} days in complete quarters to read a calendar"
    held = [bool(r["high_1"] < 1.0 / 6.0) for r in (long_won, long_lost)]
    shares = (f"deals open longer than {split:g} days close in a quarter's first month {long_won['month_1']:.3f} "
              f"of the time when won and {long_lost['month_1']:.3f} when lost (shorter deals "
              f"{row('won', 'short')['month_1']:.3f} and {row('lost', 'short')['month_1']:.3f})")
    if all(held):
        return (shares + ": losses follow the same calendar as wins, so the profile reflects when outcomes are "
                "decided or recorded, not only the reps' pay")
    if held[0]:
        return shares + ": only the wins avoid the first month, as the reps' timing of bookings would make them"
    return shares + ": no calendar of decisions"
