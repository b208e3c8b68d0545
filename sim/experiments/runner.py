"""Run a scenario for many replications: chunk, execute, gather in order."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.experiments.executors import default_workers, run_tasks
from sim.experiments.replicate import ChunkResult, replicate
from sim.spec.loader import LoadedScenario

__all__ = ["RunResult", "run_scenario", "chunk_reps"]


@dataclass
class RunResult:
    """All replications of one scenario run, in replication order."""

    loaded: LoadedScenario
    seed: int
    engine: str
    replications: int
    table: pd.DataFrame
    weekly: dict[str, np.ndarray]
    elapsed_s: float
    workers: int
    extra: dict[str, object] = field(default_factory=dict)


def chunk_reps(replications: int, chunk_size: int, start: int = 0) -> list[np.ndarray]:
    """Split replication indices ``start .. start+replications-1`` into chunks."""
    reps = np.arange(start, start + replications, dtype=np.int64)
    return [reps[i : i + chunk_size] for i in range(0, replications, chunk_size)]


def _default_chunk(replications: int, workers: int, engine: str) -> int:
    per_worker = -(-replications // max(workers, 1))
    cap = 25 if engine == "des" else 2000
    # several chunks per worker keep the progress bar moving and the load balanced
    return max(1, min(cap, -(-per_worker // 4)))


def run_scenario(
    loaded: LoadedScenario,
    replications: int,
    seed: int,
    engine: str = "des",
    workers: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run ``replications`` replications of a scenario; ``progress(n)`` after each chunk."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    workers = default_workers() if workers is None else max(1, workers)
    size = chunk_size or _default_chunk(replications, workers, engine)
    chunks = chunk_reps(replications, size)
    tasks = [(loaded.scenario, seed, reps, engine) for reps in chunks]
    start = time.perf_counter()
    results: list[ChunkResult | None] = [None] * len(tasks)
    for i, result in run_tasks(replicate, tasks, workers):
        results[i] = result
        if progress:
            progress(len(result.reps))
    done = [r for r in results if r is not None]
    table = pd.concat([r.table for r in done], ignore_index=True)
    table = table.sort_values(["scheme", "segment", "replication"], kind="stable", ignore_index=True)
    weekly = {name: np.concatenate([r.weekly[name] for r in done]) for name in done[0].weekly}
    return RunResult(
        loaded=loaded,
        seed=seed,
        engine=engine,
        replications=replications,
        table=table,
        weekly=weekly,
        elapsed_s=time.perf_counter() - start,
        workers=workers,
    )
