"""The batch engine against the SimPy engine, random-number generation and memory.

Everything is measured in one run on the same scenario and seed:

* replications per second of the batch engine and of the SimPy engine in one
  process, through the same :func:`sim.experiments.replicate.replicate`
  (metrics included): the median of five timed runs each, the engines
  taking turns, after a warm-up run; and their ratio;
* replications per second of the batch engine on all cores (worker
  processes started and warmed up before the clock starts, the chunks' results
  written to a spool as a run writes them; and once more end to end, start-up
  included);
* the floor set by random-number generation: the draws a replication needs,
  divided by the rate this machine's generator makes them;
* peak memory of whole runs (result files included) of 1,000 and 100,000
  replications, each in a fresh process.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sim.engines import batch, block_streams
from sim.experiments.executors import default_workers
from sim.experiments.pipeline import new_spool, replicate_into, spool_chunks
from sim.experiments.replicate import replicate
from sim.experiments.runner import chunk_reps, chunk_size_for
from sim.spec.loader import LoadedScenario

__all__ = ["bench_batch", "draws_per_replication", "generator_rates", "peak_memory"]

#: Replications timed on all cores (the target is stated for this many).
ALL_CORES_REPLICATIONS = 10_000


def _rate(fn, n: int) -> float:
    fn(min(n, 10_000))
    start = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - start)


def generator_rates(n: int = 4_000_000) -> dict[str, float]:
    """Values per second of each kind the batch engine draws, made as the engine makes them: SFC64 and
    numpy's ziggurats written out in compiled loops from a stream's seed words
    (:mod:`sim.engines.block_streams`)."""
    words = block_streams.stream_words(0, (0,))
    makers = {
        "uniform": block_streams.uniforms,
        "normal": block_streams.normals,
        "exponential": block_streams.exponentials,
    }
    return {kind: _rate(lambda k, make=make: make(words, 0, np.empty(k)), n) for kind, make in makers.items()}


def draws_per_replication(loaded: LoadedScenario, seed: int, reps: np.ndarray) -> dict[str, float]:
    """Random values one replication needs (mean over ``reps``), by kind, from the engine's own counts."""
    need = batch.draw_counts(loaded.scenario, seed, reps)
    return {kind: float(v) / len(reps) for kind, v in need.items()}


def _time_batch(loaded: LoadedScenario, seed: int, reps: int, size: int) -> float:
    start = time.perf_counter()
    for chunk in chunk_reps(reps, size):
        replicate(loaded.scenario, seed, chunk, "batch")
    return time.perf_counter() - start


def _time_pool(loaded: LoadedScenario, seed: int, reps: int, size: int, workers: int) -> float:
    """Seconds for ``reps`` replications on ``workers`` processes that are already running.

    The chunks go as a run on local workers sends them: each worker writes its
    chunk's weekly series into the run's spool, and this process writes the
    tables it sends back (:func:`sim.experiments.pipeline.run_into_spool`).
    """
    ctx = multiprocessing.get_context("spawn")
    spool = new_spool(loaded.scenario, reps)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            warm = [
                pool.submit(replicate, loaded.scenario, seed, np.arange(BLOCK_WARM), "batch")
                for _ in range(2 * workers)
            ]
            for future in warm:
                future.result()
            files = spool.weekly_files()
            start = time.perf_counter()
            futures = [
                pool.submit(replicate_into, loaded.scenario, seed, c, "batch", files)
                for c in chunk_reps(reps, size)
            ]
            spool_chunks((future.result() for future in futures), spool, weekly_written=True)
            spool.close()
            return time.perf_counter() - start
    finally:
        spool.remove()


BLOCK_WARM = 256

#: Each one-process rate is the median of this many timed runs (after a warm-up run), the
#: two engines taking turns.
ROUNDS = 5


def _seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


_MEMORY_SCRIPT = """
import json, resource, sys, tempfile
from pathlib import Path

from sim.experiments.runner import run_scenario
from sim.outputs.report import save_run
from sim.spec.loader import load_scenario

if __name__ == "__main__":
    loaded = load_scenario(sys.argv[1])
    reps, seed, workers = (int(a) for a in sys.argv[2:5])
    result = run_scenario(loaded, reps, seed, engine="batch", workers=workers)
    with tempfile.TemporaryDirectory() as tmp:
        save_run(result, Path(tmp) / "run", figures=False)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"main_kib": own, "worker_kib": child, "seconds": result.elapsed_s}))
"""


