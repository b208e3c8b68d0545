"""Where chunks of replications run: in this process, in worker processes, or on a Dask cluster.

An executor maps one function over a list of tasks and yields results as they
finish. Results are put back in task order by the caller, so the executor
never changes a number.

Worker processes are tied to their parent: they ignore SIGINT (the parent
handles Ctrl-C and stops them), and they die with it even when it is killed
with SIGKILL (``prctl(PR_SET_PDEATHSIG)`` on Linux, and a thread that watches
the parent everywhere), so no worker is left running after its run is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

__all__ = ["run_tasks", "stream_tasks", "default_workers", "worker_pool"]

T = TypeVar("T")

#: prctl option that sends the calling process a signal when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1

#: How often a worker checks that its parent is alive (seconds), where prctl is not available.
PARENT_WATCH_S = 0.5


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _watch_parent(parent: int) -> None:
    """End this process as soon as its parent is gone (it is then adopted by another)."""
    while os.getppid() == parent:
        time.sleep(PARENT_WATCH_S)
    os._exit(1)


def _init_worker(parent: int) -> None:
    """Worker start-up: ignore Ctrl-C (the parent handles it) and die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before we could ask to die with it
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="parent-watch").start()


@contextlib.contextmanager
def _no_sigint() -> Iterator[None]:
    """Ignore SIGINT while worker processes start, so that they are born ignoring it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes that ignore SIGINT and die with this process."""
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),)
    )


def _submit(pool: ProcessPoolExecutor, fn: Callable[..., T], task: tuple[Any, ...]) -> Future[T]:
    with _no_sigint():
        return pool.submit(fn, *task)


def _stop(pool: ProcessPoolExecutor, running: Iterable[Future[Any]]) -> None:
    """Stop the workers now (an error or an interruption); what is queued fails with the pool.

    The worker processes are terminated, not their futures cancelled: the pool
    then marks every unfinished future as failed itself (cancelling them first
    makes Python 3.11's pool thread raise on the cancelled ones).
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    if not processes:
        for future in running:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, AttributeError):
            process.terminate()
    _unblock_results(pool, processes)


def _unblock_results(pool: ProcessPoolExecutor, processes: list[Any]) -> None:
    """Let the pool notice its terminated workers even if one died while sending a result.

    A worker killed halfway through writing a result leaves a partial message
    in the results pipe; the pool's reader would wait for the rest forever
    (this process holds the pipe's other end too), and the pool's shutdown
    with it. Once the workers are gone, this process's copy of the writing end
    is closed, so the reader sees the pipe end and the pool stops as broken.
    """
    for process in processes:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            process.join(timeout=5)
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    with contextlib.suppress(OSError, AttributeError):
        if writer is not None:
            writer.close()


def run_tasks(
    fn: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    workers: int = 1,
    scheduler: str | None = None,
) -> Iterator[tuple[int, T]]:
    """Yield ``(task index, fn(*task))`` as tasks finish, on ``workers`` processes.

    With ``scheduler`` (a Dask address such as ``tcp://host:8786``) the tasks run on that cluster.
    """
    yield from stream_tasks(fn, tasks, min(workers, max(1, len(tasks))), scheduler, window=len(tasks))


def stream_tasks(
    fn: Callable[..., T],
    tasks: Iterable[tuple[Any, ...]],
    workers: int = 1,
    scheduler: str | None = None,
    window: int | None = None,
) -> Iterator[tuple[int, T]]:
    """Yield ``(task index, fn(*task))`` as tasks finish; at most ``window`` are in flight.

    Tasks are drawn from ``tasks`` only as earlier ones finish, so neither the
    tasks nor their results pile up in memory however many there are. With
    ``scheduler`` (a Dask address, or ``"local"``) the tasks run on that cluster.
    """
    if scheduler:
        from sim.experiments.dask_executor import stream_dask

        yield from stream_dask(fn, tasks, scheduler, window)
        return
    if workers <= 1:
        for i, task in enumerate(tasks):
            yield i, fn(*task)
        return
    yield from _stream_pool(fn, enumerate(tasks), workers, window or 3 * workers)


def _stream_pool(
    fn: Callable[..., T], pending: Iterator[tuple[int, tuple[Any, ...]]], workers: int, window: int
) -> Iterator[tuple[int, T]]:
    """:func:`stream_tasks` on a pool of local worker processes."""
    with worker_pool(workers) as pool:
        running: dict[Future[T], int] = {}

        def fill() -> None:
            for i, task in pending:
                running[_submit(pool, fn, task)] = i
                if len(running) >= window:
                    return

        try:
            fill()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield running.pop(future), future.result()
                fill()
        except BaseException:
            _stop(pool, running)
            raise
