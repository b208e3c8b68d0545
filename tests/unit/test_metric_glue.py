"""The numpy steps around the compiled metric sums give the numbers of their plain forms."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines import metrics
from sim.engines.rules import pv_factor


@pytest.mark.parametrize(("ramp", "years", "rate"), [(2.0, 5.0, 0.04), (1.0, 1.0, 0.0), (3.5, 12.0, 0.1)])
def test_the_present_value_of_shared_terms_is_worked_out_once_to_the_same_bits(ramp, years, rate) -> None:
    n = 37
    terms = (np.full(n, ramp), np.full(n, years), np.full(n, rate))
    got = metrics._pv_factor(*terms)
    assert got.shape == (n,)
    assert np.asarray(got).tobytes() == pv_factor(*terms).tobytes()


def test_the_present_value_of_uncertain_terms_is_worked_out_per_replication() -> None:
    rng = np.random.default_rng(3)
    terms = (rng.uniform(1, 4, 50), np.rint(rng.uniform(1, 10, 50)), rng.uniform(0, 0.1, 50))
    np.testing.assert_array_equal(metrics._pv_factor(*terms), pv_factor(*terms))
    assert len(np.unique(metrics._pv_factor(*terms))) > 1


def test_a_ratio_is_nan_where_its_denominator_is_not_positive() -> None:
    num = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    den = np.array([4.0, 0.0, -1.0, np.nan, 2.0])
    got = metrics._ratio(num, den)
    assert got[0] == 0.25
    assert np.isnan(got[1:]).all()
