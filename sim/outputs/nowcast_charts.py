"""The figures of a nowcast: the observed series' fans with the observations as points and the
as-at date marked, and the chance that the places fill by each quarter, prior beside as at.

Both draw from tables (``bands.parquet``, ``headline.csv``) and the observations listed in the
manifest, never from an engine, so the "as at" brief redraws them from a result folder.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.outputs.calibration_charts import QUANTITY_WORDS
from sim.outputs.folders import scheme_limits
from sim.outputs.numbers import count_words, format_hkd
from sim.outputs.plots import OFF_SCALE, mark_scheme_end, say_limit_off_scale
from sim.outputs.style import (
    GREYS,
    INK,
    LINESTYLES,
    add_footer,
    date_axis,
    hkd_axis,
    legend_below,
    new_figure,
    percent_axis,
    scheme_label,
    set_title,
    style_axes,
)
from sim.spec.observations import COUNT_QUANTITIES

__all__ = [
    "FAN_TITLE",
    "draw_fill_chances",
    "draw_limit",
    "draw_observed_fan",
    "fan_legend",
    "observed_fan_chart",
]

FAN_TITLE = "Where do the runs that agree with the observations go?"


def mark_as_at(ax: Any, as_at: date) -> None:
    """A solid vertical line at the as-at date, labelled."""
    ax.axvline(pd.Timestamp(as_at), color="black", lw=0.9)
    ax.annotate(
        f"as at {as_at:%d %b %Y}",
        (pd.Timestamp(as_at), 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-3, -3),
        textcoords="offset points",
        fontsize=6.5,
        ha="right",
        va="top",
    )


def draw_observations(ax: Any, observations: Sequence[Mapping[str, Any]]) -> None:
    """Observations (manifest form) as points: exact a dot, approx with its range, at_least a triangle."""
    for o in observations:
        x, value = pd.Timestamp(str(o["date"])), float(o["value"])
        if o["bound"] == "approx":
            share = float(o.get("tolerance") or 0.0)
            ax.errorbar([x], [value], yerr=[[value * share], [value * share]], fmt="o", color="black", ms=3)
        else:
            ax.plot([x], [value], "^" if o["bound"] == "at_least" else "o", color="black", ms=3.5, zorder=5)


def draw_observed_fan(
    ax: Any, bands: pd.DataFrame, observations: Sequence[Mapping[str, Any]], when: Any
) -> None:
    """One observed series: the prior's 90% band (lightest), the weighted runs' 90% and 50% bands and
    median, the observations and the as-at date; ``when`` is (as-at date, scheme end or None)."""
    as_at, end = when
    x = pd.to_datetime(bands["date"])
    ax.fill_between(x, bands["prior_q05"], bands["prior_q95"], color=GREYS[3], lw=0)
    ax.fill_between(x, bands["as_at_q05"], bands["as_at_q95"], color=GREYS[2], lw=0)
    ax.fill_between(x, bands["as_at_q25"], bands["as_at_q75"], color=GREYS[1], lw=0)
    ax.plot(x, bands["as_at_q50"], color=INK, lw=1.6)
    draw_observations(ax, observations)
    if str(bands["quantity"].iloc[0]) not in COUNT_QUANTITIES:
        hkd_axis(ax.yaxis)
    date_axis(ax.xaxis, float(bands["week"].max()))
    ax.set_ylim(bottom=0)
    mark_as_at(ax, as_at)
    mark_scheme_end(ax, end)
    style_axes(ax)


#: The limit drawn on an observed series' panel: awards against the places, money against the budget.
LIMIT_OF_QUANTITY = {"awarded": "places", "committed_hkd": "budget_hkd", "paid_hkd": "budget_hkd"}


def draw_limit(ax: Any, quantity: str, limits: Mapping[str, float]) -> None:
    """The scheme's places or budget (its own dated top-ups included) as a dashed line, labelled."""
    key = LIMIT_OF_QUANTITY.get(quantity)
    value = limits.get(key) if key else None
    if value is None or not math.isfinite(value):
        return
    text = f"{format_hkd(value)} budget" if key == "budget_hkd" else count_words(value, "place")
    if value > OFF_SCALE * max(ax.get_ylim()[1], 1.0):  # drawn, it would press the bands flat
        say_limit_off_scale(ax, text)
        return
    ax.axhline(value, color="black", ls="--", lw=1)
    ax.annotate(
        text,
        (0.98, value),
        xycoords=("axes fraction", "data"),
        xytext=(0, -3),
        textcoords="offset points",
        fontsize=6.5,
        ha="right",
        va="top",
    )
    ax.set_ylim(0, max(ax.get_ylim()[1], value * 1.12))


def fan_legend() -> tuple[list[Any], list[str]]:
    handles: list[Any] = [Patch(color=GREYS[3]), Patch(color=GREYS[2]), Patch(color=GREYS[1])]
    handles += [Line2D([], [], color=INK, lw=1.6), Line2D([], [], marker="o", ls="", color="black", ms=4)]
    names = ["prior forecast: 90% of runs", "as at: 90% of weighted runs", "as at: 50%", "as at: median"]
    return handles, [*names, "observed"]


def series_title(scheme: str, quantity: str, labels: Mapping[str, str]) -> str:
    return f"{scheme_label(scheme, labels)}: {QUANTITY_WORDS.get(quantity, quantity)}"


def observed_fan_chart(
    bands: pd.DataFrame,
    observations: Sequence[Mapping[str, Any]],
    labels: Mapping[str, str],
    meta: Mapping[str, Any],
) -> Figure:
    """Per observed scheme and quantity, the fan of the weighted runs over the prior's, with the
    observations as points and the as-at date marked."""
    keys = list(dict.fromkeys(zip(bands["scheme"], bands["quantity"], strict=True)))
    cols = max(1, min(2, len(keys)))
    rows = max(1, math.ceil(len(keys) / cols))
    fig = new_figure(4.8 * cols + 0.4, 3.0 * rows + 1.4)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    when = when_of(meta)
    for ax, (scheme, quantity) in zip(axes, keys, strict=False):
        frame = bands[(bands["scheme"] == scheme) & (bands["quantity"] == quantity)]
        mine = [o for o in observations if (o["scheme"], o["quantity"]) == (scheme, quantity)]
        draw_observed_fan(ax, frame, mine, when)
        draw_limit(ax, quantity, scheme_limits(dict(meta.get("scenario_source") or {})).get(scheme, {}))
        ax.set_title(series_title(scheme, quantity, labels), fontsize=9)
    for ax in axes[len(keys) :]:
        ax.set_axis_off()
    set_title(fig, FAN_TITLE)
    legend_below(fig, *fan_legend())
    add_footer(fig, meta)
    return fig


def when_of(meta: Mapping[str, Any]) -> tuple[date, date | None]:
    """The as-at date and the scheme's end (None without a follow-up) of a nowcast's manifest."""
    from sim.outputs.plots import scheme_end

    return date.fromisoformat(str(meta["as_at"])), scheme_end(meta)


def draw_fill_chances(ax: Any, head: pd.DataFrame, scheme: str) -> None:
    """The share of runs whose places fill by each date: the prior forecast dashed, as at solid;
    one line style per scenario (base first)."""
    rows = head[(head["scheme"] == scheme) & (head["key"] == "places_fill_by")]
    for i, (_name, mine) in enumerate(rows.groupby("scenario", sort=False)):
        x = pd.to_datetime(mine["date"])
        style = LINESTYLES[i % len(LINESTYLES)]
        ax.plot(x, mine["as_at"], color=INK, ls=style, marker="o", ms=3, lw=1.4)
        ax.plot(x, mine["prior"], color=GREYS[1], ls=style, marker="s", ms=2.5, lw=1.0)
    ax.set_ylim(-0.02, 1.02)
    percent_axis(ax.yaxis)
    if len(rows):
        start = pd.Timestamp(rows["date"].min()) - pd.Timedelta(days=1)
        span = (pd.Timestamp(rows["date"].max()) - start).days / 7
        ax.set_xlim(start - pd.Timedelta(days=20), pd.Timestamp(rows["date"].max()) + pd.Timedelta(days=20))
        date_axis(ax.xaxis, max(span, 13.0))
    style_axes(ax)


def fill_legend(scenarios: Sequence[str]) -> tuple[list[Any], list[str]]:
    handles: list[Any] = [
        Line2D([], [], color=INK, marker="o", ms=3),
        Line2D([], [], color=GREYS[1], marker="s", ms=2.5),
    ]
    names = ["as at (weighted runs)", "prior forecast"]
    for i, name in enumerate(scenarios):
        handles.append(Line2D([], [], color="black", ls=LINESTYLES[i % len(LINESTYLES)]))
        names.append(name)
    return handles, names
