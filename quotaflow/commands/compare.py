"""``quotaflow compare``: pay plans side by side on the same customers (``quotaflow.comparison.compare``).

Writes ``decision.csv`` (one row per pay plan, printed at the end), ``comparison.csv``, ``monthly.csv``,
``variance.csv``, ``replications.csv``, ``reps.csv``, PNG plots (``quotaflow.charts.files``), ``summary.json`` and
``manifest.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from tqdm import tqdm

import scenarios
from quotaflow.arms import Arm, allocation_facts, check_same_customers, compare_arms
from quotaflow.charts.files import plot_comparison
from quotaflow.commands.options import (
    AllowForeignPlanOpt,
    CompareExcelOpt,
    DecimalOpt,
    EncodingOpt,
    ForceOpt,
    OldPlansOpt,
    OutOpt,
    PlanOpt,
    SetOpt,
    XlsxOpt,
    apply_sets,
    capped_workers,
    pay_plan_option,
    read_plan,
    scenario_source,
)
from quotaflow.comparison import ComparisonResult, compare
from quotaflow.demo import demo_allocation
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.payout import designed_pay_curves, median_quota
from quotaflow.readers import Evaluation, check_whatifs
from quotaflow.writer import Sheets, write_json, write_result, write_tables, write_workbook

__all__ = ["compare_command"]


def compare_command(
    out: OutOpt,
    scenario: Annotated[str | None, typer.Argument(
        help="Scenario folder or bundled name (with --pay-plans or --plan-folders; not with --scenarios).")]
    = None,
    pay_plans: Annotated[str | None, typer.Option(
        "--pay-plans", help="Comma-separated pay plan ids; the first is the reference.")] = None,
    scenario_arms: Annotated[str | None, typer.Option(
        "--scenarios", help="Comma-separated scenario folders (or bundled names) with the same accounts, each "
                            "simulated with its reps on their own pay plans; the first is the reference.")] = None,
    plan_folders: Annotated[str | None, typer.Option(
        "--plan-folders", help="Comma-separated plan folders (allocate or demo output) for SCENARIO, each "
                               "simulated with its reps on their own pay plans; the first is the reference.")]
    = None,
    allocate: Annotated[bool, typer.Option(
        "--allocate", help="With --scenarios: allocate each scenario's accounts first (to its mip_gap) and "
                           "simulate that assignment, saying which limit binds in each.")] = False,
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
    """Compare pay plans, scenarios or plan folders on the same customers: paired deltas with 95 % CIs (common
    random numbers), monthly bookings, plots, and which allocation limit binds in each arm."""
    pay_plans = pay_plan_option(pay_plans, old_plans)
    modes = [name for name, value in (("--pay-plans", pay_plans), ("--scenarios", scenario_arms),
                                      ("--plan-folders", plan_folders)) if value is not None]
    if len(modes) != 1:
        raise typer.BadParameter("name what to compare with one of --pay-plans flat_commission,capped, "
                                 "--scenarios A,B or --plan-folders P,Q" + (f" (not {' and '.join(modes)})"
                                                                           if modes else ""),
                                 param_hint="--pay-plans")
    if report and (scenario_arms is not None or plan_folders is not None):
        raise typer.BadParameter("the one-page report reads a pay-plan comparison or a demo; compare arms are "
                                 "read from their tables (comparison.csv, decision.csv)", param_hint="--report")
    if allocate and scenario_arms is None:
        raise typer.BadParameter("--allocate applies to --scenarios arms only", param_hint="--allocate")
    if scenario_arms is not None or plan_folders is not None:
        if set_ or plan is not None:
            raise typer.BadParameter("--set and --plan change one scenario; with arms, edit each arm's scenario "
                                     "or plan folder instead", param_hint="--set")
        compare_arm_folders(scenario, out, scenario_arms=scenario_arms, plan_folders=plan_folders,
                            allocate=allocate, replications=replications, seed=seed, workers=workers, force=force,
                            excel=excel, xlsx=xlsx, allow_foreign_plan=allow_foreign_plan, encoding=encoding,
                            decimal=decimal)
        return
    if scenario is None:
        raise typer.BadParameter("give the SCENARIO whose pay plans to compare", param_hint="SCENARIO")
    claim = claim_output(out, force=force, reads=[scenario_source(scenario), plan])
    base = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    s, changes = apply_sets(base, set_ or [])
    the_plan = (read_plan(plan, base, allow_foreign=allow_foreign_plan, encoding=encoding, decimal=decimal)
                if plan is not None else None)
    ids = _split(pay_plans or "")
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
        files = _finish(result, stage, sheets, files, xlsx=xlsx, scenario=s, seed=int(root),
                        extra={"kind": "compare", "replications": n, "workers": k, "plans": ids,
                               "plan": result.info["plan_source"], "changes": changes})
        if report:
            from quotaflow.report_page import build_report, write_report

            files += write_report(build_report(stage, check_unchanged=False), stage)
    _publish_text(result, out, files)


def _finish(result: ComparisonResult, stage: Path, sheets: Sheets, files: list[str], *, xlsx: bool,
            scenario: scenarios.Scenario, seed: int, extra: dict[str, Any]) -> list[str]:
    """After a comparison's tables (``files`` so far): the workbook when asked, the plots, ``summary.json``
    listing every file, and the manifest; returns every file name."""
    files = list(files)
    if xlsx:
        files.append(write_workbook(sheets, stage / "compare.xlsx"))
    files += plot_comparison(result, stage)
    files += ["summary.json", "manifest.json"]
    write_json({**result.summary(), "files": files}, stage / "summary.json")
    write_manifest(stage, scenario=scenario, seeds={"simulation": seed}, extra=extra)
    return files


def _publish_text(result: ComparisonResult, out: Path, files: list[str]) -> None:
    typer.echo(repr(result))
    typer.echo(f"\nwrote {out}: " + ", ".join(files))
    typer.echo("\n" + result.decision_text())


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def compare_arm_folders(scenario: str | None, out: Path, *, scenario_arms: str | None, plan_folders: str | None,
                        allocate: bool, replications: int | None, seed: int | None, workers: int | None,
                        force: bool, excel: bool, xlsx: bool, allow_foreign_plan: bool, encoding: str | None,
                        decimal: str) -> None:
    """``compare --scenarios`` / ``--plan-folders``: load the arms, simulate them on the same customers
    (``quotaflow.arms.compare_arms``) and write the comparison like a pay plan comparison."""
    if scenario_arms is not None:
        if scenario is not None:
            raise typer.BadParameter("with --scenarios every arm is a scenario: drop the SCENARIO argument",
                                     param_hint="SCENARIO")
        names = _split(scenario_arms)
        claim = claim_output(out, force=force, reads=[scenario_source(n) for n in names])
        arms = []
        for name in names:
            s = scenarios.load(name, encoding=encoding, decimal=decimal)
            if not allocate:
                arms.append(Arm(name, s))
                continue
            typer.echo(f"allocating {name} ...", err=True)
            allocation = demo_allocation(s)
            arms.append(Arm(name, s, allocation.plan(), int(allocation.assignments["moved"].sum()),
                            allocation.binding))
        base = arms[0].scenario if arms else None
    else:
        if scenario is None:
            raise typer.BadParameter("--plan-folders compares plans for one SCENARIO: name it first",
                                     param_hint="SCENARIO")
        folders = [Path(p) for p in _split(plan_folders or "")]
        claim = claim_output(out, force=force, reads=[scenario_source(scenario), *folders])
        base = scenarios.load(scenario, encoding=encoding, decimal=decimal)
        arms = []
        for folder in folders:
            moved, binding = allocation_facts(folder)
            arms.append(Arm(str(folder), base, read_plan(folder, base, allow_foreign=allow_foreign_plan,
                                                         encoding=encoding, decimal=decimal), moved, binding))
    check_same_customers(arms)  # refused before any simulation starts
    assert base is not None
    n = replications or base.settings.simulation.replications
    root = base.settings.simulation.seed if seed is None else seed
    k = capped_workers(workers or base.settings.simulation.workers, n)
    done: dict[str, int] = {}
    with tqdm(total=n * len(arms), desc="replications", unit="rep", disable=n * len(arms) < 5,
              leave=False) as bar, staged_output(claim) as stage:
        def tick(label: str, count: int) -> None:
            done[label] = count
            bar.update(sum(done.values()) - bar.n)

        result = compare_arms(arms, replications=n, seed=root, workers=k, progress=tick)
        sheets: Sheets = {}
        files = write_result(result, stage, excel=excel, summary=None, scenario=base, sheets=sheets)
        files = _finish(result, stage, sheets, files, xlsx=xlsx, scenario=base, seed=int(root),
                        extra={"replications": n, "workers": k, "arms": [a.label for a in arms],
                               "arm_kind": "scenarios" if scenario_arms is not None else "plan folders",
                               "allocated": allocate})
    _publish_text(result, out, files)
