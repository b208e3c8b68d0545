"""Property tests over scenario fields: the allowed range is exactly what validation accepts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.spec.loader import ScenarioError, merge, scenario_from_dict

FIELD = "schemes.manufacturing_plus.vetting.withdraw_probability"


def _with(baseline, value):
    return scenario_from_dict(
        merge(
            baseline.source, {"schemes": {"manufacturing_plus": {"vetting": {"withdraw_probability": value}}}}
        ),
        "variant.toml",
    )


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0.0, max_value=1.0))
def test_any_probability_in_range_is_accepted(baseline, value: float) -> None:
    assert _with(baseline, value).schemes["manufacturing_plus"].vetting.withdraw_probability == value


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.floats(max_value=-1e-9, allow_infinity=False), st.floats(min_value=1 + 1e-9, allow_infinity=False)
    )
)
def test_any_probability_out_of_range_is_refused_by_name(baseline, value: float) -> None:
    with pytest.raises(ScenarioError) as info:
        _with(baseline, value)
    assert FIELD in str(info.value)
    assert "between 0 and 1" in str(info.value)


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0.01, max_value=0.99), st.floats(min_value=0.001, max_value=0.6))
def test_beta_is_accepted_exactly_when_its_sd_is_possible(baseline, mean: float, sd: float) -> None:
    table = {"dist": "beta", "mean": mean, "sd": sd}
    if sd**2 < mean * (1 - mean):
        _with(baseline, table)
    else:
        with pytest.raises(ScenarioError, match="sqrt"):
            _with(baseline, table)
