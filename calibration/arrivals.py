"""Monthly opportunity arrivals: level, trend and seasonality for the whole export, and gamma-Poisson pooled
rates by owner, region or account.

A deal arrives on its creation date (the first dated change). Only months inside the observation window count,
each weighted by the share of its days the window covers (a deal created before the window is in the export
only because it was still alive, so counting it would bias the early months). The monthly counts are fitted by a
Poisson regression with an exposure offset, ``log mu_m = log e_m + b0 + b1 t_m + season(m)``, with
overdispersion estimated by Pearson's statistic (quasi-Poisson: intervals and tests are widened by it). Terms
enter only when the history supports them (the notes' rule: model a trend before reading month effects):

- the trend when there are at least 6 months and its quasi-likelihood-ratio test has p < 0.05;
- month-of-quarter effects when there are at least 6 months (each position seen twice) and p < 0.05;
- month-of-year effects, instead, when there are at least 24 months (each month seen twice) and they add to the
  model so far with p < 0.05 (month of year nests month of quarter).

Seasonal effects use deviation coding, so ``b0 + b1 t`` is the de-seasonalised level. The level reported is the
fitted de-seasonalised rate at the middle of the last 12 months of the window (of the whole window when it is
shorter), with its 90 % interval.

Groups (owners, regions, accounts) share information through a gamma-Poisson model: rate_g ~ Gamma(a, b),
count_g ~ Poisson(rate_g x months_g); a and b maximise the negative-binomial marginal likelihood, and each group's
rate is its posterior mean ``(a + count_g) / (b + months_g)`` with a Gamma posterior interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from calibration.funnel import LEVEL
from calibration.model import CrmModel

__all__ = ["ArrivalModel", "estimate_arrivals", "monthly_counts", "pooled_rates"]


def monthly_counts(model: CrmModel) -> pd.DataFrame:
    """Deals created per calendar month inside the observation window, with each month's exposure.

    Returns
    -------
    pandas.DataFrame
        ``month`` (``YYYY-MM``), ``start``, ``arrivals``, ``exposure`` (share of the month covered, 0..1].
    """
    start = model.observed_from.normalize()
    end = model.as_of.normalize() + pd.Timedelta(days=1)
    created = model.opportunities["created"]
    inside = created[(created >= start) & (created < end)]
    months = pd.period_range(start.to_period("M"), model.as_of.to_period("M"), freq="M")
    counts = inside.dt.to_period("M").value_counts().reindex(months, fill_value=0)
    first = months.to_timestamp(how="start")
    after = (months + 1).to_timestamp(how="start")
    lo = np.maximum(first.to_numpy(dtype="datetime64[ns]"), start.to_datetime64())
    hi = np.minimum(after.to_numpy(dtype="datetime64[ns]"), end.to_datetime64())
    covered = (hi - lo) / np.timedelta64(1, "D")
    length = (after - first) / pd.Timedelta(days=1)
    return pd.DataFrame({"month": months.astype(str), "start": first, "arrivals": counts.to_numpy(dtype=float),
                         "exposure": np.asarray(covered / length, dtype=float)})


def _poisson_fit(y: np.ndarray, x: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Poisson regression by iteratively reweighted least squares: coefficients, covariance (unscaled), deviance
    and Pearson statistic."""
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(y.sum(), 0.5) / np.exp(offset).sum())
    for _ in range(100):
        eta = x @ beta + offset
        mu = np.exp(eta)
        z = eta - offset + (y - mu) / mu
        xtw = x.T * mu
        new = np.linalg.solve(xtw @ x, xtw @ z)
        if np.max(np.abs(new - beta)) < 1e-10:
            beta = new
            break
        beta = new
    mu = np.exp(x @ beta + offset)
    cov = np.linalg.inv((x.T * mu) @ x)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = 2.0 * float(np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))
    pearson = float(np.sum((y - mu) ** 2 / mu))
    return beta, cov, dev, pearson


def _season_columns(positions: np.ndarray, k: int) -> np.ndarray:
    """Deviation coding of ``positions`` (0..k-1): k-1 columns, the last level is minus the sum of the others."""
    cols = np.zeros((len(positions), k - 1))
    for j in range(k - 1):
        cols[:, j] = (positions == j).astype(float) - (positions == k - 1).astype(float)
    return cols


