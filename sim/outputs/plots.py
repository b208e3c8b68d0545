"""Figures of a scenario run: fan charts of cumulative progress and the funnel.

Each function takes tables (never an engine) and returns a Figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.style import GREYS, INK, add_footer, format_hkd, hkd_axis, new_figure

__all__ = ["fan_chart", "funnel_chart", "FUNNEL"]

#: Funnel stages shown, from eligible to completed.
FUNNEL: tuple[tuple[str, str], ...] = (
    ("eligible", "Eligible"),
    ("would_be", "Would apply"),
    ("applications", "Applied"),
    ("approved", "Approved"),
    ("awarded", "Awarded"),
    ("completed", "Completed"),
)

_FAN = (
    ("applications", "Cumulative applications", "applications"),
    ("awards", "Cumulative awards", "awards"),
    ("paid_hkd", "Money paid", "HK$"),
)


def _band(ax: Any, x: Any, frame: pd.DataFrame) -> None:
    ax.fill_between(x, frame["q05"], frame["q95"], color=GREYS[2], lw=0, label="90% band")
    ax.fill_between(x, frame["q25"], frame["q75"], color=GREYS[1], lw=0, label="50% band")
    ax.plot(x, frame["q50"], color=INK, lw=1.8, label="median")


def fan_chart(
    timeseries: pd.DataFrame,
    limits: Mapping[str, Mapping[str, float]],
    labels: Mapping[str, str],
    meta: Mapping[str, Any],
) -> Figure:
    """Cumulative applications, awards and money paid per scheme, 50% and 90% bands.

    ``limits[scheme]`` gives ``places`` and ``budget_hkd`` for the reference lines.
    """
    schemes = list(dict.fromkeys(timeseries["scheme"]))
    fig = new_figure(12, 3.4 * len(schemes) + 0.6)
    axes = fig.subplots(len(schemes), len(_FAN), squeeze=False)
    for row, scheme in enumerate(schemes):
        for col, (series, title, unit) in enumerate(_FAN):
            ax = axes[row][col]
            frame = timeseries[(timeseries["scheme"] == scheme) & (timeseries["series"] == series)]
            x = pd.to_datetime(frame["date"])
            _band(ax, x, frame)
            limit = limits.get(scheme, {})
            if series == "awards" and "places" in limit:
                ax.axhline(
                    limit["places"], color="black", ls="--", lw=1, label=f"places ({limit['places']:,.0f})"
                )
            if series == "paid_hkd" and "budget_hkd" in limit:
                ax.axhline(
                    limit["budget_hkd"],
                    color="black",
                    ls="--",
                    lw=1,
                    label=f"budget ({format_hkd(limit['budget_hkd'])})",
                )
                hkd_axis(ax.yaxis)
            ax.set_title(f"{labels.get(scheme, scheme)}: {title.lower()}", fontsize=10)
            ax.set_ylabel(unit)
            ax.set_xlabel("date")
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
            ax.tick_params(axis="x", labelrotation=30, labelsize=8)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            if row == 0 and col == 0 or series != "applications":
                ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("How fast do applications, awards and payments build up?", fontsize=13)
    add_footer(fig, meta)
    return fig


def funnel_chart(summary: pd.DataFrame, labels: Mapping[str, str], meta: Mapping[str, Any]) -> Figure:
    """From eligible firms to completed upgrades: mean per stage with the 5-95% range."""
    whole = summary[summary["segment"] == "all"]
    schemes = list(dict.fromkeys(whole["scheme"]))
    fig = new_figure(11, 3.0 * len(schemes) + 0.8)
    axes = fig.subplots(len(schemes), 1, squeeze=False)
    for row, scheme in enumerate(schemes):
        ax = axes[row][0]
        s = whole[whole["scheme"] == scheme].set_index("metric")
        names = [label for _, label in FUNNEL]
        mean = np.array([s.loc[m, "mean"] for m, _ in FUNNEL])
        lo = np.array([s.loc[m, "p05"] for m, _ in FUNNEL])
        hi = np.array([s.loc[m, "p95"] for m, _ in FUNNEL])
        y = np.arange(len(names))[::-1]
        ax.barh(y, mean, color=GREYS[1], edgecolor=INK)
        ax.errorbar(mean, y, xerr=[mean - lo, hi - mean], fmt="none", ecolor="black", capsize=3, lw=1)
        for yi, m, h in zip(y, mean, hi, strict=True):
            ax.text(h, yi, f"  {m:,.0f}", va="center", fontsize=8)
        ax.set_yticks(y, names)
        ax.set_xscale("log")
        ax.set_xlabel("firms (mean, bar: 5-95% range; log scale)")
        ax.set_title(labels.get(scheme, scheme), fontsize=11)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("How many firms make it from eligible to a completed upgrade?", fontsize=13)
    add_footer(fig, meta)
    return fig
