"""Scenario discovery in plain words: the chosen box as a sentence, its restrictions as a table.

"'exhaustion_week < 78 and exhausted_by == places' holds in 81% of the futures
where Manufacturing SMEs: propensity to apply is above 0.13 and Manufacturing+:
vetting capacity is at least 35; these futures are 74% of all where it holds
(it holds in 23% of all 1,000 futures)."
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.experiments.discover import Discovery
from sim.experiments.discover_cart import CartLeaf
from sim.outputs.labels import parameter_label
from sim.outputs.numbers import format_hkd_short, format_number, format_share

__all__ = [
    "bounds_words",
    "box_sentence",
    "cart_sentence",
    "format_parameter",
    "range_words",
    "restrictions_table",
]


def format_qp(value: float) -> str:
    """A quasi-p-value as read aloud: '< 0.001', '0.032', or '-' for a side left free."""
    if not np.isfinite(value):
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def format_parameter(value: float, path: str) -> str:
    """A parameter's value as read aloud: HK$ for amounts, else three significant figures."""
    if path.endswith("_hkd"):
        return format_hkd_short(value)
    return format_number(value, 3)


def range_words(path: str, low: float, high: float, labels: Mapping[str, str]) -> str:
    """'propensity to apply is at least 0.13', '... is between 35 and 60', '... is at most 0.4'."""
    return f"{parameter_label(path, labels)} is {bounds_words(path, low, high)}"


def bounds_words(path: str, low: float, high: float) -> str:
    """'at least 0.13', 'between 35 and 60', 'at most 0.4' (an infinite side is free)."""
    has_low, has_high = np.isfinite(low), np.isfinite(high)
    if has_low and has_high:
        return f"between {format_parameter(low, path)} and {format_parameter(high, path)}"
    if has_low:
        return f"at least {format_parameter(low, path)}"
    return f"at most {format_parameter(high, path)}"


def _box_ranges(restrictions: pd.DataFrame, labels: Mapping[str, str] | None = None) -> list[str]:
    """Each restriction in words, with the parameter's name (``labels`` given) or without."""
    out = []
    for _, row in restrictions.iterrows():
        low = row["low"] if row["restricts_low"] else -np.inf
        high = row["high"] if row["restricts_high"] else np.inf
        path = row["parameter"]
        out.append(bounds_words(path, low, high) if labels is None else range_words(path, low, high, labels))
    return out


def box_sentence(
    found: Discovery, condition: str, unit: str, labels: Mapping[str, str], words: str | None = None
) -> str:
    """The chosen box in one sentence (see the module's text). ``words``: the condition in words
    ("The places fill before month 18"), said instead of quoting it."""
    ranges = _box_ranges(found.restrictions, labels)
    box = found.box
    where = " and ".join(ranges) if ranges else "any inputs"
    subject = words.strip().rstrip(".") if words else f"'{condition}' holds"
    verb = "happens" if words else "holds"
    return (
        f"{subject} in {format_share(box['density'])} of the {unit} where {where}; "
        f"these {unit} are {format_share(box['coverage'])} of all where it {verb} "
        f"(it {verb} in {format_share(found.base_rate)} of all {found.cases:,} {unit}; "
        f"the box holds {format_share(box['mass'])} of them)."
    )


def cart_sentence(found: Discovery, unit: str, labels: Mapping[str, str]) -> str:
    """The CART cross-check in one sentence: its leaf, and whether it restricts the same parameters."""
    leaf: CartLeaf | None = found.cart
    if leaf is None:
        return "CART cross-check: the tree found no leaf where the condition holds."
    ranges = [range_words(p, lo, hi, labels) for p, (lo, hi) in leaf.bounds.items()]
    prim = set(found.restrictions["parameter"])
    cart = set(leaf.parameters)
    if cart == prim:
        verdict = "it restricts the same parameters as the box"
    elif prim <= cart:
        verdict = "it restricts the box's parameters and " + ", ".join(
            parameter_label(p, labels) for p in cart - prim
        )
    else:
        missing = ", ".join(parameter_label(p, labels) for p in prim - cart)
        verdict = f"it leaves out {missing}, which the box restricts: read the box with care"
    return (
        f"CART cross-check: the tree's leaf where {' and '.join(ranges)} has a density of "
        f"{format_share(leaf.density)} and a coverage of {format_share(leaf.coverage)} "
        f"({leaf.cases:,} {unit}); "
        f"{verdict}."
    )


def restrictions_table(found: Discovery, labels: Mapping[str, str]) -> pd.DataFrame:
    """The box's restrictions for ``box.csv``: each parameter in words beside its path and numbers."""
    r = found.restrictions.copy()
    r.insert(1, "label", [parameter_label(p, labels) for p in r["parameter"]])
    r.insert(2, "restriction", _box_ranges(found.restrictions))
    return r
