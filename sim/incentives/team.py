"""Pay components that need everyone's results: team / region bonuses and contests, and the whole sales force's
monthly variable pay including them (what the simulator pays at each month end).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from scenarios.incentives import (
    ContestSettings,
    PayPlanSettings,
    TeamBonusSettings,
)
from sim.incentives.components import PERIOD_MONTHS, _attainment, _step_value, annual_base

__all__ = [
    "contest_awards",
    "team_bonuses",
    "whole_force_amounts",
]


Array = npt.NDArray[np.float64]


def _period_attainment(timeline: pd.DataFrame, length: int) -> pd.DataFrame:
    """Per rep and complete period of ``length`` months: bookings, quota and the period's last month."""
    t = timeline.assign(window=timeline["month"] // length)
    g = t.groupby(["rep_id", "window"], sort=True)
    out = g.agg(bookings=("bookings", "sum"), quota=("quota", "sum"), last=("month", "max"), n=("month", "size"))
    return out[out["n"] == length].reset_index()


def team_bonuses(timeline: pd.DataFrame, reps: pd.DataFrame, pay_plans: Mapping[str, PayPlanSettings]) -> pd.Series:
    """Team / region bonus per rep and month.

    Team attainment of a group :math:`G` in a complete period = :math:`\\sum_{r \\in G} B_r / \\sum_{r \\in G}
    Q_r` over all reps of the group (whatever their pay plan); each member on a pay plan with a ``team_bonus``
    receives that pay plan's step value for it (``share_of_base`` applies to the member's own annual base) in the
    period's last month.

    Parameters
    ----------
    timeline
        Columns ``rep_id, month, bookings, quota``.
    reps
        Indexed by rep_id with ``pay_plan_id``, ``base_salary`` and ``region``.
    pay_plans
        Pay plans by id.

    Returns
    -------
    pandas.Series
        Amount indexed by (rep_id, month); zero where nothing is due.
    """
    out = pd.Series(0.0, index=pd.MultiIndex.from_frame(timeline[["rep_id", "month"]]))
    for pay_plan_id, pay_plan in pay_plans.items():
        tb: TeamBonusSettings | None = pay_plan.team_bonus
        if tb is None:
            continue
        members = reps.index[reps["pay_plan_id"] == pay_plan_id]
        base_of: dict[object, float] = {k: float(v) for k, v in reps["base_salary"].items()}
        if len(members) == 0:
            continue
        per = _period_attainment(timeline, PERIOD_MONTHS[tb.period])
        group = reps["region"] if tb.scope == "region" else pd.Series("all", index=reps.index)
        per["group"] = per["rep_id"].map(group)
        team = (per.groupby(["group", "window"])
                .agg(b=("bookings", "sum"), q=("quota", "sum"), last=("last", "max")).reset_index())
        for rep_id in members:
            base = annual_base(base_of[rep_id], pay_plan)
            for row in team[team["group"] == group[rep_id]].itertuples():
                value = _step_value(_attainment(float(row.b), float(row.q)), tb.steps, base)
                if value and (rep_id, int(row.last)) in out.index:
                    out.loc[(rep_id, int(row.last))] += value
    return out


def _contest_prizes(scores: pd.Series, prizes: Sequence[float]) -> pd.Series:
    """Prizes by rank, highest score first; tied reps share the prizes of the ranks they occupy equally."""
    padded = np.r_[np.asarray(prizes, dtype=float), np.zeros(len(scores))]
    first = scores.rank(method="min", ascending=False).astype(int) - 1
    count = scores.map(scores.value_counts())
    return pd.Series([padded[f:f + c].mean() for f, c in zip(first, count, strict=True)], index=scores.index)


def contest_awards(timeline: pd.DataFrame, reps: pd.DataFrame, pay_plans: Mapping[str, PayPlanSettings]) -> pd.Series:
    """Contest prizes per rep and month.

    For each contest of a pay plan and each complete contest period, the eligible reps on that pay plan (period
    attainment at least ``min_attainment``) are ranked by the metric (per region when ``scope = "region"``);
    rank :math:`k` wins ``prizes[k-1]``; :math:`m` reps tied from rank :math:`k` each win the mean of
    ``prizes[k-1 : k-1+m]``. Prizes are paid in the period's last month. Reps with zero metric win nothing.

    Parameters
    ----------
    timeline, reps, pay_plans
        As for `team_bonuses`.

    Returns
    -------
    pandas.Series
        Amount indexed by (rep_id, month).
    """
    won_by: dict[tuple[object, int], float] = {}
    for pay_plan_id, pay_plan in pay_plans.items():
        members = set(reps.index[reps["pay_plan_id"] == pay_plan_id])
        for contest in pay_plan.contests:
            c: ContestSettings = contest
            per = _period_attainment(timeline[timeline["rep_id"].isin(members)], PERIOD_MONTHS[c.period])
            if per.empty:
                continue
            att = per["bookings"] / per["quota"].where(per["quota"] > 0)
            per["score"] = per["bookings"] if c.metric == "bookings" else att
            eligible = per[(att.fillna(0.0) >= c.min_attainment - 1e-12) & (per["score"].fillna(0.0) > 0)]
            eligible = eligible.assign(group=eligible["rep_id"].map(reps["region"]) if c.scope == "region" else "all")
            for _, grp in eligible.groupby(["group", "window"]):
                won = _contest_prizes(grp.set_index("rep_id")["score"], c.prizes)
                last = int(grp["last"].iloc[0])
                for rep_id, amount in won.items():
                    won_by[(rep_id, last)] = won_by.get((rep_id, last), 0.0) + float(amount)
    index = pd.MultiIndex.from_frame(timeline[["rep_id", "month"]])
    return pd.Series([won_by.get(k, 0.0) for k in index], index=index, dtype=float)


def whole_force_amounts(bookings: Array, quotas: Array, base_salary: Array, pay_plans: Sequence[PayPlanSettings],
                        pay_plan_ids: Sequence[str], regions: Sequence[str]) -> Array:
    """Team / region bonuses plus contest prizes per seat and month, from arrays (``seats x months``).

    The array twin of `team_bonuses` + `contest_awards` (same rules, same results; a test holds them equal),
    fast enough to run at every simulated month end. ``base_salary`` is each seat's annual salary (the pay plan's
    base rules are applied); ``pay_plans``, ``pay_plan_ids`` and ``regions`` give each seat's pay plan, its id and
    region.
    Only complete periods inside the months given are paid, so the result is causal.

    Examples
    --------
    >>> import scenarios
    >>> team = scenarios.PayPlanSettings(commission_rate=0.0, team_bonus={"scope": "company", "period": "month",
    ...                               "steps": [{"attainment": 1.0, "amount": 100.0}]})
    >>> whole_force_amounts(np.array([[8.0, 2.0], [4.0, 2.0]]), np.full((2, 2), 5.0), np.zeros(2),
    ...                     [team, team], ["t", "t"], ["N", "S"]).tolist()
    [[100.0, 0.0], [100.0, 0.0]]
    """
    b = np.asarray(bookings, dtype=float)
    q = np.asarray(quotas, dtype=float)
    n, months = b.shape
    out = np.zeros((n, months))
    region_codes = {r: k for k, r in enumerate(dict.fromkeys(regions))}
    region = np.array([region_codes[r] for r in regions], dtype=np.int64)
    by_id: dict[str, tuple[PayPlanSettings, npt.NDArray[np.int64]]] = {}
    for pid in dict.fromkeys(pay_plan_ids):
        members = np.flatnonzero(np.asarray(pay_plan_ids) == pid)
        by_id[pid] = (pay_plans[int(members[0])], members)
    for pay_plan, members in by_id.values():
        base = np.array([annual_base(float(base_salary[r]), pay_plan) for r in members])
        tb = pay_plan.team_bonus
        if tb is not None:
            length = PERIOD_MONTHS[tb.period]
            group = region if tb.scope == "region" else np.zeros(n, dtype=np.int64)
            for w in range(months // length):
                lo, last = w * length, (w + 1) * length - 1
                team_b = np.bincount(group, weights=b[:, lo:last + 1].sum(axis=1))
                team_q = np.bincount(group, weights=q[:, lo:last + 1].sum(axis=1))
                for i, r in enumerate(members.tolist()):
                    g = int(group[r])
                    out[r, last] += _step_value(_attainment(float(team_b[g]), float(team_q[g])), tb.steps, base[i])
        for c in pay_plan.contests:
            length = PERIOD_MONTHS[c.period]
            for w in range(months // length):
                lo, last = w * length, (w + 1) * length - 1
                booked = b[members, lo:last + 1].sum(axis=1)
                quota = q[members, lo:last + 1].sum(axis=1)
                att = np.divide(booked, quota, out=np.full(len(members), np.nan), where=quota > 0)
                score = booked if c.metric == "bookings" else att
                ok = (np.nan_to_num(att, nan=0.0) >= c.min_attainment - 1e-12) & (np.nan_to_num(score, nan=0.0) > 0)
                groups = region[members] if c.scope == "region" else np.zeros(len(members), dtype=np.int64)
                for g in np.unique(groups[ok]).tolist():
                    idx = np.flatnonzero(ok & (groups == g))
                    won = _contest_prizes(pd.Series(score[idx]), c.prizes).to_numpy(dtype=float)
                    out[members[idx], last] += won
    return out
