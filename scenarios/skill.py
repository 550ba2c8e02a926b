"""The skill model: each rep's productivity per period (months in seat, ramp-up), per kind of account (funnel
skill and role fit), and expected sales over the horizon from territory potential, funnel skill, service coverage
and ramp.

It is shared by the quota optimizer (``optimizer.quotas``: the shares quotas are fitted to), the allocator
(``optimizer.pairs``: the hours a rep needs per account), the generator (whose balance band is built from those
hours) and the simulator (``sim.build``: the default quotas when a plan brings none), so every layer reads a rep's
opportunity the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.errors import Problem, ScenarioError
from scenarios.scenario import Scenario

__all__ = ["expected_sales", "horizon_weights", "productivity", "ramp_factors"]

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
    skill = np.empty((len(reps), len(stages)))
    for j, stage in enumerate(stages):
        base = reps["tier"].map(lambda t, s=stage.id: st.tiers[t].skill.get(s, 1.0)).to_numpy(dtype=float)
        col = f"skill_{stage.id}"
        if col in reps.columns:
            override = pd.to_numeric(reps[col], errors="coerce").to_numpy(dtype=float)
            base = np.where(np.isnan(override), base, override)
        skill[:, j] = base
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


def _relative_productivity(scenario: Scenario) -> pd.Series:
    s = scenario.settings
    conv = np.array([st.conversion for st in s.funnel.stages])
    skill = np.empty((len(scenario.reps), len(conv)))
    for j, st in enumerate(s.funnel.stages):
        tier_skill = scenario.reps["tier"].map(lambda t, sid=st.id: s.tiers[t].skill.get(sid, 1.0)).astype(float)
        col = f"skill_{st.id}"
        if col in scenario.reps.columns:
            override = pd.to_numeric(scenario.reps[col], errors="coerce")
            tier_skill = override.where(override.notna(), tier_skill)
        skill[:, j] = tier_skill.to_numpy(dtype=float)
    win = np.prod(np.minimum(1.0, conv[None, :] * skill), axis=1)
    return pd.Series(win / float(np.prod(conv)), index=scenario.reps.index)


def expected_sales(scenario: Scenario, assignment: pd.Series, *, ramp: bool | None = None) -> pd.DataFrame:
    """Each rep's territory potential and expected sales over the horizon under ``assignment`` (the skill model).

    The skill model: a rep's expected sales are the territory potential over the horizon times three factors,

    ``expected_sales = potential * productivity * coverage * ramp``

    - ``potential``: the summed ``annual_potential`` of the rep's accounts times the horizon's share of a
      year (seasonality-weighted; 1 for a 12-month horizon).
    - ``productivity``: the rep's win rate through the funnel relative to an average rep,
      ``prod_s min(1, conversion_s * skill_s) / prod_s conversion_s`` with the skill per stage from the rep's
      ``skill_<stage>`` column when given, else the tier's skill (1 when not listed).
    - ``coverage``: ``min(1, capacity hours / service hours needed)``; a rep with more accounts than hours
      cannot work all the potential.
    - ``ramp``: the seasonality-weighted mean of ``ramp_factors`` over the horizon (months in seat and ramp).

    It measures the opportunity as this rep can work it, in currency; it is a basis for shares, not a
    forecast (calibrated forecasts come from the simulator and enter through ``equal_probability``).

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
        Index ``rep_id``; columns ``region, tier, accounts, potential, productivity, coverage, ramp,
        expected_sales``.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> e = expected_sales(s, scenarios.Plan.current(s).assignment)
    >>> list(e.columns)
    ['region', 'tier', 'accounts', 'potential', 'productivity', 'coverage', 'ramp', 'expected_sales']
    >>> bool((e["expected_sales"] <= e["potential"] * e["productivity"] + 1e-9).all())
    True
    """
    owners = _check_assignment(scenario, assignment)
    s = scenario.settings
    _, season, share_of_year = horizon_weights(scenario)
    acc = scenario.accounts.loc[owners.index]
    by_rep = pd.DataFrame({"rep_id": owners.to_numpy(), "potential": acc["annual_potential"].to_numpy(float),
                           "hours": acc["service_hours_per_year"].to_numpy(float)}).groupby("rep_id")
    reps = scenario.reps
    potential = by_rep["potential"].sum().reindex(reps.index, fill_value=0.0) * share_of_year
    need = by_rep["hours"].sum().reindex(reps.index, fill_value=0.0)
    count = by_rep.size().reindex(reps.index, fill_value=0).astype(int)
    capacity = reps["hours_per_week"].astype(float) * s.calendar.weeks_per_year
    coverage = (capacity / need.where(need > 0)).clip(upper=1.0).fillna(1.0)
    factors = ramp_factors(scenario, ramp=ramp).to_numpy()
    ramp_share = pd.Series(factors @ season / season.sum() if season.sum() > 0 else factors.mean(axis=1),
                           index=reps.index)
    productivity = _relative_productivity(scenario)
    return pd.DataFrame({
        "region": reps["region"], "tier": reps["tier"], "accounts": count, "potential": potential,
        "productivity": productivity, "coverage": coverage, "ramp": ramp_share,
        "expected_sales": potential * productivity * coverage * ramp_share,
    })
