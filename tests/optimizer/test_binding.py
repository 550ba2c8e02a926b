"""Binding constraint families of an allocation: the shadow price of the moved-potential budget matches the LP
relaxation's objective gain when the budget is loosened (a finite-difference cross-check), and a budget that is
not set is never reported."""

from __future__ import annotations

import pytest

import scenarios
from optimizer import allocate, build, prepare, solve


def _lp_objective(s: scenarios.Scenario) -> float:
    return float(solve(build(prepare(s), relax=True), "highs", 30.0).objective)


def test_moved_potential_shadow_price_matches_the_lps_gain_from_a_looser_budget() -> None:
    s = scenarios.load("tiny")
    result = allocate(s)
    binding = {b["family"]: b for b in result.binding}
    budget = binding["moved_potential"]
    assert budget["limit"] == pytest.approx(0.15 * float(s.accounts.loc[s.accounts["current_rep_id"].notna(),
                                                                       "annual_potential"].sum()))
    assert 0.0 <= budget["used"] <= budget["limit"] + 1e-6
    step = 0.0005  # of the share: a few hundred units of potential, inside the dual's range
    looser = scenarios.modify(s, {"optimizer.max_moved_share": 0.15 + step})
    gain = _lp_objective(looser) - _lp_objective(s)
    units = budget["limit"] * step / 0.15
    assert gain / units == pytest.approx(budget["shadow_price"], rel=0.02)
    assert result.summary()["binding"] == [dict(b) for b in result.binding]


def test_a_budget_that_is_not_set_is_never_binding() -> None:
    s = scenarios.modify(scenarios.load("tiny"), {"optimizer.max_moved_share": None})
    families = {b["family"] for b in allocate(s).binding}
    assert not families & {"moved_potential", "moved_accounts"}
