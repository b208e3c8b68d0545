"""Run a sweep: every design point for the same replications, streamed point by point.

Each point is the base scenario with the sweep's parameters set to the point's
values, validated like any scenario file. Every point runs replications
``0 .. R-1`` with the same seed, so points are compared on common random
numbers: a difference between two points is the parameters' effect, not a
different draw of firms.

Work goes through the run pipeline (:mod:`sim.experiments.pipeline`: the
engine's chunk size, the same memory check, the same executor layer on local
processes or Dask) in *tasks* of about one chunk of replications: a large
point is split over several tasks, small points share one. A task returns its
tables; once every replication of a point is back, the point is handed to a
:class:`PointSink` (which writes it) and only its summary (a few hundred
numbers) stays in memory, so memory hardly grows with the number of points.
Points whose replications all fit in one task are finished (ordered and
summarised) on the worker. Points the sink already holds
are not run again (resume), and a point that raises is recorded with its error
while the sweep carries on.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sim.engines.metrics import METRICS
from sim.engines.registry import get_engine, require_supported
from sim.experiments.designs import OUTPUTS, Design, Sweep, overrides_of, point_source
from sim.experiments.pipeline import Execution, execute, plan_workers
from sim.experiments.replicate import replicate
from sim.spec.loader import scenario_from_dict, scenario_hash

__all__ = [
    "PointSink",
    "MemorySink",
    "SweepJob",
    "SweepOptions",
    "UnitResult",
    "SweepResult",
    "evaluate_units",
    "simulate_point",
    "point_frame",
    "summarize_point",
    "PointSummary",
    "plan_tasks",
    "point_outputs",
    "run_sweep",
    "peak_memory_mb",
]


class PointSink(Protocol):
    """Where finished points go (the results store, or memory)."""

    def done(self) -> set[int]:
        """Points already stored by an earlier, interrupted run."""
        ...

    def load(self, point: int) -> pd.DataFrame: ...

    def save(self, point: int, frame: pd.DataFrame) -> None: ...

    def fail(self, point: int, error: str) -> None: ...


@dataclass
class MemorySink:
    """A sink that keeps every point in memory (small sweeps, tests)."""

    frames: dict[int, pd.DataFrame] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)

    def done(self) -> set[int]:
        return set(self.frames)

    def load(self, point: int) -> pd.DataFrame:
        return self.frames[point]

    def save(self, point: int, frame: pd.DataFrame) -> None:
        self.frames[point] = frame
        self.errors.pop(point, None)

    def fail(self, point: int, error: str) -> None:
        self.errors[point] = error


@dataclass(frozen=True)
class SweepJob:
    """What every task needs besides its points: the base scenario table, paths, seed, engine."""

    source: dict[str, Any]
    paths: tuple[str, ...]
    seed: int
    engine: str
    replications: int
    schemes: tuple[str, ...]
    horizon: float

    def horizon_of(self, values: Sequence[float] | np.ndarray) -> float:
        """The horizon of a point (a sweep may vary it)."""
        if "horizon_weeks" in self.paths:
            return float(values[self.paths.index("horizon_weeks")])
        return self.horizon


#: One piece of work: (point, parameter values, replication indices).
Unit = tuple[int, tuple[float, ...], np.ndarray]

#: Simulates one unit: (job, point, values, replications) -> (table, scenario hash).
Simulate = Callable[[SweepJob, int, tuple[float, ...], np.ndarray], tuple[pd.DataFrame, str]]


@dataclass
class UnitResult:
    """The replications of one unit, or the error it raised.

    A unit that holds every replication of its point comes back finished:
    ``table`` is the point's frame and ``summary`` its summary, both computed
    on the worker. Otherwise ``table`` is the unit's raw replication rows.
    """

    point: int
    replications: int
    table: pd.DataFrame | None
    scenario_hash: str = ""
    error: str | None = None
    summary: PointSummary | None = None


def simulate_point(
    job: SweepJob, point: int, values: tuple[float, ...], reps: np.ndarray
) -> tuple[pd.DataFrame, str]:
    """Replications ``reps`` of the base scenario with the point's values."""
    source = point_source(job.source, overrides_of(list(job.paths), list(values)))
    scenario = scenario_from_dict(source, f"point {point}")
    return replicate(scenario, job.seed, reps, job.engine).table, scenario_hash(source)


