"""Fuzz: conditions built from the language's pieces (and stray characters) are read or refused,
never crash, and a condition that is read evaluates to one truth value per case.

Each case joins 1 to 12 tokens drawn from outputs (with spaces, dashes, case changes), words,
numbers with suffixes, operators, keywords, parentheses, quotes and junk. :func:`parse_condition`
must return a :class:`Condition` or raise :class:`ConditionError`; any other exception fails.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.experiments.condition import Condition, ConditionError, parse_condition

OUTPUTS = {
    "exhaustion_week": None,
    "exhausted_by": ("money", "places", "none"),
    "unused_budget_hkd": None,
    "awarded": None,
}
TABLE = {
    "exhaustion_week": np.array([70.0, np.nan, 90.0]),
    "exhausted_by": np.array(["places", "none", "money"], dtype=object),
    "unused_budget_hkd": np.array([1e6, 5e7, 0.0]),
    "awarded": np.array([10.0, 400.0, 3.0]),
}
PIECES = [
    "exhaustion_week",
    "exhaustion week",
    "Exhaustion-Week",
    "unused budget",
    "awarded",
    "exhausted_by",
    "places",
    "money",
    "none",
    "'places'",
    '"none"',
    "'",
    '"',
    "30M",
    "1_000k",
    "2bn",
    "5%",
    "0.5",
    "1e3",
    "-3",
    ".5",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "=",
    "and",
    "or",
    "not",
    "AND",
    "(",
    ")",
    "((",
    ";",
    "$",
    "__import__",
    "os.system",
    "\\",
    "\n",
    "\t",
    "é",
    "1e999",
    "nan",
    "inf",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12), st.sampled_from([" ", ""]))
def test_a_condition_is_read_or_refused_never_crashes(pieces: list[str], joiner: str) -> None:
    text = joiner.join(pieces)
    try:
        condition = parse_condition(text, OUTPUTS)
    except ConditionError as problem:
        message = str(problem)
        assert message, "a refusal says why"  # noqa: PT017
        return
    assert isinstance(condition, Condition)
    holds = condition.evaluate(TABLE)
    assert holds.dtype == bool
    assert holds.shape == (3,)
