"""Figures of comparisons, sweeps and sensitivity analyses, and the set of figures
that each kind of result folder supports.

Chart functions take tables (``comparison.csv``, ``points.parquet``,
``indices.csv``) and a manifest dict and return a Figure; :func:`figures_for`
picks the charts that fit a folder and :func:`plot_folder` writes them as PNG
and a vector format. Nothing here runs a model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.engines.metrics import FOLLOW_UP_SUFFIX
from sim.engines.programme_metrics import DIRECT_ONLY
from sim.experiments.compare import COMPARED_INTERMEDIARY, SUBSET_METRICS, compared_metrics
from sim.experiments.sensitivity import implausible_indices
from sim.outputs import funded_chart, outfiles, plots, store, tables
from sim.outputs.compare_words import compared_words, operator_schemes
from sim.outputs.folders import ResultFolder, read_folder
from sim.outputs.heat_noise import ColourScale, colour_scale
from sim.outputs.numbers import (
    SHARE_METRICS,
    format_count,
    format_number,
    format_ratio,
    format_share,
    is_share,
)
from sim.outputs.style import (
    COLORMAP,
    GREYS,
    INK,
    add_footer,
    axis_label,
    format_value,
    hkd_axis,
    legend_below,
    metric_label,
    metric_unit,
    new_figure,
    parameter_label,
    percent_axis,
    save_figure,
    scheme_label,
    set_title,
    style_axes,
)
from sim.spec.suggest import did_you_mean

__all__ = [
    "COMPARE_METRICS",
    "compared_rows",
    "SWEEP_OUTPUTS",
    "comparison_chart",
    "draw_differences",
    "sweep_chart",
    "sweep_lines",
    "sweep_heatmap",
    "tornado_chart",
    "morris_chart",
    "sobol_chart",
    "figures_for",
    "plot_folder",
    "main_scheme",
]

#: Metrics a comparison shows, in reading order: those the comparison computes (an intermediary
#: scheme's own last).
COMPARE_METRICS: tuple[str, ...] = compared_metrics(follow_up=True) + COMPARED_INTERMEDIARY

#: A direct scheme's rows that an intermediary scheme's comparison leaves out: awards, upgrades
#: and their value for money (it shows operators and start-ups instead; MODEL.md 6b), except the
#: benefit-cost ratio, which its start-ups' impact section gives (or which is shown as not given).
_NOT_FOR_OPERATORS: frozenset[str] = frozenset(
    (*DIRECT_ONLY, "awarded", "completed", "completed" + FOLLOW_UP_SUFFIX)
) - {"benefit_cost_ratio", "benefit_cost_ratio" + FOLLOW_UP_SUFFIX}

#: Outputs a sweep shows unless asked for others.
SWEEP_OUTPUTS: tuple[str, ...] = ("additional_upgrades", "benefit_cost_ratio")

#: What a Sobol' panel says when an index lies outside 0-100% beyond its interval.
IMPLAUSIBLE_NOTE = "Warning: shares outside 0-100%: too few samples"

#: Colour of warnings drawn on figures.
WARNING_COLOR = "#b2182b"

#: A sweep heatmap of an exhaustion week hatches cells where fewer runs than this exhaust.
EXHAUSTION_SHOWN_ABOVE = 0.25

#: Week metrics defined only in runs where a limit binds, and the share of runs they are over.
WEEK_SHARES: dict[str, str] = {
    "exhaustion_week": "exhausted",
    "places_fill_week": "exhausted_by_places",
    "money_runs_out_week": "exhausted_by_money",
}

#: Normal quantile of a two-sided 90% interval.
Z90 = 1.6448536269514722


def main_scheme(paths: Sequence[str], schemes: Sequence[str]) -> str:
    """The scheme a set of parameters is about (the first named in a path), else the first scheme."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > 2 and parts[0] == "schemes" and parts[1] in schemes:
            return parts[1]
    return schemes[0]


def _short_parameter(path: str, scheme: str, labels: Mapping[str, str]) -> str:
    """A parameter's words, without the scheme's name when the figure is about that scheme."""
    text = parameter_label(path, labels)
    prefix = f"{scheme_label(scheme, labels)}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _value_axis(axis: Any, metric: str) -> None:
    if metric.endswith("_hkd"):
        hkd_axis(axis)


def _effect_axis(axis: Any, metric: str) -> None:
    """An axis of effects on ``metric``: HK$ or grouped numbers, few enough ticks not to collide."""
    axis.set_major_locator(MaxNLocator(5))
    if metric.endswith("_hkd"):
        hkd_axis(axis)
    elif not is_share(metric):
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_number(v, 6)))


# ------------------------------------------------------------------ compare


