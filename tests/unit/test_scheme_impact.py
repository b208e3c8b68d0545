"""A scheme's own impact section: required for a direct scheme, refused for an intermediary one
(MODEL.md 6b), and never drawn or listed as uncertain where no engine reads it."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim.engines.parameters import ParameterDraws, UnknownParameter, draw_parameters, scheme_parameters
from sim.experiments import calibrate
from sim.outputs import draws as draws_table
from sim.spec.loader import LoadedScenario, ScenarioError, scenario_from_dict
from sim.spec.scenario import NO_IMPACT, parameter_specs

BETA = {"dist": "beta", "mean": 0.4, "sd": 0.1}


def _changed(loaded: LoadedScenario, change) -> dict:
    source = copy.deepcopy(loaded.source)
    change(source)
    return source


def test_a_direct_scheme_without_an_impact_section_is_refused(baseline) -> None:
    source = _changed(baseline, lambda s: s["schemes"]["manufacturing_plus"].pop("impact"))
    with pytest.raises(ScenarioError, match=r"schemes\.manufacturing_plus\.impact: a direct scheme needs"):
        scenario_from_dict(source, "direct.toml")


def test_an_intermediary_schemes_own_impact_section_is_refused(baseline) -> None:
    impact = baseline.source["schemes"]["manufacturing_plus"]["impact"]
    source = _changed(baseline, lambda s: s["schemes"]["it_accelerator"].update(impact=copy.deepcopy(impact)))
    with pytest.raises(ScenarioError) as refused:
        scenario_from_dict(source, "intermediary.toml")
    assert refused.value.problems == [
        "schemes.it_accelerator.impact: an intermediary scheme has no impact section of its own (its "
        "operators' set-up adds no value added, MODEL.md 6b); value its start-ups in its programme's "
        "impact section ([schemes.<name>.programme.impact]) instead, or leave both out"
    ]


def test_the_baseline_lists_no_parameter_of_the_accelerator_impact(baseline) -> None:
    scenario = baseline.scenario
    assert scenario.schemes["it_accelerator"].impact is None
    listed = [path for path, _, _ in parameter_specs(scenario)]
    assert not [p for p in listed if p.startswith("schemes.it_accelerator.impact.")]
    assert "schemes.manufacturing_plus.impact.deadweight" in draws_table.uncertain_paths(scenario)
    assert draws_table.uncertain_paths(scenario) == calibrate.uncertain_paths(scenario)
    assert "schemes.it_accelerator.impact.deadweight" not in draw_parameters(scenario, 1, np.arange(2))


def test_a_cohort_segments_propensity_is_not_drawn_but_its_eligible_share_is(baseline) -> None:
    """The start-up segment has no applicants (no scheme lists it): only its eligible share, the
    size of the accelerator's start-up pool, is read."""

    def uncertain(s: dict) -> None:
        s["segments"]["startup"].update(propensity=BETA, eligible_share=BETA)

    scenario = scenario_from_dict(_changed(baseline, uncertain), "cohorts.toml")
    paths = draws_table.uncertain_paths(scenario)
    assert "segments.startup.eligible_share" in paths
    assert "segments.startup.propensity" not in paths
    assert "segments.accelerator_operator.propensity" in [p for p, _, _ in parameter_specs(scenario)]


def test_an_intermediary_scheme_carries_the_neutral_impact_terms(baseline) -> None:
    draws = draw_parameters(baseline.scenario, 7, np.arange(3))
    par = scheme_parameters(draws, "it_accelerator")
    np.testing.assert_array_equal(par.deadweight, np.full(3, NO_IMPACT.deadweight))
    np.testing.assert_array_equal(par.no_gain_probability, np.full(3, NO_IMPACT.no_gain_probability))
    np.testing.assert_array_equal(par.discount_rate, np.full(3, NO_IMPACT.discount_rate))


def test_a_direct_scheme_missing_one_impact_draw_still_fails(baseline) -> None:
    draws = draw_parameters(baseline.scenario, 7, np.arange(3))
    path = "schemes.manufacturing_plus.impact.deadweight"
    kept = ParameterDraws({p: draws[p] for p in draws.paths() if p != path}, draws.reps)
    with pytest.raises(UnknownParameter, match=r"impact\.deadweight' was not drawn"):
        scheme_parameters(kept, "manufacturing_plus")
