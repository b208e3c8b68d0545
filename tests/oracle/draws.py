"""Parameter draws for made-up records: chosen values, the rest from the small scenario.

The metrics read only a few of a scheme's parameters (tranches, impact, admin
cost), but the typed parameters they read them through require every field of
the scheme; those the test does not choose are the small scenario's
Manufacturing+ draws, under the test's scheme name.
"""

from __future__ import annotations

import numpy as np

from sim.engines.parameters import ParameterDraws, draw_parameters
from sim.spec.loader import load_scenario
from tests.conftest import DATA


def scheme_draws(scheme: str, values: dict[str, np.ndarray], seed: int = 1) -> ParameterDraws:
    """Draws for scheme ``scheme``: ``values`` (field -> one value per replication) over the small scenario's."""
    replications = len(next(iter(values.values())))
    reps = np.arange(replications)
    base = draw_parameters(load_scenario(DATA / "small.toml").scenario, seed, reps)
    prefix = "schemes.manufacturing_plus."
    drawn = {f"schemes.{scheme}.{p[len(prefix) :]}": base[p] for p in base.paths() if p.startswith(prefix)}
    return ParameterDraws(drawn | {f"schemes.{scheme}.{k}": np.asarray(v) for k, v in values.items()}, reps)