def compared_rows(comparison: pd.DataFrame) -> pd.DataFrame:
    """The rows of :data:`COMPARE_METRICS` a comparison shows, in that order (each scheme's rows
    together): the money running out is shown only for a scheme where it runs out under A or B."""
    order = {m: i for i, m in enumerate(COMPARE_METRICS)}
    rows = comparison[comparison["metric"].isin(order)]
    funded = rows[(rows["metric"] == "operators_funded") & (rows["a_mean"].notna() | rows["b_mean"].notna())]
    operators = rows["scheme"].isin(set(funded["scheme"]))
    rows = rows[
        ~(operators & rows["metric"].isin(_NOT_FOR_OPERATORS))
        & ~(~operators & rows["metric"].isin(COMPARED_INTERMEDIARY))
    ]
    money = rows["metric"] == "exhausted_by_money"
    never = money & (rows["a_mean"].fillna(0) == 0) & (rows["b_mean"].fillna(0) == 0)
    rows = rows[~never]
    return rows.assign(order=rows["metric"].map(order)).sort_values("order", kind="stable")


def _relative(value: float, base: float, metric: str) -> float:
    """A change in % of A's value (a share of runs: in percentage points)."""
    if is_share(metric):
        return 100.0 * value
    return 100.0 * value / abs(base) if base and math.isfinite(base) else math.nan


def _interval_text(r: pd.Series) -> str:
    m = r["metric"]
    if is_share(m):
        return f"{100 * r['diff_mean']:+.0f} pp  ({100 * r['diff_lo']:+.0f} to {100 * r['diff_hi']:+.0f} pp)"
    unit = " weeks" if m.endswith("_weeks") else ""
    low, high = (format_value(r[k], m, signed=True).removesuffix(" weeks") for k in ("diff_lo", "diff_hi"))
    return f"{format_value(r['diff_mean'], m, signed=True)}  ({low} to {high}{unit})"


