"""Run a scenario for many replications: chunk, execute, stream the results to disk in order.

Chunks of replications run on the executors of :mod:`sim.experiments.executors`
and their results are written as they arrive, in replication order, into a
:class:`RunSpool` (a temporary folder): the per-replication table goes to a
Parquet file one row group per chunk, the weekly series to one file per scheme
laid out series-week by series-week, so that quantiles over replications can
later be computed exactly, a few series-weeks at a time. Memory therefore does
not grow with the number of replications; :mod:`sim.outputs.report` turns a
spool into the result folder.

Results do not depend on the chunk size or the number of workers: every random
number is keyed by the replication index, and rows are written in replication
order whatever order the chunks finish in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.engines.metrics import SERIES, weeks
from sim.experiments.executors import default_workers, stream_tasks
from sim.experiments.replicate import ChunkResult, replicate
from sim.spec.loader import LoadedScenario
from sim.spec.scenario import Scenario

__all__ = [
    "RunResult",
    "RunSpool",
    "run_scenario",
    "chunk_reps",
    "chunk_size_for",
    "segment_rows",
    "MEMORY_BUDGET",
    "CHUNKS_PER_WORKER",
]

#: Working memory one chunk may use (bytes); sets the chunk size of the batch engine. Measured
#: on the baseline, larger chunks are slower (their arrays are mapped afresh for every chunk),
#: and smaller ones pay more per-chunk overhead.
MEMORY_BUDGET = 64 * 2**20

#: Fewest chunks that make starting a worker process (a second or two of imports) worth it: a
#: SimPy-engine chunk takes a fraction of a second, a batch-engine chunk a few hundredths.
CHUNKS_PER_WORKER = {"des": 2, "batch": 32}

#: Largest batch-engine chunk (replications), for scenarios with few firms.
MAX_CHUNK = 4096


class RunSpool:
    """The streamed results of a run, in a temporary folder.

    ``replications.parquet`` holds one row per (replication, scheme, segment),
    in replication order; ``weekly-<k>.f8`` holds scheme ``k``'s weekly series
    as float64, series-week major: the values of all replications for series
    ``s`` at week ``w`` are contiguous, at cell ``s * weeks + w``.
    """

    def __init__(
        self,
        schemes: dict[str, list[str]],
        replications: int,
        n_weeks: int,
        folder: Path | None = None,
    ):
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="schemesim-run-"))
        self.schemes = list(schemes)
        # rows of a replication: each scheme as a whole, then its segments, in the scenario's order
        rows = [(name, label) for name, segs in schemes.items() for label in ("all", *segs)]
        self._rank = {row: i for i, row in enumerate(rows)}
        self.replications = replications
        self.n_weeks = n_weeks
        self.cells = len(SERIES) * n_weeks
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._files: list[int] = []
        for k in range(len(self.schemes)):
            fd = os.open(self._weekly_path(k), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            os.ftruncate(fd, self.cells * replications * 8)
            self._files.append(fd)
        self._cleanup = weakref.finalize(self, _remove, self.folder, list(self._files))

    def _in_order(self, table: pd.DataFrame) -> pd.DataFrame:
        """Rows by replication, then scheme and segment in the scenario's order."""
        rank = [self._rank[row] for row in zip(table["scheme"], table["segment"], strict=True)]
        order = np.lexsort((np.asarray(rank), table["replication"].to_numpy()))
        return table.iloc[order].reset_index(drop=True)

    @property
    def parquet(self) -> Path:
        return self.folder / "replications.parquet"

    def _weekly_path(self, k: int) -> Path:
        return self.folder / f"weekly-{k}.f8"

    def write(self, chunk: ChunkResult, first: int) -> None:
        """Add a chunk whose replications are ``first, first+1, ...`` of the run (in order)."""
        table = self._in_order(chunk.table)
        arrow = pa.Table.from_pandas(table, preserve_index=False, schema=self._schema)
        if self._writer is None:
            self._schema = arrow.schema
            self._writer = pq.ParquetWriter(self.parquet, self._schema)
        self._writer.write_table(arrow)
        position = int(chunk.reps[0]) - first
        for k, name in enumerate(self.schemes):
            cells = np.ascontiguousarray(chunk.weekly[name].reshape(len(chunk.reps), -1).T)
            for c in range(self.cells):
                os.pwrite(self._files[k], cells[c].tobytes(), (c * self.replications + position) * 8)

    def close(self) -> None:
        """Finish writing (the files stay until :meth:`remove` or the spool is collected)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for fd in self._files:
            os.close(fd)
        self._files = []
        self._cleanup.detach()
        self._cleanup = weakref.finalize(self, _remove, self.folder, [])

    def remove(self) -> None:
        self._cleanup()

    # ---- reading back
    def read_table(self, columns: list[str] | None = None, categories: bool = True) -> pd.DataFrame:
        """The replication table (or some of its columns), in replication order.

        With ``categories``, scheme and segment names come back as categories
        (small however many rows), otherwise as strings.
        """
        names = ["scheme", "segment"] if categories else None
        return pq.read_table(self.parquet, columns=columns, read_dictionary=names).to_pandas()

    def cells_of(self, scheme: str, first: int, count: int) -> np.ndarray:
        """Series-week cells ``first .. first+count-1`` of ``scheme``: array (count, replications)."""
        k = self.schemes.index(scheme)
        n = count * self.replications
        with self._weekly_path(k).open("rb") as f:
            f.seek(first * self.replications * 8)
            out = np.fromfile(f, dtype=np.float64, count=n)
        return out.reshape(count, self.replications)

    def weekly(self) -> dict[str, np.ndarray]:
        """Every weekly series in memory: ``{scheme: (replications, series, weeks)}``."""
        return {
            name: self.cells_of(name, 0, self.cells).T.reshape(self.replications, len(SERIES), self.n_weeks)
            for name in self.schemes
        }


def _remove(folder: Path, files: list[int]) -> None:
    for fd in files:
        try:
            os.close(fd)
        except OSError:
            pass
    shutil.rmtree(folder, ignore_errors=True)


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
        elapsed_s: float = 0.0,
        workers: int = 1,
        extra: dict[str, object] | None = None,
        spool: RunSpool | None = None,
    ):
        if spool is None and (table is None or weekly is None):
            raise ValueError("a run needs its table and weekly series, or a spool")
        self.loaded = loaded
        self.seed = seed
        self.engine = engine
        self.replications = replications
        self.elapsed_s = elapsed_s
        self.workers = workers
        self.extra: dict[str, object] = dict(extra or {})
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


def segment_rows(scenario: Scenario) -> dict[str, list[str]]:
    """Per scheme, the segments that get rows of their own (those of schemes serving several)."""
    return {name: list(s.segments) if len(s.segments) > 1 else [] for name, s in scenario.schemes.items()}


def chunk_reps(replications: int, chunk_size: int, start: int = 0) -> list[np.ndarray]:
    """Split replication indices ``start .. start+replications-1`` into chunks."""
    reps = np.arange(start, start + replications, dtype=np.int64)
    return [reps[i : i + chunk_size] for i in range(0, replications, chunk_size)]


def chunk_size_for(loaded: LoadedScenario, replications: int, engine: str, seed: int, workers: int) -> int:
    """Replications per chunk.

    The SimPy engine uses small chunks (a few seconds each). The batch engine's
    chunk is the largest whole number of its blocks whose working memory fits
    :data:`MEMORY_BUDGET` (at most :data:`MAX_CHUNK`), whatever the number of
    replications, so peak memory does not grow with it; a run shorter than one
    chunk is one chunk. ``workers`` does not change the chunk (nor any number).
    """
    if engine != "batch":
        return max(1, min(25, -(-replications // 8)))
    from sim.engines.batch import BLOCK, bytes_per_replication

    per_rep = bytes_per_replication(loaded.scenario, seed)
    fits = max(1, int(MEMORY_BUDGET // max(per_rep, 1.0)) // BLOCK) * BLOCK
    return max(BLOCK, min(fits, MAX_CHUNK, -(-replications // BLOCK) * BLOCK))


def run_scenario(
    loaded: LoadedScenario,
    replications: int,
    seed: int,
    engine: str = "des",
    workers: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run ``replications`` replications of a scenario; ``progress(n)`` after each chunk.

    Results stream into a :class:`RunSpool`; memory stays bounded by the chunk size.
    ``workers`` None uses as many processes, up to all cores, as the run keeps
    busy (:data:`CHUNKS_PER_WORKER`); a short run stays in this process.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if engine == "batch":
        from sim.engines.batch import check_supported

        check_supported(loaded.scenario)
    size = chunk_size or chunk_size_for(loaded, replications, engine, seed, workers or 1)
    chunks = chunk_reps(replications, size)
    if workers is None:
        workers = min(default_workers(), max(1, len(chunks) // CHUNKS_PER_WORKER.get(engine, 2)))
    workers = max(1, workers)
    scenario = loaded.scenario
    spool = RunSpool(segment_rows(scenario), replications, len(weeks(scenario.horizon_weeks)))
    start = time.perf_counter()
    try:
        tasks = ((scenario, seed, reps, engine) for reps in chunks)
        for result in _in_order(stream_tasks(replicate, tasks, workers)):
            spool.write(result, 0)
            if progress:
                progress(len(result.reps))
        spool.close()
    except BaseException:
        spool.remove()
        raise
    return RunResult(
        loaded=loaded,
        seed=seed,
        engine=engine,
        replications=replications,
        elapsed_s=time.perf_counter() - start,
        workers=workers,
        extra={"chunk_size": size},
        spool=spool,
    )


def _in_order(results: Iterator[tuple[int, ChunkResult]]) -> Iterator[ChunkResult]:
    """Chunk results in task order; those that finish early wait (at most the executor's window)."""
    waiting: dict[int, ChunkResult] = {}
    following = 0
    for i, result in results:
        waiting[i] = result
        while following in waiting:
            yield waiting.pop(following)
            following += 1
