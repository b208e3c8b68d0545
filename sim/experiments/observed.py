"""Simulated trajectories against observed data: each replication's value at each observed date,
and how likely the observations are under each replication (MODEL.md "Observation model").

The weekly series of a run (``replicate(...).weekly``: per scheme an array of
replications x :data:`~sim.engines.metrics.SERIES` x weeks, cumulative from the
opening to the end of the follow-up) are read at each observation's week
(:func:`~sim.spec.observations.observation_week`), giving an array of
replications x observations. The observation model then says how probable each
observed figure is given the simulated value, replication by replication, all
replications at once:

- a count (applications, approvals, awards, completions) reports a true figure ``T`` that
  scatters around the simulated count ``m`` as a negative binomial with mean
  ``m`` (at least :attr:`ObservationModel.count_floor`) and size ``k``
  (:attr:`ObservationModel.dispersion`; variance ``m + m**2 / k``, Poisson when
  ``k`` is infinite): the model's own error beyond the chance it simulates;
- a sum of HK$ (committed, paid) scatters as a normal with mean the simulated
  sum and standard deviation ``money_cv * value + money_floor_hkd``, set by the
  observed value so that it is the same for every replication;
- ``exact`` scores the probability (density for HK$) of the observed value;
  ``approx`` the probability that ``T`` lies within the tolerance of it;
  ``at_least`` the probability that ``T`` is at least it.

A replication's log-likelihood is the sum over observations (taken as
independent given the replication). It is highest for a trajectory through the
exact figures and falls fast where an ``at_least`` bound is not reached.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.engines.metrics import SERIES
from sim.spec.observations import COUNT_QUANTITIES, SIMULATED_AS, ObservedData

__all__ = ["ObservationModel", "log_likelihood", "observation_log_likelihood", "series_index", "simulated_at"]


@dataclass(frozen=True)
class ObservationModel:
    """How far a reported figure may lie from the simulated one (MODEL.md "Observation model").

    ``dispersion``: size ``k`` of the negative binomial of counts (``math.inf``:
    Poisson); 100 lets a large count differ by about 10% (*assumption*).
    ``money_cv`` and ``money_floor_hkd``: standard deviation of a HK$ figure as
    a share of it plus a floor (10% plus HK$10,000, *assumption*).
    ``count_floor``: a simulated count below this is taken as this, so that a
    run with none of something is unlikely, not impossible, when some are seen.
    """

    dispersion: float = 100.0
    money_cv: float = 0.1
    money_floor_hkd: float = 10_000.0
    count_floor: float = 0.5

    def __post_init__(self) -> None:
        if not self.dispersion > 0 or not self.count_floor > 0:
            raise ValueError("dispersion and count_floor must be above 0")
        if not (self.money_cv >= 0 and self.money_floor_hkd > 0):
            raise ValueError("money_cv must be at least 0 and money_floor_hkd above 0")


def series_index(quantity: str) -> int:
    """The row of :data:`SERIES` an observed quantity is compared with."""
    name = SIMULATED_AS.get(quantity)
    if name is None:
        raise ValueError(f"{quantity!r} has no simulated weekly series")
    return SERIES.index(name)


def simulated_at(observed: ObservedData, weekly: Mapping[str, np.ndarray]) -> np.ndarray:
    """Each replication's simulated value at each observation: replications x observations.

    ``weekly[scheme]`` is replications x series x weeks (as ``replicate(...).weekly``);
    observation ``j`` reads its quantity's series at its week.
    """
    obs = observed.observations
    shapes = {scheme: arr.shape for scheme, arr in weekly.items()}
    for o in obs:
        if o.scheme not in shapes:
            raise ValueError(f"no weekly series of scheme {o.scheme!r} (row {o.row}); have {sorted(shapes)}")
        if o.week >= shapes[o.scheme][2]:
            raise ValueError(f"row {o.row}: week {o.week} is past the {shapes[o.scheme][2]} weeks simulated")
    reps = {shape[0] for shape in shapes.values()}
    if len(reps) != 1:
        raise ValueError(f"schemes have different numbers of replications: {sorted(reps)}")
    out = np.empty((reps.pop(), len(obs)))
    for j, o in enumerate(obs):
        out[:, j] = weekly[o.scheme][:, series_index(o.quantity), o.week]
    return out


def log_likelihood(
    observed: ObservedData, weekly: Mapping[str, np.ndarray], model: ObservationModel | None = None
) -> np.ndarray:
    """Each replication's log-likelihood of all observations (length replications)."""
    terms = observation_log_likelihood(observed, simulated_at(observed, weekly), model)
    return terms.sum(axis=1)