@dataclass(frozen=True, eq=False)
class ArrivalModel:
    """Fitted arrivals of the whole export."""

    counts: pd.DataFrame
    level: float  # de-seasonalised arrivals per month
    level_low: float
    level_high: float
    trend_per_year: float | None  # multiplicative change per year (1.1 = +10 %), None when not supported
    trend_low: float | None
    trend_high: float | None
    season_kind: str  # "none", "month_of_quarter", "month_of_year"
    season: pd.DataFrame  # position, multiplier, low, high
    dispersion: float
    tests: pd.DataFrame  # term, months, considered, p_value, kept

    def seasonality_12(self) -> list[float]:
        """Twelve calendar multipliers (January first, mean 1) for the scenario."""
        if self.season_kind == "none":
            return [1.0] * 12
        mult = self.season["multiplier"].to_numpy(dtype=float)
        values = np.tile(mult, 4) if self.season_kind == "month_of_quarter" else mult
        values = values / values.mean()
        return [float(round(v, 4)) for v in values]


def _qtest(y: np.ndarray, small: np.ndarray, big: np.ndarray, offset: np.ndarray, phi: float) -> float:
    _, _, dev0, _ = _poisson_fit(y, small, offset)
    _, _, dev1, _ = _poisson_fit(y, big, offset)
    df = big.shape[1] - small.shape[1]
    return float(stats.chi2.sf(max(dev0 - dev1, 0.0) / phi, df))


def estimate_arrivals(model: CrmModel, *, level: float = LEVEL) -> ArrivalModel:
    """Fit the export's monthly arrivals (see the module docstring; tests/calibration recovers known rates and
    month-of-quarter effects from synthetic exports)."""
    counts = monthly_counts(model)
    keep = counts["exposure"] > 0
    c = counts[keep]
    y = c["arrivals"].to_numpy(dtype=float)
    offset = np.log(c["exposure"].to_numpy(dtype=float))
    months = len(c)
    starts = pd.DatetimeIndex(c["start"])
    t = ((starts - starts[0]) / pd.Timedelta(days=365.25)).to_numpy(dtype=float)
    t = t - t.mean()
    ones = np.ones((months, 1))
    moq = ((starts.month.to_numpy() - 1) % 3)
    moy = starts.month.to_numpy() - 1
    tests = []
    # Quasi-Poisson dispersion from the richest model the data allows.
    rich = [ones]
    if months >= 6:
        rich.append(t[:, None])
        rich.append(_season_columns(moq, 3))
    if months >= 24:
        rich[-1] = _season_columns(moy, 12)
    x_rich = np.hstack(rich)
    if months > x_rich.shape[1]:
        _, _, _, pearson = _poisson_fit(y, x_rich, offset)
        phi = max(1.0, pearson / (months - x_rich.shape[1]))
    else:
        phi = 1.0
    x = ones
    trend = False
    if months >= 6:
        p = _qtest(y, x, np.hstack([x, t[:, None]]), offset, phi)
        trend = p < 0.05
        tests.append({"term": "trend", "months": months, "considered": True, "p_value": p, "kept": trend})
        if trend:
            x = np.hstack([x, t[:, None]])
    else:
        tests.append({"term": "trend", "months": months, "considered": False, "p_value": np.nan, "kept": False})
    season_kind = "none"
    season_cols = np.zeros((months, 0))
    if months >= 6:
        cols = _season_columns(moq, 3)
        p = _qtest(y, x, np.hstack([x, cols]), offset, phi)
        tests.append({"term": "month_of_quarter", "months": months, "considered": True, "p_value": p,
                      "kept": p < 0.05})
        if p < 0.05:
            season_kind, season_cols = "month_of_quarter", cols
    else:
        tests.append({"term": "month_of_quarter", "months": months, "considered": False, "p_value": np.nan,
                      "kept": False})
    if months >= 24:
        # Month of year nests month of quarter: it must add to whatever was kept so far.
        cols = _season_columns(moy, 12)
        small = np.hstack([x, season_cols])
        p = _qtest(y, small, np.hstack([x, cols]), offset, phi)
        tests.append({"term": "month_of_year", "months": months, "considered": True, "p_value": p, "kept": p < 0.05})
        if p < 0.05:
            season_kind, season_cols = "month_of_year", cols
            tests[-2]["kept"] = False
    else:
        tests.append({"term": "month_of_year", "months": months, "considered": False, "p_value": np.nan,
                      "kept": False})
    x_final = np.hstack([x, season_cols])
    beta, cov, _, _ = _poisson_fit(y, x_final, offset)
    cov = cov * phi
    z = stats.norm.ppf(0.5 + level / 2.0)
    recent = slice(max(0, months - 12), months)
    t_ref = float(t[recent].mean())
    g = np.zeros(len(beta))
    g[0] = 1.0
    if trend:
        g[1] = t_ref
    eta = float(g @ beta)
    se = float(np.sqrt(g @ cov @ g))
    k_season = season_cols.shape[1]
    season = pd.DataFrame(columns=["position", "multiplier", "low", "high"])
    shift = 0.0
    if k_season:
        idx = np.arange(len(beta) - k_season, len(beta))
        k = k_season + 1
        contrast = np.zeros((k, len(beta)))
        contrast[: k - 1, idx] = np.eye(k - 1)
        contrast[k - 1, idx] = -1.0
        effects = contrast @ beta
        ses = np.sqrt(np.einsum("ij,jk,ik->i", contrast, cov, contrast))
        mult = np.exp(effects)
        shift = float(np.log(mult.mean()))
        season = pd.DataFrame({"position": np.arange(1, k + 1), "multiplier": mult / mult.mean(),
                               "low": np.exp(effects - z * ses) / mult.mean(),
                               "high": np.exp(effects + z * ses) / mult.mean()})
    trend_vals: tuple[float | None, float | None, float | None] = (None, None, None)
    if trend:
        b1, s1 = float(beta[1]), float(np.sqrt(cov[1, 1]))
        trend_vals = (float(np.exp(b1)), float(np.exp(b1 - z * s1)), float(np.exp(b1 + z * s1)))
    return ArrivalModel(counts=counts, level=float(np.exp(eta + shift)), level_low=float(np.exp(eta + shift - z * se)),
                        level_high=float(np.exp(eta + shift + z * se)), trend_per_year=trend_vals[0],
                        trend_low=trend_vals[1], trend_high=trend_vals[2], season_kind=season_kind, season=season,
                        dispersion=phi, tests=pd.DataFrame(tests))


