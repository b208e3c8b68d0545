"""The "as at" brief: a one-page A4 brief of a nowcast, beside the run's and the comparison's briefs.

It uses the page layout of :mod:`sim.outputs.brief` and draws only from a
nowcast's tables (``headline.csv``, ``bands.parquet``) and manifest: the
headline in words (the forecast as at the date against the prior forecast,
each variant's change from the base), the headline table, the observed
series' fans with the observations as points and the as-at date marked, and
the chance that the places fill by each quarter.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.brief import _MARGIN, _ROW, A4, _Page, _table, _title_block
from sim.outputs.folders import ResultFolder, scheme_limits
from sim.outputs.labels import NOWCAST_HEADERS, NOWCAST_NOTE, label, scheme_label
from sim.outputs.nowcast_charts import (
    draw_fill_chances,
    draw_limit,
    draw_observed_fan,
    fill_legend,
    series_title,
    when_of,
)
from sim.outputs.nowcast_tables import nowcast_day, shown, signed
from sim.outputs.numbers import count_words
from sim.outputs.style import add_footer

__all__ = ["headline_sentence", "nowcast_brief_figure", "nowcast_folder_brief"]

#: Variants a brief's table has room for (every variant is in headline.csv and the workbook).
BRIEF_VARIANTS = 2


def _value(rows: pd.DataFrame, key: str, column: str, day: str = "") -> float:
    pick = rows[(rows["key"] == key) & ((rows["date"].fillna("") == day) if day else True)]
    return float(pick[column].iloc[-1]) if len(pick) else float("nan")


def row_label(rows: pd.DataFrame, key: str) -> str:
    """The label ``rows`` give statistic ``key`` (an intermediary scheme's rows name its operators;
    :func:`~sim.outputs.labels.nowcast_label`), else its one label."""
    pick = rows.loc[rows["key"] == key, "label"]
    return str(pick.iloc[0]) if len(pick) else label(key)


def headline_sentence(rows: pd.DataFrame, scheme: str, labels: Mapping[str, str], as_at: str) -> str:
    """One scheme's forecast as at the date in words, the prior forecast in brackets."""

    def both(key: str) -> str:
        now, prior = _value(rows, key, "as_at"), _value(rows, key, "prior")
        return f"{shown(now, key)} (prior forecast {shown(prior, key)})"

    fill = rows[rows["key"] == "places_fill_by"]
    end = str(fill["label"].iloc[-1]).removeprefix(label("exhausted_by_places")).strip() if len(fill) else ""
    return (
        f"{scheme_label(scheme, labels)}, as at {as_at}: the places fill {end} in "
        f"{both('places_fill_by')} of the weighted runs, and the money runs out by the scheme's end "
        f"in {both('exhausted_by_money')}. Expected by the scheme's end: {row_label(rows, 'applications')} "
        f"{both('applications')}; {row_label(rows, 'awarded')} {both('awarded')}; the "
        f"{label('unused_budget_hkd')} {both('unused_budget_hkd')}."
    )


def variant_sentence(rows: pd.DataFrame, name: str) -> str:
    """A variant's change from the base as at the date, on the same runs."""

    def change(key: str) -> str:
        return signed(_value(rows, key, "change_as_at"), key)

    return (
        f"With {name}: {row_label(rows, 'awarded')} {change('awarded')}, "
        f"the {label('unused_budget_hkd')} {change('unused_budget_hkd')}, "
        f"runs where the places fill by the scheme's end {change('places_fill_by')} "
        "(change from the base as at the date, same runs)."
    )


def _table_rows(head: pd.DataFrame, scheme: str, variants: Sequence[str]) -> list[list[str]]:
    base = head[(head["scheme"] == scheme) & (head["scenario"] == head["scenario"].iloc[0])]
    rows = []
    for i, r in enumerate(base.itertuples()):
        low, high = shown(r.as_at_p05, r.key), shown(r.as_at_p95, r.key)
        cells = [str(r.label), shown(r.prior, r.key), shown(r.as_at, r.key), f"{low} - {high}" if low else ""]
        for name in variants:
            mine = head[(head["scheme"] == scheme) & (head["scenario"] == name)]
            cells.append(signed(float(mine["change_as_at"].iloc[i]), r.key))
        rows.append(cells)
    return rows


def _headline_table(page: _Page, head: pd.DataFrame, scheme: str, as_at: str) -> None:
    variants = list(dict.fromkeys(head["scenario"]))[1 : 1 + BRIEF_VARIANTS]
    header = [NOWCAST_HEADERS[k].format(date=as_at) for k in ("prior", "as_at", "range")]
    header += [f"{name}: " + NOWCAST_HEADERS["change_as_at"].format(date=as_at) for name in variants]
    header = ["", *(textwrap.fill(h, 20) for h in header)]
    rows = _table_rows(head, scheme, variants)
    widths = (3.0, 1.15, 1.15, 1.25, *([1.3] * len(variants)))
    _table(page.axes(_ROW * (len(rows) + 4)), header, rows, widths, header_lines=4, size=6.5)


