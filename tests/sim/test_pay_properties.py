"""Invariants of the pay engine over random plans and bookings (Hypothesis), and a brute-force cross-check."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios import PayPlanSettings
from sim.incentives import cumulative_commission, pay_statement

bookings_s = st.lists(st.floats(0.0, 200_000.0, allow_nan=False), min_size=1, max_size=24)
rates_s = st.lists(st.floats(0.0, 0.2), min_size=1, max_size=4)


@st.composite
def pay_plans(draw: st.DrawFn) -> PayPlanSettings:
    rates = draw(rates_s)
    gaps = draw(st.lists(st.floats(0.05, 1.0), min_size=len(rates) - 1, max_size=len(rates) - 1))
    thresholds = np.r_[0.0, np.cumsum(gaps)].tolist()
    data: dict[str, object] = {
        "commission": {"retroactive": draw(st.booleans()),
                       "period": draw(st.sampled_from(["month", "quarter", "year"])),
                       "tiers": [{"threshold": t, "rate": r} for t, r in zip(thresholds, rates, strict=True)]},
        "bonuses": [{"period": draw(st.sampled_from(["month", "quarter", "year", "cumulative_quarter"])),
                     "steps": [{"attainment": 1.0, "amount": draw(st.floats(0.0, 5000.0))}]}],
    }
    if draw(st.booleans()):
        data["cap"] = {"amount": draw(st.floats(0.0, 50_000.0))}
    if draw(st.booleans()):
        data["draw"] = {"monthly": draw(st.floats(0.0, 3000.0)), "recoverable": draw(st.booleans())}
    return PayPlanSettings.model_validate(data)


@settings(max_examples=60, deadline=None)
@given(pay_plans(), bookings_s, st.floats(1.0, 50_000.0))
def test_statement_identities(pay_plan: PayPlanSettings, bookings: list[float], quota: float) -> None:
    s = pay_statement(bookings, [quota] * len(bookings), 60_000.0, pay_plan)
    parts = s[["commission", "bonus", "cap_adjustment", "draw", "draw_recovery", "team_bonus", "contest"]]
    assert np.allclose(s["variable"], parts.sum(axis=1))
    assert np.allclose(s["total_pay"], s["base"] + s["variable"])
    # The cap only ever takes away in total (a retroactive clawback below the cap can give some back).
    assert (s["cap_adjustment"].groupby(s["plan_year"]).cumsum() <= 1e-9).all()
    assert (s["draw"] >= 0).all() and (s["draw_recovery"] <= 0).all() and (s["draw_balance"] >= -1e-9).all()
    if pay_plan.cap is not None:
        capped = (s["commission"] + s["bonus"] + s["cap_adjustment"]).groupby(s["plan_year"]).cumsum()
        assert (capped <= pay_plan.cap.amount + 1e-6).all()  # type: ignore[operator]
    if pay_plan.draw is not None:
        earned = s["commission"] + s["bonus"] + s["cap_adjustment"] + s["draw"] + s["draw_recovery"]
        assert (earned >= pay_plan.draw.monthly - 1e-6).all()  # the guarantee holds in every draw month


@settings(max_examples=60, deadline=None)
@given(rates_s, st.lists(st.floats(0.0, 50_000.0), min_size=1, max_size=12))
def test_monthly_commission_adds_up_to_the_commission_on_the_total(rates: list[float], bookings: list[float]) -> None:
    thresholds = [0.0, *np.cumsum([30_000.0] * (len(rates) - 1)).tolist()]
    pay_plan = PayPlanSettings.model_validate({"commission": {
        "basis": "volume", "tiers": [{"threshold": t, "rate": r} for t, r in zip(thresholds, rates, strict=True)]}})
    s = pay_statement(bookings, [1.0] * len(bookings), 0.0, pay_plan)
    # Cross-check against an independent brute force: pay each euro-block at the rate of the tier it falls in.
    total, paid = float(sum(bookings)), 0.0
    step = max(total / 2_000.0, 1e-9)
    for x in np.arange(0.0, total, step):
        k = int(np.searchsorted(thresholds, x + step / 2, side="right") - 1)
        paid += rates[k] * min(step, total - x)
    assert np.isclose(s["commission"].sum(), paid, rtol=0.0, atol=1.0 + step * 0.2 * len(rates))
    assert np.isclose(s["commission"].sum(), float(cumulative_commission(total, np.array(thresholds),
                                                                         np.array(rates), False)))


@settings(max_examples=50, deadline=None)
@given(pay_plans(), bookings_s, st.integers(0, 23), st.floats(1.0, 50_000.0))
def test_more_bookings_never_pay_less_without_cap_or_draw(pay_plan: PayPlanSettings, bookings: list[float], month: int,
                                                          extra: float) -> None:
    pay_plan = pay_plan.model_copy(update={"cap": None, "draw": None})
    rates = [t.rate for t in pay_plan.commission_tiers()]
    if pay_plan.commission is not None and pay_plan.commission.retroactive and rates != sorted(rates):
        return  # a retroactive plan with falling rates can pay less for more, by design
    more = list(bookings)
    more[month % len(more)] += extra
    q = [10_000.0] * len(bookings)
    assert pay_statement(more, q, 0.0, pay_plan)["variable"].sum() >= pay_statement(bookings, q, 0.0, pay_plan)[
        "variable"].sum() - 1e-6


@st.composite
def whole_force(draw: st.DrawFn) -> tuple[list[PayPlanSettings], list[str], list[str], np.ndarray, np.ndarray]:
    """A small sales force: 2-3 plans with team bonuses and contests of random period and scope, 2 regions."""
    periods = st.sampled_from(["month", "quarter", "year"])
    specs = []
    for _ in range(draw(st.integers(2, 3))):
        spec: dict[str, object] = {"commission_rate": draw(st.floats(0.0, 0.1))}
        if draw(st.booleans()):
            low = draw(st.floats(0.5, 1.0))
            spec["team_bonus"] = {"scope": draw(st.sampled_from(["region", "company"])), "period": draw(periods),
                                  "steps": [{"attainment": low, "amount": 500.0},
                                            {"attainment": low + 0.3, "amount": 900.0, "share_of_base": 0.01}]}
        if draw(st.booleans()):
            spec["contests"] = [{"name": "c", "period": draw(periods),
                                 "metric": draw(st.sampled_from(["bookings", "attainment"])),
                                 "scope": draw(st.sampled_from(["region", "company"])),
                                 "min_attainment": draw(st.sampled_from([0.0, 0.5])),
                                 "prizes": [1_000.0, 400.0, 100.0][:draw(st.integers(1, 3))]}]
        specs.append(PayPlanSettings.model_validate(spec))
    n = draw(st.integers(2, 7))
    months = draw(st.integers(1, 14))
    which = [draw(st.integers(0, len(specs) - 1)) for _ in range(n)]
    regions = [draw(st.sampled_from(["N", "S"])) for _ in range(n)]
    # whole thousands so that contest ties happen
    bookings = np.array(draw(st.lists(st.integers(0, 6), min_size=n * months, max_size=n * months)),
                        dtype=float).reshape(n, months) * 1_000.0
    quotas = np.array(draw(st.lists(st.sampled_from([0.0, 2_000.0, 3_000.0]), min_size=n * months,
                                    max_size=n * months))).reshape(n, months)
    return [specs[k] for k in which], [f"p{k}" for k in which], regions, bookings, quotas


@settings(max_examples=60, deadline=None)
@given(whole_force())
def test_whole_force_amounts_match_team_bonuses_and_contest_awards(
        force: tuple[list[PayPlanSettings], list[str], list[str], np.ndarray, np.ndarray]) -> None:
    import pandas as pd

    from sim.incentives import contest_awards, team_bonuses, whole_force_amounts

    pay_plans, ids, regions, bookings, quotas = force
    n, months = bookings.shape
    salary = np.linspace(40_000.0, 70_000.0, n)
    got = whole_force_amounts(bookings, quotas, salary, pay_plans, ids, regions)
    seats = [f"s{r}" for r in range(n)]
    timeline = pd.DataFrame({"rep_id": np.repeat(seats, months), "month": np.tile(np.arange(months), n),
                             "bookings": bookings.ravel(), "quota": quotas.ravel()})
    reps = pd.DataFrame({"pay_plan_id": ids, "base_salary": salary, "region": regions}, index=seats)
    by_id = dict(zip(ids, pay_plans, strict=True))
    want = (team_bonuses(timeline, reps, by_id) + contest_awards(timeline, reps, by_id)).to_numpy().reshape(n, months)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
