"""The streaming writer of a run: a :class:`RunSpool` in the temporary folder, owned by one process.

Chunk results are written as they arrive, in replication order: the
per-replication table goes to a Parquet file one row group per chunk, the
weekly series to one file per scheme laid out series-week by series-week, so
that quantiles over replications can later be computed exactly, a few
series-weeks at a time. Memory therefore does not grow with the number of
replications; :mod:`sim.outputs.report` turns a spool into the result folder.
Local worker processes may write their chunks' weekly series into the files
themselves (:class:`WeeklyFiles`), at their replications' offsets; they never
create nor remove anything in the spool.

A spool's folder name carries its owner's process id and start time
(``schemesim-run-PID-START-XXXX``). The owner removes it on exit (normal exit,
an exception, or a signal the command line turns into one); a spool whose
owner died without cleaning up (``kill -9``) is removed by the next run that
starts (:func:`remove_stale_spools`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.engines.funded import FundedTables
from sim.engines.metrics import SERIES
from sim.experiments.debris import SPOOL_PREFIX, new_spool_folder, remove_stale_spools
from sim.experiments.replicate import ChunkResult
from sim.spec.scenario import Scenario

__all__ = [
    "FUNDED_FILES",
    "RunSpool",
    "SPOOL_PREFIX",
    "WeeklyFiles",
    "remove_stale_spools",
    "segment_rows",
    "write_cells",
]

#: The who-is-funded tables (:class:`~sim.engines.funded.FundedTables` fields) and their files.
FUNDED_FILES: dict[str, str] = {"bands": "funded.parquet", "grants": "grants.parquet"}


def segment_rows(scenario: Scenario) -> dict[str, list[str]]:
    """Per scheme, the segments that get rows of their own (those of schemes serving several)."""
    return {name: list(s.segments) if len(s.segments) > 1 else [] for name, s in scenario.schemes.items()}


def write_cells(fd: int, series: np.ndarray, position: int, capacity: int) -> None:
    """Write a chunk's weekly series of one scheme, shape (replications, series, weeks), into the
    series-week major file ``fd`` of ``capacity`` replications, its first at ``position``.

    Each series-week cell of the chunk is one contiguous run of the file, so a
    chunk is one positional write per cell, whoever writes it.
    """
    n = len(series)
    cells = np.ascontiguousarray(series.reshape(n, -1).T, dtype=np.float64)
    if not 0 <= position <= capacity - n:
        raise ValueError(f"replications {position}..{position + n - 1} are outside a spool of {capacity}")
    for c in range(len(cells)):
        if os.pwrite(fd, cells[c], (c * capacity + position) * 8) != n * 8:
            raise OSError(errno.ENOSPC, "short write to a spool's weekly file")


@dataclass(frozen=True)
class WeeklyFiles:
    """Where the weekly series of a run's chunks go, for a worker process to write them itself.

    The files of a :class:`RunSpool` (one per scheme, preallocated by it), its
    capacity, and the run's first replication. A worker opens them without
    creating anything: once the spool is removed, a late write fails instead of
    leaving a file behind.
    """

    schemes: tuple[str, ...]
    paths: tuple[str, ...]
    capacity: int
    first: int

    def write(self, reps: np.ndarray, weekly: dict[str, np.ndarray]) -> None:
        """Write the weekly series of replications ``reps`` (a contiguous run) at their offsets."""
        for name, path in zip(self.schemes, self.paths, strict=True):
            fd = os.open(path, os.O_RDWR)
            try:
                write_cells(fd, weekly[name], int(reps[0]) - self.first, self.capacity)
            finally:
                os.close(fd)


class RunSpool:
    """The streamed results of a run, in a temporary folder.

    ``replications.parquet`` holds one row per (replication, scheme, segment),
    in replication order; ``weekly-<k>.f8`` holds scheme ``k``'s weekly series
    as float64, series-week major: the values of all replications for series
    ``s`` at week ``w`` are contiguous, at cell ``s * weeks + w``. Chunks that
    carry who-is-funded tables add them to ``funded.parquet`` (by size band)
    and ``grants.parquet`` (grants against the cap), in replication order.
    """

    def __init__(
        self,
        schemes: dict[str, list[str]],
        replications: int,
        n_weeks: int,
        folder: Path | None = None,
    ):
        remove_stale_spools()
        self.folder = Path(folder) if folder is not None else new_spool_folder()
        self.schemes = list(schemes)
        # rows of a replication: each scheme as a whole, then its segments, in the scenario's order
        rows = [(name, label) for name, segs in schemes.items() for label in ("all", *segs)]
        self._rank = {row: i for i, row in enumerate(rows)}
        self.replications = replications
        self.n_weeks = n_weeks
        self.cells = len(SERIES) * n_weeks
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._funded: dict[str, pq.ParquetWriter] = {}
        self._files: list[int] = []
        self._cleanup = weakref.finalize(self, _remove, self.folder, self._files)
        for k in range(len(self.schemes)):
            fd = os.open(self._weekly_path(k), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            self._files.append(fd)
            os.ftruncate(fd, self.cells * replications * 8)

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

    def weekly_files(self, first: int = 0) -> WeeklyFiles:
        """The weekly files, for chunks of a run whose replications are ``first, first+1, ...``."""
        paths = tuple(str(self._weekly_path(k)) for k in range(len(self.schemes)))
        return WeeklyFiles(tuple(self.schemes), paths, self.replications, first)

    def write(self, chunk: ChunkResult, first: int) -> None:
        """Add a chunk whose replications are ``first, first+1, ...`` of the run (in order)."""
        self.write_rows(chunk)
        position = int(chunk.reps[0]) - first
        for k, name in enumerate(self.schemes):
            write_cells(self._files[k], chunk.weekly[name], position, self.replications)

    def write_rows(self, chunk: ChunkResult) -> None:
        """Add a chunk's table and who-is-funded tables, not its weekly series (in order).

        For chunks whose series a worker already wrote through :meth:`weekly_files`.
        """
        table = self._in_order(chunk.table)
        arrow = pa.Table.from_pandas(table, preserve_index=False, schema=self._schema)
        if self._writer is None:
            self._schema = arrow.schema
            self._writer = pq.ParquetWriter(self.parquet, self._schema)
        self._writer.write_table(arrow)
        if chunk.funded is not None:
            self._write_funded(chunk.funded)

    def _write_funded(self, funded: FundedTables) -> None:
        """Append a chunk's who-is-funded tables (already in replication order) to their files."""
        for key, name in FUNDED_FILES.items():
            table: pa.Table = getattr(funded, key)
            writer = self._funded.get(key)
            if writer is None:
                writer = self._funded[key] = pq.ParquetWriter(self.folder / name, table.schema)
            writer.write_table(table)

    def funded_path(self, key: str) -> Path | None:
        """The file of who-is-funded table ``key`` ("bands" or "grants"); None if no chunk had it."""
        path = self.folder / FUNDED_FILES[key]
        return path if key in self._funded and path.exists() else None

    def shrink(self, replications: int) -> None:
        """Keep only the first ``replications`` (a run that stopped before the spool's capacity).

        Cell ``c`` moves from offset ``c * capacity`` to ``c * replications``:
        forward and in place, since no destination passes a source still to read.
        """
        if replications >= self.replications:
            return
        for k in range(len(self.schemes)):
            fd = os.open(self._weekly_path(k), os.O_RDWR)
            try:
                for c in range(1, self.cells):
                    values = os.pread(fd, replications * 8, c * self.replications * 8)
                    os.pwrite(fd, values, c * replications * 8)
                os.ftruncate(fd, self.cells * replications * 8)
            finally:
                os.close(fd)
        self.replications = replications

    def close(self) -> None:
        """Finish writing (the files stay until :meth:`remove`, the spool is collected, or exit)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for writer in self._funded.values():
            writer.close()
        for fd in self._files:
            os.close(fd)
        self._files.clear()

    def remove(self) -> None:
        self._cleanup()

    # ---- reading back
    def read_table(
        self, columns: list[str] | None = None, categories: bool = True, scheme: str | None = None
    ) -> pd.DataFrame:
        """The replication table (or some of its columns), in replication order; only ``scheme``'s
        rows if one is named.

        With ``categories``, scheme and segment names come back as categories
        (small however many rows), otherwise as strings.
        """
        names = ["scheme", "segment"] if categories else None
        if scheme is None:
            # mapped, read in one thread and converted column by column, each freed once converted:
            # a large run's table is held about once rather than three times over
            table = pq.read_table(
                self.parquet, columns=columns, read_dictionary=names, memory_map=True, use_threads=False
            )
        else:  # row group by row group, each cut to the scheme's rows before the next is read
            wanted = None if columns is None else list(dict.fromkeys([*columns, "scheme"]))
            source = pq.ParquetFile(self.parquet, read_dictionary=names)
            parts = [
                pa.Table.from_batches([batch]).filter(pc.equal(batch.column("scheme"), scheme))
                for batch in source.iter_batches(columns=wanted, use_threads=False)
            ]
            table = pa.concat_tables(parts)
            if columns is not None:  # "scheme" was read to filter by, whether asked for or not
                table = table.select(columns)
        return table.to_pandas(split_blocks=True, self_destruct=True)

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
    """Close the spool's open files and delete its folder (runs once: on remove, collection or exit)."""
    for fd in files:
        with contextlib.suppress(OSError):
            os.close(fd)
    files.clear()
    shutil.rmtree(folder, ignore_errors=True)
