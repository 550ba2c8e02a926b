"""The skill model: each rep's productivity per period (months in seat, ramp-up), per kind of account (funnel
skill and role fit), and expected sales over the horizon from territory potential, the share of it in play
(``scenarios.demand``), the rep's chance of winning a lead, service coverage and ramp.

It is shared by the quota optimizer (``optimizer.quotas``: the shares quotas are fitted to), the allocator
(``optimizer.pairs``: the hours a rep needs per account), the generator (whose balance band is built from those
hours) and the simulator (``sim.build``: the default quotas when a plan brings none), so every layer reads a rep's
opportunity the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scenarios.demand import account_demand, channel_leads
from scenarios.errors import Problem, ScenarioError
from scenarios.scenario import Scenario

__all__ = ["account_sales", "expected_sales", "horizon_weights", "productivity", "ramp_factors"]

# Stages a rep works for a customer already buying (no prospecting) versus a prospect (the whole funnel).
_CUSTOMER_SKIPS = {"prospecting"}


# ----------------------------------------------------------------------------------------------------------
# Step 1: ramp


def ramp_factors(scenario: Scenario, *, ramp: bool | None = None) -> pd.DataFrame:
    """Productivity of each rep in each period of the horizon, from months in seat and the tier's ramp curve.

    For period m (a calendar month) the factor is ``f * r``: ``f`` is the share of the month the rep is in seat
    (0 before the hire date, 1 for a full month after it) and ``r`` the ramp curve at mid-month,
    ``ramp_start + (1 - ramp_start) * min(1, t / ramp_months)`` with ``t`` the months since hire (``r = 1``
    when ``ramp_months`` is 0 or ramp is switched off).

    Parameters
    ----------
    scenario
        The scenario (reps' ``hire_date`` and tier; the tiers' ``ramp_months`` and ``ramp_start``).
    ramp
        Apply the ramp curve; default ``scenario.settings.quotas.ramp``. Months before hire are 0 either way.

    Returns
    -------
    pandas.DataFrame
        Index ``rep_id``, one column per period ``YYYY-MM``, values in [0, 1].

    Examples
    --------
    >>> import scenarios
    >>> f = ramp_factors(scenarios.load("tiny"))
    >>> f.shape
    (6, 12)
    >>> bool(((f >= 0) & (f <= 1)).all().all())
    True
    """
    s = scenario.settings
    use_ramp = s.quotas.ramp if ramp is None else ramp
    periods = s.calendar.periods()
    hire = pd.to_datetime(scenario.reps["hire_date"]).to_numpy(dtype="datetime64[D]")
    starts = np.array([np.datetime64(f"{p}-01") for p in periods], dtype="datetime64[D]")
    ends = np.array([(pd.Timestamp(f"{p}-01") + pd.offsets.MonthBegin(1)).to_datetime64() for p in periods],
                    dtype="datetime64[D]")
    length = (ends - starts).astype(float)
    in_seat = np.clip((ends[None, :] - hire[:, None]).astype(float) / length[None, :], 0.0, 1.0)
    if not use_ramp:
        return pd.DataFrame(in_seat, index=scenario.reps.index, columns=periods)
    mid = starts + (ends - starts) // 2
    months_in = np.maximum((mid[None, :] - hire[:, None]).astype(float) / 30.4375, 0.0)
    tiers = scenario.reps["tier"].map(lambda t: s.tiers[t])
    ramp_months = np.array([t.ramp_months for t in tiers], dtype=float)
    ramp_start = np.array([t.ramp_start for t in tiers], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(ramp_months[:, None] > 0, np.minimum(1.0, months_in / ramp_months[:, None]), 1.0)
    curve = ramp_start[:, None] + (1.0 - ramp_start[:, None]) * progress
    return pd.DataFrame(in_seat * curve, index=scenario.reps.index, columns=periods)


# ----------------------------------------------------------------------------------------------------------
# Step 2: territory potential and the skill model


def horizon_weights(scenario: Scenario) -> tuple[list[str], np.ndarray, float]:
    """Periods of the horizon, their demand seasonality and the horizon's share of a year (seasonality-weighted).

    Examples
    --------
    >>> import scenarios
    >>> periods, season, share = horizon_weights(scenarios.load("tiny"))
    >>> len(periods), len(season), share
    (12, 12, 1.0)
    """
    cal = scenario.settings.calendar
    periods = cal.periods()
    season = np.array([cal.seasonality[int(p[5:7]) - 1] for p in periods], dtype=float)
    return periods, season, float(season.sum() / sum(cal.seasonality))


def _check_assignment(scenario: Scenario, assignment: pd.Series) -> pd.Series:
    owners = assignment.dropna()
    unknown = owners[~owners.isin(scenario.reps.index)]
    if len(unknown):
        acc, rep = next(iter(unknown.items()))
        raise ScenarioError(Problem("assignments.csv", f"account {acc} is given to an unknown rep",
                                    "use rep ids of the scenario", column="rep_id", value=str(rep)))
    extra = owners.index.difference(scenario.accounts.index)
    if len(extra):
        raise ScenarioError(Problem("assignments.csv", "account is not in the scenario",
                                    "use account ids of the scenario", column="account_id", value=str(extra[0])))
    return owners


def productivity(scenario: Scenario) -> pd.DataFrame:
    """Productivity multiplier of every rep on every kind of account (status x tier).

    The productivity of a rep on an account is the effort-weighted mean of the rep's per-stage skills (tier
    skill, replaced by the rep's ``skill_<stage>`` value where given) over the stages the account needs -- all
    stages for a prospect, all but prospecting for a customer, with negotiation weighted double for A
    customers -- times the role fit: ``1 + role_fit`` for a hunter on a prospect or a farmer on an A/B customer,
    ``1 - role_fit`` for a hunter on an A customer or a farmer on a prospect, 1 otherwise.

    Returns
    -------
    pandas.DataFrame
        Indexed by rep_id, one column per ``<status>_<tier>`` (e.g. ``prospect_C``, ``customer_A``).

    Examples
    --------
    >>> import scenarios
    >>> p = productivity(scenarios.load("tiny"))
    >>> bool((p > 0).all().all()), p.shape[1]
    (True, 6)
    """
    st = scenario.settings
    reps = scenario.reps
    stages = st.funnel.stages
    skill = _skills(scenario)
    effort = np.array([s.effort_hours for s in stages], dtype=float)
    fit = st.optimizer.role_fit
    role = reps["role"].to_numpy()
    out = {}
    for status in ("prospect", "customer"):
        for tier in ("A", "B", "C"):
            w = effort.copy()
            if status == "customer":
                w[[i for i, s in enumerate(stages) if s.id in _CUSTOMER_SKIPS]] = 0.0
                if tier == "A":
                    w[[i for i, s in enumerate(stages) if s.id == "negotiation"]] *= 2.0
            if w.sum() <= 0:
                w = np.ones(len(stages))
            level = skill @ (w / w.sum())
            good = (role == "hunter") if status == "prospect" else (role == "farmer") & (tier in ("A", "B"))
            poor = (role == "farmer") if status == "prospect" else (role == "hunter") & (tier == "A")
            out[f"{status}_{tier}"] = level * np.where(good, 1 + fit, np.where(poor, 1 - fit, 1.0))
    return pd.DataFrame(out, index=reps.index)


def _skills(scenario: Scenario) -> np.ndarray:
    """Skill per rep and stage: the rep's ``skill_<stage>`` column where given, else the tier's (1 when unlisted)."""
    s = scenario.settings
    skill = np.empty((len(scenario.reps), len(s.funnel.stages)))
    for j, st in enumerate(s.funnel.stages):
        tier_skill = scenario.reps["tier"].map(lambda t, sid=st.id: s.tiers[t].skill.get(sid, 1.0)).astype(float)
        col = f"skill_{st.id}"
        if col in scenario.reps.columns:
            override = pd.to_numeric(scenario.reps[col], errors="coerce")
            tier_skill = override.where(override.notna(), tier_skill)
        skill[:, j] = tier_skill.to_numpy(dtype=float)
    return skill


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF by Abramowitz and Stegun's 7.1.26 approximation of erf (absolute error below
    1.5e-7; the scenarios layer keeps to numpy)."""
    z = np.minimum(np.abs(x), 40.0) / math.sqrt(2.0)  # the CDF is 0 or 1 to double precision beyond 40
    k = 1.0 / (1.0 + 0.3275911 * z)
    poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    out: np.ndarray = 0.5 * (1.0 + np.sign(x) * erf)
    return out