def evaluate_units(
    job: SweepJob, units: Sequence[Unit], simulate: Simulate = simulate_point
) -> list[UnitResult]:
    """Run each unit (the function every executor calls); finish points that are whole."""
    out = []
    for point, values, reps in units:
        try:
            table, digest = simulate(job, point, values, reps)
        except Exception as problem:  # a failing point is recorded, the sweep goes on
            message = " ".join(str(problem).split()) or type(problem).__name__
            out.append(UnitResult(point, len(reps), None, error=f"{type(problem).__name__}: {message}"))
            continue
        unit = UnitResult(point, len(reps), table, digest)
        if len(reps) == job.replications:
            unit.table = point_frame(job, point, values, [unit])
            unit.summary = summarize_point(unit.table, job.schemes, job.horizon_of(values))
        out.append(unit)
    return out


def plan_tasks(
    points: Sequence[int], values: np.ndarray, replications: int, chunk: int
) -> Iterator[list[Unit]]:
    """Tasks of about ``chunk`` replications, points in order.

    A point's replications are cut at multiples of ``chunk`` whatever else is in
    the task, so a point is computed in the same pieces on a first run and on a
    resumed one; points smaller than ``chunk`` share a task.
    """
    task: list[Unit] = []
    size = 0
    for p in points:
        row = tuple(float(v) for v in values[p])
        for start in range(0, replications, chunk):
            reps = np.arange(start, min(start + chunk, replications), dtype=np.int64)
            task.append((int(p), row, reps))
            size += len(reps)
            if size >= chunk:
                yield task
                task, size = [], 0
    if task:
        yield task


# ------------------------------------------------------------------ summaries


def _finite(x: np.ndarray) -> np.ndarray:
    return x[np.isfinite(x)]


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    x = _finite(x)
    n = len(x)
    if n == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan


def _column_mean_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of each column over its finite entries (NaN where too few)."""
    finite = np.isfinite(x)
    n = finite.sum(axis=0)
    safe = np.where(finite, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = safe.sum(axis=0) / n
        dev = np.where(finite, x - mean, 0.0)
        se = np.sqrt((dev**2).sum(axis=0) / (n - 1) / n)
    return np.where(n > 0, mean, np.nan), np.where(n > 1, se, np.nan)


def _ratio_se(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Ratio of means and its delta-method standard error."""
    n = len(num)
    mn, md = float(num.mean()), float(den.mean())
    if md == 0:
        return math.nan, math.nan
    r = mn / md
    if n < 2:
        return r, math.nan
    return r, float(np.std(num - r * den, ddof=1) / math.sqrt(n) / abs(md))


def point_outputs(whole: Mapping[str, Any], horizon: float) -> dict[str, tuple[float, float]]:
    """The sensitivity outputs of one point and scheme: (value, standard error) each, in the order
    of :data:`~sim.experiments.designs.OUTPUTS`.

    * ``exhausted_by_places``, ``exhausted_by_money``: share of runs where the places fill, where
      the money runs out (by the horizon);
    * ``unused_budget_share``: mean share of the budget left unused at the horizon;
    * ``awarded``, ``completed``: means;
    * ``cost_per_additional_hkd``: mean public cost / mean additional upgrades;
    * ``benefit_cost_ratio``: mean present value of benefits / mean public cost;
    * the last three again counted to the end of the follow-up (``*_follow_up``; the same
      numbers without a follow-up).

    ``whole`` maps metric names to one value per replication (a table's columns);
    ``horizon`` is kept for callers (no output depends on it any more).
    """

    def col(name: str) -> np.ndarray:
        return np.asarray(whole[name], dtype=float)

    cost, later = col("public_cost_hkd"), col("public_cost_hkd_follow_up")
    return {
        "exhausted_by_places": _mean_se(col("exhausted_by_places")),
        "exhausted_by_money": _mean_se(col("exhausted_by_money")),
        "unused_budget_share": _mean_se(col("unused_budget_share")),
        "awarded": _mean_se(col("awarded")),
        "completed": _mean_se(col("completed")),
        "cost_per_additional_hkd": _ratio_se(cost, col("additional_upgrades")),
        "benefit_cost_ratio": _ratio_se(col("pv_benefit_hkd"), cost),
        "completed_follow_up": _mean_se(col("completed_follow_up")),
        "cost_per_additional_hkd_follow_up": _ratio_se(later, col("additional_upgrades_follow_up")),
        "benefit_cost_ratio_follow_up": _ratio_se(col("pv_benefit_hkd_follow_up"), later),
    }


