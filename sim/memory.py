"""How much memory a simulation's replications take, and the check that refuses a run that cannot fit before it
starts (instead of a ``MemoryError`` traceback, or the machine swapping, hours in).

Every replication leaves its measures in the parent process until the run ends (``ReplicationStats``: scalars,
and arrays by month, stage and seat), then in the result tables and their CSV text. Measured as the growth of
peak resident memory of ``simulate`` followed by ``SimulationResult.to_csv`` between two replication counts (one
process, Python 3.11, numpy 2, pandas 3; ``ru_maxrss``)::

    scenario                       reps x months   replications   growth per replication
    tiny                              6 x 12         400 -> 1,200     20 kB
    baseline                         40 x 12          40 -> 120       27 kB
    generated (30 accounts/rep)     100 x 24          30 -> 150      105 kB

The growth is roughly linear in reps x months (about 40 bytes per rep-month above a floor of about 8 kB).
`replication_bytes` takes twice that - a floor of 32 kB plus 96 bytes per rep-month - so the estimate stays on
the safe side of every measurement (tiny 39 kB, baseline 78 kB, the generated case 262 kB).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from scenarios import Problem, Scenario
from sim.model import SimulationError

__all__ = ["BYTES_PER_REPLICATION", "BYTES_PER_REP_MONTH", "available_memory", "check_memory", "replication_bytes"]

BYTES_PER_REPLICATION = 32 * 1024
"""Floor of the memory one replication keeps (twice the measured floor; see the module docstring)."""
BYTES_PER_REP_MONTH = 96
"""Memory one replication keeps per rep and month of the horizon (twice the measured slope)."""
USABLE_SHARE = 0.8
"""Share of the available memory a run may plan to use; the rest is left to the process's own working set (one
replication's leads and events, the interpreter) and to the rest of the machine."""


def replication_bytes(scenario: Scenario) -> int:
    """Estimated memory one replication of ``scenario`` keeps until the run ends, in bytes.

    Examples
    --------
    >>> import scenarios
    >>> replication_bytes(scenarios.load("baseline")) // 1024
    77
    """
    return BYTES_PER_REPLICATION + BYTES_PER_REP_MONTH * len(scenario.reps) * scenario.settings.calendar.months


def _cgroup_room() -> int | None:
    """Memory left under this process's cgroup limit, when there is one (containers, batch jobs): cgroup v2
    ``memory.max`` or v1 ``memory.limit_in_bytes``, minus what the group uses; looked up at the group's own path
    and at the mount's root (where a container sees its own group)."""
    try:
        groups = Path("/proc/self/cgroup").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    for line in groups:
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if controllers == "":
            base, files = Path("/sys/fs/cgroup"), ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            base, files = Path("/sys/fs/cgroup/memory"), ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        for folder in (base / path.lstrip("/"), base):
            try:
                limit = (folder / files[0]).read_text(encoding="ascii").strip()
                used = int((folder / files[1]).read_text(encoding="ascii").strip())
            except (OSError, ValueError):
                continue
            if limit == "max" or not limit.isdigit() or int(limit) >= 2**60:  # no limit set
                return None
            return max(0, int(limit) - used)
    return None


def available_memory() -> int | None:
    """Bytes of memory this process can still get (Linux ``MemAvailable``, and a cgroup limit when lower);
    None where that cannot be read, so no check is made."""
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    room = _cgroup_room()
    if room is not None:
        found.append(room)
    return min(found) if found else None


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def check_memory(scenario: Scenario, replications: int, *, copies: int = 1, option: str = "--replications",
                 available: int | None = None) -> None:
    """Refuse ``replications`` of ``scenario`` when their results cannot fit in memory (`replication_bytes`).

    Parameters
    ----------
    scenario
        The scenario (its reps and months set the size of a replication).
    replications
        Replications held at once by one run.
    copies
        How many such runs hold their results at the same time (plans of a comparison, sweep workers).
    option
        The option named in the message.
    available
        Bytes available (default `available_memory`; None there means no check).

    Raises
    ------
    SimulationError
        Naming the estimate, what is available and the largest count that fits (exit code 2 on the CLI).

    Examples
    --------
    >>> import scenarios
    >>> check_memory(scenarios.load("tiny"), 100, available=2**30)
    >>> check_memory(scenarios.load("tiny"), 10**9, available=2**30)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sim.model.SimulationError: ...
    """
    room = available_memory() if available is None else available
    if room is None:
        return
    per = replication_bytes(scenario)
    need = per * replications * max(1, copies)
    usable = int(room * USABLE_SHARE)
    if need <= usable:
        return
    fits = max(0, usable // (per * max(1, copies)))
    times = f" x {copies} at once" if copies > 1 else ""
    raise SimulationError(Problem(
        "command line",
        f"needs about {_size(need)} of memory for the results ({_size(per)} per replication for "
        f"{len(scenario.reps)} reps x {scenario.settings.calendar.months} months{times}), more than the "
        f"{_size(usable)} this run may use ({USABLE_SHARE:.0%} of the {_size(room)} available)",
        f"use at most {fits:,} replications, or split the run into several with different seeds",
        column=option, value=f"{replications:,}"))
