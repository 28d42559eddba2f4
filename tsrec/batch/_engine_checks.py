"""Checks of the engine options of batch forecasting, made before any file is read: Dask would
find most of these only in ``compute``, after every file was read and checked, and without naming
the argument."""

from __future__ import annotations

import os

import numpy as np

from tsrec.estimators.errors import InputError

ENGINES = ("local", "dask")

#: the names ``dask.compute(scheduler=...)`` accepts, in any case: the three documented, then Dask's aliases
DASK_SCHEDULERS = ("threads", "processes", "synchronous", "threading", "multiprocessing", "sync", "single-threaded",
                   "distributed", "dask.distributed")

# what the Dask engine calls on a client
_CLIENT_METHODS = ("scatter", "map", "gather", "nthreads", "run")


def check_engine(engine: str, client: object, npartitions: object, scheduler: object, chunk_size: object) -> None:
    """Refuse Dask options that would not apply, rather than ignore them, and counts that are no positive ints:
    before any file is read (they were checked once every input had been read and checked)."""
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {ENGINES}, got {engine!r}")
    dask_only = [name for name, value in (("client", client), ("npartitions", npartitions), ("scheduler", scheduler))
                 if value is not None]
    if dask_only and engine != "dask":  # else a user who forgot engine="dask" would run locally unawares
        raise InputError(f"{' and '.join(dask_only)} {'is' if len(dask_only) == 1 else 'are'} only used by "
                         "engine='dask'; pass engine='dask' as well")
    if client is not None and scheduler is not None:  # the client's cluster runs the tasks, not a local scheduler
        raise InputError("scheduler is only used without a client (it picks Dask's local scheduler); pass client to "
                         "run on a cluster, or scheduler to run locally, not both")
    _check_client(client)
    _check_scheduler(scheduler)
    _check_count("chunk_size", chunk_size)
    if npartitions is not None:
        _check_count("npartitions", npartitions)


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name} must be a positive int, got {value!r}")


def _check_client(client: object) -> None:
    """A ``distributed.Client`` that is open, or a scheduler address."""
    if client is None:
        return
    if isinstance(client, str):
        _check_address(client)
        return
    if hasattr(client, "scheduler_address") and not hasattr(client, "gather"):  # a LocalCluster, SLURMCluster, ...
        raise InputError(f"client is a {type(client).__name__}, a cluster, not a client of it; pass "
                         "distributed.Client(cluster) or its address, cluster.scheduler_address")
    if isinstance(client, os.PathLike) or not all(callable(getattr(client, m, None)) for m in _CLIENT_METHODS):
        raise InputError(f"client must be a distributed.Client or a scheduler address such as "
                         f"'tcp://10.0.0.5:8786', got {type(client).__name__} {client!r:.80}")
    if getattr(client, "status", None) in ("closing", "closed"):
        raise InputError("client is closed; pass an open distributed.Client (or the scheduler's address)")


def _check_address(address: str) -> None:
    """An address distributed can connect to, read as it reads one (no scheme is tcp): connecting
    comes after every file is read, and a bad one failed there with distributed's words alone."""
    fix = "give the scheduler's address as tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)"
    if not address.strip():
        raise InputError(f"the scheduler address (client=, CLI: --scheduler-address) is empty; {fix}, or leave it out "
                         "to forecast on this machine")
    try:
        from distributed.comm import parse_address, parse_host_port
        from distributed.comm.registry import get_backend
    except ImportError:  # _connected says what to install
        return
    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        port = parse_host_port(location)[1] if scheme in ("tcp", "tls") else 1
    except ValueError as err:
        raise InputError(f"the scheduler address {address!r} (client=, CLI: --scheduler-address) cannot be read: "
                         f"{err}; {fix}") from None
    if not 0 < port < 2**16:
        raise InputError(f"the scheduler address {address!r} (client=, CLI: --scheduler-address) has port {port}, "
                         f"outside 1..65535; {fix}")


def _check_scheduler(scheduler: object) -> None:
    if scheduler is None or callable(scheduler):
        return
    name = str(scheduler).lower()
    if name not in DASK_SCHEDULERS:
        raise InputError(f"scheduler must be 'threads', 'processes' or 'synchronous' (or another of Dask's names: "
                         f"{', '.join(DASK_SCHEDULERS[3:])}), got {scheduler!r}")
    if name in ("distributed", "dask.distributed") and not _has_default_client():
        raise InputError(f"scheduler={scheduler!r} runs on the active distributed.Client, and there is none; pass "
                         "client= (a Client or a scheduler address), or scheduler='threads' to run on this machine")


def _has_default_client() -> bool:
    try:
        from distributed import default_client
    except ImportError:
        return False
    try:
        default_client()
    except ValueError:  # "No clients found"
        return False
    return True
