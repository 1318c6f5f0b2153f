"""A Dask client: connected to a running scheduler, or to a LocalCluster started here.

``dask`` and ``distributed`` are imported lazily; a missing one names the ``scale`` extra.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Iterator

from facemetric.errors import ConfigError, require

DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler before giving up
EXTRA = "scale"


def require_distributed() -> Any:
    """``distributed`` (and ``dask``), or :class:`MissingDependencyError` naming the ``scale`` extra."""
    require("dask", EXTRA)
    return require("distributed", EXTRA)


def check_address(scheduler: str) -> str:
    """``tcp://HOST:PORT`` (or ``tls://``, ``inproc://``, ``ucx://``); a bare ``HOST:PORT`` gets ``tcp://``."""
    address = scheduler.strip()
    if "://" not in address:
        address = "tcp://" + address
    protocol, _, rest = address.partition("://")
    host, sep, port = rest.rpartition(":")
    if protocol not in ("tcp", "tls", "inproc", "ucx") or (protocol != "inproc" and (
            not sep or not host or not port.isdigit())):
        raise ConfigError(f"--scheduler must look like tcp://HOST:PORT; got {scheduler!r}")
    return address


@contextmanager
def dask_client(
    scheduler: str | None = None,
    *,
    workers: int | None = None,
    threads_per_worker: int = 1,
    processes: bool = True,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> Iterator[Any]:
    """Yield a ``distributed.Client``; close it (and any cluster started here) on exit.

    With ``scheduler`` it connects to that scheduler and fails after ``timeout`` seconds with
    one line. Without, it starts a ``LocalCluster`` of ``workers`` workers (default 2) bound to
    127.0.0.1 (its HTTP endpoint on a free loopback port); ``processes=False`` keeps the workers as threads of this process
    (in-process transport, no sockets).
    """
    distributed = require_distributed()
    if scheduler is not None and workers is not None:
        raise ConfigError("give either --scheduler (a running cluster) or --dask-workers (a local one), not both")
    if scheduler is None:
        n = 2 if workers is None else workers
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"--dask-workers must be an int >= 1; got {workers!r}")
        network = {"host": "127.0.0.1"} if processes else {}  # threads talk in-process (inproc://)
        cluster = distributed.LocalCluster(
            n_workers=n, threads_per_worker=threads_per_worker, processes=processes,
            dashboard_address="127.0.0.1:0" if processes else None, silence_logs=logging.CRITICAL, **network,
        )
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    address = check_address(scheduler)
    try:
        client = distributed.Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({reason}); start one with "
            "`dask scheduler` and `dask worker ADDRESS`, or leave --scheduler out to run a local cluster"
        ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ConfigError(
                f"the Dask scheduler at {address} has no workers after {timeout:g} s; start some with "
                f"`dask worker {address}`"
            ) from None
        yield client
    finally:
        client.close()


def n_workers(client: Any) -> int:
    """How many workers the client's cluster has right now (at least 1, to size windows)."""
    return max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
