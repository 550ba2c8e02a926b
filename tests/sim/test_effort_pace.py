"""Effort paces stages without hours (``[behaviour] closing_speed_elasticity``): the customer side of a stage that
records no rep hours runs at ``(hours / norm) ** elasticity``, re-set weekly; 0 leaves every run as it was, and a
stage with hours is never paced."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from simcases import neutral

import scenarios
import sim
from sim.deals import WON
from sim.incentives import IncentiveBehaviour
from sim.policy import NormBehaviour, RepState

DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class Hours(NormBehaviour):
    """The norm's deal order; hours at ``shares`` of the norm, one share per week in turn from ``start``."""

    shares: tuple[float, ...] = (1.25,)
    start: float = 0.0

    def weekly_hours(self, rep: RepState) -> float:
        week = round((rep.now - self.start) / DAYS_PER_WEEK)
        return rep.norm_hours * self.shares[week % len(self.shares)]


def _steady(s: scenarios.Scenario, elasticity: float, hourless: range | None = None) -> scenarios.Scenario:
    """``s`` with no rep hours at the ``hourless`` stages (default all, as a calibrated scenario), and nothing else
    that a faster close could feed back into: no attrition, promotion, churn, ramp-up, training or service (see
    ``simcases.neutral``), so that two runs differ only by the pace."""
    s = neutral(s, stall_days=1e6)
    stages = range(len(s.stage_ids)) if hourless is None else hourless
    return scenarios.modify(s, {**{f"funnel.stages.{i}.effort_hours": 0.0 for i in stages},
                                **{f"tiers.{k}.promotion": None for k in s.settings.tiers},
                                "simulation.max_service_share": 0.0,
                                "behaviour.closing_speed_elasticity": elasticity})


def _run(s: scenarios.Scenario, behaviour: sim.Behaviour) -> tuple[sim.Model, sim.Leads, sim.RunRecord]:
    model = sim.build(s)
    leads, rec = sim.run_replication(model, np.random.SeedSequence(5), behaviour)
    return model, leads, rec


def _same_deals(a: sim.RunRecord, b: sim.RunRecord) -> None:
    for name in ("status", "lost_reason", "closed", "closer", "stage_reached", "bookings"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_at_zero_the_hours_do_not_reach_a_stage_without_hours(baseline: scenarios.Scenario) -> None:
    s = _steady(baseline, 0.0)
    _, _, norm = _run(s, NormBehaviour())
    _, _, more = _run(s, Hours(shares=(1.25,)))
    _same_deals(norm, more)
    assert (norm.status == WON).sum() > 100


def _arrived(leads: sim.Leads, a: sim.RunRecord, b: sim.RunRecord) -> np.ndarray:
    """Leads that arrived during the run (not the open pipeline) and were won in both runs."""
    arrived = np.arange(len(leads)) < len(leads) - leads.n_open
    return arrived & (a.status == WON) & (b.status == WON)


def test_more_hours_shorten_the_customer_side_by_the_elasticity(baseline: scenarios.Scenario) -> None:
    """With constant effort the pace is a plain scale: every won deal's time from arrival to close (no queue: the
    stages take no rep hours) is the unpaced time over ``1.25 ** elasticity``."""
    start = float(sim.build(baseline).demand_start[0])
    leads, slow = _run(_steady(baseline, 0.0), Hours(shares=(1.25,), start=start))[1:]
    fast = _run(_steady(baseline, 2.0), Hours(shares=(1.25,), start=start))[2]
    # a faster customer side only adds wins (deals that were still open at the horizon)
    assert not ((slow.status == WON) & (fast.status != WON)).any()
    won = _arrived(leads, slow, fast)
    assert won.sum() > 100
    t0 = leads.time[won]
    np.testing.assert_allclose(fast.closed[won] - t0, (slow.closed[won] - t0) / 1.25**2, rtol=1e-9)
    # fewer hours slow it down by the same rule
    lazy = _run(_steady(baseline, 2.0), Hours(shares=(0.8,), start=start))[2]
    won = _arrived(leads, slow, lazy)
    t0 = leads.time[won]
    np.testing.assert_allclose(lazy.closed[won] - t0, (slow.closed[won] - t0) / 0.8**2, rtol=1e-9)


def test_the_pace_follows_each_weeks_effort(baseline: scenarios.Scenario) -> None:
    """Cross-check against an independent integration: with every rep's effort alternating 1.25 / 0.8 week by
    week, a deal (whose stages take no rep hours, so it never queues) is won when the integral of the pace from its
    arrival equals its unpaced days from arrival to close."""
    start = float(sim.build(baseline).demand_start[0])
    e = 1.5
    leads, flat = _run(_steady(baseline, 0.0), Hours(shares=(1.25, 0.8), start=start))[1:]
    paced = _run(_steady(baseline, e), Hours(shares=(1.25, 0.8), start=start))[2]
    won = _arrived(leads, flat, paced)
    assert won.sum() > 100

    def integral(t0: float, t1: float) -> float:
        """The pace integrated from t0 to t1 (weeks from the clock's start alternate 1.25 and 0.8)."""
        total, t = 0.0, t0
        while t < t1:
            week = int(np.floor((t - start) / DAYS_PER_WEEK + 1e-9))
            end = min(start + (week + 1) * DAYS_PER_WEEK, t1)
            total += (end - t) * (1.25 if week % 2 == 0 else 0.8) ** e
            t = end
        return total

    arrived, days = leads.time[won], flat.closed[won] - leads.time[won]
    done = [integral(a, c) for a, c in zip(arrived, paced.closed[won], strict=True)]
    np.testing.assert_allclose(done, days, rtol=1e-7, atol=1e-7)
    assert not np.allclose(paced.closed[won], flat.closed[won])


def test_stages_with_hours_are_not_paced(tiny: scenarios.Scenario) -> None:
    """Every tiny stage records hours: the elasticity changes nothing, bit for bit, under a pay plan's response."""
    def record(elasticity: float) -> sim.RunRecord:
        s = scenarios.modify(tiny, {"behaviour.closing_speed_elasticity": elasticity})
        model = sim.build(s)
        b = IncentiveBehaviour.from_model(model, ["annual_bonus"] * model.n_seats)
        pay = sim.PayPlanPay.from_model(model, ["annual_bonus"] * model.n_seats)
        return sim.run_replication(model, np.random.SeedSequence(5), b, pay)[1]

    a, b = record(0.0), record(3.0)
    for name in ("status", "closed", "closer", "bookings", "pay", "selling_hours", "pulled", "pushed"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_only_the_stages_without_hours_are_paced(baseline: scenarios.Scenario) -> None:
    """One stage without hours among stages with hours: faster effort shortens that stage only, so a deal lost at
    an earlier stage with hours closes at exactly the same time."""
    last = len(baseline.stage_ids) - 1
    _, _, a = _run(_steady(baseline, 0.0, range(last, last + 1)), Hours(shares=(1.25,)))
    _, _, b = _run(_steady(baseline, 2.0, range(last, last + 1)), Hours(shares=(1.25,)))
    early = (a.status != WON) & (a.stage_reached < last) & (a.closed >= 0.0)
    assert early.sum() > 10
    np.testing.assert_array_equal(a.closed[early], b.closed[early])
    won = (a.status == WON) & (b.status == WON)
    assert (b.closed[won] <= a.closed[won] + 1e-9).mean() > 0.9


def test_the_elasticity_is_bounded() -> None:
    with pytest.raises(scenarios.ScenarioError):
        scenarios.modify(scenarios.load("tiny"), {"behaviour.closing_speed_elasticity": -1.0})
