"""Dated changes in a scenario (MODEL.md 5, R-CHANGE): what is accepted, what is refused and how."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from sim.engines.timeline import (
    PolicyChange,
    added_assessors,
    cap_in_force,
    change_table,
    policy_changes,
    top_up,
)
from sim.experiments.designs import point_source
from sim.spec.loader import LoadedScenario, ScenarioError, scenario_from_dict


def _with_changes(base: LoadedScenario, changes: list[dict[str, Any]]) -> Any:
    source = copy.deepcopy(base.source)
    name = next(iter(source["schemes"]))
    source["schemes"][name]["changes"] = changes
    return scenario_from_dict(source, "variant.toml"), name


def _refused(base: LoadedScenario, changes: list[dict[str, Any]], *words: str) -> str:
    with pytest.raises(ScenarioError) as problem:
        _with_changes(base, changes)
    message = str(problem.value)
    assert message.startswith("variant.toml: "), message
    for word in words:
        assert word in message, message
    return message


def test_changes_are_read_in_week_order_with_their_amounts(small: LoadedScenario) -> None:
    scenario, name = _with_changes(
        small,
        [
            {"week": 10, "budget_hkd": 5e6, "places": 20},
            {"week": 30.5, "closes": True, "max_grant_hkd": 1e5},
            {"week": 40, "assessors": 3},
        ],
    )
    changes = policy_changes(scenario.schemes[name])
    first = changes[0]
    assert (first.week, first.budget_hkd, first.places, first.closes) == (10.0, 5e6, 20.0, False)
    assert np.isnan(first.max_grant_hkd)  # no new cap
    assert changes[1] == PolicyChange(30.5, 0.0, 0.0, True, 1e5)
    assert changes[2] == PolicyChange(40.0, assessors=3)
    assert first.assessors == 0
    np.testing.assert_array_equal(
        change_table(changes),
        [[10.0, 5e6, 20.0, np.nan, 0.0, 0.0], [30.5, 0.0, 0.0, 1e5, 1.0, 0.0], [40.0, 0, 0, np.nan, 0, 3.0]],
    )
    assert added_assessors(changes) == 3
    assert cap_in_force(changes, 30.0) != cap_in_force(changes, 30.0)  # NaN: no cap set yet
    assert cap_in_force(changes, 30.5) == 1e5
    assert top_up(scenario.schemes[name]) == (5e6, 20.0)


def test_no_changes_is_the_default_and_an_empty_table(small: LoadedScenario) -> None:
    scheme = next(iter(small.scenario.schemes.values()))
    assert policy_changes(scheme) == ()
    assert change_table(()).shape == (0, 6)
    assert added_assessors(()) == 0


def test_changes_out_of_order_are_refused_naming_the_entry(small: LoadedScenario) -> None:
    _refused(
        small,
        [{"week": 20, "places": 1}, {"week": 10, "places": 1}],
        "changes.1.week",
        "increasing week order",
    )
    _refused(small, [{"week": 20, "places": 1}, {"week": 20, "budget_hkd": 1}], "changes.1.week", "one entry")


def test_a_change_after_the_horizon_is_refused(small: LoadedScenario) -> None:
    horizon = small.scenario.horizon_weeks
    _refused(small, [{"week": horizon + 1, "places": 1}], "changes.0.week", "at most the horizon")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"week": 5, "budget_hkd": -1}, ("changes.0.budget_hkd", "between 0")),
        ({"week": 5, "places": 2.5}, ("changes.0.places", "whole number")),
        ({"week": 0, "places": 1}, ("changes.0.week", "above 0")),
        (
            {"week": 5},
            ("changes.0", "at least one of budget_hkd, places, max_grant_hkd, closes or assessors"),
        ),
        ({"week": 5, "assessors": -1}, ("changes.0.assessors", "between 0")),
        ({"week": 5, "assessors": 1.5}, ("changes.0.assessors", "whole number")),
        ({"week": 5, "assessors": "two"}, ("changes.0.assessors", "must be a number")),
        ({"week": 5, "assesors": 2}, ("changes.0.assesors", "did you mean 'assessors'")),
        (
            {"week": 5, "bugdet_hkd": 1},
            (
                "changes.0.bugdet_hkd",
                "did you mean 'budget_hkd'",
                "allowed here: assessors, budget_hkd, closes, max_grant_hkd, places, week",
            ),
        ),
    ],
)
def test_a_bad_change_is_refused_naming_its_field(small: LoadedScenario, change, words) -> None:
    _refused(small, [change], *words)


def test_a_zero_top_up_is_accepted(small: LoadedScenario) -> None:
    scenario, name = _with_changes(small, [{"week": 5, "budget_hkd": 0}])
    assert top_up(scenario.schemes[name]) == (0.0, 0.0)


def test_more_assessors_alone_is_a_change_that_adds_no_money_or_places(small: LoadedScenario) -> None:
    scenario, name = _with_changes(small, [{"week": 5, "assessors": 2}, {"week": 9, "assessors": 0}])
    assert top_up(scenario.schemes[name]) == (0.0, 0.0)
    assert [c.assessors for c in policy_changes(scenario.schemes[name])] == [2, 0]
    # every change is a row of the kernel's table, so the batch engine takes its event path for it
    assert change_table(policy_changes(scenario.schemes[name])).shape == (2, 6)


def test_a_sweep_path_may_name_an_entry_of_the_changes(small: LoadedScenario) -> None:
    source = copy.deepcopy(small.source)
    name = next(iter(source["schemes"]))
    source["schemes"][name]["changes"] = [{"week": 10, "places": 5}, {"week": 20, "closes": True}]
    point = point_source(
        source, {f"schemes.{name}.changes.0.week": 15.0, f"schemes.{name}.changes.1.week": 30.0}
    )
    assert point["schemes"][name]["changes"] == [{"week": 15, "places": 5}, {"week": 30, "closes": True}]
    assert source["schemes"][name]["changes"][0]["week"] == 10  # the base is not changed
