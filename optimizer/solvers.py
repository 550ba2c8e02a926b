"""Where every solver object is made, and where solver output is kept off standard output.

``make_solver`` is the one place that turns a solver name (``highs``: HiGHS in-process through highspy;
``cbc``: the COIN-OR command-line solver) and limits into a PuLP solver object. The objects it makes run their
solve inside ``solver_output_to_log``: HiGHS 1.16 prints a copyright banner on the C-level standard output the
first time a ``highspy.Highs`` is constructed in a process, before PuLP can switch its output off, and that banner
would otherwise land in CSV printed on stdout, in ``allocate > file`` and in notebooks. Whatever a solver writes
to file descriptor 1 while it runs goes to the ``optimizer.solvers`` logger at DEBUG level instead.
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
from pathlib import Path
from typing import IO, Any

import pulp

from optimizer.errors import SolverError

__all__ = ["SOLVERS", "make_solver", "solver_output_to_log"]

SOLVERS = ("highs", "cbc")

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
    """PuLP's HiGHS interface, solved with its output diverted to the log and with our own deadline: HiGHS's
    time_limit is not always honoured on huge models (a 300 s limit ran past 800 s), so simplex, IPM and MIP
    interrupt callbacks stop the solve at the deadline."""

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


def make_solver(name: str, time_limit: float, *, mip_gap: float = 0.0, mip: bool = True) -> pulp.LpSolver:
    """The PuLP solver object for ``name``, quiet on stdout (see ``solver_output_to_log``).

    Parameters
    ----------
    name
        ``highs`` or ``cbc``.
    time_limit
        Seconds the solver may use (at least 0.5 s is given). HiGHS is also interrupted one second past it.
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
    >>> prob.solve(make_solver("highs", 10.0)) == pulp.LpStatusOptimal, v.value()
    (True, 2.0)
    """
    limit = max(float(time_limit), 0.5)
    if name == "cbc":
        # COIN_CMD rather than PULP_CBC_CMD, which PuLP deprecates for 4.x.
        return _QuietCBC(msg=False, path=_cbc_path(), timeLimit=limit, gapRel=mip_gap, mip=mip, threads=2)
    if name == "highs":
        return _QuietHiGHS(time.perf_counter() + limit + 1.0, msg=False, timeLimit=limit, gapRel=mip_gap, mip=mip,
                           threads=2)
    raise SolverError(f"unknown solver '{name}'; use one of {', '.join(SOLVERS)}")