@dataclass
class PointSummary:
    """One point, per scheme: each metric's mean and standard error, each output's value and error.

    ``output_split`` is each output on the even replications minus the same on
    the odd ones. Under common random numbers the noise every point shares
    cancels from its spread across points, which leaves the noise that makes
    points differ (see :mod:`sim.experiments.sensitivity`).
    """

    metric_mean: np.ndarray  # (schemes, metrics)
    metric_se: np.ndarray
    output_value: np.ndarray  # (schemes, outputs)
    output_se: np.ndarray
    output_split: np.ndarray


def summarize_point(frame: pd.DataFrame, schemes: Sequence[str], horizon: float) -> PointSummary:
    """The summary of a point's frame (whole-scheme rows; NaN for a scheme without rows)."""
    k = len(schemes)
    out = PointSummary(*(np.full((k, n), np.nan) for n in (len(METRICS),) * 2 + (len(OUTPUTS),) * 3))
    whole = np.asarray(frame["segment"]) == "all"
    scheme_of = np.asarray(frame["scheme"])
    values = frame[list(METRICS)].to_numpy(dtype=float)
    even = frame["replication"].to_numpy() % 2 == 0
    for s, scheme in enumerate(schemes):
        mine = whole & (scheme_of == scheme)
        rows = values[mine]
        if not len(rows):
            continue
        out.metric_mean[s], out.metric_se[s] = _column_mean_se(rows)
        for o, (value, se) in enumerate(_outputs(rows, horizon)):
            out.output_value[s, o], out.output_se[s, o] = value, se
        if len(rows) >= 4:
            halves = [_outputs(values[mine & (even == e)], horizon) for e in (True, False)]
            out.output_split[s] = [a[0] - b[0] for a, b in zip(*halves, strict=True)]
    return out


def _outputs(rows: np.ndarray, horizon: float) -> list[tuple[float, float]]:
    return list(point_outputs({metric: rows[:, m] for m, metric in enumerate(METRICS)}, horizon).values())


@dataclass
class Summaries:
    """Summaries of every point of a sweep (NaN for points not done), in arrays of fixed size."""

    schemes: tuple[str, ...]
    metric_mean: np.ndarray  # (points, schemes, metrics)
    metric_se: np.ndarray
    output_value: np.ndarray  # (points, schemes, outputs)
    output_se: np.ndarray
    output_split: np.ndarray

    @classmethod
    def empty(cls, points: int, schemes: tuple[str, ...]) -> Summaries:
        def nan(k: int) -> np.ndarray:
            return np.full((points, len(schemes), k), np.nan)

        m, o = len(METRICS), len(OUTPUTS)
        return cls(schemes, nan(m), nan(m), nan(o), nan(o), nan(o))

    def put(self, point: int, summary: PointSummary) -> None:
        self.metric_mean[point] = summary.metric_mean
        self.metric_se[point] = summary.metric_se
        self.output_value[point] = summary.output_value
        self.output_se[point] = summary.output_se
        self.output_split[point] = summary.output_split


