"""``quotaflow simulate``: run the funnel simulator on a scenario and plan and write its tables.

Writes ``kpis.csv`` (metric, mean, ci_low, ci_high), ``monthly.csv``, ``reps.csv``, ``funnel.csv``,
``replications.csv``, ``replication_monthly.csv``, ``replication_reps.csv``, ``summary.json`` and
``manifest.json`` into a staged output folder (nothing is left behind on failure). With ``--crm-export DIR``,
replication 1's deals and stage changes are also written as a Salesforce export (``Opportunity.csv``,
``OpportunityHistory.csv``, the ``mapping.toml`` that reads them back, ``manifest.json``) into a second staged
folder, claimed by the same rules as ``--out``: a run with known parameters that ``quotaflow calibrate`` can read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

import calibration
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
    XlsxOpt,
    apply_sets,
    capped_workers,
    read_plan,
    scenario_source,
)
from quotaflow.manifest import write_manifest
from quotaflow.output import OutputClaim, claim_output, staged_output
from quotaflow.readers import Evaluation, check_whatifs
from quotaflow.simulation import incentive_hooks
from quotaflow.writer import Sheets, write_json, write_result, write_workbook

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
    xlsx: XlsxOpt = False,
    allow_foreign_plan: AllowForeignPlanOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
    crm_export: Annotated[Path | None, typer.Option(
        "--crm-export", help="Also write replication 1's deals and stage history as a Salesforce export into this "
                             "folder (read back by: quotaflow calibrate DIR --mapping DIR/mapping.toml, or "
                             "--preset salesforce).")] = None,
) -> None:
    """Simulate the sales funnel over many replications and write KPIs with 95 % confidence intervals."""
    source = scenario_source(scenario)
    claim = claim_output(out, force=force, reads=[source, plan], apart=[crm_export])
    # The export folder is claimed before any work too, by the same rules as --out.
    crm_claim = claim_output(crm_export, force=force, reads=[source, plan]) if crm_export is not None else None
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
                              progress=lambda done: bar.update(done - bar.n), deal_log=crm_claim is not None)
        sheets: Sheets = {}
        files = write_result(result, stage, excel=excel, summary=None, scenario=s, sheets=sheets)
        if xlsx:
            files.append(write_workbook(sheets, stage / "simulate.xlsx"))
        files += ["summary.json", "manifest.json"]
        write_json({**result.summary(), "files": files}, stage / "summary.json")
        write_manifest(stage, scenario=s, seeds={"simulation": int(result.info["seed"])},
                       extra={"replications": n, "workers": k, "plan": result.info["plan"], "incentives": incentives,
                              "changes": changes})
        if crm_claim is not None:
            _write_crm_export(result, s, crm_claim, seed=int(result.info["seed"]))
    typer.echo(repr(result))
    typer.echo(f"\nwrote {out}: " + ", ".join(files))
    if crm_export is not None:
        typer.echo(f"wrote {crm_export}: Opportunity.csv, OpportunityHistory.csv, mapping.toml, manifest.json "
                   "(replication 1)")


def _write_crm_export(result: sim.SimulationResult, s: scenarios.Scenario, claim: OutputClaim, *, seed: int) -> None:
    """Replication 1's deals and stage changes as a Salesforce export, published in ``claim``'s folder."""
    assert result.deal_log is not None  # simulate was asked for it
    deals, history = result.deal_log
    first = deals["replication"].min()
    stages = s.settings.funnel.stages
    with staged_output(claim) as stage:
        calibration.write_crm_export(deals[deals["replication"] == first].drop(columns="replication"),
                                     history[history["replication"] == first].drop(columns="replication"), stage,
                                     stages=[st.name for st in stages], stage_ids=[st.id for st in stages])
        write_manifest(stage, scenario=s, seeds={"simulation": seed},
                       extra={"replication": 1, "preset": "salesforce"})
