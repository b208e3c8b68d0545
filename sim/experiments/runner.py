"""Run a scenario for many replications: chunk, execute, stream the results to disk in order.

:func:`run_scenario` is the run path of the one pipeline
(:mod:`sim.experiments.pipeline`): a chunk plan from the engine, chunks on
local processes or a Dask cluster, and results streamed, in replication order,
into a :class:`~sim.experiments.spool.RunSpool` in the temporary folder, so
memory does not grow with the number of replications; :mod:`sim.outputs.report`
turns a spool into the result folder.

Results do not depend on the chunk size or the number of workers: every random
number is keyed by the replication index, and rows are written in replication
order whatever order the chunks finish in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.engines.registry import get_engine
from sim.experiments.pipeline import (
    Execution,
    chunk_reps,
    new_spool,
    plan_chunks,
    run_into_spool,
)
from sim.experiments.spool import RunSpool, segment_rows
from sim.spec.loader import LoadedScenario

__all__ = [
    "RunResult",
    "RunStats",
    "RunSpool",
    "run_scenario",
    "run_plan",
    "chunk_reps",
    "chunk_size_for",
    "segment_rows",
]


@dataclass
class RunStats:
    """How a run went: wall time, worker processes, and what else its manifest records."""

    elapsed_s: float = 0.0
    workers: int = 1
    extra: dict[str, object] = field(default_factory=dict)


class RunResult:
    """All replications of one scenario run.

    A run made by :func:`run_scenario` keeps its results on disk (``spool``);
    ``table`` and ``weekly`` then read them back on first use, which for very
    large runs costs memory. Runs assembled in memory pass ``table`` and
    ``weekly`` directly.
    """

    def __init__(
        self,
        loaded: LoadedScenario,
        seed: int,
        engine: str,
        replications: int,
        table: pd.DataFrame | None = None,
        weekly: dict[str, np.ndarray] | None = None,
        spool: RunSpool | None = None,
        stats: RunStats | None = None,
    ):
        if spool is None and (table is None or weekly is None):
            raise ValueError("a run needs its table and weekly series, or a spool")
        stats = stats or RunStats()
        self.loaded = loaded
        self.seed = seed
        self.engine = engine
        self.replications = replications
        self.elapsed_s = stats.elapsed_s
        self.workers = stats.workers
        self.extra: dict[str, object] = dict(stats.extra)
        self.spool = spool
        self._table = table
        self._weekly = weekly

    @property
    def table(self) -> pd.DataFrame:
        """One row per (replication, scheme, segment), ordered by scheme, segment, replication."""
        if self._table is None:
            assert self.spool is not None
            table = self.spool.read_table(categories=False)
            self._table = table.sort_values(["scheme", "segment", "replication"], kind="stable").reset_index(
                drop=True
            )
        return self._table

    @property
    def weekly(self) -> dict[str, np.ndarray]:
        if self._weekly is None:
            assert self.spool is not None
            self._weekly = self.spool.weekly()
        return self._weekly

    def __repr__(self) -> str:
        return (
            f"RunResult({self.loaded.name!r}, seed={self.seed}, engine={self.engine!r}, "
            f"replications={self.replications})"
        )


def chunk_size_for(loaded: LoadedScenario, replications: int, engine: str, seed: int, workers: int) -> int:
    """Replications per chunk: the engine's hint (``workers`` does not change the chunk, nor any number)."""
    return get_engine(engine).chunk_size(loaded.scenario, seed, replications)


def run_scenario(
    loaded: LoadedScenario,
    replications: int,
    seed: int,
    engine: str | None = None,
    *,
    workers: int | None = None,
    chunk_size: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run ``replications`` replications of a scenario on ``engine`` (None: the default engine).

    ``workers`` None uses as many processes, up to all cores, as the run keeps
    busy; a short run stays in this process. ``scheduler`` runs the chunks on a
    Dask cluster. ``progress(n)`` is called after each chunk. Results stream
    into a :class:`RunSpool`; memory stays bounded by the chunks in flight.
    """
    execution = Execution(workers=workers, scheduler=scheduler, chunk_size=chunk_size, progress=progress)
    return run_plan(loaded, replications, seed, engine, execution)


def run_plan(
    loaded: LoadedScenario, replications: int, seed: int, engine: str | None, execution: Execution
) -> RunResult:
    """:func:`run_scenario` with its execution options in one :class:`Execution`."""
    scenario = loaded.scenario
    plan = plan_chunks(scenario, seed, replications, engine, execution)
    spool = new_spool(scenario, replications)
    began = time.perf_counter()
    run_into_spool(scenario, seed, plan, execution, spool)
    spool.close()
    extra: dict[str, object] = {"chunk_size": plan.chunk_size}
    if execution.scheduler:
        extra["scheduler"] = execution.scheduler
    stats = RunStats(time.perf_counter() - began, plan.workers, extra)
    return RunResult(loaded, seed, plan.engine.name, replications, spool=spool, stats=stats)
