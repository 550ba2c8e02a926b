"""``quotaflow diagnose``: the granular funnel view of a CRM export — each rep's conversion and time per stage
against the peer group, shrunk, with 90 % intervals, and the stages where a rep is credibly worse.

Writes, into a staged output folder (nothing is left behind on failure): ``diagnosis.csv`` (one row per rep, open
stage and measure), ``cleaning_report.csv`` (what was excluded or repaired on the way), ``summary.json`` and
``manifest.json``. The export is read and cleaned exactly as ``quotaflow calibrate`` reads it.

Each credibly worse conversion also gets the simulated effect of lifting it to the peer median (``quotaflow.lift``:
the scenario calibrated on the same export and day, paired runs with and without the lift). It is on by default
because the effect is what makes a flag actionable and it costs nothing when nothing is flagged;
``--replications 0`` skips it.
"""

from __future__ import annotations

from typing import Annotated

import typer

import calibration
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
    capped_workers,
    crm_date,
)
from quotaflow.lift import LIFT_REPLICATIONS, diagnose_with_lift
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.writer import Sheets, write_result, write_workbook

__all__ = ["diagnose_command"]


def diagnose_command(
    export_dir: ExportArg,
    out: OutOpt,
    preset: CrmPresetOpt = None,
    mapping: CrmMappingOpt = None,
    as_of: AsOfOpt = None,
    encoding: CrmEncodingOpt = None,
    strict: StrictOpt = False,
    replications: Annotated[int, typer.Option(
        min=0, help="Paired simulator replications of the effect of lifting each credibly worse conversion to the "
                    "peer median (0: do not simulate).")] = LIFT_REPLICATIONS,
    seed: Annotated[int, typer.Option(min=0, help="Root seed of the lift's paired runs.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes of the lift's runs; results do not depend "
                                                     "on it.")] = 1,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    force: ForceOpt = False,
) -> None:
    """Diagnose each rep's conversion and time per funnel stage against their peers (empirical-Bayes shrinkage,
    90 % intervals), list the stages where a rep is credibly worse, and simulate the effect of lifting each credibly
    worse conversion to the peer median."""
    day = crm_date(as_of)
    chosen = calibration.load_mapping(preset=preset, path=mapping)
    claim = claim_output(out, force=force, reads=[export_dir, mapping])
    result = diagnose_with_lift(export_dir, chosen, as_of=day, strict=strict, encoding=encoding,
                                replications=replications, seed=seed,
                                workers=capped_workers(workers, max(replications, 1)))
    with staged_output(claim) as stage:
        sheets: Sheets = {}
        files = write_result(result, stage, excel=excel, sheets=sheets)
        if xlsx:
            files.append(write_workbook(sheets, stage / "diagnose.xlsx"))
        write_manifest(stage, seeds={"lift": seed}, extra={"export": str(export_dir), "mapping": chosen.name,
                                     "as_of": str(result.model.as_of.date()), "strict": strict,
                                     "replications": replications})
    typer.echo(repr(result))
    typer.echo(f"\nwrote {out}/: " + ", ".join([*files, "manifest.json"]))
