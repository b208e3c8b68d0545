"""Per-replication draws of a scenario's uncertain parameters.

Every scalar parameter that is a distribution is drawn once per replication,
from its own stream (:func:`sim.rng.parameter_stream`), so a replication's
value of ``schemes.x.budget_hkd`` is the same whichever engine, chunk or
worker computes it, and does not change when another parameter does.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from sim.rng import PARAMETER_BLOCK, parameter_stream
from sim.spec.distributions import Distribution
from sim.spec.scenario import Scenario, parameter_specs

__all__ = ["ParameterDraws", "draw_parameters"]


class ParameterDraws:
    """Parameter values for a set of replications: ``draws[path]`` is an array, one per replication."""

    def __init__(self, values: dict[str, np.ndarray], reps: np.ndarray):
        self._values = values
        self.reps = reps

    def __getitem__(self, path: str) -> np.ndarray:
        return self._values[path]

    def get(self, path: str, default: float | None = None) -> np.ndarray | None:
        if path in self._values:
            return self._values[path]
        if default is None:
            return None
        return np.full(len(self.reps), float(default))

    def scheme(self, name: str, field: str) -> np.ndarray:
        """Shorthand for ``draws[f"schemes.{name}.{field}"]``."""
        return self._values[f"schemes.{name}.{field}"]

    def segment(self, name: str, field: str) -> np.ndarray:
        return self._values[f"segments.{name}.{field}"]

    def paths(self) -> list[str]:
        return sorted(self._values)

    def take(self, index: np.ndarray) -> ParameterDraws:
        """The draws of the replications at positions ``index`` of this set."""
        return ParameterDraws({k: v[index] for k, v in self._values.items()}, self.reps[index])

    def row(self, i: int) -> dict[str, float]:
        """The parameter values of the i-th replication in this set."""
        return {k: float(v[i]) for k, v in self._values.items()}


@functools.lru_cache(maxsize=256)
def _block_sample(dist: Distribution, seed: int, path: str, block: int) -> np.ndarray:
    """One parameter's draws for a whole block of replications (kept: neighbouring chunks share a block)."""
    sample = np.asarray(dist.sample(parameter_stream(seed, path, block), PARAMETER_BLOCK), dtype=float)
    sample.flags.writeable = False
    return sample


#: The last draws made, with what they were made for: an engine and the metrics of the same
#: replications ask for the same draws one after the other.
_LAST: list[tuple[Scenario, int, bytes, ParameterDraws]] = []


def draw_parameters(scenario: Scenario, seed: int, reps: Sequence[int] | np.ndarray) -> ParameterDraws:
    """Draw every per-replication parameter for replications ``reps``.

    The arrays of the result are shared with later calls for the same
    scenario, seed and replications: read them, do not change them.
    """
    reps = np.asarray(reps, dtype=np.int64)
    key = reps.tobytes()
    if _LAST and _LAST[0][0] is scenario and _LAST[0][1] == seed and _LAST[0][2] == key:
        return _LAST[0][3]
    draws = _draw(scenario, seed, reps)
    _LAST[:] = [(scenario, seed, key, draws)]
    return draws


def _draw(scenario: Scenario, seed: int, reps: np.ndarray) -> ParameterDraws:
    values: dict[str, np.ndarray] = {}
    blocks, offsets = np.divmod(reps, PARAMETER_BLOCK)
    for path, value, spec in parameter_specs(scenario):
        if isinstance(value, Distribution):
            out = np.empty(len(reps))
            for block in np.unique(blocks):
                sample = _block_sample(value, seed, path, int(block))
                mask = blocks == block
                out[mask] = sample[offsets[mask]]
            out = np.clip(out, spec.lo, spec.hi)
        else:
            out = np.full(len(reps), float(value))
        if spec.integer:
            out = np.maximum(np.rint(out), spec.lo)
        values[path] = out
    return ParameterDraws(values, reps)
