"""Comparisons whose arms are whole scenarios (``compare --scenarios A,B``) or plan folders for one scenario
(``compare --plan-folders P,Q``), on the same customers with common random numbers and paired statistics.

Each arm is simulated with every rep on their own pay plan (``reps.pay_plan_id``, as ``simulate --incentives
own``) and the same root seed, so replication ``i`` of every arm draws the same leads, values, durations and
outcomes for the same accounts; the differences against the first arm are paired by replication
(``quotaflow.comparison.assemble``). Arms must share their customers: the same account ids and the same calendar,
else a difference would mix the what-if with a different market, and the comparison is refused.

When an arm's plan came from the allocator (a plan folder written by ``allocate`` or ``demo``, or a scenario arm
allocated with ``--allocate``), its binding constraint families and their shadow prices
(``optimizer.AllocationResult.binding``) are kept, and `why_lines` says which limit explains a difference in the
accounts moved ("B moves 12 accounts more than A because A's moved-potential budget binds ...").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import scenarios
import sim
from quotaflow.comparison import ComparisonResult, assemble, monthly_rows, rep_rows, require_pairs
from quotaflow.decision import format_number
from quotaflow.errors import ComparisonError
from quotaflow.metrics import pay_budget, per_replication
from quotaflow.simulation import incentive_hooks

__all__ = ["Arm", "allocation_facts", "check_same_customers", "compare_arms", "why_lines"]

_BUDGETS = ("moved_accounts", "moved_potential")


@dataclass(frozen=True, eq=False)
class Arm:
    """One arm of a comparison.

    Parameters
    ----------
    label
        The arm's name in every table (its ``plan`` column): the scenario or folder name as given.
    scenario
        The scenario the arm simulates.
    plan
        The plan (assignment, quotas, budget) it simulates; None = the scenario's own assignment.
    moved
        Accounts the allocation moved away from today's rep (None when the plan did not come from the allocator).
    binding
        The allocation's binding constraint families (``optimizer.AllocationResult.binding``); None = unknown.
    """

    label: str
    scenario: scenarios.Scenario
    plan: scenarios.Plan | None = None
    moved: int | None = None
    binding: tuple[dict[str, Any], ...] | None = None


def allocation_facts(folder: Path) -> tuple[int | None, tuple[dict[str, Any], ...] | None]:
    """``(moved, binding)`` from a plan folder's ``summary.json`` as ``allocate`` and ``demo`` write it; None for
    each fact the folder does not hold (a hand-made plan, or one written before binding constraints were kept)."""
    path = folder / "summary.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    summary = data.get("allocation", data) if isinstance(data, dict) else {}
    if not isinstance(summary, dict):
        return None, None
    moved = summary.get("moved")
    binding = summary.get("binding")
    return (int(moved) if isinstance(moved, int | float) else None,
            tuple(b for b in binding if isinstance(b, dict)) if isinstance(binding, list) else None)


def check_same_customers(arms: Sequence[Arm]) -> list[str]:
    """Refuse arms that do not share their customers; return notes on other differences in the accounts table.

    Raises
    ------
    ComparisonError
        Fewer than two arms, repeated labels, different account ids or a different calendar (exit code 2).
    """
    if len(arms) < 2:
        raise ComparisonError(scenarios.Problem("--scenarios / --plan-folders", f"{len(arms)} arm(s) given",
                                                "give at least two, comma-separated; the first is the reference"))
    labels = [a.label for a in arms]
    if len(set(labels)) != len(labels):
        raise ComparisonError(scenarios.Problem("--scenarios / --plan-folders", f"an arm is listed twice in "
                                                f"{labels}", "list each arm once"))
    first = arms[0]
    ids = set(first.scenario.accounts.index)
    notes: list[str] = []
    for arm in arms[1:]:
        other = set(arm.scenario.accounts.index)
        if other != ids:
            only_a, only_b = sorted(ids - other), sorted(other - ids)
            raise ComparisonError(scenarios.Problem(
                arm.label, f"does not share its customers with {first.label}: {len(only_a)} account(s) only in "
                f"{first.label} (e.g. {only_a[:3]}), {len(only_b)} only in {arm.label} (e.g. {only_b[:3]})",
                "compare arms made from one scenario (quotaflow scenario copy, then edit reps, settings or plans); "
                "a comparison on different customers would mix the what-if with a different market"))
        if arm.scenario.settings.calendar != first.scenario.settings.calendar:
            raise ComparisonError(scenarios.Problem(
                arm.label, f"has another calendar than {first.label}", "use the same [calendar] in every arm, so "
                "that months pair up"))
        columns = [c for c in first.scenario.accounts.columns if c != "current_rep_id"]
        mine = first.scenario.accounts[columns]
        theirs = arm.scenario.accounts.reindex(mine.index)[columns] if set(columns) <= set(
            arm.scenario.accounts.columns) else None
        if theirs is None or not mine.equals(theirs):
            notes.append(f"{arm.label}'s accounts table differs from {first.label}'s beyond today's reps: the "
                         "same demand streams are drawn, but for customers that differ")
        elif (arm.plan is None and first.plan is None
              and scenarios.fingerprint(arm.scenario) == scenarios.fingerprint(first.scenario)):
            notes.append(f"{arm.label} is the same scenario as {first.label}: every difference is zero by "
                         "construction (a check of common random numbers, not a what-if)")
    return notes


def compare_arms(arms: Sequence[Arm], *, replications: int, seed: int, workers: int = 1,
                 progress: Callable[[str, int], None] | None = None) -> ComparisonResult:
    """Simulate every arm on the same customers (same root seed) and compare them against the first.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> res = compare_arms([Arm("a", s), Arm("b", s)], replications=2, seed=1)
    >>> float(res.delta("revenue", "b")[0])  # identical arms: exactly no difference
    0.0
    """
    notes = check_same_customers(arms)
    require_pairs(replications)
    labels = [a.label for a in arms]
    per_arm: dict[str, pd.DataFrame] = {}
    budgets: dict[str, float] = {}
    monthly: list[pd.DataFrame] = []
    reps: list[pd.DataFrame] = []
    funnels: list[pd.DataFrame] = []
    for arm in arms:
        sim.check_memory(arm.scenario, replications, copies=len(arms))
        model = sim.build(arm.scenario, arm.plan)
        behaviour, pay = incentive_hooks(arm.scenario, arm.plan, "own")
        report: Callable[[int], None] | None = None
        if progress is not None:
            def report(done: int, _label: str = arm.label) -> None:
                progress(_label, done)  # type: ignore[misc]
        res = sim.simulate(model, replications=replications, seed=seed, workers=workers, behaviour=behaviour,
                           pay=pay, progress=report)
        known, own = arm.scenario.settings.pay_plans, arm.scenario.reps["pay_plan_id"]
        budgets[arm.label] = pay_budget(model, [known[str(own.loc[r])] for r in model.rep_ids])
        per_arm[arm.label] = per_replication(res, budgets[arm.label])
        monthly.append(monthly_rows(arm.label, res))
        reps.append(rep_rows(arm.label, res))
        funnels.append(res.funnel.assign(plan=arm.label))
    info: dict[str, Any] = {
        "scenario": ", ".join(dict.fromkeys(a.scenario.name for a in arms)), "plans": labels,
        "replications": replications, "seed": seed, "currency": arms[0].scenario.settings.currency,
        "plan_source": {a.label: (a.plan.source if a.plan is not None else "today's assignment") for a in arms},
        "pay": "every rep on their own pay plan (reps.pay_plan_id)",
        "budget": "base + target variable pay at 100 % of quota under each rep's pay plan, all seats, over the "
                  "horizon", "compensation_budget": budgets,
        "binding": {a.label: list(a.binding) for a in arms if a.binding is not None},
        "moved": {a.label: a.moved for a in arms if a.moved is not None},
        "notes": notes, "why": [line for arm in arms[1:] for line in why_lines(arms[0], arm)],
        "variance_independent": "var(a) + var(b) of the per-arm replications (not a second, independent run)"}
    return assemble(labels, per_arm, monthly, reps, info, funnels)


def _price(record: Mapping[str, Any]) -> str:
    text = f"shadow price {format_number(float(record['shadow_price']))} {record['unit']}"
    if record.get("limit") is not None:
        text += (f"; the plan uses {format_number(float(record['used']))} of "
                 f"{format_number(float(record['limit']))}")
    return text


def _families(arm: Arm) -> dict[str, dict[str, Any]]:
    return {str(b["family"]): b for b in (arm.binding or ())}


def why_lines(reference: Arm, arm: Arm) -> list[str]:
    """Plain-language lines saying which allocation limit explains how ``arm`` differs from ``reference``.

    A limit binds when its shadow price in the allocation's LP relaxation is not zero (loosening it by one unit
    would be worth that much objective). Empty when neither arm's plan came from the allocator.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> budget = {"family": "moved_potential", "label": "moved-potential budget (max_moved_share)",
    ...           "binding_rows": 1, "shadow_price": 0.8, "unit": "per unit of annual potential",
    ...           "used": 6.0e5, "limit": 6.0e5}
    >>> print(why_lines(Arm("A", s, moved=3, binding=(budget,)), Arm("B", s, moved=15, binding=()))[0])
    ... # doctest: +NORMALIZE_WHITESPACE
    B moves 12 accounts more than A because A's moved-potential budget (max_moved_share) binds
    (shadow price 0.8 per unit of annual potential; the plan uses 600 K of 600 K)
    """
    if reference.binding is None and arm.binding is None:
        return []
    if reference.binding is None or arm.binding is None:
        unknown = reference if reference.binding is None else arm
        return [f"{unknown.label}'s plan has no allocation summary (summary.json with binding constraints), so "
                "which limit moved the result cannot be said"]
    mine, theirs = _families(reference), _families(arm)
    lines: list[str] = []
    if reference.moved is not None and arm.moved is not None and reference.moved != arm.moved:
        more = arm.moved > reference.moved
        fewer_arm, fewer = (reference, mine) if more else (arm, theirs)
        budget = next((fewer[f] for f in _BUDGETS if f in fewer), None)
        text = (f"{arm.label} moves {abs(arm.moved - reference.moved)} accounts {'more' if more else 'fewer'} "
                f"than {reference.label}")
        if budget is not None:
            text += f" because {fewer_arm.label}'s {budget['label']} binds ({_price(budget)})"
        else:
            text += " with no moved-accounts or moved-potential budget binding in either plan"
        lines.append(text)
    for family in sorted(set(mine) | set(theirs)):
        if family in theirs and family not in mine:
            lines.append(f"only in {arm.label} does {theirs[family]['label']} bind ({_price(theirs[family])})")
        elif family in mine and family not in theirs:
            lines.append(f"only in {reference.label} does {mine[family]['label']} bind ({_price(mine[family])})")
        elif family not in _BUDGETS or not lines:
            a, b = float(mine[family]["shadow_price"]), float(theirs[family]["shadow_price"])
            if not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9):
                lines.append(f"{theirs[family]['label']} binds in both; its shadow price is {format_number(b)} "
                             f"{theirs[family]['unit']} in {arm.label} against {format_number(a)} in "
                             f"{reference.label}")
    return lines
