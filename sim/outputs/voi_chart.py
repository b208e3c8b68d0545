"""The figure of a value-of-information analysis: each uncertain parameter's EVPPI as a ranked
bar with its bootstrap interval, and the value of perfect information on all of them as a line.

It takes the folder's tables (``evppi.csv``, ``value_of_information.csv``) and never runs an engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.outputs.labels import VOI_STATISTICS
from sim.outputs.style import (
    GREYS,
    INK,
    add_footer,
    hkd_axis,
    legend_below,
    new_figure,
    parameter_label,
    set_title,
    style_axes,
)
from sim.outputs.voi_words import decision_metric_label, decision_metric_unit, format_amount

__all__ = ["draw_evppi", "evppi_chart"]


def draw_evppi(ax: Any, table: pd.DataFrame, summary: Mapping[str, Any], labels: Mapping[str, str]) -> None:
    """Bars (highest first, at the top) with whiskers over the bootstrap interval, and EVPI dashed."""
    ranked = table.sort_values("rank")
    y = np.arange(len(ranked))[::-1]
    values = ranked["evppi"].to_numpy(dtype=float)
    lo, hi = ranked["lo"].to_numpy(dtype=float), ranked["hi"].to_numpy(dtype=float)
    ax.barh(y, values, color=GREYS[2], height=0.6)
    ax.hlines(y, lo, hi, color=INK, lw=1.4)
    ax.vlines(
        np.concatenate([lo, hi]), np.concatenate([y, y]) - 0.15, np.concatenate([y, y]) + 0.15, color=INK
    )
    ax.axvline(float(summary["evpi"]), color=INK, ls="--", lw=1.2)
    ax.set_yticks(y, [parameter_label(str(p), labels) for p in ranked["parameter"]], fontsize=8)
    ax.set_ylim(-0.6, len(ranked) - 0.4)
    ax.set_xlim(left=0)
    metric = str(summary["metric"])
    unit = decision_metric_unit(metric)
    if unit == "HK$":
        hkd_axis(ax.xaxis)
    words = decision_metric_label(metric).removesuffix(" (HK$)").lower()
    ax.set_xlabel(f"{VOI_STATISTICS['evppi'].label}, {words}" + (f" ({unit})" if unit else ""), fontsize=9)
    style_axes(ax, grid="x")


def evppi_chart(
    table: pd.DataFrame, summary: Mapping[str, Any], labels: Mapping[str, str], meta: Mapping[str, Any]
) -> Figure:
    """The ranked EVPPI bars of a value-of-information folder, as a figure of its own."""
    fig = new_figure(10.0, 1.6 + 0.42 * max(len(table), 2))
    ax = fig.subplots()
    draw_evppi(ax, table, summary, labels)
    metric = str(summary["metric"])
    set_title(fig, "Which uncertain parameter is worth learning before choosing A or B?")
    level = round(100 * float(summary["level"]))
    legend_below(
        fig,
        [Patch(color=GREYS[2]), Line2D([], [], color=INK, lw=1.4), Line2D([], [], color=INK, ls="--")],
        [
            VOI_STATISTICS["evppi"].label,
            f"{level}% bootstrap interval",
            f"{VOI_STATISTICS['evpi'].label}: {format_amount(float(summary['evpi']), metric)}",
        ],
    )
    add_footer(fig, meta)
    return fig