def draw_differences(ax: Any, rows: pd.DataFrame) -> None:
    """One row per metric: A -> B, and the change in % of A, paired (thick) and unpaired (wide band)."""
    y = np.arange(len(rows))[::-1]
    ticks = []
    paired_extent, unpaired_extent = 1.0, 1.0
    operators = operator_schemes(rows)  # an intermediary scheme's rows in its own words
    for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
        m = r["metric"]
        words = compared_words(m, r["scheme"] in operators)
        ticks.append(f"{words}\n{format_value(r['a_mean'], m)} → {format_value(r['b_mean'], m)}")
        rel = [_relative(r[k], r["a_mean"], m) for k in ("diff_mean", "diff_lo", "diff_hi")]
        unpaired = [_relative(r[k], r["a_mean"], m) for k in ("unpaired_lo", "unpaired_hi")]
        if all(math.isfinite(v) for v in unpaired):
            ax.plot(unpaired, [yi, yi], color=GREYS[2], lw=9, solid_capstyle="butt")
            unpaired_extent = max(unpaired_extent, *(abs(v) for v in unpaired))
        if all(math.isfinite(v) for v in rel):
            ax.plot(rel[1:], [yi, yi], color=INK, lw=3, solid_capstyle="butt")
            ax.plot([rel[0]], [yi], marker="o", color="white", mec="black", ms=6)
            paired_extent = max(paired_extent, *(abs(v) for v in rel))
        elif math.isfinite(r["diff_mean"]):
            ax.annotate(
                "A is zero: no % change", (0, yi), xytext=(4, 6), textcoords="offset points", fontsize=6
            )
        ax.annotate(
            _interval_text(r),
            (1.0, yi),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    ax.axvline(0, color="black", lw=0.8)
    extent = min(unpaired_extent, 2 * paired_extent)
    ax.set_xlim(-extent * 1.1, extent * 1.1)
    ax.set_yticks(y, ticks, fontsize=7)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlabel("change from A to B (% of A; share of runs: percentage points)", fontsize=8)
    style_axes(ax, grid="x")


def comparison_chart(comparison: pd.DataFrame, labels: Mapping[str, str], meta: Mapping[str, Any]) -> Figure:
    """Headline metrics of A and B side by side, with the mean paired difference and its confidence
    interval (the comparison's level, 95% by default). The weeks a limit binds are left out: they
    are defined over a subset of runs, and the comparison table gives them with their run counts."""
    table = compared_rows(comparison)
    table = table[~table["metric"].isin(SUBSET_METRICS)]
    if table.empty:
        table = comparison.assign(order=range(len(comparison)))
    chosen = list(dict.fromkeys(table["metric"]))
    present = list(dict.fromkeys(table["scheme"]))
    schemes = [s for s in labels if s in present] + [s for s in present if s not in labels]
    changed = [s for s in schemes if (table.loc[table["scheme"] == s, "diff_mean"].abs() > 0).any()]
    same = [s for s in schemes if s not in changed]
    shown = changed or schemes
    fig = new_figure(6.4 * len(shown) + 1.6, 0.42 * len(chosen) + 2.2)
    axes = fig.subplots(1, len(shown), squeeze=False)[0]
    for ax, scheme in zip(axes, shown, strict=True):
        draw_differences(ax, table[table["scheme"] == scheme].sort_values("order"))
        ax.set_title(scheme_label(scheme, labels), fontsize=10, loc="left")
    a, b = meta.get("scenario_a", "A"), meta.get("scenario_b", "B")
    set_title(fig, f"What changes from {a} (A) to {b} (B)?")
    handles: list[Artist] = [
        Line2D([], [], marker="o", color="white", mec="black", ms=6, lw=0),
        Line2D([], [], color=INK, lw=3),
        Line2D([], [], color=GREYS[2], lw=9),
    ]
    level = (
        format_share(float(table["confidence"].iloc[0])) if "confidence" in table and len(table) else "90%"
    )
    names = ["mean difference", f"{level} interval, paired runs", f"{level} interval if runs were not paired"]
    if same and changed:
        handles.append(Patch(color="none"))
        names.append("unchanged: " + ", ".join(scheme_label(s, labels) for s in same))
    legend_below(fig, handles, names, ncol=2)
    add_footer(fig, meta)
    return fig


# ------------------------------------------------------------------ sweeps


def _parameters(meta: Mapping[str, Any], points: pd.DataFrame) -> list[dict[str, Any]]:
    """The varied parameters: from the manifest, else the columns that are not outputs."""
    given = [p for p in meta.get("parameters") or [] if isinstance(p, dict) and p.get("path") in points]
    if given:
        return given
    skip = {"point", "scheme"}
    return [{"path": c} for c in points.columns if c not in skip and not c.endswith(("_mean", "_se"))]


def _log_scale(parameter: Mapping[str, Any]) -> bool:
    return parameter.get("scale") == "log"


def _mark_rare_weeks(ax: Any, rows: pd.DataFrame, x: np.ndarray, mean: np.ndarray, output: str) -> None:
    """Label each point of an exhaustion week with the share of runs it is over, and ring the
    points where that share is too small to read (see EXHAUSTION_SHOWN_ABOVE)."""
    column = f"{WEEK_SHARES[output]}_mean"
    if column not in rows:
        return
    share = rows[column].to_numpy(dtype=float)
    rare = _rare_points(rows, output)
    ax.plot(x[rare], mean[rare], lw=0, marker="o", ms=7, mfc="white", mec=WARNING_COLOR, mew=1.2)
    for xi, yi, si in zip(x, mean, share, strict=True):
        if math.isfinite(yi):
            ax.annotate(format_share(si), (xi, yi), xytext=(0, 7), textcoords="offset points", fontsize=7)


def sweep_lines(
    points: pd.DataFrame,
    parameter: Mapping[str, Any],
    output: str,
    scheme: str,
    labels: Mapping[str, str],
    meta: Mapping[str, Any],
    replications: pd.DataFrame | None = None,
) -> Figure:
    """One parameter: the output's mean at each value, the 90% confidence interval of that mean, and
    90% of runs if known (not for a share of runs, whose runs are 0 or 1)."""
    path = parameter["path"]
    rows = points[points["scheme"] == scheme].sort_values(path)
    x = rows[path].to_numpy(dtype=float)
    mean = rows[f"{output}_mean"].to_numpy(dtype=float)
    se = np.nan_to_num(rows[f"{output}_se"].to_numpy(dtype=float))
    fig = new_figure(8, 5)
    ax = fig.subplots()
    handles: list[Artist] = []
    names: list[str] = []
    spread = tables.point_spread(replications, scheme, output)
    share = output in SHARE_METRICS  # a share of runs: its interval is a confidence interval only
    if spread is not None and not share:
        spread = spread.reindex(rows["point"].to_numpy())
        ax.fill_between(x, spread["q05"], spread["q95"], color=GREYS[3], lw=0)
        handles.append(Patch(color=GREYS[3]))
        names.append("90% of runs")
    ax.fill_between(x, mean - Z90 * se, mean + Z90 * se, color=GREYS[1], lw=0)
    ax.plot(x, mean, color=INK, lw=1.8, marker="o", ms=4)
    handles += [Patch(color=GREYS[1]), Line2D([], [], color=INK, lw=1.8, marker="o", ms=4)]
    names += [
        "90% confidence interval of the share" if share else "90% confidence interval of the mean",
        "share of runs" if share else "mean over runs",
    ]
    if output in WEEK_SHARES:
        names[-1] = "mean over the runs where it happens (label: % of runs)"
        _mark_rare_weeks(ax, rows, x, mean, output)
        handles.append(Line2D([], [], color=WARNING_COLOR, marker="o", mfc="white", lw=0))
        names.append(f"fewer than {format_share(EXHAUSTION_SHOWN_ABOVE)} of runs: too few to read")
    if _log_scale(parameter):
        ax.set_xscale("log")
    _value_axis(ax.yaxis, output)
    _value_axis(ax.xaxis, path)
    ax.set_xlabel(_short_parameter(path, scheme, labels), fontsize=9)
    ax.set_ylabel(axis_label(output), fontsize=9)
    ax.set_title(scheme_label(scheme, labels), fontsize=10, loc="left")
    style_axes(ax)
    what = _short_parameter(path, scheme, labels).split(" (")[0]
    set_title(fig, f"What happens to {metric_label(output).lower()} as the {what} changes?")
    legend_below(fig, handles, names, ncol=2 if sum(map(len, names)) > 90 else None)  # long: two rows
    add_footer(fig, meta)
    return fig


def _is_grid(rows: pd.DataFrame, a: str, b: str) -> bool:
    na, nb = rows[a].nunique(), rows[b].nunique()
    return na * nb == len(rows) and na <= 30 and nb <= 30 and not rows.duplicated([a, b]).any()


def _tick_text(value: float, path: str) -> str:
    return format_value(value, path) if path.endswith("_hkd") else format_number(value, 3)


def _cell_text(value: float, output: str, share: float | None) -> str:
    """A heatmap cell's number, with the share of runs it is over for an exhaustion week."""
    text = format_value(value, output).removesuffix(" weeks")
    return text if share is None else f"{text}\n{format_share(share)} of runs"


def _rare_cells(ax: Any, share: np.ndarray) -> None:
    """Hatch the grey cells whose week is over too few runs to read (see EXHAUSTION_SHOWN_ABOVE)."""
    for (i, j), v in np.ndenumerate(share):
        if not v >= EXHAUSTION_SHOWN_ABOVE:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fc=GREYS[3], ec=GREYS[1], hatch="///", lw=0.0))


