"""Statistics of a simulation: per-replication measures from a ``RunRecord`` (the ``collect`` step) and their
mean with a t-based 95 % confidence interval over replications (a percentile bootstrap where that interval would
cross the quantity's support).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.deals import LOST, LOST_CHURNED, LOST_PUSHED, LOST_STALLED, LOST_UNCOVERED, LOST_VACANT, OPEN, WON
from sim.model import Model
from sim.record import RunRecord

__all__ = ["BOOTSTRAP_RESAMPLES", "ReplicationStats", "collect", "mean_ci"]


BOOTSTRAP_RESAMPLES = 4000
"""Resamples of the percentile bootstrap `mean_ci` falls back on; with 4,000 the 2.5 % and 97.5 % points move by
well under a tenth of the interval's width between seeds (Efron and Tibshirani 1993, ch. 19: 1,000-2,000 for
percentile intervals)."""


def mean_ci(values: np.ndarray, level: float = 0.95, *, lower: float | np.ndarray | None = None,
            upper: float | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over axis 0 with a Student-t confidence interval (NaN bounds with fewer than two replications).

    ``lower`` / ``upper`` are the support of the quantity (0 for revenue, pay and counts; 1 above for shares),
    a scalar or one value per column. Where the t interval of a column crosses its support (a revenue interval
    reaching below zero, say), that column's interval is a seeded, deterministic percentile bootstrap of the mean
    instead (`BOOTSTRAP_RESAMPLES` resamples), which stays inside the observed values and so inside the support.
    Columns whose t interval fits keep it: with the few replications a run has, the percentile bootstrap is
    narrower than its nominal level (it has only n distinct values to resample), so it is used only where the t
    interval claims the impossible.

    Examples
    --------
    >>> mean, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0]))
    >>> float(mean), round(float(lo), 3), round(float(hi), 3)
    (2.0, -0.484, 4.484)
    >>> mean, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0]), lower=0.0)
    >>> float(mean), float(lo) >= 1.0, float(hi) <= 3.0
    (2.0, True, True)
    """
    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x)
    count = finite.sum(axis=0)
    total = np.where(finite, x, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        dev = np.where(finite, x - mean, 0.0)
        sd = np.sqrt((dev * dev).sum(axis=0) / np.maximum(count - 1, 1))
        q = stats.t.ppf(0.5 + level / 2.0, np.maximum(count - 1, 1))
        half = np.where(count >= 2, q * sd / np.sqrt(np.maximum(count, 1)), np.nan)
    low, high = mean - half, mean + half
    if lower is None and upper is None:
        return mean, low, high
    floor = np.broadcast_to(-np.inf if lower is None else np.asarray(lower, dtype=float), np.shape(mean))
    ceiling = np.broadcast_to(np.inf if upper is None else np.asarray(upper, dtype=float), np.shape(mean))
    crosses = (count >= 2) & ((low < floor) | (high > ceiling))
    if not crosses.any():
        return mean, low, high
    low, high = np.array(low, dtype=float, ndmin=1), np.array(high, dtype=float, ndmin=1)
    flat = x.reshape(x.shape[0], -1)
    for j in np.flatnonzero(np.ravel(crosses)):
        column = flat[:, j][np.isfinite(flat[:, j])]
        rng = np.random.default_rng([len(column), int(j)])  # seeded by the column, so a rerun gives the same interval
        means = column[rng.integers(0, len(column), size=(BOOTSTRAP_RESAMPLES, len(column)))].mean(axis=1)
        low[j], high[j] = np.quantile(means, [0.5 - level / 2.0, 0.5 + level / 2.0])
    return mean, low.reshape(np.shape(mean)), high.reshape(np.shape(mean))


@dataclass(frozen=True, eq=False)
class ReplicationStats:
    """Measures of one replication: scalars, and arrays by month, stage and seat."""

    scalars: dict[str, float]
    monthly: dict[str, np.ndarray]  # each (M,)
    stages: dict[str, np.ndarray]  # each (S,)
    seats: dict[str, np.ndarray]  # each (R,) or (R, S) for per-stage conversion


def _ratio(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b_arr > 0, a_arr / np.where(b_arr > 0, b_arr, 1.0), np.nan)


def collect(model: Model, arrivals: np.ndarray, rec: RunRecord) -> ReplicationStats:
    """Turn one replication's raw record into its measures (``collect``, the last step of ``simulate``).

    ``arrivals`` are the leads' arrival days. Work in progress is the time average of open deals over the
    horizon (a deal counts from arrival to close, or to the horizon when still open), so that Little's law
    ``wip = arrival rate x mean time in system`` can be checked on the same run. Lead counts, the win rate and
    cycle times are over the leads that arrived within the horizon; bookings, wins per rep and stage
    statistics over what happened within it (warm-up deals closing in the horizon included).

    Examples
    --------
    >>> import scenarios
    >>> from sim import build, run_replication
    >>> model = build(scenarios.load("tiny"))
    >>> leads, rec = run_replication(model, np.random.SeedSequence(1))
    >>> stats = collect(model, leads.time, rec)
    >>> stats.scalars["leads"] == stats.scalars["won"] + stats.scalars["lost"] + stats.scalars["open_at_horizon"]
    True
    """
    horizon = model.horizon
    status = rec.status
    cohort = arrivals >= 0.0  # leads that arrived within the horizon (the warm-up's only leave open deals)
    n = int(cohort.sum())
    won_all, lost_all, open_all = (status == WON), (status == LOST), (status == OPEN)
    won, lost, open_ = won_all & cohort, lost_all & cohort, open_all & cohort
    end = np.where(open_all, horizon, rec.closed)
    time_in = end - arrivals
    cycle = time_in[won]
    # time every deal (warm-up ones included) spent open within the horizon
    inside = np.clip(np.minimum(end, horizon) - np.maximum(arrivals, 0.0), 0.0, None)
    bookings_seat = rec.bookings.sum(axis=1)
    quota_seat = rec.quotas.sum(axis=1)
    attain = _ratio(bookings_seat, quota_seat)
    hours_used = rec.selling_hours + rec.service_hours + rec.training_hours
    ms = model.month_start
    month_of_lead = np.searchsorted(ms, arrivals[cohort], side="right") - 1
    wip_end = np.array([np.sum((arrivals <= t) & ((end > t) | open_all)) for t in ms[1:]], dtype=float)
    closed_in = np.where(np.isnan(rec.closed), -1.0, rec.closed) >= 0.0  # closed within the horizon
    won_in, lost_in = won_all & closed_in, lost_all & closed_in
    won_month = np.bincount(np.clip(np.searchsorted(ms, rec.closed[won_in], side="right") - 1, 0,
                                    model.n_months - 1), minlength=model.n_months).astype(float)
    closer = rec.closer
    open_at_stage = np.bincount(rec.stage_reached[open_all & (np.nan_to_num(rec.stage_since, nan=-1.0) >= 0.0)],
                                minlength=len(model.stage_ids)).astype(float)
    seat_won = np.bincount(closer[won_in & (closer >= 0)], minlength=model.n_seats).astype(float)
    seat_lost = np.bincount(closer[lost_in & (closer >= 0)], minlength=model.n_seats).astype(float)
    seat_cycle = _ratio(np.bincount(closer[won_in & (closer >= 0)], weights=time_in[won_in & (closer >= 0)],
                                    minlength=model.n_seats), seat_won)
    pay_seat = rec.pay.sum(axis=1)
    scalars = {
        "leads": float(n),
        "won": float(won.sum()),
        "lost": float(lost.sum()),
        "open_at_horizon": float(open_.sum()),
        "deals_won_in_horizon": float(won_in.sum()),
        "open_from_warmup": float(np.sum(open_all & ~cohort)),
        "lost_stalled": float(np.sum(lost & (rec.lost_reason == LOST_STALLED))),
        "lost_uncovered": float(np.sum(lost & (rec.lost_reason == LOST_UNCOVERED))),
        "lost_churned_account": float(np.sum(lost & (rec.lost_reason == LOST_CHURNED))),
        "lost_rep_left": float(np.sum(lost & (rec.lost_reason == LOST_VACANT))),
        "lost_pushed": float(np.sum(lost & (rec.lost_reason == LOST_PUSHED))),
        "revenue": float(rec.bookings.sum()),
        "gross_margin": float(rec.margin.sum()),
        "quota": float(rec.quotas.sum()),
        "attainment": float(_ratio(rec.bookings.sum(), rec.quotas.sum())),
        "share_reps_at_quota": float(np.mean(attain[np.isfinite(attain)] >= 1.0)) if np.isfinite(attain).any()
        else float("nan"),
        "win_rate": float(_ratio(won.sum(), won.sum() + lost.sum())),
        "cycle_days_won": float(cycle.mean()) if len(cycle) else float("nan"),
        "arrival_rate_per_day": n / horizon,
        "time_in_system_days": float(time_in[cohort].mean()) if n else float("nan"),
        "wip": float(inside.sum() / horizon),
        "utilisation": float(_ratio(hours_used.sum(), rec.available_hours.sum())),
        "selling_share_of_hours": float(_ratio(rec.selling_hours.sum(), rec.available_hours.sum())),
        "pay_total": float(pay_seat.sum()),
        "cost_of_sales_share": float(_ratio(pay_seat.sum(), rec.bookings.sum())),
        "customers_start": float(rec.customers_start),
        "churned_customers": float(rec.churned_accounts),
        "churn_rate": float(_ratio(rec.churned_accounts, rec.customers_start)),
        "leavers": float(rec.leavers.sum()),
        "attrition_rate": float(rec.leavers.sum() / max(model.n_seats, 1)),
        "hires": float(rec.hires.sum()),
        "promotions": float(rec.promotions.sum()),
        "deals_pulled_in": float(rec.pulled.sum()),
        "deals_pushed_out": float(rec.pushed.sum()),
        "pull_in_discounts": float(rec.pull_discount.sum()),
        "deals_waited_for_quarter_end": float(rec.waited.sum()),
        "quarter_end_waiting_discounts": float(rec.waiting_discount.sum()),
        "revenue_cut_by_potential": float(rec.potential_cut.sum()),
        "events": float(rec.events),
    }
    monthly = {
        "bookings": rec.bookings.sum(axis=0),
        "gross_margin": rec.margin.sum(axis=0),
        "quota": rec.quotas.sum(axis=0),
        "leads": np.bincount(month_of_lead, minlength=model.n_months).astype(float),
        "won": won_month,
        "wip_end": wip_end,
        "pay": rec.pay.sum(axis=0),
        "deals_pulled_in": rec.pulled.sum(axis=0),
        "deals_pushed_out": rec.pushed.sum(axis=0),
    }
    stage_stats = {
        "entered": rec.stage_entered,
        "converted": rec.stage_converted,
        "open": open_at_stage,
        "conversion": _ratio(rec.stage_converted, rec.stage_entered - open_at_stage),
        "mean_days": _ratio(rec.stage_days, rec.stage_done),
        "mean_wait_days": _ratio(rec.stage_wait, rec.stage_started),
    }
    seats = {
        "bookings": bookings_seat,
        "quota": quota_seat,
        "attainment": attain,
        "pay": pay_seat,
        "won": seat_won,
        "win_rate": _ratio(seat_won, seat_won + seat_lost),
        "cycle_days": seat_cycle,
        "utilisation": _ratio(hours_used, rec.available_hours),
        "selling_hours": rec.selling_hours,
        "left": rec.leavers,
        "promoted": rec.promotions,
        "stage_conversion": _ratio(rec.seat_converted, rec.seat_entered),
    }
    return ReplicationStats(scalars=scalars, monthly=monthly, stages=stage_stats, seats=seats)
