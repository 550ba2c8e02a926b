"""Per-rep skill per stage with empirical-Bayes (beta-binomial) shrinkage, and rep tiers from the shrunk skills.

For each open stage, rep ``r`` passed ``w_r`` of the ``n_r`` spells of theirs that resolved there. The reps'
true pass rates are taken to be draws from a Beta(alpha, beta) population; alpha and beta maximise the
beta-binomial marginal likelihood over all reps (method of moments gives the starting point, and is used when
the optimiser fails). Given (alpha, beta), rep r's posterior is Beta(w_r + alpha, n_r - w_r + beta), with mean
``(w_r + alpha) / (n_r + alpha + beta)``: it pulls a rep with few deals toward the group, one with many stays near
their own share. The fitted (alpha, beta) are not taken as known: each rep's shrunk rate and 90 % interval are the
mean and quantiles of that Beta integrated over the posterior of (alpha, beta) under the hyperprior
``(alpha + beta)^(-5/2)`` (Gelman et al., BDA3 §5.3), computed on a grid (``hyper_posterior``). Where the data pin
the reps' spread down this equals the plug-in; where they barely show it, the plug-in would put every rep at the
group mean with an interval blind to the spread (coverage 0.07 in the simulator's recovery test), the integrated
posterior keeps some of the spread and covers it (0.80), and its mean is also closer to the truth.

Whether the reps differ at all is tested: the likelihood ratio of the beta-binomial against a plain binomial (no
between-rep variance) is referred to the 50:50 mixture of chi-square(0) and chi-square(1) that a variance on its
boundary calls for. When p >= 0.05 (or the median rep's own data gets under ``MIN_OWN_WEIGHT`` of the posterior, or
alpha + beta runs to its bound) the reps are indistinguishable at that stage: shrinkage pulls them (nearly) to the
group mean and the report says so instead of inventing talent.

A rep's skill at a stage is their shrunk rate over the population mean (1 = an average rep), the multiplier the
scenario's ``skill_<stage>`` columns hold. Tiers: the export's own tier column when there is one; otherwise reps
are ranked by their shrunk win rate through the whole funnel (the product of their stage skills) and cut into as
many equal-sized groups as the scenario has tiers, lowest first, unless every stage is indistinguishable, in
which case everyone is in the middle tier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from calibration.funnel import LEVEL

__all__ = ["HYPER_GRID", "HYPER_MASS", "MAX_CONCENTRATION", "BetaPrior", "HyperPosterior", "estimate_rep_skills",
           "fit_beta_binomial", "hyper_posterior", "posterior_cdf", "posterior_mean", "posterior_quantile", "rep_tiers"]

MAX_CONCENTRATION = 1e6
"""Bound on alpha + beta; reaching it means the reps are indistinguishable at the stage."""
MIN_OWN_WEIGHT = 0.05
"""A stage where the median rep's own data gets less than this weight in their posterior mean,
``n / (n + alpha + beta)``, has reps indistinguishable from noise."""


@dataclass(frozen=True)
class BetaPrior:
    """The fitted population of pass rates: Beta(alpha, beta)."""

    alpha: float
    beta: float
    method: str  # "marginal likelihood" or "method of moments"
    indistinguishable: bool
    p_value: float = 1.0  # test of no between-rep variance (binomial) against the beta-binomial

    @property
    def mean(self) -> float:
        """Population mean pass rate."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        """Standard deviation of the reps' true pass rates."""
        k = self.alpha + self.beta
        return float(np.sqrt(self.mean * (1.0 - self.mean) / (k + 1.0)))


