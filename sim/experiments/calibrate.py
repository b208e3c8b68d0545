"""Calibration: the posterior of a scenario's uncertain parameters given observed data.

Every parameter given as a distribution is drawn once per replication
(:mod:`sim.engines.parameters`), so the replications of a run are draws from
the prior. Weighting each by the likelihood of the observations under its
simulated trajectory (:func:`~sim.experiments.observed.log_likelihood`) is
importance sampling from the prior (MODEL.md "Calibration"):

1. ``N`` replications run through the one run pipeline
   (:mod:`sim.experiments.pipeline`: chunks, worker processes, the memory
   check, progress); each chunk returns only its log-likelihoods and the
   simulated series the observations are compared with;
2. the normalised importance weights are ``exp(log L - logsumexp(log L))``;
   their effective sample size is Kish's ``1 / sum(w**2)``: how many equally
   weighted draws the weighted set is worth;
3. the posterior joint sample is the replications resampled with those
   weights (systematic resampling, seeded), so parameters keep the
   correlations the observations give them.

With an ESS below :data:`MIN_ESS` the posterior rests on a handful of
replications; :attr:`Calibration.warning` says so and how many more to run.
Results depend only on the seed, never on the chunk size or the workers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.engines.metrics import weeks
from sim.engines.parameters import draw_parameters
from sim.experiments.memory import InsufficientMemory, available_memory, format_bytes
from sim.experiments.observed import ObservationModel, log_likelihood, series_index
from sim.experiments.pipeline import Execution, execute, plan_chunks
from sim.experiments.replicate import replicate
from sim.rng import calibration_stream
from sim.spec.observations import ObservedData
from sim.spec.scenario import Scenario, uncertain_paths

__all__ = [
    "DEFAULT_REPLICATIONS",
    "MIN_ESS",
    "Calibration",
    "CalibrationError",
    "ChunkFit",
    "calibrate",
    "effective_sample_size",
    "fit_chunk",
    "importance_weights",
    "kept_bytes",
    "observed_series",
    "require_kept_memory",
    "summary_table",
    "systematic_resample",
    "uncertain_paths",
    "weighted_quantiles",
]

#: Prior replications of a calibration unless asked otherwise.
DEFAULT_REPLICATIONS = 20_000
#: Below this effective sample size the posterior is flagged as resting on too few replications.
MIN_ESS = 100.0
#: Quantiles reported per parameter (5%, median, 95%).
QUANTILES = (0.05, 0.5, 0.95)

#: A simulated series compared with observations: (scheme, observed quantity).
SeriesKey = tuple[str, str]


class CalibrationError(ValueError):
    """A calibration that cannot give a posterior (no replication is compatible with the data)."""


@dataclass
class ChunkFit:
    """One chunk's replications, their log-likelihoods and the observed series they simulated."""

    reps: np.ndarray
    log_likelihood: np.ndarray
    series: dict[SeriesKey, np.ndarray]


def observed_series(observed: ObservedData) -> list[SeriesKey]:
    """The (scheme, quantity) pairs the observations name, in file order, each once."""
    return list(dict.fromkeys((o.scheme, o.quantity) for o in observed.observations))


def fit_chunk(
    scenario: Scenario,
    seed: int,
    reps: np.ndarray,
    engine: str,
    observed: ObservedData,
    model: ObservationModel | None = None,
) -> ChunkFit:
    """Simulate replications ``reps`` and score them against ``observed`` (the task of every worker).

    Only the log-likelihoods and the cumulative series of the observed
    quantities (float32, replications x weeks) go back to the caller.
    """
    result = replicate(scenario, seed, reps, engine)
    series = {
        (scheme, quantity): result.weekly[scheme][:, series_index(quantity), :].astype(np.float32)
        for scheme, quantity in observed_series(observed)
    }
    return ChunkFit(result.reps, log_likelihood(observed, result.weekly, model), series)