def peak_memory(loaded: LoadedScenario, replications: int, seed: int, workers: int) -> dict[str, float]:
    """Peak resident memory (MiB) of a whole run in a fresh process: main process and largest worker."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "peak.py"
        script.write_text(_MEMORY_SCRIPT)
        done = subprocess.run(
            [sys.executable, str(script), loaded.path, str(replications), str(seed), str(workers)],
            capture_output=True,
            text=True,
            check=True,
        )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    main, worker = got["main_kib"] / 1024, got["worker_kib"] / 1024 if workers > 1 else 0.0
    return {"main": main, "worker": worker, "total": main + workers * worker, "seconds": got["seconds"]}


def _memory_line(label: str, peak: dict[str, float], workers: int) -> str:
    return (
        f"peak memory, {label} main {peak['main']:6.0f} MiB + {workers} x worker {peak['worker']:5.0f} MiB"
        f" = {peak['total']:6.0f} MiB"
    )


def bench_batch(
    loaded: LoadedScenario, seed: int, des_replications: int = 20, memory: bool = True
) -> Iterator[str]:
    """Measure the batch engine beside the SimPy engine; yields lines to print as they are measured."""
    scenario = loaded.scenario
    workers = default_workers()
    one_reps = 4096
    size = chunk_size_for(loaded, one_reps, "batch", seed, 1)
    replicate(scenario, seed, np.arange(size), "batch")  # warm-up: compiled code loaded, memory grown
    replicate(scenario, seed, np.arange(1), "des")
    des_reps = max(2, min(des_replications, 40))
    # the two engines take turns, so a slow spell of the machine falls on both
    des_times, batch_times = [], []
    for _ in range(ROUNDS):
        des_times.append(_seconds(lambda: replicate(scenario, seed, np.arange(des_reps), "des")))
        batch_times.append(_seconds(lambda: _time_batch(loaded, seed, one_reps, size)))
    des_rate = des_reps / float(np.median(des_times))
    one_rate = one_reps / float(np.median(batch_times))
    many = ALL_CORES_REPLICATIONS
    size_many = chunk_size_for(loaded, many, "batch", seed, workers)
    pool_s = _time_pool(loaded, seed, many, size_many, workers)
    from sim.experiments.runner import run_scenario

    end_to_end = run_scenario(loaded, many, seed, engine="batch", workers=workers)
    if end_to_end.spool is not None:
        end_to_end.spool.remove()
    draws = draws_per_replication(loaded, seed, np.arange(1024))
    rates = generator_rates()
    floor = sum(draws[kind] / rates[kind] for kind in rates)
    yield from [
        f"scenario {scenario.name}, seed {seed}, {workers} cores; batch vs SimPy engine, metrics included",
        f"SimPy engine, 1 process ({des_reps} replications)   {des_rate:12,.1f} replications/s"
        f"  (median of {ROUNDS} runs)",
        f"batch engine, 1 process ({one_reps:,} replications)  {one_rate:12,.1f} replications/s"
        f"  (median of {ROUNDS} runs)",
        f"ratio batch / SimPy, per replication          {one_rate / des_rate:12,.0f}x  (target >= 100x)",
        f"batch engine, {workers} workers, {many:,} replications: {pool_s:6.2f} s wall, workers running "
        f"({many / pool_s:,.0f}/s; target <= 2 s)",
        f"  same, end to end (worker start-up, streaming to disk): {end_to_end.elapsed_s:6.2f} s",
        f"random numbers per replication: {draws['uniform']:,.0f} uniforms + {draws['normal']:,.0f} normals"
        f" + {draws['exponential']:,.0f} exponentials (all of them needed)",
        f"generator (SFC64, as the engine draws): {rates['uniform'] / 1e6:,.0f}M uniforms/s, "
        f"{rates['normal'] / 1e6:,.0f}M normals/s, "
        f"{rates['exponential'] / 1e6:,.0f}M exponentials/s "
        f"-> floor {1e6 * floor:,.1f} us per replication ({1 / floor:,.0f} replications/s, 1 process); "
        f"batch engine at {floor * one_rate:.0%} of it",
    ]
    if memory:
        small = peak_memory(loaded, 1_000, seed, workers)
        yield _memory_line("R = 1,000:  ", small, workers)
        large = peak_memory(loaded, 100_000, seed, workers)
        yield _memory_line("R = 100,000:", large, workers) + f"  ({large['seconds']:.1f} s)"
        yield (
            f"ratio R = 100,000 / R = 1,000                 {large['total'] / small['total']:12.2f}"
            "  (target <= 1.2)"
        )
