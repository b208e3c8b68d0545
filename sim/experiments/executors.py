"""Where chunks of replications run: in this process, in worker processes, or on a Dask cluster.

An executor maps one function over a list of tasks and yields results as they
finish, calling ``progress`` with the number of replications done. Results are
put back in task order by the caller, so the executor never changes a number.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, as_completed, wait
from typing import Any, TypeVar

__all__ = ["run_tasks", "stream_tasks", "default_workers"]

T = TypeVar("T")


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_tasks(
    fn: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    workers: int = 1,
    scheduler: str | None = None,
) -> Iterator[tuple[int, T]]:
    """Yield ``(task index, fn(*task))`` as tasks finish, on ``workers`` processes.

    With ``scheduler`` (a Dask address such as ``tcp://host:8786``) the tasks run on that cluster.
    """
    if scheduler:
        yield from stream_tasks(fn, tasks, workers, scheduler)
        return
    if workers <= 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            yield i, fn(*task)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx) as pool:
        futures = {pool.submit(fn, *task): i for i, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def stream_tasks(
    fn: Callable[..., T],
    tasks: Iterable[tuple[Any, ...]],
    workers: int = 1,
    scheduler: str | None = None,
    window: int | None = None,
) -> Iterator[tuple[int, T]]:
    """Like :func:`run_tasks` for a stream of tasks of any length: at most ``window`` are in flight.

    Tasks are drawn from ``tasks`` only as earlier ones finish, so neither the
    tasks nor their results pile up in memory however many there are.
    """
    if scheduler:
        from sim.experiments.dask_executor import stream_dask

        yield from stream_dask(fn, tasks, scheduler, window)
        return
    if workers <= 1:
        for i, task in enumerate(tasks):
            yield i, fn(*task)
        return
    pending = enumerate(tasks)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        running: dict[Any, int] = {}

        def fill() -> None:
            for i, task in pending:
                running[pool.submit(fn, *task)] = i
                if len(running) >= (window or 3 * workers):
                    return

        try:
            fill()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield running.pop(future), future.result()
                fill()
        except BaseException:
            for future in running:
                future.cancel()
            raise
