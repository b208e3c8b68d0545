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
   :class:`~sim.experiments.spool.RunSpool` (:func:`run_into_spool`), a sweep's
   points to its point sink; memory stays bounded by the chunks in flight.
   On local worker processes each worker writes its chunk's weekly series
   straight into the spool's files (at its replications' offsets) and sends
   back only the tables: the series, most of a chunk's bytes, then never pass
   through a pipe nor through this process.

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
from sim.experiments.spool import RunSpool, WeeklyFiles, segment_rows
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
    "run_into_spool",
    "replicate_into",
    "writes_weekly_itself",
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
    scenario: Scenario,
    seed: int,
    plan: ChunkPlan,
    execution: Execution | None = None,
    weekly_to: WeeklyFiles | None = None,
) -> Iterator[ChunkResult]:
    """The chunks of ``plan``, simulated and measured, in replication order; progress after each.

    With ``weekly_to``, each chunk's weekly series are written there by whoever
    simulates it (:func:`replicate_into`) and the chunks come back without them.
    """
    execution = execution or Execution()
    name = plan.engine.name
    if weekly_to is None:
        fn: Callable[..., ChunkResult] = replicate
        tasks: Iterator[tuple[Any, ...]] = ((scenario, seed, reps, name) for reps in plan.chunks)
    else:
        fn = replicate_into
        tasks = ((scenario, seed, reps, name, weekly_to) for reps in plan.chunks)
    for result in execute(fn, tasks, plan.workers, execution.scheduler):
        execution.report(len(result.reps))
        yield result


def replicate_into(
    scenario: Scenario, seed: int, reps: np.ndarray, engine: str, weekly_to: WeeklyFiles
) -> ChunkResult:
    """:func:`~sim.experiments.replicate.replicate`, its weekly series written to ``weekly_to``
    and left out of the result (what a local worker process runs)."""
    chunk = replicate(scenario, seed, reps, engine)
    weekly_to.write(chunk.reps, chunk.weekly)
    return ChunkResult(chunk.reps, chunk.table, {}, chunk.funded)


def writes_weekly_itself(plan: ChunkPlan, execution: Execution) -> bool:
    """Whether the chunks run on local worker processes, which then write their weekly series
    into the spool themselves (a Dask worker may not see this machine's files; in this process
    there is nothing to save)."""
    return plan.workers > 1 and not execution.scheduler


def new_spool(scenario: Scenario, replications: int) -> RunSpool:
    """An empty spool for ``replications`` replications of ``scenario``."""
    return RunSpool(segment_rows(scenario), replications, len(weeks(scenario.end_weeks)))


def run_into_spool(
    scenario: Scenario,
    seed: int,
    plan: ChunkPlan,
    execution: Execution,
    spool: RunSpool,
    first: int = 0,
    keep: list[ChunkResult] | None = None,
) -> None:
    """Simulate the chunks of ``plan`` into ``spool`` (replication ``first`` at its start), as
    :func:`spool_chunks` does; on local worker processes the workers write the weekly series."""
    if not writes_weekly_itself(plan, execution):
        spool_chunks(stream_chunks(scenario, seed, plan, execution), spool, first, keep)
        return
    chunks = stream_chunks(scenario, seed, plan, execution, spool.weekly_files(first))
    spool_chunks(chunks, spool, first, keep, weekly_written=True)


def spool_chunks(
    chunks: Iterable[ChunkResult],
    spool: RunSpool,
    first: int = 0,
    keep: list[ChunkResult] | None = None,
    weekly_written: bool = False,
) -> None:
    """Write every chunk into ``spool`` (replication ``first`` at its start); the spool is removed
    if writing fails or is interrupted. With ``keep``, each chunk's table (not its series) is kept.

    With ``weekly_written``, the chunks' weekly series are already in the spool's
    files (:func:`replicate_into`) and only their tables are written. On failure
    the chunks still running are stopped before the spool goes.
    """
    try:
        for chunk in chunks:
            if weekly_written:
                spool.write_rows(chunk)
            else:
                spool.write(chunk, first)
            if keep is not None:
                keep.append(ChunkResult(chunk.reps, chunk.table, {}))
    except BaseException:
        close = getattr(chunks, "close", None)
        try:
            if close is not None:
                close()
        finally:
            spool.remove()
        raise
