"""Account-to-rep allocation as a public pipeline: ``check -> build -> solve -> validate -> extract``.

``allocate`` runs the whole pipeline with its own wall-clock deadline. Small models are solved as one MIP;
large ones by relax-and-fix: the LP relaxation first (a proven bound, and only a handful of fractional pairs per
rep, as LP basics predict for assignment with few side constraints), then every integral pair is fixed and a
small MIP over the fractional accounts finishes the plan. The status is ours, not the solver's: ``optimal`` means
the independent validator accepted the plan AND its objective is within ``mip_gap`` of a proven bound.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimizer.binding import binding_constraints
from optimizer.decomposition import PiecedOutcome, allocate_pieces
from optimizer.diagnosis import explain_infeasible, precheck
from optimizer.errors import InfeasibleError, SolverError
from optimizer.execution import Deadline, Executor, Progress, ProgressCallback
from optimizer.model import AllocationInputs, build, prepare
from optimizer.objectives import lexicographic
from optimizer.pricing import restricted_lp
from optimizer.relax_fix import relax_and_fix
from optimizer.solve import SolveOutcome, chosen_pairs, solve
from optimizer.status import Status, relative_gap
from optimizer.validation import Validation, validate
from scenarios import OptimizerSettings, Plan, Scenario, write_atomic, write_csv
from scenarios.plan import PlanOrigin

__all__ = ["AllocationResult", "allocate", "check", "evaluate", "extract"]

_AUTO_PAIRS = 60_000  # above this many candidate pairs ``auto`` uses relax-and-fix
_FULL_MIP_PAIRS = 100_000  # the full MIP is tried as a fallback only up to this size
# Above this many pairs ``auto`` solves a model with independent pieces piece by piece (``decomposition``): the
# whole-model column generation is faster up to about 0.5 M pairs, the pieces beyond (benchmarks/RESULTS.md).
_PIECE_PAIRS = 1_000_000


@dataclass(frozen=True, eq=False)
class AllocationResult:
    """An allocation and how sure we are of it.

    Parameters
    ----------
    assignments
        One row per account: account_id, rep_id, previous_rep_id, moved, value, hours, travel_km.
    reps
        One row per rep: rep_id, accounts, hours, capacity_hours, value, travel_km, shadow_price_hour, and one
        ``shadow_price_<attribute>`` column per balance band.
    status
        Our typed status: ``optimal`` (validated and within ``mip_gap`` of a proven bound), ``feasible``
        (validated, gap larger or unknown), ``infeasible`` (proven), ``no_solution`` (none found within the time
        limit) or ``error`` (the solver failed or its solution did not pass validation).
    objective
        Recomputed objective in the natural sense (maximised value, or minimised cost).
    bound
        Proven bound in the same sense (NaN when unknown).
    gap
        Relative gap ``|bound - objective| / max(|bound|, 1)`` (NaN when unknown).
    seconds
        Wall time of the whole pipeline.
    solver
        ``highs`` or ``cbc``.
    method
        ``mip`` or ``lp_fix`` (relax-and-fix).
    explanation
        Planner-worded reasons when infeasible; validator findings when ``error``; one line per stage (term,
        level, status, gap) for a lexicographic run.
    shadow_prices_from
        Which LP the shadow prices come from.
    made_for
        The scenario the allocation was made for; ``plan()`` and ``to_csv`` hand it on (``plan.json``).
    """

    assignments: pd.DataFrame
    reps: pd.DataFrame
    status: Status
    objective: float
    bound: float
    gap: float
    seconds: float
    solver: str
    method: str
    explanation: tuple[str, ...] = ()
    shadow_prices_from: str = "LP relaxation"
    sense: str = field(default="max")
    made_for: PlanOrigin | None = None
    binding: tuple[dict[str, Any], ...] = ()

    @property
    def ok(self) -> bool:
        """True for a validated plan (optimal or feasible)."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

    def plan(self) -> Plan:
        """The assignment as a ``Plan`` for the simulator.

        Raises
        ------
        InfeasibleError, SolverError
            When the allocation found no usable assignment (there is nothing to hand on).
        """
        if self.status == Status.INFEASIBLE:
            raise InfeasibleError(list(self.explanation))
        if not self.ok:
            reasons = "; ".join(self.explanation) or "no explanation available"
            raise SolverError(f"allocation ended {self.status}, so it has no plan to simulate: {reasons}")
        frame = self.assignments.set_index("account_id")["rep_id"]
        return Plan(assignment=frame.rename("rep_id"), source="optimizer", made_for=self.made_for)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The exported tables by file stem: ``assignments`` (account to rep) and ``reps`` (load per rep)."""
        return {"assignments": self.assignments, "reps": self.reps}

    def summary(self) -> dict[str, object]:
        """The headline figures (as written to summary.json)."""
        def num(v: float) -> float | None:
            return None if not np.isfinite(v) else float(v)
        moved = int(self.assignments["moved"].sum()) if len(self.assignments) else 0
        return {"status": str(self.status), "objective": num(self.objective), "bound": num(self.bound),
                "gap": num(self.gap), "seconds": round(self.seconds, 3), "solver": self.solver,
                "method": self.method, "sense": self.sense, "accounts": len(self.assignments), "moved": moved,
                "shadow_prices_from": self.shadow_prices_from, "explanation": list(self.explanation),
                "binding": [dict(b) for b in self.binding]}

    def __repr__(self) -> str:
        head = (f"AllocationResult({self.status}, objective {self.objective:,.2f} ({self.sense}), bound "
                f"{self.bound:,.2f}, gap {self.gap:.4%}, {self.seconds:.1f} s, {self.solver}/{self.method})")
        if not self.ok:
            return head + "".join(f"\n  - {e}" for e in self.explanation)
        reps = self.reps
        util = (reps["hours"] / reps["capacity_hours"]).replace([np.inf, -np.inf], np.nan)
        return (f"{head}\n  {len(self.assignments)} accounts to {int((reps['accounts'] > 0).sum())} of "
                f"{len(reps)} reps; {int(self.assignments['moved'].sum())} moved; utilisation "
                f"{util.min():.0%}-{util.max():.0%}; travel {self.assignments['travel_km'].sum():,.1f} km")

    def to_csv(self, folder: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write assignments.csv, reps.csv (``scenarios.write_csv``; a BOM when ``excel``), summary.json and
        plan.json (readable by ``scenarios.Plan.load``)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables().items():
            write_csv(frame, out / f"{name}.csv", excel=excel)
        write_atomic(out / "summary.json", (json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n")
                     .encode("utf-8"))
        if self.made_for is not None:
            self.made_for.write(out)


def check(scenario: Scenario, settings: OptimizerSettings | None = None, plan: Plan | None = None) -> AllocationInputs:
    """Resolve settings against the scenario and make the model's inputs (first pipeline step).

    ``plan``, when given, replaces today's assignment (``current_rep_id``) as the reference for disruption.

    Raises
    ------
    AllocationError
        When a setting does not fit the scenario.

    Examples
    --------
    >>> import scenarios
    >>> check(scenarios.load("tiny")).n_pairs > 0
    True
    """
    if plan is not None:
        plan.check(scenario)
        current = plan.assignment.reindex(scenario.accounts.index)
        scenario = scenario.replace(accounts=scenario.accounts.assign(current_rep_id=current.to_numpy(dtype=object)))
    return prepare(scenario, settings)


def evaluate(scenario: Scenario, plan: Plan, settings: OptimizerSettings | None = None) -> Validation:
    """Check and score an existing plan (e.g. today's) with the same validator and objective as ``allocate``.

    Accounts the plan gives to a rep that is not a candidate for them are reported as violations.

    Examples
    --------
    >>> import scenarios
    >>> s = scenarios.load("tiny")
    >>> today = evaluate(s, Plan.current(s))
    >>> today.objective > 0
    True
    """
    plan.check(scenario)
    inputs = prepare(scenario, settings)
    cand = inputs.candidates
    pairs = cand.pairs
    rep_pos = pd.Index(cand.rep_ids).get_indexer(pd.Index(plan.assignment.reindex(cand.account_ids)))
    key = pd.MultiIndex.from_arrays([pairs["account"].to_numpy(), pairs["rep"].to_numpy()])
    want = pd.MultiIndex.from_arrays([np.arange(len(cand.account_ids)), rep_pos])
    chosen = key.get_indexer(want).astype(np.int64)
    result = validate(inputs, chosen)
    missing = (rep_pos >= 0) & (chosen < 0)
    extra = tuple(f"account {cand.account_ids[a]} is with rep {cand.rep_ids[rep_pos[a]]}, not a candidate pair"
                  for a in np.flatnonzero(missing)[:5])
    return Validation(extra + result.violations, result.objective, chosen)


def _binding(inputs: AllocationInputs, duals: dict[str, float],
             assignments: pd.DataFrame) -> tuple[dict[str, Any], ...]:
    moved = assignments["moved"].to_numpy(dtype=bool)
    return binding_constraints(inputs, duals, float(moved.sum()), float(inputs.candidates.potential[moved].sum()))


def _shadow(inputs: AllocationInputs, duals: dict[str, float]) -> dict[str, NDArray[np.float64]]:
    n_rep = len(inputs.candidates.rep_ids)
    out = {"shadow_price_hour": np.array([duals.get(f"capacity_{r}", 0.0) for r in range(n_rep)])}
    for k, band in enumerate(inputs.bands):
        # Value of loosening the band by one unit: raising its max (dual >= 0) or lowering its min (-dual >= 0).
        hi = np.array([duals.get(f"band_{k}_max_{r}", 0.0) for r in range(n_rep)])
        lo = np.array([duals.get(f"band_{k}_min_{r}", 0.0) for r in range(n_rep)])
        name = f"shadow_price_{band.attribute}"
        out[name if name not in out else f"{name}_{k}"] = hi - lo
    return out


def extract(scenario: Scenario, inputs: AllocationInputs, validation: Validation,
            duals: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The assignments and reps frames of a validated plan (last pipeline step).

    Examples
    --------
    >>> import scenarios
    >>> r = allocate(scenarios.load("tiny"))
    >>> list(r.assignments.columns)
    ['account_id', 'rep_id', 'previous_rep_id', 'moved', 'value', 'hours', 'travel_km']
    """
    cand = inputs.candidates
    pairs = cand.pairs
    chosen = validation.chosen
    covered = chosen >= 0
    safe = np.maximum(chosen, 0)
    rep = np.where(covered, pairs["rep"].to_numpy()[safe], -1)
    none = np.full(len(chosen), None, dtype=object)
    prev = np.where(cand.has_current, cand.rep_ids[np.maximum(cand.current, 0)], none)
    rep_ids = np.where(covered, cand.rep_ids[np.maximum(rep, 0)], none)
    assignments = pd.DataFrame({
        "account_id": cand.account_ids,
        "rep_id": rep_ids,
        "previous_rep_id": prev,
        "moved": cand.has_current & (rep != cand.current),
        "value": np.where(covered, pairs["value"].to_numpy(dtype=float)[safe], 0.0),
        "hours": np.where(covered, pairs["hours"].to_numpy(dtype=float)[safe], 0.0),
        "travel_km": np.where(covered, pairs["travel_km"].to_numpy(dtype=float)[safe], 0.0),
    })
    n_rep = len(cand.rep_ids)
    r = rep[covered]
    reps = pd.DataFrame({
        "rep_id": cand.rep_ids,
        "accounts": np.bincount(r, minlength=n_rep),
        "hours": np.bincount(r, weights=assignments["hours"].to_numpy()[covered], minlength=n_rep),
        "capacity_hours": cand.capacity,
        "value": np.bincount(r, weights=assignments["value"].to_numpy()[covered], minlength=n_rep),
        "travel_km": np.bincount(r, weights=assignments["travel_km"].to_numpy()[covered], minlength=n_rep),
    })
    for name, values in _shadow(inputs, duals).items():
        reps[name] = values
    return assignments, reps


def _allocate_lexicographic(scenario: Scenario, inputs: AllocationInputs, start: float, deadline_s: float,
                            failed: Callable[[Status, list[str], str], AllocationResult]) -> AllocationResult:
    """``allocate`` when ``[optimizer] lexicographic`` names a priority order of terms (see ``lexicographic``)."""
    st = inputs.settings
    per_stage = max(deadline_s - time.perf_counter(), 0.5) / len(st.lexicographic)
    chosen, stages = lexicographic(inputs, st.lexicographic, slack=st.lexicographic_slack, time_limit=per_stage,
                                   mip_gap=st.mip_gap)
    lines = [f"stage {i + 1}: {s.term} = {s.level:,.4f} ({s.status}, gap {s.gap:.4%})" for i, s in enumerate(stages)]
    if chosen is None:
        last = stages[-1]
        if last.status is Status.INFEASIBLE:
            return failed(Status.INFEASIBLE, explain_infeasible(scenario, inputs) + lines, "lexicographic")
        return failed(Status.NO_SOLUTION if last.status is Status.NO_SOLUTION else Status.ERROR,
                      lines, "lexicographic")
    validation = validate(inputs, chosen)
    if validation.violations:
        return failed(Status.ERROR, ["the solver's plan failed the independent check:",
                                               *validation.violations], "lexicographic")
    assignments, reps = extract(scenario, inputs, validation, {})
    shadow = [c for c in reps.columns if c.startswith("shadow_price_")]
    reps[shadow] = np.nan  # no single LP prices a lexicographic plan
    # Proven per stage: each stage is within mip_gap of its own bound; the weighted objective has no bound here.
    all_optimal = all(s.status is Status.OPTIMAL for s in stages)
    worst_gap = max((s.gap for s in stages if np.isfinite(s.gap)), default=float("nan"))
    return AllocationResult(assignments, reps, Status.OPTIMAL if all_optimal else Status.FEASIBLE,
                            validation.objective, float("nan"), worst_gap, time.perf_counter() - start, st.solver,
                            "lexicographic", tuple(lines), "not available (lexicographic)", sense=inputs.sense)


def _from_pieces(scenario: Scenario, inputs: AllocationInputs, pieced: PiecedOutcome, start: float, given: str,
                 failed: Callable[[Status, list[str], str], AllocationResult]) -> AllocationResult:
    """``allocate``'s result from a plan made piece by piece (validated like any other)."""
    st = inputs.settings
    method = f"pieces ({pieced.n_pieces} pieces, {pieced.rounds} rounds)"
    if pieced.status is Status.INFEASIBLE:
        return failed(Status.INFEASIBLE, explain_infeasible(scenario, inputs), method)
    if pieced.chosen is None:
        return failed(Status.NO_SOLUTION, [f"no assignment found for every region within {given} s; "
                                           "raise time_limit_s"], method)
    validation = validate(inputs, pieced.chosen)
    if validation.violations:
        return failed(Status.ERROR, ["the plan made region by region failed the independent check:",
                                     *validation.violations], method)
    internal_obj = validation.objective if inputs.sense == "max" else -validation.objective
    gap = relative_gap(pieced.bound, internal_obj)
    status = Status.OPTIMAL if gap <= st.mip_gap + 1e-9 else Status.FEASIBLE
    assignments, reps = extract(scenario, inputs, validation, pieced.duals)
    return AllocationResult(assignments, reps, status, validation.objective, inputs.natural(pieced.bound), gap,
                            time.perf_counter() - start, st.solver, method, (), "LP relaxation of each region (HiGHS)",
                            sense=inputs.sense, made_for=PlanOrigin.of(scenario),
                            binding=_binding(inputs, pieced.duals, assignments))


def allocate(scenario: Scenario, settings: OptimizerSettings | None = None, plan: Plan | None = None, *,
             deadline: Deadline | None = None, executor: Executor | None = None,
             progress: ProgressCallback | None = None, workers: int | None = None) -> AllocationResult:
    """Assign accounts to reps: check, build, solve, validate, extract.

    Parameters
    ----------
    scenario
        The scenario.
    settings
        Optimizer settings (default: the scenario's ``[optimizer]``).
    plan
        Optional reference assignment for disruption (default: ``current_rep_id``).
    deadline
        Absolute deadline of the whole allocation (default: ``time_limit_s`` from now). A command that also
        loads and writes makes it when it starts and keeps its writing time out of it.
    executor
        Where the independent pieces of a large model run (``method = "auto"`` above 1,000,000 candidate pairs
        with more than one piece): ``None`` for a local process pool, or a ``concurrent.futures`` executor or
        ``distributed.Client``. The result is the same whichever runs them.
    progress
        Called with a ``Progress`` (phase, bound, incumbent, gap, elapsed) as each step starts and as pieces
        and rounds finish.
    workers
        Size of the default process pool (default: the CPU count).

    Returns
    -------
    AllocationResult
        Never raises for an infeasible model or a solver failure: read ``status`` (and ``explanation``).

    Raises
    ------
    AllocationError
        When the settings do not fit the scenario.

    Examples
    --------
    >>> import scenarios
    >>> r = allocate(scenarios.load("tiny"))
    >>> str(r.status), bool(r.gap <= 0.001), len(r.assignments)
    ('optimal', True, 30)
    """
    st = settings or scenario.settings.optimizer
    start = time.perf_counter()
    shared = deadline or Deadline.after(st.time_limit_s)
    deadline_s = shared.perf()
    given = f"{max(shared.remaining(), 0.0):.3g}"  # the seconds this allocation was given, for the messages
    inputs = check(scenario, st, plan)
    empty_a = pd.DataFrame(columns=["account_id", "rep_id", "previous_rep_id", "moved", "value", "hours",
                                    "travel_km"])
    empty_r = pd.DataFrame(columns=["rep_id", "accounts", "hours", "capacity_hours", "value", "travel_km",
                                    "shadow_price_hour"])

    def failed(status: Status, reasons: list[str], method: str) -> AllocationResult:
        return AllocationResult(empty_a, empty_r, status, float("nan"), float("nan"), float("nan"),
                                time.perf_counter() - start, st.solver, method, tuple(reasons), sense=inputs.sense)

    reasons = precheck(scenario, inputs)
    if reasons:
        return failed(Status.INFEASIBLE, reasons, "precheck")
    if st.lexicographic:
        return dataclasses.replace(_allocate_lexicographic(scenario, inputs, start, deadline_s, failed),
                                   made_for=PlanOrigin.of(scenario))
    method = st.method
    if (method == "auto" and inputs.n_pairs > _PIECE_PAIRS) or method == "pieces":
        pieced = allocate_pieces(inputs, shared, executor, progress, workers=workers, started=start)
        if pieced is not None:
            return _from_pieces(scenario, inputs, pieced, start, given, failed)
    if method == "pieces":  # one piece (or a budget split with no answer): the whole model in one go
        method = "lp_fix"
    if method == "auto":
        method = "lp_fix" if inputs.n_pairs > _AUTO_PAIRS else "mip"
    sense = 1.0 if inputs.sense == "max" else -1.0

    def report(phase: str, bound: float = float("nan"), incumbent: float = float("nan")) -> None:
        if progress is not None:
            shown_b, shown_i = (sense * v if np.isfinite(v) else float("nan") for v in (bound, incumbent))
            progress(Progress(phase, shown_b, shown_i, relative_gap(bound, incumbent),
                              time.perf_counter() - start))

    report("LP relaxation (column generation)" if method == "lp_fix" else "LP relaxation")
    full = np.arange(inputs.n_pairs, dtype=np.int64)
    # The LP relaxation always runs on HiGHS: it gives the proven bound and the shadow prices. Large models
    # get it by column generation, whose Lagrangian bound is proven at every step.
    lp_index = full
    cg_bound = float("nan")
    if method == "lp_fix":
        # Keep 40 % of the time for rounding: a bound without a plan helps nobody.
        now = time.perf_counter()

        def priced(round_no: int, proven: float, lp_value: float) -> None:
            # No plan exists yet: the restricted LP's value goes in the phase, not in the incumbent.
            report(f"LP relaxation (column generation), round {round_no}, restricted LP "
                   f"{sense * lp_value:,.0f}", proven)

        lp, lp_index, cg_bound = restricted_lp(inputs, now + 0.6 * (deadline_s - now), on_round=priced)
        if lp.claim is Status.INFEASIBLE and inputs.n_pairs <= _FULL_MIP_PAIRS:
            # Confirm with the full LP where that is affordable (the slack penalties are large, not infinite).
            lp_index = full
            lp = solve(build(inputs, relax=True), "highs", max(deadline_s - time.perf_counter(), 0.5))
            cg_bound = lp.bound
    else:
        lp = solve(build(inputs, relax=True), "highs", max(deadline_s - time.perf_counter(), 0.5))
    if lp.claim is Status.INFEASIBLE:
        return failed(Status.INFEASIBLE, explain_infeasible(scenario, inputs), method)
    if lp.claim is not Status.OPTIMAL:
        stopped = lp.claim in (Status.NO_SOLUTION, Status.FEASIBLE)
        return failed(Status.NO_SOLUTION if stopped else Status.ERROR,
                      [f"the LP relaxation was not solved within {given} s; raise time_limit_s"
                       if stopped else f"the LP relaxation ended '{lp.claim}'"], method)
    bound = lp.bound
    outcome: tuple[SolveOutcome, NDArray[np.int64]] | None = None
    if method == "lp_fix":
        bound = cg_bound
        report("relax-and-fix", bound)
        outcome = relax_and_fix(inputs, lp, lp_index, bound, deadline_s, st.solver)
    remaining = deadline_s - time.perf_counter()
    short = outcome is not None and relative_gap(bound, outcome[0].objective) > st.mip_gap
    # The full MIP is a fallback only where it can finish: beyond _FULL_MIP_PAIRS it finds nothing in minutes.
    small = inputs.n_pairs <= _FULL_MIP_PAIRS or st.method == "mip"
    if (outcome is None or (short and st.method == "auto")) and remaining > 0.5 and small:
        # Relax-and-fix found nothing or stopped short of the gap: the full MIP gets the time that is left.
        report("MIP over all pairs", bound, outcome[0].objective if outcome is not None else float("nan"))
        mip = solve(build(inputs), st.solver, remaining, st.mip_gap)
        if mip.claim is Status.INFEASIBLE:
            return failed(Status.INFEASIBLE, explain_infeasible(scenario, inputs), method)
        if mip.claim in (Status.OPTIMAL, Status.FEASIBLE) and (outcome is None or mip.objective > outcome[0].objective):
            outcome = (mip, full)
            method = "mip"
        if np.isfinite(mip.bound):
            bound = min(bound, mip.bound)
    if outcome is None:
        return failed(Status.NO_SOLUTION, [f"no assignment found within {given} s; "
                                                     "raise time_limit_s"], method)
    solved, index = outcome
    report("validating the plan", bound, solved.objective)
    validation = validate(inputs, chosen_pairs(inputs, index, solved.x))
    problems = list(validation.violations)
    natural_solver = inputs.natural(solved.objective)
    if abs(natural_solver - validation.objective) > 1e-6 * max(1.0, abs(validation.objective)):
        problems.append(f"solver objective {natural_solver:,.4f} differs from the recomputed "
                        f"{validation.objective:,.4f}")
    if problems:
        return failed(Status.ERROR, ["the solver's plan failed the independent check:", *problems], method)
    internal_obj = validation.objective if inputs.sense == "max" else -validation.objective
    gap = relative_gap(bound, internal_obj)
    status = Status.OPTIMAL if gap <= st.mip_gap + 1e-9 else Status.FEASIBLE
    assignments, reps = extract(scenario, inputs, validation, lp.row_duals)
    return AllocationResult(assignments, reps, status, validation.objective, inputs.natural(bound), gap,
                            time.perf_counter() - start, st.solver, method, (), "LP relaxation (HiGHS)",
                            sense=inputs.sense, made_for=PlanOrigin.of(scenario),
                            binding=_binding(inputs, lp.row_duals, assignments))

