"""Benchmarks: engines timed side by side in one run, reported as ratios."""

from __future__ import annotations

import time

import numpy as np

from sim.bench.batch import bench_batch
from sim.bench.minimal_des import run_minimal
from sim.engines.des import simulate_replication
from sim.engines.metrics import scheme_metrics
from sim.engines.parameters import draw_parameters
from sim.spec.scenario import Scenario

__all__ = ["bench_batch", "bench_des", "time_des_replication", "time_minimal_replication"]


def time_des_replication(scenario: Scenario, seed: int, rep: int) -> float:
    """Seconds for one full SimPy-engine replication, metrics included."""
    start = time.perf_counter()
    draws = draw_parameters(scenario, seed, [rep])
    records, _ = simulate_replication(scenario, seed, rep, draws)
    for name, rec in records.items():
        scheme_metrics(rec, draws, name, scenario.horizon_weeks, end=scenario.end_weeks)
    return time.perf_counter() - start


def time_minimal_replication(scenario: Scenario, seed: int, rep: int) -> float:
    start = time.perf_counter()
    run_minimal(scenario, np.random.default_rng([seed, rep]))
    return time.perf_counter() - start


def bench_des(scenario: Scenario, replications: int, seed: int) -> list[str]:
    """Interleave the SimPy engine and the minimal model; report medians and their ratio."""
    time_des_replication(scenario, seed, 10**6)  # warm caches and imports
    time_minimal_replication(scenario, seed, 10**6)
    des, minimal = [], []
    for rep in range(replications):
        des.append(time_des_replication(scenario, seed, rep))
        minimal.append(time_minimal_replication(scenario, seed, rep))
    d, m = float(np.median(des)), float(np.median(minimal))
    return [
        f"scenario {scenario.name}, {replications} replications each, interleaved, one process",
        f"SimPy engine (full model, metrics)   {1000 * d:8.2f} ms per replication (median)",
        f"minimal plain-SimPy pipeline         {1000 * m:8.2f} ms per replication (median)",
        f"ratio engine / minimal               {d / m:8.2f}  (target <= 1.5)",
    ]
