"""Worked examples of rule R-PROGRAMME-IMPACT (the value of an intermediary scheme's start-up
outcomes, MODEL.md 6b), hand-computed, on the function both engines' metrics go through
(:func:`sim.engines.startup_impact.startup_impact`), and on real runs of both engines.

The numbers are chosen so that every step is exact in binary floating point or nearly: a discount
rate of 25% over one year (the follow-up ends at week 52) discounts by exactly 0.8.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.metrics import SchemeMetrics
from sim.engines.parameters import draw_parameters
from sim.engines.startup_impact import StartupImpactTerms, startup_impact, startup_impact_terms
from sim.experiments.replicate import engine_names, replicate
from sim.spec.loader import load_scenario
from tests.conftest import SCENARIOS

VALUED_PATH = SCENARIOS / "accelerator-startup-values.toml"


def impact_terms(deadweight: float = 0.2, rate: float = 0.25, end: float = 52.0) -> StartupImpactTerms:
    """HK$1M per surviving start-up, HK$500k per relocated one, follow-on funding not valued."""
    one = np.ones(2)
    return StartupImpactTerms(
        values={
            "startups_surviving": 1_000_000 * one,
            "startups_relocated": 500_000 * one,
            "startups_follow_on": 0 * one,
        },
        deadweight=deadweight * one,
        discount_rate=rate * one,
        end=end,
    )


def metrics(cost: tuple[float, float] = (3_840_000.0, 7_680_000.0)) -> SchemeMetrics:
    """Two replications: the first's start-ups and costs as in the examples, the second with none."""
    by_end = {"startups_surviving": [10, 0], "startups_relocated": [4, 0], "startups_follow_on": [2, 0]}
    later = {"startups_surviving": [30, 0], "startups_relocated": [12, 0], "startups_follow_on": [5, 0]}
    values = {k: np.array(v, dtype=float) for k, v in by_end.items()}
    values |= {k + "_follow_up": np.array(v, dtype=float) for k, v in later.items()}
    values["public_cost_hkd"] = np.array([cost[0], 0.0])
    values["public_cost_hkd_follow_up"] = np.array([cost[1], 0.0])
    for name in ("pv_benefit_hkd", "benefit_cost_ratio"):
        values[name] = values[name + "_follow_up"] = np.full(2, np.nan)
    return SchemeMetrics(values=values, weekly=None)


def test_benefit_present_value_and_ratio_by_hand() -> None:
    """By the scheme's end: 0.8 x (10 x 1M + 4 x 500k + 2 x 0) = HK$9.6M, discounted by 1.25 ** -1
    to HK$7.68M, over a public cost of HK$3.84M: 2.0. By the end of the follow-up: 0.8 x (30M + 6M)
    = HK$28.8M, HK$23.04M, over HK$7.68M: 3.0. The second replication has no start-ups and no cost:
    benefit 0, no ratio (0 / 0)."""
    v = startup_impact(metrics(), impact_terms()).values
    assert v["startup_benefit_hkd"][0] == pytest.approx(9_600_000, rel=1e-15)
    assert v["pv_benefit_hkd"][0] == pytest.approx(7_680_000, rel=1e-15)
    assert v["benefit_cost_ratio"][0] == pytest.approx(2.0, rel=1e-15)
    assert v["startup_benefit_hkd_follow_up"][0] == pytest.approx(28_800_000, rel=1e-15)
    assert v["pv_benefit_hkd_follow_up"][0] == pytest.approx(23_040_000, rel=1e-15)
    assert v["benefit_cost_ratio_follow_up"][0] == pytest.approx(3.0, rel=1e-15)
    assert v["startup_benefit_hkd"][1] == 0.0
    assert np.isnan(v["benefit_cost_ratio"][1])
    assert np.isnan(v["benefit_cost_ratio_follow_up"][1])


def test_everything_deadweight_is_a_ratio_of_zero_not_an_empty_one() -> None:
    """A section that says every outcome would have happened anyway gives a ratio of exactly 0."""
    v = startup_impact(metrics(), impact_terms(deadweight=1.0)).values
    assert v["benefit_cost_ratio"][0] == 0.0
    assert v["benefit_cost_ratio_follow_up"][0] == 0.0


def test_discounting_over_two_years_at_ten_percent() -> None:
    """End at week 104: 9.6M / 1.1 ** 2 = HK$7,933,884.30; over HK$3.84M: 2.0661."""
    v = startup_impact(metrics(), impact_terms(rate=0.1, end=104.0)).values
    assert v["pv_benefit_hkd"][0] == pytest.approx(9_600_000 / 1.21, rel=1e-14)
    assert v["benefit_cost_ratio"][0] == pytest.approx(9_600_000 / 1.21 / 3_840_000, rel=1e-14)


def test_without_an_impact_section_nothing_is_valued() -> None:
    """No section: the metrics come back unchanged, the ratio empty (NaN), never 0."""
    m = metrics()
    assert startup_impact(m, None) is m
    baseline = load_scenario(SCENARIOS / "baseline.toml").scenario
    draws = draw_parameters(baseline, 1, np.arange(3))
    assert startup_impact_terms(baseline, draws, "it_accelerator") is None
    assert startup_impact_terms(baseline, draws, "manufacturing_plus") is None


@pytest.mark.parametrize("engine", engine_names())
def test_both_engines_value_their_start_ups_by_the_rule(engine) -> None:
    """On both engines' runs of the shipped example, each replication's benefit, present value and
    ratio are the rule applied to its own start-up counts and drawn values."""
    scenario = load_scenario(VALUED_PATH).scenario
    reps = np.arange(4 if engine == "des" else 60)
    table = replicate(scenario, 3, reps, engine).table
    t = table[table["scheme"] == "it_accelerator"].sort_values("replication")
    draws = draw_parameters(scenario, 3, reps)
    path = "schemes.it_accelerator.programme.impact."
    survive, relocate = draws[path + "surviving_value_hkd"], draws[path + "relocated_value_hkd"]
    factor = 1.04 ** -(scenario.end_weeks / 52)
    for suffix in ("", "_follow_up"):
        gross = t["startups_surviving" + suffix] * survive + t["startups_relocated" + suffix] * relocate
        benefit = (1 - draws[path + "deadweight"]) * gross.to_numpy()
        assert np.allclose(t["startup_benefit_hkd" + suffix], benefit, rtol=1e-12, atol=0)
        assert np.allclose(t["pv_benefit_hkd" + suffix], benefit * factor, rtol=1e-12, atol=0)
        ratio = benefit * factor / t["public_cost_hkd" + suffix].to_numpy()
        assert np.allclose(t["benefit_cost_ratio" + suffix], ratio, rtol=1e-12, atol=0)
    assert (t["startups_surviving_follow_up"] > 0).any()
    manufacturing = table[table["scheme"] == "manufacturing_plus"]
    assert manufacturing["startup_benefit_hkd"].isna().all()
