"""The pieces of importance sampling, on hand-made weights: normalisation, Kish's effective sample
size, systematic resampling and weighted quantiles, each against what it must give exactly."""

from __future__ import annotations

import numpy as np
import pytest

from sim.experiments.calibrate import (
    CalibrationError,
    effective_sample_size,
    importance_weights,
    systematic_resample,
    weighted_quantiles,
)


def test_weights_are_normalised_exponentials_of_the_log_likelihood() -> None:
    log_lik = np.array([-1000.0, -1001.0, -1003.0, -np.inf])
    weights = importance_weights(log_lik)
    direct = np.exp([0.0, -1.0, -3.0, -np.inf])
    np.testing.assert_allclose(weights, direct / direct.sum(), rtol=1e-12)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert weights[3] == 0.0


def test_no_compatible_replication_is_an_error() -> None:
    with pytest.raises(CalibrationError, match="no replication is compatible"):
        importance_weights(np.full(5, -np.inf))


def test_kish_ess_is_n_for_equal_weights_and_1_for_one() -> None:
    assert effective_sample_size(np.full(400, 1 / 400)) == pytest.approx(400.0)
    assert effective_sample_size(np.array([0.0, 1.0, 0.0])) == pytest.approx(1.0)
    assert effective_sample_size(np.array([0.5, 0.25, 0.25])) == pytest.approx(1 / (0.25 + 0.0625 + 0.0625))


def test_equal_weights_resample_every_replication_once() -> None:
    for seed in range(20):
        picked = systematic_resample(np.full(1000, 1 / 1000), 1000, np.random.default_rng(seed))
        np.testing.assert_array_equal(picked, np.arange(1000))


def test_systematic_resampling_takes_floor_or_ceil_of_the_expected_count() -> None:
    weights = np.random.default_rng(3).dirichlet(np.ones(50))
    draws = 977
    picked = systematic_resample(weights, draws, np.random.default_rng(4))
    counts = np.bincount(picked, minlength=len(weights))
    expected = draws * weights
    assert counts.sum() == draws
    assert np.all(counts >= np.floor(expected) - 1e-9)
    assert np.all(counts <= np.ceil(expected) + 1e-9)


def test_zero_weight_replications_are_never_picked() -> None:
    weights = np.array([0.0, 0.5, 0.0, 0.5, 0.0])
    picked = systematic_resample(weights, 100, np.random.default_rng(1))
    assert set(picked.tolist()) == {1, 3}


def test_weighted_quantiles_by_hand() -> None:
    values = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0], [4.0, 40.0]])
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    # column 0 sorted 1,2,3,4 (cumulative 0.1,0.3,0.6,1.0); column 1 sorted 10,20,30,40 with weights
    # 0.1,0.3,0.2,0.4 (cumulative 0.1,0.4,0.6,1.0)
    got = weighted_quantiles(values, weights, (0.05, 0.3, 0.5, 0.95))
    np.testing.assert_array_equal(got, [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