def _draw_grid(
    ax: Any, rows: pd.DataFrame, a: str, b: str, output: str, scale: ColourScale
) -> ScalarMappable:
    """The grid of an output's means on colour ``scale``; an exhaustion week is masked (hatched)
    where few runs exhaust, and every cell gives the share of runs its week is over."""
    grid = rows.pivot_table(index=b, columns=a, values=f"{output}_mean", aggfunc="mean", dropna=False)
    values = grid.to_numpy(dtype=float)
    share: np.ndarray | None = None
    if output in WEEK_SHARES and f"{WEEK_SHARES[output]}_mean" in rows:
        share = (
            rows.pivot_table(index=b, columns=a, values=f"{WEEK_SHARES[output]}_mean", dropna=False)
            .reindex(index=grid.index, columns=grid.columns)
            .to_numpy(dtype=float)
        )
        values = np.where(share >= EXHAUSTION_SHOWN_ABOVE, values, np.nan)
        _rare_cells(ax, share)
    low, high = scale.low, scale.high
    image = ax.imshow(
        np.ma.masked_invalid(values), origin="lower", aspect="auto", cmap=COLORMAP, vmin=low, vmax=high
    )
    ax.set_xticks(range(grid.shape[1]), [_tick_text(v, a) for v in grid.columns], fontsize=8)
    ax.set_yticks(range(grid.shape[0]), [_tick_text(v, b) for v in grid.index], fontsize=8)
    if grid.size <= 144:
        for (i, j), v in np.ndenumerate(grid.to_numpy(dtype=float)):
            dark = np.isfinite(values[i, j]) and high > low and (v - low) / (high - low) < 0.55
            cell = _cell_text(v, output, None if share is None else float(share[i, j]))
            ax.text(j, i, cell, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    ax.tick_params(axis="x", labelrotation=30 if grid.shape[1] > 6 else 0)
    return image


def _rare_points(rows: pd.DataFrame, output: str) -> np.ndarray:
    """Which rows' exhaustion week is over too few runs to read (all False for other outputs)."""
    share = f"{WEEK_SHARES.get(output, '')}_mean"
    if output not in WEEK_SHARES or share not in rows:
        return np.zeros(len(rows), dtype=bool)
    return ~(rows[share].to_numpy(dtype=float) >= EXHAUSTION_SHOWN_ABOVE)


def _draw_scattered(ax: Any, rows: pd.DataFrame, parameters: Sequence[Mapping[str, Any]], output: str) -> Any:
    """Scattered points coloured by the output's mean (a design that is not a grid); for an
    exhaustion week, points where few runs exhaust are drawn as grey crosses, not coloured."""
    a, b = parameters[0]["path"], parameters[1]["path"]
    rare = _rare_points(rows, output)
    shown = rows[~rare]
    if rare.any():
        ax.scatter(rows.loc[rare, a], rows.loc[rare, b], marker="x", color=GREYS[1], s=30, lw=0.8)
    image = ax.scatter(
        shown[a], shown[b], c=shown[f"{output}_mean"], cmap=COLORMAP, s=40, edgecolors=INK, lw=0.4
    )
    for axis, p in ((ax.xaxis, parameters[0]), (ax.yaxis, parameters[1])):
        _value_axis(axis, p["path"])
    if _log_scale(parameters[0]):
        ax.set_xscale("log")
    if _log_scale(parameters[1]):
        ax.set_yscale("log")
    return image


def _heatmap_subtitle(output: str, scheme: str, labels: Mapping[str, str]) -> str:
    """What a heatmap's cells are: the mean over runs, or over the runs where a limit binds."""
    words = f"{scheme_label(scheme, labels)}: {metric_label(output).lower()}"
    if output not in WEEK_SHARES:
        return f"{words} (mean over runs)"
    return (
        f"{words} (mean over the runs where it happens; % of runs below;\n"
        f"hatched grey or cross: fewer than {format_share(EXHAUSTION_SHOWN_ABOVE)} of runs, too few to read)"
    )


def _heatmap_scale(rows: pd.DataFrame, output: str) -> ColourScale:
    """The colour scale of a heatmap's cells (:mod:`sim.outputs.heat_noise`): their means where they
    are shown (an exhaustion week only where enough runs exhaust) against their standard errors."""
    means = rows[f"{output}_mean"].to_numpy(dtype=float)
    means = np.where(_rare_points(rows, output), np.nan, means)
    se = f"{output}_se"
    ses = rows[se].to_numpy(dtype=float) if se in rows else np.full(len(rows), np.nan)
    return colour_scale(means, ses)


def sweep_heatmap(
    points: pd.DataFrame,
    parameters: Sequence[Mapping[str, Any]],
    output: str,
    scheme: str,
    labels: Mapping[str, str],
    meta: Mapping[str, Any],
) -> Figure:
    """Two parameters: the output's mean over the grid (or over scattered points)."""
    a, b = parameters[0]["path"], parameters[1]["path"]
    rows = points[points["scheme"] == scheme]
    fig = new_figure(8.5, 6)
    ax = fig.subplots()
    grid = _is_grid(rows, a, b)
    scale = _heatmap_scale(rows, output)
    image = (
        _draw_grid(ax, rows, a, b, output, scale) if grid else _draw_scattered(ax, rows, parameters, output)
    )
    image.set_clim(scale.low, scale.high)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(axis_label(output), fontsize=8)
    bar.ax.tick_params(labelsize=8)
    if output.endswith("_hkd"):
        hkd_axis(bar.ax.yaxis)
    ax.set_xlabel(_short_parameter(a, scheme, labels), fontsize=9)
    ax.set_ylabel(_short_parameter(b, scheme, labels), fontsize=9)
    subtitle = _heatmap_subtitle(output, scheme, labels)
    ax.set_title(subtitle + (f";\n{scale.note}" if scale.note else ""), fontsize=10, loc="left")
    set_title(fig, f"How do the two levers together change {metric_label(output).lower()}?")
    add_footer(fig, meta)
    return fig


def tornado_chart(
    points: pd.DataFrame,
    parameters: Sequence[Mapping[str, Any]],
    output: str,
    scheme: str,
    labels: Mapping[str, str],
    meta: Mapping[str, Any],
) -> Figure:
    """Three or more parameters: the swing in the output as each moves from its lowest to highest value."""
    rows = points[points["scheme"] == scheme]
    paths = [p["path"] for p in parameters]
    effects = tables.linear_effects(rows, paths, f"{output}_mean")
    effects["swing"] = (effects["at_high"] - effects["at_low"]).abs()
    effects = effects.sort_values("swing")
    fig = new_figure(9, 0.45 * len(paths) + 2.4)
    ax = fig.subplots()
    base = float(effects["base"].iloc[0])
    y = np.arange(len(effects))
    ax.barh(y, effects["at_low"] - base, left=base, color=GREYS[2], edgecolor=INK, lw=0.6)
    ax.barh(y, effects["at_high"] - base, left=base, color=GREYS[0], edgecolor=INK, lw=0.6, hatch="//")
    ax.axvline(base, color="black", lw=0.8)
    ticks = [
        f"{_short_parameter(r.path, scheme, labels)}\n"
        f"{_tick_text(r.low, r.path)} to {_tick_text(r.high, r.path)}"
        for r in effects.itertuples()
    ]
    ax.set_yticks(y, ticks, fontsize=7)
    _value_axis(ax.xaxis, output)
    ax.set_xlabel(axis_label(output), fontsize=9)
    r2 = float(effects["r2"].iloc[0])
    ax.set_title(
        f"{scheme_label(scheme, labels)}: linear fit over {format_count(len(rows))} points "
        f"(R² {format_ratio(r2)})",
        fontsize=9,
        loc="left",
    )
    style_axes(ax, grid="x")
    set_title(fig, f"Which parameters move {metric_label(output).lower()} most?")
    legend_below(
        fig,
        [Patch(fc=GREYS[2], ec=INK), Patch(fc=GREYS[0], ec=INK, hatch="//"), Line2D([], [], color="black")],
        ["parameter at its lowest value", "parameter at its highest value", "all at mid-range"],
    )
    add_footer(fig, meta)
    return fig


def sweep_chart(
    points: pd.DataFrame,
    meta: Mapping[str, Any],
    output: str,
    labels: Mapping[str, str],
    scheme: str | None = None,
    replications: pd.DataFrame | None = None,
) -> Figure:
    """Lines (one parameter), a heatmap (two) or a tornado (more) of one output."""
    parameters = _parameters(meta, points)
    schemes = list(dict.fromkeys(points["scheme"]))
    scheme = scheme or main_scheme(
        [p["path"] for p in parameters], [s for s in labels if s in schemes] or schemes
    )
    if f"{output}_mean" not in points:
        raise ValueError(
            f"output '{output}' is not in points.parquet{did_you_mean(output, point_outputs(points))}"
        )
    if len(parameters) == 1:
        return sweep_lines(points, parameters[0], output, scheme, labels, meta, replications)
    if len(parameters) == 2:
        return sweep_heatmap(points, parameters, output, scheme, labels, meta)
    return tornado_chart(points, parameters, output, scheme, labels, meta)


# ------------------------------------------------------------------ sensitivity


def _panel_grid(fig: Figure, n: int) -> list[Any]:
    cols = min(n, 3)
    rows = -(-n // cols)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return list(axes[:n])


def _indices_of(indices: pd.DataFrame, method: str, scheme: str | None) -> tuple[pd.DataFrame, str]:
    rows = indices[indices["method"].str.lower() == method]
    schemes = list(dict.fromkeys(rows["scheme"]))
    scheme = scheme or main_scheme(list(rows["parameter"]), schemes)
    return rows[rows["scheme"] == scheme], scheme


def _overlap(a: Any, b: Any, pad: float) -> float:
    """How far (display units) box ``b`` must move up to clear box ``a``; 0 if they do not overlap."""
    if a.x1 + pad <= b.x0 or b.x1 + pad <= a.x0 or a.y1 + pad <= b.y0 or b.y1 + pad <= a.y0:
        return 0.0
    return a.y1 + pad - b.y0


def _separate(boxes: list[Any], pad: float) -> list[float]:
    """Upward shifts (display units) that make text boxes stop overlapping: boxes are placed from
    the lowest up, each raised just above every placed box it overlaps."""
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i].y0, boxes[i].x0))
    shifts = [0.0] * len(boxes)
    placed: list[Any] = []
    for i in order:
        box = boxes[i]
        for _ in range(len(boxes) + 1):
            rise = max((_overlap(other, box, pad) for other in placed), default=0.0)
            if rise <= 0:
                break
            box = box.translated(0, rise)
            shifts[i] += rise
        placed.append(box)
    return shifts


