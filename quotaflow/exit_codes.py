"""Process exit codes of the ``quotaflow`` command, one per kind of failure (documented in docs/commands.md)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode", "Terminated"]


class ExitCode(IntEnum):
    """What a ``quotaflow`` run ended with."""

    OK = 0
    INTERNAL = 1  # a bug in quotaflow: please report it
    INPUT = 2  # bad command line, scenario, plan or grid file
    INFEASIBLE = 3  # the model has no solution (constraints conflict); no output written
    SOLVER = 4  # solver failed or found no solution within the time limit; no output written
    OUTPUT = 5  # output folder exists, is protected, is being written by another run, or cannot be written
    INTERRUPTED = 130  # Ctrl-C (SIGINT)
    TERMINATED = 143  # SIGTERM (128 + 15, as a shell reports a process ended by it)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the CLI so that it unwinds like Ctrl-C: staging folders are removed,
    pending tasks cancelled, a sweep's finished tasks kept for --resume; the process exits 143."""
