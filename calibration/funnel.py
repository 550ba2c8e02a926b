"""Stage conversion and stage durations as competing risks, with right-censoring at ``as_of`` and delayed entry.

Every visit of a deal to an open stage is a *spell*: it starts at the change into the stage and ends at the next
change, whose kind is the spell's cause of exit: ``pass`` (on to a later open stage or won), ``lost``, or
``back`` (to an earlier open stage). A spell still running at the end of ``as_of`` is right-censored there. A
spell that began before the export's observation window (``observed_from``) is seen only because it lasted
into the window, so it enters the risk set late (left truncation, ``entry`` = days from its start to the
window's start); ignoring that would overweight long spells.

Conversion of a stage is the Aalen-Johansen cumulative incidence of ``pass`` at the last exit time divided by
the incidence of any exit, ``F_pass(tau) / (F_pass + F_lost + F_back)(tau)``: the share of spells that pass
among those that resolve, with each exit weighted by ``S(t-) / n(t)`` so that open and late-entering deals count
as survival analysis says they should. That ratio is consistent when the time to exit does not depend on its
cause, which is exactly how the simulator draws a stage (one duration, then the outcome). Its 90 % interval is
Jeffreys' binomial interval at the weighted share with Kish's effective number of exits
``(sum w d)^2 / sum w^2 d``. The naive "won among closed" share is reported beside it, for contrast.

Durations: Kaplan-Meier (lifelines, with ``entry``) of the time to any exit gives the median with its interval
and the restricted mean up to the last exit; when less than 5 % of spells are still unresolved at that time
the restricted mean is the mean dwell and the spread (coefficient of variation) comes from the same curve,
otherwise a log-normal fitted by maximum likelihood with censoring and delayed entry (lifelines) extrapolates
the tail. Durations are in days; ties between causes on one day are broken by a fixed order (pass, lost, back,
censored) a thousandth of a day apart, which leaves the Aalen-Johansen estimate exactly as the tie-respecting
one and keeps lifelines from jittering times at random.

Deals that never get a decision (``no_decision_share``): some deals are neither passed nor lost, ever; they sit
open until the export ends (the cleaning sets the oldest of them aside as ``stale_open``). With them put back as
censored spells, the Kaplan-Meier curve of the time to any exit (with delayed entry) falls to a plateau: the
share still unresolved at the last observed exit ``tau`` estimates the cured fraction of a mixture cure model
(Maller and Zhou's nonparametric estimator, consistent when follow-up runs well past the longest decided
spell; ``censored_beyond_last_exit`` says how many spells are seen beyond ``tau``), with lifelines' 90 %
interval of the curve at ``tau``. Conversion stays the share passed among decided spells, so a stage's chance
of passing is ``(1 - no_decision_share) x conversion``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, KaplanMeierFitter, LogNormalFitter
from lifelines.utils import median_survival_times
from scipy import stats

from calibration.model import CrmModel, day_end, deal_codes

__all__ = ["CAUSES", "FUNNEL_COLUMNS", "NO_DECISION_COLUMNS", "estimate_funnel", "estimate_no_decision", "jeffreys",
           "stage_spells"]

CAUSES = {"censored": 0, "pass": 1, "lost": 2, "back": 3}
_OFFSET = {0: 5e-3, 1: 0.0, 2: 1e-3, 3: 2e-3}
LEVEL = 0.90
"""Level of every interval the calibration reports."""
UNRESOLVED_FOR_PARAMETRIC = 0.05
"""Unresolved share at the last exit above which the mean dwell comes from the log-normal fit."""

FUNNEL_COLUMNS = ["stage", "stage_id", "spells", "exits", "passed", "lost", "back", "censored", "late_entries",
                  "conversion", "conversion_low", "conversion_high", "effective_exits", "naive_conversion",
                  "unresolved_share", "mean_days", "mean_days_low", "mean_days_high", "spread", "median_days",
                  "median_days_low", "median_days_high", "duration_method", "lognormal_mu", "lognormal_sigma",
                  "no_decision_share", "no_decision_low", "no_decision_high", "stale_spells", "last_exit_days",
                  "censored_beyond_last_exit"]
NO_DECISION_COLUMNS = ["no_decision_share", "no_decision_low", "no_decision_high", "stale_spells", "last_exit_days",
                       "censored_beyond_last_exit"]


def jeffreys(successes: np.ndarray | float, trials: np.ndarray | float,
             level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Jeffreys interval of a binomial share (successes and trials may be fractional effective counts).

    Examples
    --------
    >>> lo, hi = jeffreys(30.0, 100.0)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.229, 0.379)
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    a = (1.0 - level) / 2.0
    lo = np.where(x > 0, stats.beta.ppf(a, x + 0.5, n - x + 0.5), 0.0)
    hi = np.where(x < n, stats.beta.ppf(1.0 - a, x + 0.5, n - x + 0.5), 1.0)
    return lo, hi


def stage_spells(model: CrmModel) -> pd.DataFrame:
    """One row per visit of a deal to an open stage.

    Returns
    -------
    pandas.DataFrame
        ``opportunity_id, owner, stage, start, end, days, cause`` (``pass``/``lost``/``back``/``censored``),
        ``entry_days`` (delayed entry, 0 when the spell started inside the window) and ``skipped`` (open stages
        jumped over by a pass).
    """
    hist = model.history
    order = model.stage_order()
    open_names = [s.name for s in model.open_stages]
    n_open = len(open_names)
    ids, _ = deal_codes(hist["opportunity_id"])
    pos = hist["stage"].map(order).to_numpy(dtype=np.int64)
    changed = hist["changed"].to_numpy(dtype="datetime64[ns]")
    kind = hist["kind"].to_numpy(dtype=object)
    is_open = kind == "open"
    same_next = np.concatenate([ids[1:] == ids[:-1], [False]])
    nxt_pos = np.concatenate([pos[1:], [-1]])
    nxt_kind = np.concatenate([kind[1:], [""]])
    nxt_time = np.concatenate([changed[1:], [np.datetime64("NaT")]])
    date_only = bool((hist["changed"].dt.normalize() == hist["changed"]).all())
    censor_at = (model.as_of if date_only else day_end(model.as_of)).to_datetime64()
    sel = is_open
    cause = np.full(len(hist), "censored", dtype=object)
    cause[sel & same_next & (nxt_kind == "won")] = "pass"
    cause[sel & same_next & (nxt_kind == "lost")] = "lost"
    fwd = sel & same_next & (nxt_kind == "open")
    cause[fwd & (nxt_pos > pos)] = "pass"
    cause[fwd & (nxt_pos < pos)] = "back"
    end = np.where(sel & same_next, nxt_time, censor_at)
    target = np.where(nxt_kind == "won", n_open, nxt_pos)
    skipped = np.where(cause == "pass", np.maximum(target - pos - 1, 0), 0)
    start = changed
    day_ns = 86_400e9
    days = (end - start).astype("timedelta64[ns]").astype(np.int64) / day_ns
    window = model.observed_from.to_datetime64()
    entry = np.maximum((window - start).astype("timedelta64[ns]").astype(np.int64) / day_ns, 0.0)
    owner = hist["opportunity_id"].map(model.opportunities["owner"]).to_numpy(dtype=object)
    out = pd.DataFrame({"opportunity_id": hist["opportunity_id"].to_numpy()[sel], "owner": owner[sel],
                        "stage": hist["stage"].to_numpy(dtype=object)[sel],
                        "start": start[sel], "end": end[sel], "days": days[sel], "cause": cause[sel],
                        "entry_days": entry[sel], "skipped": skipped[sel]})
    # A spell that ended before the window opened is outside what the export covers completely.
    inside = out["end"] >= window
    out = out[inside.to_numpy() & (out["days"] >= 0).to_numpy()]
    out["stage"] = pd.Categorical(out["stage"], categories=open_names)
    return out.reset_index(drop=True)


def _aggregate(spells: pd.DataFrame, *, exact: bool, date_only: bool) -> pd.DataFrame:
    """Spells grouped by (whole days, cause, entry day) with counts, for lifelines' ``weights``; with ``exact``
    the durations are kept to a hundredth of a day (for the log-normal fit) instead of whole days."""
    code = spells["cause"].map(CAUSES).to_numpy(dtype=np.int64)
    days = spells["days"].to_numpy(dtype=float)
    if exact:
        floor = 0.5 if date_only else 0.01
        day = np.maximum(np.round(days, 2), floor)
        entry = np.minimum(np.round(spells["entry_days"].to_numpy(dtype=float), 2), day)
    else:
        day = np.round(days)
        entry = np.minimum(np.round(spells["entry_days"].to_numpy(dtype=float)), day)
    frame = pd.DataFrame({"day": day, "code": code, "entry": entry})
    return frame.groupby(["day", "code", "entry"], sort=True).size().rename("n").reset_index()


def _restricted_moments(km: KaplanMeierFitter, tau: float) -> tuple[float, float, float]:
    """Restricted mean of a Kaplan-Meier curve up to ``tau``, the variance of that estimate (the Greenwood-type
    formula ``sum_j A_j^2 d_j / (n_j (n_j - d_j))`` with ``A_j`` the area under the curve from ``t_j`` to ``tau``)
    and the restricted second moment ``E[min(T, tau)^2]``."""
    table = km.event_table
    times = table.index.to_numpy(dtype=float)
    surv = km.survival_function_.iloc[:, 0].reindex(table.index).to_numpy(dtype=float)
    inside = times <= tau
    times, surv = times[inside], surv[inside]
    d = table["observed"].to_numpy(dtype=float)[inside]
    n = table["at_risk"].to_numpy(dtype=float)[inside]
    # S is 1 before the first time and surv[j] on [t_j, t_{j+1}).
    knots = np.concatenate([[0.0], times, [tau]])
    level = np.concatenate([[1.0], surv])
    width = np.diff(knots)
    area = level * width
    mean = float(area.sum())
    second = float((level * (knots[1:] ** 2 - knots[:-1] ** 2)).sum())
    after = np.cumsum(area[::-1])[::-1][1:]  # area from each t_j to tau
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where((n - d) > 0, after ** 2 * d / (n * (n - d)), 0.0)
    return mean, float(terms.sum()), second


def _stage_estimate(sub: pd.DataFrame, level: float, date_only: bool) -> dict[str, float | str]:
    agg = _aggregate(sub, exact=False, date_only=date_only)
    alpha = 1.0 - level
    code = agg["code"].to_numpy()
    t = agg["day"].to_numpy() + np.vectorize(_OFFSET.get)(code)
    w = agg["n"].to_numpy(dtype=float)
    entry = agg["entry"].to_numpy()
    observed = code > 0
    out: dict[str, float | str] = {}
    exits = float(w[observed].sum())
    if exits == 0:
        return out
    cif = {}
    for name, c in (("pass", 1), ("lost", 2), ("back", 3)):
        if not (code == c).any():
            cif[name] = 0.0
            continue
        aj = AalenJohansenFitter(calculate_variance=False, alpha=alpha)
        aj.fit(t, code, event_of_interest=c, entry=entry, weights=w)
        cif[name] = float(aj.cumulative_density_.iloc[-1, 0])
    total = sum(cif.values())
    km = KaplanMeierFitter(alpha=alpha).fit(t, observed, entry=entry, weights=w)
    table = km.event_table
    s_before = km.survival_function_.iloc[:, 0].shift(1, fill_value=1.0).to_numpy()
    n_risk = table["at_risk"].to_numpy(dtype=float)
    d = table["observed"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(n_risk > 0, s_before / n_risk, 0.0)
    n_eff = float((weight * d).sum() ** 2 / (weight ** 2 * d).sum()) if (weight ** 2 * d).sum() > 0 else 0.0
    share = cif["pass"] / total if total > 0 else float("nan")
    lo, hi = jeffreys(share * n_eff, n_eff, level)
    unresolved = float(km.survival_function_.iloc[-1, 0])
    out.update(conversion=share, conversion_low=float(lo), conversion_high=float(hi), effective_exits=n_eff,
               unresolved_share=unresolved)
    # Durations of the time to any exit.
    km_days = KaplanMeierFitter(alpha=alpha).fit(agg["day"].to_numpy(), observed, entry=entry, weights=w)
    median = float(km_days.median_survival_time_)
    ci = median_survival_times(km_days.confidence_interval_)
    tau = float(agg.loc[observed, "day"].max())
    mean_km, var_km, second = _restricted_moments(km_days, tau)
    z = stats.norm.ppf(0.5 + level / 2.0)
    mu = sigma = float("nan")
    if unresolved < UNRESOLVED_FOR_PARAMETRIC and mean_km > 0:
        mean = mean_km
        se = float(np.sqrt(var_km))
        spread = float(np.sqrt(max(second - mean ** 2, 0.0)) / mean)
        method = "kaplan-meier"
        low, high = max(mean - z * se, 0.0), mean + z * se
    else:
        fine = _aggregate(sub, exact=True, date_only=date_only)
        ln = LogNormalFitter(alpha=alpha).fit(fine["day"].to_numpy(), fine["code"].to_numpy() > 0,
                                              entry=fine["entry"].to_numpy(), weights=fine["n"].to_numpy(float))
        mu, sigma = float(ln.mu_), float(ln.sigma_)
        cov = ln.variance_matrix_.to_numpy()
        mean = float(np.exp(mu + sigma ** 2 / 2.0))
        grad = np.array([mean, mean * sigma])
        se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
        spread = float(np.sqrt(np.expm1(sigma ** 2)))
        method = "lognormal"
        # On the log scale, so the interval stays positive.
        log_se = se / mean
        low, high = mean * np.exp(-z * log_se), mean * np.exp(z * log_se)
    out.update(mean_days=mean, mean_days_low=float(low), mean_days_high=float(high), spread=spread,
               median_days=median, median_days_low=float(ci.iloc[0, 0]), median_days_high=float(ci.iloc[0, 1]),
               duration_method=method, lognormal_mu=mu, lognormal_sigma=sigma)
    return out


def _with_stale(model: CrmModel) -> CrmModel:
    """``model`` with the deals the cleaning set aside as stale put back into its history."""
    if model.stale_history is None or not len(model.stale_history):
        return model
    hist = pd.concat([model.history, model.stale_history], ignore_index=True)
    hist = hist.sort_values("opportunity_id", kind="stable").reset_index(drop=True)
    return dataclasses.replace(model, history=hist)


def estimate_no_decision(model: CrmModel, *, level: float = LEVEL) -> pd.DataFrame:
    """Per open stage, the share of spells that never end (see the module docstring), with its interval.

    Returns
    -------
    pandas.DataFrame
        One row per open stage: ``stage`` and ``NO_DECISION_COLUMNS``; NaN where the stage has no exit.

    Examples
    --------
    A stage where 20 of 100 deals are still open long after the last of the others left:

    >>> from calibration.mapping import StageSpec
    >>> t0 = pd.Timestamp("2024-01-01")
    >>> days = list(range(1, 81)) + [None] * 20
    >>> rows = []
    >>> for i, d in enumerate(days):
    ...     rows.append({"opportunity_id": f"o{i:03d}", "changed": t0, "stage": "Open", "kind": "open"})
    ...     if d is not None:
    ...         rows.append({"opportunity_id": f"o{i:03d}", "changed": t0 + pd.Timedelta(days=d),
    ...                      "stage": "Won", "kind": "won"})
    >>> hist = pd.DataFrame(rows).assign(amount=np.nan, derived=False)
    >>> opps = pd.DataFrame({"owner": "r"}, index=pd.Index(sorted(set(hist["opportunity_id"])),
    ...                                                     name="opportunity_id"))
    >>> stages = [StageSpec(name=n, kind=k) for n, k in (("Open", "open"), ("Won", "won"), ("Lost", "lost"))]
    >>> m = CrmModel(opps, hist, stages, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
    ...              as_of=pd.Timestamp("2024-12-31"), observed_from=t0)
    >>> round(float(estimate_no_decision(m)["no_decision_share"].iloc[0]), 3)
    0.2
    """
    full = _with_stale(model)
    spells = stage_spells(full)
    date_only = bool((full.history["changed"].dt.normalize() == full.history["changed"]).all())
    rows = []
    for spec in model.open_stages:
        sub = spells[spells["stage"] == spec.name]
        stale = 0 if model.stale_history is None else int(
            sub["opportunity_id"].isin(set(model.stale_history["opportunity_id"])).sum())
        row: dict[str, object] = {"stage": spec.name, "stale_spells": stale}
        observed = (sub["cause"] != "censored").to_numpy()
        if observed.any():
            agg = _aggregate(sub, exact=False, date_only=date_only)
            code = agg["code"].to_numpy()
            t = agg["day"].to_numpy() + np.vectorize(_OFFSET.get)(code)
            km = KaplanMeierFitter(alpha=1.0 - level).fit(t, code > 0, entry=agg["entry"].to_numpy(),
                                                        weights=agg["n"].to_numpy(dtype=float))
            tau = float(t[code > 0].max())
            share = float(km.survival_function_at_times(tau).iloc[0])
            ci = km.confidence_interval_survival_function_
            at = ci.index.get_indexer([tau], method="ffill")[0]
            low, high = (float(ci.iloc[at, 0]), float(ci.iloc[at, 1])) if share > 0 else (0.0, float(
                1.0 - (1.0 - level) ** (1.0 / max(float(agg.loc[agg["day"] + 0.5 >= tau, "n"].sum()), 1.0))))
            row.update(no_decision_share=share, no_decision_low=min(low, share), no_decision_high=max(high, share),
                       last_exit_days=float(np.round(tau)),
                       censored_beyond_last_exit=int(((sub["cause"] == "censored") & (sub["days"] > tau)).sum()))
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=["stage", *NO_DECISION_COLUMNS])


def estimate_funnel(model: CrmModel, spells: pd.DataFrame | None = None, *, level: float = LEVEL) -> pd.DataFrame:
    """Conversion and duration of every open stage with intervals and sample sizes (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per open stage, columns ``FUNNEL_COLUMNS``; stages without any observed exit have counts
        only (their estimates are NaN and the scenario cannot take them).
    """
    spells = stage_spells(model) if spells is None else spells
    date_only = bool((model.history["changed"].dt.normalize() == model.history["changed"]).all())
    rows = []
    for spec in model.open_stages:
        sub = spells[spells["stage"] == spec.name]
        counts = sub["cause"].value_counts()
        row: dict[str, object] = {
            "stage": spec.name, "stage_id": spec.scenario_id, "spells": len(sub),
            "exits": int(len(sub) - counts.get("censored", 0)), "passed": int(counts.get("pass", 0)),
            "lost": int(counts.get("lost", 0)), "back": int(counts.get("back", 0)),
            "censored": int(counts.get("censored", 0)), "late_entries": int((sub["entry_days"] > 0).sum()),
        }
        resolved = row["passed"] + row["lost"] + row["back"]  # type: ignore[operator]
        row["naive_conversion"] = row["passed"] / resolved if resolved else np.nan  # type: ignore[operator]
        if len(sub):
            row.update(_stage_estimate(sub, level, date_only))
        rows.append(row)
    out = pd.DataFrame(rows)
    stale = estimate_no_decision(model, level=level).drop(columns="stage")
    return pd.concat([out, stale.set_axis(out.index)], axis=1).reindex(columns=FUNNEL_COLUMNS)
