"""Which evaluation step reads each scenario setting, and the check that every what-if reaches what a command runs.

A what-if (``--set path=value`` of ``simulate`` and ``compare``, a swept path of ``sweep``) means something only
if a step the command runs reads that path: the simulator never sees ``budget.total``, an ``[optimizer]`` weight
matters only when accounts are re-allocated, and ``[behaviour]`` reaches no rep on a flat commission. `FAMILIES`
maps every settings path family and every table column to the steps that read it (found by reading the code; each
entry's note says where), `check_whatifs` refuses a what-if that no step of the run reads, naming the command or
flag that does read it, and `sweep_steps` decides which optional steps (quotas, budget) a sweep runs at every
point. ``tests/quotaflow/test_readers.py`` proves the table: a what-if on every family moves a result at a fixed
seed where the table says it is read, and leaves every figure unchanged where it says it is not.
"""

from __future__ import annotations

import enum
import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import scenarios
from quotaflow.errors import GridError
from sim import constant_rate

__all__ = ["FAMILIES", "Evaluation", "Family", "Step", "check_whatifs", "family_of", "markdown", "sweep_steps"]


class Step(enum.StrEnum):
    """A step of an evaluation that reads settings.

    ``SIMULATOR`` runs in every ``simulate``, ``compare`` and ``sweep``; the others run only in some of them
    (`Evaluation` says which), and ``QUOTA_TABLES`` and ``PAY_STATEMENTS`` in none of the three.
    """

    SIMULATOR = "simulator"  # sim.build, the funnel processes, demand, lifecycle
    TODAY_ASSIGNMENT = "today's assignment"  # Plan.current: accounts.current_rep_id, when no plan is given
    TODAY_SPEND = "today's spend"  # channels' default_monthly_spend: demand without a budget plan, and the warm-up
    DEFAULT_QUOTAS = "default quotas"  # sim.model._quotas: target x over-assignment by expected sales
    OWN_PAY_PLANS = "own pay plans"  # reps.pay_plan_id: --incentives own (and none, for the flat rate)
    PAY = "pay"  # sim.PayPlanPay: what the reps on a pay plan are paid
    FLAT_PAY = "flat pay"  # sim.commission_pay: the pay plan's commission_rate under --incentives none
    RESPONSE = "response"  # sim.IncentiveBehaviour: hours, deal order and timing games under a pay plan
    ALLOCATION = "allocation"  # optimizer.allocate
    QUOTA_STEP = "quota step"  # optimizer.set_quotas
    BUDGET_STEP = "budget step"  # optimizer.allocate_budget
    RUN_DEFAULTS = "run defaults"  # simulation.replications / seed as defaults of --replications / --seed
    QUOTA_TABLES = "quota tables"  # quotaflow quotas' gap analysis and product split only
    PAY_STATEMENTS = "pay statements"  # quotaflow pay's cost lines only


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
    column = _key(path).split(".")[1]
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
    _f("behaviour.pull_in_discount", [S.RESPONSE], "a timing-game setting", needs={
        S.RESPONSE: _true("behaviour.timing_games")}),
    _f("behaviour.max_pull_in_weeks", [S.RESPONSE], "a timing-game setting", needs={
        S.RESPONSE: _true("behaviour.timing_games")}),
    _f("behaviour.push_risk", [S.RESPONSE], "a timing-game setting", needs={
        S.RESPONSE: _true("behaviour.timing_games")}),
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


def _key(path: str) -> str:
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
    key = _key(path)
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


@dataclass(frozen=True)
class Evaluation:
    """What one run evaluates: which steps run and which pay plans reps are on.

    Parameters
    ----------
    command
        ``simulate``, ``compare`` or ``sweep``.
    incentives
        ``--incentives`` of simulate and sweep (``own``, ``none`` or a pay plan id); ignored for compare.
    compared
        ``--pay-plans`` of compare.
    plan_assignment, plan_quotas, plan_budget
        The run's plan brings an assignment (``--plan``), quotas (``quotas.csv``) or a budget (``budget.csv``).
    allocate, quota_step, budget_step
        The sweep re-allocates accounts, sets quotas or optimises the budget at every point.
    replications_given, seed_given
        ``--replications`` / ``--seed`` were given (so ``simulation.replications`` / ``seed`` are not read).
    """

    command: Literal["simulate", "compare", "sweep"]
    incentives: str = "own"
    compared: tuple[str, ...] = ()
    plan_assignment: bool = False
    plan_quotas: bool = False
    plan_budget: bool = False
    allocate: bool = False
    quota_step: bool = False
    budget_step: bool = False
    replications_given: bool = True
    seed_given: bool = True

    def pay_plans_in_use(self, scenario: scenarios.Scenario) -> list[str]:
        """The pay plans reps are on in this run of ``scenario``."""
        if self.command == "compare":
            return list(self.compared)
        if self.incentives in ("own", "none"):
            return sorted(set(map(str, scenario.reps["pay_plan_id"])))
        return [self.incentives]


