"""The schema of the choice among schemes (R-CHOICE): shared segments, project-cost bounds and
the redirect flag (R-REDIRECT)."""

from __future__ import annotations

import copy

import pytest

from sim.spec.loader import ScenarioError, scenario_from_dict


def _with(baseline, change) -> dict:
    source = copy.deepcopy(baseline.source)
    change(source)
    return source


def test_a_segment_listed_by_two_schemes_is_accepted(baseline) -> None:
    scenario = baseline.scenario
    assert scenario.schemes_of("manufacturing_sme") == ["manufacturing_plus", "nifs"]
    assert scenario.schemes["nifs"].min_project_cost_hkd == 3_000_000
    assert scenario.schemes["manufacturing_plus"].max_project_cost_hkd is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda s: s["schemes"]["nifs"].update(max_project_cost_hkd=1e6),
            "max_project_cost_hkd: must be at least",
        ),
        (lambda s: s["schemes"]["nifs"].update(min_project_cost_hkd=-1), "min_project_cost_hkd"),
        (lambda s: s["schemes"]["nifs"].update(segments=["startup", "startup"]), "'startup' is listed twice"),
        (lambda s: s["schemes"]["nifs"].update(redirect_when_closed="yes"), "redirect_when_closed"),
    ],
)
def test_bad_bounds_and_lists_are_refused_by_name(baseline, change, words) -> None:
    with pytest.raises(ScenarioError, match=words):
        scenario_from_dict(_with(baseline, change), "bounds.toml")


def _both_ways(source: dict) -> None:
    for name in ("nifs", "manufacturing_plus"):
        source["schemes"][name]["redirect_when_closed"] = True


def test_redirects_both_ways_are_accepted(baseline) -> None:
    """R-REDIRECT: schemes may send firms to each other (each firm applies to each scheme once)."""
    scenario = scenario_from_dict(_with(baseline, _both_ways), "both-ways.toml")
    assert scenario.schemes["nifs"].redirect_when_closed
    assert scenario.schemes["manufacturing_plus"].redirect_when_closed
    assert not baseline.scenario.schemes["nifs"].redirect_when_closed  # baseline: false
