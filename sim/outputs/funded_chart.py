"""The figure ``who_is_funded.png``: per scheme, applications and awards by size band, and the
distribution of awarded grants against the cap.

It takes the tables of :mod:`sim.outputs.funded` (never an engine) and
follows the style of the other run figures (:mod:`sim.outputs.style`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.outputs import plots
from sim.outputs.funded import AT_CAP, at_cap_words
from sim.outputs.labels import intermediary_schemes
from sim.outputs.numbers import format_count
from sim.outputs.style import (
    GREYS,
    INK,
    add_footer,
    legend_below,
    new_figure,
    percent_axis,
    scheme_label,
    set_title,
    style_axes,
)

__all__ = ["who_is_funded_chart", "draw_bands", "draw_grants"]

#: The bars of the band panel: (value, words, bar style).
_BAND_BARS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("applications", "applications", {"facecolor": GREYS[2], "edgecolor": INK, "lw": 0.8}),
    ("awards", "awards", {"facecolor": INK, "edgecolor": INK, "lw": 0.8}),
)


#: The part of the last grant bin that is at the cap.
_AT_CAP_STYLE: dict[str, Any] = {"facecolor": "none", "edgecolor": "black", "hatch": "///", "lw": 0.8}


def _band_tick(row: pd.Series, segments: int) -> str:
    """A band's tick label; with several segments, the segment's name before it."""
    band = str(row["band"])
    return f"{str(row['segment']).replace('_', ' ')}: {band}" if segments > 1 else band


def draw_bands(ax: Any, rows: pd.DataFrame) -> None:
    """Applications and awards per size band: bars at the mean, lines over 90% of runs."""
    x = plots.draw_paired_bars(ax, rows, _BAND_BARS)
    segments = rows["segment"].nunique()
    ticks = [_band_tick(r, segments) for _, r in rows.iterrows()]
    if segments > 1:  # longer labels, slanted so they do not overlap
        ax.set_xticks(x, ticks, fontsize=7, rotation=20, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(x, ticks, fontsize=8)
    ax.set_xlim(-0.75, len(rows) - 0.25)
    ax.set_xlabel("size band", fontsize=8)
    ax.set_ylabel("firms by the scheme horizon", fontsize=8)
    ax.yaxis.set_major_formatter(lambda v, _pos: format_count(v))
    style_axes(ax, grid="y")


def draw_grants(ax: Any, rows: pd.DataFrame) -> None:
    """Share of awards in each bin of grant / cap (all runs pooled), the cap marked by a dashed line,
    and the share at the cap in words."""
    bins = rows[rows["bin"] != AT_CAP]
    low, high = bins["low_share_of_cap"].to_numpy(float), bins["high_share_of_cap"].to_numpy(float)
    ax.bar(low, bins["share_pooled"].to_numpy(float), width=high - low, align="edge", color=GREYS[1], ec=INK)
    at_cap = rows.loc[rows["bin"] == AT_CAP, "share_pooled"].to_numpy(float)
    if len(at_cap) and len(low):
        ax.bar(low[-1], at_cap[0], width=high[-1] - low[-1], align="edge", **_AT_CAP_STYLE)
    ax.axvline(1.0, color="black", ls="--", lw=1)
    ax.set_xlim(0.0, 1.05)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("grant as a share of the cap", fontsize=8)
    ax.set_ylabel("share of awards (all runs)", fontsize=8)
    percent_axis(ax.xaxis)
    percent_axis(ax.yaxis)
    scheme = str(rows["scheme"].iloc[0]) if len(rows) else ""
    ax.text(0.02, 0.97, at_cap_words(rows, scheme), transform=ax.transAxes, fontsize=8, va="top")
    style_axes(ax, grid="y")


def who_is_funded_chart(
    who: pd.DataFrame, grants: pd.DataFrame, labels: Mapping[str, str], meta: Mapping[str, Any]
) -> Figure:
    """Per scheme (one row each): applications and awards by size band beside the grant distribution."""
    schemes = [s for s in labels if s in set(who["scheme"])] + [
        s for s in dict.fromkeys(who["scheme"]) if s not in labels
    ]
    fig = new_figure(10, 3.0 * len(schemes) + 1.2)
    axes = fig.subplots(len(schemes), 2, squeeze=False, width_ratios=[1, 1.2])
    operators = intermediary_schemes(meta)
    for row, scheme in enumerate(schemes):
        left, right = axes[row]
        draw_bands(left, who[who["scheme"] == scheme])
        if scheme in operators:  # an intermediary scheme's applicants are operators (MODEL.md 6b)
            left.set_ylabel("operators by the scheme horizon", fontsize=8)
        draw_grants(right, grants[grants["scheme"] == scheme])
        left.set_title(f"{scheme_label(scheme, labels)}: by size band", fontsize=10, loc="left")
        right.set_title(f"{scheme_label(scheme, labels)}: grants awarded", fontsize=10, loc="left")
    set_title(fig, "Who applies, who is funded, and how many grants reach the cap?")
    handles: list[Any] = [Patch(**style) for _, _, style in _BAND_BARS]
    handles += [Line2D([], [], color="black", lw=1), Patch(color=GREYS[1])]
    handles += [Patch(**_AT_CAP_STYLE), Line2D([], [], color="black", ls="--")]
    words = [f"{words} (mean of runs)" for _, words, _ in _BAND_BARS]
    words += ["90% of runs", "share of awards by grant", "of which at the cap", "the cap"]
    legend_below(fig, handles, words, ncol=3)
    add_footer(fig, meta)
    return fig
