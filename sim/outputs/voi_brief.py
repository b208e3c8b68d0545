"""The brief's value-of-information section: which uncertain parameter is worth learning before
choosing between A and B, in words, as a table and as the ranked bars.

``schemesim brief`` draws it as the page of a value-of-information folder, and as an optional
second page of another brief with ``--value-of-information``; without it a run's or a
comparison's brief is unchanged. It reads only the folder's tables and manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs.brief import _Page, _table, _title_block
from sim.outputs.folders import FolderError, ResultFolder, read_folder
from sim.outputs.labels import VOI_STATISTICS, parameter_label
from sim.outputs.voi_chart import draw_evppi
from sim.outputs.voi_words import decision_metric_label, folder_labels, format_amount

__all__ = ["read_value_of_information", "voi_page", "voi_section"]

#: Height of a table row (inches), as in the rest of the brief.
_ROW = 0.16

METHOD = (
    "How it is computed: A and B run the same replications on common random numbers. For each "
    "uncertain parameter, the run-by-run difference B - A is regressed on that parameter (a "
    "penalised regression spline); the value of learning it is how much the better choice gains, "
    "on average, when made knowing it (Strong, Oakley & Brennan 2014). The value of perfect "
    "information regresses the difference on all the parameters (gradient-boosted trees, "
    "cross-fitted). Firm-level variation is not counted: the naive value, taken run by run, "
    "would count it as information ({naive})."
)


def _rows(table: pd.DataFrame, summary: pd.Series, labels: dict[str, str]) -> list[list[str]]:
    metric = str(summary["metric"])
    rows = []
    for _, r in table.sort_values("rank").iterrows():
        share = r["share_of_evpi"]
        rows.append(
            [
                str(int(r["rank"])),
                parameter_label(str(r["parameter"]), labels),
                format_amount(float(r["evppi"]), metric),
                f"{format_amount(float(r['lo']), metric)} - {format_amount(float(r['hi']), metric)}",
                "-" if share != share else f"{100 * share:.0f}%",
            ]
        )
    interval = f"{format_amount(summary['evpi_lo'], metric)} - {format_amount(summary['evpi_hi'], metric)}"
    rows.append(["", "All of them at once", format_amount(float(summary["evpi"]), metric), interval, "100%"])
    return rows


def read_value_of_information(path: str | Path) -> ResultFolder:
    """The folder of ``--value-of-information``: one ``schemesim value-of-information`` wrote."""
    folder = read_folder(path)
    if folder.kind != "value-of-information":
        raise FolderError(
            f"--value-of-information: {folder.path} is a {folder.kind} folder; give one that "
            "'schemesim value-of-information' wrote"
        )
    return folder


def voi_section(page: _Page, folder: ResultFolder) -> None:
    """The section: the sentence, the ranked table (EVPI last), the bars and the method."""
    table, summary = folder.table("evppi"), folder.table("value_of_information").iloc[0]
    labels, metric = folder_labels(folder.meta), str(summary["metric"])
    page.heading("Is it worth learning more before choosing?")
    page.text(str(folder.meta.get("sentence", "")), size=8.5, gap=0.08)
    level = round(100 * float(summary["level"]))
    words = VOI_STATISTICS["evppi"].label.split(" ")
    value = " ".join(words[:4]) + "\n" + " ".join(words[4:])  # on two lines
    header = ["", "Uncertain parameter", value, f"{level}% interval", "Share of all"]
    rows = _rows(table, summary, labels)
    _table(
        page.axes(_ROW * (len(rows) + 2)), header, rows, (0.25, 4.3, 2.5, 2.2, 0.8), header_lines=2, size=7.5
    )
    page.y += 0.15
    ax = page.axes(0.3 * len(table) + 0.8, left=3.1, width=page.width - 3.2)
    draw_evppi(ax, table, summary.to_dict(), labels)
    page.y += 0.55
    page.text(METHOD.format(naive=format_amount(float(summary["naive_evpi"]), metric)), size=7.5)


def voi_page(page: _Page, folder: ResultFolder) -> dict[str, Any]:
    """The page of a value-of-information folder: title, then :func:`voi_section`."""
    summary = folder.table("value_of_information").iloc[0]
    meta = folder.meta
    schemes = str(summary["schemes"]).replace(";", ", ")
    _title_block(
        page,
        f"{summary['scenario_a']} or {summary['scenario_b']}: what is worth learning first",
        f"A = {summary['scenario_a']}, B = {summary['scenario_b']}; decided on "
        f"{decision_metric_label(str(summary['metric'])).removesuffix(' (HK$)').lower()} ({schemes}); "
        f"{int(meta.get('replications', 0)):,} paired runs, {int(summary['resamples'])} bootstrap resamples.",
    )
    voi_section(page, folder)
    return meta