def _moments(w: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    mean = float(w.sum() / n.sum())
    p = w / n
    var = float(np.average((p - mean) ** 2, weights=n))
    noise = mean * (1.0 - mean) * float(np.mean(1.0 / n))
    between = var - noise
    if between <= 0 or mean in (0.0, 1.0):
        return mean, MAX_CONCENTRATION
    return mean, float(np.clip(mean * (1.0 - mean) / between - 1.0, 1e-3, MAX_CONCENTRATION))


def fit_beta_binomial(successes: np.ndarray, trials: np.ndarray) -> BetaPrior:
    """Fit Beta(alpha, beta) to per-rep counts by maximum marginal likelihood.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.beta(20, 30, 200); n = np.full(200, 60); w = rng.binomial(n, p)
    >>> prior = fit_beta_binomial(w, n)
    >>> round(prior.mean, 1), prior.indistinguishable
    (0.4, False)
    """
    w = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    w, n = w[keep], n[keep]
    if len(n) == 0:
        raise ValueError("no trials")
    mean0, conc0 = _moments(w, n)
    if len(n) < 2 or mean0 in (0.0, 1.0):
        m = float(np.clip(mean0, 1e-6, 1 - 1e-6))
        return BetaPrior(m * MAX_CONCENTRATION, (1 - m) * MAX_CONCENTRATION, "method of moments", True, 1.0)

    def nll(x: np.ndarray) -> float:
        m = special.expit(x[0])
        k = np.exp(x[1])
        a, b = m * k, (1.0 - m) * k
        return -float(np.sum(special.betaln(w + a, n - w + b) - special.betaln(a, b)))

    start = np.array([special.logit(np.clip(mean0, 1e-6, 1 - 1e-6)), np.log(min(conc0, MAX_CONCENTRATION / 10))])
    res = optimize.minimize(nll, start, method="L-BFGS-B",
                            bounds=[(-20.0, 20.0), (np.log(1e-3), np.log(MAX_CONCENTRATION))])
    if np.isfinite(res.fun) and res.fun <= nll(start) + 1e-9:
        m, k = float(special.expit(res.x[0])), float(np.exp(res.x[1]))
        method = "marginal likelihood"
    else:
        m, k = mean0, conc0
        method = "method of moments"
    # Between-rep variance zero (plain binomial) against the beta-binomial: a test on the boundary, so the
    # likelihood ratio follows a 50:50 mixture of chi-square(0) and chi-square(1).
    pooled = float(w.sum() / n.sum())
    ll_binomial = float(np.sum(w * np.log(pooled) + (n - w) * np.log1p(-pooled)))
    ratio = max(2.0 * (-nll(np.array([special.logit(m), np.log(k)])) - ll_binomial), 0.0)
    p_value = 0.5 * float(stats.chi2.sf(ratio, 1)) if ratio > 0 else 1.0
    at_bound = k >= MAX_CONCENTRATION * 0.99
    return BetaPrior(m * k, (1.0 - m) * k, method, bool(at_bound or p_value >= 0.05), p_value)


HYPER_GRID = (25, 61)
"""Grid of the hyperposterior: points in the logit of the population mean (+/- 6 standard errors around the pooled
rate, steps of half a standard error) and in the log of the concentration alpha + beta (1e-2 to
``MAX_CONCENTRATION``, steps of 0.3 in log)."""
HYPER_MASS = 1.0 - 1e-3
"""Share of the hyperposterior's mass kept (the heaviest grid points) when mixing the reps' posteriors."""


@dataclass(frozen=True)
class HyperPosterior:
    """The posterior of the population Beta(alpha, beta) on a grid, under the hyperprior
    ``p(alpha, beta) ∝ (alpha + beta)^(-5/2)`` (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §5.3: flat in the
    population mean and in ``(alpha + beta)^(-1/2)``, roughly the between-unit standard deviation): grid points
    ``alpha``, ``beta`` and their ``weight`` (summing to 1)."""

    alpha: np.ndarray
    beta: np.ndarray
    weight: np.ndarray


def hyper_posterior(successes: np.ndarray, trials: np.ndarray) -> HyperPosterior:
    """The grid posterior of the population's (alpha, beta) given every rep's counts (``HyperPosterior``).

    The plug-in posterior ``Beta(w + alpha_hat, n - w + beta_hat)`` treats the fitted population as known; where
    the data barely identify the spread (the likelihood-ratio test misses it, alpha + beta runs to its bound) every
    rep is then pinned to the group mean with an interval that ignores the spread (Morris 1983, *JASA* 78:47).
    Integrating over this posterior instead (``posterior_cdf``, ``posterior_quantile``) carries that uncertainty.
    Coordinates: ``x = logit(mean)``, ``y = log(alpha + beta)``, in which the hyperprior's density is
    ``mean (1 - mean) (alpha + beta)^(-1/2)``.

    Examples
    --------
    >>> hp = hyper_posterior(np.array([30, 40, 50]), np.array([100, 100, 100]))
    >>> round(float(hp.weight.sum()), 6), bool(0.35 < float((hp.weight * hp.alpha / (hp.alpha + hp.beta)).sum()) < 0.45)
    (1.0, True)
    """
    w = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    w, n = w[keep], n[keep]
    pooled = float(np.clip(w.sum() / n.sum(), 1e-4, 1.0 - 1e-4))
    raw = w / n
    pairs, count = np.unique(np.column_stack([w, n]), axis=0, return_counts=True)  # reps with equal counts
    between = float(np.var(raw, ddof=1)) / len(n) if len(n) > 1 else 0.0
    se = float(np.sqrt(pooled * (1.0 - pooled) / n.sum() + between)) / (pooled * (1.0 - pooled))
    half = float(np.clip(6.0 * se, 0.05, 10.0))
    x = special.logit(pooled) + np.linspace(-half, half, HYPER_GRID[0])
    y = np.linspace(np.log(1e-2), np.log(MAX_CONCENTRATION), HYPER_GRID[1])
    m = special.expit(x)[:, None]
    k = np.exp(y)[None, :]
    a, b = (m * k).ravel(), ((1.0 - m) * k).ravel()
    pw, pn = pairs[:, 0], pairs[:, 1]
    loglik = ((special.betaln(pw[None, :] + a[:, None], (pn - pw)[None, :] + b[:, None])
               - special.betaln(a, b)[:, None]) * count[None, :]).sum(axis=1)
    logpost = loglik + (np.log(m * (1.0 - m)) - 0.5 * np.log(k)).ravel()
    weight = np.exp(logpost - logpost.max())
    weight /= weight.sum()
    order = np.argsort(weight)[::-1]
    kept = order[:int(np.searchsorted(np.cumsum(weight[order]), HYPER_MASS)) + 1]
    return HyperPosterior(a[kept], b[kept], weight[kept] / weight[kept].sum())


def posterior_cdf(x: float | np.ndarray, successes: np.ndarray, trials: np.ndarray,
                  hp: HyperPosterior) -> np.ndarray:
    """Each rep's posterior probability that their rate is below ``x`` (one value, or one per rep), integrated over
    the hyperposterior ``hp``: ``sum_g weight_g I_x(w + alpha_g, n - w + beta_g)``."""
    w = np.asarray(successes, dtype=float)[:, None]
    n = np.asarray(trials, dtype=float)[:, None]
    xs = np.broadcast_to(np.asarray(x, dtype=float), (len(w),))[:, None]
    out: np.ndarray = (special.betainc(w + hp.alpha[None, :], n - w + hp.beta[None, :], xs) * hp.weight).sum(axis=1)
    return out


def posterior_mean(successes: np.ndarray, trials: np.ndarray, hp: HyperPosterior) -> np.ndarray:
    """Each rep's posterior mean rate integrated over the hyperposterior:
    ``sum_g weight_g (w + alpha_g) / (n + alpha_g + beta_g)``.

    Examples
    --------
    >>> hp = hyper_posterior(np.array([30, 40, 50]), np.array([100, 100, 100]))
    >>> m = posterior_mean(np.array([30, 40, 50]), np.array([100, 100, 100]), hp)
    >>> bool(0.3 < m[0] < 0.4 < m[2] < 0.5)
    True
    """
    w = np.asarray(successes, dtype=float)[:, None]
    n = np.asarray(trials, dtype=float)[:, None]
    out: np.ndarray = ((w + hp.alpha[None, :]) / (n + hp.alpha[None, :] + hp.beta[None, :]) * hp.weight).sum(axis=1)
    return out


def posterior_quantile(q: float, successes: np.ndarray, trials: np.ndarray, hp: HyperPosterior) -> np.ndarray:
    """Each rep's ``q`` quantile of their rate, integrated over the hyperposterior (Newton's method on
    ``posterior_cdf`` inside a bracket, to 1e-9; reps with equal counts share it).

    Examples
    --------
    >>> hp = hyper_posterior(np.array([30, 40, 50]), np.array([100, 100, 100]))
    >>> lo = posterior_quantile(0.05, np.array([30, 40, 50]), np.array([100, 100, 100]), hp)
    >>> bool(np.all(np.diff(lo) > 0)), bool(lo[0] < 0.3)
    (True, True)
    """
    pairs, back = np.unique(np.column_stack([np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)]),
                            axis=0, return_inverse=True)
    w, n = pairs[:, 0], pairs[:, 1]
    a, b = w[:, None] + hp.alpha[None, :], (n - w)[:, None] + hp.beta[None, :]
    log_norm = special.betaln(a, b)
    lo, hi = np.zeros(len(w)), np.ones(len(w))
    x = ((a / (a + b)) * hp.weight).sum(axis=1)
    for _ in range(40):  # Newton steps kept inside a shrinking bracket (bisection when a step leaves it)
        cdf = (special.betainc(a, b, x[:, None]) * hp.weight).sum(axis=1)
        below = cdf < q
        lo, hi = np.where(below, x, lo), np.where(below, hi, x)
        if np.all(np.abs(cdf - q) < 1e-9) or np.all(hi - lo < 1e-9):
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            log_pdf = (a - 1.0) * np.log(x[:, None]) + (b - 1.0) * np.log1p(-x[:, None]) - log_norm
            pdf = (np.exp(log_pdf) * hp.weight).sum(axis=1)
            step = x - (cdf - q) / pdf
        x = np.where(np.isfinite(step) & (step > lo) & (step < hi), step, 0.5 * (lo + hi))
    out: np.ndarray = x[np.ravel(back)]
    return out