def _pay_plans_text(ev: Evaluation, in_use: list[str]) -> str:
    if ev.command == "compare":
        return f"compare runs only --pay-plans {','.join(in_use)}"
    if ev.incentives == "own":
        return f"reps are on their own pay_plan_id ({', '.join(in_use)})"
    return f"--incentives {ev.incentives} puts every rep on it"


def _why_not(step: Step, fam: Family, path: str, s: scenarios.Scenario, ev: Evaluation) -> str | None:
    """None when ``step`` reads ``path`` in this run of ``s``; else why not and what would read it."""
    sweep = ev.command == "sweep"
    pay_plan_id = path.split(".")[1] if path.startswith("pay_plans.") else None
    reason: str | None = None
    if step == S.TODAY_ASSIGNMENT:
        if ev.plan_assignment or ev.allocate:
            reason = ("today's assignment is replaced by " + ("the re-allocation" if ev.allocate else
                      "the plan's assignments.csv") + "; drop --plan" + (" / --allocate" if sweep else ""))
    elif step == S.TODAY_SPEND:
        if (ev.plan_budget or ev.budget_step) and s.settings.simulation.warmup_months == 0:
            reason = ("the budget plan sets the spend and simulation.warmup_months = 0 leaves no warm-up at today's "
                      "spend")
    elif step == S.DEFAULT_QUOTAS:
        if ev.plan_quotas:
            reason = "the plan's quotas.csv replaces the simulator's default quotas; drop it from the plan folder"
        elif ev.quota_step:
            reason = "the quota step replaces the simulator's default quotas"
    elif step == S.OWN_PAY_PLANS:
        if ev.command == "compare":
            reason = "compare puts every rep on each of --pay-plans in turn"
        elif ev.incentives not in ("own", "none"):
            reason = f"--incentives {ev.incentives} puts every rep on that pay plan; use --incentives own"
    elif step in (S.PAY, S.RESPONSE, S.FLAT_PAY):
        reason = _incentive_reason(step, path, pay_plan_id, s, ev)
    elif step == S.ALLOCATION:
        if not ev.allocate:
            reason = ("read by the allocation: pass --allocate (re-optimise the assignment at every point) for it "
                      "to matter" if sweep else "read by the allocation, which quotaflow " + ev.command + " does not "
                      "run: quotaflow allocate reads it (then --plan its folder), and quotaflow sweep --allocate "
                      "re-allocates at every point")
    elif step == S.QUOTA_STEP:
        if not ev.quota_step:
            reason = ("read by the quota step: pass --quotas set (set quotas with optimizer.set_quotas at every "
                      "point)" if sweep else "read by the quota step, which quotaflow " + ev.command + " does not "
                      "run: quotaflow quotas reads it, and quotaflow sweep sets quotas at every point when a "
                      "point changes it")
    elif step == S.BUDGET_STEP:
        if not ev.budget_step:
            reason = ("read by the budget step: pass --budget optimise (re-optimise the budget at every point)"
                      if sweep else "read by the budget step, which quotaflow " + ev.command + " does not run "
                      "(the simulator spends today's default_monthly_spend): quotaflow budget reads it, and "
                      "quotaflow sweep re-optimises the budget at every point when a point changes it, e.g. "
                      f"quotaflow sweep {s.source or 'SCENARIO'} --set {path}=...")
    elif step == S.RUN_DEFAULTS:
        option = "--replications" if path.endswith("replications") else "--seed"
        given = ev.replications_given if option == "--replications" else ev.seed_given
        if sweep:
            reason = f"quotaflow sweep takes {option} (the same for every point); pass that instead"
        elif given:
            reason = f"{option} is given and takes its place"
    elif step == S.QUOTA_TABLES:
        reason = "only quotaflow quotas reads it (its quotas.csv product split, gap analysis and warnings)"
    elif step == S.PAY_STATEMENTS:
        reason = "only quotaflow pay reads it (cost lines of its pay statements)"
    if reason is None and step in fam.needs:
        reason = fam.needs[step](s, path, ev)
    return reason


