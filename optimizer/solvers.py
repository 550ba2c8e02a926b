"""The solver adapter: every optimisation model in the optimizer is solved through this module.

One class per backend (``HiGHS``: in-process through highspy; ``CBC``: the COIN-OR command-line solver), each a
``Solver`` that makes its PuLP solver object with the time limit and gap, solves with the solver's output kept
off standard output, and reads back a ``SolverRun``: our ``Status`` for PuLP's solution status, the wall time,
and the proven bound when the backend gives one. ``run`` picks the backend by name; ``make_solver`` hands out
the bare PuLP object for code that drives PuLP itself.

Solver output: HiGHS 1.16 prints a copyright banner on the C-level standard output the first time a
``highspy.Highs`` is constructed in a process, before PuLP can switch its output off, and that banner would
otherwise land in CSV printed on stdout, in ``allocate > file`` and in notebooks. Whatever a solver writes to
file descriptor 1 while it runs goes to the ``optimizer.solvers`` logger at DEBUG level instead
(``solver_output_to_log``).

Deadlines: every backend gets at least 0.5 s. HiGHS's own time_limit is not always honoured on huge models (a
300 s limit ran past 800 s), so its simplex, IPM and MIP interrupt callbacks also stop it one second past the
limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import highspy
import pulp

from optimizer.errors import SolverError
from optimizer.status import Status

__all__ = ["CBC", "SOLVERS", "HiGHS", "Solver", "SolverRun", "make_solver", "run", "solver_output_to_log",
           "status_of"]


_log = logging.getLogger(__name__)

# fd 1 belongs to the whole process, so one redirection is shared by every solve running at the same time:
# the first to start redirects, the last to finish restores and logs what was captured. ``_lock`` guards the
# count and the saved descriptor; no solve is serialised by it.
_lock = threading.Lock()
_depth = 0
_saved_fd: int | None = None
_sink: IO[bytes] | None = None


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers, so text a solver wrote through ``printf`` reaches the descriptor it
    was written for before that descriptor is switched."""
    try:
        libc = ctypes.CDLL("ucrtbase") if sys.platform == "win32" else ctypes.CDLL(None)
        libc.fflush(None)
    except (OSError, AttributeError):  # no C runtime reachable through ctypes: nothing buffered we can flush
        pass


def _flush_python_stdout() -> None:
    stream = sys.stdout
    if stream is None:  # pythonw and some service hosts run without a stdout
        return
    with contextlib.suppress(OSError, ValueError):  # closed or detached stream: it holds nothing to lose
        stream.flush()


def _start() -> None:
    global _saved_fd, _sink
    # Text Python already buffered for stdout belongs on stdout, not in the solver log.
    _flush_python_stdout()
    _flush_c_stdio()
    try:
        saved = os.dup(1)
    except OSError:  # fd 1 is closed: a solver's output cannot reach any stdout, so there is nothing to divert
        return
    sink: IO[bytes] | None = None
    try:
        sink = tempfile.TemporaryFile()  # noqa: SIM115 - it must outlive this call; _stop closes it
        os.dup2(sink.fileno(), 1)
    except BaseException:
        os.close(saved)
        if sink is not None:
            sink.close()
        raise
    _saved_fd, _sink = saved, sink


def _stop() -> None:
    global _saved_fd, _sink
    saved, sink = _saved_fd, _sink
    _saved_fd, _sink = None, None
    if saved is None or sink is None:
        return
    _flush_c_stdio()
    try:
        os.dup2(saved, 1)
    finally:
        os.close(saved)
        try:
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace").strip()
        finally:
            sink.close()
    if text:
        _log.debug("solver output:\n%s", text)


@contextlib.contextmanager
def solver_output_to_log() -> Iterator[None]:
    """Divert everything written to file descriptor 1 inside the block to the ``optimizer.solvers`` logger
    (DEBUG), then restore descriptor 1 exactly as it was.

    This works below Python's ``sys.stdout``, so it catches what C and C++ code prints, and it works whatever
    ``sys.stdout`` is (a terminal, a pipe, pytest's capture, a Jupyter stream). Thread safety: descriptor 1 is
    shared by the whole process, so concurrent blocks share one diversion (the last to leave restores it) and,
    while any block is open, text other threads write straight to descriptor 1 goes to the log as well. When
    descriptor 1 is closed the block runs unchanged.

    Examples
    --------
    >>> import os
    >>> with solver_output_to_log():
    ...     _ = os.write(1, b"Running HiGHS: Copyright (c) 2026\\n")
    """
    global _depth
    with _lock:
        if _depth == 0:
            _start()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _stop()


