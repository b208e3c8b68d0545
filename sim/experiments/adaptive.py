"""Replications on any executor, and adaptive runs that stop at a target precision.

:func:`run_replications` runs replications ``start .. start+n-1`` of a scenario
in chunks on local processes or a Dask cluster. :func:`run_to_precision` adds
batches of replications until the 95% confidence interval of each chosen
metric's mean is within ``target`` of the mean (relative half-width), or a
maximum is reached. Replications are numbered on from the last batch, so an
adaptive run that stops at N replications equals a fixed run of N.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.executors import default_workers, run_tasks
from sim.experiments.replicate import ChunkResult, replicate
from sim.experiments.runner import RunResult, chunk_reps, chunk_size_for
from sim.spec.loader import LoadedScenario

__all__ = [
    "DEFAULT_PRECISION_METRICS",
    "Precision",
    "run_replications",
    "relative_half_widths",
    "run_to_precision",
]

#: Metrics whose precision ``--precision`` targets unless told otherwise.
DEFAULT_PRECISION_METRICS: tuple[str, ...] = ("awarded", "completed")


def run_replications(
    loaded: LoadedScenario,
    replications: int,
    seed: int,
    engine: str = "des",
    *,
    start: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run replications ``start .. start+replications-1`` in chunks; tables in replication order."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    workers = default_workers() if workers is None else max(1, workers)
    size = chunk_size or chunk_size_for(loaded, replications, engine, seed, workers)
    tasks = [(loaded.scenario, seed, reps, engine) for reps in chunk_reps(replications, size, start)]
    began = time.perf_counter()
    results: list[ChunkResult | None] = [None] * len(tasks)
    for i, result in run_tasks(replicate, tasks, workers, scheduler=scheduler):
        results[i] = result
        if progress:
            progress(len(result.reps))
    done = [r for r in results if r is not None]
    return RunResult(
        loaded=loaded,
        seed=seed,
        engine=engine,
        replications=replications,
        table=_ordered(pd.concat([r.table for r in done], ignore_index=True)),
        weekly={name: np.concatenate([r.weekly[name] for r in done]) for name in done[0].weekly},
        elapsed_s=time.perf_counter() - began,
        workers=workers,
        extra={"scheduler": scheduler} if scheduler else {},
    )


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["scheme", "segment", "replication"], kind="stable", ignore_index=True)


def relative_half_widths(
    table: pd.DataFrame, metrics: Sequence[str], confidence: float = 0.95
) -> dict[str, float]:
    """``{"scheme.metric": half-width / |mean|}`` of each metric's t interval (whole schemes only).

    A metric that never varies counts as exact (0); one whose mean is 0 but
    varies cannot meet a relative target (inf); one never defined is left out.
    """
    out: dict[str, float] = {}
    whole = table[table["segment"] == "all"]
    for scheme, rows in whole.groupby("scheme", sort=False):
        for metric in metrics:
            x = rows[metric].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            n = len(x)
            if n < 2:
                continue
            sd, mean = float(x.std(ddof=1)), float(x.mean())
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
            out[f"{scheme}.{metric}"] = 0.0 if sd == 0 else (half / abs(mean) if mean else math.inf)
    return out


@dataclass(frozen=True)
class Precision:
    """Stop rule of an adaptive run."""

    target: float
    metrics: tuple[str, ...] = DEFAULT_PRECISION_METRICS
    initial: int = 100
    max_replications: int = 20_000
    confidence: float = 0.95


def run_to_precision(
    loaded: LoadedScenario,
    seed: int,
    rule: Precision,
    engine: str = "des",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    planned: Callable[[int], None] | None = None,
) -> RunResult:
    """Add batches of replications until every chosen metric meets ``rule.target``.

    After each batch the replications still needed are projected from the
    current half-widths (they shrink as 1/sqrt(n)); ``planned(total)`` is told
    the new total. The result's ``extra["precision"]`` records what was reached.
    """
    began = time.perf_counter()
    parts: list[RunResult] = []
    n, batch = 0, min(rule.initial, rule.max_replications)
    widths: dict[str, float] = {}
    while batch > 0:
        if planned:
            planned(n + batch)
        parts.append(
            run_replications(
                loaded, batch, seed, engine, start=n, workers=workers, scheduler=scheduler, progress=progress
            )
        )
        n += batch
        table = pd.concat([p.table for p in parts], ignore_index=True)
        widths = relative_half_widths(table, rule.metrics, rule.confidence)
        worst = max(widths.values(), default=0.0)
        if worst <= rule.target or n >= rule.max_replications:
            break
        needed = n * (worst / rule.target) ** 2 * 1.1 if math.isfinite(worst) else 2 * n
        batch = int(min(max(math.ceil(needed) - n, rule.initial // 2, 1), rule.max_replications - n))
    result = RunResult(
        loaded=loaded,
        seed=seed,
        engine=engine,
        replications=n,
        table=_ordered(table),
        weekly={k: np.concatenate([p.weekly[k] for p in parts]) for k in parts[0].weekly},
        elapsed_s=time.perf_counter() - began,
        workers=parts[0].workers,
        extra=dict(parts[0].extra),
    )
    worst = max(widths.values(), default=0.0)
    result.extra["precision"] = {
        "target": rule.target,
        "metrics": list(rule.metrics),
        "confidence": rule.confidence,
        "reached": round(worst, 6) if math.isfinite(worst) else None,
        "met": bool(worst <= rule.target),
        "replications": n,
        "batches": len(parts),
        "max_replications": rule.max_replications,
        "by_metric": {k: (round(v, 6) if math.isfinite(v) else None) for k, v in widths.items()},
    }
    return result
