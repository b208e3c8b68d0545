"""A comparison as read, scheme by scheme: an intermediary scheme's rows in its own words.

``compare``'s terminal table, ``comparison-table.csv`` and the comparison brief's table show an
intermediary scheme (MODEL.md 6b) by its operators and start-ups: the rows it does not have
(awards as firms, upgrades and their value for money) are left out, and a statistic it shares with
a direct scheme is named by its own label (:data:`sim.outputs.labels.INTERMEDIARY_STATISTICS`:
"Applications from operators", not "Applications").
"""

from __future__ import annotations

import pandas as pd

from sim.engines.metrics import FOLLOW_UP_SUFFIX
from sim.engines.programme_metrics import DIRECT_ONLY
from sim.outputs.experiments import comparison_cells
from sim.outputs.labels import INTERMEDIARY_STATISTICS
from sim.outputs.style import metric_label

__all__ = ["NOT_FOR_OPERATORS", "operator_schemes", "reader_rows", "reader_cells", "compared_words"]

#: A direct scheme's rows that an intermediary scheme's comparison leaves out: awards (its operators
#: funded are a row of their own), upgrades and their value for money, except the benefit-cost
#: ratio, which its start-ups' impact section gives (or which is shown as not given).
NOT_FOR_OPERATORS: frozenset[str] = frozenset(
    (*DIRECT_ONLY, "awarded", "completed", "completed" + FOLLOW_UP_SUFFIX)
) - {"benefit_cost_ratio", "benefit_cost_ratio" + FOLLOW_UP_SUFFIX}


def operator_schemes(comparison: pd.DataFrame) -> frozenset[str]:
    """The schemes of ``comparison`` that fund operators (their ``operators_funded`` is given)."""
    funded = comparison[
        (comparison["metric"] == "operators_funded")
        & (comparison["a_mean"].notna() | comparison["b_mean"].notna())
    ]
    return frozenset(funded["scheme"])


def reader_rows(comparison: pd.DataFrame) -> pd.DataFrame:
    """``comparison`` without the rows of :data:`NOT_FOR_OPERATORS` on an intermediary scheme."""
    operators = comparison["scheme"].isin(operator_schemes(comparison))
    return comparison[~(operators & comparison["metric"].isin(NOT_FOR_OPERATORS))]


def reader_cells(r: pd.Series, intermediary: bool) -> list[str]:
    """:func:`~sim.outputs.experiments.comparison_cells` of row ``r``, its metric named in an
    intermediary scheme's own words where it has them."""
    cells = comparison_cells(r)
    if intermediary and r["metric"] in INTERMEDIARY_STATISTICS:
        cells[0] = INTERMEDIARY_STATISTICS[r["metric"]].label
    return cells


def compared_words(metric: str, intermediary: bool) -> str:
    """A metric's words (no unit) in a comparison's sentences and figure: an intermediary scheme's
    own where it has them ("Applications from operators")."""
    if intermediary and metric in INTERMEDIARY_STATISTICS:
        return INTERMEDIARY_STATISTICS[metric].label.split(" (")[0]
    return metric_label(metric)