def importance_weights(log_lik: np.ndarray) -> np.ndarray:
    """Normalised weights ``exp(log L - logsumexp(log L))``, summing to 1 (equal likelihoods: exactly 1/N).

    Raises :class:`CalibrationError` when every replication has likelihood 0.
    """
    log_lik = np.asarray(log_lik, dtype=float)
    if not np.isfinite(log_lik).any():
        raise CalibrationError("no replication is compatible with the observations (every likelihood is 0)")
    weights = np.exp(log_lik - log_lik.max())  # the log-sum-exp shift: the largest weight is 1
    return weights / weights.sum()


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)**2 / sum(w**2)``: N for equal weights, 1 for one."""
    weights = np.asarray(weights, dtype=float)
    return float(weights.sum() ** 2 / np.square(weights).sum())


def systematic_resample(weights: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``draws`` replications picked with probability ``weights`` (systematic resampling).

    One uniform offset ``u``; draw ``i`` takes the replication whose
    cumulative weight first exceeds ``(u + i) / draws``. Each replication is
    taken ``floor`` or ``ceil`` of ``draws * w`` times, so with equal weights
    and ``draws`` equal to their number every replication is taken once.
    """
    cumulative = np.cumsum(np.asarray(weights, dtype=float))
    cumulative /= cumulative[-1]
    points = (rng.random() + np.arange(draws)) / draws
    picked = np.searchsorted(cumulative, points, side="right")
    return np.minimum(picked, len(cumulative) - 1)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """Quantiles of each column of ``values`` (replications x columns) under ``weights``: quantiles x columns.

    The ``q`` quantile is the smallest value whose cumulative weight reaches ``q``.
    """
    order = np.argsort(values, axis=0, kind="stable")
    ordered = np.take_along_axis(values, order, axis=0)
    cumulative = np.cumsum(np.asarray(weights, dtype=float)[order], axis=0)
    cumulative /= cumulative[-1]
    out = np.empty((len(quantiles), values.shape[1]))
    for i, q in enumerate(quantiles):
        first = np.minimum((cumulative < q - 1e-12).sum(axis=0), len(values) - 1)
        out[i] = np.take_along_axis(ordered, first[None, :], axis=0)[0]
    return out


@dataclass
class Calibration:
    """A calibration's prior draws, importance weights and posterior joint sample.

    ``prior`` has one row per replication (column ``replication`` and one per
    uncertain parameter path); ``posterior`` one row per posterior draw (the
    same columns, ``replication`` naming the prior replication it came from).
    ``series[(scheme, quantity)]`` is replications x weeks of the simulated
    cumulative series, for the posterior predictive check; ``model`` the
    observation model the weights were computed with.
    """

    paths: list[str]
    prior: pd.DataFrame
    log_likelihood: np.ndarray
    weights: np.ndarray
    posterior: pd.DataFrame
    series: dict[SeriesKey, np.ndarray]
    seed: int
    engine: str
    elapsed_s: float = 0.0
    workers: int = 1
    model: ObservationModel = field(default_factory=ObservationModel)

    @property
    def replications(self) -> int:
        return len(self.prior)

    @property
    def ess(self) -> float:
        """The effective sample size of the weights."""
        return effective_sample_size(self.weights)

    @property
    def warning(self) -> str | None:
        """Why the posterior is not to be trusted (an ESS below :data:`MIN_ESS`), or None."""
        if self.ess >= MIN_ESS:
            return None
        more = _replications_for(MIN_ESS, self.ess, self.replications)
        return (
            f"effective sample size {self.ess:.1f} is below {MIN_ESS:.0f}: the posterior rests on a few "
            f"replications; run more (-n {more:,} or above) or check the observations against the scenario"
        )

    def weights_table(self) -> pd.DataFrame:
        """One row per replication: replication, log_likelihood, weight."""
        return pd.DataFrame(
            {
                "replication": self.prior["replication"].to_numpy(),
                "log_likelihood": self.log_likelihood,
                "weight": self.weights,
            }
        )


