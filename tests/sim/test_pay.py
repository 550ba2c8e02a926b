"""The pay engine against hand-worked statements, one test per component and per tricky combination.

Each test states the arithmetic in its comments; the expected numbers are typed in, never recomputed by the
engine's own helpers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import scenarios
from scenarios import PayPlanSettings
from sim.incentives import PayError, next_quota, pay_statement, pay_statements, target_variable_pay

Q = np.full(12, 10_000.0)  # quota 10k a month: 30k a quarter, 120k a year


def pay_plan(**kw: Any) -> PayPlanSettings:
    return PayPlanSettings.model_validate(kw)


def tiers(*pairs: tuple[float, float], **kw: Any) -> dict[str, Any]:
    return {"tiers": [{"threshold": t, "rate": r} for t, r in pairs], **kw}


def test_flat_commission_and_base() -> None:
    # 5 % of [10k, 0, 25k] = [500, 0, 1250]; base 60k/12 = 5k a month.
    st = pay_statement([10_000, 0, 25_000], [10_000] * 3, 60_000.0, pay_plan(commission_rate=0.05))
    assert st["commission"].tolist() == [500.0, 0.0, 1250.0]
    assert st["base"].tolist() == [5000.0] * 3
    assert st["total_pay"].tolist() == [5500.0, 5000.0, 6250.0]
    assert st["ytd_attainment"].tolist() == [1.0, 0.5, 35_000 / 30_000]


def test_base_multiplier_and_override() -> None:
    # 0.9 x 60k = 54k a year = 4.5k a month; override 48k = 4k a month.
    assert pay_statement([0.0], [1.0], 60_000.0, pay_plan(base_multiplier=0.9))["base"].iloc[0] == 4500.0
    assert pay_statement([0.0], [1.0], 60_000.0, pay_plan(base_override=48_000.0))["base"].iloc[0] == 4000.0


def test_accelerator_crossing_quota_mid_month() -> None:
    # Annual quota 120k; 4 % up to quota, 8 % above. Months 0-10 book 10k: 400 each (cum 110k).
    # Month 11 books 30k -> cum 140k: 10k inside tier 1 at 4 % = 400, 20k above quota at 8 % = 1600 -> 2000.
    b = np.r_[np.full(11, 10_000.0), 30_000.0]
    st = pay_statement(b, Q, 0.0, pay_plan(commission=tiers((0.0, 0.04), (1.0, 0.08))))
    assert st["commission"].iloc[:11].tolist() == pytest.approx([400.0] * 11)
    assert st["commission"].iloc[11] == pytest.approx(2000.0)
    assert st["commission"].sum() == pytest.approx(6400.0)


def test_decelerator_below_half_quota() -> None:
    # 2 % up to 50 % of the 120k quota (60k), 5 % above. Month 0 books 70k: 60k x 2 % + 10k x 5 % = 1200 + 500.
    st = pay_statement(np.r_[70_000.0, np.zeros(11)], Q, 0.0, pay_plan(commission=tiers((0.0, 0.02), (0.5, 0.05))))
    assert st["commission"].iloc[0] == pytest.approx(1700.0)
    assert st["commission"].iloc[1:].sum() == 0.0


def test_retroactive_tier_true_up() -> None:
    # Retroactive: 4 % below quota, 6 % on everything once quota is passed. Months 0-10: 10k -> 400 each
    # (cum 110k, paid 4400). Month 11: 20k -> cum 130k >= 120k -> owed 130k x 6 % = 7800; paid 7800 - 4400 = 3400.
    b = np.r_[np.full(11, 10_000.0), 20_000.0]
    st = pay_statement(b, Q, 0.0, pay_plan(commission=tiers((0.0, 0.04), (1.0, 0.06), retroactive=True)))
    assert st["commission"].iloc[11] == pytest.approx(3400.0)
    assert st["commission"].sum() == pytest.approx(7800.0)


def test_volume_tiers_reset_each_quarter() -> None:
    # Volume tiers per quarter: 5 % up to 50k booked, 10 % above. 30k a month:
    # m0 cum 30k -> 1500; m1 cum 60k: 20k x 5 % + 10k x 10 % = 2000; m2 cum 90k: 30k x 10 % = 3000;
    # m3 new quarter, cum 30k -> 1500.
    c = tiers((0.0, 0.05), (50_000.0, 0.10), basis="volume", period="quarter")
    st = pay_statement(np.full(4, 30_000.0), np.full(4, 1.0), 0.0, pay_plan(commission=c))
    assert st["commission"].tolist() == pytest.approx([1500.0, 2000.0, 3000.0, 1500.0])


def test_quarterly_bonus_missed_then_cumulative_quarterly_catch_up() -> None:
    # Quota 30k a quarter. Bookings per quarter: Q1 24k (80 %), Q2 36k (120 %), Q3 15k (50 %), Q4 75k (250 %).
    # Plain quarterly, 1000 at 100 %: Q1 0, Q2 1000, Q3 0, Q4 1000.
    # Cumulative-quarterly, 1000 per quarter at 100 % YTD:
    #   Q1 YTD 24/30 = 0.8 -> due 0;  Q2 YTD 60/60 = 1.0 -> due 2 x 1000 = 2000, paid 0 -> 2000 (catch-up);
    #   Q3 YTD 75/90 = 0.83 -> due 0, already paid 2000 -> 0 (no clawback);
    #   Q4 YTD 150/120 = 1.25 -> due 4000 - 2000 = 2000.
    b = np.repeat([8_000.0, 12_000.0, 5_000.0, 25_000.0], 3)
    step = [{"attainment": 1.0, "amount": 1000.0}]
    quarterly = pay_statement(b, Q, 0.0, pay_plan(bonuses=[{"period": "quarter", "steps": step}]))
    cumulative = pay_statement(b, Q, 0.0, pay_plan(bonuses=[{"period": "cumulative_quarter", "steps": step}]))
    assert quarterly["bonus"].iloc[[2, 5, 8, 11]].tolist() == [0.0, 1000.0, 0.0, 1000.0]
    assert cumulative["bonus"].iloc[[2, 5, 8, 11]].tolist() == [0.0, 2000.0, 0.0, 2000.0]
    assert quarterly["bonus"].sum() == 2000.0 and cumulative["bonus"].sum() == 4000.0


def test_annual_bonus_steps_share_of_base_and_monthly_bonus() -> None:
    # Base 60k. Steps: 100 % -> 15 % of base = 9000; 120 % -> 25 % = 15000. 11k a month = 132k = 110 % -> 9000,
    # paid in month 11 only. Monthly bonus of 100 at 100 %: every month (11k >= 10k) -> 12 x 100.
    steps = [{"attainment": 1.0, "share_of_base": 0.15}, {"attainment": 1.2, "share_of_base": 0.25}]
    p = pay_plan(bonuses=[{"name": "annual", "period": "year", "steps": steps},
                      {"name": "monthly", "period": "month", "steps": [{"attainment": 1.0, "amount": 100.0}]}])
    st = pay_statement(np.full(12, 11_000.0), Q, 60_000.0, p)
    assert st["bonus"].iloc[:11].tolist() == [100.0] * 11
    assert st["bonus"].iloc[11] == pytest.approx(9100.0)


def test_bonus_not_paid_for_a_period_cut_short_by_the_horizon() -> None:
    # 6-month horizon: the annual period never closes, so nothing is paid however high the bookings.
    p = pay_plan(bonuses=[{"period": "year", "steps": [{"attainment": 0.1, "amount": 5000.0}]}])
    assert pay_statement(np.full(6, 50_000.0), np.full(6, 10_000.0), 0.0, p)["bonus"].sum() == 0.0


def test_cap_binds_mid_month_and_resets_next_year() -> None:
    # 5 % on 20k a month = 1000 a month; cap 5500 a year. Cum 5000 after month 4; month 5 would reach 6000,
    # capped at 5500 -> adjustment (5500 - 5000) - 1000 = -500; months 6-11 -> -1000 each. Year 2 starts afresh.
    st = pay_statement(np.full(24, 20_000.0), np.full(24, 10_000.0), 0.0,
                       pay_plan(commission_rate=0.05, cap={"amount": 5500.0}))
    adj = st["cap_adjustment"].to_numpy()
    assert adj[:5].tolist() == [0.0] * 5 and adj[5] == pytest.approx(-500.0)
    assert adj[6:12].tolist() == pytest.approx([-1000.0] * 6)
    assert adj[17] == pytest.approx(-500.0)
    yearly = st.groupby("plan_year")["variable"].sum()
    assert yearly.tolist() == pytest.approx([5500.0, 5500.0])


def test_cap_as_multiple_of_target_variable_pay() -> None:
    # Target: 5 % of 120k = 6000; x1.5 -> cap 9000. 20k a month = 1000 a month: cum 9000 after month 8,
    # months 9-11 cut by 1000 each.
    p = pay_plan(commission_rate=0.05, cap={"target_multiple": 1.5})
    assert target_variable_pay(Q, 0.0, p).tolist() == pytest.approx([6000.0])
    st = pay_statement(np.full(12, 20_000.0), Q, 0.0, p)
    assert st["cap_adjustment"].tolist() == pytest.approx([0.0] * 9 + [-1000.0] * 3)


def test_accelerator_bonus_and_cap_combined() -> None:
    # Quota 120k; 5 % to quota, 10 % above; annual bonus 6000 at 100 %; cap 1.5 x target (6000 + 6000) = 18000.
    # 12k a month for months 0-10: months 0-9 pay 600 (cum 120k, 6000); month 10 cum 132k -> 12k x 10 % = 1200
    # (7200). Month 11 books 100k -> 10000 commission + 6000 bonus; uncapped YTD 23200 > 18000:
    # adjustment = (18000 - 7200) - 16000 = -5200.
    p = pay_plan(commission=tiers((0.0, 0.05), (1.0, 0.10)),
             bonuses=[{"period": "year", "steps": [{"attainment": 1.0, "amount": 6000.0}]}],
             cap={"target_multiple": 1.5})
    b = np.r_[np.full(11, 12_000.0), 100_000.0]
    st = pay_statement(b, Q, 0.0, p)
    assert st["commission"].iloc[10] == pytest.approx(1200.0)
    assert st["commission"].iloc[11] == pytest.approx(10_000.0)
    assert st["bonus"].iloc[11] == 6000.0
    assert st["cap_adjustment"].iloc[11] == pytest.approx(-5200.0)
    assert st["variable"].sum() == pytest.approx(18_000.0)


def test_recoverable_draw_recovered_after_window() -> None:
    # Draw 2000 a month for 3 months; 5 % commission on [10k, 20k, 0, 120k, 20k] = [500, 1000, 0, 6000, 1000].
    # m0 top-up 1500 (balance 1500); m1 1000 (2500); m2 2000 (4500); m3 outside window: recover min(4500, 6000)
    # -> -4500, variable 1500; m4 nothing owed -> 1000.
    p = pay_plan(commission_rate=0.05, draw={"monthly": 2000.0, "months": 3})
    st = pay_statement([10_000, 20_000, 0, 120_000, 20_000], [10_000] * 5, 0.0, p)
    assert st["draw"].tolist() == [1500.0, 1000.0, 2000.0, 0.0, 0.0]
    assert st["draw_recovery"].tolist() == [0.0, 0.0, 0.0, -4500.0, 0.0]
    assert st["draw_balance"].tolist() == [1500.0, 2500.0, 4500.0, 0.0, 0.0]
    assert st["variable"].tolist() == [2000.0, 2000.0, 2000.0, 1500.0, 1000.0]


def test_draw_recovery_inside_window_keeps_the_guarantee() -> None:
    # Draw 2000 every month: m0 earns 500 -> top-up 1500; m1 earns 6000 -> recover min(1500, 6000 - 2000) = 1500.
    p = pay_plan(commission_rate=0.05, draw={"monthly": 2000.0})
    st = pay_statement([10_000, 120_000], [1.0, 1.0], 0.0, p)
    assert st["variable"].tolist() == [2000.0, 4500.0]


def test_non_recoverable_draw_is_kept() -> None:
    p = pay_plan(commission_rate=0.05, draw={"monthly": 2000.0, "months": 3, "recoverable": False})
    st = pay_statement([10_000, 20_000, 0, 120_000], [10_000] * 4, 0.0, p)
    assert st["draw"].tolist() == [1500.0, 1000.0, 2000.0, 0.0]
    assert st["draw_recovery"].sum() == 0.0 and st["draw_balance"].sum() == 0.0


def test_allowances_recognition_and_training_are_cost_not_pay() -> None:
    # Car 500 + 0.30/km x 1000 km = 800 a month; training 100 a month; recognition trip 4000 at 100 % in month 11.
    p = pay_plan(allowances=[{"name": "car", "monthly": 500.0, "per_km": 0.3}],
             recognition={"attainment": 1.0, "cost": 4000.0}, training={"cost_per_month": 100.0})
    st = pay_statement(np.full(12, 10_000.0), Q, 0.0, p, travel_km=np.full(12, 1000.0))
    assert st["allowance"].tolist() == pytest.approx([800.0] * 12)
    assert st["non_cash_cost"].tolist() == pytest.approx([100.0] * 11 + [4100.0])
    assert st["recognised"].tolist() == [False] * 11 + [True]
    assert st["total_pay"].sum() == 0.0
    assert st["total_cost"].sum() == pytest.approx(12 * 900 + 4000)


def _reps(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rep_id", "pay_plan_id", "region", "base_salary"]).set_index("rep_id")


def _timeline(bookings: dict[str, list[float]], quota: float) -> pd.DataFrame:
    return pd.DataFrame([(r, m, v, quota) for r, vs in bookings.items() for m, v in enumerate(vs)],
                        columns=["rep_id", "month", "bookings", "quota"])


def test_region_team_bonus_counts_all_members_pays_plan_members() -> None:
    # North: R1 (team plan) 12k x 3 = 36k, R2 (team plan) 9k x 3 = 27k, R4 (flat plan) 10k x 3 = 30k
    # -> 93k / 90k = 103 % >= 100 % -> R1, R2 get 500 in month 2; R4 is not on the plan, gets nothing.
    # South: R3 15k / 30k = 50 % -> nothing.
    pay_plans = {"team": pay_plan(team_bonus={"scope": "region", "period": "quarter",
                                      "steps": [{"attainment": 1.0, "amount": 500.0}]}),
             "flat": pay_plan(commission_rate=0.0)}
    reps = _reps([("R1", "team", "North", 0.0), ("R2", "team", "North", 0.0), ("R3", "team", "South", 0.0),
                  ("R4", "flat", "North", 0.0)])
    tl = _timeline({"R1": [12_000] * 3, "R2": [9_000] * 3, "R3": [5_000] * 3, "R4": [10_000] * 3}, 10_000.0)
    st = pay_statements(tl, reps, pay_plans).set_index(["rep_id", "month"])
    assert st["team_bonus"].groupby("rep_id").sum().to_dict() == {"R1": 500.0, "R2": 500.0, "R3": 0.0, "R4": 0.0}
    assert st.loc[("R1", 2), "team_bonus"] == 500.0


def test_contest_prizes_ties_share_and_eligibility() -> None:
    # Quarter bookings R1 50k, R2 40k, R3 40k, R4 10k; prizes [3000, 1000]. R1 first -> 3000; R2, R3 tie for
    # places 2-3 -> mean(1000, 0) = 500 each. With min attainment 1.5 (quota 30k -> need 45k) only R1 is eligible.
    reps = _reps([(r, "c", "North", 0.0) for r in ("R1", "R2", "R3", "R4")])
    tl = _timeline({"R1": [50_000, 0, 0], "R2": [0, 40_000, 0], "R3": [20_000, 20_000, 0], "R4": [0, 0, 10_000]},
                   10_000.0)
    contest = {"period": "quarter", "metric": "bookings", "prizes": [3000.0, 1000.0]}
    won = pay_statements(tl, reps, {"c": pay_plan(contests=[contest])}).groupby("rep_id")["contest"].sum()
    assert won.to_dict() == {"R1": 3000.0, "R2": 500.0, "R3": 500.0, "R4": 0.0}
    gated = pay_statements(tl, reps, {"c": pay_plan(contests=[{**contest, "min_attainment": 1.5}])})
    assert gated.groupby("rep_id")["contest"].sum().to_dict() == {"R1": 3000.0, "R2": 0.0, "R3": 0.0, "R4": 0.0}


def test_contest_by_region_ranks_each_region() -> None:
    # Regions ranked separately on attainment: North R1 (60 %) beats R2 (50 %); South R3 alone wins its region.
    reps = _reps([("R1", "c", "North", 0.0), ("R2", "c", "North", 0.0), ("R3", "c", "South", 0.0)])
    tl = _timeline({"R1": [6_000], "R2": [5_000], "R3": [1_000]}, 10_000.0)
    c = {"period": "month", "metric": "attainment", "prizes": [200.0], "scope": "region"}
    won = pay_statements(tl, reps, {"c": pay_plan(contests=[c])}).groupby("rep_id")["contest"].sum()
    assert won.to_dict() == {"R1": 200.0, "R2": 0.0, "R3": 200.0}


def test_ratchet_is_asymmetric_and_bounded() -> None:
    # up 0.5, down 0.1: 120 % -> +10 %; 80 % -> -2 %; 300 % -> +100 % clipped to ceiling 1.5.
    r = scenarios.RatchetSettings(up=0.5, down=0.1)
    assert next_quota(100.0, 1.2, r) == pytest.approx(110.0)
    assert next_quota(100.0, 0.8, r) == pytest.approx(98.0)
    assert next_quota(100.0, 3.0, r) == pytest.approx(150.0)
    assert next_quota(100.0, 3.0, None) == 100.0


def test_pay_statements_on_tiny_and_errors(tiny: scenarios.Scenario) -> None:
    tl = _timeline({r: [20_000.0] * 12 for r in tiny.reps.index}, 25_000.0)
    st = pay_statements(tl, tiny.reps, tiny.settings.pay_plans)
    base = tiny.reps["base_salary"]
    annual = st.groupby("rep_id")["total_pay"].sum()
    # flat 5 %: 240k x 5 % = 12k on top of each base.
    assert (annual - base).round(6).tolist() == [12_000.0] * len(base)
    with pytest.raises(PayError, match="lack one row per month"):
        pay_statements(tl.iloc[1:], tiny.reps, tiny.settings.pay_plans)
    with pytest.raises(PayError, match="unknown pay plan"):
        pay_statements(tl, tiny.reps.assign(pay_plan_id="nope"), tiny.settings.pay_plans)
    with pytest.raises(PayError, match="lacks column"):
        pay_statements(tl.drop(columns="quota"), tiny.reps, tiny.settings.pay_plans)
    with pytest.raises(PayError, match="has 2 months"):
        pay_statement([1.0, 2.0, 3.0], [1.0, 2.0], 0.0, pay_plan())
    with pytest.raises(PayError, match="NaN"):
        pay_statement([1.0, np.nan], [1.0, 2.0], 0.0, pay_plan())


def test_monthly_quotas_from_a_plan_frame() -> None:
    from sim.incentives import monthly_quotas

    q = pd.DataFrame({"rep_id": ["R1", "R1", "R2"], "period": ["2027-01", "2027-02", "2027-02"],
                      "product": ["a", "a", "b"], "quota": [3.0, 4.0, 5.0]})
    m = monthly_quotas(q, ["2027-01", "2027-02", "2027-03"], ["R1", "R2"])
    assert m.to_numpy().tolist() == [[3.0, 4.0, 0.0], [0.0, 5.0, 0.0]]
    with pytest.raises(PayError, match="outside the horizon"):
        monthly_quotas(q, ["2027-02", "2027-03"], ["R1"])
    with pytest.raises(PayError, match="no quota rows for rep"):
        monthly_quotas(q, ["2027-01", "2027-02"], ["R1", "R3"])


def test_pay_summary_per_rep_and_year() -> None:
    from sim.incentives import pay_summary

    # R1 (capped plan, 5 %, cap 5000): 12 x 20k = 240k -> 12000 commission, cut to 5000, cap bound.
    # R2 (flat 5 %): 12 x 5k = 60k -> 3000; attainment 60k / 120k = 0.5; pay per booking 0.05.
    reps = _reps([("R1", "cap", "North", 60_000.0), ("R2", "flat", "North", 48_000.0)])
    tl = _timeline({"R1": [20_000.0] * 12, "R2": [5_000.0] * 12}, 10_000.0)
    pay_plans = {"cap": pay_plan(commission_rate=0.05, cap={"amount": 5000.0}), "flat": pay_plan(commission_rate=0.05)}
    summary = pay_summary(pay_statements(tl, reps, pay_plans))
    r1, r2 = summary.loc[("R1", 0)], summary.loc[("R2", 0)]
    assert (r1["variable"], r1["total_pay"], bool(r1["cap_bound"])) == (5000.0, 65_000.0, True)
    assert (r2["attainment"], r2["variable"], bool(r2["cap_bound"])) == (0.5, 3000.0, False)
    assert r2["pay_per_booking"] == pytest.approx(0.05)


def test_target_based_cap_without_a_target_is_an_error() -> None:
    p = pay_plan(commission_rate=0.05, cap={"target_multiple": 2.0})
    with pytest.raises(PayError, match="needs a target"):
        pay_statement([10_000.0] * 12, [0.0] * 12, 0.0, p)
    assert pay_statement([0.0] * 12, [0.0] * 12, 0.0, p)["variable"].sum() == 0.0
