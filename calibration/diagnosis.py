"""The granular funnel view: each rep's conversion and time per stage against the peer group, shrunk, with 90 %
intervals, and the stages where a rep is credibly worse than their peers.

**Conversion** is the beta-binomial empirical Bayes of ``calibration.reps`` (Beta(alpha, beta) fitted to all reps
of the stage by marginal likelihood; each rep's posterior Beta(w + alpha, n - w + beta) over the spells of theirs
that resolved there, integrated over the uncertainty of (alpha, beta), ``calibration.reps.hyper_posterior``, gives
the shrunk rate, the interval and the probability of being worse). The peer median is the median of the fitted
population Beta(alpha, beta).

**Time in stage** is a log-normal per rep and stage, ``log T ~ N(mu_r, sigma_r^2)``, fitted by maximum likelihood
with right-censoring (spells still open at the model's day) and delayed entry (spells begun before the
observation window), the time to any exit as the funnel measures it. The reps' locations are pooled by a
normal-normal random-effects model, ``mu_r ~ N(mu, tau^2)``, with ``tau^2`` by DerSimonian and Laird's method of
moments (Controlled Clinical Trials 7:177, 1986) and ``mu`` the precision-weighted mean: the posterior of ``mu_r``
is normal with mean ``mu + B_r (m_r - mu)`` and variance ``B_r v_r + (1 - B_r)^2 var(mu)``,
``B_r = tau^2 / (tau^2 + v_r)``, where ``m_r`` and ``v_r`` are the rep's fitted location and its squared
standard error (observed information). Reported in days as medians, ``exp(mu_r)``; the peer median is
``exp(mu)`` (the median of the population's medians). A rep with fewer than ``MIN_EXITS`` exits at a stage gets
no own fit and the peers' distribution. When ``tau^2`` is 0 every rep is shrunk onto the peer median and none can
be flagged: that is the test of "no between-rep difference" for times.

**The decision rule**: a rep is *credibly worse* at a stage when their 90 % posterior interval lies entirely on
the wrong side of the peer median (below it for conversion, above it for time), i.e. the posterior probability
of being worse than the peer median exceeds ``FLAG_PROBABILITY`` = 0.95. For a rep truly at the median and a
well-calibrated posterior that happens at most 5 % of the time (the nominal false-flag rate);
tests/calibration/test_diagnosis.py measures it on synthetic exports where one rep is made worse at one stage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from calibration.funnel import LEVEL, stage_spells
from calibration.model import CrmModel
from calibration.reps import estimate_rep_skills, hyper_posterior, posterior_cdf

__all__ = ["DIAGNOSIS_COLUMNS", "FLAG_PROBABILITY", "MIN_EXITS", "diagnose", "fit_lognormal", "pool_normal"]

FLAG_PROBABILITY = 0.95
"""Posterior probability of being worse than the peer median above which a rep-stage is flagged: the 90 %
interval lies entirely on the worse side."""
MIN_EXITS = 5
"""Exits a rep needs at a stage for their own log-normal fit; with fewer, two parameters rest on one or two
points and the fitted spread (hence the location's standard error) collapses (an estimate, not a cited figure)."""

_HALF_LOG_2PI = 0.5 * float(np.log(2.0 * np.pi))

DIAGNOSIS_COLUMNS = ["rep", "stage", "stage_id", "measure", "n", "raw", "shrunk", "low", "high", "peer_median",
                     "prob_worse", "credibly_worse", "indistinguishable"]
"""One row per rep, stage and measure (``conversion``: pass rate; ``median_days``: median time in the stage)."""


def fit_lognormal(days: np.ndarray, observed: np.ndarray, entry: np.ndarray | None = None) -> tuple[float, float,
                                                                                                    float]:
    """Maximum-likelihood log-normal fit with right-censoring and delayed entry: ``(mu, sigma, se_mu)``.

    The log-likelihood of a spell is ``log f(t)`` when its exit is observed, ``log S(t)`` when censored, less
    ``log S(entry)`` when it entered late. It is the model lifelines' ``LogNormalFitter`` fits (the tests check the
    two agree); written out here because the diagnosis fits one per rep and stage, and this is two orders of
    magnitude quicker. ``se_mu`` comes from the observed information (a numerical Hessian).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> t = np.exp(rng.normal(2.0, 0.5, 400))
    >>> mu, sigma, se = fit_lognormal(t, np.ones(400, dtype=bool))
    >>> round(mu, 1), round(sigma, 1), bool(0.02 < se < 0.03)
    (2.0, 0.5, True)
    """
    t = np.asarray(days, dtype=float)
    obs = np.asarray(observed, dtype=bool)
    a = np.zeros_like(t) if entry is None else np.asarray(entry, dtype=float)
    log_t = np.log(t)
    late = a > 0
    log_a = np.log(np.where(late, a, 1.0))

    def nll(x: np.ndarray) -> float:
        mu, sigma = x[0], np.exp(x[1])
        z = (log_t - mu) / sigma
        ll = np.where(obs, -0.5 * z * z - _HALF_LOG_2PI - np.log(sigma) - log_t, special.log_ndtr(-z))
        ll = ll - np.where(late, special.log_ndtr(-(log_a - mu) / sigma), 0.0)
        return -float(ll.sum())

    start = np.array([float(log_t[obs].mean() if obs.any() else log_t.mean()),
                      float(np.log(max(log_t.std(), 0.1)))])
    res = optimize.minimize(nll, start, method="L-BFGS-B")
    x = res.x
    h = 1e-4
    hess = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
            hess[i, j] = (nll(x + ei + ej) - nll(x + ei - ej) - nll(x - ei + ej) + nll(x - ei - ej)) / (4 * h * h)
    try:
        cov = np.linalg.inv(hess)
        se = float(np.sqrt(cov[0, 0])) if cov[0, 0] > 0 else float("nan")
    except np.linalg.LinAlgError:
        se = float("nan")
    return float(x[0]), float(np.exp(x[1])), se


def pool_normal(estimates: np.ndarray, variances: np.ndarray) -> tuple[float, float, float]:
    """DerSimonian-Laird random-effects pooling: ``(mu, tau2, var_mu)``.

    Examples
    --------
    >>> pool_normal(np.array([1.0, 1.0, 1.0]), np.array([0.1, 0.1, 0.1]))
    (1.0, 0.0, 0.03333333333333333)
    """
    y = np.asarray(estimates, dtype=float)
    v = np.asarray(variances, dtype=float)
    w = 1.0 / v
    mean_w = float((w * y).sum() / w.sum())
    q = float((w * (y - mean_w) ** 2).sum())
    denom = float(w.sum() - (w ** 2).sum() / w.sum())
    tau2 = max(0.0, (q - (len(y) - 1)) / denom) if denom > 0 else 0.0
    w_star = 1.0 / (v + tau2)
    mu = float((w_star * y).sum() / w_star.sum())
    return mu, tau2, float(1.0 / w_star.sum())


def _conversion_rows(spells: pd.DataFrame, stage_ids: dict[str, str], level: float) -> list[pd.DataFrame]:
    skills, priors = estimate_rep_skills(spells, stage_ids, level=level)
    rows = []
    for prior in priors.to_dict(orient="records"):
        sub = skills[skills["stage"] == prior["stage"]]
        alpha, beta = float(prior["alpha"]), float(prior["beta"])
        median = float(stats.beta.median(alpha, beta))
        w = sub["passed"].to_numpy(dtype=float)
        n = sub["trials"].to_numpy(dtype=float)
        worse = posterior_cdf(median, w, n, hyper_posterior(w, n))
        rows.append(pd.DataFrame({
            "rep": sub["rep"].to_numpy(), "stage": prior["stage"], "stage_id": prior["stage_id"],
            "measure": "conversion", "n": sub["trials"].to_numpy(), "raw": sub["raw_rate"].to_numpy(),
            "shrunk": sub["shrunk_rate"].to_numpy(), "low": sub["rate_low"].to_numpy(),
            "high": sub["rate_high"].to_numpy(), "peer_median": median, "prob_worse": worse,
            "credibly_worse": worse > FLAG_PROBABILITY, "indistinguishable": bool(prior["indistinguishable"])}))
    return rows


def _time_rows(spells: pd.DataFrame, stage_ids: dict[str, str], level: float, date_only: bool) -> list[pd.DataFrame]:
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    floor = 0.5 if date_only else 0.01  # a same-day exit of a date-only export took part of a day
    rows = []
    owned = spells[spells["owner"].notna()]
    for stage, sid in stage_ids.items():
        sub = owned[owned["stage"] == stage]
        if sub.empty:
            continue
        reps, fits = [], []
        for rep, g in sub.groupby(sub["owner"].astype(str), sort=True):
            days = np.maximum(g["days"].to_numpy(dtype=float), floor)
            observed = (g["cause"] != "censored").to_numpy()
            entry = np.minimum(g["entry_days"].to_numpy(dtype=float), days)
            exits = int(observed.sum())
            mu_r, se_r = (fit_lognormal(days, observed, entry)[::2] if exits >= MIN_EXITS
                          else (float("nan"), float("nan")))
            reps.append(rep)
            fits.append((len(g), exits, mu_r, se_r))
        n_spells = np.array([f[0] for f in fits])
        m = np.array([f[2] for f in fits])
        v = np.array([f[3] for f in fits]) ** 2
        own = np.isfinite(m) & np.isfinite(v) & (v > 0)
        if own.sum() < 2:
            continue
        mu, tau2, var_mu = pool_normal(m[own], v[own])
        b = np.where(own, tau2 / (tau2 + np.where(own, v, 1.0)), 0.0)
        post_mean = np.where(own, mu + b * (np.where(own, m, mu) - mu), mu)
        post_var = np.where(own, b * np.where(own, v, 0.0) + (1.0 - b) ** 2 * var_mu, tau2 + var_mu)
        post_sd = np.sqrt(post_var)
        with np.errstate(divide="ignore", invalid="ignore"):
            worse = np.where(post_sd > 0, stats.norm.sf((mu - post_mean) / post_sd), 0.5)
        rows.append(pd.DataFrame({
            "rep": reps, "stage": stage, "stage_id": sid, "measure": "median_days", "n": n_spells,
            "raw": np.exp(m), "shrunk": np.exp(post_mean), "low": np.exp(post_mean - z * post_sd),
            "high": np.exp(post_mean + z * post_sd), "peer_median": float(np.exp(mu)), "prob_worse": worse,
            "credibly_worse": worse > FLAG_PROBABILITY, "indistinguishable": tau2 == 0.0}))
    return rows


def diagnose(model: CrmModel, spells: pd.DataFrame | None = None, *, level: float = LEVEL) -> pd.DataFrame:
    """Each rep's conversion and median time per open stage against the peers, shrunk, with intervals and flags
    (see the module docstring).

    Parameters
    ----------
    model
        The cleaned export (``calibration.build_model``).
    spells
        ``calibration.stage_spells(model)``, computed when not given.
    level
        Interval level (0.9).

    Returns
    -------
    pandas.DataFrame
        ``DIAGNOSIS_COLUMNS``, one row per rep, stage and measure; ``credibly_worse`` marks the stages a rep could
        be coached on. ``n`` counts resolved spells (conversion) or all spells (time).
    """
    spells = stage_spells(model) if spells is None else spells
    stage_ids = {s.name: s.scenario_id for s in model.open_stages}
    present = set(spells.loc[spells["cause"] != "censored", "stage"].astype(str))
    stage_ids = {k: v for k, v in stage_ids.items() if k in present}
    hist = model.history
    date_only = bool((hist["changed"].dt.normalize() == hist["changed"]).all())
    parts = [*_conversion_rows(spells, stage_ids, level), *_time_rows(spells, stage_ids, level, date_only)]
    if not parts:
        return pd.DataFrame(columns=DIAGNOSIS_COLUMNS)
    return pd.concat(parts, ignore_index=True).reindex(columns=DIAGNOSIS_COLUMNS)
