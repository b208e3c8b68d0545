"""The words of a value-of-information analysis: the metric's name and unit, each value read
aloud, and the sentence for the terminal, the folder and the brief.

Everything here works on the plain tables a value-of-information folder holds
(``evppi.csv`` and ``value_of_information.csv``), so the command, the figure
and the brief say the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.outputs.labels import COMPARE_LABELS, STATISTICS, VOI_STATISTICS, parameter_label
from sim.outputs.numbers import format_value

__all__ = [
    "ALMOST_NOTHING",
    "decision_metric_label",
    "decision_metric_unit",
    "folder_labels",
    "format_amount",
    "voi_sentence",
]

#: An EVPPI below this share of EVPI (or exactly zero) reads "almost nothing" ("nothing" at zero).
ALMOST_NOTHING = 0.05


def folder_labels(meta: Mapping[str, Any]) -> dict[str, str]:
    """Scheme and segment labels by name, from both scenarios a folder's manifest records (A's
    where both have one)."""
    labels: dict[str, str] = {}
    for key in ("scenario_source_b", "scenario_source_a"):
        source = meta.get(key) or {}
        for kind in ("segments", "schemes"):
            labels.update({n: s.get("label") or n for n, s in source.get(kind, {}).items()})
    return labels


def decision_metric_label(metric: str) -> str:
    """The metric's label: the net benefit's own, else the headline's or the comparison's."""
    for table in (VOI_STATISTICS, STATISTICS):
        if metric in table:
            return table[metric].label
    return COMPARE_LABELS.get(metric, metric.replace("_", " ").capitalize())


def decision_metric_unit(metric: str) -> str:
    """The unit every value of information of this metric is in (HK$ for money)."""
    if metric == "net_benefit" or metric.removesuffix("_follow_up").endswith("_hkd"):
        return "HK$"
    if metric in STATISTICS:
        return STATISTICS[metric].unit
    return ""


def format_amount(value: float, metric: str) -> str:
    """A value of information in the metric's unit: HK$1.2M for money, 12 for firms."""
    if metric == "net_benefit":
        metric = "net_benefit_hkd"  # read aloud as money
    return format_value(value, metric)


def _worth(row: pd.Series, evpi: float, metric: str) -> str:
    """What learning one parameter is worth, in words."""
    value = float(row["evppi"])
    if value <= 0:
        return "nothing"
    if evpi > 0 and value < ALMOST_NOTHING * evpi:
        return "almost nothing"
    return f"up to {format_amount(value, metric)}"


def voi_sentence(summary: Mapping[str, object], table: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """The analysis in plain words: the choice on current information, the value of learning
    everything, the parameter worth most to learn and the one worth least."""
    metric = str(summary["metric"])
    chosen, a, b = str(summary["chosen"]), str(summary["scenario_a"]), str(summary["scenario_b"])
    evpi = float(summary["evpi"])  # type: ignore[arg-type]
    words = decision_metric_label(metric).removesuffix(" (HK$)").lower()
    choice = f"On current information {chosen} ({a if chosen == 'A' else b}) has the higher expected {words}"
    if not math.isfinite(evpi) or evpi <= 0 or table.empty:
        return f"{choice}, and learning the uncertain parameters first would not change the choice."
    ranked = table.sort_values("rank")
    top, last = ranked.iloc[0], ranked.iloc[-1]
    text = (
        f"{choice}; knowing every uncertain parameter before choosing would be worth "
        f"{format_amount(evpi, metric)} on average. Learning "
        f"{_lower(parameter_label(str(top['parameter']), labels))} before deciding is worth "
        f"{_worth(top, evpi, metric)}"
    )
    if len(ranked) > 1:
        text += f"; {_lower(parameter_label(str(last['parameter']), labels))}, {_worth(last, evpi, metric)}"
    return text + "."


def _lower(words: str) -> str:
    """'Manufacturing+: deadweight' -> 'the Manufacturing+ deadweight' for the middle of a sentence."""
    owner, sep, rest = words.partition(": ")
    return f"the {owner} {rest}" if sep else f"the {words}"
