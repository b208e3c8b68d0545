"""The nowcast: the forecast of a scheme conditioned on its observed history (MODEL.md "Nowcast").

Every replication already runs from the opening to the end of the follow-up,
so the forecast as at a date is the set of whole replications weighted by how
likely each makes the observations, the importance weights of
:mod:`sim.experiments.calibrate` (the same observation model, the same
:func:`~sim.experiments.calibrate.importance_weights`). A replication whose
trajectory runs through the observed figures carries its own future with it:
the weighted replications condition on the history itself, not only on the
parameters that the history makes likely (re-running with posterior
parameters would draw new histories, most of them away from the observations).

Policy variants run on common random numbers: a variant's replication ``i``
uses the seed and replication index of the base's replication ``i``. A variant
that changes nothing up to the as-at date shares the base's history
replication by replication, so the base's weights are its weights too and
differences between variant and base are paired. A variant whose simulated
history up to the as-at week differs from the base's in any replication is
refused (:class:`VariantChangesHistory`): it answers another question (what if
the scheme had been different from the start), its weights would be its own
and the pairing would be lost; a change from a later date is written as a
dated change (``changes = [{ week = ..., ... }]``) of the scheme.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from sim.engines.metrics import SERIES
from sim.experiments.calibrate import (
    MIN_ESS,
    SeriesKey,
    effective_sample_size,
    importance_weights,
    observed_series,
    weighted_quantiles,
)
from sim.experiments.compare import check_aligned
from sim.experiments.observed import ObservationModel, log_likelihood, series_index
from sim.experiments.pipeline import Execution, execute, plan_chunks
from sim.experiments.replicate import ChunkResult, replicate
from sim.spec.observations import ObservedData, observation_week
from sim.spec.scenario import Scenario

__all__ = [
    "DEFAULT_REPLICATIONS",
    "OUTCOMES",
    "Nowcast",
    "NowcastChunk",
    "NowcastTask",
    "VariantChangesHistory",
    "as_at_of",
    "check_variants",
    "history_difference",
    "nowcast",
    "nowcast_chunk",
    "quarter_ends",
]

#: Replications of a nowcast unless asked otherwise.
DEFAULT_REPLICATIONS = 10_000
#: The per-replication outcomes kept for each scheme, in column order.
OUTCOMES: tuple[str, ...] = (
    "applications",
    "awarded",
    "unused_budget_hkd",
    "exhausted_by_money",
    "exhausted_by_places",
    "exhaustion_week",
)
#: Replications run up front to refuse a variant that changes the history before any long run.
_PRECHECK = 32


class VariantChangesHistory(ValueError):
    """A variant whose simulated history up to the as-at date differs from the base's."""


@dataclass(frozen=True)
class NowcastTask:
    """What every chunk of a nowcast needs: the base, its variants, the observations and the as-at week."""

    scenario: Scenario
    variants: tuple[Scenario, ...]
    observed: ObservedData
    model: ObservationModel
    as_at: date

    @property
    def as_at_week(self) -> int:
        """The week of the simulated grid the as-at date falls in (as an observation's week)."""
        return observation_week(self.as_at, self.scenario.start_date)


@dataclass
class NowcastChunk:
    """One chunk's replications: the base's log-likelihoods and observed series, every scenario's
    outcomes (``outcomes[k][scheme]``: replications x :data:`OUTCOMES`; k = 0 the base, then the
    variants) and, per variant, where its history first differs from the base's (None: nowhere)."""

    reps: np.ndarray
    log_likelihood: np.ndarray
    outcomes: list[dict[str, np.ndarray]]
    series: dict[SeriesKey, np.ndarray]
    diverged: list[str | None]


def scheme_outcomes(result: ChunkResult) -> dict[str, np.ndarray]:
    """Each scheme's :data:`OUTCOMES` (the scheme as a whole): replications x outcomes, in order."""
    whole = result.table[result.table["segment"] == "all"]
    return {
        str(scheme): rows.sort_values("replication")[list(OUTCOMES)].to_numpy(dtype=float)
        for scheme, rows in whole.groupby("scheme", sort=False)
    }


