"""One visual style for every figure: words, axis formatters, greyscale-safe palette, footer, saving.

Numbers in words come from :mod:`sim.outputs.numbers` (re-exported here for figures).

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state),
so plotting never depends on a display or on global settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.outputs.labels import METRIC_WORDS as STATISTIC_WORDS
from sim.outputs.labels import parameter_label, scheme_label
from sim.outputs.numbers import format_hkd, format_hkd_short, format_value
from sim.outputs.outfiles import write_file

__all__ = [
    "INK",
    "GREYS",
    "LINESTYLES",
    "HATCHES",
    "COLORMAP",
    "DPI",
    "METRIC_WORDS",
    "format_hkd",
    "format_hkd_short",
    "format_value",
    "hkd_axis",
    "percent_axis",
    "date_axis",
    "style_axes",
    "metric_label",
    "metric_unit",
    "axis_label",
    "parameter_label",
    "scheme_label",
    "new_figure",
    "set_title",
    "provenance_text",
    "add_footer",
    "save_figure",
    "legend_below",
]

#: Ink for lines and the darker band; lighter greys for bands. Readable in greyscale.
INK = "#1f3b5c"
GREYS = ("#1f3b5c", "#7f93a8", "#c9d3de", "#e8edf2")
LINESTYLES = ("-", "--", ":", "-.")
HATCHES = ("", "///", "...", "xx")
#: Sequential colour map whose lightness rises monotonically (reads the same in greyscale).
COLORMAP = "cividis"
#: Resolution of every PNG.
DPI = 200
FOOTER_COLOR = "#555555"

#: Every metric in words: (what it is, its unit). Units go on axes. The headline statistics' words
#: come from :mod:`sim.outputs.labels` (one label each, everywhere); the others are stated here.
METRIC_WORDS: dict[str, tuple[str, str]] = {
    "eligible": ("Eligible firms", "firms"),
    "would_be": ("Firms that would apply", "firms"),
    "turned_away": ("Applications turned away", "applications"),
    "in_review": ("Applications still in review", "applications"),
    "withdrawn": ("Applications withdrawn", "applications"),
    "rejected": ("Applications rejected", "applications"),
    "approved": ("Applications approved", "applications"),
    "unfunded": ("Approved but unfunded", "applications"),
    "reapplications": ("Re-applications after rejection", "applications"),
    "reopenings": ("Reopenings by a top-up", "reopenings"),
    "abandoned": ("Upgrades abandoned", "upgrades"),
    "ongoing": ("Upgrades ongoing at the horizon", "upgrades"),
    "wait_mean_weeks": ("Mean wait to decision", "weeks"),
    "wait_p90_weeks": ("Wait to decision, slowest 10%", "weeks"),
    "paid_hkd": ("Money paid", "HK$"),
    "released_hkd": ("Money released by abandoned upgrades", "HK$"),
    "private_hkd": ("Private co-investment", "HK$"),
    "admin_cost_hkd": ("Administration cost", "HK$"),
    "public_cost_hkd": ("Public cost", "HK$"),
    "additional_gva_hkd": ("Additional value added per year", "HK$ per year"),
    "pv_benefit_hkd": ("Present value of benefits", "HK$"),
    "leverage": ("Private HK$ per public HK$", "ratio"),
    **STATISTIC_WORDS,
}


def hkd_axis(axis: Any) -> None:
    """Format an axis (``ax.yaxis`` or ``ax.xaxis``) in HK$."""
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_hkd(v)))


def percent_axis(axis: Any, scale: float = 1.0) -> None:
    """Format an axis as a percentage of ``scale`` (1.0: values are shares)."""
    axis.set_major_formatter(PercentFormatter(xmax=scale, decimals=0))


def date_axis(axis: Any, span_weeks: float) -> None:
    """A calendar axis with three to six 'Jan 2026' ticks over ``span_weeks``."""
    months = span_weeks / 4.35
    if months <= 8:
        locator: Any = mdates.MonthLocator()
    elif months <= 40:
        locator = mdates.MonthLocator(bymonth=(1, 4, 7, 10) if months <= 16 else (1, 7))
    else:
        locator = mdates.YearLocator(base=max(1, round(months / 12 / 5)))
    axis.set_major_locator(locator)
    axis.set_major_formatter(mdates.DateFormatter("%b %Y" if months <= 40 else "%Y"))


def style_axes(ax: Any, grid: str = "both") -> None:
    """The plain look of every panel: light grid, no top and right spines, small ticks."""
    ax.grid(axis=grid, alpha=0.3, lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)


def metric_label(metric: str) -> str:
    return METRIC_WORDS.get(metric, (metric.replace("_", " ").capitalize(), ""))[0]


def metric_unit(metric: str) -> str:
    return METRIC_WORDS.get(metric, ("", ""))[1]


def axis_label(metric: str) -> str:
    """'Awards (firms)': the metric and its unit, for an axis."""
    unit = metric_unit(metric)
    return f"{metric_label(metric)} ({unit})" if unit else metric_label(metric)


#: Height kept free under the axes for the provenance footer (inches).
FOOTER_INCHES = 0.22


def new_figure(width: float = 10.0, height: float = 6.0) -> Figure:
    """A white Figure with constrained layout that leaves room for the footer."""
    bottom = FOOTER_INCHES / height
    fig = Figure(figsize=(width, height), layout=ConstrainedLayoutEngine(rect=(0, bottom, 1, 1 - bottom)))
    fig.set_facecolor("white")
    return fig


def set_title(fig: Figure, title: str) -> None:
    """The figure's question as its title."""
    fig.suptitle(title, fontsize=14, fontweight="bold", color="#111111", wrap=True)  # long ones wrap


