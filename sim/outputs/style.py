"""One visual style for every figure: formatters, greyscale-safe palette, footer.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state),
so plotting never depends on a display or on global settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

__all__ = ["format_hkd", "hkd_axis", "new_figure", "add_footer", "GREYS", "INK", "provenance_text"]

#: Ink for lines and the darker band; light grey for the outer band. Readable in greyscale.
INK = "#1f3b5c"
GREYS = ("#1f3b5c", "#7f93a8", "#c9d3de", "#e8edf2")
LINESTYLES = ("-", "--", ":", "-.")


def format_hkd(value: float, decimals: int = 1) -> str:
    """HK$ with a readable unit: 2_500_000 -> 'HK$2.5M', 250_000 -> 'HK$250k'."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            text = f"{v / scale:.{decimals}f}".rstrip("0").rstrip(".")
            return f"{sign}HK${text}{unit}"
    return f"{sign}HK${v:.0f}"


def hkd_axis(axis: Any) -> None:
    """Format an axis (``ax.yaxis`` or ``ax.xaxis``) in HK$."""
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_hkd(v)))


def new_figure(width: float = 10.0, height: float = 6.0) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    fig.set_facecolor("white")
    return fig


def provenance_text(meta: Mapping[str, Any]) -> str:
    """'scenario baseline · hash 82d95f6e8c · seed 1 · 1,000 replications · des · 2026-11-25'."""
    parts = [
        f"scenario {meta.get('scenario', '?')}",
        f"hash {str(meta.get('scenario_hash', '?'))[:10]}",
        f"seed {meta.get('seed', '?')}",
        f"{int(meta.get('replications', 0)):,} replications",
        str(meta.get("engine", "")),
        str(meta.get("date", "")),
    ]
    return " · ".join(p for p in parts if p)


def add_footer(fig: Figure, meta: Mapping[str, Any]) -> None:
    """The small provenance footer under every figure."""
    fig.text(0.01, 0.002, provenance_text(meta), fontsize=7, color="#555555", ha="left", va="bottom")
