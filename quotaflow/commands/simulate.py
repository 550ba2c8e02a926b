"""``quotaflow simulate``: run the funnel simulator on a scenario and plan and write its tables.

Writes ``kpis.csv`` (metric, mean, ci_low, ci_high), ``monthly.csv``, ``reps.csv``, ``funnel.csv``,
``replications.csv``, ``replication_monthly.csv``, ``replication_reps.csv``, ``summary.json`` and
``manifest.json`` into a staged output folder (nothing is left behind on failure).
"""

from __future__ import annotations

from typing import Annotated

import typer
from tqdm import tqdm

import scenarios
import sim
from quotaflow.commands.options import (
    AllowForeignPlanOpt,
    DecimalOpt,
    EncodingOpt,
    ExcelOpt,
    ForceOpt,
    IncentivesOpt,
    OutOpt,
    PlanOpt,
    ScenarioArg,
    SetOpt,
    apply_sets,
    capped_workers,
    read_plan,
    scenario_source,
)
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.readers import Evaluation, check_whatifs
from quotaflow.simulation import incentive_hooks
from quotaflow.writer import write_json, write_result

__all__ = ["simulate_command"]


def simulate_command(
    scenario: ScenarioArg,
    out: OutOpt,
    plan: PlanOpt = None,
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
        files = write_result(result, stage, excel=excel, summary=None)
        files += ["summary.json", "manifest.json"]
        write_json({**result.summary(), "files": files}, stage / "summary.json")
        write_manifest(stage, scenario=s, seeds={"simulation": int(result.info["seed"])},
                       extra={"replications": n, "workers": k, "plan": result.info["plan"], "incentives": incentives,
                              "changes": changes})
    typer.echo(repr(result))
    typer.echo(f"\nwrote {out}: " + ", ".join(files))
