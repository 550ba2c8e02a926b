"""Field-study directions that must emerge from the simulator and the reps' response to their pay plans.

Every test compares plans on the same customers (common random numbers: a fresh ``SeedSequence(root)`` per
plan, so replication ``i`` of each plan draws the same leads) with the bundled, calibrated ``baseline`` and
default ``[behaviour]`` settings, and asserts that the 95 % paired-t interval of the effect excludes zero. Groups
of reps (top performers, reps within reach of quota) are chosen from an independent pilot run under flat
commission with a different seed, so the selection cannot favour either arm (choosing on one arm's own outcome
would bias the paired delta by regression to the mean). The low-performer tests run bonus-only variants of the
bundled bonus plans on the quota optimizer's quotas (see `_bonus_only_model`): the default run checks the mechanism
rep by rep (hours of a rep far behind), the slow run its outcome in attainment, an effect too small for 16
replications; the README says why the bundled plans do not show it, and which field-study direction (bookings
bunching at year end) does not emerge at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from scipy import stats

import optimizer
import scenarios
import sim
from sim.incentives import IncentiveBehaviour
from sim.policy import DealView, RepState, Timing

REPLICATIONS = 16  # the default run; the slow test repeats every check with 40 on other customers
LIFT_REPLICATIONS = 192  # the low-performer lift (slow): see its test for the power calculation
ROOT = 1


@dataclass(eq=False)
class Recording:
    """Delegates to the adapter and records each rep-week's hours share and pace (YTD attainment so far)."""

    inner: IncentiveBehaviour
    quotas: np.ndarray
    log: list[tuple[int, int, float, float]] = field(default_factory=list)

    @property
    def dynamic_priority(self) -> bool:
        return self.inner.dynamic_priority

    def weekly_hours(self, rep: RepState) -> float:
        h = self.inner.weekly_hours(rep)
        if rep.now >= 0.0:
            due = float(self.quotas[rep.seat, :rep.month].sum() + self.quotas[rep.seat, rep.month] * rep.month_elapsed)
            self.log.append((rep.seat, rep.month, h / rep.norm_hours, rep.bookings_horizon / max(due, 1.0)))
        return h

    def priority(self, rep: RepState, deal: DealView) -> float:
        return self.inner.priority(rep, deal)

    @property
    def timing_games(self) -> bool:
        return self.inner.timing_games

    def timing(self, rep: RepState, deal: DealView, close_month: int, weeks_after_month_end: float,
               push_risk: float) -> Timing:
        return self.inner.timing(rep, deal, close_month, weeks_after_month_end, push_risk)


@dataclass(frozen=True)
class Arm:
    bookings: list[np.ndarray]  # per replication, seats x months
    hours: list[np.ndarray]  # per replication, rows (seat, month, hours share, pace)
    pull_discount: list[float]  # per replication, revenue given up in pull-in discounts


def _run(s: scenarios.Scenario, model: sim.Model, plan: str, root: int, n: int) -> Arm:
    rec = Recording(IncentiveBehaviour.from_model(model, [plan] * model.n_seats), model.quotas)
    pay = sim.PayPlanPay(pay_plans=tuple(s.settings.pay_plans[plan] for _ in range(model.n_seats)))
    bookings, hours, discount = [], [], []
    for seed in np.random.SeedSequence(root).spawn(n):  # fresh children per plan: the same customers
        rec.log = []
        _, run = sim.run_replication(model, seed, rec, pay)
        bookings.append(np.asarray(run.bookings))
        hours.append(np.array(rec.log))
        discount.append(float(run.pull_discount.sum()))
    return Arm(bookings, hours, discount)


def _arms(root: int, n: int) -> dict[str, Any]:
    s = scenarios.load("baseline")
    model = sim.build(s)
    pilot = _run(s, model, "flat_commission", 999, 6)
    pilot_att = np.mean([b.sum(axis=1) for b in pilot.bookings], axis=0) / model.quotas.sum(axis=1)
    out: dict[str, Any] = {p: _run(s, model, p, root, n)
                           for p in ("flat_commission", "annual_bonus", "quarterly_bonus", "tiered_accelerator",
                                     "capped")}
    out["pilot_attainment"] = pilot_att
    return out


@pytest.fixture(scope="module")
def arms() -> dict[str, Any]:
    return _arms(ROOT, REPLICATIONS)


def _interval(d: list[float] | np.ndarray) -> tuple[float, float]:
    x = np.asarray(d, dtype=float)
    half = float(stats.t.ppf(0.975, len(x) - 1)) * float(x.std(ddof=1)) / np.sqrt(len(x))
    return float(x.mean()) - half, float(x.mean()) + half


