"""``quotaflow calibrate``: a CRM export to a calibrated scenario folder with its estimates.

Writes, into a staged output folder (nothing is left behind on failure): the scenario (``scenario.toml``,
``reps.csv``, ``accounts.csv``, validated by ``scenarios.load`` before it is published), ``calibration.json``,
``report.md``, ``cleaning_report.csv``, ``sufficiency.csv``, one CSV per estimate under ``estimates/`` and
``manifest.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import calibration
import scenarios
from quotaflow.commands.options import (
    AsOfOpt,
    CrmEncodingOpt,
    CrmMappingOpt,
    CrmPresetOpt,
    ExcelOpt,
    ExportArg,
    ForceOpt,
    OutOpt,
    StrictOpt,
    XlsxOpt,
    crm_date,
)
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.timing_fit import fit_timing
from quotaflow.writer import Sheets, write_result, write_tables, write_text, write_workbook

__all__ = ["calibrate_command"]


def calibrate_command(
    export_dir: ExportArg,
    out: OutOpt,
    preset: CrmPresetOpt = None,
    mapping: CrmMappingOpt = None,
    as_of: AsOfOpt = None,
    base: Annotated[str | None, typer.Option(help="Scenario whose pay plans, targets and channels are kept (folder "
                                                  "or bundled name); default: only what an export cannot tell "
                                                  "comes from the bundled baseline.")] = None,
    encoding: CrmEncodingOpt = None,
    strict: StrictOpt = False,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap intervals.")] = 0,
    fit_timing_: Annotated[bool, typer.Option("--fit-timing", help="Estimate [behaviour] customer_pull_share, "
                                              "customer_push_share and closing_speed_elasticity: the point whose "
                                              "simulated month-of-quarter (and December) profile of wins matches "
                                              "the export's, reps assumed on --timing-plan (docs/calibration.md).")
                           ] = False,
    timing_plan: Annotated[str, typer.Option(help="Pay plan the export's reps are assumed to have been paid under "
                                                  "(for --fit-timing).")] = "quarterly_bonus",
    timing_replications: Annotated[int, typer.Option(min=2, help="Replications per grid point (--fit-timing).")
                                   ] = 8,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    force: ForceOpt = False,
) -> None:
    """Calibrate a scenario from a CRM export: funnel conversion and dwell (survival analysis), shrunk per-rep
    skills, arrivals, deal sizes and the timing of wins, each with its interval and sample size."""
    day = crm_date(as_of)
    chosen = calibration.load_mapping(preset=preset, path=mapping)
    reads: list[Path | None] = [export_dir, mapping, Path(base) if base is not None and Path(base).is_dir() else None]
    claim = claim_output(out, force=force, reads=reads)
    result = calibration.calibrate(export_dir, chosen, as_of=day, base=base, strict=strict, encoding=encoding,
                                   seed=seed)
    scenario = result.scenario
    report = result.report()
    fit = None
    if fit_timing_:
        split = None if result.timing.calendar is None else result.timing.calendar.split_days
        fit = fit_timing(scenario, result.timing.month_of_quarter, result.timing.december, pay_plan=timing_plan,
                         calendar_days=split, replications=timing_replications, seed=seed + 1)
        scenario = scenarios.modify(scenario, fit.settings())
        report += f"\n{fit.note()}\n"
    with staged_output(claim) as stage:
        scenarios.save(scenario, stage)
        scenarios.load(stage)  # what every other command will read: refuse to publish what it would not accept
        sheets: Sheets = {}
        write_result(result, stage, excel=excel, summary="calibration.json", sheets=sheets)
        write_text(report, stage / "report.md")
        if fit is not None:
            write_tables({"estimates/timing_fit": fit.grid}, stage, excel=excel, sheets=sheets)
        if xlsx:
            write_workbook(sheets, stage / "calibrate.xlsx")
        write_manifest(stage, scenario=scenario, seeds={"bootstrap": seed},
                       extra={"export": str(export_dir), "mapping": chosen.name,
                              "as_of": str(result.model.as_of.date()), "strict": strict,
                              "close_calendar": None if result.timing.calendar is None else {
                                  "split_days": result.timing.calendar.split_days,
                                  "split_rule": result.timing.calendar.split_rule,
                                  "reading": result.timing.calendar.reading},
                              "timing_fit": None if fit is None else {"pay_plan": fit.pay_plan,
                                                                      "replications": fit.replications,
                                                                      "customer_pull_share": fit.pull_share,
                                                                      "customer_push_share": fit.push_share,
                                                                      "closing_speed_elasticity": fit.elasticity,
                                                                      "decision_calendar": fit.calendar,
                                                                      "decision_calendar_days": fit.calendar_days,
                                                                      "quarter_end_waiting": fit.waiting,
                                                                      "reproduces": fit.reproduces}})
    typer.echo(report)
    typer.echo(f"wrote {out}/: scenario.toml, reps.csv, accounts.csv, calibration.json, report.md, "
               "cleaning_report.csv, sufficiency.csv, estimates/*.csv, manifest.json")
