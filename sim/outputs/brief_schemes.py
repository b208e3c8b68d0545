"""The brief's page on the other schemes of a run: each scheme's key figures and main assumptions
in its own words (a direct scheme's money paid and which limit binds; an intermediary scheme's
operators funded, money paid to them, start-ups accelerated and the public cost per start-up
accelerated, MODEL.md 6b).

The run's first page is about its main scheme (the first); a run of several schemes adds this page
(two schemes a page), so every scheme's figures and assumptions are in the brief.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.engines.metrics import FOLLOW_UP_SUFFIX
from sim.outputs import plots, tables
from sim.outputs.brief import (
    _LIMIT_PANEL,
    _MARGIN,
    _ROW,
    A4,
    _assumption_table,
    _Page,
    _small_axes,
    _title_block,
    main_assumptions,
)
from sim.outputs.folders import ResultFolder
from sim.outputs.labels import INTERMEDIARY_FAN_SERIES, label, scheme_label
from sim.outputs.style import add_footer

__all__ = ["PROGRAMME_ASSUMPTIONS", "SCHEMES_A_PAGE", "scheme_pages"]

#: The assumptions of an intermediary scheme's programme the page lists ({s}: scheme).
PROGRAMME_ASSUMPTIONS: tuple[str, ...] = (
    "schemes.{s}.budget_hkd",
    "schemes.{s}.places",
    "schemes.{s}.max_grant_hkd",
    "schemes.{s}.programme.cohort_size_mean",
    "schemes.{s}.programme.cohort_interval_weeks",
    "schemes.{s}.programme.relocated_share",
    "schemes.{s}.programme.survival_probability",
    "schemes.{s}.programme.follow_on_probability",
)

#: Schemes on one page of this kind.
SCHEMES_A_PAGE = 2
#: Most assumption rows a scheme's table shows (the rest are counted; all are in the scenario file).
_ASSUMPTION_ROWS = 9
#: Height of a panel (inches).
_PANEL = 1.4


def scheme_pages(folder: ResultFolder) -> list[Figure]:
    """A page per :data:`SCHEMES_A_PAGE` schemes of a run after its first (none for one scheme)."""
    reps = folder.table("replications")
    schemes = [s for s in folder.labels if s in set(reps["scheme"])][1:]
    pages = []
    for first in range(0, len(schemes), SCHEMES_A_PAGE):
        fig = Figure(figsize=A4)
        fig.set_facecolor("white")
        page = _Page(fig)
        _title_block(page, "The other schemes", "Key figures and main assumptions of each scheme in turn.")
        for scheme in schemes[first : first + SCHEMES_A_PAGE]:
            _scheme_block(page, folder, scheme)
        add_footer(fig, folder.meta)
        for text in fig.texts[-1:]:  # the footer, where the first page has it
            text.set_position((_MARGIN / A4[0], 0.25 / A4[1]))
        pages.append(fig)
    return pages


def _scheme_block(page: _Page, folder: ResultFolder, scheme: str) -> None:
    """One scheme: its key figures, then its main assumptions."""
    whole = folder.table("replications")
    whole = whole[(whole["segment"] == "all") & (whole["scheme"] == scheme)]
    name = scheme_label(scheme, folder.labels)
    intermediary = tables.is_intermediary(whole)
    page.heading(f"{name}: key figures")
    if intermediary:
        _operator_figures(page, folder, scheme)
        _startup_figures(page, whole)
    else:
        _direct_figures(page, folder, scheme, whole)
    page.heading(f"Main assumptions about {name}")
    templates = PROGRAMME_ASSUMPTIONS if intermediary else None
    rows = main_assumptions(folder, scheme, templates)
    if len(rows) > _ASSUMPTION_ROWS:
        rest = len(rows) - _ASSUMPTION_ROWS + 1
        rows = [*rows[: _ASSUMPTION_ROWS - 1], (f"... and {rest} more", "", "in the scenario file")]
    _assumption_table(page, rows)
    page.y += _ROW


def _fan(ax: Any, folder: ResultFolder, scheme: str, series: str, title: str, axis: str) -> None:
    """One cumulative series of ``scheme`` with its limit, the scheme's end and its policy changes."""
    frame = folder.table("timeseries")
    frame = frame[(frame["scheme"] == scheme) & (frame["series"] == series)]
    limit_key = {"awards": "places", "paid_hkd": "budget_hkd"}.get(series)
    limit = folder.limits.get(scheme, {}).get(limit_key) if limit_key else None
    plots.draw_fan(ax, frame, series, limit, plots.scheme_end(folder.meta))
    plots.mark_changes(ax, plots.policy_changes(folder.meta).get(scheme, []))
    _small_axes(ax, f"{title} (median, 50% and 90% of runs)", "date", axis)


def _direct_figures(page: _Page, folder: ResultFolder, scheme: str, whole: Any) -> None:
    """A direct scheme's money paid over time and which limit binds when (as the first page's)."""
    half = page.width / 2
    page.y += 0.25
    _fan(
        page.axes(_PANEL, left=0.6, width=half - 0.8, advance=False),
        folder,
        scheme,
        "paid_hkd",
        "Money paid",
        "HK$ paid",
    )
    ax = page.axes(_PANEL, left=half + 0.55, width=half - 0.55)
    start = date.fromisoformat(str(folder.meta["start_date"])[:10])
    plots.draw_exhaustion(ax, whole, start, float(folder.meta["horizon_weeks"]))
    _small_axes(ax, _LIMIT_PANEL, "date (dotted: end of horizon)", "share of runs")
    page.y += 0.5


def _operator_figures(page: _Page, folder: ResultFolder, scheme: str) -> None:
    """An intermediary scheme's operators funded and money paid to them over time."""
    words = {name: (title, axis) for name, title, axis in INTERMEDIARY_FAN_SERIES}
    half = page.width / 2
    page.y += 0.25
    for i, series in enumerate(("awards", "paid_hkd")):
        title, axis = words[series]
        left = 0.6 if i == 0 else half + 0.75
        ax = page.axes(_PANEL, left=left, width=half - 0.8, advance=i == 1)
        _fan(ax, folder, scheme, series, title, axis.removesuffix(" (cumulative)"))
    page.y += 0.75  # the dates, then the titles of the start-ups' panels


def _startup_figures(page: _Page, whole: Any) -> None:
    """Start-ups accelerated and the public cost per start-up accelerated, each counted by the
    scheme's end and by the follow-up's end (a row each)."""
    half = page.width / 2
    height = 0.75
    for i, key in enumerate(("startups_accelerated", "cost_per_startup_hkd")):
        rows = [
            (when, whole[key + suffix].to_numpy(dtype=float))
            for when, suffix in (("by scheme end", ""), ("by follow-up end", FOLLOW_UP_SUFFIX))
            if key + suffix in whole
        ]
        left = 1.15 if i == 0 else half + 1.1
        ax = page.axes(height, left=left, width=half - 1.35, advance=i == 1)
        plots.draw_intervals(ax, rows, key, False)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        unit = "start-ups" if i == 0 else "HK$ per start-up"
        _small_axes(ax, label(key).split(" by ")[0], f"{unit} (diamond: mean; bars: 50%, 90% of runs)")
    page.y += 0.45