def test_removing_the_cap_raises_revenue(arms: dict[str, Any]) -> None:
    d = [u.sum() - c.sum() for u, c in zip(arms["flat_commission"].bookings, arms["capped"].bookings, strict=True)]
    lo, _ = _interval(d)
    assert lo > 0.0


def test_accelerators_raise_top_performers_sales(arms: dict[str, Any]) -> None:
    att = arms["pilot_attainment"]
    top = att >= np.quantile(att, 2.0 / 3.0)
    d = [a.sum(axis=1)[top].mean() - f.sum(axis=1)[top].mean()
         for a, f in zip(arms["tiered_accelerator"].bookings, arms["flat_commission"].bookings, strict=True)]
    lo, _ = _interval(d)
    assert lo > 0.0


def test_reps_far_below_quota_late_in_the_year_reduce_effort(arms: dict[str, Any]) -> None:
    # Under flat commission hours are the norm for everyone (share 1.0 exactly); under the annual bonus a rep
    # whose year-to-date pace is far below quota in the last quarter works less, one close to it works more.
    for log in arms["flat_commission"].hours:
        assert np.all(log[:, 2] == 1.0)

    def late(log: np.ndarray, lo: float, hi: float) -> float:
        sel = (log[:, 1] >= 9) & (log[:, 3] >= lo) & (log[:, 3] < hi)
        return float(log[sel, 2].mean())

    far = [late(log, 0.0, 0.6) - 1.0 for log in arms["annual_bonus"].hours]
    near = [late(log, 0.85, 1.0) - 1.0 for log in arms["annual_bonus"].hours]
    assert _interval(far)[1] < 0.0
    assert _interval(near)[0] > 0.0


def test_effort_spikes_at_the_end_of_the_year_under_an_annual_lump_sum(arms: dict[str, Any]) -> None:
    # A rep within reach of the annual threshold in December (year-to-date pace 0.8-1.1) works more hours than
    # the same rep did in January-September; under flat commission every hour share is the norm. Averaged over
    # all reps the December spike vanishes: those past the threshold or out of reach ease off, and extra
    # effort that only pays next year is valued at next year's (distant) bonus (see the README).
    def spike(log: np.ndarray) -> float:
        dec = log[(log[:, 1] == 11) & (log[:, 3] >= 0.8) & (log[:, 3] < 1.1)]
        early = log[(log[:, 1] <= 8) & np.isin(log[:, 0], np.unique(dec[:, 0]))]
        return float(dec[:, 2].mean() - early[:, 2].mean())

    assert all(spike(log) == 0.0 for log in arms["flat_commission"].hours)
    assert _interval([spike(log) for log in arms["annual_bonus"].hours])[0] > 0.0


QUARTER_ENDS = np.isin(np.arange(12), [2, 5, 8, 11])


def _quarter_end_share(x: np.ndarray) -> float:
    return float(x[:, QUARTER_ENDS].sum() / x.sum())


def test_bookings_bunch_in_the_last_month_of_each_quarter_under_a_quarterly_bonus(arms: dict[str, Any]) -> None:
    # Timing games (on by default): reps short of a quarterly threshold pull deals of willing customers into the
    # quarter's last month; flat commission plays none, so its share is the demand's own.
    d = [_quarter_end_share(q) - _quarter_end_share(f)
         for q, f in zip(arms["quarterly_bonus"].bookings, arms["flat_commission"].bookings, strict=True)]
    assert _interval(d)[0] > 0.0
    assert all(x == 0.0 for x in arms["flat_commission"].pull_discount)
    assert np.mean(arms["quarterly_bonus"].pull_discount) > 0.0


def test_reps_ease_off_once_the_cap_is_within_reach_or_binds(arms: dict[str, Any]) -> None:
    ahead = [log[(log[:, 1] >= 6) & (log[:, 3] >= 1.4), 2].mean() - 1.0 for log in arms["capped"].hours]
    assert _interval(ahead)[1] < 0.0


# Quota plans of the field studies' kind: the whole variable pay as a lump sum at quota, once a year or in four
# quarterly parts, each paying 100 % of base at full attainment (about what 5 % commission pays at quota).
BONUS_ONLY = {"pay_plans.annual_bonus.commission_rate": 0.0,
              "pay_plans.annual_bonus.bonuses.0.steps.0.share_of_base": 1.0,
              "pay_plans.quarterly_bonus.commission_rate": 0.0,
              "pay_plans.quarterly_bonus.bonuses.0.steps.0.share_of_base": 0.25}


