"""Run tasks on a Dask distributed cluster (imported only when ``--scheduler`` is given).

Start a cluster with ``dask scheduler`` and one ``dask worker tcp://HOST:8786``
per machine (or dask-jobqueue on SLURM); every worker needs schemesim
installed. Each task is one chunk of replications; a task lost with a worker
is run again by the scheduler on another worker, and its result reaches the
caller once, so no point is lost or counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["stream_dask", "connect", "SchedulerError"]


class SchedulerError(RuntimeError):
    """The Dask scheduler asked for cannot be used; ``str()`` is the message for the user."""


T = TypeVar("T")


@contextmanager
def connect(address: str) -> Iterator[Any]:
    """A client of the scheduler at ``address``; ``"local"`` starts a cluster on this machine.

    Raises :class:`SchedulerError` (a message for the user) when Dask is not
    installed or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SchedulerError("--scheduler needs Dask distributed: pip install -e '.[cluster]'") from None

    from sim.experiments.executors import default_workers

    if address == "local":
        with (
            LocalCluster(
                n_workers=default_workers(), threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            yield client
        return
    if not address.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise SchedulerError(f"--scheduler: an address such as tcp://HOST:8786, or 'local' (got {address!r})")
    try:
        client = Client(address, set_as_default=False, timeout="10s")
    except (OSError, TimeoutError) as err:
        raise SchedulerError(f"--scheduler: cannot reach a Dask scheduler at {address} ({err})") from None
    with client:
        yield client


def stream_dask(
    fn: Callable[..., T],
    tasks: Iterable[tuple[Any, ...]],
    address: str,
    window: int | None = None,
) -> Iterator[tuple[int, T]]:
    """Yield ``(task index, fn(*task))`` as tasks finish on the cluster at ``address``."""
    from distributed import as_completed

    with connect(address) as client:
        threads = sum(client.nthreads().values()) or 1
        limit = window or 3 * threads
        pending = enumerate(tasks)
        index: dict[str, int] = {}
        running = as_completed(loop=client.loop)

        def fill() -> None:
            for i, task in pending:
                future = client.submit(fn, *task, pure=False)
                index[future.key] = i
                running.add(future)
                if len(index) >= limit:
                    return

        fill()
        try:
            for future in running:
                result = future.result()
                i = index.pop(future.key)
                future.release()
                yield i, result
                fill()
        except BaseException:
            client.cancel(list(running.futures))
            raise
