"""The what-if registry (``quotaflow.readers``) is proven, family by family.

Every settings leaf of the scenario model and every table column of the schema belongs to a family, and every
family has examples here. Each example is a what-if on ``tiny`` (one replication, a fixed seed, so common random
numbers make the comparison exact) in the run where the registry says it is read or refused; where tiny cannot
show a mechanism (its reps have spare hours, so no queue forms; its year holds a handful of deals, so none sits
near the year end for a timing game), the example runs on ``baseline``, where the mechanism bites:

- read: the check lets it through, and a metric of the evaluated point differs from the unchanged scenario's by
  more than float rounding;
- refused: the check raises with a message naming what would read it, and forcing the run anyway gives exactly
  the unchanged scenario's figures (the "nothing here reads it" claim is tested, not just the message).

A new settings field or schema column without a family, or a family without an example, fails here.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

import scenarios
import sim
from quotaflow.errors import GridError
from quotaflow.readers import FAMILIES, Evaluation, check_whatifs, family_of, markdown
from quotaflow.whatif import PointSimulation
from scenarios.schema import columns

SEED = 11


# ----------------------------------------------------------------------------------------------------------
# Every settings leaf and table column has a family


def _walk(annotation: Any, path: str) -> Iterator[str]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is not type(None):
                yield from _walk(arg, path)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield path
        for name, info in annotation.model_fields.items():
            yield from _walk(info.annotation, f"{path}.{name}")
    elif origin is dict:
        yield path
        yield from _walk(args[1], f"{path}.x")
    elif origin is list:
        yield path
        yield from _walk(args[0], f"{path}.0")
    else:
        yield path


def settings_paths() -> list[str]:
    """Every path of the settings model, with ``x`` for a free key and ``0`` for a list index."""
    return [p.removeprefix("root.") for p in _walk(scenarios.Settings, "root") if p != "root"]


def column_paths() -> list[str]:
    return [f"{c.table}.{c.name.replace('<stage>', 'demo')}" for table in ("reps", "accounts")
            for c in columns(table) if c.name != f"{table[:-1]}_id"]


def test_every_settings_path_and_column_has_a_family() -> None:
    paths = settings_paths() + column_paths()
    assert len(paths) > 150  # the walk reaches into plans, tiers, channels ...
    orphans = [p for p in paths if family_of(p) not in FAMILIES and not family_of(p).note.startswith("a section")]
    assert not orphans, f"add a family to quotaflow.readers.FAMILIES for {orphans}"
    leaves = [p for p in paths if family_of(p) in FAMILIES]
    fallback = [p for p in column_paths() if family_of(p).pattern in ("reps.*", "accounts.*")]
    assert not fallback, f"schema columns need their own family, not the extra-column fallback: {fallback}"
    assert {family_of(p).pattern for p in leaves} <= set(EXAMPLES)


def test_docs_table_is_in_sync() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "what-if-paths.md").read_text(encoding="utf-8")
    # Regenerate with: python -m quotaflow.readers (paste under the introduction of docs/what-if-paths.md)
    assert markdown() in doc


def test_every_family_is_reachable_and_has_examples() -> None:
    patterns = [f.pattern for f in FAMILIES]
    assert len(patterns) == len(set(patterns))
    for fam in FAMILIES:
        assert fam.pattern in EXAMPLES, f"add examples for family {fam.pattern} to EXAMPLES"
        for example in EXAMPLES[fam.pattern]:
            assert family_of(example.path) is fam, f"{example.path} is not in family {fam.pattern}"
    assert set(EXAMPLES) == set(patterns)


# ----------------------------------------------------------------------------------------------------------
# Examples: each family moves a result where it is read, and changes nothing where it is refused


ON_BONUS = {"reps.pay_plan_id": "annual_bonus"}
EVERYONE_LEAVES = {f"tiers.{t}.attrition_per_year": 1.0 for t in ("junior", "mid", "senior")}
NO_TIER_SKILLS = {f"tiers.{t}.skill": {} for t in ("junior", "mid", "senior")}
CONTEST = {"pay_plans.flat_commission.contests": [{"name": "q", "period": "quarter", "prizes": [3000.0]}]}
ALLOWANCE = {"pay_plans.flat_commission.allowances": [{"name": "car", "monthly": 400.0}]}
HOURLESS = {f"funnel.stages.{i}.effort_hours": 0.0 for i in range(5)}  # as a calibrated scenario's stages
RATCHET = {**ON_BONUS, "pay_plans.annual_bonus.ratchet": {"up": 0.5, "ceiling": 10.0}}
# timing games need deals due near a pay-period end: tiny's year brings about 8 won deals and no game is played
# at one replication; on baseline (about 560) reps under the accelerator pull and push deals at the year end
TIMING = {"reps.pay_plan_id": "tiered_accelerator", "behaviour.timing_games": True}
QUARTER_TIMING = {"reps.pay_plan_id": "quarterly_bonus", "behaviour.timing_games": True}  # the most games a year
RAMPING = {"tiers.junior.ramp_months": 12}


def _extra_column(name: str, table: str) -> Callable[[scenarios.Scenario], scenarios.Scenario]:
    def prepare(s: scenarios.Scenario) -> scenarios.Scenario:
        frame = getattr(s, table)
        values = np.arange(len(frame), dtype=float) % 3 + 1.0
        return s.replace(**{table: frame.assign(**{name: values})})
    return prepare


@dataclass(frozen=True)
class Example:
    """A what-if ``path = value`` on the bundled ``scenario`` (``tiny`` unless tiny cannot show the mechanism)
    after ``setup``, evaluated in ``run``.

    ``refused`` is a fragment of the refusal message (None: the what-if must move a metric).
    """

    path: str
    value: Any
    run: str = "sweep"
    refused: str | None = None
    setup: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[scenarios.Scenario], scenarios.Scenario] | None = None
    rtol: float = 1e-9  # how close a refused what-if's figures stay (float rounding by default)
    scenario: str = "tiny"


def _read(path: str, value: Any, run: str = "sweep", **kw: Any) -> Example:
    return Example(path, value, run, None, **kw)


def _refused(path: str, value: Any, fragment: str, run: str = "sweep", **kw: Any) -> Example:
    return Example(path, value, run, fragment, **kw)


LABEL = "a label"
EXAMPLES: dict[str, list[Example]] = {
    "name": [_refused("name", "other", LABEL)],
    "description": [_refused("description", "other", LABEL)],
    "currency": [_refused("currency", "USD", LABEL)],
    "calendar.start": [_read("calendar.start", dt.date(2027, 3, 1))],
    "calendar.months": [_read("calendar.months", 9)],
    "calendar.weeks_per_year": [_read("calendar.weeks_per_year", 40.0)],
    "calendar.seasonality.**": [_read("calendar.seasonality.11", 2.0)],
    "funnel.stages.*.id": [_refused("funnel.stages.4.id", "closing", "rename it in scenario.toml",
                                    setup=NO_TIER_SKILLS)],
    "funnel.stages.*.name": [_refused("funnel.stages.0.name", "Outreach", LABEL)],
    "funnel.stages.*.conversion": [_read("funnel.stages.1.conversion", 0.9)],
    "funnel.stages.*.no_decision_share": [_read("funnel.stages.1.no_decision_share", 0.3)],
    "funnel.stages.*.effort_hours": [_read("funnel.stages.2.effort_hours", 12.0)],
    "funnel.stages.*.*": [_read("funnel.stages.3.mean_days", 20.0), _read("funnel.stages.3.spread", 1.0),
                          _read("funnel.stages.3.distribution", "gamma")],
    # tiny's reps sell about 4 % of their hours, so no deal waits 20 days; baseline loses about 200 deals a year
    # to stalls at 45 days
    "funnel.stall_days": [_read("funnel.stall_days", 20.0, scenario="baseline")],
    "tiers.*.skill.**": [_read("tiers.junior.skill.demo", 1.2)],
    # today's reps work their reps.csv hours; the tier's hours reach the backfills of leavers
    "tiers.*.hours_per_week": [_read("tiers.junior.hours_per_week", 20.0, setup=EVERYONE_LEAVES)],
    "tiers.*.annual_cost": [_refused("tiers.junior.annual_cost", 30000.0, "no command reads it yet")],
    "tiers.*.ramp_*": [_read("tiers.junior.ramp_months", 12), _read("tiers.junior.ramp_start", 0.8,
                                                                     setup=RAMPING)],
    "tiers.*.min_quota": [_read("tiers.junior.min_quota", 150000.0, "quotas"),
                          _refused("tiers.junior.min_quota", 150000.0, "--quotas set")],
    # below the fair quota of tiny's busiest mid rep (R0004, about 191,000 under the tier's 257,000 bound)
    "tiers.*.max_quota": [_read("tiers.mid.max_quota", 150000.0, "quotas"),
                          _refused("tiers.mid.max_quota", 150000.0, "--quotas set")],
    "tiers.*.**": [_read("tiers.junior.attrition_per_year", 0.9),
                   _read("tiers.mid.market_pay", 1e6, setup={"simulation.attrition_pay_sensitivity": 20.0}),
                   _read("tiers.junior.promotion.min_attainment", 0.0)],
    "products.*.name": [_refused("products.hardware.name", "Kit", LABEL)],
    "products.*.margin": [_read("products.software.margin", 0.5)],
    "products.*.**": [_read("products.software.price", 50000.0), _read("products.software.mix", 2.0),
                      _read("products.software.price", 50000.0, "budget")],
    "targets.annual": [_read("targets.annual", 1.5e6), _read("targets.annual", 1.5e6, "quotas")],
    "targets.over_assignment": [_read("targets.over_assignment", 1.3)],
    "targets.by_region.**": [_read("targets.by_region", {"North": 0.5, "South": 0.5}, "quotas"),
                             _refused("targets.by_region", {"North": 0.5, "South": 0.5}, "--quotas set")],
    # the product split changes which rep a rounding unit goes to, nothing more (quotas are whole currency units)
    "targets.by_product.**": [_refused("targets.by_product", {"hardware": 0.5, "software": 0.4, "services": 0.1},
                                       "only quotaflow quotas reads it", "quotas", rtol=1e-3)],
    "channels.*.name": [_refused("channels.events.name", "Fairs", LABEL)],
    "channels.*.default_monthly_spend": [_read("channels.events.default_monthly_spend", 3000.0),
                                         _read("channels.events.default_monthly_spend", 3000.0, "budget")],
    "channels.*.lead_quality": [_read("channels.events.lead_quality", 2.0),
                                _read("channels.events.lead_quality", 0.2, "budget")],
    "channels.*.curve_*": [_read("channels.content.curve_leads", [0.0, 9.0, 13.0, 18.0]),
                           _read("channels.content.curve_spend", [0.0, 300.0, 1200.0, 3600.0], "budget")],
    "channels.*.seasonality.**": [_read("channels.paid_search.seasonality", [2.0] * 12)],
    "channels.*.**": [_read("channels.partners.min_spend", 30000.0, "budget"),
                      _refused("channels.partners.max_spend", 9000.0, "--budget optimise")],
    "budget.**": [_read("budget.total", 150000.0, "budget"), _read("budget.max_monthly_spend", 6000.0, "budget"),
                  _refused("budget.total", 150000.0, "--budget optimise"),
                  _refused("budget.total", 150000.0, "quotaflow sweep re-optimises the budget", "simulate")],
    "pay_plans.*.description": [_refused("pay_plans.flat_commission.description", "x", LABEL)],
    "pay_plans.*.commission_rate": [_read("pay_plans.flat_commission.commission_rate", 0.08),
                                _read("pay_plans.flat_commission.commission_rate", 0.08, "none"),
                                _refused("pay_plans.capped.commission_rate", 0.08, "no rep is on pay plan capped")],
    "pay_plans.*.bonuses.*.name": [_refused("pay_plans.annual_bonus.bonuses.0.name", "year_end", LABEL,
                                            setup=ON_BONUS)],
    "pay_plans.*.contests.*.name": [_refused("pay_plans.flat_commission.contests.0.name", "cup", LABEL, setup=CONTEST)],
    "pay_plans.*.contests.**": [_read("pay_plans.flat_commission.contests.0.prizes", [9000.0], setup=CONTEST)],
    "pay_plans.*.allowances.*.name": [_refused("pay_plans.flat_commission.allowances.0.name", "auto", LABEL,
                                           setup=ALLOWANCE)],
    "pay_plans.*.allowances.**": [_refused("pay_plans.flat_commission.allowances.0.monthly", 900.0,
                                           "only quotaflow pay",
                                       setup=ALLOWANCE)],
    "pay_plans.*.ratchet": [_read("pay_plans.annual_bonus.ratchet", {"up": 1.0}, setup=ON_BONUS)],
    "pay_plans.*.ratchet.up": [_read("pay_plans.annual_bonus.ratchet.up", 1.5, setup=RATCHET),
                           _read("pay_plans.annual_bonus.ratchet.up", 1.5,
                                 setup={**RATCHET, "behaviour.enabled": False, "calendar.months": 24})],
    "pay_plans.*.ratchet.**": [_refused("pay_plans.annual_bonus.ratchet.ceiling", 1.1,
                                        "plan-year end inside the horizon",
                                    setup=RATCHET),
                           _read("pay_plans.annual_bonus.ratchet.ceiling", 1.1,
                                 setup={**RATCHET, "calendar.months": 24})],
    "pay_plans.*.recognition.name": [_refused("pay_plans.annual_bonus.recognition.name", "club", LABEL,
                                          setup={**ON_BONUS, "pay_plans.annual_bonus.recognition": {}})],
    "pay_plans.*.recognition.perceived_value": [
        _read("pay_plans.annual_bonus.recognition.perceived_value", 30000.0,
              setup={**ON_BONUS, "pay_plans.annual_bonus.recognition": {}}),
        _refused("pay_plans.annual_bonus.recognition.perceived_value", 30000.0, "plan year that ends inside",
                 setup={**ON_BONUS, "pay_plans.annual_bonus.recognition": {}, "calendar.months": 9})],
    "pay_plans.*.recognition.attainment": [
        _read("pay_plans.annual_bonus.recognition.attainment", 0.8,
              setup={**ON_BONUS, "pay_plans.annual_bonus.recognition": {"perceived_value": 30000.0}}),
        _refused("pay_plans.annual_bonus.recognition.attainment", 0.8, "perceived_value is above 0",
                 setup={**ON_BONUS, "pay_plans.annual_bonus.recognition": {}})],
    "pay_plans.*.recognition.cost": [_refused("pay_plans.annual_bonus.recognition.cost", 5000.0, "only quotaflow pay",
                                          setup={**ON_BONUS, "pay_plans.annual_bonus.recognition": {}})],
    "pay_plans.*.training.cost_per_month": [_refused("pay_plans.flat_commission.training.cost_per_month", 300.0,
                                                 "only quotaflow pay",
                                                 setup={"pay_plans.flat_commission.training": {}})],
    "pay_plans.*.training.**": [_refused("pay_plans.flat_commission.training.hours_per_month", 8.0,
                                         "does not read it yet",
                                     setup={"pay_plans.flat_commission.training": {}})],
    "pay_plans.*.promotion.perceived_value": [_read("pay_plans.annual_bonus.promotion.perceived_value", 40000.0,
                                                setup={**ON_BONUS, "pay_plans.annual_bonus.promotion": {}})],
    "pay_plans.*.promotion.min_attainment": [
        _read("pay_plans.annual_bonus.promotion.min_attainment", 0.7,
              setup={**ON_BONUS, "pay_plans.annual_bonus.promotion": {"perceived_value": 40000.0}}),
        _refused("pay_plans.annual_bonus.promotion.min_attainment", 0.7, "perceived_value is above 0",
                 setup={**ON_BONUS, "pay_plans.annual_bonus.promotion": {}})],
    "pay_plans.*.promotion.**": [_refused("pay_plans.annual_bonus.promotion.after_months", 3, "does not read it yet",
                                      setup={**ON_BONUS, "pay_plans.annual_bonus.promotion": {}})],
    "pay_plans.*.**": [_read("pay_plans.capped.cap.target_multiple", 1.0, setup={"reps.pay_plan_id": "capped"}),
                   _read("pay_plans.capped.cap.target_multiple", 1.0, "capped"),
                   _refused("pay_plans.capped.cap.target_multiple", 1.0, "no rep is on pay plan capped"),
                   _refused("pay_plans.capped.cap.target_multiple", 1.0, "--incentives none pays only", "none"),
                   _read("pay_plans.annual_bonus.bonuses.0.steps.0.share_of_base", 0.5, setup=ON_BONUS),
                   _read("pay_plans.tiered_accelerator.commission.tiers.2.rate", 0.2, "tiered_accelerator")],
    "behaviour.pull_in_discount": [_read("behaviour.pull_in_discount", 0.0, setup=TIMING, scenario="baseline"),
                                   _refused("behaviour.pull_in_discount", 0.0, "timing_games is off",
                                            setup={**TIMING, "behaviour.timing_games": False},
                                            scenario="baseline")],
    "behaviour.max_pull_in_weeks": [_read("behaviour.max_pull_in_weeks", 0.0, setup=TIMING, scenario="baseline"),
                                    _refused("behaviour.max_pull_in_weeks", 0.0, "customer_pull_share is 0",
                                             setup={**TIMING, "behaviour.customer_pull_share": 0.0},
                                             scenario="baseline")],
    "behaviour.push_risk": [_read("behaviour.push_risk", 0.0, setup={**TIMING, "behaviour.customer_push_share": 0.5},
                                  scenario="baseline"),
                            _refused("behaviour.push_risk", 0.0, "customer_push_share is 0", setup=TIMING,
                                     scenario="baseline")],
    "behaviour.customer_pull_share": [_read("behaviour.customer_pull_share", 0.5, setup=QUARTER_TIMING,
                                           scenario="baseline"),
                                     _refused("behaviour.customer_pull_share", 0.5, "timing_games is off",
                                              setup={**QUARTER_TIMING, "behaviour.timing_games": False},
                                              scenario="baseline")],
    "behaviour.customer_push_share": [_read("behaviour.customer_push_share", 0.5, setup=QUARTER_TIMING,
                                           scenario="baseline"),
                                     _refused("behaviour.customer_push_share", 0.5, "timing_games is off",
                                              setup={**QUARTER_TIMING, "behaviour.timing_games": False},
                                              scenario="baseline")],
    "behaviour.closing_speed_elasticity": [
        _read("behaviour.closing_speed_elasticity", 4.0, setup={**ON_BONUS, **HOURLESS}),
        _refused("behaviour.closing_speed_elasticity", 4.0, "every stage here records hours", setup=ON_BONUS)],
    "behaviour.ratchet_foresight": [_read("behaviour.ratchet_foresight", 1.0, setup=RATCHET),
                                    _refused("behaviour.ratchet_foresight", 1.0, "has a quota ratchet",
                                             setup=ON_BONUS)],
    "behaviour.discount_per_week": [_read("behaviour.discount_per_week", 0.9, setup=ON_BONUS),
                                    _refused("behaviour.discount_per_week", 0.9, "pays a lump sum",
                                             "tiered_accelerator")],
    "behaviour.**": [_read("behaviour.elasticity", 1.0, setup=ON_BONUS),
                     _read("behaviour.enabled", False, setup=ON_BONUS),
                     _read("behaviour.timing_games", False, setup=ON_BONUS),
                     _refused("behaviour.elasticity", 1.0, "pay a flat commission"),
                     _refused("behaviour.elasticity", 1.0, "--incentives none", "none", setup=ON_BONUS),
                     _refused("behaviour.elasticity", 1.0, "behaviour.enabled = false",
                              setup={**ON_BONUS, "behaviour.enabled": False})],
    "optimizer.uncovered_penalty": [
        _read("optimizer.uncovered_penalty", 50.0, "allocate",
              setup={"optimizer.allow_uncovered": True, "reps.hours_per_week": 10.0, "optimizer.balance": [],
                     "optimizer.max_moved_share": None}),
        _refused("optimizer.uncovered_penalty", 0.0, "allow_uncovered is off", "allocate")],
    "optimizer.lexicographic_slack": [
        _read("optimizer.lexicographic_slack", 0.5, "allocate",
              setup={"optimizer.lexicographic": ["disruption", "travel"], "optimizer.max_moved_share": None}),
        _refused("optimizer.lexicographic_slack", 0.5, "lexicographic is empty", "allocate")],
    "optimizer.solver": [_read("optimizer.solver", "cbc", "allocate-probe")],
    "optimizer.time_limit_s": [_read("optimizer.time_limit_s", 1e-6, "allocate")],
    "optimizer.**": [_read("optimizer.travel_weight", 200.0, "allocate"),
                     _read("optimizer.max_moved_share", 0.0, "allocate"),
                     _refused("optimizer.travel_weight", 200.0, "pass --allocate"),
                     _refused("optimizer.travel_weight", 200.0, "quotaflow allocate reads it", "simulate")],
    "simulation.replications": [_read("simulation.replications", 2, "simulate"),
                                _refused("simulation.replications", 2, "takes --replications")],
    "simulation.seed": [_read("simulation.seed", 7, "simulate"), _refused("simulation.seed", 7, "takes --seed")],
    "simulation.workers": [_refused("simulation.workers", 2, "results never depend on it", "simulate")],
    "simulation.decision_calendar_days": [
        _read("simulation.decision_calendar_days", 5.0, setup={"simulation.decision_calendar": 1.0,
                                                               "simulation.decision_calendar_days": 60.0}),
        _refused("simulation.decision_calendar_days", 5.0, "simulation.decision_calendar is 0")],
    "simulation.**": [_read("simulation.value_cv", 0.8), _read("simulation.routing", "region_pool"),
                      _read("simulation.repeat_orders_per_year.A", 8.0)],
    "tables.**": [_refused("tables.reps", "other.csv", "cannot re-read files")],
    "quotas.method": [_read("quotas.method", "even", "quotas"), _refused("quotas.method", "even", "--quotas set")],
    "quotas.unit": [_read("quotas.unit", 5000.0, "quotas")],
    "quotas.ramp": [_read("quotas.ramp", False, setup=RAMPING), _read("quotas.ramp", False, "quotas",
                                                                       setup=RAMPING)],
    "quotas.**": [_refused("quotas.attainment_probability", 0.9, "only quotaflow quotas reads it", "quotas"),
                  _refused("quotas.max_potential_share", 0.2, "only quotaflow quotas reads it", "quotas")],
    "reps.name": [_refused("reps.name", "Someone", LABEL)],
    "reps.role": [_read("reps.role", "farmer", "allocate"), _refused("reps.role", "farmer", "pass --allocate")],
    "reps.latitude": [_read("reps[tier=senior].latitude", 52.0, "allocate")],
    "reps.longitude": [_read("reps[tier=senior].longitude", 12.0, "allocate")],
    "reps.base_salary": [_read("reps.base_salary*", 1.2)],
    "reps.pay_plan_id": [_read("reps.pay_plan_id", "annual_bonus"),
                     _refused("reps.pay_plan_id", "annual_bonus", "--incentives capped puts every rep", "capped")],
    "reps.tier": [_read("reps[tier=junior].tier", "mid")],
    # the region's queue a rep works under region_pool routing; and the colleagues who cover a leaver's accounts
    # (tiny's year has too few deals on the moved accounts to show it, baseline's leavers do)
    "reps.region": [_read("reps[tier=senior].region", "South", setup={"simulation.routing": "region_pool"}),
                    _read("reps[tier=senior].region", "East", scenario="baseline")],
    "reps.hours_per_week": [_read("reps[tier=junior].hours_per_week", 25.0)],
    "reps.hire_date": [_read("reps[tier=junior].hire_date", dt.date(2027, 3, 1))],
    "reps.skill_*": [_read("reps.skill_demo", 1.5)],
    "reps.*": [_refused("reps.team", 2.0, "no command reads", prepare=_extra_column("team", "reps"))],
    "accounts.name": [_refused("accounts.name", "Same", LABEL)],
    "accounts.segment": [_refused("accounts.segment", "Retail", "no command reads the segment")],
    "accounts.latitude": [_read("accounts[tier=C].latitude", 48.5, "allocate")],
    "accounts.longitude": [_read("accounts[tier=C].longitude", 9.0, "allocate")],
    "accounts.current_rep_id": [_read("accounts[region=North].current_rep_id", "R0001"),
                                _read("accounts[region=North].current_rep_id", "R0001", "allocate")],
    "accounts.tier": [_read("accounts[tier=C].tier", "B")],
    "accounts.region": [_read("accounts[name=Baltic Chemicals Ltd].region", "North")],
    # deal values and what an account buys in a year are in the potential's units, so scaling every account moves
    # what is simulated; the quotas and the budget follow relative potential (test_uniform_potential_scaling...)
    "accounts.annual_potential": [_read("accounts[tier=A].annual_potential*", 1.5),
                                  _read("accounts.annual_potential*", 1.5),
                                  _read("accounts.annual_potential*", 3.0, "allocate")],
    "accounts.service_hours_per_year": [_read("accounts.service_hours_per_year*", 3.0)],
    "accounts.status": [_read("accounts[tier=A].status", "prospect")],
    "accounts.*": [
        _read("accounts[tier=A].employees*", 5.0, "allocate", prepare=_extra_column("employees", "accounts"),
              setup={"optimizer.balance": [{"attribute": "employees", "min": 0.7, "max": 1.3}],
                     "optimizer.max_moved_share": None}),
        _refused("accounts.employees*", 5.0, "no [optimizer] balance band names employees", "allocate",
                 prepare=_extra_column("employees", "accounts"))],
}

# How each run is evaluated: (evaluator, allocate) for sweep points; "simulate" is quotaflow simulate itself.
RUNS: dict[str, tuple[PointSimulation, bool]] = {
    "sweep": (PointSimulation("own"), False),
    "none": (PointSimulation("none"), False),
    "capped": (PointSimulation("capped"), False),
    "tiered_accelerator": (PointSimulation("tiered_accelerator"), False),
    "quotas": (PointSimulation("own", quotas="set"), False),
    "budget": (PointSimulation("own", budget="optimise"), False),
    "allocate": (PointSimulation("own"), True),
    "allocate-probe": (PointSimulation("own"), True),
}


def _evaluation(run: str) -> Evaluation:
    if run == "simulate":
        return Evaluation("simulate", replications_given=False, seed_given=False)
    evaluator, allocate = RUNS[run]
    return evaluator.evaluation(allocate=allocate)


def _outcome(s: scenarios.Scenario, run: str) -> pd.DataFrame:
    """The figures the run produces for ``s`` (one replication unless the scenario's own count is the run's)."""
    if run == "simulate":
        st = s.settings.simulation
        result = sim.simulate(s, replications=st.replications, seed=st.seed, workers=st.workers)
        return result.replications
    if run == "allocate-probe":  # the solver's own report: which solver found which assignment
        import optimizer

        allocation = optimizer.allocate(s)
        return allocation.assignments[["account_id", "rep_id"]].assign(solver=allocation.solver)
    evaluator, allocate = RUNS[run]
    rows = evaluator(s, replications=1, seed=SEED, allocate=allocate)
    return rows.sort_values(["replication", "metric"]).reset_index(drop=True)


_BASE: dict[tuple[str, str], pd.DataFrame] = {}


_START: dict[str, scenarios.Scenario] = {}


def _start(name: str) -> scenarios.Scenario:
    """The bundled scenario ``name`` with one replication as its default (for the simulate command's run)."""
    if name not in _START:
        _START[name] = scenarios.modify(scenarios.load(name), {"simulation.replications": 1, "simulation.seed": SEED})
    return _START[name]


def _cases() -> list[Any]:
    return [pytest.param(pattern, i, id=f"{pattern}-{i}") for pattern, examples in EXAMPLES.items()
            for i in range(len(examples))]


@pytest.mark.parametrize(("pattern", "index"), _cases())
def test_family_moves_the_result_or_is_refused(pattern: str, index: int) -> None:
    ex = EXAMPLES[pattern][index]
    start = _start(ex.scenario)
    base = ex.prepare(start) if ex.prepare is not None else start
    base = scenarios.modify(base, ex.setup) if ex.setup else base
    changed = scenarios.modify(base, {ex.path: ex.value})
    assert not changed.equals(base), f"the example {ex.path}={ex.value!r} changes nothing; pick another value"
    key = (ex.scenario + repr(sorted(ex.setup.items())) + repr(ex.prepare is not None)
           + pattern * (ex.prepare is not None), ex.run)
    if key not in _BASE:
        _BASE[key] = _outcome(base, ex.run)
    before = _BASE[key]
    if ex.refused is not None:
        with pytest.raises(GridError, match="cannot change what") as err:
            check_whatifs(base, [("point", {ex.path: ex.value})], _evaluation(ex.run))
        assert ex.refused in str(err.value)
        after = _outcome(changed, ex.run)
        # equal up to float rounding (a refused what-if may still reach a figure through a share it leaves as is)
        pd.testing.assert_frame_equal(after, before, check_exact=False, rtol=ex.rtol, atol=0.0,
                                      obj=f"{ex.path} (refused, yet it moved)")
    else:
        check_whatifs(base, [("point", {ex.path: ex.value})], _evaluation(ex.run))
        after = _outcome(changed, ex.run)
        # moved beyond float rounding: a what-if that reaches a figure only through the last bit of a share (as
        # scaling every potential alike does the default quotas) has not changed what is evaluated
        try:
            pd.testing.assert_frame_equal(after, before, check_exact=False, rtol=1e-9, atol=0.0)
        except AssertionError:
            return
        pytest.fail(f"{ex.path}={ex.value!r} is declared read in run {ex.run} but moved nothing")


def test_uniform_potential_scaling_reaches_only_what_is_simulated(tiny: scenarios.Scenario) -> None:
    # The registry's condition on the default quotas, the quota step and the budget step: they use each account's
    # potential relative to the others, so scaling every account alike leaves them as they are, while the
    # simulator's deal values and each account's yearly cap scale with it (so the what-if is read).
    import optimizer

    scaled = scenarios.modify(tiny, {"accounts.annual_potential*": 1.5})
    assignment = scenarios.Plan.current(tiny).assignment
    pd.testing.assert_frame_equal(optimizer.set_quotas(scaled, assignment).quotas,
                                  optimizer.set_quotas(tiny, assignment).quotas)
    pd.testing.assert_frame_equal(optimizer.allocate_budget(scaled).budget, optimizer.allocate_budget(tiny).budget)
    before, after = sim.build(tiny), sim.build(scaled)
    np.testing.assert_allclose(after.quotas, before.quotas, rtol=1e-12)
    np.testing.assert_allclose(after.deal_value, 1.5 * before.deal_value, rtol=1e-12)
    np.testing.assert_allclose(after.wallet, 1.5 * before.wallet, rtol=1e-12)
    assert (before.deal_value > 0).any()
    ev = Evaluation("sweep", quota_step=True, budget_step=True)
    assert check_whatifs(tiny, [("x1.5", {"accounts.annual_potential*": 1.5})], ev) == []
