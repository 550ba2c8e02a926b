"""How a run's reps are paid and respond (``--incentives``): the simulator's behaviour and pay hooks for a
scenario and plan, shared by ``quotaflow simulate``, ``quotaflow sweep`` and the sweep's point evaluation."""

from __future__ import annotations

import scenarios
import sim

__all__ = ["incentive_hooks"]


def incentive_hooks(scenario: scenarios.Scenario, plan: scenarios.Plan | None,
                    incentives: str) -> tuple[sim.Behaviour | None, sim.PayFunction | None]:
    """The behaviour and pay function a run uses for ``--incentives``.

    ``own``: each rep's ``pay_plan_id`` (``sim.IncentiveBehaviour`` and ``sim.PayPlanPay``), so hours, deal
    order, timing games (when on) and pay follow the pay plan the rep is on; a pay plan id: everyone on that pay
    plan; ``none``: ``(None, None)``, the simulator's defaults (norm hours, the pay plan's flat commission rate
    only). ``plan`` is the assignment, quotas and budget the run simulates (None: today's assignment).

    Raises
    ------
    scenarios.ScenarioError
        An unknown pay plan id (exit code 2).

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> b, p = incentive_hooks(s, None, "own")
    >>> sorted(set(b.pay_plan_ids)) == sorted(set(s.reps["pay_plan_id"])), incentive_hooks(s, None, "none")
    (True, (None, None))
    """
    if incentives == "none":
        return None, None
    pay_plan_id = None if incentives == "own" else incentives
    if pay_plan_id is not None and pay_plan_id not in scenario.settings.pay_plans:
        raise scenarios.ScenarioError(scenarios.Problem(
            "--incentives", f"{pay_plan_id!r} is neither 'own', 'none' nor a pay plan of the scenario",
            scenarios.did_you_mean(pay_plan_id, scenario.settings.pay_plans)
            + f"use own, none or one of {sorted(scenario.settings.pay_plans)}", value=pay_plan_id))
    behaviour = sim.IncentiveBehaviour.from_scenario(scenario, pay_plan_id, plan)
    return behaviour, sim.PayPlanPay.from_scenario(scenario, pay_plan_id)