def _fit_gamma(counts: np.ndarray, exposure: np.ndarray) -> tuple[float, float]:
    """Gamma(a, b) prior of group rates by negative-binomial marginal likelihood (method-of-moments start)."""
    rates = counts / exposure
    mean = float(counts.sum() / exposure.sum())
    var_between = float(np.var(rates)) - mean * float(np.mean(1.0 / exposure))
    shape0 = mean ** 2 / var_between if var_between > 0 else 1e4
    shape0 = float(np.clip(shape0, 1e-2, 1e4))

    def nll(x: np.ndarray) -> float:
        a = np.exp(x[0])
        b = a / np.exp(x[1])
        ll = (special.gammaln(counts + a) - special.gammaln(a) + a * np.log(b / (b + exposure))
              + counts * np.log(exposure / (b + exposure)))
        return -float(ll.sum())

    res = optimize.minimize(nll, np.array([np.log(shape0), np.log(max(mean, 1e-9))]), method="L-BFGS-B",
                            bounds=[(np.log(1e-3), np.log(1e6)), (np.log(1e-9), np.log(1e9))])
    a = float(np.exp(res.x[0]))
    return a, a / float(np.exp(res.x[1]))


def pooled_rates(model: CrmModel, by: str, *, level: float = LEVEL) -> pd.DataFrame:
    """Arrivals per month by ``owner``, ``region`` or ``account``, pooled across groups (gamma-Poisson).

    Returns
    -------
    pandas.DataFrame
        ``group, arrivals, months, raw_rate, rate, rate_low, rate_high, prior_shape, prior_rate`` (rates per
        month); deals without a value for ``by`` are left out.
    """
    counts = monthly_counts(model)
    months = float(counts["exposure"].sum())
    start, end = model.observed_from.normalize(), model.as_of.normalize() + pd.Timedelta(days=1)
    opps = model.opportunities
    inside = opps[(opps["created"] >= start) & (opps["created"] < end)]
    keys = opps[by].dropna().astype(str).unique()
    n = inside[by].dropna().astype(str).value_counts().reindex(keys, fill_value=0).sort_index()
    cols = ["group", "arrivals", "months", "raw_rate", "rate", "rate_low", "rate_high", "prior_shape", "prior_rate"]
    if len(n) == 0 or months <= 0:
        return pd.DataFrame(columns=cols)
    c = n.to_numpy(dtype=float)
    e = np.full(len(c), months)
    a, b = _fit_gamma(c, e) if len(c) > 1 else (1e6, 1e6 / max(c[0] / months, 1e-9))
    q = (1.0 - level) / 2.0
    post_a, post_b = a + c, b + e
    return pd.DataFrame({"group": n.index, "arrivals": c.astype(int), "months": e, "raw_rate": c / e,
                         "rate": post_a / post_b, "rate_low": stats.gamma.ppf(q, post_a, scale=1.0 / post_b),
                         "rate_high": stats.gamma.ppf(1.0 - q, post_a, scale=1.0 / post_b), "prior_shape": a,
                         "prior_rate": b}, columns=cols)
