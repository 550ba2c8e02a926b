"""``quotaflow diagnose``: the granular funnel view of a CRM export — each rep's conversion and time per stage
against the peer group, shrunk, with 90 % intervals, and the stages where a rep is credibly worse.

Writes, into a staged output folder (nothing is left behind on failure): ``diagnosis.csv`` (one row per rep, open
stage and measure), ``cleaning_report.csv`` (what was excluded or repaired on the way), ``summary.json`` and
``manifest.json``. The export is read and cleaned exactly as ``quotaflow calibrate`` reads it.
"""

from __future__ import annotations

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
    crm_date,
)
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
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    force: ForceOpt = False,
) -> None:
    """Diagnose each rep's conversion and time per funnel stage against their peers (empirical-Bayes shrinkage,
    90 % intervals) and list the stages where a rep is credibly worse."""
    day = crm_date(as_of)
    chosen = calibration.load_mapping(preset=preset, path=mapping)
    claim = claim_output(out, force=force, reads=[export_dir, mapping])
    result = calibration.diagnose_export(export_dir, chosen, as_of=day, strict=strict, encoding=encoding)
    with staged_output(claim) as stage:
        sheets: Sheets = {}
        files = write_result(result, stage, excel=excel, sheets=sheets)
        if xlsx:
            files.append(write_workbook(sheets, stage / "diagnose.xlsx"))
        write_manifest(stage, extra={"export": str(export_dir), "mapping": chosen.name,
                                     "as_of": str(result.model.as_of.date()), "strict": strict})
    typer.echo(repr(result))
    typer.echo(f"\nwrote {out}/: " + ", ".join([*files, "manifest.json"]))