def _replications_for(target: float, ess: float, replications: int) -> int:
    """Replications that would bring the ESS to ``target``, were it to grow in proportion (rounded up)."""
    scale = target / max(ess, 1.0)
    return int(math.ceil(replications * scale / 1000.0) * 1000)


def calibrate(
    scenario: Scenario,
    observed: ObservedData,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = 20251118,
    engine: str | None = None,
    execution: Execution | None = None,
    model: ObservationModel | None = None,
) -> Calibration:
    """Run ``replications`` prior replications of ``scenario``, weight them by the likelihood of
    ``observed`` and resample ``replications`` posterior draws (see the module's notes)."""
    execution, model = execution or Execution(), model or ObservationModel()
    plan = plan_chunks(scenario, seed, replications, engine, execution)
    require_kept_memory(scenario, observed, replications)
    began = time.perf_counter()
    fits: list[ChunkFit] = []
    tasks = ((scenario, seed, reps, plan.engine.name, observed, model) for reps in plan.chunks)
    for fit in execute(fit_chunk, tasks, plan.workers, execution.scheduler):
        execution.report(len(fit.reps))
        fits.append(fit)
    reps = np.concatenate([f.reps for f in fits])
    log_lik = np.concatenate([f.log_likelihood for f in fits])
    series = {key: np.concatenate([f.series[key] for f in fits]) for key in observed_series(observed)}
    weights = importance_weights(log_lik)
    paths = uncertain_paths(scenario)
    draws = draw_parameters(scenario, seed, reps)
    prior = pd.DataFrame({"replication": reps, **{path: draws[path] for path in paths}})
    picked = systematic_resample(weights, replications, calibration_stream(seed))
    posterior = prior.iloc[picked].reset_index(drop=True)
    posterior.insert(0, "draw", np.arange(len(posterior), dtype=np.int64))
    elapsed = time.perf_counter() - began
    return Calibration(
        paths,
        prior,
        log_lik,
        weights,
        posterior,
        series,
        seed,
        plan.engine.name,
        elapsed,
        plan.workers,
        model,
    )


def kept_bytes(scenario: Scenario, observed: ObservedData, replications: int) -> int:
    """Bytes a calibration keeps for all its replications: the observed series (float32, per week)
    for the predictive check, and the parameter table, weights and posterior sample (float64)."""
    series = len(observed_series(observed)) * (len(weeks(scenario.end_weeks)) * 4)
    table = 2 * (len(uncertain_paths(scenario)) + 4) * 8
    return replications * (series + table)


def require_kept_memory(scenario: Scenario, observed: ObservedData, replications: int) -> None:
    """Refuse, before any work, a calibration whose kept results would not fit in memory."""
    need, have = kept_bytes(scenario, observed, replications), available_memory()
    if need > have // 2:
        raise InsufficientMemory(
            f"a calibration of {replications:,} replications keeps about {format_bytes(need)} "
            f"(the observed series of every replication), more than half the {format_bytes(have)} "
            "available; use fewer replications (-n)"
        )


def summary_table(calibration: Calibration) -> pd.DataFrame:
    """Per uncertain parameter: prior and posterior mean and 5/50/95% quantiles, the ESS and N.

    Posterior figures are those of the posterior sample (``posterior.parquet``).
    """
    rows = []
    for path in calibration.paths:
        row: dict[str, object] = {"parameter": path}
        for name, frame in (("prior", calibration.prior), ("posterior", calibration.posterior)):
            values = frame[path].to_numpy(dtype=float)
            row[f"{name}_mean"] = float(values.mean())
            for q, value in zip(QUANTILES, np.quantile(values, QUANTILES), strict=True):
                row[f"{name}_p{round(100 * q):02d}"] = float(value)
        row["ess"] = calibration.ess
        row["replications"] = calibration.replications
        rows.append(row)
    return pd.DataFrame(rows)
