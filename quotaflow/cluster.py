"""Dask clusters for the commands that can use one (``sweep``, ``allocate``): a LocalCluster on this machine
(``--dask-local K``) or a running scheduler (``--scheduler tcp://HOST:PORT``), opened and closed in one place.

Dask is the optional ``cluster`` extra; ``require_dask`` names the ``pip install`` when it is missing.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from quotaflow.errors import MissingExtraError

__all__ = ["dask_scheduler", "local_cluster", "require_dask"]


def require_dask(option: str = "--dask-local") -> None:
    """Raise `MissingExtraError` naming the extra to install unless Dask's ``distributed`` can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise MissingExtraError(f"{option} needs Dask, which is not installed here; install the cluster extra: "
                                "pip install 'quotaflow[cluster]'") from None


def local_cluster(workers: int, dashboard: bool) -> Any:
    """A Dask LocalCluster of single-threaded worker processes that listens on this machine only: scheduler,
    workers and the HTTP server on 127.0.0.1 (a free port), the dashboard pages served only when asked."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                        scheduler_kwargs={"dashboard": dashboard})


@contextlib.contextmanager
def dask_scheduler(dask_local: int | None, scheduler: str | None, *, dashboard: bool = False) -> Iterator[str | None]:
    """The address of the Dask scheduler to use, or None for neither option: ``scheduler`` as given, or that of
    a LocalCluster of ``dask_local`` workers started here and closed (its workers stopped) on leaving.

    A caller connects with ``distributed.Client(address)`` wherever its work runs (this process or a worker
    process of its own), so the address, not a client, is what crosses process boundaries.
    """
    if dask_local is None and scheduler is None:
        yield None
        return
    require_dask("--dask-local" if dask_local is not None else "--scheduler")
    if scheduler is not None:
        yield scheduler
        return
    cluster = local_cluster(dask_local or 1, dashboard)
    try:
        if dashboard:
            print(f"Dask dashboard (this machine only): {cluster.dashboard_link}", file=sys.stderr)
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()
