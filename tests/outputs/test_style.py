"""Words and numbers as a reader sees them: HK$ amounts, values, parameter names, sourced defaults."""

from __future__ import annotations

import pytest

from sim.outputs.folders import sourced_defaults
from sim.outputs.style import format_hkd, format_hkd_short, format_value, parameter_label, provenance_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "HK$0"),
        (950, "HK$950"),
        (2_500, "HK$2.5k"),
        (250_000, "HK$250k"),
        (999_999, "HK$1M"),
        (2_500_000, "HK$2.5M"),
        (100_000_000, "HK$100M"),
        (-2_500_000, "-HK$2.5M"),
        (5.2e9, "HK$5.2B"),
        (float("nan"), "-"),
    ],
)
def test_format_hkd(value: float, text: str) -> None:
    assert format_hkd(value) == text


def test_short_hkd_keeps_three_figures() -> None:
    assert [format_hkd_short(v) for v in (452_131, 659_131, 1_507_298, 23_400_000)] == [
        "HK$452k",
        "HK$659k",
        "HK$1.51M",
        "HK$23.4M",
    ]


def test_values_read_in_their_units() -> None:
    assert format_value(0.2, "exhausted") == "20%"
    assert format_value(6.64, "wait_median_weeks") == "6.6 weeks"
    assert format_value(2.449, "benefit_cost_ratio") == "2.45"
    assert format_value(-56.2, "awarded", signed=True) == "-56"
    assert format_value(24_800, "cost_per_additional_hkd", signed=True) == "+HK$24.8k"


def test_parameter_paths_in_words() -> None:
    labels = {"manufacturing_plus": "Manufacturing+"}
    assert parameter_label("schemes.manufacturing_plus.vetting.capacity", labels) == (
        "Manufacturing+: vetting capacity (concurrent reviews)"
    )
    assert (
        parameter_label("schemes.manufacturing_plus.uptake.new_knob", labels)
        == "Manufacturing+: uptake new knob"
    )


def test_provenance_of_runs_comparisons_and_sweeps() -> None:
    run = {
        "scenario": "baseline",
        "scenario_hash": "82d95f6e8cf24e",
        "seed": 1,
        "replications": 1000,
        "engine": "des",
        "date": "2026-11-25",
    }
    assert provenance_text(run) == (
        "scenario baseline · hash 82d95f6e8c · seed 1 · 1,000 replications · des · 2026-11-25"
    )
    pair = {
        "scenario_a": "a",
        "scenario_b": "b",
        "scenario_hash_a": "1" * 64,
        "scenario_hash_b": "2" * 64,
        "seed": 3,
        "replications": 10,
    }
    assert provenance_text(pair).startswith(f"scenario a vs b · hash {'1' * 10} / {'2' * 10} · seed 3")
    sweep = {
        "base_scenario": "baseline",
        "scenario_hash": "ab" * 32,
        "seed": 4,
        "points": 48,
        "replications": 5,
    }
    assert "scenario baseline" in provenance_text(sweep)
    assert "48 points" in provenance_text(sweep)


def test_sourced_defaults_follow_tables_and_overrides() -> None:
    base = """name = "base"  # not a source
[schemes.m]
budget_hkd = 100   # seed article
label = "A # B"    # a '#' inside a string is not a comment
[schemes.m.vetting]
capacity = 40      # assumption
"""
    child = """extends = "base.toml"
[schemes.m.vetting]
capacity = 20
"""
    found = sourced_defaults([child, base])  # the scenario first, then the file it extends
    assert found["schemes.m.budget_hkd"].source == "seed article"
    assert found["schemes.m.label"].value == '"A # B"'
    assert found["schemes.m.label"].source == "a '#' inside a string is not a comment"
    assert found["schemes.m.vetting.capacity"].value == "20"
    assert found["schemes.m.vetting.capacity"].source == ""  # the override has no comment of its own