def estimate_rep_skills(spells: pd.DataFrame, stage_ids: dict[str, str], *,
                        level: float = LEVEL) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shrunk per-rep pass rates and skills per stage.

    Parameters
    ----------
    spells
        ``calibration.funnel.stage_spells`` output.
    stage_ids
        Stage name -> scenario stage id, for the open stages to estimate.

    Returns
    -------
    (skills, priors)
        ``skills``: one row per rep and stage: ``rep, stage, stage_id, trials, passed, raw_rate, shrunk_rate,
        rate_low, rate_high, skill, skill_low, skill_high, credibly_below, credibly_above``.
        ``priors``: one row per stage: ``stage, stage_id, reps, trials, alpha, beta, mean, between_rep_sd,
        raw_rate_sd, shrunk_rate_sd, own_weight_median`` (the median rep's weight on their own data),
        ``method, spread_p_value`` (test of no between-rep variance), ``indistinguishable``.
    """
    resolved = spells[(spells["cause"] != "censored") & spells["owner"].notna()]
    a = (1.0 - level) / 2.0
    skill_rows, prior_rows = [], []
    for stage, sid in stage_ids.items():
        sub = resolved[resolved["stage"] == stage]
        if sub.empty:
            continue
        passed = (sub["cause"] == "pass").astype(float)
        g = passed.groupby(sub["owner"].astype(str))
        n = g.size().astype(float)
        w = g.sum().reindex(n.index)
        prior = fit_beta_binomial(w.to_numpy(), n.to_numpy())
        hp = hyper_posterior(w.to_numpy(), n.to_numpy())
        shrunk = posterior_mean(w.to_numpy(), n.to_numpy(), hp)
        low = posterior_quantile(a, w.to_numpy(), n.to_numpy(), hp)
        high = posterior_quantile(1.0 - a, w.to_numpy(), n.to_numpy(), hp)
        mu = prior.mean
        skill_rows.append(pd.DataFrame({
            "rep": n.index.astype(str), "stage": stage, "stage_id": sid, "trials": n.to_numpy().astype(int),
            "passed": w.to_numpy().astype(int), "raw_rate": (w / n).to_numpy(), "shrunk_rate": shrunk,
            "rate_low": low, "rate_high": high, "skill": shrunk / mu, "skill_low": low / mu, "skill_high": high / mu,
            "credibly_below": high < mu, "credibly_above": low > mu}))
        own = float(np.median(n.to_numpy() / (n.to_numpy() + prior.alpha + prior.beta)))
        prior_rows.append({"stage": stage, "stage_id": sid, "reps": len(n), "trials": int(n.sum()),
                           "alpha": prior.alpha, "beta": prior.beta, "mean": mu, "between_rep_sd": prior.sd,
                           "raw_rate_sd": float(np.std((w / n).to_numpy(), ddof=1)) if len(n) > 1 else np.nan,
                           "shrunk_rate_sd": float(np.std(shrunk, ddof=1)) if len(n) > 1 else np.nan,
                           "own_weight_median": own, "method": prior.method,
                           "spread_p_value": prior.p_value,
                           "indistinguishable": prior.indistinguishable or own < MIN_OWN_WEIGHT})
    skills = pd.concat(skill_rows, ignore_index=True) if skill_rows else pd.DataFrame(
        columns=["rep", "stage", "stage_id", "trials", "passed", "raw_rate", "shrunk_rate", "rate_low", "rate_high",
                 "skill", "skill_low", "skill_high", "credibly_below", "credibly_above"])
    return skills, pd.DataFrame(prior_rows)


def rep_tiers(skills: pd.DataFrame, priors: pd.DataFrame, tiers_by_rank: list[str],
              given: pd.Series | None = None) -> pd.DataFrame:
    """Each rep's tier and whole-funnel productivity (product of stage skills, 1 = average).

    Parameters
    ----------
    skills, priors
        ``estimate_rep_skills`` output.
    tiers_by_rank
        The scenario's tier ids, entry tier first.
    given
        The export's own tier per rep (used when present and every value is a known tier).

    Examples
    --------
    >>> sk = pd.DataFrame({"rep": ["a", "b", "c"], "stage_id": "s", "skill": [0.8, 1.0, 1.2]})
    >>> pr = pd.DataFrame({"stage_id": ["s"], "indistinguishable": [False]})
    >>> rep_tiers(sk, pr, ["junior", "mid", "senior"])["tier"].tolist()
    ['junior', 'mid', 'senior']
    """
    if skills.empty:
        return pd.DataFrame(columns=["rep", "productivity", "tier", "tier_source"])
    prod = skills.pivot_table(index="rep", columns="stage_id", values="skill", aggfunc="first").fillna(1.0)
    productivity = prod.prod(axis=1)
    out = pd.DataFrame({"rep": productivity.index.astype(str), "productivity": productivity.to_numpy()})
    if given is not None:
        mapped = out["rep"].map(given)
        if mapped.notna().all() and mapped.isin(tiers_by_rank).all():
            out["tier"] = mapped.to_numpy()
            out["tier_source"] = "export"
            return out
    k = len(tiers_by_rank)
    if bool(priors["indistinguishable"].all()) or k == 1:
        out["tier"] = tiers_by_rank[(k - 1) // 2]
        out["tier_source"] = "all reps indistinguishable: middle tier" if k > 1 else "single tier"
        return out
    ranks = productivity.rank(method="first").to_numpy()
    group = np.minimum(((ranks - 1) * k // len(ranks)).astype(int), k - 1)
    out["tier"] = [tiers_by_rank[g] for g in group]
    out["tier_source"] = "shrunk skill quantile"
    return out
