"""Field limits: every field has a finite range, booleans are not numbers, each failure class
of issue 10 is refused by field and range, and a scenario at the limits runs."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sim.experiments.runner import run_scenario
from sim.spec.fields import Limit
from sim.spec.loader import LoadedScenario, ScenarioError, merge, scenario_from_dict
from sim.spec.scenario import Scenario, field_limits, parameter_specs

MP = "schemes.manufacturing_plus"


def _with(base: LoadedScenario, dotted: str, value: Any) -> Scenario:
    change: dict[str, Any] = {}
    node = change
    *head, last = dotted.split(".")
    for part in head:
        node = node.setdefault(part, {})
    node[last] = value
    return scenario_from_dict(merge(base.source, change), "variant.toml")


def _refused(base: LoadedScenario, dotted: str, value: Any, *words: str) -> str:
    with pytest.raises(ScenarioError) as problem:
        _with(base, dotted, value)
    message = str(problem.value)
    assert message.startswith("variant.toml: "), message
    assert dotted in message, message
    for word in words:
        assert word in message, message
    return message


def test_every_limited_number_has_a_finite_range(small: LoadedScenario) -> None:
    for path, _, spec in parameter_specs(small.scenario):
        assert math.isfinite(spec.lo), path
        assert math.isfinite(spec.hi), path
    numbers = [m for info in Scenario.model_fields.values() for m in info.metadata if isinstance(m, Limit)]
    assert numbers, "horizon_weeks carries a Limit"
    assert all(math.isfinite(m.lo) and math.isfinite(m.hi) for m in numbers)


def test_the_limits_table_names_every_field_once() -> None:
    table = dict(field_limits())
    assert table["segments.*.count"] == "between 1 and 10_000_000 (a whole number)"
    assert table["schemes.*.impact.benefit_years"].startswith("between 1 and 100 (a whole number)")
    assert table["start_date"] == "a date between 1900-01-01 and 2200-12-31"
    # optional sections are listed too: an intermediary's programme and its start-up impact
    assert table["schemes.*.programme.tranches"] == "between 1 and 1_000 (a whole number)"
    assert table["schemes.*.programme.impact.deadweight"] == "between 0 and 1 (or a distribution)"
    paths = [path for path, _ in field_limits()]
    assert len(paths) == len(set(paths))


# dotted field -> a boolean there is refused with these words
BOOLEANS = {
    "segments.manufacturing_sme.count": "between 1 and 10_000_000",
    "segments.manufacturing_sme.eligible_share": "between 0 and 1",
    "segments.manufacturing_sme.bands.micro.share": "between 0 and 1",
    "horizon_weeks": "between 1 and 2_600",
    f"{MP}.places": "a whole number",
    f"{MP}.vetting.capacity": "between 1 and 100_000",
    f"{MP}.allocation.meeting_interval_weeks": "between 0.1 and 2_600",
    f"{MP}.vetting.review_weeks": "a distribution table",
}


@pytest.mark.parametrize("dotted", sorted(BOOLEANS))
def test_a_boolean_is_not_a_number(small: LoadedScenario, dotted: str) -> None:
    _refused(small, dotted, True, BOOLEANS[dotted], "True")


def test_a_boolean_is_not_a_distribution_parameter(small: LoadedScenario) -> None:
    _refused(small, f"{MP}.uptake.bass_q", {"dist": "uniform", "low": False, "high": 1}, "must be a number")


# issue 10's "validates, then run crashes or never ends": (field, value, words of the refusal)
FAILURES: dict[str, tuple[str, Any, str]] = {
    "capacity-1e19": (f"{MP}.vetting.capacity", 1e19, "between 1 and 100_000"),
    "poisson-1e300": (
        f"{MP}.vetting.capacity",
        {"dist": "poisson", "mean": 1e300},
        "poisson needs 0 <= mean",
    ),
    "poisson-above-range": (f"{MP}.places", {"dist": "poisson", "mean": 1e9}, "has mean 1e+09"),
    "empirical-weights-overflow": (
        f"{MP}.budget_hkd",
        {"dist": "empirical", "values": [1, 2], "weights": [1e308, 1e308]},
        "finite",
    ),
    "uniform-to-inf": (f"{MP}.budget_hkd", {"dist": "uniform", "low": 0, "high": math.inf}, "between 0 and"),
    "benefit-years-1e9": (f"{MP}.impact.benefit_years", 10**9, "between 1 and 100"),
    "rounds-every-1e-6": (f"{MP}.allocation.meeting_interval_weeks", 1e-6, "between 0.1 and 2_600"),
    "count-true": ("segments.manufacturing_sme.count", True, "must be a number"),
    "count-huge": ("segments.manufacturing_sme.count", 10**30, "between 1 and 10_000_000"),
    "name-300": ("name", "n" * 300, "1 to 60 characters"),
    "beta-sd-1e-200": (
        f"{MP}.vetting.approval_probability",
        {"dist": "beta", "mean": 0.5, "sd": 1e-200},
        "sd >= 1e-06",
    ),
    "lognormal-sd-1e200": (
        f"{MP}.vetting.review_weeks",
        {"dist": "lognormal", "mean": 5, "sd": 1e200},
        "lognormal",
    ),
    "lognormal-mean-too-big": (
        f"{MP}.vetting.review_weeks",
        {"dist": "lognormal", "median": 1e6, "sigma": 1},
        "between 0 and 2_600",
    ),
    "gamma-sd-tiny": (f"{MP}.vetting.review_weeks", {"dist": "gamma", "mean": 5, "sd": 1e-300}, "mean/sd"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_each_failure_class_is_refused_by_field_and_range(small: LoadedScenario, case: str) -> None:
    dotted, value, words = FAILURES[case]
    _refused(small, dotted, value, words)


def test_a_start_date_past_2200_is_refused(small: LoadedScenario) -> None:
    from datetime import date

    _refused(small, "start_date", date(9999, 12, 1), "between 1900-01-01 and 2200-12-31", "9999-12-01")


def test_a_scenario_at_the_limits_runs(small: LoadedScenario) -> None:
    """The largest horizon, latest start, most benefit years, most reviewers and the most frequent
    committee rounds, on the small scenario: two replications on the batch engine."""
    from datetime import date

    at_limits = {
        "name": "n" * 60,
        "start_date": date(2200, 12, 31),
        "horizon_weeks": 2600,
        "schemes": {
            "manufacturing_plus": {
                "budget_hkd": {"dist": "uniform", "low": 0, "high": 1e13},
                "allocation": {"rule": "rounds", "meeting_interval_weeks": 0.1},
                "vetting": {"capacity": 100_000},
                "impact": {"benefit_years": 100},
            }
        },
    }
    source = merge(small.source, at_limits)
    loaded = LoadedScenario(scenario_from_dict(source), source, "limits.toml", {})
    result = run_scenario(loaded, 2, seed=1, engine="batch", workers=1)
    assert set(result.table["replication"]) == {0, 1}
    assert (result.table["applications"] >= result.table["awarded"]).all()
    direct = result.table[result.table["scheme"] == "manufacturing_plus"]  # no benefit for operators
    assert direct["pv_benefit_hkd"].map(math.isfinite).all()
