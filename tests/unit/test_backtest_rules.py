"""Backtest rules by hand: the split at the cut, what "contains" means for each bound, and the
reported figure's scatter around the simulated one."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from sim.experiments.backtest import BacktestError, contains, reported_draws, split_at
from sim.experiments.observed import ObservationModel
from sim.spec.observations import Observation, ObservedData


def _obs(
    day: date, value: float, bound: str = "exact", tolerance: float = 0.0, quantity: str = "awarded"
) -> Observation:
    return Observation(2, "s", day, 10, quantity, value, bound, tolerance)


def test_split_at_the_cut_inclusive() -> None:
    a, b, c = _obs(date(2021, 7, 15), 16), _obs(date(2024, 7, 31), 43), _obs(date(2025, 7, 30), 66)
    fitted, later = split_at(ObservedData("f.csv", (a, b, c)), date(2024, 7, 31))
    assert fitted.observations == (a, b)
    assert later.observations == (c,)
    with pytest.raises(BacktestError, match="no figure dated after the cut 2025-07-30"):
        split_at(ObservedData("f.csv", (a, b, c)), date(2025, 7, 30))
    with pytest.raises(BacktestError, match="no figure dated on or before"):
        split_at(ObservedData("f.csv", (a, b, c)), date(2020, 1, 1))


def test_contains_by_bound() -> None:
    day = date(2025, 1, 1)
    assert contains(_obs(day, 66), 40, 66)
    assert not contains(_obs(day, 66), 40, 65.9)
    assert contains(_obs(day, 100, "at_least"), 20, 100)  # the forecast does not rule "100 or more" out
    assert not contains(_obs(day, 100, "at_least"), 20, 99)
    assert contains(_obs(day, 100, "approx", 0.1), 109, 150)  # band 90-110 overlaps
    assert not contains(_obs(day, 100, "approx", 0.1), 111, 150)
    assert not contains(_obs(day, 100, "approx", 0.1), 10, 89)


def test_reported_draws_follow_the_observation_model() -> None:
    """Mean and variance of the scatter against the negative binomial's (k = 100, m = 50: variance
    75) and the Poisson's; tolerances are 5 standard errors of 100,000 draws (false alarm < 1e-6)."""
    rng = np.random.default_rng(3)
    day = date(2025, 1, 1)
    m = np.full(100_000, 50.0)
    nb = reported_draws(m, _obs(day, 1), ObservationModel(), rng)
    assert abs(nb.mean() - 50) < 5 * np.sqrt(75 / 1e5)
    assert abs(nb.var() - 75) < 5 * 75 * np.sqrt(2 / 1e5) * 1.2
    poisson = reported_draws(m, _obs(day, 1), ObservationModel(dispersion=np.inf), rng)
    assert abs(poisson.var() - 50) < 5 * 50 * np.sqrt(2 / 1e5) * 1.2
    money = reported_draws(
        np.full(100_000, 1e6), _obs(day, 2e6, quantity="paid_hkd"), ObservationModel(), rng
    )
    assert abs(money.std() - (0.1 * 2e6 + 1e4)) < 5 * 210_000 / np.sqrt(2e5)