def _bonus_only_model(timing_games: bool = True) -> tuple[scenarios.Scenario, sim.Model]:
    """Baseline with `BONUS_ONLY` plans and quotas from the quota optimizer (the demo's quotas: attainment P10
    0.4, P90 1.45; the simulator's potential-share default leaves reps who are low for lack of skill, whom no
    plan lifts)."""
    s = scenarios.modify(scenarios.load("baseline"), {**BONUS_ONLY, "behaviour.timing_games": timing_games})
    today = scenarios.Plan.current(s)
    quotas = optimizer.set_quotas(s, today.assignment).quotas
    return s, sim.build(s, scenarios.Plan(assignment=today.assignment, quotas=quotas))


def _low_performer_lift(root: int, n: int, timing_games: bool) -> list[float]:
    """Per replication: mean attainment of the bottom third (by a flat-commission pilot) under quarterly minus
    annual lump sums (`_bonus_only_model`)."""
    s, model = _bonus_only_model(timing_games)
    pilot = _run(s, model, "flat_commission", 999, 6)
    pilot_att = np.mean([b.sum(axis=1) for b in pilot.bookings], axis=0) / model.quotas.sum(axis=1)
    low = pilot_att <= np.quantile(pilot_att, 1.0 / 3.0)
    annual, quarterly = (_run(s, model, p, root, n) for p in ("annual_bonus", "quarterly_bonus"))
    quota = model.quotas.sum(axis=1)
    return [float((q.sum(axis=1) / quota)[low].mean() - (a.sum(axis=1) / quota)[low].mean())
            for q, a in zip(quarterly.bookings, annual.bookings, strict=True)]


def _behind(model: sim.Model, seat: int, month: int, pace: float) -> RepState:
    """A seat's state just after the start of ``month`` having booked ``pace`` x its quota in every month so far."""
    done = [float(x) * pace for x in model.quotas[seat, :month]] + [0.0] * (model.quotas.shape[1] - month)
    return RepState(seat=seat, rep_id=f"seat{seat}", tier="mid", norm_hours=40.0,
                    now=float(model.month_start[month]) + 1.0, month=month, month_elapsed=0.03,
                    bookings_horizon=sum(done), bookings_by_month=done)


def test_quarterly_bonuses_keep_reps_far_behind_working_where_an_annual_bonus_gives_up() -> None:
    # The mechanism behind the lift below, for every rep: at the start of Q2, Q3 and Q4, a rep at half of the
    # quota pace so far (about the bottom third's attainment under the annual lump sum, 0.49-0.52) is out of
    # reach of the annual threshold and works near the floor, while the quarterly plan gives a fresh threshold
    # (Chung, Steenburgh & Sudhir 2014: bonuses as pacers). Measured: 0.06, 0.11 and 0.02 of norm hours more.
    _, model = _bonus_only_model()
    annual, quarterly = (IncentiveBehaviour.from_model(model, [p] * model.n_seats)
                         for p in ("annual_bonus", "quarterly_bonus"))
    lifts = []
    for month in (3, 6, 9):
        for seat in range(model.n_seats):
            a = annual.weekly_hours(_behind(model, seat, month, 0.5)) / 40.0
            q = quarterly.weekly_hours(_behind(model, seat, month, 0.5)) / 40.0
            assert q >= a - 1e-9, (month, seat, q, a)  # no rep works less for the fresh quarterly threshold
            lifts.append(q - a)
    assert float(np.mean(lifts)) > 0.02, np.mean(lifts)


@pytest.mark.slow
def test_quarterly_bonuses_lift_low_performers_compared_with_annual_only() -> None:
    # The outcome of that mechanism: the bottom third's attainment rises by 0.0088 [0.0075, 0.0102] (on about
    # 0.50) with a per-replication sd of 0.029 (roots 1-10 x 192 replications), too small for the default run:
    # 16 replications detect it with 22 % power, 192 with 99 % (the interval excluded 0 at all ten roots).
    # That is the effort channel, so it is measured with timing games off. With them on (the default), the
    # quarterly bonus's pushes of signatures into the next quarter offset it: the interval's lower bound was
    # -0.0022 at root 1 x 192 replications (fresh-clone CI, 2026-11-30), i.e. no lift detected.
    assert _interval(_low_performer_lift(ROOT, LIFT_REPLICATIONS, timing_games=False))[0] > 0.0


@pytest.mark.slow
def test_every_direction_holds_with_40_replications_on_other_customers() -> None:
    many = _arms(2, 40)
    test_removing_the_cap_raises_revenue(many)
    test_accelerators_raise_top_performers_sales(many)
    test_reps_far_below_quota_late_in_the_year_reduce_effort(many)
    test_effort_spikes_at_the_end_of_the_year_under_an_annual_lump_sum(many)
    test_reps_ease_off_once_the_cap_is_within_reach_or_binds(many)
    test_bookings_bunch_in_the_last_month_of_each_quarter_under_a_quarterly_bonus(many)