class _QuietHiGHS(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's HiGHS interface, solved with its output diverted to the log and stopped at our own deadline."""

    def __init__(self, deadline: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._deadline = deadline

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        super().createAndConfigureSolver(lp)
        deadline = self._deadline

        def stop(event: object) -> None:
            if time.perf_counter() > deadline:
                event.interrupt()  # type: ignore[attr-defined]

        highs = lp.solverModel
        highs.cbSimplexInterrupt += stop
        highs.cbIpmInterrupt += stop
        highs.cbMipInterrupt += stop

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:
        status: tuple[int, int] = super().findSolutionValues(lp)
        # PuLP calls a solve stopped by an interrupt (our deadline) integer-feasible even when HiGHS holds no
        # primal solution; the values it then reads are not a plan.
        if status[1] == pulp.LpSolutionIntegerFeasible and not lp.solverModel.getSolution().value_valid:
            return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound
        return status

    def actualSolve(self, lp: pulp.LpProblem, *args: Any, **kwargs: Any) -> Any:
        with solver_output_to_log():
            return super().actualSolve(lp, *args, **kwargs)


class _QuietCBC(pulp.COIN_CMD):  # type: ignore[misc]
    """PuLP's COIN-OR CBC interface, solved with anything written to descriptor 1 diverted to the log."""

    def actualSolve(self, lp: pulp.LpProblem, *args: Any, **kwargs: Any) -> Any:
        with solver_output_to_log():
            return super().actualSolve(lp, *args, **kwargs)


def _cbc_path() -> str:
    """The ``cbc`` on PATH when there is one, else the binary bundled with PuLP."""
    path = shutil.which("cbc")
    if path is not None:
        return path
    bundled = getattr(pulp.apis.coin_api, "pulp_cbc_path", None)
    if bundled and Path(bundled).is_file():
        return str(bundled)
    raise SolverError("the CBC solver is not installed; install it (pip install 'pulp[cbc]' or a system cbc) "
                      "or use --solver highs")


def status_of(problem: pulp.LpProblem) -> Status:
    """Our status for what PuLP says of a solved problem, read from its solution status.

    PuLP's ``status`` says "Optimal" when a limit stops a MIP with an incumbent; its ``sol_status`` tells a proven
    optimum (``optimal``) from an incumbent (``feasible``). CBC proves infeasibility through the problem status
    and leaves the solution status unset. An unbounded model is an ``error`` (no model here may be unbounded).
    """
    sol = problem.sol_status
    if sol == pulp.LpSolutionOptimal:
        return Status.OPTIMAL
    if sol == pulp.LpSolutionIntegerFeasible:
        return Status.FEASIBLE
    if sol == pulp.LpSolutionInfeasible or problem.status == pulp.LpStatusInfeasible:
        return Status.INFEASIBLE
    if sol == pulp.LpSolutionUnbounded:
        return Status.ERROR
    return Status.NO_SOLUTION


@dataclass(frozen=True)
class SolverRun:
    """What one solver run claims: a claim only, until the caller has checked the solution independently.

    Parameters
    ----------
    status
        ``optimal`` (proven within the gap), ``feasible`` (an incumbent, stopped by a limit), ``infeasible``,
        ``no_solution`` or ``error`` (the solver failed, or the model is unbounded).
    seconds
        Wall time of the solver call including handing the model over.
    bound
        For a MIP with a solution: the backend's proven bound on the objective, in the problem's own sense (an
        upper bound when maximising). NaN when the backend gives none or there is no solution.
    """

    status: Status
    seconds: float
    bound: float = float("nan")


class Solver:
    """One backend: its PuLP solver object with the limits, and what its run is read back as.

    Parameters
    ----------
    time_limit
        Seconds the solver may use (at least 0.5 s is given).
    mip_gap
        Relative gap at which a MIP may stop.
    mip
        False to solve the LP relaxation of a model with integer variables.
    """

    name: ClassVar[str]

    def __init__(self, time_limit: float, *, mip_gap: float = 0.0, mip: bool = True) -> None:
        self.time_limit = max(float(time_limit), 0.5)
        self.mip_gap = mip_gap
        self.mip = mip

    def pulp_solver(self) -> pulp.LpSolver:
        """The PuLP solver object, quiet on stdout, made when the solve starts (the deadline counts from here)."""
        raise NotImplementedError

    def bound(self, problem: pulp.LpProblem) -> float:
        """The proven bound of a solved MIP in the problem's own sense; NaN when the backend gives none."""
        return float("nan")

    def solve(self, problem: pulp.LpProblem) -> SolverRun:
        """Solve ``problem`` in place (PuLP keeps the values on its variables and rows) and read back the claim.

        A failure inside the solver (``pulp.PulpSolverError``) is an ``error`` run, not an exception.
        """
        start = time.perf_counter()
        try:
            problem.solve(self.pulp_solver())
        except pulp.PulpSolverError:
            return SolverRun(Status.ERROR, time.perf_counter() - start)
        seconds = time.perf_counter() - start
        status = status_of(problem)
        bound = float("nan")
        if status in (Status.OPTIMAL, Status.FEASIBLE) and self.mip and problem.isMIP():
            bound = self.bound(problem)
        return SolverRun(status, seconds, bound)


class HiGHS(Solver):
    """HiGHS in-process through highspy: our deadline on top of its time limit, and the MIP dual bound."""

    name = "highs"

    def pulp_solver(self) -> pulp.LpSolver:
        return _QuietHiGHS(time.perf_counter() + self.time_limit + 1.0, msg=False, timeLimit=self.time_limit,
                           gapRel=self.mip_gap, mip=self.mip, threads=2)

    def bound(self, problem: pulp.LpProblem) -> float:
        highs = getattr(problem, "solverModel", None)
        if highs is None:
            return float("nan")
        dual_bound = float(highs.getInfo().mip_dual_bound)
        # PuLP hands HiGHS the negated objective of a maximisation (HiGHS minimises).
        return -dual_bound if problem.sense == pulp.LpMaximize else dual_bound

    @staticmethod
    def rerun(highs: highspy.Highs, time_limit: float) -> Status:
        """Re-optimise a model already loaded in HiGHS (e.g. after adding columns, from the previous basis).

        Only an LP is re-run this way, so the answer is ``optimal`` or why not: ``infeasible``, ``no_solution``
        (stopped by a limit or the deadline) or ``error`` (see ``claim``).
        """
        # HiGHS's time_limit counts the run time of every run of the object so far, not of this run alone.
        highs.setOptionValue("time_limit", float(highs.getRunTime()) + float(max(time_limit, 0.5)))
        with solver_output_to_log():
            highs.run()
        return HiGHS.claim(highs, mip=False)

    @staticmethod
    def claim(highs: highspy.Highs, *, mip: bool) -> Status:
        """Our status for the model status of a HiGHS run (a claim, checked later by the validator).

        A run stopped by a limit -- time, interrupt, iteration or solution count -- is ``feasible`` when it is a
        MIP with a solution in hand, else ``no_solution``: the solver did not fail, it was stopped before an
        answer, and more time or iterations may give one (exit 4 either way, but the message says to raise the
        limit rather than to report a fault). ``error`` is kept for what a limit cannot explain: an unbounded
        model, or a status HiGHS gives when it failed.
        """
        ms = highs.getModelStatus()
        if ms == highspy.HighsModelStatus.kOptimal:
            return Status.OPTIMAL
        if ms == highspy.HighsModelStatus.kInfeasible:
            return Status.INFEASIBLE
        if ms in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt,
                  highspy.HighsModelStatus.kIterationLimit, highspy.HighsModelStatus.kSolutionLimit):
            return Status.FEASIBLE if mip and bool(highs.getSolution().value_valid) else Status.NO_SOLUTION
        return Status.ERROR


class CBC(Solver):
    """The COIN-OR CBC command-line solver (the one on PATH, else PuLP's bundled binary); it reports no bound
    through PuLP.

    CBC's integer preprocessing is off: CBC 2.10.3 (PuLP's bundled binary) declares a worse assignment optimal on
    small band-constrained models when it is on (``tests/optimizer/test_allocate_properties.py::
    test_cbc_preprocessing_case`` pins one). Without it the same binary crashes on some infeasible models before
    writing any answer; such a run is asked again with preprocessing, whose infeasibility claim is believed but
    whose optimality claim is not (the plan is reported ``feasible``, with no bound).
    """

    name = "cbc"

    def __init__(self, time_limit: float, *, mip_gap: float = 0.0, mip: bool = True) -> None:
        super().__init__(time_limit, mip_gap=mip_gap, mip=mip)
        self.preprocess = False

    def pulp_solver(self) -> pulp.LpSolver:
        # COIN_CMD rather than PULP_CBC_CMD, which PuLP deprecates for 4.x.
        return _QuietCBC(msg=False, path=_cbc_path(), timeLimit=self.time_limit, gapRel=self.mip_gap,
                         mip=self.mip, threads=2, options=[] if self.preprocess else ["preprocess off"])

    def solve(self, problem: pulp.LpProblem) -> SolverRun:
        run = super().solve(problem)
        if run.status is not Status.ERROR or not (self.mip and problem.isMIP()):
            return run
        self.preprocess = True
        try:
            again = super().solve(problem)
        finally:
            self.preprocess = False
        seconds = run.seconds + again.seconds
        if again.status is Status.OPTIMAL:
            return SolverRun(Status.FEASIBLE, seconds)
        return SolverRun(again.status, seconds, again.bound)


_BACKENDS: dict[str, type[Solver]] = {"highs": HiGHS, "cbc": CBC}
SOLVERS = tuple(_BACKENDS)


def _backend(name: str, time_limit: float, mip_gap: float, mip: bool) -> Solver:
    backend = _BACKENDS.get(name)
    if backend is None:
        raise SolverError(f"unknown solver '{name}'; use one of {', '.join(SOLVERS)}")
    return backend(time_limit, mip_gap=mip_gap, mip=mip)


def run(problem: pulp.LpProblem, solver: str, time_limit: float, *, mip_gap: float = 0.0,
        mip: bool = True) -> SolverRun:
    """Solve ``problem`` with the backend named ``solver`` and read back its claim (see ``Solver.solve``).

    Parameters
    ----------
    problem
        The PuLP problem; solved in place.
    solver
        ``highs`` or ``cbc``.
    time_limit
        Seconds the solver may use (at least 0.5 s is given).
    mip_gap
        Relative gap at which a MIP may stop.
    mip
        False to solve the LP relaxation of a model with integer variables.

    Raises
    ------
    SolverError
        For an unknown name, or ``cbc`` when no CBC binary is installed.

    Examples
    --------
    >>> import pulp
    >>> prob = pulp.LpProblem("one", pulp.LpMaximize)
    >>> v = prob.add_variable("v", upBound=2.0)
    >>> prob.setObjective(pulp.LpAffineExpression([(v, 1.0)]))
    >>> out = run(prob, "highs", 10.0)
    >>> out.status, v.value()
    (<Status.OPTIMAL: 'optimal'>, 2.0)
    """
    return _backend(solver, time_limit, mip_gap, mip).solve(problem)


def make_solver(name: str, time_limit: float, *, mip_gap: float = 0.0, mip: bool = True) -> pulp.LpSolver:
    """The bare PuLP solver object for ``name``, quiet on stdout, for code that calls ``problem.solve`` itself
    (prefer ``run``, which also reads the outcome back as a ``Status``).

    Raises
    ------
    SolverError
        For an unknown name, or ``cbc`` when no CBC binary is installed.

    Examples
    --------
    >>> import pulp
    >>> prob = pulp.LpProblem("one", pulp.LpMaximize)
    >>> v = prob.add_variable("v", upBound=2.0)
    >>> prob.setObjective(pulp.LpAffineExpression([(v, 1.0)]))
    >>> prob.solve(make_solver("highs", 10.0)) == pulp.LpStatusOptimal, v.value()
    (True, 2.0)
    """
    return _backend(name, time_limit, mip_gap, mip).pulp_solver()
