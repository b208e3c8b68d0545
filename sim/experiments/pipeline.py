"""The one run pipeline of ``run``, ``compare``, ``--precision`` and ``sweep``.

Every path goes through the same three steps:

1. **a chunk plan** (:func:`plan_chunks`): replications cut into chunks of the
   engine's size (:meth:`~sim.engines.contract.Engine.chunk_size`, or the
   caller's), the number of worker processes the run keeps busy, and a check,
   before any work, that the chunks running at once fit in memory
   (:mod:`sim.experiments.memory`);
2. **one executor layer** (:func:`execute`): local processes or a Dask
   cluster (:class:`Execution`), results put back in task order;
3. **one streaming writer**: a run's chunks go to a
   :class:`~sim.experiments.spool.RunSpool` (:func:`spool_chunks`), a sweep's
   points to its point sink; memory stays bounded by the chunks in flight.

Results do not depend on the chunk size, the number of workers or the
executor: every random number is keyed by the replication index, and results
are written in task order whatever order they finish in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from sim.engines.contract import Engine
from sim.engines.metrics import weeks
from sim.engines.registry import get_engine, require_supported
from sim.experiments.executors import default_workers, stream_tasks
from sim.experiments.memory import require_memory
from sim.experiments.replicate import ChunkResult, replicate
from sim.experiments.spool import RunSpool, segment_rows
from sim.spec.scenario import Scenario

__all__ = [
    "Execution",
    "ChunkPlan",
    "chunk_reps",
    "busy_workers",
    "plan_chunks",
    "plan_workers",
    "execute",
    "in_order",
    "stream_chunks",
    "new_spool",
    "spool_chunks",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Execution:
    """Where chunks run, how large they are, and who hears of progress.

    ``workers`` None uses as many processes, up to all cores, as the run keeps
    busy (the engine's ``chunks_per_worker``); a short run stays in this
    process. ``scheduler`` (a Dask address, or ``"local"``) runs the chunks on
    that cluster instead. ``chunk_size`` None takes the engine's hint.
    ``progress(n)`` is called with the replications of each finished chunk.
    """

    workers: int | None = None
    scheduler: str | None = None
    chunk_size: int | None = None
    progress: Callable[[int], None] | None = None

    def report(self, replications: int) -> None:
        """Tell ``progress`` (if any) that ``replications`` more are done."""
        if self.progress is not None:
            self.progress(replications)


@dataclass(frozen=True)
class ChunkPlan:
    """How a run is cut and spread: its engine, chunks in replication order, and worker processes."""

    engine: Engine
    chunk_size: int
    chunks: list[np.ndarray]
    workers: int

    @property
    def replications(self) -> int:
        return sum(len(c) for c in self.chunks)


def chunk_reps(replications: int, chunk_size: int, start: int = 0) -> list[np.ndarray]:
    """Split replication indices ``start .. start+replications-1`` into chunks."""
    reps = np.arange(start, start + replications, dtype=np.int64)
    return [reps[i : i + chunk_size] for i in range(0, replications, chunk_size)]


def busy_workers(engine: Engine, tasks: int, execution: Execution) -> int:
    """Worker processes for ``tasks`` chunks: as asked, else as many as the run keeps busy."""
    if execution.workers is not None:
        return max(1, execution.workers)
    return min(default_workers(), max(1, tasks // max(1, engine.chunks_per_worker)))


def _workers_at_once(plan_workers: int, tasks: int, execution: Execution) -> int:
    """Chunks held in memory on this machine at once (none here when a remote cluster runs them)."""
    if execution.scheduler == "local":
        return min(default_workers(), tasks)
    if execution.scheduler:
        return 0
    return min(plan_workers, tasks)


def plan_chunks(
    scenario: Scenario,
    seed: int,
    replications: int,
    engine: str | Engine | None = None,
    execution: Execution | None = None,
    start: int = 0,
) -> ChunkPlan:
    """The chunk plan of replications ``start .. start+replications-1``, checked before any work.

    Raises :class:`~sim.engines.contract.UnsupportedScenario` if the engine
    cannot run the scenario, and :class:`~sim.experiments.memory.InsufficientMemory`
    if the chunks that run at once do not fit in the machine's memory.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    execution = execution or Execution()
    simulator = get_engine(engine)
    require_supported(simulator, scenario)
    size = execution.chunk_size or simulator.chunk_size(scenario, seed, replications)
    chunks = chunk_reps(replications, size, start)
    workers = plan_workers(simulator, (scenario, seed), min(size, replications), len(chunks), execution)
    return ChunkPlan(simulator, size, chunks, workers)


def plan_workers(
    engine: Engine, scenario_seed: tuple[Scenario, int], size: int, tasks: int, execution: Execution
) -> int:
    """Worker processes for ``tasks`` chunks of ``size`` replications, once they are known to fit
    in memory (:class:`~sim.experiments.memory.InsufficientMemory` if they do not)."""
    workers = busy_workers(engine, tasks, execution)
    at_once = _workers_at_once(workers, tasks, execution)
    if at_once:
        scenario, seed = scenario_seed
        require_memory(engine, scenario, seed, size, at_once)
    return workers


def execute(
    fn: Callable[..., T], tasks: Iterable[tuple[Any, ...]], workers: int, scheduler: str | None = None
) -> Iterator[T]:
    """``fn(*task)`` of every task, in task order, on local processes or a Dask cluster."""
    return in_order(stream_tasks(fn, tasks, workers, scheduler))


def in_order(results: Iterator[tuple[int, T]]) -> Iterator[T]:
    """Results in task order; those that finish early wait (at most the executor's window)."""
    waiting: dict[int, T] = {}
    following = 0
    for i, result in results:
        waiting[i] = result
        while following in waiting:
            yield waiting.pop(following)
            following += 1


def stream_chunks(
    scenario: Scenario, seed: int, plan: ChunkPlan, execution: Execution | None = None
) -> Iterator[ChunkResult]:
    """The chunks of ``plan``, simulated and measured, in replication order; progress after each."""
    execution = execution or Execution()
    tasks = ((scenario, seed, reps, plan.engine.name) for reps in plan.chunks)
    for result in execute(replicate, tasks, plan.workers, execution.scheduler):
        execution.report(len(result.reps))
        yield result


def new_spool(scenario: Scenario, replications: int) -> RunSpool:
    """An empty spool for ``replications`` replications of ``scenario``."""
    return RunSpool(segment_rows(scenario), replications, len(weeks(scenario.end_weeks)))


def spool_chunks(
    chunks: Iterable[ChunkResult], spool: RunSpool, first: int = 0, keep: list[ChunkResult] | None = None
) -> None:
    """Write every chunk into ``spool`` (replication ``first`` at its start); the spool is removed
    if writing fails or is interrupted. With ``keep``, each chunk's table (not its series) is kept."""
    try:
        for chunk in chunks:
            spool.write(chunk, first)
            if keep is not None:
                keep.append(ChunkResult(chunk.reps, chunk.table, {}))
    except BaseException:
        spool.remove()
        raise
