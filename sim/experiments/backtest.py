"""Backtests: calibrate on the figures published up to a cut date, forecast the later ones.

A backtest splits an observed-data file at a date: the figures dated up to it
(inclusive) are the calibration data, those after it the figures to forecast.
The prior replications of the scenario are weighted by the likelihood of the
calibration data alone (importance sampling, as :mod:`sim.experiments.calibrate`),
and the forecast of a later figure is its posterior predictive distribution:
the replications resampled with those weights (systematic resampling), each
read at the later figure's week, plus the observation model's scatter of a
reported figure around the simulated one (a negative binomial draw for a count,
a normal for HK$), since the figure compared is a reported one. Each
replication's whole trajectory is weighted, so the forecast is conditional on
the path that produced the early figures, not only on the parameters.

A forecast's 50% and 90% intervals are central quantile ranges of that
distribution (those of the simulated value alone are given beside them).
Whether an interval *contains* an observed figure follows its bound: an
``exact`` figure lies inside it; an ``at_least`` figure is not above its upper
end (the forecast does not rule it out); an ``approx`` figure's band overlaps
it. Nothing here is tuned to the figures to forecast: they take
no part in the weights.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from sim.experiments.calibrate import effective_sample_size, importance_weights, systematic_resample
from sim.experiments.observed import ObservationModel, log_likelihood, simulated_at
from sim.experiments.pipeline import Execution, execute, plan_chunks
from sim.experiments.replicate import replicate
from sim.rng import calibration_stream
from sim.spec.observations import COUNT_QUANTITIES, Observation, ObservedData
from sim.spec.scenario import Scenario

__all__ = [
    "LEVELS",
    "Backtest",
    "BacktestError",
    "Forecast",
    "ScoredChunk",
    "contains",
    "forecast",
    "forecast_draws",
    "reported_draws",
    "run_backtest",
    "score_chunk",
    "split_at",
]

#: The central intervals reported: 50% and 90%.
LEVELS = (0.5, 0.9)
#: Posterior predictive draws per forecast figure.
PREDICTIVE_DRAWS = 20_000


class BacktestError(ValueError):
    """A backtest that cannot be made: no figure on one side of the cut."""


def split_at(observed: ObservedData, cut: date) -> tuple[ObservedData, ObservedData]:
    """(figures dated up to ``cut``, figures after it), each in file order."""
    before = tuple(o for o in observed.observations if o.day <= cut)
    after = tuple(o for o in observed.observations if o.day > cut)
    if not before or not after:
        side = "on or before" if not before else "after"
        raise BacktestError(f"{observed.path}: no figure dated {side} the cut {cut.isoformat()}")
    return replace(observed, observations=before), replace(observed, observations=after)


@dataclass
class ScoredChunk:
    """One chunk's replications, the log-likelihood of the calibration data, and each replication's
    simulated value of each later figure (replications x later figures)."""

    reps: np.ndarray
    log_likelihood: np.ndarray
    later: np.ndarray


def score_chunk(
    scenario: Scenario,
    seed: int,
    reps: np.ndarray,
    engine: str,
    split: tuple[ObservedData, ObservedData],
    model: ObservationModel,
) -> ScoredChunk:
    """Simulate ``reps`` and keep only what a backtest needs (the task of every worker)."""
    fitted, later = split
    result = replicate(scenario, seed, reps, engine)
    return ScoredChunk(
        result.reps, log_likelihood(fitted, result.weekly, model), simulated_at(later, result.weekly)
    )


def reported_draws(
    simulated: np.ndarray, observation: Observation, model: ObservationModel, rng: np.random.Generator
) -> np.ndarray:
    """Reported figures scattered around simulated ones by the observation model (MODEL.md)."""
    if observation.quantity in COUNT_QUANTITIES:
        mean = np.maximum(simulated, model.count_floor)
        if math.isinf(model.dispersion):
            return rng.poisson(mean).astype(float)
        k = model.dispersion
        return rng.negative_binomial(k, k / (k + mean)).astype(float)
    sd = model.money_cv * observation.value + model.money_floor_hkd
    return rng.normal(simulated, sd)


def contains(observation: Observation, low: float, high: float) -> bool:
    """Whether the interval [low, high] contains the figure, read by its bound (module notes)."""
    if observation.bound == "at_least":
        return observation.value <= high
    if observation.bound == "approx":
        band = (
            observation.value * (1 - observation.tolerance),
            observation.value * (1 + observation.tolerance),
        )
        return band[0] <= high and low <= band[1]
    return low <= observation.value <= high


@dataclass(frozen=True)
class Forecast:
    """The posterior predictive of one later figure: its median and central 50% and 90% intervals,
    and (``simulated``) the central intervals of the simulated value alone, without the scatter of
    a reported figure around it."""

    observation: Observation
    median: float
    intervals: dict[float, tuple[float, float]]
    simulated: dict[float, tuple[float, float]]

    def contains(self, level: float) -> bool:
        return contains(self.observation, *self.intervals[level])


def forecast(
    weights: np.ndarray,
    later: np.ndarray,
    split: tuple[ObservedData, ObservedData],
    model: ObservationModel,
    rng: np.random.Generator,
) -> list[Forecast]:
    """The forecast of each later figure from the weighted replications' simulated values."""
    out = []
    for j, observation in enumerate(split[1].observations):
        simulated, draws = forecast_draws(weights, later[:, j], observation, model, rng)
        out.append(Forecast(observation, float(np.median(draws)), _central(draws), _central(simulated)))
    return out


