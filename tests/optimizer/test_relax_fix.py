"""Relax-and-fix from a restricted LP whose pricing was stopped early (what a deadline does to a large region): the
rounding must still find a plan that passes the independent check, and its value may not exceed the proven bound.

Before a reopened account was also offered today's pair (staying uses none of the disruption budget), every
attempt from the LP of 12,500 x 60 stopped after two pricing rounds was infeasible (HiGHS and CBC agreed), and the
region ended without a plan."""

from __future__ import annotations

import time

import numpy as np
import pytest

import scenarios
from optimizer import Status, prepare, validate
from optimizer.pricing import restricted_lp
from optimizer.relax_fix import relax_and_fix
from optimizer.solve import chosen_pairs


def _round_from_cut_lp(reps: int, accounts: int, rounds: int) -> None:
    inputs = prepare(scenarios.generate(reps=reps, accounts=accounts, seed=1, regions=1))
    lp, index, bound = restricted_lp(inputs, time.perf_counter() + 120, rounds=rounds)
    assert lp.claim is Status.OPTIMAL and np.isfinite(bound)
    found = relax_and_fix(inputs, lp, index, bound, time.perf_counter() + 60, "highs")
    assert found is not None, "no plan from the cut LP"
    out, idx = found
    check = validate(inputs, chosen_pairs(inputs, idx, out.x))
    assert check.violations == ()
    assert check.objective == pytest.approx(out.objective, rel=1e-9)
    assert check.objective <= bound * (1 + 1e-9)


def test_a_plan_from_an_lp_priced_once() -> None:
    _round_from_cut_lp(20, 2000, rounds=1)


@pytest.mark.slow
def test_a_plan_from_the_lp_that_used_to_round_to_nothing() -> None:
    _round_from_cut_lp(60, 12500, rounds=2)
