"""Distributions: parsing with clear errors, and samples that match their parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.spec.distributions import DistributionError, parse_distribution

N = 200_000
# two-sided z for a 0.1% false alarm per check
Z = stats.norm.ppf(1 - 0.001 / 2)

CASES = {
    "fixed": ({"dist": "fixed", "value": 3.0}, 3.0, 0.0),
    "uniform": ({"dist": "uniform", "low": 1, "high": 5}, 3.0, 4 / math.sqrt(12)),
    "triangular": (
        {"dist": "triangular", "low": 0, "mode": 0.05, "high": 0.2},
        0.25 / 3,
        math.sqrt((0 + 0.05**2 + 0.2**2 - 0 - 0 - 0.05 * 0.2) / 18),
    ),
    "normal": ({"dist": "normal", "mean": 2, "sd": 0.5}, 2.0, 0.5),
    "lognormal-median": (
        {"dist": "lognormal", "median": 6, "sigma": 0.5},
        6 * math.exp(0.125),
        6 * math.exp(0.125) * math.sqrt(math.exp(0.25) - 1),
    ),
    "lognormal-mean": ({"dist": "lognormal", "mean": 10, "sd": 4}, 10.0, 4.0),
    "beta-mean": ({"dist": "beta", "mean": 0.85, "sd": 0.05}, 0.85, 0.05),
    "beta-ab": ({"dist": "beta", "a": 2, "b": 6}, 0.25, math.sqrt(2 * 6 / (64 * 9))),
    "gamma": ({"dist": "gamma", "mean": 3, "sd": 1.5}, 3.0, 1.5),
    "poisson": ({"dist": "poisson", "mean": 4}, 4.0, 2.0),
    "empirical": (
        {"dist": "empirical", "values": [1, 2, 4], "weights": [1, 1, 2]},
        2.75,
        math.sqrt((1 + 4 + 32) / 4 - 2.75**2),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_mean_and_sd_match_parameters(name: str) -> None:
    """Sample mean within Z standard errors of the stated mean; sd within 2%."""
    table, mean, sd = CASES[name]
    dist = parse_distribution(table)
    x = dist.sample(np.random.default_rng(12345), N)
    assert dist.mean() == pytest.approx(mean, rel=1e-9)
    if sd == 0:
        assert np.all(x == mean)
        return
    assert abs(x.mean() - mean) < Z * sd / math.sqrt(N)
    # sd of the sample sd is about sd * sqrt((kurtosis - 1) / (4N)); 2% is > 5 of those here
    assert x.std() == pytest.approx(sd, rel=0.02)
    lo, hi = dist.support()
    assert x.min() >= lo
    assert x.max() <= hi


def test_truncated_normal_stays_in_bounds_and_has_the_truncated_mean() -> None:
    dist = parse_distribution({"dist": "normal", "mean": 0.9, "sd": 0.1, "low": 0, "high": 1})
    x = dist.sample(np.random.default_rng(1), N)
    assert x.min() >= 0
    assert x.max() <= 1
    ref = stats.truncnorm((0 - 0.9) / 0.1, (1 - 0.9) / 0.1, loc=0.9, scale=0.1)
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-9)
    assert abs(x.mean() - ref.mean()) < Z * ref.std() / math.sqrt(N)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"dist": "beta", "mean": 0.85, "sd": 0.5}, "needs 0 < sd <"),
        ({"dist": "beta", "mean": 1.2, "sd": 0.1}, "0 < mean < 1"),
        ({"dist": "normal", "mean": 1, "sd": -1}, "sd > 0"),
        ({"dist": "lognormal", "median": 6}, "missing parameter sigma"),
        ({"dist": "lognormal", "median": 6, "sigma": 1, "mean": 2}, "missing"),
        ({"dist": "uniform", "low": 3, "high": 1}, "low <= high"),
        ({"dist": "triangular", "low": 0, "mode": 2, "high": 1}, "low <= mode <= high"),
        ({"dist": "gama", "mean": 1, "sd": 1}, "did you mean 'gamma'"),
        ({"dist": "beta", "mean": 0.5, "sigma": 0.1}, "no parameter 'sigma'"),
        ({"mean": 1}, "needs a 'dist' key"),
        ({"dist": "empirical", "values": [1, 2], "weights": [1]}, "as many weights as values"),
        ({"dist": "poisson", "mean": "four"}, "must be a number"),
    ],
)
def test_invalid_tables_say_what_is_allowed(table: dict, words: str) -> None:
    with pytest.raises(DistributionError, match=None) as info:
        parse_distribution(table)
    assert words in str(info.value)


# tables whose arithmetic over- or underflows: refused with a message, never an ArithmeticError
EXTREME_TABLES = {
    "beta-sd-underflows": ({"dist": "beta", "mean": 0.5, "sd": 1e-200}, "sd >= 1e-06"),
    "lognormal-sd-overflows": ({"dist": "lognormal", "mean": 5, "sd": 1e200}, "sd <= 1e+15"),
    "lognormal-ratio-overflows": ({"dist": "lognormal", "mean": 1e-300, "sd": 1e15}, "representable"),
    "lognormal-sigma-huge": ({"dist": "lognormal", "median": 1, "sigma": 1e200}, "sigma <= 10"),
    "gamma-sd-underflows": ({"dist": "gamma", "mean": 5, "sd": 1e-300}, "mean/sd between"),
    "poisson-huge": ({"dist": "poisson", "mean": 1e300}, "mean <= 1e+15"),
    "empirical-weights-overflow": (
        {"dist": "empirical", "values": [1, 2], "weights": [1e308, 1e308]},
        "finite number",
    ),
    "huge-integer": ({"dist": "fixed", "value": 10**400}, "at most 1e+15 in size"),
    "unhashable-name": ({"dist": ["beta"]}, "unknown distribution"),
}


@pytest.mark.parametrize("case", sorted(EXTREME_TABLES))
def test_extreme_parameters_are_refused_not_raised(case: str) -> None:
    table, words = EXTREME_TABLES[case]
    with pytest.raises(DistributionError) as problem:
        parse_distribution(table)
    assert words in str(problem.value)


def test_the_mean_at_the_parameter_limits_is_finite_and_computed_without_overflow() -> None:
    lognormal = parse_distribution({"dist": "lognormal", "median": 1e15, "sigma": 10})
    assert lognormal.mean() == pytest.approx(1e15 * math.exp(50), rel=1e-12)