def forecast_draws(
    weights: np.ndarray,
    simulated: np.ndarray,
    observation: Observation,
    model: ObservationModel,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the posterior predictive of one figure: the replications resampled with ``weights``
    give their ``simulated`` values (the first array), and those scattered by the observation model
    the reported figure's (the second)."""
    picked = systematic_resample(weights, PREDICTIVE_DRAWS, rng)
    return simulated[picked], reported_draws(simulated[picked], observation, model, rng)


def _central(draws: np.ndarray) -> dict[float, tuple[float, float]]:
    """The central intervals of :data:`LEVELS` of a sample."""
    return {
        level: (float(np.quantile(draws, (1 - level) / 2)), float(np.quantile(draws, (1 + level) / 2)))
        for level in LEVELS
    }


@dataclass
class Backtest:
    """A backtest's cut, the calibration data, its effective sample size and the forecasts."""

    cut: date
    fitted: ObservedData
    replications: int
    ess: float
    forecasts: list[Forecast]
    elapsed_s: float


def run_backtest(
    scenario: Scenario,
    observed: ObservedData,
    cut: date,
    replications: int,
    seed: int = 20251118,
    execution: Execution | None = None,
    model: ObservationModel | None = None,
) -> Backtest:
    """Calibrate ``scenario`` on the figures of ``observed`` up to ``cut`` and forecast the later ones."""
    execution, model = execution or Execution(), model or ObservationModel()
    split = split_at(observed, cut)
    plan = plan_chunks(scenario, seed, replications, None, execution)
    began = time.perf_counter()
    chunks = []
    tasks = ((scenario, seed, reps, plan.engine.name, split, model) for reps in plan.chunks)
    for chunk in execute(score_chunk, tasks, plan.workers, execution.scheduler):
        execution.report(len(chunk.reps))
        chunks.append(chunk)
    chunks.sort(key=lambda c: int(c.reps[0]))
    log_lik = np.concatenate([c.log_likelihood for c in chunks])
    later = np.concatenate([c.later for c in chunks])
    weights = importance_weights(log_lik)
    forecasts = forecast(weights, later, split, model, calibration_stream(seed))
    elapsed = time.perf_counter() - began
    return Backtest(cut, split[0], replications, effective_sample_size(weights), forecasts, elapsed)
