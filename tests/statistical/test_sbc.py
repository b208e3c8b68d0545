"""Simulation-based calibration (tests/sbc.py): over 100 truths drawn from the prior, the posterior
50% and 90% intervals of each uncertain parameter, and of the forecast of a later quantity, cover the
truth at their nominal rates (two-sided binomial tests, family-wise false-alarm rate 1%)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.sbc import FAMILY_ALPHA, run_sbc


@pytest.mark.slow
def test_intervals_cover_the_truth_at_their_nominal_rates() -> None:
    result = run_sbc(truths=100, bank=2000, seed=1)
    checks = result.checks()
    assert len(checks) == 10
    assert result.alpha == pytest.approx(FAMILY_ALPHA / 10)
    assert np.median(result.ess) > 50  # the calibrations rest on more than a handful of replications
    failed = [(name, level, covered) for name, level, covered, p in checks if p < result.alpha]
    assert not failed, failed


@pytest.mark.slow
def test_a_misreported_series_is_caught() -> None:
    """The control: figures reported 30% above the truth's (a data model the calibration does not
    assume) push the posteriors off the truths, and the same tests find coverage too low."""
    result = run_sbc(truths=100, bank=500, seed=3, bias=1.3)
    failed = [
        name for name, level, covered, p in result.checks() if p < result.alpha and covered < level * 100
    ]
    assert failed
