"""Sweeps on a real Dask cluster (a LocalCluster of two worker processes started here)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.adaptive import Precision, run_replications, run_to_precision
from sim.experiments.compare import run_compare
from sim.experiments.designs import load_sweep, make_design
from sim.experiments.pipeline import Execution
from sim.experiments.sweep import MemorySink, SweepOptions, run_sweep
from sim.spec.loader import load_scenario
from tests.experiments.conftest import SMALL, write_sweep

distributed = pytest.importorskip("distributed")

SWEEP = """
design = "grid"
replications = 8
[[parameters]]
path = "schemes.manufacturing_plus.max_grant_hkd"
values = [150_000, 250_000, 400_000, 600_000]
[[parameters]]
path = "schemes.manufacturing_plus.vetting.capacity"
values = [2, 4, 8]
"""

#: Sweeps in these tests run on the SimPy engine.
DES = SweepOptions(engine="des")


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    ) as local:
        yield local


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MemorySink]:
    path = write_sweep(tmp_path_factory.mktemp("dask"), SWEEP, "dask")
    sweep = load_sweep(path)
    sink = MemorySink()
    run_sweep(sweep, make_design(sweep), sink, DES, workers=1)
    return path, sink


def _same(a: MemorySink, b: MemorySink) -> None:
    assert sorted(a.frames) == sorted(b.frames) == list(range(12))
    for p in a.frames:
        pd.testing.assert_frame_equal(a.frames[p], b.frames[p], check_exact=True)


def test_dask_cluster_gives_the_serial_numbers(cluster, serial) -> None:
    path, expected = serial
    sweep = load_sweep(path)
    sink = MemorySink()
    execution = Execution(scheduler=cluster.scheduler_address, chunk_size=3)
    result = run_sweep(sweep, make_design(sweep), sink, DES, execution=execution)
    assert result.scheduler == cluster.scheduler_address
    assert not result.failures
    _same(sink, expected)


def test_a_worker_killed_mid_sweep_loses_and_doubles_nothing(cluster, serial) -> None:
    path, expected = serial
    sweep = load_sweep(path)
    with distributed.Client(cluster, set_as_default=False) as client:
        pids = client.run(os.getpid)
        killed: list[int] = []
        counted: list[int] = []

        def kill_one_busy_worker(n: int) -> None:
            counted.append(n)
            if killed:
                return
            busy = [w for w, keys in client.processing().items() if keys and w in pids]
            if busy:
                killed.append(pids[busy[0]])
                os.kill(pids[busy[0]], signal.SIGKILL)

        sink = MemorySink()
        result = run_sweep(
            sweep,
            make_design(sweep),
            sink,
            DES,
            execution=Execution(
                scheduler=cluster.scheduler_address, chunk_size=2, progress=kill_one_busy_worker
            ),
        )
        client.wait_for_workers(2, timeout=60)
        assert killed, "a busy worker was killed"
        assert killed[0] not in client.run(os.getpid).values(), "and replaced"
    assert not result.failures
    assert sum(counted) == 12 * 8, "every replication reported exactly once"
    _same(sink, expected)


def test_runs_and_comparisons_on_the_cluster_equal_local_ones(cluster) -> None:
    small = load_scenario(SMALL)
    local = run_replications(small, 6, 4, "des", execution=Execution(workers=1))
    remote = run_replications(
        small, 6, 4, "des", execution=Execution(scheduler=cluster.scheduler_address, chunk_size=2)
    )
    pd.testing.assert_frame_equal(local.table, remote.table, check_exact=True)
    for scheme, weekly in local.weekly.items():
        np.testing.assert_array_equal(weekly, remote.weekly[scheme])
    assert local.spool is not None
    assert remote.spool is not None
    for key in ("bands", "grants"):  # who is funded, per replication
        pd.testing.assert_frame_equal(
            pd.read_parquet(local.spool.funded_path(key)),
            pd.read_parquet(remote.spool.funded_path(key)),
            check_exact=True,
        )


def test_compare_and_precision_runs_stream_through_the_cluster(cluster) -> None:
    small = load_scenario(SMALL)
    remote = Execution(scheduler=cluster.scheduler_address, chunk_size=2)
    paired = run_compare(small, small, 4, 4, "des", execution=remote)
    assert paired.a.extra["scheduler"] == cluster.scheduler_address
    assert paired.a.spool is not None, "streamed to disk, as a run is"
    assert (paired.comparison["diff_mean"].dropna() == 0).all()
    rule = Precision(target=0.001, metrics=("awarded",), initial=4, max_replications=6)
    adaptive = run_to_precision(small, 4, rule, "des", execution=remote)
    local = run_replications(small, 6, 4, "des", execution=Execution(workers=1))
    assert adaptive.extra["scheduler"] == cluster.scheduler_address
    pd.testing.assert_frame_equal(adaptive.table, local.table, check_exact=True)