def _point_label(ax: Any, xy: tuple[float, float], name: str, rise: float = 0.0) -> Any:
    """One point's name beside it, ``rise`` points higher (then with a leader line to the point).

    Labels sit on a white ground and lower labels are drawn over higher ones, so a leader line
    never runs across the words of another label.
    """
    arrow = {"arrowstyle": "-", "color": GREYS[1], "lw": 0.5, "shrinkA": 0, "shrinkB": 2} if rise else None
    low, high = ax.get_xlim()
    left = high > low and (xy[0] - low) / (high - low) > 0.6  # keep the words inside the panel
    text = ax.annotate(
        name,
        xy,
        xytext=(-4 if left else 4, 3 + rise),
        textcoords="offset points",
        ha="right" if left else "left",
        fontsize=6,
        arrowprops=arrow,
        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85},
        zorder=10 - rise / 1000,
    )
    text.set_in_layout(False)  # the layout must not move when labels do
    return text


def label_points(ax: Any, x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> list[Any]:
    """Name each point beside it, moving labels up (with a leader line) until no two overlap.

    Call it once the figure is complete: the layout is drawn and the labels'
    extents measured with the figure's renderer, for the font and size saved.
    """
    points = [(float(xi), float(yi)) for xi, yi in zip(x, y, strict=True)]
    texts = [_point_label(ax, xy, name) for xy, name in zip(points, names, strict=True)]
    fig = ax.get_figure()
    fig.draw_without_rendering()  # the layout as saved; text extents scale with the dpi alike
    shifts = _separate([Text.get_window_extent(t) for t in texts], pad=1.0)
    for i, shift in enumerate(shifts):
        if shift > 0:
            texts[i].remove()
            texts[i] = _point_label(ax, points[i], names[i], shift * 72.0 / fig.dpi)
    return texts


def morris_chart(
    indices: pd.DataFrame, labels: Mapping[str, str], meta: Mapping[str, Any], scheme: str | None = None
) -> Figure:
    """Morris screening: mean absolute effect (mu*) against its spread (sigma), one panel per output."""
    rows, scheme = _indices_of(indices, "morris", scheme)
    outputs = list(dict.fromkeys(rows["output"]))
    named: list[tuple[Any, np.ndarray, np.ndarray, list[str]]] = []
    fig = new_figure(4.6 * min(len(outputs), 3) + 0.4, 4.2 * -(-len(outputs) // 3) + 0.8)
    for ax, output in zip(_panel_grid(fig, len(outputs)), outputs, strict=True):
        r = rows[rows["output"] == output]
        mu, sigma = r["mu_star"].to_numpy(dtype=float), r["sigma"].to_numpy(dtype=float)
        reach = mu + np.nan_to_num(r["mu_star_conf"].to_numpy(dtype=float))
        top = float(np.nanmax(np.concatenate([reach, sigma, [1e-12]]))) * 1.15
        noise = float(np.nanmax(r["noise_se"])) if "noise_se" in r and r["noise_se"].notna().any() else 0.0
        if noise > 0:
            ax.axvspan(0, 2 * noise, color=GREYS[3], lw=0)
        ax.plot([0, top], [0, top], color=GREYS[1], ls="--", lw=0.8)
        ax.errorbar(
            mu,
            sigma,
            xerr=r["mu_star_conf"].to_numpy(dtype=float),
            fmt="o",
            color=INK,
            ecolor=GREYS[1],
            ms=5,
            capsize=2,
        )
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        names = [_short_parameter(path, scheme, labels) for path in r["parameter"]]
        named.append((ax, mu, sigma, names))
        for axis in (ax.xaxis, ax.yaxis):
            _effect_axis(axis, output)
        unit = metric_unit(output)
        ax.set_xlabel(f"mu*: mean absolute effect ({unit})", fontsize=8)
        ax.set_ylabel(f"sigma: spread of the effect ({unit})", fontsize=8)
        ax.set_title(metric_label(output), fontsize=9, loc="left")
        style_axes(ax)
    set_title(fig, f"{scheme_label(scheme, labels)}: which parameters matter, and do they interact?")
    legend_below(
        fig,
        [
            Line2D([], [], marker="o", color=INK, lw=0),
            Line2D([], [], color=GREYS[1], ls="--"),
            Patch(color=GREYS[3]),
        ],
        [
            "parameter (bar: 95% interval of mu*)",
            "sigma = mu*: above it, non-linear or interacting",
            "about the size of simulation noise",
        ],
    )
    add_footer(fig, meta)
    for ax, mu, sigma, names in named:
        label_points(ax, mu, sigma, names)
    return fig


def sobol_chart(
    indices: pd.DataFrame, labels: Mapping[str, str], meta: Mapping[str, Any], scheme: str | None = None
) -> Figure:
    """Sobol' indices: first-order (alone) and total-order (with interactions) share of variance."""
    rows, scheme = _indices_of(indices, "sobol", scheme)
    outputs = list(dict.fromkeys(rows["output"]))
    n_params = rows["parameter"].nunique()
    fig = new_figure(4.8 * min(len(outputs), 3) + 0.6, (0.32 * n_params + 1.6) * -(-len(outputs) // 3) + 0.8)
    for ax, output in zip(_panel_grid(fig, len(outputs)), outputs, strict=True):
        r = rows[rows["output"] == output].sort_values("ST")
        y = np.arange(len(r))
        ax.barh(
            y + 0.2,
            r["ST"].clip(lower=0),
            height=0.4,
            color=GREYS[2],
            edgecolor=INK,
            lw=0.6,
            hatch="//",
            xerr=r["ST_conf"],
            error_kw={"ecolor": "black", "capsize": 2, "lw": 0.8},
        )
        ax.barh(
            y - 0.2,
            r["S1"].clip(lower=0),
            height=0.4,
            color=INK,
            xerr=r["S1_conf"],
            error_kw={"ecolor": GREYS[1], "capsize": 2, "lw": 0.8},
        )
        ax.set_yticks(y, [_short_parameter(p, scheme, labels) for p in r["parameter"]], fontsize=7)
        ax.set_xlim(0, 1.0)
        percent_axis(ax.xaxis)
        ax.set_xlabel("share of the output's variance (%)", fontsize=8)
        if implausible_indices(r).empty:
            ax.set_title(metric_label(output), fontsize=9, loc="left")
        else:
            title = f"{metric_label(output)}\n{IMPLAUSIBLE_NOTE}"
            ax.set_title(title, fontsize=9, loc="left", color=WARNING_COLOR)
        style_axes(ax, grid="x")
    set_title(
        fig, f"{scheme_label(scheme, labels)}: how much of the uncertainty does each parameter explain?"
    )
    legend_below(
        fig,
        [Patch(color=INK), Patch(fc=GREYS[2], ec=INK, hatch="//")],
        ["first order: the parameter alone", "total order: alone and with others (bars: 95% interval)"],
    )
    add_footer(fig, meta)
    return fig


# ------------------------------------------------------------------ folders


def _point_replications(folder: ResultFolder, columns: Sequence[str]) -> pd.DataFrame | None:
    """The per-point replication tables of a one-parameter sweep, if stored."""
    files = sorted((folder.path / "points").glob("point-*.parquet"))
    if not files:
        return None
    frames = []
    for f in files:
        frame = pd.read_parquet(f)
        frames.append(frame[[c for c in ("point", "scheme", "segment", *columns) if c in frame]])
    return pd.concat(frames, ignore_index=True)


def _run_figures(folder: ResultFolder) -> dict[str, Figure]:
    reps, series, summary = folder.table("replications"), folder.table("timeseries"), folder.table("summary")
    labels, limits, meta = folder.labels, folder.limits, folder.meta
    figures = {
        "fan_chart": plots.fan_chart(series, limits, labels, meta),
        "funnel": plots.funnel_chart(summary, labels, meta),
        "exhaustion": plots.exhaustion_chart(reps, limits, labels, meta),
        "wait": plots.wait_chart(reps, series, labels, meta),
        "value_for_money": plots.value_chart(reps, labels, meta),
    }
    if folder.has("money_by_year.csv"):  # folders written before the table existed have none
        figures["money_by_year"] = plots.money_by_year_chart(folder.table("money_by_year"), labels, meta)
    if folder.has("who_is_funded.csv") and folder.has("grant_distribution.csv"):  # likewise
        who, grants = folder.table("who_is_funded"), folder.table("grant_distribution")
        figures["who_is_funded"] = funded_chart.who_is_funded_chart(who, grants, labels, meta)
    return figures


def point_outputs(points: pd.DataFrame) -> list[str]:
    """The outputs a sweep's ``points.parquet`` holds (its ``<output>_mean`` columns)."""
    return [str(c).removesuffix("_mean") for c in points.columns if str(c).endswith("_mean")]


def _sweep_figures(folder: ResultFolder, outputs: Sequence[str] | None) -> dict[str, Figure]:
    points = folder.table("points")
    wanted = list(outputs or _default_sweep_outputs(points, folder.meta, folder.labels))
    missing = [o for o in wanted if f"{o}_mean" not in points]
    if missing:
        hint = did_you_mean(missing[0], point_outputs(points))
        raise ValueError(f"no such output in points.parquet: {', '.join(missing)}{hint}")
    one = len(_parameters(folder.meta, points)) == 1
    reps = _point_replications(folder, wanted) if one else None
    return {
        f"sweep-{o}": sweep_chart(points, folder.meta, o, folder.labels, replications=reps) for o in wanted
    }


def _default_sweep_outputs(
    points: pd.DataFrame, meta: Mapping[str, Any], labels: Mapping[str, str]
) -> list[str]:
    """:data:`SWEEP_OUTPUTS` that the swept scheme has at some point: an intermediary scheme has
    no additional upgrades (MODEL.md 6b), so its sweep draws no empty chart of them."""
    schemes = list(dict.fromkeys(points["scheme"]))
    paths = [p["path"] for p in _parameters(meta, points)]
    scheme = main_scheme(paths, [s for s in labels if s in schemes] or schemes)
    mine = points[points["scheme"] == scheme]
    shown = [o for o in SWEEP_OUTPUTS if f"{o}_mean" in mine and mine[f"{o}_mean"].notna().any()]
    return shown or list(SWEEP_OUTPUTS)


def _sensitivity_figures(folder: ResultFolder, outputs: Sequence[str] | None) -> dict[str, Figure]:
    indices = folder.table("indices")
    if outputs:
        known = list(dict.fromkeys(indices["output"]))
        indices = indices[indices["output"].isin(outputs)]
        if indices.empty:
            hint = did_you_mean(outputs[0], known)
            raise ValueError(f"no indices for output(s) {', '.join(outputs)} in indices.csv{hint}")
    methods = set(indices["method"].str.lower())
    out = {}
    if "morris" in methods:
        out["morris"] = morris_chart(indices, folder.labels, folder.meta)
    if "sobol" in methods:
        out["sobol"] = sobol_chart(indices, folder.labels, folder.meta)
    return out


#: Folders that are written with their figures, and those figures.
_OWN_FIGURES = {
    "calibrate": "prior_posterior.png, posterior_predictive.png",
    "discover": "discovery.png",
}


def figures_for(folder: ResultFolder, outputs: Sequence[str] | None = None) -> dict[str, Figure]:
    """Every figure that fits the folder's kind, by file name (without extension)."""
    if folder.kind == "run":
        return _run_figures(folder)
    if folder.kind == "compare":
        return {"comparison": comparison_chart(folder.table("comparison"), folder.labels, folder.meta)}
    if folder.kind == "sweep":
        return _sweep_figures(folder, outputs)
    if folder.kind == "value-of-information":
        from sim.outputs.voi_chart import evppi_chart
        from sim.outputs.voi_words import folder_labels

        summary = folder.table("value_of_information").iloc[0].to_dict()
        return {"evppi": evppi_chart(folder.table("evppi"), summary, folder_labels(folder.meta), folder.meta)}
    if folder.kind in _OWN_FIGURES:
        raise ValueError(
            f"{folder.path}: a {folder.kind} folder holds its figures already "
            f"({_OWN_FIGURES[folder.kind]}); "
            "plot draws runs, comparisons, sweeps and sensitivity analyses"
        )
    return _sensitivity_figures(folder, outputs)


def plot_folder(
    path: str | Path,
    out: str | Path | None = None,
    formats: Sequence[str] = ("png", "svg"),
    outputs: Sequence[str] | None = None,
    force: bool = False,
) -> list[Path]:
    """Write every figure of a result folder into ``out`` (default ``<folder>/figures``).

    An existing file of the same name that the tool did not write is refused
    before any figure is written, unless ``force`` (see :mod:`sim.outputs.outfiles`).
    """
    folder = read_folder(path)
    target = Path(out) if out is not None else folder.path / "figures"
    figures = figures_for(folder, outputs)
    stems = [target / name for name in figures]
    outfiles.check_targets([s.with_suffix(f".{f}") for s in stems for f in formats], folder.path, force)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in figures.items():
        written += save_figure(fig, target / name, formats)
    store.record_derived(folder.path, [*written, *{outfiles.record_of(p) for p in written}])
    return written
