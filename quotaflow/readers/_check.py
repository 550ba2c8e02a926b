"""The check that every what-if reaches what a command runs (`check_whatifs`), and which optional steps a sweep
runs at every point (`sweep_steps`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import scenarios
from quotaflow.errors import GridError
from quotaflow.readers._families import Family, family_of
from quotaflow.readers._steps import Evaluation, Step
from sim import constant_rate

__all__ = ["check_whatifs", "sweep_steps"]

S = Step


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