def history_difference(base: dict[str, np.ndarray], variant: dict[str, np.ndarray], week: int) -> str | None:
    """Where a variant's weekly series first differ from the base's up to ``week`` (inclusive), or None."""
    for scheme, series in base.items():
        mine, theirs = series[:, :, : week + 1], variant[scheme][:, :, : week + 1]
        if np.array_equal(mine, theirs, equal_nan=True):
            continue
        differs = ~((mine == theirs) | (np.isnan(mine) & np.isnan(theirs)))
        _, row, first = np.argwhere(differs).min(axis=0)
        return f"scheme {scheme}: {SERIES[row].replace('_', ' ')} differ from week {first}"
    return None


def nowcast_chunk(task: NowcastTask, seed: int, reps: np.ndarray, engine: str) -> NowcastChunk:
    """Simulate replications ``reps`` of the base and every variant on common random numbers, and
    score the base against the observations (the task of every worker)."""
    base = replicate(task.scenario, seed, reps, engine)
    series = {
        (scheme, quantity): base.weekly[scheme][:, series_index(quantity), :].astype(np.float32)
        for scheme, quantity in observed_series(task.observed)
    }
    outcomes, diverged = [scheme_outcomes(base)], []
    for variant in task.variants:
        result = replicate(variant, seed, reps, engine)
        diverged.append(history_difference(base.weekly, result.weekly, task.as_at_week))
        outcomes.append(scheme_outcomes(result))
    log_lik = log_likelihood(task.observed, base.weekly, task.model)
    return NowcastChunk(base.reps, log_lik, outcomes, series, diverged)


def as_at_of(observed: ObservedData, scenario: Scenario, as_at: date | None = None) -> date:
    """The as-at date: ``as_at`` if given (not before the last observation, not past the end of the
    follow-up), else the last observation's date."""
    last = max(o.day for o in observed.observations)
    if as_at is None:
        return last
    end = scenario.start_date + timedelta(weeks=float(scenario.end_weeks))
    if as_at < last or as_at > end:
        raise ValueError(
            f"--as-at {as_at}: must be on or after the last observation ({last}) and at most the end of "
            f"the follow-up ({end})"
        )
    return as_at


