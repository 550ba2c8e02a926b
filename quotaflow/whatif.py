"""What a sweep evaluates at each point: optionally re-allocate accounts, set quotas and optimise the marketing
budget, then simulate with the point's scenario on common random numbers (`simulate_point`, run by the
picklable `PointSimulation`). Every swept path is checked first against what this evaluation reads
(``quotaflow.readers``): a path nothing reads is refused before any task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

import scenarios
import sim
from quotaflow.errors import GridError
from quotaflow.grid import SweepPoint
from quotaflow.metrics import attainment_spread
from quotaflow.quotas import QUOTA_SAMPLES, sample_method, simulated_sales
from quotaflow.readers import Evaluation, check_whatifs, sweep_steps
from quotaflow.simulation import incentive_hooks

__all__ = ["BUDGET_MODES", "QUOTA_MODES", "PointSimulation", "evaluator_for", "simulate_point"]


QUOTA_MODES = ("auto", "default", "set")
"""``--quotas`` of sweep: ``default`` = the simulator's own quotas (target x over-assignment by expected sales),
``set`` = ``optimizer.set_quotas`` with the point's ``[quotas] method`` at every point, ``auto`` = ``set`` when a
point changes a setting only the quota step reads (``quotaflow.readers.sweep_steps``)."""


BUDGET_MODES = ("auto", "today", "optimise")
"""``--budget`` of sweep: ``today`` = channels' ``default_monthly_spend``, ``optimise`` =
``optimizer.allocate_budget`` at every point (demand then follows its ``expected_leads``), ``auto`` = ``optimise``
when a point changes ``budget.*`` or a channel's curve, quality or bounds."""


def _flags(flags: list[tuple[str, float]], replications: int) -> pd.DataFrame:
    """The steps' outcome metrics (``allocation_feasible``, ``budget_spent`` ...), one row per replication."""
    return pd.DataFrame([(r, metric, value) for metric, value in flags for r in range(replications)],
                        columns=["replication", "metric", "value"])


def simulate_point(scenario: scenarios.Scenario, *, replications: int, seed: int, allocate: bool,
                   incentives: str = "none", quotas: str = "default", budget: str = "today") -> pd.DataFrame:
    """Evaluate one sweep point: (re-allocate, set quotas, optimise the budget when asked, then) simulate; one
    row per replication and metric.

    ``incentives`` as ``quotaflow simulate --incentives`` (``quotaflow.simulation.incentive_hooks``); the sweep
    command runs it through `PointSimulation`, whose default is ``own``. ``quotas="set"`` puts the quotas of
    ``optimizer.set_quotas`` (the point's ``[quotas]`` method; ``equal_probability`` draws its sales samples with
    the point's seed) into the simulated plan, ``budget="optimise"`` the budget of ``optimizer.allocate_budget``.

    A step with no answer at the point (an infeasible allocation, quotas outside the tier bounds, channel minimums
    above the budget) is a result, not a crash: the point gets ``<step>_feasible = 0`` and no simulated metrics.
    Each step run adds ``allocation_feasible``, ``quotas_feasible`` or ``budget_feasible`` = 1; the allocation
    also ``allocation_objective``, ``allocation_travel_km`` and ``allocation_moved`` (accounts that change rep),
    the budget step ``budget_spent`` and ``budget_expected_leads`` (what the money buys).

    Examples
    --------
    >>> rows = simulate_point(scenarios.load("tiny"), replications=2, seed=1, allocate=False)
    >>> sorted(rows.columns), rows["replication"].nunique()
    (['metric', 'replication', 'value'], 2)
    >>> rows = simulate_point(scenarios.load("tiny"), replications=1, seed=1, allocate=False, budget="optimise")
    >>> round(float(rows.set_index("metric").loc["budget_spent", "value"]))
    86000
    """
    flags: list[tuple[str, float]] = []
    plan = None
    if allocate or quotas == "set" or budget == "optimise":
        import optimizer

        if allocate:
            allocation = optimizer.allocate(scenario)
            if not allocation.ok:
                return _flags([("allocation_feasible", 0.0)], replications)
            moves = allocation.assignments
            flags += [("allocation_feasible", 1.0), ("allocation_objective", float(allocation.objective)),
                      ("allocation_travel_km", float(moves["travel_km"].sum())),
                      ("allocation_moved", float(moves["moved"].sum()))]
            plan = allocation.plan()
        assignment = (plan or scenarios.Plan.current(scenario)).assignment
        quota_table = budget_table = None
        if quotas == "set":
            samples = (simulated_sales(scenario, assignment, replications=max(replications, QUOTA_SAMPLES), seed=seed)
                       if sample_method(scenario, None) else None)
            try:
                quota_table = optimizer.set_quotas(scenario, assignment, sales_distribution=samples).quotas
            except optimizer.QuotaError:
                return _flags([*flags, ("quotas_feasible", 0.0)], replications)
            flags.append(("quotas_feasible", 1.0))
        if budget == "optimise":
            try:
                spend = optimizer.allocate_budget(scenario)
            except optimizer.BudgetError:
                return _flags([*flags, ("budget_feasible", 0.0)], replications)
            budget_table = spend.budget
            flags += [("budget_feasible", 1.0), ("budget_spent", float(spend.spent)),
                      ("budget_expected_leads", float(budget_table["expected_leads"].sum()))]
        plan = scenarios.Plan(assignment=assignment, quotas=quota_table, budget=budget_table, source="sweep point")
    behaviour, pay = incentive_hooks(scenario, plan, incentives)
    result = sim.simulate(scenario, plan, replications=replications, seed=seed, workers=1, behaviour=behaviour,
                          pay=pay)
    # the reps' attainment spread shows what a quota what-if does when company totals stay the same
    table = result.replications.merge(attainment_spread(result.replication_reps), on="replication", how="left")
    rows = table.melt(id_vars="replication", var_name="metric", value_name="value")
    if flags:
        rows = pd.concat([_flags(flags, replications), rows], ignore_index=True)
    return rows


