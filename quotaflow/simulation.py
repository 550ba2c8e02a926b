"""The ``quotaflow simulate`` command: run the funnel simulator on a scenario and plan and write its tables.

Writes ``kpis.csv`` (metric, mean, ci_low, ci_high), ``monthly.csv``, ``reps.csv``, ``funnel.csv``,
``replications.csv``, ``replication_monthly.csv``, ``replication_reps.csv``, ``summary.json`` and
``manifest.json`` into a staged output folder (nothing is left behind on failure).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from tqdm import tqdm

import scenarios
import sim
from quotaflow.manifest import write_manifest
from quotaflow.options import (
    AllowForeignPlanOpt,
    DecimalOpt,
    EncodingOpt,
    ExcelOpt,
    ForceOpt,
    IncentivesOpt,
    SetOpt,
    capped_workers,
    read_plan,
    scenario_source,
)
from quotaflow.output import claim_output, staged_output
from quotaflow.writer import write_json

__all__ = ["INCENTIVE_MODES", "incentive_hooks", "simulate_command", "summary"]

INCENTIVE_MODES = ("own", "none")
"""``--incentives`` values besides a pay plan id: each rep's own pay plan, or no incentive response at all."""


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
            f"use own, none or one of {sorted(scenario.settings.pay_plans)}", value=pay_plan_id))
    behaviour = sim.IncentiveBehaviour.from_scenario(scenario, pay_plan_id, plan)
    return behaviour, sim.PayPlanPay.from_scenario(scenario, pay_plan_id)


def summary(result: sim.SimulationResult) -> dict[str, Any]:
    """JSON-ready summary of a simulation: run facts and every KPI with its interval.

    Examples
    --------
    >>> import scenarios, sim
    >>> s = summary(sim.simulate(scenarios.load("tiny"), replications=2, seed=1))
    >>> s["run"]["replications"], "revenue" in s["kpis"]
    (2, True)
    """
    kpis = {row.metric: {"mean": _num(row.mean), "ci_low": _num(row.ci_low), "ci_high": _num(row.ci_high)}
            for row in result.kpis.itertuples(index=False)}
    return {"run": result.info, "kpis": kpis,
            "files": [f"{name}.csv" for name in result.tables()] + ["summary.json", "manifest.json"]}


def _num(x: Any) -> float | None:
    value = float(x)
    return None if value != value else value  # NaN (no interval with one replication) -> null


def simulate_command(
    scenario: Annotated[str, typer.Argument(help="Scenario folder, or a bundled name (baseline, tiny).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (written only when the run succeeds).")],
    plan: Annotated[Path | None, typer.Option("--plan", help="Plan folder (assignments.csv, optional quotas.csv, "
                                                             "budget.csv); default: today's assignment.")] = None,
    replications: Annotated[int | None, typer.Option(
        min=1, help="Replications (default: simulation.replications of the scenario).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: simulation.seed of the scenario).")]
    = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Worker processes (default: simulation.workers); results do not depend on it.")] = None,
    incentives: IncentivesOpt = "own",
    set_: SetOpt = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    allow_foreign_plan: AllowForeignPlanOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
) -> None:
    """Simulate the sales funnel over many replications and write KPIs with 95 % confidence intervals."""
    from quotaflow.readers import Evaluation, check_whatifs
    from quotaflow.sweep import apply_sets

    claim = claim_output(out, force=force, reads=[scenario_source(scenario), plan])
    base = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    s, changes = apply_sets(base, set_ or [])
    # The plan was made for the scenario as saved; --set what-ifs change it for this run only (the simulator
    # still checks the plan against the changed scenario).
    the_plan = (read_plan(plan, base, allow_foreign=allow_foreign_plan, encoding=encoding, decimal=decimal)
                if plan is not None else None)
    if changes:  # a --set this run cannot see is refused before the simulation starts
        evaluation = Evaluation("simulate", incentives=incentives, plan_assignment=the_plan is not None,
                                plan_quotas=the_plan is not None and the_plan.quotas is not None,
                                plan_budget=the_plan is not None and the_plan.budget is not None,
                                replications_given=replications is not None, seed_given=seed is not None)
        for note in check_whatifs(base, [("", changes)], evaluation):
            typer.echo(f"warning: {note}", err=True)
    behaviour, pay = incentive_hooks(s, the_plan, incentives)
    n = replications or s.settings.simulation.replications
    k = capped_workers(workers or s.settings.simulation.workers, n)
    with tqdm(total=n, desc="replications", unit="rep", disable=n < 5, leave=False) as bar, \
            staged_output(claim) as stage:
        result = sim.simulate(s, the_plan, replications=n, seed=seed, workers=k, behaviour=behaviour, pay=pay,
                              progress=lambda done: bar.update(done - bar.n))
        result.to_csv(stage, excel=excel)  # the API's writer: the same result gives the same bytes either way
        write_json(summary(result), stage / "summary.json")
        write_manifest(stage, scenario=s, seeds={"simulation": int(result.info["seed"])},
                       extra={"replications": n, "workers": k, "plan": result.info["plan"], "incentives": incentives,
                              "changes": changes})
    typer.echo(repr(result))
    typer.echo(f"\nwrote {out}: " + ", ".join(summary(result)["files"]))
