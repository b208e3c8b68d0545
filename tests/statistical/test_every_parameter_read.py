"""Every parameter a shipped scenario lists as uncertain is read: moving it moves an output.

The uncertain parameters (``draws.parquet``, calibration, sensitivity, value of information and
discovery all take the same list, :func:`sim.spec.scenario.parameter_specs`) are drawn every
replication; one that no engine reads would be calibrated, ranked and boxed as if it mattered.
So, for each shipped scenario, the batch engine runs the same replications on common random
numbers with every uncertain parameter fixed at its 10% quantile (over one block of its draws),
then once for each parameter with that one alone raised to its 90% quantile, and some metric of
``replications`` or of the weekly series must differ from the first run by more than round-off.

The runs are deterministic (fixed seed), so the test cannot fail by chance once it passes; the
number of replications is chosen so that even the least used parameter moves something: NIFS's
completion probability in the baseline (10% and 90% quantiles 0.75 and 0.93) decides the
completion of about a hundred NIFS awards over 64 replications, each moved with chance about 0.18,
so that none moves has a chance of about 0.82^100 < 1e-8.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from sim.engines.parameters import draw_parameters
from sim.experiments import calibrate
from sim.experiments.replicate import replicate
from sim.outputs import draws as draws_table
from sim.rng import PARAMETER_BLOCK
from sim.spec.loader import LoadedScenario, load_scenario, scenario_from_dict
from sim.spec.scenario import Scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SEED = 20251130
REPS = np.arange(64)
#: Relative change that is more than round-off (sums of a few thousand terms move by ~1e-13).
RTOL = 1e-9
SHIPPED = [
    *sorted((ROOT / "scenarios").glob("*.toml")),
    *sorted((ROOT / "scenarios/observed").glob("*.toml")),
]


def _pinned(loaded: LoadedScenario, values: dict[str, float]) -> Scenario:
    """The scenario with each of ``values``' paths a fixed number (the others keep their draws,
    each drawn from a stream of its own path: common random numbers)."""
    source = copy.deepcopy(loaded.source)
    for path, value in values.items():
        *tables, key = path.split(".")
        table = source
        for name in tables:
            table = table[name]
        table[key] = value
    return scenario_from_dict(source, loaded.path)


def _outputs(scenario: Scenario) -> np.ndarray:
    """Every metric of the replications and every weekly value, as one flat array."""
    result = replicate(scenario, SEED, REPS, engine="batch")
    numbers = result.table.select_dtypes("number").to_numpy(dtype=float).ravel()
    weekly = [np.asarray(result.weekly[name], dtype=float).ravel() for name in sorted(result.weekly)]
    return np.concatenate([numbers, *weekly])


def _moved(a: np.ndarray, b: np.ndarray) -> int:
    """How many outputs differ by more than round-off (NaN where the other is not counts)."""
    both = np.isfinite(a) & np.isfinite(b)
    apart = np.abs(a[both] - b[both]) > RTOL * np.maximum(np.abs(a[both]), np.abs(b[both]))
    return int(apart.sum() + (np.isnan(a) != np.isnan(b)).sum())


def _quantiles(scenario: Scenario, path: str) -> tuple[float, float]:
    values = draw_parameters(scenario, SEED, np.arange(PARAMETER_BLOCK))[path]
    return float(np.quantile(values, 0.1, method="lower")), float(np.quantile(values, 0.9, method="higher"))


@pytest.mark.parametrize("file", SHIPPED, ids=lambda p: p.relative_to(ROOT / "scenarios").as_posix())
def test_every_uncertain_parameter_moves_an_output(file: Path) -> None:
    loaded = load_scenario(file)
    paths = draws_table.uncertain_paths(loaded.scenario)
    assert paths == calibrate.uncertain_paths(loaded.scenario), "the tools must list the same parameters"
    bounds = {path: _quantiles(loaded.scenario, path) for path in paths}
    level = [f"{path}: its 10% and 90% quantiles are equal" for path, (lo, hi) in bounds.items() if lo == hi]
    assert not level, level
    low = {path: lo for path, (lo, _) in bounds.items()}
    reference = _outputs(_pinned(loaded, low))
    unread = [
        f"{path} ({lo:g} -> {hi:g})"
        for path, (lo, hi) in bounds.items()
        if not _moved(reference, _outputs(_pinned(loaded, {**low, path: hi})))
    ]
    assert not unread, f"{file.name}: uncertain parameters that move no output: {', '.join(unread)}"
