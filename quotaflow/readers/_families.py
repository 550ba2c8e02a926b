"""Which steps read each scenario setting: `FAMILIES`, one entry per settings path family and table column
(first match wins), the value conditions under which a step reads a path, and `family_of`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import scenarios
from quotaflow.readers._steps import Evaluation, Step

__all__ = ["FAMILIES", "Condition", "Family", "family_of", "table_key"]

Condition = Callable[[scenarios.Scenario, str, "Evaluation"], "str | None"]
"""A value condition for a step to read a path: None when it reads it in this run of the scenario, else why not."""


@dataclass(frozen=True)
class Family:
    """Settings paths (or table columns) read by the same steps.

    Parameters
    ----------
    pattern
        Dotted pattern: ``*`` matches one segment (shell-style within a segment, e.g. ``skill_*``), a final
        ``**`` any number of further segments (none included). The first family whose pattern matches wins.
    steps
        The steps that read it; empty when nothing quotaflow computes does.
    note
        What the setting is and where it is read (shown when a what-if is refused).
    auto
        The optional sweep step (``QUOTA_STEP`` or ``BUDGET_STEP``) a sweep switches on by itself when a point
        changes this family (``--quotas auto``, ``--budget auto``).
    needs
        Value conditions per step (e.g. ``uncovered_penalty`` is read only with ``allow_uncovered = true``).
    """

    pattern: str
    steps: frozenset[Step]
    note: str
    auto: Step | None = None
    needs: Mapping[Step, Condition] = field(default_factory=dict)

    def matches(self, path: str) -> bool:
        """True when ``path`` (normalised, see `family_of`) belongs to this family."""
        want, have = self.pattern.split("."), path.split(".")
        if want[-1] == "**":
            want = want[:-1]
            if len(have) < len(want):
                return False
            have = have[:len(want)]
        return len(want) == len(have) and all(fnmatch.fnmatchcase(h, w) for h, w in zip(have, want, strict=True))


def _f(pattern: str, steps: Sequence[Step], note: str, *, auto: Step | None = None,
       needs: Mapping[Step, Condition] | None = None) -> Family:
    return Family(pattern, frozenset(steps), note, auto, dict(needs or {}))


S = Step
_LABEL = "a label: no figure depends on it"
_SIM = "read by the simulator (sim.build and the funnel processes)"


def _setting(scenario: scenarios.Scenario, dotted: str) -> Any:
    node: Any = scenario.settings
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return None
    return node


def _whole_year(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
    """Reps weigh year-end recognition, promotion and ratchets only in a plan year that ends inside the horizon."""
    del path, ev
    months = scenario.settings.calendar.months
    return None if months >= 12 else (f"reps weigh year-end lump sums and ratchets only in a plan year that ends "
                                      f"inside the horizon (calendar.months = {months})")


def _pay_plan_part_valued(part: str) -> Condition:
    """Reps act on a recognition or promotion threshold only when the pay plan gives it a perceived value."""
    def condition(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
        pay_plan_id = path.split(".")[1]
        value = _setting(scenario, f"pay_plans.{pay_plan_id}.{part}.perceived_value") or 0.0
        if value <= 0:
            return f"reps act on pay_plans.{pay_plan_id}.{part} only when its perceived_value is above 0 (it is 0 here)"
        return _whole_year(scenario, path, ev)
    return condition


def _true(setting: str) -> Condition:
    def condition(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
        del path, ev
        return None if _setting(scenario, setting) else f"{setting} is off"
    return condition


def _games_with(share: str) -> Condition:
    """Timing games on and some customers willing to play the direction ``share`` (``behaviour.customer_*``)."""
    def condition(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
        off = _true("behaviour.timing_games")(scenario, path, ev)
        if off is not None:
            return off
        return None if _setting(scenario, share) > 0.0 else f"{share} is 0 (no customer plays that game)"
    return condition


def _hourless_stage(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
    """Effort paces only the customer side of stages that record no rep hours."""
    del path, ev
    if any(st.effort_hours <= 0.0 for st in scenario.settings.funnel.stages):
        return None
    return ("it paces only stages without rep hours (funnel.stages.*.effort_hours = 0, as in a calibrated "
            "scenario); every stage here records hours, through which effort already acts")


def _discount_read(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
    """The pull-in discount prices the reps' pulls and the customers' quarter-end waiting."""
    if (scenario.settings.simulation.quarter_end_waiting or 0.0) > 0.0:
        return None
    return _games_with("behaviour.customer_pull_share")(scenario, path, ev)


def _long_horizon(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
    del path, ev
    months = scenario.settings.calendar.months
    return None if months > 12 else (f"a ratchet rewrites quotas only at a plan-year end inside the horizon "
                                     f"(calendar.months = {months})")


def _lump_sum(pay_plan: scenarios.PayPlanSettings) -> bool:
    """The pay plan pays something later than the booking's month (what reps discount) or has a ratchet."""
    p = pay_plan
    valued = [x for x in (p.recognition, p.promotion) if x is not None and x.perceived_value > 0]
    return bool(p.bonuses or valued) or p.team_bonus is not None or p.ratchet is not None


