"""``quotaflow pay``: what given bookings would have paid under each pay plan (``quotaflow.payout``); writes
``statements.csv``, ``summary.csv``, ``plans.csv`` and ``manifest.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import scenarios
from quotaflow.commands.options import (
    DecimalOpt,
    EncodingOpt,
    ExcelOpt,
    ForceOpt,
    OldPlansOpt,
    OutOpt,
    ScenarioArg,
    XlsxOpt,
    pay_plan_option,
    scenario_source,
)
from quotaflow.manifest import write_manifest
from quotaflow.output import claim_output, staged_output
from quotaflow.payout import OWN_PAY_PLAN, pay_for_bookings, read_bookings
from quotaflow.writer import Sheets, write_result, write_workbook

__all__ = ["pay_command"]


def pay_command(
    scenario: ScenarioArg,
    bookings: Annotated[Path, typer.Option("--bookings", help="CSV: rep_id, period, bookings, quota[, travel_km].")],
    out: OutOpt,
    pay_plans: Annotated[str | None, typer.Option(
        "--pay-plans", help="Comma-separated pay plan ids to put every rep on; default: each rep's own "
                            "pay_plan_id.")] = None,
    force: ForceOpt = False,
    excel: ExcelOpt = False,
    xlsx: XlsxOpt = False,
    encoding: EncodingOpt = None,
    decimal: DecimalOpt = ".",
    old_plans: OldPlansOpt = None,
) -> None:
    """Pay statements for given bookings under each pay plan (bookings held fixed: no behavioural response)."""
    given = pay_plan_option(pay_plans, old_plans) or ""
    claim = claim_output(out, force=force, reads=[scenario_source(scenario), bookings])
    s = scenarios.load(scenario, encoding=encoding, decimal=decimal)
    timeline = read_bookings(bookings, s, encoding=encoding, decimal=decimal)
    chosen = [p.strip() for p in given.split(",") if p.strip()] or [OWN_PAY_PLAN]
    result = pay_for_bookings(s, timeline, chosen)
    totals = result.plans
    with staged_output(claim) as stage:
        sheets: Sheets = {}
        write_result(result, stage, excel=excel, summary=None, scenario=s, sheets=sheets)
        if xlsx:
            write_workbook(sheets, stage / "pay.xlsx")
        write_manifest(stage, scenario=s, extra={"bookings": str(bookings), "plans": chosen})
    show = totals.set_index("plan")[["bookings", "total_pay", "total_cost", "cost_of_sales", "share_at_quota",
                                     "share_capped", "pay_gini"]]
    typer.echo(show.to_string(float_format=lambda v: f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"))
    typer.echo(f"\nwrote {out / 'statements.csv'}, {out / 'summary.csv'}, {out / 'plans.csv'}")
