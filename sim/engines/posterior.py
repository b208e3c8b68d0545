"""Parameters drawn from a calibrated scenario's posterior joint sample instead of their priors.

A scenario that names a posterior (``posterior = "FILE.parquet"``, checked by
:mod:`sim.spec.posterior`) gives each replication one row of that joint sample:
replication ``r`` takes row ``j_r``, drawn uniformly with replacement from a
stream of its own (:func:`sim.rng.posterior_stream`, one per block of
:data:`~sim.rng.PARAMETER_BLOCK` replications, drawn whole). So a replication's
row depends only on the seed, its index and the number of draws: not on the
engine, the chunk or the worker, and two scenarios with one posterior run on
one seed give replication ``r`` the same row (common random numbers). Taking
whole rows keeps the correlations calibration gives the parameters.

Every parameter the sample covers takes the row's value (clipped to its field's
range and rounded for whole-number fields, as prior draws are); the others keep
their prior draws. A column whose parameter the scenario gives as a number (a
sweep point that sets it) is not used: the number wins.
"""

from __future__ import annotations

import numpy as np

from sim.rng import PARAMETER_BLOCK, posterior_stream
from sim.spec.distributions import Distribution
from sim.spec.posterior import read_posterior
from sim.spec.scenario import Scenario, parameter_specs

__all__ = ["posterior_rows", "apply_posterior"]


def posterior_rows(seed: int, reps: np.ndarray, draws: int) -> np.ndarray:
    """The row of a sample of ``draws`` rows that each replication in ``reps`` takes."""
    reps = np.asarray(reps, dtype=np.int64)
    blocks, offsets = np.divmod(reps, PARAMETER_BLOCK)
    rows = np.empty(len(reps), dtype=np.int64)
    for block in np.unique(blocks):
        picks = posterior_stream(seed, int(block)).integers(0, draws, PARAMETER_BLOCK)
        mask = blocks == block
        rows[mask] = picks[offsets[mask]]
    return rows


def apply_posterior(values: dict[str, np.ndarray], scenario: Scenario, seed: int, reps: np.ndarray) -> None:
    """Replace, in ``values`` (path -> one value per replication), the prior draws of every
    parameter the scenario's posterior covers by the values of each replication's row."""
    if scenario.posterior is None:
        return
    sample = read_posterior(scenario.posterior.file, scenario.posterior.sha256)
    rows = posterior_rows(seed, reps, sample.draws)
    for path, value, spec in parameter_specs(scenario):
        if path not in sample.paths or not isinstance(value, Distribution):
            continue
        out = np.clip(sample.column(path)[rows], spec.lo, spec.hi)
        if spec.integer:
            out = np.maximum(np.rint(out), spec.lo)
        values[path] = out
