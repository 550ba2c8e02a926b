"""The one-page report of a ``demo`` or ``compare`` output folder: a self-contained HTML page (the decision table
and its verdict first, then the charts of ``quotaflow.charts`` as embedded PNGs, CSS inline, nothing fetched from
the network), the same content as a PDF, and ``overview.png`` (the verdict, the decision table and the headline
chart: the report's first screen as one picture).

Everything is read back from the folder's Parquet twins (raw values) and ``summary.json``; nothing is recomputed
from the scenario. A chart whose table the folder lacks is left out with a one-line note on the page. The folder
read is never written to: ``quotaflow report DIR --out OUT`` writes into its own claimed output, and
``demo --report`` / ``compare --report`` write into the run's own staging folder.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from quotaflow.charts.allocation import budget_chart, quota_chart, territory_chart, workload_chart
from quotaflow.charts.pay_plans import (
    attainment_chart,
    differences_chart,
    draw_differences,
    funnel_chart,
    monthly_chart,
    pay_curve_chart,
)
from quotaflow.charts.style import Chart, MissingData, png_bytes, wrap_title
from quotaflow.decision import DECISION_MEASURES, format_amount, format_share, ranking_line
from quotaflow.errors import ReportError
from quotaflow.manifest import foreign_files, read_manifest
from quotaflow.writer import write_bytes, write_text

__all__ = ["REPORT_FILES", "RunFolder", "RunReport", "build_report", "read_run", "run_kind", "write_report"]

REPORT_FILES = ("report.html", "report.pdf", "overview.png")
"""The files a report writes, in order."""

# Where each table lives in a folder of each kind (file stem -> path without suffix).
_LAYOUT: dict[str, dict[str, str]] = {
    "demo": {"decision": "comparison/decision", "monthly": "comparison/monthly", "reps": "comparison/reps",
             "funnel": "comparison/funnel", "pay_curves": "comparison/pay_curves", "quotas": "plan/quotas",
             "quota_reps": "plan/quota_reps", "budget": "plan/budget", "budget_channels": "plan/budget_channels",
             "workload": "plan/reps", "workload_today": "plan/workload_today", "territory": "plan/territory"},
    "compare": {"decision": "decision", "monthly": "monthly", "reps": "reps", "funnel": "funnel",
                "pay_curves": "pay_curves"},
}
_NOT_IN_COMPARE = "a compare run takes the plan as given; run 'quotaflow demo' for the allocation, quotas and budget"


@dataclass(frozen=True, eq=False)
class RunFolder:
    """A demo or compare folder read back: its kind, tables (by the report's names) and run facts."""

    path: Path
    kind: str
    tables: dict[str, pd.DataFrame]
    info: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        """The scenario's currency code (empty when the run did not record it)."""
        return str(self.info.get("currency", "") or "")

    def table(self, name: str) -> pd.DataFrame | None:
        """The table, or None when the folder lacks it."""
        return self.tables.get(name)


def run_kind(record: dict[str, Any]) -> str | None:
    """``demo``, ``compare`` or ``sweep`` from a folder's manifest (its ``kind``, else the command that wrote it).

    Examples
    --------
    >>> run_kind({"kind": "demo"}), run_kind({"command": ["quotaflow", "compare", "tiny"]}), run_kind({})
    ('demo', 'compare', None)
    """
    if isinstance(record.get("sweep"), dict):
        return "sweep"
    kind = record.get("kind")
    if kind in ("demo", "compare"):
        return str(kind)
    command = record.get("command")
    if isinstance(command, list):
        for word in command[1:3]:
            if word in ("demo", "compare"):
                return str(word)
    return None


def read_run(folder: str | os.PathLike[str], *, check_unchanged: bool = True) -> RunFolder:
    """Read a finished ``demo`` or ``compare`` folder's tables for the report.

    Parameters
    ----------
    folder
        The run's output folder.
    check_unchanged
        Refuse a table edited since the run wrote it (its SHA-256 differs from the manifest's); off for a
        staging folder that is not sealed yet.

    Raises
    ------
    ReportError
        Not a folder quotaflow wrote, not a demo or compare folder, a decision table missing, or a table edited
        after the run.
    """
    path = Path(folder)
    if not path.is_dir():
        raise ReportError(f"{path}: no such folder; give the --out folder of 'quotaflow demo' or 'quotaflow compare'")
    record = read_manifest(path)
    if record is None:
        raise ReportError(f"{path} is not a folder quotaflow wrote (no manifest.json); give the --out folder of "
                          "'quotaflow demo' or 'quotaflow compare'")
    kind = run_kind(record)
    if kind not in ("demo", "compare"):
        raise ReportError(f"{path} holds a {kind or 'quotaflow'} run, not a demo or compare run; its report is "
                          "not a pay plan comparison")
    changed = ({f.removesuffix(" (changed)") for f in foreign_files(path, record) if f.endswith(" (changed)")}
               if check_unchanged and "files" in record else set())
    tables: dict[str, pd.DataFrame] = {}
    for name, stem in _LAYOUT[kind].items():
        file = path / f"{stem}.parquet"
        if f"{stem}.parquet" in changed:
            raise ReportError(f"{file} was changed after the run wrote it; the report shows only what the run "
                              "computed: rerun the command, or restore the file")
        if file.is_file():
            try:
                tables[name] = pd.read_parquet(file)
            except (OSError, ValueError) as exc:
                raise ReportError(f"{file} cannot be read as Parquet ({exc}); rerun the command") from None
    if "decision" not in tables:
        raise ReportError(f"{path} holds no decision table ({_LAYOUT[kind]['decision']}.parquet); it was written by "
                          "an older quotaflow: rerun the command")
    try:
        summary = json.loads((path / "summary.json").read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        summary = {}
    info = summary.get("comparison" if kind == "demo" else "run", {}) if isinstance(summary, dict) else {}
    return RunFolder(path=path, kind=kind, tables=tables, info=dict(info or {}),
                     summary=summary if isinstance(summary, dict) else {})


def _monthly_quota(run: RunFolder) -> pd.Series | None:
    quotas = run.table("quotas")
    if quotas is None or not {"period", "quota"} <= set(quotas.columns):
        return None
    return quotas.groupby(quotas["period"].astype(str))["quota"].sum().astype(float)


def _charts(run: RunFolder) -> tuple[list[Chart], list[str]]:
    c = run.currency
    t = run.table
    makers: list[tuple[str, Callable[[], Chart]]] = [
        ("Plan comparison", lambda: differences_chart(t("decision"), c)),
        ("Monthly bookings", lambda: monthly_chart(t("monthly"), _monthly_quota(run), c)),
        ("Attainment by tier", lambda: attainment_chart(t("reps"))),
        ("Designed pay curves", lambda: pay_curve_chart(t("pay_curves"), c)),
        ("Quotas", lambda: quota_chart(t("quota_reps"), c)),
        ("Funnel", lambda: funnel_chart(t("funnel"))),
        ("Marketing budget", lambda: budget_chart(t("budget"), t("budget_channels"), c)),
        ("Workload", lambda: workload_chart(t("workload_today"), t("workload"))),
        ("Territory map", lambda: territory_chart(t("territory"), c)),
    ]
    charts, notes = [], []
    plan_charts = {"Quotas", "Marketing budget", "Workload", "Territory map"}
    for label, make in makers:
        try:
            charts.append(make())
        except MissingData as exc:
            reason = _NOT_IN_COMPARE if run.kind == "compare" and label in plan_charts else str(exc)
            notes.append(f"{label}: left out ({reason}).")
    return charts, notes


@dataclass(frozen=True, eq=False)
class RunReport:
    """The report of one run: the decision table, its verdict, the charts and the notes on charts left out."""

    run: RunFolder
    verdict: str
    charts: list[Chart]
    notes: list[str]

    @property
    def headline(self) -> Chart | None:
        """The plan comparison chart, shown under the decision table on the first screen (None with one plan)."""
        return next((c for c in self.charts if c.key == "differences"), None)

    def facts(self) -> list[str]:
        """Plain lines on how the run was made (scenario, replications, and for a demo the plan's steps)."""
        i, s = self.run.info, self.run.summary
        plans = list(i.get("plans", self.run.tables["decision"]["plan"].astype(str)))
        lines = [f"Scenario {i.get('scenario', '?')}: {len(plans)} pay plans, {i.get('replications', '?')} "
                 f"replications each on the same customers (common random numbers, seed {i.get('seed', '?')}); "
                 f"differences are paired against {plans[0] if plans else '?'} with 95 % intervals."]
        a, q, b = s.get("allocation"), s.get("quotas"), s.get("budget")
        c = self.run.currency

        def money(d: dict[str, Any], key: str) -> str:
            return format_amount(float(d.get(key) or 0.0), c)

        if isinstance(a, dict):
            gap = a.get("gap")
            bound = f"gap {float(gap):.2%} to a proven bound" if gap is not None else "no proven bound"
            lines.append(f"Territories: {a.get('status')}, {bound}; {a.get('moved')} of {a.get('accounts')} accounts "
                         "move.")
        if isinstance(q, dict):
            lines.append(f"Quotas: {q.get('method')} method, {money(q, 'quota_total')} over {q.get('reps')} reps "
                         f"(target {money(q, 'target')}).")
        if isinstance(b, dict):
            lines.append(f"Marketing budget: {money(b, 'spent')} spent of {money(b, 'budget')}, "
                         f"{float(b.get('expected_leads') or 0.0):,.0f} expected leads.")
        return lines

    def decision_rows(self) -> list[tuple[str, list[str], list[str]]]:
        """The decision table as text: per measure its label, each plan's mean, and each plan's paired difference
        with its interval (empty for the reference)."""
        table = self.run.tables["decision"]
        c = self.run.currency
        rows = []
        for m in DECISION_MEASURES:
            if m.metric not in table.columns:
                continue
            fmt: Callable[..., str] = ((lambda v, signed=False: format_amount(v, c if not signed else "",
                                                                                signed=signed))
                                       if m.kind == "money" else format_share)
            means = [fmt(float(v)) for v in table[m.metric]]
            if m.metric == "payout_vs_budget" and "over_budget" in table.columns:
                means = [v + (" (over)" if bool(o) else "") for v, o in zip(means, table["over_budget"], strict=True)]
            diffs = [""]
            for _, r in table.iloc[1:].iterrows():
                d = float(r[f"{m.metric}_delta"])
                lo, hi = float(r[f"{m.metric}_delta_ci_low"]), float(r[f"{m.metric}_delta_ci_high"])
                diffs.append(f"{fmt(d, signed=True)} ({fmt(lo, signed=True)} to {fmt(hi, signed=True)})"
                             if np.isfinite(d) else "")
            rows.append((m.label, means, diffs))
        return rows

    def html(self) -> str:
        """The self-contained page."""
        e = html.escape
        table = self.run.tables["decision"]
        plans = table["plan"].astype(str).tolist()
        head = "".join(f"<th>{e(p)}{' (reference)' if i == 0 else ''}</th>" for i, p in enumerate(plans))
        body = []
        for label, means, diffs in self.decision_rows():
            cells = "".join(f"<td><b>{e(m)}</b>" + (f"<br><span class=d>{e(d)}</span>" if d else "") + "</td>"
                            for m, d in zip(means, diffs, strict=True))
            body.append(f"<tr><th class=l>{e(label)}</th>{cells}</tr>")
        charts = "".join(
            f"<figure id={e(ch.key)}><h2>{e(ch.title)}</h2><img alt=\"{e(ch.title)}\" "
            f"src=\"data:image/png;base64,{base64.b64encode(ch.png).decode('ascii')}\">"
            f"<figcaption>{e(ch.caption)}</figcaption></figure>" for ch in self.charts)
        notes = ("<section class=notes><h2>Charts left out</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in self.notes)
                 + "</ul></section>") if self.notes else ""
        facts = "".join(f"<li>{e(f)}</li>" for f in self.facts())
        title = f"quotaflow {self.run.kind}: {self.run.info.get('scenario', '')}"
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.4}}
h1{{font-size:1.5em;margin-bottom:.2em}} h2{{font-size:1.05em;margin:.2em 0}}
.verdict{{font-size:1.2em;background:#eef5fb;border-left:6px solid #0072B2;padding:.6em 1em;margin:1em 0}}
table{{border-collapse:collapse;width:100%;font-size:.9em}}
th,td{{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:right;vertical-align:top}}
th.l{{text-align:left;font-weight:normal}} thead th{{border-bottom:2px solid #555}}
.d{{color:#555;font-size:.85em}} figure{{margin:2em 0;page-break-inside:avoid}} img{{max-width:100%;height:auto}}
figcaption{{color:#555;font-size:.85em}} .facts{{color:#444;font-size:.9em}} .notes{{color:#555;font-size:.9em}}
</style></head><body>
<h1>{e(title)}</h1>
<p class=verdict>{e(self.verdict)}</p>
<table><thead><tr><th class=l>mean per run; under it: paired difference against {e(plans[0])} (95 % interval)</th>
{head}</tr></thead><tbody>
{''.join(body)}
</tbody></table>
<ul class=facts>{facts}</ul>
{charts}
{notes}
<p class=notes>Written by quotaflow from {e(str(self.run.path.name))} on {dt.date.today().isoformat()}. Money in
{e(self.run.currency or 'the scenario currency')}; K = thousand, M = million.</p>
</body></html>
"""

    @cached_property
    def overview(self) -> Figure:
        """The first screen as one figure: the verdict, the decision table and the plan comparison chart (drawn
        once, for the PNG and the PDF's first page)."""
        rows = self.decision_rows()
        decision = self.run.tables["decision"]
        plans = decision["plan"].astype(str).tolist()
        table_height = 0.36 * len(rows) + 0.5
        chart_height = 0.45 * (len(plans) - 1) + 2.0 if len(plans) > 1 else 0.0
        fig = Figure(layout="constrained", figsize=(12, 1.0 + table_height + chart_height))
        heights = [table_height] + ([chart_height] if chart_height else [])
        parts = fig.subfigures(len(heights), 1, height_ratios=heights, squeeze=False)[:, 0]
        ax = parts[0].subplots()
        ax.axis("off")
        cells = [[m + (f"\n{d}" if d else "") for m, d in zip(means, diffs, strict=True)]
                 for _, means, diffs in rows]
        tab = ax.table(cellText=cells, rowLabels=[r[0] for r in rows],
                       colLabels=[p + (" (reference)" if i == 0 else "") for i, p in enumerate(plans)],
                       bbox=(0.16, 0.0, 0.84, 0.92), cellLoc="right")
        tab.auto_set_font_size(False)
        tab.set_fontsize(7.5)
        parts[0].suptitle(wrap_title(self.verdict, 120), fontsize=11, fontweight="bold")
        if chart_height:
            draw_differences(parts[1], decision, self.run.currency)
        return fig

    def pdf(self) -> bytes:
        """The report as a PDF: the overview page, then one page per chart (with its notes on the last)."""
        buf = io.BytesIO()
        with PdfPages(buf, metadata={"Title": f"quotaflow {self.run.kind} report", "Creator": "quotaflow",
                                     "CreationDate": None}) as pdf:
            pdf.savefig(self.overview)
            for ch in self.charts:
                pdf.savefig(ch.figure)
            if self.notes:
                page = Figure(layout="constrained", figsize=(8.3, 3.0))
                page.text(0.05, 0.9, "Charts left out:\n" + "\n".join(wrap_title(n, 110) for n in self.notes),
                          va="top", fontsize=9)
                pdf.savefig(page)
        return buf.getvalue()



def build_report(folder: str | os.PathLike[str], *, check_unchanged: bool = True) -> RunReport:
    """Read a demo or compare folder (`read_run`) and draw its charts.

    Examples
    --------
    >>> import tempfile, scenarios
    >>> from quotaflow.comparison import compare
    >>> from quotaflow.manifest import write_manifest
    >>> from quotaflow.writer import write_json, write_result
    >>> s = scenarios.load("tiny")
    >>> res = compare(s, ["flat_commission", "capped"], replications=2, seed=1)
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = write_result(res, d, summary=None, scenario=s); write_json(res.summary(), d / "summary.json")
    >>> _ = write_manifest(d, command=["quotaflow", "compare"], extra={"kind": "compare"})
    >>> r = build_report(d)
    >>> [c.key for c in r.charts], len(r.notes)
    (['differences', 'monthly', 'attainment', 'funnel'], 5)
    """
    run = read_run(folder, check_unchanged=check_unchanged)
    charts, notes = _charts(run)
    return RunReport(run=run, verdict=ranking_line(run.tables["decision"], run.currency), charts=charts,
                     notes=notes)


def write_report(report: RunReport, folder: Path) -> list[str]:
    """Write `REPORT_FILES` into ``folder`` (a claimed staging folder) through the one write path; return their
    names."""
    write_text(report.html(), folder / "report.html")
    write_bytes(report.pdf(), folder / "report.pdf")
    write_bytes(png_bytes(report.overview, dpi=100), folder / "overview.png")
    return list(REPORT_FILES)
