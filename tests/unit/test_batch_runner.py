"""Streaming runs: results go to disk chunk by chunk, in order, and the files do not depend on chunking."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engines.batch import BLOCK
from sim.experiments.runner import RunResult, chunk_size_for, run_scenario
from sim.outputs import tables
from sim.outputs.report import save_run

FILES = ("replications.parquet", "timeseries.parquet", "summary.csv", "headline.csv")


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(folder / name) if name.endswith(".parquet") else pd.read_csv(folder / name)


@pytest.fixture(scope="module")
def streamed(small, tmp_path_factory) -> tuple[RunResult, Path]:
    result = run_scenario(small, 700, 3, engine="batch", workers=1, chunk_size=256)
    return result, save_run(result, tmp_path_factory.mktemp("run") / "one", figures=False)


def test_files_do_not_depend_on_workers_or_chunk_size(small, streamed, tmp_path) -> None:
    other = run_scenario(small, 700, 3, engine="batch", workers=2, chunk_size=512)
    folder = save_run(other, tmp_path / "two", figures=False)
    for name in FILES:
        pd.testing.assert_frame_equal(_read(streamed[1], name), _read(folder, name), check_exact=True)


def test_replications_are_written_in_order(streamed) -> None:
    reps = _read(streamed[1], "replications.parquet")
    schemes = reps["scheme"].nunique()  # a row per scheme (three in the baseline) and replication
    assert schemes == 3
    assert len(reps) == 700 * schemes
    assert (np.diff(reps["replication"].to_numpy()) >= 0).all()
    assert reps.groupby("replication").size().eq(schemes).all()


def test_streamed_tables_equal_the_in_memory_ones(small, streamed) -> None:
    result, folder = streamed
    key = ["scheme", "segment", "metric"]
    summary = _read(folder, "summary.csv").sort_values(key, ignore_index=True)
    memory = tables.summarize(result.table).sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(summary, memory, check_exact=False, rtol=1e-12)
    series = _read(folder, "timeseries.parquet")
    scenario = small.scenario
    memory = tables.weekly_quantiles(result.weekly, scenario.end_weeks, scenario.start_date)
    for column in [c for c in memory.columns if c.startswith("q")]:
        np.testing.assert_array_equal(series[column].to_numpy(), memory[column].to_numpy())
    np.testing.assert_allclose(series["mean"], memory["mean"], rtol=1e-12)


def test_quantiles_read_a_few_cells_at_a_time_are_exact(small, streamed) -> None:
    result, folder = streamed
    spool = result.spool
    scenario = small.scenario
    few = tables.weekly_quantiles_cells(
        spool.cells_of,
        spool.schemes,
        spool.replications,
        scenario.end_weeks,
        scenario.start_date,
        3 * 8 * 700,
    )
    pd.testing.assert_frame_equal(few, _read(folder, "timeseries.parquet"), check_exact=True)


def test_a_run_assembled_in_memory_saves_the_same_files(small, streamed, tmp_path) -> None:
    result, folder = streamed
    memory = RunResult(small, 3, "batch", 700, table=result.table, weekly=result.weekly)
    again = save_run(memory, tmp_path / "memory", figures=False)
    for name in FILES:
        pd.testing.assert_frame_equal(_read(folder, name), _read(again, name), check_exact=True)


def test_the_simpy_engine_runs_through_the_same_runner(small, tmp_path) -> None:
    result = run_scenario(small, 6, 3, engine="des", workers=1)
    folder = save_run(result, tmp_path / "des", figures=False)
    assert len(_read(folder, "replications.parquet")) == 6 * len(small.scenario.schemes)


def test_the_spool_goes_when_the_result_does(small) -> None:
    result = run_scenario(small, 10, 3, engine="batch", workers=1)
    spool = result.spool.folder
    assert spool.exists()
    del result
    gc.collect()
    assert not spool.exists()


def test_batch_chunks_are_whole_blocks_and_do_not_grow_with_the_run(baseline) -> None:
    sizes = {r: chunk_size_for(baseline, r, "batch", 1, 1) for r in (1_000, 100_000, 10_000_000)}
    assert all(size % BLOCK == 0 for size in sizes.values())
    assert sizes[100_000] == sizes[10_000_000] <= 4096


def test_a_run_that_names_no_engine_runs_the_default_engine(small) -> None:
    from sim.engines.registry import DEFAULT_ENGINE

    unnamed = run_scenario(small, 4, 3, workers=1)
    named = run_scenario(small, 4, 3, engine=DEFAULT_ENGINE, workers=1)
    assert unnamed.engine == named.engine == "batch"
    pd.testing.assert_frame_equal(unnamed.table, named.table, check_exact=True)


def test_an_adaptive_spool_shrinks_to_the_replications_run(small) -> None:
    from sim.experiments.adaptive import Precision, run_to_precision
    from sim.experiments.pipeline import Execution

    # NIFS's few awards at a tenth of the baseline (about one in three runs) need a loose target
    rule = Precision(target=0.5, metrics=("awarded",), initial=8, max_replications=400)
    adaptive = run_to_precision(small, 9, rule, "des", execution=Execution(workers=1))
    assert adaptive.spool is not None
    assert 8 < adaptive.spool.replications == adaptive.replications < 400, "stopped before the maximum"
    fixed = run_scenario(small, adaptive.replications, 9, engine="des", workers=1)
    for scheme in fixed.weekly:
        np.testing.assert_array_equal(adaptive.spool.weekly()[scheme], fixed.spool.weekly()[scheme])
