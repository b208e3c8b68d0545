"""The figure of scenario discovery: the peeling trade-off, and the chosen box's ranges.

Left, every box of PRIM's peeling trajectory as a point: coverage (share of
the cases where the condition holds that lie in the box) against density
(share of the box's cases where it holds), shaded by how many parameters the
box restricts; the chosen box is ringed. Right, the chosen box: each
restricted parameter's range as a bar over the range the cases span, with
its limits in numbers and the quasi-p-value of each restricted side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from sim.experiments.discover import Discovery
from sim.outputs.discover_words import format_parameter, format_qp
from sim.outputs.labels import parameter_label
from sim.outputs.style import (
    COLORMAP,
    GREYS,
    INK,
    add_footer,
    new_figure,
    percent_axis,
    set_title,
    style_axes,
)

__all__ = ["discovery_chart"]


def discovery_chart(
    found: Discovery, condition: str, labels: Mapping[str, str], meta: Mapping[str, Any]
) -> Figure:
    """The two-panel figure (see the module's text)."""
    fig = new_figure(12.5, 5.5)
    trade, ranges = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.25]})
    _tradeoff(trade, found)
    _ranges(ranges, found, labels)
    set_title(fig, f"Where '{condition}' holds: the box PRIM chose")
    add_footer(fig, meta)
    return fig


def _tradeoff(ax: Any, found: Discovery) -> None:
    t = found.trajectory
    dims = t["restricted"].to_numpy()
    cmap = colormaps[COLORMAP]
    top = max(int(dims.max()), 1)
    for k in sorted(set(dims.tolist())):
        mine = dims == k
        ax.scatter(
            t["coverage"][mine],
            t["density"][mine],
            s=22,
            color=cmap(0.85 * k / top),
            edgecolor=INK,
            linewidth=0.3,
            label=f"{k} parameter{'s' if k != 1 else ''} restricted",
            zorder=3,
        )
    box = found.box
    ax.scatter([box["coverage"]], [box["density"]], s=160, facecolor="none", edgecolor=INK, lw=1.6, zorder=4)
    ax.annotate(
        f"chosen box: coverage {100 * box['coverage']:.0f}%, density {100 * box['density']:.0f}%",
        (box["coverage"], box["density"]),
        xytext=(-14, -4),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=8,
        color=INK,
    )
    ax.axhline(found.base_rate, color=GREYS[1], ls=":", lw=1)
    ax.text(
        0.01,
        found.base_rate,
        " share of all cases where it holds",
        fontsize=7,
        color=GREYS[1],
        va="bottom",
        ha="left",
        transform=ax.get_yaxis_transform(),
    )
    if found.density_target is not None:
        ax.axhline(found.density_target, color=GREYS[1], ls="--", lw=1)
    ax.set_xlabel("Coverage (share of the cases where it holds that lie in the box)")
    ax.set_ylabel("Density (share of the box's cases where it holds)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    percent_axis(ax.xaxis)
    percent_axis(ax.yaxis)
    ax.set_title("Peeling trade-off: each point a box", fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="center left")
    style_axes(ax)


def _ranges(ax: Any, found: Discovery, labels: Mapping[str, str]) -> None:
    r = found.restrictions
    if r.empty:
        ax.text(0.5, 0.5, "the box restricts no parameter", ha="center", va="center")
        ax.set_axis_off()
        return
    y = np.arange(len(r))[::-1]
    for yi, (_, row) in zip(y, r.iterrows(), strict=True):
        span = max(row["data_high"] - row["data_low"], 1e-300)
        lo, hi = (row["low"] - row["data_low"]) / span, (row["high"] - row["data_low"]) / span
        ax.barh(yi, 1.0, left=0.0, color=GREYS[3], height=0.5)
        ax.barh(yi, hi - lo, left=lo, color=GREYS[1], height=0.5)
        ax.text(lo, yi + 0.3, format_parameter(row["low"], row["parameter"]), fontsize=7, ha="left")
        ax.text(hi, yi + 0.3, format_parameter(row["high"], row["parameter"]), fontsize=7, ha="right")
    names = [f"{parameter_label(row['parameter'], labels)}\n({_qp_words(row)})" for _, row in r.iterrows()]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 1], ["lowest in the cases", "highest"], fontsize=7)
    ax.set_title("The chosen box: its ranges (dark) within the cases' (light)", fontsize=10, loc="left")
    style_axes(ax, grid="x")


def _qp_words(row: Any) -> str:
    parts = [
        f"quasi-p-value of its {side} limit {format_qp(row[key])}"
        for side, key in (("lower", "qp_low"), ("upper", "qp_high"))
        if np.isfinite(row[key])
    ]
    return "; ".join(parts)