def quarter_ends(as_at: date, scheme_end: date) -> list[date]:
    """The ends of the calendar quarters after ``as_at`` and before ``scheme_end``, then ``scheme_end``."""
    ends: list[date] = []
    year, month = as_at.year, 3 * ((as_at.month - 1) // 3 + 1)  # the last month of as_at's quarter
    while True:
        end = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        if end > as_at:
            if end >= scheme_end:
                return [*ends, scheme_end]
            ends.append(end)
        year, month = (year + 1, 3) if month == 12 else (year, month + 3)


def check_variants(task: NowcastTask, names: tuple[str, ...], seed: int, engine: str) -> None:
    """Refuse variants that cannot be set beside the base: another horizon or follow-up, other
    schemes, or (on a few replications, before the long run) another history up to the as-at date."""
    base = task.scenario
    for name, variant in zip(names, task.variants, strict=True):
        check_aligned(base, variant, ("the scenario", f"variant {name}"))
        if set(variant.schemes) != set(base.schemes) or variant.start_date != base.start_date:
            raise VariantChangesHistory(
                f"{name}: a variant must have the scenario's schemes ({', '.join(base.schemes)}) and "
                f"start date ({base.start_date})"
            )
    if task.variants:
        chunk = nowcast_chunk(task, seed, np.arange(_PRECHECK, dtype=np.int64), engine)
        _refuse_diverged(chunk.diverged, names, task)


def _refuse_diverged(diverged: list[str | None], names: tuple[str, ...], task: NowcastTask) -> None:
    for name, where in zip(names, diverged, strict=True):
        if where is not None:
            raise VariantChangesHistory(
                f"{name}: the variant changes the scheme before the as-at date {task.as_at} "
                f"(week {task.as_at_week}): {where}; "
                "a nowcast compares only changes that start after it (write a change from a later week "
                "as a dated change: changes = [{ week = ..., ... }])"
            )


@dataclass
class Nowcast:
    """The replications of a nowcast, their weights given the observations, and every scenario's outcomes.

    ``names[k]`` names scenario ``k`` (0: the base); ``outcomes[k][scheme]`` is
    replications x :data:`OUTCOMES`; ``series`` the base's observed series
    (replications x weeks), for the fan charts.
    """

    names: tuple[str, ...]
    start: date
    horizon_weeks: float
    as_at: date
    reps: np.ndarray
    log_likelihood: np.ndarray
    weights: np.ndarray
    outcomes: list[dict[str, np.ndarray]]
    series: dict[SeriesKey, np.ndarray]
    seed: int
    engine: str
    elapsed_s: float = 0.0
    workers: int = 1
    model: ObservationModel = field(default_factory=ObservationModel)

    @property
    def replications(self) -> int:
        return len(self.reps)

    @property
    def ess(self) -> float:
        return effective_sample_size(self.weights)

    @property
    def scheme_end(self) -> date:
        return self.start + timedelta(weeks=float(self.horizon_weeks))

    @property
    def quarters(self) -> list[date]:
        return quarter_ends(self.as_at, self.scheme_end)

    @property
    def warning(self) -> str | None:
        """Why the nowcast is not to be trusted (an ESS below the calibration's minimum), or None."""
        if self.ess >= MIN_ESS:
            return None
        return (
            f"effective sample size {self.ess:.1f} is below {MIN_ESS:.0f}: the nowcast rests on a few "
            "replications; run more (-n) or check the observations against the scenario"
        )

    def outcome(self, k: int, scheme: str, name: str) -> np.ndarray:
        """Scenario ``k``'s per-replication values of outcome ``name`` of ``scheme``."""
        return self.outcomes[k][scheme][:, OUTCOMES.index(name)]

    def places_fill_by(self, k: int, scheme: str, day: date) -> np.ndarray:
        """1 in the replications of scenario ``k`` in which the places of ``scheme`` fill by ``day``."""
        week = (day - self.start).days / 7.0
        filled = self.outcome(k, scheme, "exhausted_by_places") > 0
        return (filled & (self.outcome(k, scheme, "exhaustion_week") <= week + 1e-9)).astype(float)

    def quantiles(self, key: SeriesKey, quantiles: tuple[float, ...], weighted: bool) -> np.ndarray:
        """Quantiles x weeks of the base's observed series ``key``, weighted or equally (the prior)."""
        values = self.series[key].astype(float)
        weights = self.weights if weighted else np.full(len(values), 1.0 / len(values))
        return weighted_quantiles(values, weights, quantiles)


def nowcast(
    task: NowcastTask,
    names: tuple[str, ...],
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = 20251118,
    engine: str | None = None,
    execution: Execution | None = None,
) -> Nowcast:
    """Run ``replications`` replications of the base and its variants on common random numbers and
    weight them by the likelihood of the observations (see the module's notes)."""
    execution = execution or Execution()
    plan = plan_chunks(task.scenario, seed, replications, engine, execution)
    check_variants(task, names[1:], seed, plan.engine.name)
    began = time.perf_counter()
    chunks: list[NowcastChunk] = []
    tasks = ((task, seed, reps, plan.engine.name) for reps in plan.chunks)
    for chunk in execute(nowcast_chunk, tasks, plan.workers, execution.scheduler):
        execution.report(len(chunk.reps))
        _refuse_diverged(chunk.diverged, names[1:], task)
        chunks.append(chunk)
    log_lik = np.concatenate([c.log_likelihood for c in chunks])
    outcomes = [
        {scheme: np.concatenate([c.outcomes[k][scheme] for c in chunks]) for scheme in chunks[0].outcomes[k]}
        for k in range(len(names))
    ]
    series = {key: np.concatenate([c.series[key] for c in chunks]) for key in observed_series(task.observed)}
    return Nowcast(
        names,
        task.scenario.start_date,
        float(task.scenario.horizon_weeks),
        task.as_at,
        np.concatenate([c.reps for c in chunks]),
        log_lik,
        importance_weights(log_lik),
        outcomes,
        series,
        seed,
        plan.engine.name,
        time.perf_counter() - began,
        plan.workers,
        task.model,
    )