def _capped_mean(mean: np.ndarray, sd: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """``E[min(S, cap)]`` for a lognormal ``S`` with the given mean and standard deviation (elementwise, at
    least 1-d): ``mean * Phi((ln cap - mu - s^2) / s) + cap * (1 - Phi((ln cap - mu) / s))``."""
    mean, sd, cap = (np.atleast_1d(np.array(a, dtype=float)) for a in np.broadcast_arrays(mean, sd, cap))
    out: np.ndarray = np.minimum(mean, cap)
    spread = np.log1p(np.divide(sd, mean, out=np.zeros_like(mean), where=mean > 0) ** 2)
    ok = (mean > 0) & (spread > 0) & (cap > 0)
    if ok.any():
        m, c, s2 = mean[ok], cap[ok], spread[ok]
        s = np.sqrt(s2)
        mu = np.log(m) - s2 / 2.0
        out[ok] = m * _normal_cdf((np.log(c) - mu - s2) / s) + c * (1.0 - _normal_cdf((np.log(c) - mu) / s))
    return out


def _expected_booked(wins: np.ndarray, value: np.ndarray, cap: np.ndarray, scenario: Scenario) -> np.ndarray:
    """Expected revenue an account books in a plan year when it can buy at most ``cap``: the wins are Poisson
    with mean ``wins``, each worth ``value`` times the product's price over the mix's mean price times mean-1
    lognormal noise (``simulation.value_cv``), as the simulator draws them.

    ``E[min(S, cap)]`` sums over the number of wins ``n`` (to far in the Poisson tail): one win is the
    product mixture of lognormals, exactly; a sum of ``n >= 2`` is matched by a lognormal with its mean and
    variance (Fenton and Wilkinson, 1960).
    """
    s = scenario.settings
    price = np.array([p.price for p in s.products.values()], dtype=float)
    mix = np.array([p.mix for p in s.products.values()], dtype=float)
    mix = mix / mix.sum() if mix.sum() > 0 else np.full(len(mix), 1.0 / len(mix))
    mean_price = float(price @ mix)
    rel = price / mean_price if mean_price > 0 else np.ones(len(price))
    cv = s.simulation.value_cv
    second = float(mix @ rel**2) * (1.0 + cv * cv)  # E[X^2] / value^2 of one deal
    out = np.zeros(len(wins))
    live = (wins > 0) & (value > 0) & (cap > 0)
    if not live.any():
        return out
    lam, v, w = wins[live], value[live], cap[live]
    # Poisson tail beyond lam + 8 sqrt(lam) + 8 wins is below 1e-12 for any lam
    last = np.ceil(lam + 8.0 * np.sqrt(lam) + 8.0)
    log_lam = np.log(lam)
    one = v[:, None] * rel[None, :]
    total = np.exp(log_lam - lam) * (_capped_mean(one, one * cv, w[:, None]) @ mix)
    for n in range(2, int(last.max()) + 1):
        k = np.flatnonzero(last >= n)
        pmf = np.exp(n * log_lam[k] - lam[k] - math.lgamma(n + 1.0))
        total[k] += pmf * _capped_mean(n * v[k], np.sqrt(n * max(second - 1.0, 0.0)) * v[k], w[k])
    out[live] = total
    return out


def account_sales(scenario: Scenario, assignment: pd.Series) -> pd.DataFrame:
    """Each assigned account's reach, its owner's chance of winning one of its leads, and the sales the owner
    can expect from it over the horizon.

    A lead passes stage ``s`` with probability ``min(1, conversion_s x skill_s x tier_conversion[account tier])``,
    times the channel's ``lead_quality`` at a new-business lead's first stage, as in the simulator. A repeat,
    renewal or upsell lead enters at stage ``simulation.repeat_skip_stages``; a new-business lead at the first
    stage, from a channel drawn by the channel's share of the region's leads at today's spend
    (``scenarios.demand.channel_leads``; quality 1 when there are none). ``win_probability`` is the
    lead-weighted mean over the account's two kinds of lead (``scenarios.demand.account_demand``).

    ``expected_sales`` is the revenue the account books, summed over the plan years of the horizon (12 months
    from its start; a shorter last year counts its seasonal share ``f`` of a year): wins are Poisson with mean
    ``leads x win_probability x f``, each worth the account's deal value in expectation, and the account buys
    at most ``f x annual_potential`` in the year (``_expected_booked``). So it never exceeds the potential, and
    it is below ``reach x win_probability x potential`` by what the cap takes in a lucky year.

    Returns
    -------
    pandas.DataFrame
        Index ``account_id`` (assigned accounts only); columns ``rep_id, potential`` (annual), ``reach,
        win_probability, expected_sales`` (over the horizon).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> a = account_sales(s, scenarios.Plan.current(s).assignment)
    >>> bool(((a["win_probability"] > 0) & (a["win_probability"] <= 1)).all())
    True
    >>> bool((a["expected_sales"] <= a["reach"] * a["win_probability"] * a["potential"] + 1e-6).all())
    True
    """
    owners = _check_assignment(scenario, assignment)
    s = scenario.settings
    acc = scenario.accounts.loc[owners.index]
    demand = account_demand(scenario).loc[owners.index]
    conv = np.array([st.conversion for st in s.funnel.stages], dtype=float)
    n_stages = len(conv)
    skill = _skills(scenario)[scenario.reps.index.get_indexer(pd.Index(owners))]
    tier_mult = acc["tier"].astype(str).map(s.simulation.tier_conversion).fillna(1.0).to_numpy(dtype=float)
    # a stage's deals that never get a decision are neither passed nor lost: they only lower the chance to win
    decided = np.array([1.0 - (st.no_decision_share or 0.0) for st in s.funnel.stages], dtype=float)
    p = np.minimum(1.0, conv[None, :] * skill * tier_mult[:, None]) * decided[None, :]  # (accounts, stages)
    skip = min(s.simulation.repeat_skip_stages, n_stages - 1)
    repeat_win = np.prod(p[:, skip:], axis=1)
    mix = channel_leads(scenario)
    quality = np.array([s.channels[c].lead_quality for c in mix.columns], dtype=float)
    per_region = mix.sum(axis=1)
    shares = mix.div(per_region.where(per_region > 0), axis=0).reindex(acc["region"].to_numpy()).to_numpy(float)
    first = conv[0] * skill[:, 0] * tier_mult
    entry = np.minimum(1.0, first)
    if shares.size:
        known = ~np.isnan(shares).any(axis=1)
        mixed = np.nansum(shares * np.minimum(1.0, first[:, None] * quality[None, :]), axis=1)
        entry = np.where(known, mixed, entry)
    entry = entry * decided[0]
    new_win = entry * np.prod(p[:, 1:], axis=1)
    leads = demand["leads"].to_numpy(dtype=float)
    repeat_share = np.divide(demand["repeat_leads"].to_numpy(dtype=float), leads, out=np.zeros(len(leads)),
                             where=leads > 0)
    repeat_share = np.where(leads > 0, repeat_share, (acc["status"] == "customer").to_numpy(dtype=float))
    win = np.clip(repeat_share * repeat_win + (1.0 - repeat_share) * new_win, 0.0, 1.0)  # a mean of chances
    potential = acc["annual_potential"].to_numpy(dtype=float)
    _, season, _ = horizon_weights(scenario)
    year_share = np.array([season[y:y + 12].sum() for y in range(0, len(season), 12)]) / \
        max(sum(s.calendar.seasonality), 1e-12)
    value = demand["deal_value"].to_numpy(dtype=float)
    sales = sum((_expected_booked(leads * win * f, value, potential * f, scenario) for f in year_share),
                start=np.zeros(len(acc)))
    return pd.DataFrame({"rep_id": owners.to_numpy(), "potential": potential,
                         "reach": demand["reach"].to_numpy(dtype=float), "win_probability": win,
                         "expected_sales": sales}, index=acc.index)


def expected_sales(scenario: Scenario, assignment: pd.Series, *, ramp: bool | None = None) -> pd.DataFrame:
    """Each rep's territory potential and expected sales over the horizon under ``assignment`` (the skill model).

    The skill model: a rep's expected sales are the potential the rep's accounts put in play over the horizon
    times the share of it the rep books, cut by missing service hours and ramp-up,

    ``expected_sales = potential * reach * capture * coverage * ramp``

    - ``potential``: the summed ``annual_potential`` of the rep's accounts times the horizon's share of a
      year (seasonality-weighted; 1 for a 12-month horizon).
    - ``reach``: the potential-weighted share of it the accounts put in play at today's spend
      (``scenarios.demand.account_demand``: 1 for an account bringing at least one lead a year).
    - ``capture``: the share of the potential in play the rep books (``account_sales``): the rep's chance of
      winning a lead through the funnel, ``prod min(1, conversion_s * skill_s * tier_conversion)`` from the
      stage the account's leads enter at (skills from the rep's ``skill_<stage>`` columns, else the tier's, 1
      when not listed), less what an account cannot buy beyond its potential in a lucky year.
    - ``coverage``: ``min(1, capacity hours / service hours needed)``; a rep with more accounts than hours
      cannot work all the potential.
    - ``ramp``: the seasonality-weighted mean of ``ramp_factors`` over the horizon (months in seat and ramp).

    Every factor lies in [0, 1], so expected sales never exceed the potential. The simulator draws the same
    demand, so at today's spend, with service hours, ramp-up and skills as planned, its mean revenue on a rep's
    accounts is the rep's expected sales, less what stalls in the queue, churns or leaves with a leaver. They
    are a basis for shares, not a forecast (calibrated forecasts come from the simulator and enter through
    ``equal_probability``).

    Parameters
    ----------
    scenario
        The scenario.
    assignment
        Series ``account_id -> rep_id`` (missing = uncovered), e.g. ``Plan.current(scenario).assignment``.
    ramp
        Apply the ramp curve; default ``scenario.settings.quotas.ramp``.

    Returns
    -------
    pandas.DataFrame
        Index ``rep_id``; columns ``region, tier, accounts, potential, reach, capture, coverage, ramp,
        expected_sales`` (``reach`` and ``capture`` are 0 for a rep without potential).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> e = expected_sales(s, scenarios.Plan.current(s).assignment)
    >>> list(e.columns)
    ['region', 'tier', 'accounts', 'potential', 'reach', 'capture', 'coverage', 'ramp', 'expected_sales']
    >>> bool((e["expected_sales"] <= e["potential"]).all())
    True
    """
    per_account = account_sales(scenario, assignment)
    s = scenario.settings
    _, season, share_of_year = horizon_weights(scenario)
    acc = scenario.accounts.loc[per_account.index]
    by_rep = pd.DataFrame({"rep_id": per_account["rep_id"].to_numpy(),
                           "potential": per_account["potential"].to_numpy(),
                           "in_play": (per_account["potential"] * per_account["reach"]).to_numpy(),
                           "booked": per_account["expected_sales"].to_numpy(),
                           "hours": acc["service_hours_per_year"].to_numpy(float)}).groupby("rep_id")
    reps = scenario.reps
    potential = by_rep["potential"].sum().reindex(reps.index, fill_value=0.0) * share_of_year
    in_play = by_rep["in_play"].sum().reindex(reps.index, fill_value=0.0) * share_of_year
    booked = by_rep["booked"].sum().reindex(reps.index, fill_value=0.0)
    reach = (in_play / potential.where(potential > 0)).fillna(0.0)
    capture = (booked / in_play.where(in_play > 0)).clip(upper=1.0).fillna(0.0)
    need = by_rep["hours"].sum().reindex(reps.index, fill_value=0.0)
    count = by_rep.size().reindex(reps.index, fill_value=0).astype(int)
    capacity = reps["hours_per_week"].astype(float) * s.calendar.weeks_per_year
    coverage = (capacity / need.where(need > 0)).clip(upper=1.0).fillna(1.0)
    factors = ramp_factors(scenario, ramp=ramp).to_numpy()
    ramp_share = pd.Series(factors @ season / season.sum() if season.sum() > 0 else factors.mean(axis=1),
                           index=reps.index)
    return pd.DataFrame({
        "region": reps["region"], "tier": reps["tier"], "accounts": count, "potential": potential,
        "reach": reach, "capture": capture, "coverage": coverage, "ramp": ramp_share,
        "expected_sales": potential * reach * capture * coverage * ramp_share,
    })
