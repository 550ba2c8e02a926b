"""``quotaflow backtest``: how well the calibrated simulator would have forecast a CRM export's wins, beside the
two forecasts every CRM shows (the weighted pipeline and the seasonal naive).

For each cutoff the export is rebuilt as it stood that day (nothing dated later is used), a scenario is
calibrated on it, and the simulator runs the next months from that day's open pipeline. Writes, into a staged
output folder (nothing is left behind on failure): ``backtest.csv`` (per cutoff, month, metric and model: actual,
point, p10/p50/p90, hit, pinball losses, error), ``backtest_summary.csv`` (per metric and model: coverage of the
80 % interval, pinball loss at 0.1/0.5/0.9, absolute percentage error of the median), ``backtest.png`` (actual
against the simulator's P10-P90 band and the baselines' medians, per cutoff and metric, titled with the finding),
``summary.json`` and ``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

import calibration
from quotaflow.backtest import BASELINE_DRAWS, run_backtest
from quotaflow.charts.files import plot_backtest
from quotaflow.commands.options import (
    CrmEncodingOpt,
    CrmMappingOpt,
    CrmPresetOpt,
    ExcelOpt,
    ExportArg,
    ForceOpt,
    OutOpt,
    XlsxOpt,
    crm_date,
)
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.writer import Sheets, write_result, write_workbook

__all__ = ["backtest_command"]


def _cutoffs(value: str) -> list[dt.date]:
    days = [crm_date(part.strip()) for part in value.split(",") if part.strip()]
    if not days:
        raise typer.BadParameter("give one or more month-end dates, e.g. 2017-06-30,2017-09-30")
    if len(set(days)) != len(days):
        raise typer.BadParameter(f"{value!r} names a cutoff twice; give each cutoff once")
    return sorted(d for d in days if d is not None)


def backtest_command(
    export_dir: ExportArg,
    out: OutOpt,
    cutoffs: Annotated[str, typer.Option("--cutoffs", help="Month-end cutoffs, comma-separated (YYYY-MM-DD,...): "
                                                           "each forecast uses only what was known that day.")],
    horizon_months: Annotated[int, typer.Option("--horizon-months", min=1,
                                                help="Months forecast and scored after each cutoff.")],
    replications: Annotated[int, typer.Option(min=1, help="Simulator replications per cutoff.")],
    seed: Annotated[int, typer.Option(min=0, help="Root seed of the simulator and the baselines' draws.")],
    preset: CrmPresetOpt = None,
    mapping: CrmMappingOpt = None,
    encoding: CrmEncodingOpt = None,
    draws: Annotated[int, typer.Option(min=100, help="Monte Carlo draws of each baseline's predictive "
                                                     "quantiles.")] = BASELINE_DRAWS,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    force: ForceOpt = False,
) -> None:
    """Back-test the calibrated simulator against the weighted pipeline and the seasonal naive: coverage of the
    80 % interval, pinball loss and error of the median, per metric (won deals, won value)."""
    days = _cutoffs(cutoffs)
    chosen = calibration.load_mapping(preset=preset, path=mapping)
    claim = claim_output(out, force=force, reads=[export_dir, mapping])
    result = run_backtest(export_dir, chosen, days, horizon_months, replications=replications, seed=seed,
                          draws=draws, encoding=encoding)
    with staged_output(claim) as stage:
        sheets: Sheets = {}
        files = write_result(result, stage, excel=excel, sheets=sheets)
        plot_backtest(result.detail, result.scores, stage / "backtest.png")
        files.append("backtest.png")
        if xlsx:
            files.append(write_workbook(sheets, stage / "backtest.xlsx"))
        write_manifest(stage, seeds={"backtest": seed},
                       extra={"export": str(export_dir), "mapping": chosen.name, "cutoffs": [str(d) for d in days],
                              "horizon_months": horizon_months, "replications": replications, "draws": draws})
    typer.echo(repr(result))
    typer.echo(f"\nwrote {out}/: " + ", ".join([*files, "manifest.json"]))
