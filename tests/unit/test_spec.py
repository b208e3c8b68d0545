"""Scenario loading: inheritance, immutability, parameter paths and per-replication draws."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest

from sim.engines import rules
from sim.engines.parameters import draw_parameters
from sim.rng import PARAMETER_BLOCK
from sim.spec.distributions import Beta
from sim.spec.loader import load_scenario, merge
from sim.spec.scenario import parameter_specs
from tests.conftest import SCENARIOS


def test_variant_states_only_what_it_changes(baseline) -> None:
    variant = load_scenario(SCENARIOS / "cap-500k-200-places.toml")
    assert variant.name == "cap-500k-200-places"
    mp = variant.scenario.schemes["manufacturing_plus"]
    assert mp.max_grant_hkd == 500_000
    assert mp.places == 200
    assert mp.budget_hkd == baseline.scenario.schemes["manufacturing_plus"].budget_hkd
    assert variant.scenario.segments == baseline.scenario.segments
    assert variant.hash != baseline.hash


def test_merge_replaces_distribution_tables_whole() -> None:
    base = {"a": {"x": {"dist": "lognormal", "median": 1, "sigma": 1}, "y": 1}}
    out = merge(base, {"a": {"x": {"dist": "gamma", "mean": 1, "sd": 1}}})
    assert out == {"a": {"x": {"dist": "gamma", "mean": 1, "sd": 1}, "y": 1}}


def test_scenario_is_immutable(baseline) -> None:
    with pytest.raises(pydantic.ValidationError):
        baseline.scenario.horizon_weeks = 5  # type: ignore[misc]


def test_parameter_paths_name_every_uncertain_parameter(baseline) -> None:
    paths = {path: value for path, value, _ in parameter_specs(baseline.scenario)}
    assert isinstance(paths["schemes.manufacturing_plus.vetting.approval_probability"], Beta)
    assert paths["schemes.manufacturing_plus.max_grant_hkd"] == 250_000
    assert "schemes.manufacturing_plus.upgrade.integrators" not in paths  # unlimited
    assert "schemes.manufacturing_plus.vetting.review_weeks" not in paths  # firm-level


def test_parameter_draws_depend_only_on_the_replication(baseline) -> None:
    path = "segments.manufacturing_sme.propensity"
    reps = np.array([0, 5, PARAMETER_BLOCK + 3])
    together = draw_parameters(baseline.scenario, 1, reps)[path]
    alone = [draw_parameters(baseline.scenario, 1, [r])[path][0] for r in reps]
    np.testing.assert_array_equal(together, alone)
    assert len(set(together)) == 3
    assert (together >= 0).all()
    assert (together <= 1).all()


def test_bass_inverse_inverts_the_cdf() -> None:
    u = np.linspace(0.001, 0.999, 101)
    t = rules.bass_inverse(u, 0.005, 0.05)
    np.testing.assert_allclose(rules.bass_cdf(t, 0.005, 0.05), u, rtol=1e-12)


def test_grant_rule_and_meetings() -> None:
    assert rules.grant(600_000, 250_000, 2) == 200_000
    assert rules.grant(900_000, 250_000, 2) == 250_000
    assert rules.grant(400_000, 250_000, 1) == 200_000
    np.testing.assert_array_equal(rules.next_meeting(np.array([0.5, 8.0, 8.1]), 8), [8.0, 8.0, 16.0])
    np.testing.assert_allclose(rules.would_apply_probability(0.1, 0.25, 1 / 3, 1.0), 0.075)


def test_pv_factor_matches_a_hand_computed_stream() -> None:
    # ramp 2 years, 3 years of benefit at 4%: 0.5/1.04 + 1/1.04^2 + 1/1.04^3
    expected = 0.5 / 1.04 + 1 / 1.04**2 + 1 / 1.04**3
    assert rules.pv_factor(2.0, 3.0, 0.04)[0] == pytest.approx(expected, rel=1e-12)


def test_a_number_for_a_firm_level_quantity_gives_every_firm_that_value(small) -> None:
    from sim.engines.des import simulate_replication
    from sim.spec.loader import scenario_from_dict

    scenario = scenario_from_dict(
        merge(small.source, {"schemes": {"manufacturing_plus": {"vetting": {"review_weeks": 6}}}})
    )
    _, trace = simulate_replication(scenario, 1, 0, trace=True)
    reviewed = trace[(trace["scheme"] == "manufacturing_plus") & trace["review_weeks"].notna()]
    assert len(reviewed) > 0
    assert (reviewed["review_weeks"] == 6.0).all()


def test_pv_factor_of_one_replication_does_not_depend_on_the_others() -> None:
    rng = np.random.default_rng(0)
    ramp, rate = rng.uniform(0.5, 4, 200), rng.uniform(0, 0.1, 200)
    alone = np.array([rules.pv_factor(r, 5, d)[0] for r, d in zip(ramp, rate, strict=True)])
    together = rules.pv_factor(ramp, np.where(np.arange(200) % 2 == 0, 5, 12), rate)
    np.testing.assert_array_equal(together[::2], alone[::2])