def _figures(
    page: _Page, head: pd.DataFrame, bands: pd.DataFrame, meta: Mapping[str, Any], labels: Any
) -> None:
    """Up to two observed series' fans, then the chance that the places fill, per observed scheme."""
    keys = list(dict.fromkeys(zip(bands["scheme"], bands["quantity"], strict=True)))[:2]
    half, when = page.width / 2, when_of(meta)
    limits = scheme_limits(dict(meta.get("scenario_source") or {}))
    page.y += 0.25
    for i, (scheme, quantity) in enumerate(keys):
        last = i == len(keys) - 1
        ax = page.axes(1.75, left=0.55 + i * half, width=half - 0.8, advance=last)
        frame = bands[(bands["scheme"] == scheme) & (bands["quantity"] == quantity)]
        mine = [o for o in meta["observed"] if (o["scheme"], o["quantity"]) == (scheme, quantity)]
        draw_observed_fan(ax, frame, mine, when)
        draw_limit(ax, quantity, limits.get(scheme, {}))
        _small(ax, series_title(scheme, quantity, labels))
    page.y += 0.55
    scheme = keys[0][0] if keys else str(head["scheme"].iloc[0])
    ax = page.axes(1.5, left=0.55, width=half - 0.8, advance=False)
    draw_fill_chances(ax, head, scheme)
    _small(ax, f"{scheme_label(scheme, labels)}: {label('exhausted_by_places')} by each date")
    handles, names = fill_legend(list(dict.fromkeys(head["scenario"])))
    legend_ax = page.axes(1.5, left=half + 0.2, width=half - 0.4)
    legend_ax.set_axis_off()
    legend_ax.legend(handles, names, loc="center left", fontsize=7, frameon=False)
    page.y += 0.35


def _small(ax: Any, title: str) -> None:
    ax.set_title(textwrap.fill(title, 60), fontsize=7.5, loc="left")
    ax.tick_params(labelsize=6.5)
    for text in ax.texts:
        text.set_fontsize(min(text.get_fontsize(), 6.5))


def nowcast_brief_figure(
    meta: Mapping[str, Any], head: pd.DataFrame, bands: pd.DataFrame, labels: Mapping[str, str]
) -> Figure:
    """The "as at" brief as one A4 figure, from a nowcast's manifest (flat form) and tables."""
    fig = Figure(figsize=A4)
    fig.set_facecolor("white")
    page = _Page(fig)
    as_at = nowcast_day(date.fromisoformat(str(meta["as_at"])))
    observed = len(meta.get("observed", []))
    _title_block(
        page,
        f"Where the {meta.get('scenario', '?')} scenario stands as at {as_at}",
        f"{count_words(int(meta['replications']), 'run')} from {meta['start_date']}, "
        "weighted by how likely each "
        f"makes the {observed} observations of {meta.get('observed_path', 'the observed file')} "
        f"(effective sample size {float(meta.get('ess', 0)):,.0f}).",
    )
    page.heading("The headline")
    schemes = list(dict.fromkeys(o["scheme"] for o in meta.get("observed", []))) or list(labels)
    base = head[head["scenario"] == head["scenario"].iloc[0]]
    for scheme in schemes:
        page.text(headline_sentence(base[base["scheme"] == scheme], scheme, labels, as_at), size=8)
    for name in list(dict.fromkeys(head["scenario"]))[1:]:
        mine = head[(head["scenario"] == name) & (head["scheme"] == schemes[0])]
        page.text(variant_sentence(mine, name), size=8)
    for warning in meta.get("warnings", []):
        page.text(f"Warning: {warning}", size=7.5, color="#8a1c1c")
    page.y += 0.04
    _headline_table(page, head, schemes[0], as_at)
    page.text(NOWCAST_NOTE, size=6.5, gap=0.04)
    page.heading("The observed history and the forecast")
    page.text(
        "Lightest band: 90% of all runs (prior forecast); darker bands: 90% and 50% of the runs weighted "
        "by the observations, line: their median; dots: the observations.",
        size=7,
    )
    _figures(page, head, bands, meta, labels)
    add_footer(fig, meta)
    for text in fig.texts[-1:]:
        text.set_position((_MARGIN / A4[0], 0.25 / A4[1]))
    return fig


def nowcast_folder_brief(folder: ResultFolder) -> Figure:
    """The "as at" brief of a nowcast's result folder (``schemesim brief FOLDER``)."""
    head = folder.table("headline")
    head["date"] = head["date"].fillna("").astype(str)
    return nowcast_brief_figure(folder.meta, head, folder.table("bands"), folder.labels)
