"""Scenario discovery finds what was planted: a box in synthetic data, and the one parameter of a
sweep that decides the outcome; the CART cross-check agrees."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.discover import DiscoveryError, choose_box, discover

pytest.importorskip("ema_workbench", reason="the discover extra is not installed")

#: The planted box: a > 0.5 and b < 0.4 (mass 0.2); inside it the condition holds with
#: probability 0.9, outside with 0.05. So its true density is 0.9 and its true coverage
#: 0.9 * 0.2 / (0.9 * 0.2 + 0.05 * 0.8) = 0.818.
TRUE_DENSITY = 0.9
TRUE_COVERAGE = 0.18 / 0.22
#: Tolerances. With 2,000 cases the box holds about 400 (400 * 0.9 = 360 hits): the sampling
#: error of a density or coverage is about 0.015-0.02, so 4 standard errors (false alarm about
#: 1e-4 per check) is 0.08, plus PRIM's step: each peel removes 5% of the box (half a step
#: either side, about 0.025 of a limit's range); 0.1 covers both.
TOLERANCE = 0.1
LIMIT_TOLERANCE = 0.05


def planted(seed: int, n: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({name: rng.uniform(0, 1, n) for name in ("a", "b", "c", "d")})
    inside = (x["a"] > 0.5) & (x["b"] < 0.4)
    hit = np.where(inside, rng.uniform(size=n) < 0.9, rng.uniform(size=n) < 0.05)
    return x, hit


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_prim_recovers_a_planted_box(seed: int) -> None:
    x, hit = planted(seed)
    found = discover(x, hit)
    r = found.restrictions.set_index("parameter")
    assert set(r.index) == {"a", "b"}, "only the planted parameters are restricted"
    assert r.loc["a", "restricts_low"]
    assert not r.loc["a", "restricts_high"]
    assert r.loc["b", "restricts_high"]
    assert not r.loc["b", "restricts_low"]
    assert abs(r.loc["a", "low"] - 0.5) < LIMIT_TOLERANCE
    assert abs(r.loc["b", "high"] - 0.4) < LIMIT_TOLERANCE
    assert abs(found.box["density"] - TRUE_DENSITY) < TOLERANCE
    assert abs(found.box["coverage"] - TRUE_COVERAGE) < TOLERANCE
    assert (r["significant"]).all()
    assert found.cart is not None
    assert {"a", "b"} <= set(found.cart.parameters)


def test_a_density_target_chooses_the_widest_box_that_dense() -> None:
    trajectory = pd.DataFrame(
        {
            "box": range(5),
            "coverage": [1.0, 0.95, 0.8, 0.6, 0.3],
            "density": [0.2, 0.4, 0.7, 0.85, 0.95],
            "mass": [1.0, 0.5, 0.25, 0.15, 0.07],
            "restricted": [0, 1, 2, 2, 3],
        }
    )
    assert choose_box(trajectory, 0.8) == 3
    assert choose_box(trajectory, 0.99) == 4  # none that dense: the densest
    assert choose_box(trajectory) == 2  # best harmonic mean: 2 * 0.8 * 0.7 / 1.5 = 0.747


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_a_condition_true_nowhere_or_everywhere_is_refused(share: float) -> None:
    x, _ = planted(1, 100)
    with pytest.raises(DiscoveryError, match="loosen" if share == 0 else "tighten"):
        discover(x, np.full(100, bool(share)))


def test_inputs_that_never_vary_are_refused() -> None:
    x = pd.DataFrame({"a": np.ones(50)})
    with pytest.raises(DiscoveryError, match="no input varies"):
        discover(x, np.arange(50) % 2 == 0)
