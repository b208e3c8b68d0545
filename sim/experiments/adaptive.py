"""Replications from any start, and adaptive runs that stop at a target precision.

:func:`run_replications` runs replications ``start .. start+n-1`` of a scenario
through the one run pipeline (:mod:`sim.experiments.pipeline`).
:func:`run_to_precision` adds batches of replications until the 95% confidence
interval of each chosen metric's mean is within ``target`` of the mean
(relative half-width), or a maximum is reached. Every batch streams into one
spool sized for the maximum (and shrunk to what was run), so memory stays
bounded as on any run. Replications are numbered on from the last batch, so an
adaptive run that stops at N replications equals a fixed run of N.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.pipeline import Execution, new_spool, plan_chunks, run_into_spool
from sim.experiments.replicate import ChunkResult
from sim.experiments.runner import RunResult, RunStats
from sim.experiments.spool import RunSpool
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
    engine: str | None = None,
    *,
    start: int = 0,
    execution: Execution | None = None,
) -> RunResult:
    """Run replications ``start .. start+replications-1`` (engine None: the default engine)."""
    execution = execution or Execution()
    scenario = loaded.scenario
    plan = plan_chunks(scenario, seed, replications, engine, execution, start)
    spool = new_spool(scenario, replications)
    began = time.perf_counter()
    run_into_spool(scenario, seed, plan, execution, spool, first=start)
    spool.close()
    extra: dict[str, object] = {"scheduler": execution.scheduler} if execution.scheduler else {}
    run_stats = RunStats(time.perf_counter() - began, plan.workers, extra)
    return RunResult(loaded, seed, plan.engine.name, replications, spool=spool, stats=run_stats)


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


@dataclass
class _Batches:
    """What an adaptive run has done so far: replications, batches, tables, widths, workers."""

    execution: Execution
    done: int = 0
    batches: int = 0
    tables: list[ChunkResult] = field(default_factory=list)
    widths: dict[str, float] = field(default_factory=dict)
    workers: int = 1

    @property
    def worst(self) -> float:
        return max(self.widths.values(), default=0.0)

    def table(self) -> pd.DataFrame:
        return _ordered(pd.concat([t.table for t in self.tables], ignore_index=True))


def _next_batch(state: _Batches, rule: Precision) -> int:
    """Replications to add: none once the target or the maximum is reached, else a projection
    from the current half-widths (they shrink as 1/sqrt(n)), at least half the first batch."""
    worst, n = state.worst, state.done
    if worst <= rule.target or n >= rule.max_replications:
        return 0
    needed = n * (worst / rule.target) ** 2 * 1.1 if math.isfinite(worst) else 2 * n
    return int(min(max(math.ceil(needed) - n, rule.initial // 2, 1), rule.max_replications - n))


def _run_batch(
    loaded: LoadedScenario, seed: int, engine: str | None, batch: int, spool: RunSpool, state: _Batches
) -> str:
    """Stream replications ``state.done ..`` of one batch into ``spool``; return the engine's name."""
    execution = state.execution
    plan = plan_chunks(loaded.scenario, seed, batch, engine, execution, start=state.done)
    run_into_spool(loaded.scenario, seed, plan, execution, spool, keep=state.tables)
    state.done += batch
    state.batches += 1
    state.workers = plan.workers
    return plan.engine.name


def run_to_precision(
    loaded: LoadedScenario,
    seed: int,
    rule: Precision,
    engine: str | None = None,
    *,
    execution: Execution | None = None,
    planned: Callable[[int], None] | None = None,
) -> RunResult:
    """Add batches of replications until every chosen metric meets ``rule.target``.

    After each batch the replications still needed are projected from the
    current half-widths (they shrink as 1/sqrt(n)); ``planned(total)`` is told
    the new total. The result's ``extra["precision"]`` records what was reached.
    """
    began = time.perf_counter()
    spool = new_spool(loaded.scenario, rule.max_replications)
    state = _Batches(execution or Execution())
    batch, name = min(rule.initial, rule.max_replications), ""
    while batch > 0:
        if planned:
            planned(state.done + batch)
        name = _run_batch(loaded, seed, engine, batch, spool, state)
        state.widths = relative_half_widths(state.table(), rule.metrics, rule.confidence)
        batch = _next_batch(state, rule)
    spool.close()
    spool.shrink(state.done)
    extra: dict[str, object] = {"precision": _reached(state, rule)}
    if state.execution.scheduler:
        extra["scheduler"] = state.execution.scheduler
    run_stats = RunStats(time.perf_counter() - began, state.workers, extra)
    return RunResult(loaded, seed, name, state.done, table=state.table(), spool=spool, stats=run_stats)


def _reached(state: _Batches, rule: Precision) -> dict[str, object]:
    """What the manifest records of an adaptive run: the target, what was reached, and how."""
    worst = state.worst
    return {
        "target": rule.target,
        "metrics": list(rule.metrics),
        "confidence": rule.confidence,
        "reached": round(worst, 6) if math.isfinite(worst) else None,
        "met": bool(worst <= rule.target),
        "replications": state.done,
        "batches": state.batches,
        "max_replications": rule.max_replications,
        "by_metric": {k: (round(v, 6) if math.isfinite(v) else None) for k, v in state.widths.items()},
    }