def _first(meta: Mapping[str, Any], *keys: str) -> Any:
    return next((meta[k] for k in keys if meta.get(k) not in (None, "")), None)


def provenance_text(meta: Mapping[str, Any]) -> str:
    """'scenario baseline · hash 82d95f6e8c · seed 1 · 1,000 replications · des · 2026-11-25'.

    Comparisons name both scenarios and hashes; sweeps their base scenario and points.
    """
    if meta.get("scenario_a") is not None:
        scenario = f"{meta['scenario_a']} vs {meta.get('scenario_b', '?')}"
        digest = (
            f"{str(meta.get('scenario_hash_a', '?'))[:10]} / {str(meta.get('scenario_hash_b', '?'))[:10]}"
        )
    else:
        scenario = str(_first(meta, "scenario", "base_scenario") or "?")
        digest = str(meta.get("scenario_hash", "?"))[:10]
    parts = [f"scenario {scenario}", f"hash {digest}", f"seed {meta.get('seed', '?')}"]
    if meta.get("points") is not None:
        parts.append(f"{int(meta['points']):,} points")
    parts += [f"{int(meta.get('replications') or 0):,} replications", str(meta.get("engine", ""))]
    parts.append(str(meta.get("date", "")))
    return " · ".join(p for p in parts if p)


def add_footer(fig: Figure, meta: Mapping[str, Any]) -> None:
    """The small provenance footer under every figure; the last step of every chart.

    It also turns off math parsing in the figure's texts, so that 'HK$' is
    always printed as written.
    """
    fig.text(0.005, 0.002, provenance_text(meta), fontsize=7, color=FOOTER_COLOR, ha="left", va="bottom")
    for text in fig.findobj(Text):
        text.set_parse_math(False)


def save_figure(fig: Figure, stem: Path, formats: Iterable[str] = ("png", "svg")) -> list[Path]:
    """Write ``stem.png`` (200 dpi) and the vector formats, each whole and entered in the folder's
    record of files the tool wrote (:mod:`sim.outputs.outfiles`); return the paths written."""
    return [write_file(Path(stem).with_suffix(f".{fmt}"), partial(_draw, fig, fmt)) for fmt in formats]


def _draw(fig: Figure, fmt: str, path: Path) -> None:
    fig.savefig(path, dpi=DPI, format=fmt, metadata=_metadata(fig, fmt))


def _metadata(fig: Figure, fmt: str) -> dict[str, str] | None:
    title = fig.get_suptitle()
    if fmt == "pdf":
        return {"Title": title, "Creator": "schemesim"}
    if fmt == "svg":
        return {"Title": title}
    if fmt == "png":
        return {"Title": title, "Software": "schemesim"}
    return None


def legend_below(fig: Figure, handles: Sequence[Any], labels: Sequence[str], ncol: int | None = None) -> None:
    """One legend for the whole figure, between the panels and the footer, out of the way of the data."""
    ncol = ncol or len(labels)
    rows = -(-len(labels) // ncol)
    height = fig.get_figheight()
    bottom = (FOOTER_INCHES + 0.12 + 0.22 * rows) / height
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0, bottom, 1, 1 - bottom))
    fig.legend(
        handles,
        labels,
        loc="lower center",
        bbox_to_anchor=(0.5, FOOTER_INCHES / height),
        ncol=ncol,
        fontsize=8,
        frameon=False,
    )