def _incentive_reason(step: Step, path: str, pay_plan_id: str | None, s: scenarios.Scenario,
                      ev: Evaluation) -> str | None:
    """`_why_not` for the steps that depend on which pay plans reps are on and whether they respond."""
    none = ev.command != "compare" and ev.incentives == "none"
    if step == S.FLAT_PAY:
        if not none:
            return ("compare pays each pay plan's full rules" if ev.command == "compare" else
                    "the flat rate alone is paid only under --incentives none")
        own = set(map(str, s.reps["pay_plan_id"]))
        return None if pay_plan_id in own else f"no rep is on pay plan {pay_plan_id} (reps.pay_plan_id)"
    if none:
        return ("--incentives none pays only the flat commission_rate and reps do not respond to pay plans; use "
                "--incentives own or a pay plan id")
    in_use = ev.pay_plans_in_use(s)
    if pay_plan_id is not None and pay_plan_id not in in_use:
        fix = ("add it to --pay-plans" if ev.command == "compare" else
               f"put reps on it with --incentives {pay_plan_id} or --set reps.pay_plan_id={pay_plan_id}")
        return f"no rep is on pay plan {pay_plan_id} here ({_pay_plans_text(ev, in_use)}): {fix}"
    if step == S.PAY:
        return None
    if not s.settings.behaviour.enabled and path != "behaviour.enabled":
        return "behaviour.enabled = false: reps work the norm hours whatever their pay plan"
    pay_plans = s.settings.pay_plans
    responsive = [p for p in ([pay_plan_id] if pay_plan_id is not None else in_use) if p not in pay_plans
                  or not constant_rate(pay_plans[p])]  # an unknown pay plan id is refused by the command itself
    if not responsive:
        shown = pay_plan_id or ", ".join(in_use)
        fix = ("compare a pay plan with commission tiers, bonuses or a cap" if ev.command == "compare" else
               "put reps on a pay plan with commission tiers, bonuses or a cap (--incentives PAY_PLAN_ID, or "
               "compare pay plans with quotaflow compare)")
        return (f"the pay plans in use ({shown}) pay a flat commission, under which reps work the norm hours and "
                f"rank deals by expected value whatever their pay plan's response settings say: {fix}")
    return None


def _reads(fam: Family, path: str, scenario: scenarios.Scenario, ev: Evaluation) -> list[str]:
    """Empty when some step of the run reads ``path`` in ``scenario``; else one reason per step."""
    reasons = []
    for step in sorted(fam.steps):
        why = _why_not(step, fam, path, scenario, ev)
        if why is None:
            return []
        reasons.append(why)
    return reasons or [fam.note]


def sweep_steps(paths: Sequence[str], *, quotas: str = "auto", budget: str = "auto") -> tuple[bool, bool]:
    """Whether a sweep sets quotas and optimises the budget at every point (``--quotas``, ``--budget``).

    ``auto`` runs the step when a swept path is read by it and not by the simulator's defaults it replaces:
    quota settings (``quotas.method``, ``targets.by_region``, tier quota bounds) switch the quota step on,
    ``budget.*`` and ``channels.*`` (other than today's ``default_monthly_spend``) the budget step.

    Examples
    --------
    >>> sweep_steps(["budget.total"]), sweep_steps(["quotas.method"]), sweep_steps(["tiers.junior.skill.demo"])
    ((False, True), (True, False), (False, False))
    >>> sweep_steps(["budget.total"], budget="today")
    (False, False)
    """
    autos = {family_of(p).auto for p in paths}
    return ((quotas == "set" or (quotas == "auto" and S.QUOTA_STEP in autos)),
            (budget == "optimise" or (budget == "auto" and S.BUDGET_STEP in autos)))


