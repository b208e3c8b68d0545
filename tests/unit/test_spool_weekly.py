"""Weekly series written into a spool by whoever simulates the chunk: same bytes, nothing stray."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engines.metrics import SERIES
from sim.experiments.pipeline import (
    Execution,
    new_spool,
    plan_chunks,
    spool_chunks,
    stream_chunks,
    writes_weekly_itself,
)
from sim.experiments.replicate import ChunkResult
from sim.experiments.runner import run_scenario
from sim.experiments.spool import RunSpool

#: A made-up run: one scheme, 4 weeks, replications 3 .. 9 (a spool of 7 whose first is 3).
WEEKS, FIRST, CAPACITY = 4, 3, 7


def _series(reps: np.ndarray) -> np.ndarray:
    """Weekly values that name their place: replication r, series s, week w holds r*1000 + s*10 + w."""
    r, s, w = np.meshgrid(reps, np.arange(len(SERIES)), np.arange(WEEKS), indexing="ij")
    return (r * 1000 + s * 10 + w).astype(np.float64)


def _chunk(reps: np.ndarray) -> ChunkResult:
    table = pd.DataFrame({"replication": reps, "scheme": "mp", "segment": "all", "paid_hkd": reps * 1.0})
    return ChunkResult(reps=reps, table=table, weekly={"mp": _series(reps)})


def _spool(folder: Path) -> RunSpool:
    folder.mkdir()
    return RunSpool({"mp": []}, CAPACITY, WEEKS, folder=folder)


CHUNKS = [np.arange(3, 6), np.arange(6, 10)]


def test_a_worker_writes_the_bytes_the_spool_writes_in_any_order(tmp_path: Path) -> None:
    by_spool, by_worker = _spool(tmp_path / "spool"), _spool(tmp_path / "worker")
    for reps in CHUNKS:
        by_spool.write(_chunk(reps), FIRST)
    files = by_worker.weekly_files(FIRST)
    for reps in reversed(CHUNKS):  # workers finish in any order; each writes at its own offsets
        files.write(reps, _chunk(reps).weekly)
    by_spool.close()
    by_worker.close()
    written = (tmp_path / "worker" / "weekly-0.f8").read_bytes()
    assert written == (tmp_path / "spool" / "weekly-0.f8").read_bytes()
    # series-week major, by hand: series 2, week 3 of replications 3 .. 9 are contiguous
    cell = 2 * WEEKS + 3
    np.testing.assert_array_equal(by_worker.cells_of("mp", cell, 1)[0], np.arange(3, 10) * 1000 + 23.0)
    np.testing.assert_array_equal(by_worker.weekly()["mp"], _series(np.arange(3, 10)))


@pytest.mark.parametrize("reps", [np.arange(8, 11), np.arange(1, 4)], ids=["past the end", "before first"])
def test_a_write_outside_the_spool_is_refused(tmp_path: Path, reps: np.ndarray) -> None:
    spool = _spool(tmp_path / "spool")
    with pytest.raises(ValueError, match="outside a spool of 7"):
        spool.weekly_files(FIRST).write(reps, _chunk(reps).weekly)
    assert (tmp_path / "spool" / "weekly-0.f8").stat().st_size == len(SERIES) * WEEKS * CAPACITY * 8


def test_a_late_write_to_a_removed_spool_fails_and_leaves_nothing(tmp_path: Path) -> None:
    spool = _spool(tmp_path / "spool")
    files = spool.weekly_files(FIRST)
    spool.remove()
    with pytest.raises(FileNotFoundError):
        files.write(CHUNKS[0], _chunk(CHUNKS[0]).weekly)
    assert not (tmp_path / "spool").exists()


def test_a_failing_write_stops_the_chunks_still_coming_and_removes_the_spool(tmp_path: Path) -> None:
    spool = _spool(tmp_path / "spool")
    closed = []

    def chunks():
        try:
            yield _chunk(CHUNKS[0])
            yield ChunkResult(CHUNKS[1], pd.DataFrame({"replication": CHUNKS[1]}), {})  # no scheme
            yield _chunk(np.arange(10, 12))
        finally:
            closed.append(True)

    with pytest.raises(KeyError):
        spool_chunks(chunks(), spool, FIRST, weekly_written=True)
    assert closed == [True], "the chunks still coming were stopped"
    assert not (tmp_path / "spool").exists()


def test_only_local_worker_processes_write_the_series_themselves(small) -> None:
    scenario = small.scenario

    def itself(**how: object) -> bool:
        execution = Execution(chunk_size=256, **how)  # type: ignore[arg-type]
        return writes_weekly_itself(plan_chunks(scenario, 3, 700, "batch", execution), execution)

    assert itself(workers=2)
    assert not itself(workers=1)
    assert not itself(workers=2, scheduler="local")


def test_chunks_simulated_into_a_spool_come_back_without_series_and_equal_a_run(small) -> None:
    scenario = small.scenario
    execution = Execution(workers=1, chunk_size=256)
    plan = plan_chunks(scenario, 3, 700, "batch", execution, start=100)
    spool = new_spool(scenario, 700)
    chunks = list(stream_chunks(scenario, 3, plan, execution, spool.weekly_files(100)))
    assert [c.weekly for c in chunks] == [{}, {}, {}]
    spool_chunks(chunks, spool, 100, weekly_written=True)
    spool.close()
    run = run_scenario(small, 800, 3, engine="batch", workers=1, chunk_size=256)
    for name, series in spool.weekly().items():
        np.testing.assert_array_equal(series, run.weekly[name][100:])
    own = spool.read_table(categories=False)
    theirs = run.spool.read_table(categories=False)
    pd.testing.assert_frame_equal(own, theirs[theirs["replication"] >= 100].reset_index(drop=True))