@dataclass(frozen=True)
class PointSimulation:
    """The sweep's evaluator: `simulate_point` with an ``--incentives`` mode and the optional quota and budget
    steps (picklable; its repr names the modes, so a resumed sweep never reuses tasks run under other modes).

    Examples
    --------
    >>> PointSimulation("own")(scenarios.load("tiny"), replications=2, seed=1, allocate=False)["metric"].nunique() > 10
    True
    """

    incentives: str = "own"
    quotas: str = "default"
    budget: str = "today"

    def __post_init__(self) -> None:
        if self.quotas not in QUOTA_MODES[1:]:
            raise GridError(f"--quotas {self.quotas!r}: use {', '.join(QUOTA_MODES)}")
        if self.budget not in BUDGET_MODES[1:]:
            raise GridError(f"--budget {self.budget!r}: use {', '.join(BUDGET_MODES)}")

    def __call__(self, scenario: scenarios.Scenario, *, replications: int, seed: int,
                 allocate: bool) -> pd.DataFrame:
        return simulate_point(scenario, replications=replications, seed=seed, allocate=allocate,
                              incentives=self.incentives, quotas=self.quotas, budget=self.budget)

    def evaluation(self, *, allocate: bool) -> Evaluation:
        """What a sweep with this evaluator computes at each point (for `check`)."""
        return Evaluation("sweep", incentives=self.incentives, allocate=allocate, quota_step=self.quotas == "set",
                          budget_step=self.budget == "optimise")

    def check(self, scenario: scenarios.Scenario, points: Sequence[SweepPoint], *, allocate: bool) -> list[str]:
        """Refuse points whose changes this evaluation cannot see (``quotaflow.readers.check_whatifs``); return
        notes worth a warning. ``sweep`` calls it before any task runs."""
        return check_whatifs(scenario, [(p.label, p.changes) for p in points], self.evaluation(allocate=allocate),
                             option="sweep path")


def evaluator_for(points: Sequence[SweepPoint], *, incentives: str = "own", quotas: str = "auto",
                  budget: str = "auto") -> PointSimulation:
    """The sweep's evaluator with ``auto`` modes resolved from the swept paths (``quotaflow.readers.sweep_steps``).

    Examples
    --------
    >>> evaluator_for([SweepPoint("a", {"budget.total": 2e5})])
    PointSimulation(incentives='own', quotas='default', budget='optimise')
    """
    if quotas not in QUOTA_MODES:
        raise GridError(f"--quotas {quotas!r}: use {', '.join(QUOTA_MODES)}")
    if budget not in BUDGET_MODES:
        raise GridError(f"--budget {budget!r}: use {', '.join(BUDGET_MODES)}")
    set_quotas, optimise = sweep_steps(list(dict.fromkeys(k for p in points for k in p.changes)), quotas=quotas,
                                       budget=budget)
    return PointSimulation(incentives, "set" if set_quotas else "default", "optimise" if optimise else "today")
