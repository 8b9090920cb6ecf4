"""Many re-solves of one scenario, in this process or on Dask workers, each worker holding one warm model.

Sweeps, why / why not and the stability of the selection all ask one siting problem many
questions. A question is a small task (a weighting, a site forced out or in, one side of a
weight's range); the problem is shipped to each worker once, built there into one HiGHS
instance (``model.engine.Engine``) and kept for every later task of the same setup.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..errors import InputError
from ..model.engine import Engine

_ENGINES: dict[str, Engine] = {}


def engine_for(setup) -> Engine:
    """The worker's engine for this setup (``problem``, ``solver``, ``token``), built on its first task."""
    if setup.token not in _ENGINES:
        _ENGINES.clear()
        _ENGINES[setup.token] = Engine(setup.problem, setup.solver)
    return _ENGINES[setup.token]


@dataclass
class Batches:
    results: list  # one result per item, in the items' order
    scheduler: str  # "in-process" or the scheduler's address
    workers: int
    seconds: float


def run_batches(task: Callable[[Any, Sequence], list], setup, items: Sequence, workers: int = 0, scheduler: str | None = None,
                batch: int = 50, progress: Callable[[int], None] | None = None) -> Batches:
    """``task(setup, batch_of_items)`` over every item: here (workers=0), on a new LocalCluster of ``workers``
    processes, or on a running scheduler. ``progress(n)`` is called as each batch of n items comes back."""
    t0 = time.perf_counter()
    batches = [items[i:i + batch] for i in range(0, len(items), batch)]
    results: list[list | None] = [None] * len(batches)
    if not workers and not scheduler:
        for k, b in enumerate(batches):
            results[k] = task(setup, b)
            if progress:
                progress(len(b))
        return Batches([r for rs in results for r in rs], "in-process", 1, time.perf_counter() - t0)
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = client = None
    _quiet_dask()
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="30s")
            except (OSError, TimeoutError) as e:
                raise InputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({str(e).splitlines()[0][:160]})") from None
        else:
            with _interrupts_deferred():  # a half-started cluster cannot be closed cleanly: stop once it is up
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=QUIET)
                client = Client(cluster)
            _quiet_dask()  # the cluster set its own levels
        address = client.scheduler.address
        n_workers = len(client.scheduler_info()["workers"])
        shared = client.scatter(setup, broadcast=True)
        futures = {client.submit(task, shared, b, pure=False): k for k, b in enumerate(batches)}
        for fut in as_completed(futures):
            k = futures[fut]
            results[k] = fut.result()
            if progress:
                progress(len(batches[k]))
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return Batches([r for rs in results for r in rs], address, n_workers, time.perf_counter() - t0)


QUIET = logging.CRITICAL + 10  # above every level Dask logs at


def _quiet_dask() -> None:
    """Dask's shutdown chatter after Ctrl-C (closed comms, lost keys) is not the planner's business."""
    for name in ("distributed", "asyncio", "tornado"):
        logging.getLogger(name).setLevel(QUIET)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, then raise KeyboardInterrupt if one came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    saved = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt
