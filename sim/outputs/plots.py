"""Figures of a scenario run: progress over time, the funnel, which limit binds and when,
waiting times, and value for money.

Each ``*_chart`` function takes tables (never an engine) and returns a Figure;
each ``draw_*`` function draws one panel on a given Axes, so the one-page brief
can reuse the same pictures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from sim.engines.metrics import FOLLOW_UP_SUFFIX
from sim.outputs import tables
from sim.outputs.labels import (
    INTERMEDIARY_FAN_SERIES,
    INTERMEDIARY_FUNNEL,
    intermediary_schemes,
    scheme_words,
)
from sim.outputs.numbers import count_words, format_count, format_share, format_weeks
from sim.outputs.style import (
    GREYS,
    INK,
    add_footer,
    axis_label,
    date_axis,
    format_hkd,
    format_value,
    hkd_axis,
    legend_below,
    metric_label,
    new_figure,
    percent_axis,
    scheme_label,
    set_title,
    style_axes,
)
from sim.outputs.timeline import limit_steps, policy_changes, window_marks

__all__ = [
    "FUNNEL",
    "FAN_SERIES",
    "fan_chart",
    "funnel_chart",
    "exhaustion_chart",
    "wait_chart",
    "value_chart",
    "money_by_year_chart",
    "draw_money_by_year",
    "OFF_SCALE",
    "say_limit_off_scale",
    "draw_fan",
    "mark_timeline",
    "draw_funnel",
    "draw_exhaustion",
    "limit_weeks",
    "EXHAUSTION_TITLE",
    "draw_intervals",
    "band_legend",
]

#: Funnel stages shown, from eligible to completed, each under its one label (the mean over runs,
#: as in the headline).
FUNNEL: tuple[tuple[str, str], ...] = tuple(
    (stage, metric_label(stage))
    for stage in ("eligible", "would_be", "applications", "approved", "awarded", "completed")
)

#: Fan-chart series: (series, panel title, y-axis label).
FAN_SERIES: tuple[tuple[str, str, str], ...] = (
    ("applications", "Applications", "applications (cumulative)"),
    ("awards", "Awards", "firms awarded (cumulative)"),
    ("completions", "Completed upgrades", "upgrades completed (cumulative)"),
    ("paid_hkd", "Money paid", "HK$ paid (cumulative)"),
)

_LIMIT_OF_SERIES = {"awards": "places", "paid_hkd": "budget_hkd", "committed_hkd": "budget_hkd"}


def _schemes(frame: pd.DataFrame, labels: Mapping[str, str]) -> list[str]:
    """The schemes in ``frame``, in the scenario's order (the order of ``labels``)."""
    present = list(dict.fromkeys(frame["scheme"]))
    return [s for s in labels if s in present] + [s for s in present if s not in labels]


def _whole(replications: pd.DataFrame) -> pd.DataFrame:
    """The rows of each scheme as a whole (not per segment)."""
    if "segment" in replications:
        return replications[replications["segment"] == "all"]
    return replications


def band_legend() -> tuple[list[Any], list[str]]:
    """Handles for the bands every fan chart uses."""
    handles = [
        Patch(color=GREYS[2], lw=0),
        Patch(color=GREYS[1], lw=0),
        Line2D([], [], color=INK, lw=1.8),
        Line2D([], [], color="black", ls="--", lw=1),
    ]
    return handles, ["90% of runs", "50% of runs", "median", "places or budget"]


def _limit_text(series: str, value: float) -> str:
    return format_hkd(value) + " budget" if series.endswith("_hkd") else count_words(value, "place")


def scheme_end(meta: Mapping[str, Any]) -> date | None:
    """The date the scheme ends, to mark on charts that run on into a follow-up (None without one)."""
    if float(meta.get("follow_up_weeks", 0.0)) <= 0:
        return None
    start = date.fromisoformat(str(meta["start_date"])[:10])
    return start + timedelta(weeks=float(meta["horizon_weeks"]))


def mark_scheme_end(ax: Any, when: date | None) -> None:
    """A dotted line at the scheme's end, labelled: what lies right of it is the follow-up."""
    if when is None:
        return
    ax.axvline(pd.Timestamp(when), color="black", ls=":", lw=1)
    ax.annotate(
        "scheme ends",
        (pd.Timestamp(when), 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        fontsize=6.5,
        va="top",
    )


def mark_changes(ax: Any, changes: Sequence[tuple[date, str]]) -> None:
    """A dashed line at each policy change, labelled with what changed (as the scheme's end)."""
    for when, text in changes:
        ax.axvline(pd.Timestamp(when), color="black", ls="-.", lw=0.8)
        ax.annotate(
            text,
            (pd.Timestamp(when), 0.9),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize=6.5,
            va="top",
        )


def mark_windows(ax: Any, marks: Sequence[tuple[date, str]]) -> None:
    """A dotted grey line where a scheme's application window opens and where it closes as
    scheduled (``closes_week``), labelled, staggered below the policy changes' labels."""
    for k, (when, text) in enumerate(marks):
        ax.axvline(pd.Timestamp(when), color=GREYS[1], ls=":", lw=1)
        ax.annotate(
            text,
            (pd.Timestamp(when), 0.78 - 0.1 * k),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize=6.5,
            va="top",
        )


def mark_timeline(ax: Any, meta: Mapping[str, Any], scheme: str) -> None:
    """Every dated mark of a scheme on a chart over time: its policy changes and its window."""
    mark_changes(ax, policy_changes(meta).get(scheme, []))
    mark_windows(ax, window_marks(meta).get(scheme, []))


#: A limit more than this many times the top of the 90% band is written in the corner, not drawn:
#: drawn, it would set the scale and press the bands flat (NIFS's places and budget do not bind).
OFF_SCALE = 10.0


def say_limit_off_scale(ax: Any, text: str) -> None:
    """A limit (``text``: its value in words) too far above the outcomes to draw, written top left,
    where a drawn limit is labelled (:data:`OFF_SCALE`)."""
    ax.annotate(
        f"{text}\n(far above, not drawn)",
        (0.02, 0.97),
        xycoords="axes fraction",
        fontsize=7,
        va="top",
        ha="left",
    )


def _draw_limit(ax: Any, series: str, steps: Sequence[tuple[date, float]]) -> float:
    """The places or budget as a dashed line that steps up at each top-up (one level without
    one), each level labelled where it starts; returns the highest level."""
    if len(steps) == 1:
        ax.axhline(steps[0][1], color="black", ls="--", lw=1)
        at = [(0.02, steps[0][1], ("axes fraction", "data"))]
    else:
        right = ax.get_xlim()[1]
        xs = [mdates.date2num(pd.Timestamp(when)) for when, _v in steps] + [right]
        ys = [v for _when, v in steps]
        ax.step(xs, [*ys, ys[-1]], where="post", color="black", ls="--", lw=1)
        ax.set_xlim(right=right)
        # the first level at its start, the later ones at the right edge (clear of the change's label)
        at = [(xs[0], ys[0], ("data", "data")), *((0.98, y, ("axes fraction", "data")) for y in ys[1:])]
    for k, (x, y, coords) in enumerate(at):
        ax.annotate(
            _limit_text(series, y),
            (x, y),
            xycoords=coords,
            xytext=(3 if k == 0 else 0, 3),
            textcoords="offset points",
            fontsize=7,
            va="bottom",
            ha="left" if k == 0 else "right",
        )
    return max(v for _when, v in steps)


def draw_fan(
    ax: Any,
    frame: pd.DataFrame,
    series: str,
    limit: float | Sequence[tuple[date, float]] | None = None,
    end: date | None = None,
) -> None:
    """One series over calendar dates: the 90% and 50% bands, the median, its limit (a number, or
    the levels of :func:`sim.outputs.timeline.limit_steps` from their dates), and the scheme's
    ``end`` if the series runs on into a follow-up."""
    x = pd.to_datetime(frame["date"])
    ax.fill_between(x, frame["q05"], frame["q95"], color=GREYS[2], lw=0)
    ax.fill_between(x, frame["q25"], frame["q75"], color=GREYS[1], lw=0)
    ax.plot(x, frame["q50"], color=INK, lw=1.8)
    top = float(frame["q95"].max()) if len(frame) else 1.0
    steps = [(date.min, float(limit))] if isinstance(limit, int | float) else list(limit or [])
    if steps and all(np.isfinite(v) for _when, v in steps):
        highest = max(v for _when, v in steps)
        if highest <= OFF_SCALE * max(top, 1.0):
            top = max(top, _draw_limit(ax, series, steps))
        else:  # a limit far above every outcome would flatten the bands against the axis
            say_limit_off_scale(ax, _limit_text(series, highest))
    ax.set_ylim(0, max(top, 1.0) * 1.12)
    if series.endswith("_hkd"):
        hkd_axis(ax.yaxis)
    date_axis(ax.xaxis, float(frame["week"].max()) if len(frame) else 52.0)
    mark_scheme_end(ax, end)
    style_axes(ax)


def scheme_series(
    series: Sequence[tuple[str, str, str]], intermediary: bool
) -> Sequence[tuple[str, str, str]]:
    """The fan-chart ``series`` of a scheme of that kind: an intermediary scheme's in its own words
    (operators funded, bases opened, money paid to operators; MODEL.md 6b)."""
    if not intermediary:
        return series
    own = {name: (name, title, axis) for name, title, axis in INTERMEDIARY_FAN_SERIES}
    return [own.get(name, (name, title, axis)) for name, title, axis in series]


def fan_chart(
    timeseries: pd.DataFrame,
    limits: Mapping[str, Mapping[str, float]],
    labels: Mapping[str, str],
    meta: Mapping[str, Any],
    series: Sequence[tuple[str, str, str]] = FAN_SERIES,
) -> Figure:
    """Cumulative applications, awards, completions and money paid per scheme, 50% and 90% bands.

    ``limits[scheme]`` gives ``places`` and ``budget_hkd`` with every top-up; the reference
    lines step up at each top-up's date. The charts run to the end of the follow-up, with the
    scheme's end, each dated policy change and the application window's opening and scheduled
    close (from the scenario in ``meta``) marked.
    """
    schemes = _schemes(timeseries, labels)
    end = scheme_end(meta)
    fig = new_figure(3.2 * len(series) + 0.6, 2.9 * len(schemes) + 1.2)
    axes = fig.subplots(len(schemes), len(series), squeeze=False)
    operators = intermediary_schemes(meta)
    for row, scheme in enumerate(schemes):
        mine = timeseries[timeseries["scheme"] == scheme]
        for col, (name, title, ylabel) in enumerate(scheme_series(series, scheme in operators)):
            ax = axes[row][col]
            frame = mine[mine["series"] == name]
            limit_key = _LIMIT_OF_SERIES.get(name)
            limit = limits.get(scheme, {}).get(limit_key) if limit_key else None
            steps = limit_steps(meta, scheme, limit_key, limit) if limit_key and limit is not None else None
            draw_fan(ax, frame, name, steps, end)
            mark_timeline(ax, meta, scheme)
            ax.set_title(f"{scheme_label(scheme, labels)}: {title.lower()}", fontsize=9)
            ax.set_ylabel(ylabel, fontsize=8)
            ax.set_xlabel("date", fontsize=8)
    set_title(fig, "How fast do applications, awards, completions and payments build up?")
    legend_below(fig, *band_legend())
    add_footer(fig, meta)
    return fig


def draw_funnel(
    ax: Any, stats: pd.DataFrame, stages: Sequence[tuple[str, str]] = FUNNEL, unit: str = "firms"
) -> None:
    """Mean ``unit`` at each funnel stage (``stages``: metric, label), with the 5-95% range;
    ``stats`` is indexed by metric.

    The axis is linear, so a bar's length is its number of firms (a log axis
    makes a stage of 40 look half the size of one of 4,000).
    """
    names = [label for _, label in stages]
    mean = np.array([stats.loc[m, "mean"] for m, _ in stages], dtype=float)
    lo = np.array([stats.loc[m, "p05"] for m, _ in stages], dtype=float)
    hi = np.array([stats.loc[m, "p95"] for m, _ in stages], dtype=float)
    y = np.arange(len(names))[::-1]
    ax.barh(y, mean, color=GREYS[2], edgecolor=INK, lw=0.8)
    ax.errorbar(mean, y, xerr=[mean - lo, hi - mean], fmt="none", ecolor="black", capsize=3, lw=1)
    right = max(float(np.nanmax(hi)), 1.0)
    for yi, m, low, high in zip(y, mean, lo, hi, strict=True):
        ax.text(
            high + 0.02 * right,
            yi,
            f"{format_count(m)}  ({format_count(low)}-{format_count(high)})",
            va="center",
            fontsize=7,
        )
    ax.set_yticks(y, names, fontsize=8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_count(v)))
    ax.set_xlim(left=0, right=right * 1.35)
    ax.set_xlabel(f"{unit} (bar: mean, whisker: 90% of runs)", fontsize=8)
    style_axes(ax, grid="x")


def funnel_chart(summary: pd.DataFrame, labels: Mapping[str, str], meta: Mapping[str, Any]) -> Figure:
    """From eligible firms to completed upgrades (an intermediary scheme: eligible operators to
    bases opened, then its start-ups): mean per stage with the 5-95% range."""
    whole = _whole(summary)
    schemes = _schemes(whole, labels)
    panels = [(s, part) for s in schemes for part in funnel_panels(whole[whole["scheme"] == s])]
    fig = new_figure(9, 2.4 * len(panels) + 1.0)
    axes = fig.subplots(len(panels), 1, squeeze=False)
    for row, (scheme, (title, stages, unit)) in enumerate(panels):
        ax = axes[row][0]
        draw_funnel(ax, whole[whole["scheme"] == scheme].set_index("metric"), stages, unit)
        ax.set_title(scheme_label(scheme, labels) + title, fontsize=10, loc="left")
    operators = len(panels) > len(schemes)
    set_title(fig, FUNNEL_TITLES[operators])
    add_footer(fig, meta)
    return fig


#: The funnel chart's title, without and with an intermediary scheme among the schemes.
FUNNEL_TITLES = {
    False: "How many firms make it from eligible to a completed upgrade?",
    True: "How many firms, operators and start-ups reach each stage?",
}


def funnel_panels(rows: pd.DataFrame) -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    """(title suffix, stages, unit) of each funnel panel of a scheme whose summary rows are ``rows``:
    one of firms for a direct scheme; for an intermediary scheme (MODEL.md 6b) one of operators and
    one of the start-ups of their cohorts, in their own words (:mod:`sim.outputs.labels`)."""
    funded = rows.loc[rows["metric"] == "operators_funded", "mean"]
    if not (len(funded) and funded.notna().any()):
        return [("", FUNNEL, "firms")]
    return [
        (f": {unit}", tuple((m, scheme_words(m, True)) for m in stages), unit)
        for unit, stages in INTERMEDIARY_FUNNEL.items()
    ]


#: The two limits of a scheme, as drawn: (0/1 metric, words, bar style, line style).
_LIMITS: tuple[tuple[str, str, dict[str, Any], dict[str, Any]], ...] = (
    ("exhausted_by_places", "the places fill", {"color": GREYS[2], "lw": 0.6}, {"color": INK, "ls": "-"}),
    (
        "exhausted_by_money",
        "the money runs out",
        {"fc": "white", "hatch": "///", "lw": 0.6},
        {"color": GREYS[1], "ls": "--"},
    ),
)


def limit_weeks(runs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per limit (0/1 metric name), the week it binds in each run (NaN: it does not bind there)."""
    week = runs["exhaustion_week"].to_numpy(dtype=float)
    return {metric: np.where(runs[metric].to_numpy(dtype=float) == 1, week, np.nan) for metric, *_ in _LIMITS}


def draw_exhaustion(
    ax: Any, runs: pd.DataFrame, start: date, horizon_weeks: float, bin_weeks: float = 4.0
) -> float:
    """Share of runs where the places fill or the money runs out, in each period (stacked bars)
    and by each date (lines), each limit apart (MODEL.md "Which limit binds").

    ``runs`` has one row per run with ``exhaustion_week`` and the 0/1
    ``exhausted_by_places`` and ``exhausted_by_money``. The money is drawn and
    named only if it runs out in some run. Returns the share of runs where
    neither limit binds within the horizon.
    """
    to_date = np.vectorize(lambda w: pd.Timestamp(start) + pd.Timedelta(weeks=float(w)))
    bottom: np.ndarray | None = None
    lines = []
    for metric, words, bar_style, line_style in _LIMITS:
        profile = tables.exhaustion_profile(limit_weeks(runs)[metric], horizon_weeks, bin_weeks)
        if metric == "exhausted_by_money" and profile.never == 1.0:
            continue
        ax.bar(
            to_date(profile.edges[:-1]),
            profile.period_share,
            bottom=bottom,
            width=timedelta(weeks=bin_weeks),
            align="edge",
            edgecolor=GREYS[1],
            label=f"{words} in that {format_weeks(bin_weeks, 0, unit=False)}-week period",
            **bar_style,
        )
        bottom = profile.period_share if bottom is None else bottom + profile.period_share
        ax.step(
            to_date(profile.weeks),
            profile.cumulative,
            where="post",
            lw=1.8,
            label=f"{words} by that date",
            **line_style,
        )
        lines.append(_binding_text(words, profile, start))
    exhausted = runs["exhausted"].to_numpy(dtype=float)
    never = 1.0 - float(exhausted.mean()) if len(exhausted) else 1.0
    if len(lines) == 1:
        lines.append("Money is left in every run")
    lines.append(f"Neither within {format_weeks(horizon_weeks, 0)}: {format_share(never)} of runs")
    box = {"boxstyle": "round", "fc": "white", "ec": GREYS[1]}
    ax.text(0.02, 0.97, "\n".join(lines), transform=ax.transAxes, va="top", ha="left", fontsize=8, bbox=box)
    ax.axvline(to_date(horizon_weeks), color="black", ls=":", lw=1)
    ax.set_ylim(0, min(1.0, max(0.25, 1.6 * (1 - never))))
    ax.set_xlim(to_date(0.0), to_date(horizon_weeks + bin_weeks))
    percent_axis(ax.yaxis)
    date_axis(ax.xaxis, horizon_weeks)
    ax.set_ylabel("share of runs (%)", fontsize=8)
    ax.set_xlabel("date the limit binds (dotted line: end of the horizon)", fontsize=8)
    style_axes(ax)
    return never


def _binding_text(words: str, profile: tables.ExhaustionProfile, start: date) -> str:
    """'Places fill: 20% of runs, median 03 May 2027' for the text box of :func:`draw_exhaustion`."""
    text = f"{words[4].upper()}{words[5:]}: {format_share(1 - profile.never)} of runs"
    if math.isfinite(profile.median_week):
        text += f", median {start + timedelta(weeks=profile.median_week):%d %b %Y}"
    return text


def exhaustion_chart(
    replications: pd.DataFrame,
    limits: Mapping[str, Mapping[str, float]],
    labels: Mapping[str, str],
    meta: Mapping[str, Any],
) -> Figure:
    """When each scheme's places fill or its money runs out, over runs; and how often neither does."""
    whole = _whole(replications)
    schemes = _schemes(whole, labels)
    start = date.fromisoformat(str(meta["start_date"])[:10])
    horizon = float(meta["horizon_weeks"])
    fig = new_figure(5.2 * len(schemes) + 0.4, 4.6)
    axes = fig.subplots(1, len(schemes), squeeze=False)
    for col, scheme in enumerate(schemes):
        ax = axes[0][col]
        draw_exhaustion(ax, whole[whole["scheme"] == scheme], start, horizon)
        ax.set_title(f"{scheme_label(scheme, labels)}: {_limits_words(limits.get(scheme, {}))}", fontsize=10)
        ax.legend(fontsize=7, loc="upper right", frameon=False)
    set_title(fig, EXHAUSTION_TITLE)
    add_footer(fig, meta)
    return fig


#: The exhaustion figure's title (the brief's panel says the same).
EXHAUSTION_TITLE = "Which limit binds, and when: the places or the money?"


def _limits_words(limit: Mapping[str, float]) -> str:
    """'400 places, HK$100.0M' (what is known of a scheme's limits)."""
    parts = []
    if limit.get("places"):
        parts.append(count_words(limit["places"], "place"))
    if limit.get("budget_hkd"):
        parts.append(format_hkd(limit["budget_hkd"]))
    return ", ".join(parts) or "places and money"


def draw_intervals(
    ax: Any,
    rows: Sequence[tuple[str, np.ndarray]],
    metric: str,
    values: bool = True,
) -> None:
    """One row per label: the mean (diamond), 50% (thick) and 90% (thin) of runs; ``values`` in words."""
    y = np.arange(len(rows))[::-1]
    right = 0.0
    for yi, (_label, sample) in zip(y, rows, strict=True):
        s = tables.interval_summary(sample)
        if s is None:
            ax.text(0.0, yi, "  not defined in any run", va="center", fontsize=8, color=GREYS[1])
            continue
        ax.plot([s.q05, s.q95], [yi, yi], color=GREYS[1], lw=2, solid_capstyle="butt")
        ax.plot([s.q25, s.q75], [yi, yi], color=INK, lw=6, solid_capstyle="butt")
        ax.plot([s.mean], [yi], marker="D", color="white", mec="black", ms=6)
        right = max(right, s.q95)
        if values:
            low, high = (format_value(q, metric).removesuffix(" weeks") for q in (s.q05, s.q95))
            text = f"{format_value(s.mean, metric)}  ({low} to {high})"
            ax.annotate(text, (s.q95, yi), xytext=(6, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(y, [label for label, _ in rows], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(left=0, right=max(right, 1e-9) * (1.6 if values else 1.1))
    if metric.endswith("_hkd"):
        hkd_axis(ax.xaxis)
    style_axes(ax, grid="x")


def interval_legend() -> tuple[list[Any], list[str]]:
    handles = [
        Line2D([], [], marker="D", color="white", mec="black", ms=6, lw=0),
        Line2D([], [], color=INK, lw=6),
        Line2D([], [], color=GREYS[1], lw=2),
    ]
    return handles, ["mean over runs", "50% of runs", "90% of runs"]


def wait_chart(
    replications: pd.DataFrame,
    timeseries: pd.DataFrame,
    labels: Mapping[str, str],
    meta: Mapping[str, Any],
) -> Figure:
    """Waiting time from application to decision, and the queue waiting for review over time."""
    whole = _whole(replications)
    schemes = _schemes(whole, labels)
    fig = new_figure(12, 1.4 * len(schemes) + 3.0)
    left, right = fig.subplots(1, 2, width_ratios=(1.1, 1))
    rows = []
    for scheme in schemes:
        mine = whole[whole["scheme"] == scheme]
        name = scheme_label(scheme, labels)
        who = "operator" if scheme in intermediary_schemes(meta) else "firm"  # MODEL.md 6b
        rows.append((f"{name}\nmedian {who}", mine["wait_median_weeks"].to_numpy()))
        rows.append((f"{name}\nslowest 10%", mine["wait_p90_weeks"].to_numpy()))
    draw_intervals(left, rows, "wait_median_weeks")
    left.set_xlabel("weeks from application to decision", fontsize=8)
    left.set_title(f"{metric_label('wait_median_weeks')}, and its slowest 10%", fontsize=10)
    queue = timeseries[timeseries["series"] == "queue"]
    for k, scheme in enumerate(schemes):
        frame = queue[queue["scheme"] == scheme]
        x = pd.to_datetime(frame["date"])
        style = {"color": GREYS[2], "lw": 0} if k % 2 == 0 else {"fc": "none", "ec": GREYS[1], "hatch": "///"}
        right.fill_between(x, frame["q25"], frame["q75"], **style)
        label = f"{scheme_label(scheme, labels)} (median, 50% band)"
        right.plot(x, frame["q50"], color=INK, ls=("-", "--", ":")[k % 3], lw=1.6, label=label)
    right.set_ylim(bottom=0)
    date_axis(right.xaxis, float(queue["week"].max()) if len(queue) else 52.0)
    right.set_xlabel("date", fontsize=8)
    right.set_ylabel("applications waiting for a reviewer", fontsize=8)
    right.set_title("Queue waiting for review", fontsize=10)
    right.legend(fontsize=7, frameon=False, loc="upper left")
    style_axes(right)
    set_title(fig, "How long do firms wait for a decision?")
    legend_below(fig, *interval_legend())
    add_footer(fig, meta)
    return fig


def value_chart(replications: pd.DataFrame, labels: Mapping[str, str], meta: Mapping[str, Any]) -> Figure:
    """Public cost per additional upgrade and the benefit-cost ratio, as intervals over runs; an
    intermediary scheme (no upgrades: its value for money is per start-up, MODEL.md 6b) only where
    its start-ups' benefit-cost ratio is given."""
    whole = _whole(replications)
    operators = {s for s, g in whole.groupby("scheme") if tables.is_intermediary(g)}
    schemes = _schemes(whole, labels)
    fig = new_figure(12, 0.7 * len(schemes) + 2.6)
    cost_ax, ratio_ax = fig.subplots(1, 2)

    windows = [("", "by scheme end")]
    if float(meta.get("follow_up_weeks", 0.0)) > 0:
        windows.append((FOLLOW_UP_SUFFIX, "by follow-up end"))

    def rows(metric: str) -> list[tuple[str, np.ndarray]]:
        """Each scheme's runs, counted to the scheme's end and (with a follow-up) to its end."""
        return [
            (
                scheme_label(s, labels) + (f", {words}" if len(windows) > 1 else ""),
                whole.loc[whole["scheme"] == s, metric + suffix].to_numpy(),
            )
            for s in schemes
            for suffix, words in windows
            if s not in operators or whole.loc[whole["scheme"] == s, metric + suffix].notna().any()
        ]

    draw_intervals(cost_ax, rows("cost_per_additional_hkd"), "cost_per_additional_hkd")
    cost_ax.set_xlabel(axis_label("cost_per_additional_hkd"), fontsize=8)
    cost_ax.set_title("Cost per upgrade that would not happen without the grant", fontsize=10)
    draw_intervals(ratio_ax, rows("benefit_cost_ratio"), "benefit_cost_ratio")
    ratio_ax.axvline(1.0, color="black", ls="--", lw=1)
    ratio_ax.annotate(
        "benefits = costs",
        (1.0, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        fontsize=7,
        va="top",
    )
    ratio_ax.set_xlim(left=0, right=max(ratio_ax.get_xlim()[1], 1.3))
    ratio_ax.set_xlabel(axis_label("benefit_cost_ratio"), fontsize=8)
    ratio_ax.set_title(metric_label("benefit_cost_ratio"), fontsize=10)
    set_title(fig, "What does an additional upgrade cost, and do the benefits exceed the costs?")
    legend_below(fig, *interval_legend())
    add_footer(fig, meta)
    return fig


#: The bars of the money-by-year figure: (series, words, bar style).
_MONEY_BARS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("committed_hkd", "committed", {"facecolor": GREYS[2], "edgecolor": INK, "lw": 0.8}),
    ("paid_hkd", "paid", {"facecolor": "white", "edgecolor": INK, "hatch": "///", "lw": 0.8}),
)


def _year_tick(row: pd.Series) -> str:
    """'2025-26', with the part of the year covered when the run covers only part of it."""
    label = str(row["financial_year"])
    if "first_week_end" not in row or "last_week_end" not in row:
        return label
    year = int(label[:4])
    first, last = pd.Timestamp(row["first_week_end"]), pd.Timestamp(row["last_week_end"])
    if first > pd.Timestamp(year, 4, 7):
        return f"{label}\n(from {first:%d %b %Y})"
    if last < pd.Timestamp(year + 1, 3, 25):
        return f"{label}\n(to {last:%d %b %Y})"
    return label


def draw_paired_bars(
    ax: Any, rows: pd.DataFrame, bars: Sequence[tuple[str, str, dict[str, Any]]]
) -> np.ndarray:
    """Two quantities side by side per row of ``rows``: bars at ``<name>_mean``, the 5-95% range of
    runs (``<name>_p05`` to ``<name>_p95``) as drawn lines, not error bars: in a skewed row (a
    quantity present in a few runs only) the mean can lie above the 95th percentile. Returns the
    rows' x positions."""
    x = np.arange(len(rows))
    width = 0.38
    for i, (name, _words, style) in enumerate(bars):
        mean = rows[f"{name}_mean"].to_numpy(dtype=float)
        lo, hi = rows[f"{name}_p05"].to_numpy(dtype=float), rows[f"{name}_p95"].to_numpy(dtype=float)
        where = x + (i - 0.5) * width
        ax.bar(where, mean, width=width, **style)
        ax.vlines(where, lo, hi, color="black", lw=1)
        ax.scatter(np.r_[where, where], np.r_[lo, hi], marker="_", color="black", s=30, lw=1, zorder=3)
    return x


def draw_money_by_year(ax: Any, rows: pd.DataFrame) -> None:
    """Money committed and paid in each financial year: bars of the mean side by side, 5-95% of runs."""
    x = draw_paired_bars(ax, rows, _MONEY_BARS)
    ax.set_xticks(x, [_year_tick(r) for _, r in rows.iterrows()], fontsize=8)
    ax.set_xlabel("financial year (1 April - 31 March)", fontsize=8)
    ax.set_ylabel("HK$ in the year", fontsize=8)
    hkd_axis(ax.yaxis)
    style_axes(ax, grid="y")


def money_by_year_chart(money: pd.DataFrame, labels: Mapping[str, str], meta: Mapping[str, Any]) -> Figure:
    """Per scheme, money committed and paid in each Hong Kong financial year (mean, 5-95% of runs)."""
    schemes = _schemes(money, labels)
    fig = new_figure(8, 2.8 * len(schemes) + 1.2)
    axes = fig.subplots(len(schemes), 1, squeeze=False)
    for row, scheme in enumerate(schemes):
        ax = axes[row][0]
        draw_money_by_year(ax, money[money["scheme"] == scheme])
        ax.set_title(scheme_label(scheme, labels), fontsize=10, loc="left")
    set_title(fig, "How much money is committed and paid in each financial year?")
    handles: list[Any] = [Patch(**style) for _, _, style in _MONEY_BARS]
    handles.append(Line2D([], [], color="black", lw=1))
    words = [f"money {words} (mean of runs)" for _, words, _ in _MONEY_BARS]
    legend_below(fig, handles, [*words, "90% of runs"])
    add_footer(fig, meta)
    return fig
