"""The condition language of scenario discovery: what it reads, what it refuses, and how it evaluates."""

from __future__ import annotations

import numpy as np
import pytest

from sim.experiments.condition import MAX_LENGTH, ConditionError, parse_condition

OUTPUTS = {
    "exhaustion_week": None,
    "exhausted_by": ("money", "places", "none"),
    "unused_budget_hkd": None,
    "unused_budget_share": None,
    "benefit_cost_ratio": None,
    "awarded": None,
}
TABLE = {
    "exhaustion_week": np.array([70.0, 80.0, np.nan, 60.0]),
    "exhausted_by": np.array(["places", "places", "none", "money"], dtype=object),
    "unused_budget_hkd": np.array([31e6, 1e6, 50e6, 0.0]),
    "unused_budget_share": np.array([0.31, 0.01, 0.5, 0.0]),
    "benefit_cost_ratio": np.array([0.5, 2.0, np.nan, 1.0]),
    "awarded": np.array([1.0, 400.0, 3.0, 300.0]),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("exhaustion week < 78 and exhausted_by == places", [True, False, False, False]),
        ("exhaustion_week < 78 and exhausted_by == 'places'", [True, False, False, False]),
        ("unused budget > 30M", [True, False, True, False]),
        ("unused_budget_hkd >= 1_000k", [True, True, True, False]),
        ("unused budget share > 30%", [True, False, True, False]),
        ("benefit-cost ratio < 1", [True, False, False, False]),
        ('not (awarded >= 300) or exhausted_by = "money"', [True, False, True, True]),
        ("awarded > 2 and awarded < 350 or exhausted_by != none", [True, True, True, True]),
        ("awarded > 2 and (awarded < 350 or exhausted_by != none)", [False, True, True, True]),
        ("300 <= awarded", [False, True, False, True]),
        ("awarded > 1.5e2", [False, True, False, True]),
        ("exhaustion_week != 70", [False, True, False, True]),
    ],
)
def test_conditions_evaluate_as_written(text: str, expected: list[bool]) -> None:
    assert parse_condition(text, OUTPUTS).evaluate(TABLE).tolist() == expected


def test_a_missing_value_makes_a_comparison_false() -> None:
    """The week the places fill does not exist where they never fill: no comparison holds there."""
    for op in ("<", "<=", ">", ">=", "==", "!="):
        assert not parse_condition(f"exhaustion_week {op} 1000", OUTPUTS).evaluate(TABLE)[2]


def test_the_columns_read_are_listed_once_in_order() -> None:
    condition = parse_condition("awarded > 1 and exhausted_by == places or awarded < 9", OUTPUTS)
    assert condition.columns == ("awarded", "exhausted_by")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "unused budgt > 3",
            ["'unused budgt' is not an output", "did you mean 'unused_budget_hkd'", "allowed:"],
        ),
        ("exhausted_by == place", ["'place' is not a value of 'exhausted_by'", "did you mean 'places'"]),
        ("exhausted_by < places", ["only with == or !="]),
        ("exhausted_by == 3", ["compared with a word"]),
        ("awarded == places", ["'places' is not an output"]),
        ("awarded >", ["ends too early"]),
        ("awarded > 1 awarded", ["follows a complete comparison"]),
        ("awarded 3", ["a comparison (< <= > >= == !=) is needed"]),
        ("3 > 2", ["compares no output"]),
        ("awarded > 3 ;", ["cannot read ';'"]),
        ("__import__('os').system('x')", ["cannot read"]),
        ("", ["empty"]),
    ],
)
def test_bad_conditions_are_refused_with_what_is_allowed(text: str, words: list[str]) -> None:
    with pytest.raises(ConditionError) as raised:
        parse_condition(text, OUTPUTS)
    for word in words:
        assert word in str(raised.value)


def test_an_overlong_condition_is_refused_before_parsing() -> None:
    with pytest.raises(ConditionError, match="at most"):
        parse_condition("awarded > 1 and " * (MAX_LENGTH // 10), OUTPUTS)
