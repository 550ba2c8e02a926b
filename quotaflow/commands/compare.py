"""``quotaflow compare``: pay plans side by side on the same customers (``quotaflow.comparison.compare``).

Writes ``decision.csv`` (one row per pay plan, printed at the end), ``comparison.csv``, ``monthly.csv``,
``variance.csv``, ``replications.csv``, ``reps.csv``, PNG plots (``quotaflow.plots``), ``summary.json`` and
``manifest.json``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from tqdm import tqdm

import scenarios
from quotaflow.commands.options import (
    AllowForeignPlanOpt,
    CompareExcelOpt,
    DecimalOpt,
    EncodingOpt,
    ForceOpt,
    OldPlansOpt,
    OutOpt,
    PlanOpt,
    ScenarioArg,
    SetOpt,
    XlsxOpt,
    apply_sets,
    capped_workers,
    pay_plan_option,
    read_plan,
    scenario_source,
)
from quotaflow.comparison import compare
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.payout import designed_pay_curves, median_quota
from quotaflow.plots import plot_comparison
from quotaflow.readers import Evaluation, check_whatifs
from quotaflow.writer import Sheets, write_json, write_result, write_tables, write_workbook

__all__ = ["compare_command"]


def compare_command(
    scenario: ScenarioArg,
    out: OutOpt,
    pay_plans: Annotated[str | None, typer.Option(
        "--pay-plans", help="Comma-separated pay plan ids; the first is the reference.")] = None,
    replications: Annotated[int | None, typer.Option(
        min=2, help="Replications per pay plan (default: simulation.replications of the scenario).")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Root seed shared by all pay plans (default: simulation.seed).")]
    = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: simulation.workers).")]
    = None,
    plan: PlanOpt = None,
    set_: SetOpt = None,
    force: ForceOpt = False,
    excel: CompareExcelOpt = False,
    xlsx: XlsxOpt = False,
    allow_foreign_plan: AllowForeignPlanOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
    old_plans: OldPlansOpt = None,
    report: Annotated[bool, typer.Option(
        "--report", help="Also write the one-page report (report.html, report.pdf, overview.png) into --out.")]
    = False,
) -> None:
    """Compare pay plans on the same customers: paired deltas with 95 % CIs, monthly bookings, plots."""
    pay_plans = pay_plan_option(pay_plans, old_plans)
    if pay_plans is None:
        raise typer.BadParameter("name the pay plans to compare, e.g. --pay-plans flat_commission,capped",
                                 param_hint="--pay-plans")
    claim = claim_output(out, force=force, reads=[scenario_source(scenario), plan])
    base = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    s, changes = apply_sets(base, set_ or [])
    the_plan = (read_plan(plan, base, allow_foreign=allow_foreign_plan, encoding=encoding, decimal=decimal)
                if plan is not None else None)
    ids = [p.strip() for p in pay_plans.split(",") if p.strip()]
    if changes:  # a --set no compared pay plan can see is refused before any simulation starts
        evaluation = Evaluation("compare", compared=tuple(ids), plan_assignment=the_plan is not None,
                                plan_quotas=the_plan is not None and the_plan.quotas is not None,
                                plan_budget=the_plan is not None and the_plan.budget is not None,
                                replications_given=replications is not None, seed_given=seed is not None)
        for note in check_whatifs(base, [("", changes)], evaluation):
            typer.echo(f"warning: {note}", err=True)
    n = replications or s.settings.simulation.replications
    root = s.settings.simulation.seed if seed is None else seed
    k = capped_workers(workers or s.settings.simulation.workers, n)
    done: dict[str, int] = {}
    with tqdm(total=n * len(ids), desc="replications", unit="rep", disable=n * len(ids) < 5, leave=False) as bar, \
            staged_output(claim) as stage:
        def tick(pay_plan_id: str, count: int) -> None:
            done[pay_plan_id] = count
            bar.update(sum(done.values()) - bar.n)

        result = compare(s, ids, replications=n, seed=root, workers=k, plan=the_plan, progress=tick)
        sheets: Sheets = {}
        files = write_result(result, stage, excel=excel, summary=None, scenario=s, sheets=sheets)
        quota = median_quota(result.reps.groupby("rep_id")["quota"].median())
        if quota is not None:  # no rep has a quota: there is no attainment to draw pay against
            files += write_tables({"pay_curves": designed_pay_curves(s, ids, quota=quota)}, stage, excel=excel,
                                  sheets=sheets)
        if xlsx:
            files.append(write_workbook(sheets, stage / "compare.xlsx"))
        files += plot_comparison(result, stage)
        files += ["summary.json", "manifest.json"]
        write_json({**result.summary(), "files": files}, stage / "summary.json")
        write_manifest(stage, scenario=s, seeds={"simulation": int(root)},
                       extra={"kind": "compare", "replications": n, "workers": k, "plans": ids,
                              "plan": result.info["plan_source"], "changes": changes})
        if report:
            from quotaflow.report_page import build_report, write_report

            files += write_report(build_report(stage, check_unchanged=False), stage)
    typer.echo(repr(result))
    typer.echo(f"\nwrote {out}: " + ", ".join(files))
    typer.echo("\n" + result.decision_text())
