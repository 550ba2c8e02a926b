"""The steps of an evaluation that read settings (`Step`) and what one run evaluates (`Evaluation`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

import scenarios

__all__ = ["Evaluation", "Step"]


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