@dataclass
class SweepResult:
    """What a sweep did: its design, per-point summaries, failures and run statistics."""

    sweep: Sweep
    design: Design
    replications: int
    seed: int
    engine: str
    summaries: Summaries
    failures: dict[int, str]
    completed: int
    resumed: int
    elapsed_s: float
    replications_run: int
    workers: int
    scheduler: str | None
    peak_memory_mb: dict[str, float]

    @property
    def reps_per_second(self) -> float:
        return self.replications_run / self.elapsed_s if self.elapsed_s > 0 else math.nan

    def points_table(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """One row per point x scheme (points ``start .. stop-1`` that did not fail): the
        parameters, and each metric's mean and standard error."""
        s = self.summaries
        stop = len(self.design) if stop is None else min(stop, len(self.design))
        points = np.array([p for p in range(start, stop) if p not in self.failures], dtype=np.int64)
        k = len(s.schemes)
        columns: dict[str, Any] = {
            "point": np.repeat(points, k),
            "scheme": np.tile(np.asarray(s.schemes, dtype=object), len(points)),
        }
        for path in self.sweep.paths:
            columns[path] = np.repeat(self.design.values[path].to_numpy()[points], k)
        for m, metric in enumerate(METRICS):
            columns[f"{metric}_mean"] = s.metric_mean[points, :, m].reshape(-1)
            columns[f"{metric}_se"] = s.metric_se[points, :, m].reshape(-1)
        return pd.DataFrame(columns)

    def points_tables(self, batch: int = 1000) -> Iterator[pd.DataFrame]:
        """:meth:`points_table` in pieces of ``batch`` points (to write without holding it all)."""
        for start in range(0, max(len(self.design), 1), batch):
            yield self.points_table(start, start + batch)


def point_frame(
    job: SweepJob, point: int, values: Sequence[float] | np.ndarray, parts: list[UnitResult]
) -> pd.DataFrame:
    """A point's replication rows, ordered by (scheme, segment, replication) like a run's table,
    after the point id, its parameter values, the seed and the point's scenario hash."""
    tables = [p.table for p in parts if p.table is not None]
    table = tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
    keys = [np.unique(np.asarray(table[c], dtype=str), return_inverse=True)[1] for c in ("scheme", "segment")]
    order = np.lexsort((table["replication"].to_numpy(), keys[1], keys[0]))
    table = table.take(order).reset_index(drop=True)
    n = len(table)
    head: dict[str, Any] = {"point": np.full(n, point, dtype=np.int64)}
    for path, v in zip(job.paths, values, strict=True):
        head[path] = np.full(n, float(v))
    head["seed"] = np.full(n, job.seed, dtype=np.int64)
    head["scenario_hash"] = parts[0].scenario_hash
    return pd.concat([pd.DataFrame(head), table], axis=1)


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory so far of this process and of its largest finished worker process."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"main": round(own, 1), "largest_worker": round(workers, 1)}


@dataclass(frozen=True)
class SweepOptions:
    """What a sweep run may set over its sweep file: replications per point, seed, engine.

    None keeps the file's replications and seed; engine None is the default engine.
    """

    replications: int | None = None
    seed: int | None = None
    engine: str | None = None


def sweep_job(sweep: Sweep, options: SweepOptions) -> SweepJob:
    """What every task of the sweep needs besides its points."""
    scenario = sweep.base.scenario
    return SweepJob(
        sweep.base.source,
        tuple(sweep.paths),
        sweep.seed if options.seed is None else options.seed,
        get_engine(options.engine).name,
        options.replications or sweep.replications,
        tuple(scenario.schemes),
        float(scenario.horizon_weeks),
    )


def _execution(job: SweepJob, sweep: Sweep, points: int, execution: Execution) -> Execution:
    """The sweep's chunk size (the engine's hint for a point, or the caller's) and worker
    processes, checked against memory on the base scenario before any work."""
    engine = get_engine(job.engine)
    scenario = sweep.base.scenario
    require_supported(engine, scenario)
    chunk = execution.chunk_size or engine.chunk_size(scenario, job.seed, job.replications)
    tasks = max(1, -(-points * job.replications // chunk))
    size = min(chunk, job.replications)
    workers = plan_workers(engine, (scenario, job.seed), size, tasks, execution)
    return replace(execution, workers=workers, chunk_size=chunk)


@dataclass
class _Progress:
    """A sweep under way: replications still missing per point, units back, and failures."""

    left: dict[int, int]
    waiting: dict[int, list[UnitResult]] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)


def _resume(job: SweepJob, x: np.ndarray, sink: PointSink, summaries: Summaries) -> list[int]:
    """Summaries of the points ``sink`` already holds (an earlier, interrupted run); return them."""
    done = sorted(p for p in sink.done() if 0 <= p < len(x))
    for p in done:
        summaries.put(p, summarize_point(sink.load(p), job.schemes, job.horizon_of(x[p])))
    return done


def _stream_points(
    job: SweepJob,
    x: np.ndarray,
    todo: list[int],
    execution: Execution,
    evaluate: Callable[..., list[UnitResult]],
) -> Iterator[UnitResult]:
    """Every unit of the points ``todo``, through the executor layer, in task order."""
    chunk = execution.chunk_size or job.replications
    tasks = ((job, units) for units in plan_tasks(todo, x, job.replications, chunk))
    for results in execute(evaluate, tasks, execution.workers or 1, execution.scheduler):
        yield from results


def run_sweep(
    sweep: Sweep,
    design: Design,
    sink: PointSink,
    options: SweepOptions | None = None,
    *,
    workers: int | None = None,
    execution: Execution | None = None,
    simulate: Simulate = simulate_point,
) -> SweepResult:
    """Run every point of ``design`` not yet in ``sink``; return per-point summaries and failures.

    ``execution`` says where tasks run (local processes, a Dask cluster), their
    size and who hears of progress; ``workers``, if given, overrides its
    workers. ``simulate`` replaces the simulation of a unit (test functions
    with known sensitivity indices go through the same pipeline); it must be
    importable by worker processes.
    """
    job = sweep_job(sweep, options or SweepOptions())
    execution = execution or Execution()
    if workers is not None:
        execution = replace(execution, workers=workers)
    summaries = Summaries.empty(len(design), job.schemes)
    x = design.values[sweep.paths].to_numpy(dtype=float)
    done = _resume(job, x, sink, summaries)
    todo = [p for p in range(len(design)) if p not in set(done)]
    execution = _execution(job, sweep, len(todo), execution)
    evaluate = evaluate_units if simulate is simulate_point else partial(evaluate_units, simulate=simulate)
    state = _Progress(left=dict.fromkeys(todo, job.replications))
    start = time.perf_counter()
    for unit in _stream_points(job, x, todo, execution, evaluate):
        _collect(job, unit, x[unit.point], (sink, summaries, state))
        execution.report(unit.replications)
    return SweepResult(
        sweep=sweep,
        design=design,
        replications=job.replications,
        seed=job.seed,
        engine=job.engine,
        summaries=summaries,
        failures=state.failures,
        completed=len(design) - len(state.failures),
        resumed=len(done),
        elapsed_s=time.perf_counter() - start,
        replications_run=len(todo) * job.replications,
        workers=execution.workers or 1,
        scheduler=execution.scheduler,
        peak_memory_mb=peak_memory_mb(),
    )


def _collect(
    job: SweepJob, unit: UnitResult, values: np.ndarray, into: tuple[PointSink, Summaries, _Progress]
) -> None:
    """Keep a unit until its point is whole, then hand the point on (see :func:`_finish`)."""
    sink, summaries, state = into
    state.waiting.setdefault(unit.point, []).append(unit)
    state.left[unit.point] -= unit.replications
    if state.left[unit.point] == 0:
        parts = state.waiting.pop(unit.point)
        _finish(job, unit.point, values, parts, sink, summaries, state.failures)


def _finish(
    job: SweepJob,
    point: int,
    values: np.ndarray,
    parts: list[UnitResult],
    sink: PointSink,
    summaries: Summaries,
    failures: dict[int, str],
) -> None:
    """Hand a point whose replications are all back to the sink (or record its error)."""
    errors = [u.error for u in parts if u.error]
    if errors:
        failures[point] = errors[0]
        sink.fail(point, errors[0])
        return
    if len(parts) == 1 and parts[0].summary is not None:
        frame, summary = parts[0].table, parts[0].summary
    else:
        frame = point_frame(job, point, values, parts)
        summary = summarize_point(frame, job.schemes, job.horizon_of(values))
    sink.save(point, frame)
    summaries.put(point, summary)
