"""Plan settings: every component loads from TOML-shaped data, bad plans fail with a message naming the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

import scenarios
from scenarios import BehaviourSettings, PayPlanSettings


def test_flat_shorthand_is_one_annual_tier() -> None:
    p = PayPlanSettings(commission_rate=0.06)
    c = p.commission_settings()
    assert [(t.threshold, t.rate) for t in c.tiers] == [(0.0, 0.06)] and c.period == "year"


def test_every_component_loads() -> None:
    p = PayPlanSettings.model_validate({
        "description": "kitchen sink",
        "commission": {"basis": "attainment", "period": "year", "retroactive": False,
                       "tiers": [{"threshold": 0.0, "rate": 0.02}, {"threshold": 0.5, "rate": 0.05},
                                 {"threshold": 1.0, "rate": 0.09}]},
        "base_multiplier": 0.9,
        "bonuses": [{"name": "q", "period": "cumulative_quarter", "steps": [{"attainment": 1.0, "amount": 1000.0}]}],
        "cap": {"amount": 80000.0},
        "draw": {"monthly": 1500.0, "recoverable": True, "months": 6},
        "team_bonus": {"scope": "company", "period": "year", "steps": [{"attainment": 1.0, "share_of_base": 0.02}]},
        "allowances": [{"name": "car", "monthly": 450.0, "per_km": 0.25}],
        "contests": [{"name": "champion", "period": "quarter", "metric": "attainment", "prizes": [5000.0, 2000.0]}],
        "ratchet": {"up": 0.5, "down": 0.1},
        "recognition": {"attainment": 1.2, "cost": 6000.0, "perceived_value": 3000.0},
        "training": {"hours_per_month": 4.0, "skill_growth_per_year": 0.05, "cost_per_month": 150.0},
        "promotion": {"min_attainment": 1.1, "perceived_value": 10000.0},
    })
    assert p.cap is not None and p.cap.amount == 80000.0
    assert p.commission_tiers()[-1].rate == 0.09


@pytest.mark.parametrize(("data", "message"), [
    ({"commission": {"tiers": [{"threshold": 0.0, "rate": 0.05}, {"threshold": 0.0, "rate": 0.08}]}},
     "strictly increasing"),
    ({"commission": {"tiers": [{"threshold": 0.2, "rate": 0.05}]}}, "must start at threshold 0"),
    ({"commission_rate": 0.05, "commission": {}}, "not both"),
    ({"bonuses": [{"steps": [{"attainment": 1.2}, {"attainment": 1.0}]}]}, "strictly increasing attainment"),
    ({"bonuses": [{"steps": [{"attainment": 1.0, "amount": 5.0}, {"attainment": 1.2, "amount": 1.0}]}]},
     "pays less"),
    ({"bonuses": [{"name": "a"}, {"name": "a"}]}, "unique"),
    ({"cap": {}}, "exactly one"),
    ({"cap": {"amount": 1.0, "target_multiple": 2.0}}, "exactly one"),
    ({"contests": [{"prizes": [100.0, 500.0]}]}, "must not increase"),
    ({"ratchet": {"floor": 1.2}}, "floor <= 1 <= ceiling"),
    ({"team_bonus": {"steps": [{"attainment": 1.0}, {"attainment": 0.5}]}}, "strictly increasing attainment"),
    ({"commission_rate": 1.5}, "less than or equal to 1"),
    ({"bonus": []}, "Extra inputs are not permitted"),
])
def test_bad_plans_are_refused_with_the_fix(data: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        PayPlanSettings.model_validate(data)


def test_bad_plan_in_a_scenario_folder_is_a_scenario_error(tiny: scenarios.Scenario, tmp_path: Any) -> None:
    scenarios.save(tiny, tmp_path)
    toml = (tmp_path / "scenario.toml").read_text(encoding="utf-8")
    toml = toml.replace("[pay_plans.flat_commission]\n",
                        "[pay_plans.flat_commission]\ncap = { target_multiple = -1.0 }\n")
    (tmp_path / "scenario.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(scenarios.ScenarioError, match="cap"):
        scenarios.load(tmp_path)


def test_behaviour_defaults_and_bounds() -> None:
    b = BehaviourSettings()
    assert b.enabled and b.timing_games and b.min_hours_share <= 1.0 <= b.max_hours_share
    with pytest.raises(pydantic.ValidationError):
        BehaviourSettings(min_hours_share=1.2)


def test_bundled_baseline_ships_the_five_plans(baseline: scenarios.Scenario) -> None:
    assert {"flat_commission", "annual_bonus", "quarterly_bonus", "tiered_accelerator", "capped"} <= set(
        baseline.settings.pay_plans)
    assert set(baseline.reps["pay_plan_id"]) == {"flat_commission"}


PAY_PLANS_DOC = Path(__file__).resolve().parents[2] / "docs" / "pay-plans.md"


def _section() -> str:
    return PAY_PLANS_DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("model", [
    PayPlanSettings, scenarios.CommissionSettings, scenarios.CommissionTier, scenarios.BonusSettings,
    scenarios.BonusStep, scenarios.CapSettings, scenarios.DrawSettings, scenarios.TeamBonusSettings,
    scenarios.AllowanceSettings, scenarios.ContestSettings, scenarios.RatchetSettings,
    scenarios.RecognitionSettings, scenarios.TrainingSettings, scenarios.PromotionPathSettings, BehaviourSettings,
])
def test_pay_plan_docs_document_every_key(model: type[pydantic.BaseModel]) -> None:
    section = _section()
    missing = [name for name in model.model_fields if name not in section]
    assert not missing, f"docs/pay-plans.md lacks {model.__name__} keys {missing}"


def test_pay_plan_docs_example_runs() -> None:
    code = _section().split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(PAY_PLANS_DOC), "exec"), namespace)
    assert namespace["weekly_hours"](namespace["inc"], namespace["pos"], norm_hours=40.0) > 40.0
