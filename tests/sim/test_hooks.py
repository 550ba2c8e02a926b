"""The engine's optional hooks are declared protocols, checked explicitly: a quota ratchet on the pay function
(``QuotaRatchet``), timing games on the behaviour (``TimingGames``); and a built model runs as its scenario does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import scenarios
import sim
from sim.pay_function import QuotaRatchet, commission_pay, pay_name, quota_ratchet
from sim.policy import DealView, NormBehaviour, RepState, Timing, TimingGames, timing_hook


@dataclass(frozen=True)
class Pushy(NormBehaviour):
    """Plays timing games while ``on``: pushes every signature."""

    on: bool = True

    @property
    def timing_games(self) -> bool:
        return self.on

    def timing(self, rep: RepState, deal: DealView, close_month: int, weeks_after_month_end: float,
               push_risk: float) -> Timing:
        return "push"


@dataclass(frozen=True)
class HalfDone(NormBehaviour):
    """Says it plays timing games but has no ``timing``."""

    timing_games: bool = True


class Doubling:
    """Commission pay with a ratchet that doubles every seat's next-year quota."""

    def __call__(self, bookings: np.ndarray, quotas: np.ndarray, active_share: np.ndarray,
                 base_salary: np.ndarray, commission_rate: np.ndarray) -> np.ndarray:
        return commission_pay(bookings, quotas, active_share, base_salary, commission_rate)

    def ratchet(self, seat: int, quota: float, attainment: float) -> float | None:
        return 2.0 * quota


def test_timing_hook_follows_the_declared_capability() -> None:
    assert not isinstance(NormBehaviour(), TimingGames)
    assert timing_hook(NormBehaviour()) is None
    assert isinstance(Pushy(), TimingGames)
    hook = timing_hook(Pushy())
    assert hook is not None
    assert hook(RepState(seat=0, rep_id="R", tier="mid", norm_hours=40.0), object(), 0, 0.0, 0.0) == "push"  # type: ignore[arg-type]
    assert timing_hook(Pushy(on=False)) is None  # the capability is there, switched off for this run
    with pytest.raises(TypeError, match="timing_games but no timing"):
        timing_hook(HalfDone())


def test_quota_ratchet_is_found_only_where_declared(tiny: scenarios.Scenario) -> None:
    assert quota_ratchet(commission_pay) is None
    assert isinstance(Doubling(), QuotaRatchet)
    ratchet = quota_ratchet(Doubling())
    assert ratchet is not None and ratchet(0, 10.0, 1.0) == 20.0
    pay_plan_pay = sim.PayPlanPay.from_scenario(tiny, "flat_commission")
    assert isinstance(pay_plan_pay, QuotaRatchet)  # asked every plan year; it answers None without a ratchet
    assert pay_plan_pay.ratchet(0, 10.0, 1.0) is None


def test_a_declared_ratchet_rewrites_year_two(tiny: scenarios.Scenario) -> None:
    model = sim.build(scenarios.modify(tiny, {"calendar.months": 24}))
    _, flat = sim.run_replication(model, np.random.SeedSequence(4), None, commission_pay)
    _, doubled = sim.run_replication(model, np.random.SeedSequence(4), None, Doubling())
    np.testing.assert_array_equal(flat.quotas, model.quotas)
    filled = (doubled.leavers == 0) & (doubled.hires == 0)
    assert filled.any()
    np.testing.assert_allclose(doubled.quotas[filled, 12:].sum(axis=1), 2.0 * model.quotas[filled, :12].sum(axis=1))


def test_pay_name_names_functions_and_describes_objects(tiny: scenarios.Scenario) -> None:
    assert pay_name(commission_pay) == "commission_pay"
    pay = sim.PayPlanPay.from_scenario(tiny, "flat_commission")
    assert pay_name(pay) == repr(pay)


def test_simulate_accepts_a_built_model(tiny: scenarios.Scenario) -> None:
    model = sim.build(tiny)
    from_model = sim.simulate(model, replications=2, seed=3)
    from_scenario = sim.simulate(tiny, replications=2, seed=3)
    for name, frame in from_scenario.tables().items():
        assert frame.equals(from_model.tables()[name]), name
    assert from_model.info == from_scenario.info
    with pytest.raises(ValueError, match="built model and a plan"):
        sim.simulate(model, scenarios.Plan.current(tiny), replications=2, seed=3)