def _pay_plans_with(test: Callable[[scenarios.PayPlanSettings], bool], what: str) -> Condition:
    """Some pay plan reps are on in this run passes ``test``."""
    def condition(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
        del path
        pay_plans = scenario.settings.pay_plans
        in_use = [p for p in ev.pay_plans_in_use(scenario) if p in pay_plans]
        return None if any(test(pay_plans[p]) for p in in_use) else f"no pay plan in use ({', '.join(in_use)}) {what}"
    return condition


def _banded(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
    """An extra accounts column counts only through a balance band that names it."""
    del ev
    column = table_key(path).split(".")[1]
    bands = {b.attribute for b in scenario.settings.optimizer.balance}
    return None if column in bands else f"no [optimizer] balance band names {column}"


def _not_uniform(scenario: scenarios.Scenario, path: str, ev: Evaluation) -> str | None:
    """The quota and budget steps and the simulator's default quotas use each account's potential relative to the
    others (expected-sales shares, where leads land, region weights), so scaling every account alike leaves them
    unchanged; the simulator's deal values and what an account buys in a year follow the potential itself."""
    del scenario, ev
    if path != "accounts.annual_potential*":
        return None
    return ("the quotas and the budget use each account's potential relative to the others (expected-sales "
            "shares, region weights), which scaling every account alike leaves unchanged")


FAMILIES: tuple[Family, ...] = (
    _f("name", [], _LABEL), _f("description", [], _LABEL), _f("currency", [], _LABEL),
    # [calendar]
    _f("calendar.start", [S.SIMULATOR, S.DEFAULT_QUOTAS, S.QUOTA_STEP, S.BUDGET_STEP], f"the horizon; {_SIM}, "
       "the quota and budget steps"),
    _f("calendar.months", [S.SIMULATOR, S.DEFAULT_QUOTAS, S.QUOTA_STEP, S.BUDGET_STEP], f"the horizon; {_SIM}, "
       "the quota and budget steps"),
    _f("calendar.weeks_per_year", [S.SIMULATOR, S.ALLOCATION, S.DEFAULT_QUOTAS, S.QUOTA_STEP],
       f"turns weekly hours into capacity; {_SIM}, the allocation and the skill model"),
    _f("calendar.seasonality.**", [S.SIMULATOR, S.DEFAULT_QUOTAS, S.QUOTA_STEP, S.BUDGET_STEP],
       f"demand by month; {_SIM}, the quota and budget steps"),
    # [funnel]
    _f("funnel.stages.*.id", [], "a stage id names the stage that tier skills and reps' skill_<stage> columns "
       "refer to; rename it in scenario.toml, not in a what-if"),
    _f("funnel.stages.*.name", [], _LABEL),
    _f("funnel.stages.*.conversion", [S.SIMULATOR, S.DEFAULT_QUOTAS, S.QUOTA_STEP, S.BUDGET_STEP],
       f"{_SIM}, the skill model and the budget step's value per lead"),
    _f("funnel.stages.*.no_decision_share", [S.SIMULATOR, S.DEFAULT_QUOTAS, S.QUOTA_STEP, S.BUDGET_STEP],
       f"{_SIM} (deals that never get a decision), the skill model and the budget step's value per lead"),
    _f("funnel.stages.*.effort_hours", [S.SIMULATOR, S.ALLOCATION], f"{_SIM} and the allocation's skill weights"),
    _f("funnel.stages.*.*", [S.SIMULATOR], _SIM),
    _f("funnel.stall_days", [S.SIMULATOR], _SIM),
    # [tiers.<tier>]
    _f("tiers.*.skill.**", [S.SIMULATOR, S.ALLOCATION, S.DEFAULT_QUOTAS, S.QUOTA_STEP],
       f"{_SIM}, the allocation and the skill model"),
    _f("tiers.*.hours_per_week", [S.SIMULATOR], "the norm hours of a rep hired into (backfill) or promoted to the "
       "tier, read by the simulator; today's reps work their reps.csv hours_per_week"),
    _f("tiers.*.annual_cost", [], "documented as employment cost beyond pay, but no command reads it yet"),
    _f("tiers.*.ramp_*", [S.SIMULATOR, S.DEFAULT_QUOTAS, S.QUOTA_STEP], f"{_SIM} and the skill model"),
    _f("tiers.*.min_quota", [S.QUOTA_STEP], "a bound of the quota step (optimizer.set_quotas)", auto=S.QUOTA_STEP),
    _f("tiers.*.max_quota", [S.QUOTA_STEP], "a bound of the quota step (optimizer.set_quotas)", auto=S.QUOTA_STEP),
    _f("tiers.*.**", [S.SIMULATOR], _SIM),
    # [products.<product>]
    _f("products.*.name", [], _LABEL),
    _f("products.*.margin", [S.SIMULATOR], _SIM),
    _f("products.*.**", [S.SIMULATOR, S.BUDGET_STEP], f"{_SIM} and the budget step's value per lead"),
    # [targets]
    _f("targets.annual", [S.DEFAULT_QUOTAS, S.QUOTA_STEP], "the target behind the quotas: the simulator's default "
       "quotas and the quota step"),
    _f("targets.over_assignment", [S.DEFAULT_QUOTAS, S.QUOTA_STEP], "the target behind the quotas: the "
       "simulator's default quotas and the quota step"),
    _f("targets.by_region.**", [S.QUOTA_STEP], "regional pools of the quota step (optimizer.set_quotas)",
       auto=S.QUOTA_STEP),
    _f("targets.by_product.**", [S.QUOTA_TABLES], "the product split of quotaflow quotas' quotas.csv; the "
       "simulator sums each rep's quotas over products, so the split moves them by rounding units at most"),
    # [channels.<channel>]
    _f("channels.*.name", [], _LABEL),
    _f("channels.*.default_monthly_spend", [S.TODAY_SPEND], "today's spend, the simulator's demand without a "
       "budget plan (and in the warm-up)"),
    _f("channels.*.lead_quality", [S.SIMULATOR, S.BUDGET_STEP], f"{_SIM} and the budget step", auto=S.BUDGET_STEP),
    _f("channels.*.curve_*", [S.TODAY_SPEND, S.BUDGET_STEP], "the lead response to spend: today's spend in the "
       "simulator and the budget step", auto=S.BUDGET_STEP),
    _f("channels.*.seasonality.**", [S.TODAY_SPEND, S.BUDGET_STEP], "the lead response by month: today's spend "
       "in the simulator and the budget step", auto=S.BUDGET_STEP),
    _f("channels.*.**", [S.BUDGET_STEP], "a spending bound of the budget step (optimizer.allocate_budget)",
       auto=S.BUDGET_STEP),
    # [budget]
    _f("budget.**", [S.BUDGET_STEP], "the marketing budget of the budget step (optimizer.allocate_budget)",
       auto=S.BUDGET_STEP),
    # [pay_plans.<id>]: read for the pay plans the run puts reps on
    _f("pay_plans.*.description", [], _LABEL),
    _f("pay_plans.*.commission_rate", [S.PAY, S.FLAT_PAY, S.RESPONSE], "the pay plan's flat commission"),
    _f("pay_plans.*.bonuses.*.name", [], _LABEL),
    _f("pay_plans.*.contests.*.name", [], _LABEL),
    _f("pay_plans.*.contests.**", [S.PAY], "contest prizes, paid in the simulator (reps do not chase them)"),
    _f("pay_plans.*.allowances.*.name", [], _LABEL),
    _f("pay_plans.*.allowances.**", [S.PAY_STATEMENTS], "allowances are a cost line of quotaflow pay's statements; "
       "the simulator's pay leaves them out"),
    _f("pay_plans.*.ratchet", [S.RESPONSE, S.PAY], "the quota ratchet: reps price in next year's quota, and the "
       "simulator rewrites quotas at each plan-year end of a horizon longer than a year",
       needs={S.PAY: _long_horizon, S.RESPONSE: _whole_year}),
    _f("pay_plans.*.ratchet.up", [S.RESPONSE, S.PAY], "the ratchet's rise: reps price it in, and the simulator "
       "rewrites quotas with it at each plan-year end of a horizon longer than a year",
       needs={S.PAY: _long_horizon, S.RESPONSE: _whole_year}),
    _f("pay_plans.*.ratchet.**", [S.PAY], "a ratchet bound, applied by the simulator at each plan-year end of a "
       "horizon longer than a year (reps price in only the rise, ratchet.up)", needs={S.PAY: _long_horizon}),
    _f("pay_plans.*.recognition.name", [], _LABEL),
    _f("pay_plans.*.recognition.perceived_value", [S.RESPONSE], "what reps act on for the recognition",
       needs={S.RESPONSE: _whole_year}),
    _f("pay_plans.*.recognition.attainment", [S.RESPONSE, S.PAY_STATEMENTS], "the recognition threshold: reps act "
       "on it, quotaflow pay costs it", needs={S.RESPONSE: _pay_plan_part_valued("recognition")}),
    _f("pay_plans.*.recognition.cost", [S.PAY_STATEMENTS], "a non-cash cost line of quotaflow pay's statements"),
    _f("pay_plans.*.training.cost_per_month", [S.PAY_STATEMENTS], "a cost line of quotaflow pay's statements"),
    _f("pay_plans.*.training.**", [], "documented as selling hours given up for skill growth, but the simulator "
       "does not read it yet (its training time and gain are simulation.training_*)"),
    _f("pay_plans.*.promotion.perceived_value", [S.RESPONSE], "what reps act on for a promotion",
       needs={S.RESPONSE: _whole_year}),
    _f("pay_plans.*.promotion.min_attainment", [S.RESPONSE], "the promotion threshold reps act on",
       needs={S.RESPONSE: _pay_plan_part_valued("promotion")}),
    _f("pay_plans.*.promotion.**", [], "documented as overriding the tier's promotion rule, but the simulator does "
       "not read it yet (promotions follow tiers.<tier>.promotion)"),
    _f("pay_plans.*.**", [S.PAY, S.RESPONSE], "the pay plan's pay rules: the simulator's pay and the reps' response"),
    # [behaviour]
    _f("behaviour.pull_in_discount", [S.RESPONSE], "a timing-game setting (and the price of quarter-end "
       "waiting)", needs={S.RESPONSE: _discount_read}),
    _f("behaviour.max_pull_in_weeks", [S.RESPONSE], "a timing-game setting", needs={
        S.RESPONSE: _games_with("behaviour.customer_pull_share")}),
    _f("behaviour.push_risk", [S.RESPONSE], "a timing-game setting", needs={
        S.RESPONSE: _games_with("behaviour.customer_push_share")}),
    _f("behaviour.customer_pull_share", [S.RESPONSE], "a timing-game setting", needs={
        S.RESPONSE: _true("behaviour.timing_games")}),
    _f("behaviour.customer_push_share", [S.RESPONSE], "a timing-game setting", needs={
        S.RESPONSE: _true("behaviour.timing_games")}),
    _f("behaviour.closing_speed_elasticity", [S.RESPONSE], "how the reps' effort paces stages without hours",
       needs={S.RESPONSE: _hourless_stage}),
    _f("behaviour.ratchet_foresight", [S.RESPONSE], "how much of a ratchet's next-year quota reps price in",
       needs={S.RESPONSE: _pay_plans_with(lambda p: p.ratchet is not None, "has a quota ratchet")}),
    _f("behaviour.discount_per_week", [S.RESPONSE], "how reps discount pay due later than the booking's month",
       needs={S.RESPONSE: _pay_plans_with(_lump_sum, "pays a lump sum (quota or team bonus, valued recognition or "
                                                 "promotion) or has a ratchet")}),
    _f("behaviour.**", [S.RESPONSE], "how reps respond to their pay plan (sim.IncentiveBehaviour)"),
    # [optimizer]
    _f("optimizer.uncovered_penalty", [S.ALLOCATION], "the allocation's price of an uncovered account",
       needs={S.ALLOCATION: _true("optimizer.allow_uncovered")}),
    _f("optimizer.lexicographic_slack", [S.ALLOCATION], "the allocation's slack between lexicographic stages",
       needs={S.ALLOCATION: lambda s, p, e: None if s.settings.optimizer.lexicographic else
              "optimizer.lexicographic is empty"}),
    _f("optimizer.solver", [S.ALLOCATION, S.QUOTA_STEP, S.BUDGET_STEP], "the solver of the allocation and of "
       "the quota and budget LPs"),
    _f("optimizer.time_limit_s", [S.ALLOCATION, S.QUOTA_STEP, S.BUDGET_STEP], "the time limit of the "
       "allocation and of the quota and budget LPs"),
    _f("optimizer.**", [S.ALLOCATION], "a setting of the allocation (optimizer.allocate)"),
    # [simulation]
    _f("simulation.replications", [S.RUN_DEFAULTS], "the default of --replications"),
    _f("simulation.seed", [S.RUN_DEFAULTS], "the default of --seed"),
    _f("simulation.workers", [], "the number of worker processes: results never depend on it (pass --workers)"),
    _f("simulation.decision_calendar_days", [S.SIMULATOR], "the age from which the decision calendar holds a "
       "deal", needs={S.SIMULATOR: lambda s, p, e: None if (s.settings.simulation.decision_calendar or 0.0) > 0.0
                      else "simulation.decision_calendar is 0 (no long deal is held)"}),
    _f("simulation.**", [S.SIMULATOR], _SIM),
    # [tables]
    _f("tables.**", [], "table file names, read when the scenario is loaded; a what-if cannot re-read files "
       "(edit scenario.toml)"),
    # [quotas]
    _f("quotas.method", [S.QUOTA_STEP], "the method of the quota step (optimizer.set_quotas)", auto=S.QUOTA_STEP),
    _f("quotas.unit", [S.QUOTA_STEP], "the rounding unit of the quota step", auto=S.QUOTA_STEP),
    _f("quotas.ramp", [S.DEFAULT_QUOTAS, S.QUOTA_STEP], "pro-rating quotas for ramp-up: the simulator's default "
       "quotas and the quota step"),
    _f("quotas.**", [S.QUOTA_TABLES], "read only by quotaflow quotas' gap analysis and warnings, not by the "
       "quotas themselves"),
    # table columns (reps.csv, accounts.csv)
    _f("reps.name", [], _LABEL),
    _f("reps.role", [S.ALLOCATION], "the allocation's role fit"),
    _f("reps.latitude", [S.ALLOCATION], "the allocation's travel"),
    _f("reps.longitude", [S.ALLOCATION], "the allocation's travel"),
    _f("reps.base_salary", [S.SIMULATOR, S.PAY, S.FLAT_PAY], f"{_SIM} (pay, attrition, backfills)"),
    _f("reps.pay_plan_id", [S.OWN_PAY_PLANS], "the pay plan each rep is on under --incentives own (and its flat "
       "rate under none)"),
    _f("reps.tier", [S.SIMULATOR, S.ALLOCATION, S.DEFAULT_QUOTAS, S.QUOTA_STEP], _SIM),
    _f("reps.region", [S.SIMULATOR, S.ALLOCATION, S.DEFAULT_QUOTAS, S.QUOTA_STEP], _SIM),
    _f("reps.hours_per_week", [S.SIMULATOR, S.ALLOCATION, S.DEFAULT_QUOTAS, S.QUOTA_STEP], _SIM),
    _f("reps.hire_date", [S.SIMULATOR, S.DEFAULT_QUOTAS, S.QUOTA_STEP], _SIM),
    _f("reps.skill_*", [S.SIMULATOR, S.ALLOCATION, S.DEFAULT_QUOTAS, S.QUOTA_STEP], _SIM),
    _f("reps.*", [], "a reps.csv column no command reads"),
    _f("accounts.name", [], _LABEL),
    _f("accounts.segment", [], "no command reads the segment (a label for reports)"),
    _f("accounts.latitude", [S.ALLOCATION], "the allocation's travel"),
    _f("accounts.longitude", [S.ALLOCATION], "the allocation's travel"),
    _f("accounts.current_rep_id", [S.TODAY_ASSIGNMENT, S.ALLOCATION], "today's assignment: simulated without a "
       "plan, and the allocation's reference for disruption"),
    _f("accounts.tier", [S.SIMULATOR, S.ALLOCATION], _SIM),
    _f("accounts.region", [S.SIMULATOR, S.ALLOCATION], _SIM),
    _f("accounts.annual_potential", [S.SIMULATOR, S.ALLOCATION, S.DEFAULT_QUOTAS, S.QUOTA_STEP, S.BUDGET_STEP],
       f"{_SIM}: deal values and what an account buys in a year follow its potential; the quotas and the budget "
       "use it relative to the other accounts, so scaling every account alike changes only what is simulated "
       "(and the allocation)",
       needs=dict.fromkeys((S.DEFAULT_QUOTAS, S.QUOTA_STEP, S.BUDGET_STEP), _not_uniform)),
    _f("accounts.service_hours_per_year", [S.SIMULATOR, S.ALLOCATION, S.DEFAULT_QUOTAS, S.QUOTA_STEP], _SIM),
    _f("accounts.status", [S.SIMULATOR, S.ALLOCATION], _SIM),
    _f("accounts.*", [S.ALLOCATION], "an extra accounts.csv column: read only by a balance band of the "
       "allocation that names it", needs={S.ALLOCATION: _banded}),
)
"""Every settings path family and table column, first match wins (specific entries before general ones)."""

_TABLE = re.compile(r"^(reps|accounts)(?:\[[^\]]*\])?\.([^.*]+)\*?$")


def _depth(pattern: str) -> int:
    return len(pattern.split(".")) - pattern.endswith(".**")


def table_key(path: str) -> str:
    """A what-if path without a table filter or the ``*`` of a scaled column (``reps.hours_per_week``)."""
    table = _TABLE.match(path)
    return f"{table.group(1)}.{table.group(2)}" if table else path


def family_of(path: str) -> Family:
    """The family of a what-if path (table filters and the ``*`` of a scaled column are ignored).

    A path naming a whole section (``channels.events``, ``pay_plans.capped``) gets a family whose steps are those of
    every family under it.

    Examples
    --------
    >>> sorted(map(str, family_of("optimizer.travel_weight").steps))
    ['allocation']
    >>> family_of("reps[tier=junior].hours_per_week").pattern
    'reps.hours_per_week'
    >>> sorted(map(str, family_of("pay_plans.capped.cap").steps))
    ['pay', 'response']
    >>> sorted(map(str, family_of("channels.events").steps))
    ['budget step', 'simulator', "today's spend"]
    """
    key = table_key(path)
    parts = key.split(".")
    direct = next((fam for fam in FAMILIES if fam.matches(key)), None)
    under = [fam for fam in FAMILIES if _depth(fam.pattern) > len(parts)
             and all(fnmatch.fnmatchcase(k, w) for k, w in zip(parts, fam.pattern.split("."), strict=False))]
    if not under or (direct is not None and not direct.pattern.endswith(".**")):
        return direct or Family(key, frozenset(), "not a setting any command reads")
    members = [*under, *([direct] if direct is not None else [])]
    steps = frozenset().union(*(f.steps for f in members))
    auto = next((f.auto for f in members if f.auto is not None), None)
    return Family(key, steps, "a section whose keys are read by: " + (", ".join(sorted(steps)) or "nothing"),
                  auto=auto)