def observation_log_likelihood(
    observed: ObservedData, simulated: np.ndarray, model: ObservationModel | None = None
) -> np.ndarray:
    """The log-likelihood of each observation under each replication: replications x observations.

    ``simulated`` is :func:`simulated_at`. Entries are ``-inf`` only where the
    observation is impossible under the model (a HK$ band or bound far out of
    reach underflows to it too).
    """
    model = model or ObservationModel()
    obs = observed.observations
    value = np.array([o.value for o in obs], dtype=float)
    tolerance = np.array([o.tolerance for o in obs], dtype=float)
    counts = np.array([o.quantity in COUNT_QUANTITIES for o in obs], dtype=bool)
    bounds = np.array([o.bound for o in obs])
    out = np.empty(simulated.shape, dtype=float)
    for is_count in (True, False):
        for bound in ("exact", "approx", "at_least"):
            cols = (counts == is_count) & (bounds == bound)
            if cols.any():
                score = _count_score if is_count else _money_score
                out[:, cols] = score(simulated[:, cols], value[cols], tolerance[cols], bound, model)
    return out


def _count_score(
    sim: np.ndarray, value: np.ndarray, tolerance: np.ndarray, bound: str, model: ObservationModel
) -> np.ndarray:
    """Log-probability of count observations given simulated counts (negative binomial or Poisson)."""
    mean = np.maximum(sim, model.count_floor)
    k = model.dispersion
    dist = stats.poisson(mean) if math.isinf(k) else stats.nbinom(k, k / (k + mean))
    with np.errstate(all="ignore"):
        if bound == "exact":
            return np.asarray(dist.logpmf(value))
        if bound == "at_least":
            return np.asarray(dist.logsf(value - 1))
        low = np.ceil(value * (1 - tolerance) - 1e-9)
        high = np.floor(value * (1 + tolerance) + 1e-9)
        return _log_between(dist, low - 1, high)


def _money_score(
    sim: np.ndarray, value: np.ndarray, tolerance: np.ndarray, bound: str, model: ObservationModel
) -> np.ndarray:
    """Log-density (exact) or log-probability (approx, at_least) of HK$ observations (normal)."""
    sd = model.money_cv * value + model.money_floor_hkd
    dist = stats.norm(sim, sd)
    with np.errstate(all="ignore"):
        if bound == "exact":
            return np.asarray(dist.logpdf(value))
        if bound == "at_least":
            return np.asarray(dist.logsf(value))
        return _log_between(dist, value * (1 - tolerance), value * (1 + tolerance))


def _log_between(dist, below: np.ndarray, high: np.ndarray) -> np.ndarray:
    """log P(below < T <= high), from whichever tail keeps the precision."""
    above_below, up_to_high = dist.logsf(below), dist.logcdf(high)
    upper = _log_minus(above_below, dist.logsf(high))
    lower = _log_minus(up_to_high, dist.logcdf(below))
    return np.where(above_below < up_to_high, upper, lower)


def _log_minus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(exp(a) - exp(b)) for a >= b; -inf where a is -inf or a equals b."""
    with np.errstate(all="ignore"):
        out = a + np.log1p(-np.exp(b - a))
    return np.where(np.isneginf(a) | np.isnan(out), -np.inf, out)