def check_whatifs(base: scenarios.Scenario, points: Sequence[tuple[str, Mapping[str, Any]]],
                  evaluation: Evaluation, *, option: str = "--set") -> list[str]:
    """Refuse what-ifs that cannot change what ``evaluation`` computes; return notes worth a warning.

    Each path must be read by a step the run has at one point at least (conditions are checked on each point's
    scenario, so a point that switches timing games on makes its ``behaviour.push_risk`` count). Two points that
    evaluate the same scenario are refused (``30`` and ``30.0``, or a variant that repeats another); a point
    equal to the base is allowed (a sweep's reference point), but a run whose only point changes nothing gets a
    note, as does a path read at some points only.

    Parameters
    ----------
    base
        The scenario before any change.
    points
        ``(label, changes)`` per point (one point for simulate and compare).
    evaluation
        What the run computes.
    option
        How the user wrote the what-if (``--set`` or ``grid``), for messages.

    Raises
    ------
    GridError
        A path no step of the run reads (the message says which command or flag reads it), or two points that
        evaluate the same scenario (exit code 2, before any work starts).

    Examples
    --------
    >>> import scenarios
    >>> check_whatifs(scenarios.load("tiny"), [("", {"budget.total": 2e5})], Evaluation("simulate"))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    quotaflow.errors.GridError: --set budget.total cannot change what quotaflow simulate computes: ...
    >>> check_whatifs(scenarios.load("tiny"), [("", {"funnel.stall_days": 45.0})], Evaluation("simulate"))
    ['--set funnel.stall_days=45.0 leaves the scenario unchanged (it already has that value)']
    """
    changed = [(label, dict(changes), scenarios.modify(base, changes) if changes else base)
               for label, changes in points]
    notes: list[str] = []
    for path in dict.fromkeys(p for _, changes, _ in changed for p in changes):
        fam = family_of(path)
        unread = {label: _reads(fam, path, s, evaluation) for label, changes, s in changed if path in changes}
        missing = [label for label, why in unread.items() if why]
        if len(missing) == len(unread):
            first = list(dict.fromkeys(unread[missing[0]]))
            detail = fam.note if not fam.steps else f"{fam.note}; " + "; ".join(first)
            raise GridError(f"{option} {path} cannot change what quotaflow {evaluation.command} computes: {detail}")
        if missing:
            notes.append(f"{path} is not read at {len(missing)} of {len(unread)} points (e.g. {missing[0]!r}: "
                         f"{unread[missing[0]][0]}); those points differ from others only in it")
    if len(changed) == 1 and changed[0][1]:
        for path, value in changed[0][1].items():
            if scenarios.modify(base, {path: value}).equals(base):
                notes.append(f"{option} {path}={value} leaves the scenario unchanged (it already has that value)")
    seen: dict[str, str] = {}
    for label, _, s in changed:
        key = scenarios.fingerprint(s)
        if key in seen:
            raise GridError(f"points {seen[key]!r} and {label!r} evaluate the same scenario; remove one of them")
        seen[key] = label
    return notes


_RUNS = {
    S.SIMULATOR: "simulate, compare, sweep",
    S.TODAY_ASSIGNMENT: "simulate and compare without `--plan`; sweep without `--allocate`",
    S.TODAY_SPEND: "simulate, compare, sweep: without a budget plan (`budget.csv`, `sweep --budget optimise`), "
                   "and in the warm-up",
    S.DEFAULT_QUOTAS: "simulate, compare, sweep: without a plan's `quotas.csv` or `sweep --quotas set`",
    S.OWN_PAY_PLANS: "simulate, sweep with `--incentives own` (and `none`, for the flat rate)",
    S.PAY: "simulate, compare, sweep, for the pay plans reps are on (`--incentives own` or a pay plan id; "
           "`compare --pay-plans`)",
    S.FLAT_PAY: "simulate, sweep with `--incentives none`: each rep's own pay plan's `commission_rate`",
    S.RESPONSE: "simulate, compare, sweep, when reps respond to their pay plan: not `--incentives none`, "
                "`behaviour.enabled`, a pay plan beyond a flat commission",
    S.ALLOCATION: "allocate, frontier, demo; `sweep --allocate`",
    S.QUOTA_STEP: "quotas, demo; `sweep --quotas set` (auto when swept)",
    S.BUDGET_STEP: "budget, demo; `sweep --budget optimise` (auto when swept)",
    S.RUN_DEFAULTS: "simulate and compare, when `--replications` / `--seed` is not given",
    S.QUOTA_TABLES: "quotas (its tables and warnings only)",
    S.PAY_STATEMENTS: "pay (its statements only)",
}
"""Where each step runs, for the documentation table."""


def markdown() -> str:
    """The registry as Markdown: the steps and where they run, then every family (``docs/what-if-paths.md``).

    Examples
    --------
    >>> markdown().splitlines()[0]
    '| step | runs in |'
    """
    lines = ["| step | runs in |", "|---|---|"]
    lines += [f"| {step} | {_RUNS[step]} |" for step in Step]
    lines += ["", "| path | read by | note |", "|---|---|---|"]
    for fam in FAMILIES:
        readers = ", ".join(str(step) for step in Step if step in fam.steps) or "nothing (refused)"
        extra = f" A sweep over it runs the {fam.auto} by default." if fam.auto is not None else ""
        conditions = (" Read only under a condition by: " + ", ".join(str(s) for s in Step if s in fam.needs) + "."
                      if fam.needs else "")
        lines.append(f"| `{fam.pattern}` | {readers} | {fam.note[0].upper()}{fam.note[1:]}.{extra}{conditions} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
