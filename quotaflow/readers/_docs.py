"""The what-if path registry as Markdown (``docs/what-if-paths.md``; ``python -m quotaflow.readers`` prints it)."""

from __future__ import annotations

from quotaflow.readers._families import FAMILIES
from quotaflow.readers._steps import Step

__all__ = ["markdown"]

S = Step

_RUNS = {
    S.SIMULATOR: "simulate, compare, sweep",
    S.TODAY_ASSIGNMENT: "simulate and compare without `--plan`; sweep without `--allocate`",
    S.TODAY_SPEND: "simulate, compare, sweep: without a budget plan (`budget.csv`, `sweep --budget optimise`), "
                   "and in the warm-up",
    S.DEFAULT_QUOTAS: "simulate, compare, sweep: without a plan's `quotas.csv` or `sweep --quotas set`",
    S.OWN_PAY_PLANS: "simulate, sweep with `--incentives own` (and `none`, for the flat rate)",
    S.PAY: "simulate, compare, sweep, for the pay plans reps are on (`--incentives own` or a pay plan id; "
           "`compare --pay-plans`)",
    S.FLAT_PAY: "simulate, sweep with `--incentives none`: each rep's own pay plan's `commission_rate`",
    S.RESPONSE: "simulate, compare, sweep, when reps respond to their pay plan: not `--incentives none`, "
                "`behaviour.enabled`, a pay plan beyond a flat commission",
    S.ALLOCATION: "allocate, frontier, demo; `sweep --allocate`",
    S.QUOTA_STEP: "quotas, demo; `sweep --quotas set` (auto when swept)",
    S.BUDGET_STEP: "budget, demo; `sweep --budget optimise` (auto when swept)",
    S.RUN_DEFAULTS: "simulate and compare, when `--replications` / `--seed` is not given",
    S.QUOTA_TABLES: "quotas (its tables and warnings only)",
    S.PAY_STATEMENTS: "pay (its statements only)",
}
"""Where each step runs, for the documentation table."""


def markdown() -> str:
    """The registry as Markdown: the steps and where they run, then every family (``docs/what-if-paths.md``).

    Examples
    --------
    >>> markdown().splitlines()[0]
    '| step | runs in |'
    """
    lines = ["| step | runs in |", "|---|---|"]
    lines += [f"| {step} | {_RUNS[step]} |" for step in Step]
    lines += ["", "| path | read by | note |", "|---|---|---|"]
    for fam in FAMILIES:
        readers = ", ".join(str(step) for step in Step if step in fam.steps) or "nothing (refused)"
        extra = f" A sweep over it runs the {fam.auto} by default." if fam.auto is not None else ""
        conditions = (" Read only under a condition by: " + ", ".join(str(s) for s in Step if s in fam.needs) + "."
                      if fam.needs else "")
        lines.append(f"| `{fam.pattern}` | {readers} | {fam.note[0].upper()}{fam.note[1:]}.{extra}{conditions} |")
    return "\n".join(lines) + "\n"
