"""Property tests over every per-replication parameter: its declared range is exactly what
validation accepts, and a refusal names the field and that range."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.spec.fields import ParamSpec
from sim.spec.loader import LoadedScenario, ScenarioError, load_scenario, merge, scenario_from_dict
from sim.spec.scenario import parameter_specs
from tests.conftest import DATA

SMALL = load_scenario(DATA / "small.toml")
#: (dotted path, range) of every per-replication parameter of the small scenario.
FIELDS = [(path, spec) for path, _, spec in parameter_specs(SMALL.scenario)]


#: Fields valid only with others beside them (MODEL.md 3c): a burst's share needs its length, and a
#: deadline rush a closing date. Set with the field, so that its own range is what is tested.
COMPANIONS: dict[str, dict[str, Any]] = {
    "uptake.launch_share": {"uptake.launch_weeks": 1.0, "uptake.rush_share": 0.0},  # shares at most 1
    "uptake.rush_share": {
        "uptake.rush_weeks": 1.0,
        "closes_week": SMALL.scenario.horizon_weeks,
        "uptake.launch_share": 0.0,  # the two shares add up to at most 1
    },
    # a burst's length is bounded by its window only while the burst has a share
    "uptake.launch_weeks": {"uptake.launch_share": 0.0},
    "uptake.rush_weeks": {"uptake.rush_share": 0.0},
}


def _with(base: LoadedScenario, dotted: str, value: Any) -> None:
    scheme = dotted.rsplit(".uptake.", 1)[0]
    others = [
        (f"{scheme}.{path}", item)
        for field, companions in COMPANIONS.items()
        if dotted.endswith("." + field)
        for path, item in companions.items()
    ]
    change: dict[str, Any] = {}
    for path, item in [*others, (dotted, value)]:
        node = change
        *head, last = path.split(".")
        for part in head:
            node = node.setdefault(part, {})
        node[last] = item
    scenario_from_dict(merge(base.source, change), "variant.toml")


def _inside(spec: ParamSpec, unit: float) -> float:
    """A number inside ``spec``'s range, at ``unit`` of the way from its low to its high end."""
    value = spec.lo + unit * (spec.hi - spec.lo)
    if spec.integer:
        value = float(min(max(math.ceil(value), spec.lo), spec.hi))
    return max(value, math.nextafter(spec.lo, math.inf)) if spec.open_lo else value


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(FIELDS), st.floats(min_value=0.0, max_value=1.0))
def test_any_number_in_a_fields_range_is_accepted(field: tuple[str, ParamSpec], unit: float) -> None:
    dotted, spec = field
    _with(SMALL, dotted, _inside(spec, unit))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(FIELDS),
    st.one_of(st.floats(min_value=1e-9, max_value=1e300), st.sampled_from([math.inf, math.nan, True, False])),
    st.booleans(),
)
def test_any_number_outside_a_fields_range_is_refused_with_the_range(
    field: tuple[str, ParamSpec], beyond: Any, below: bool
) -> None:
    dotted, spec = field
    if isinstance(beyond, bool) or not math.isfinite(beyond):
        value = beyond
    else:
        value = spec.lo - beyond * max(1.0, abs(spec.lo)) if below else spec.hi + beyond * max(1.0, spec.hi)
        if value == spec.hi or value == spec.lo:
            return  # too small a step to leave the range at this magnitude
    with pytest.raises(ScenarioError) as problem:
        _with(SMALL, dotted, value)
    message = str(problem.value)
    assert dotted in message, message
    assert spec.allowed() in message, message
