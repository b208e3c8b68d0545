"""The brief's optional page on scenario discovery (``schemesim brief RUN --discovery FOLDER``).

A second A4 page after the run's one-page brief: which assumptions decide the
condition, in words; the box's restrictions with their quasi-p-values; the
trade-off figure drawn by ``discover``; the CART cross-check; and how to run
the box as a scenario. It is drawn from the discovery folder alone, which
must have been made from the run the brief is about.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.discover_words import format_qp
from sim.outputs.folders import FolderError, ResultFolder, read_folder
from sim.outputs.numbers import count_words
from sim.outputs.style import add_footer

__all__ = ["discovery_page", "read_discovery"]


def read_discovery(path: str | Path, run: ResultFolder) -> ResultFolder:
    """The discovery folder at ``path``, checked to be one made from the run folder ``run``."""
    found = read_folder(path)
    if found.kind != "discover":
        raise FolderError(
            f"--discovery: {path}: a {found.kind} folder; give a folder that 'schemesim discover' wrote"
        )
    source = Path(str(found.meta.get("source_folder", "")))
    a, b = found.manifest, run.manifest
    same_run = (a.seed, a.replications, a.engine) == (b.seed, b.replications, b.engine)
    same_scenario = found.meta.get("scenario_hash") == run.meta.get("scenario_hash")
    if not (same_run and (same_scenario or source.resolve() == run.path.resolve())):
        raise FolderError(
            f"--discovery: {path} was made from {source}, not from {run.path}; "
            f"run 'schemesim discover {run.path} --where ...' first"
        )
    return found


def discovery_page(found: ResultFolder, size: tuple[float, float]) -> Figure:
    """The page (``size`` in inches, A4 portrait): words, restrictions, figure, cross-check."""
    from sim.outputs.brief import _MARGIN, _ROW, _Page, _table, _title_block

    fig = Figure(figsize=size)
    fig.set_facecolor("white")
    page = _Page(fig)
    meta = found.meta
    box_words, cart_words = _sentences(found)
    _title_block(
        page,
        "Which assumptions decide it?",
        f"Scenario discovery (PRIM) on {count_words(int(meta.get('cases', 0)), 'run')} "
        f"of {meta.get('scenario', '?')}, "
        f"for {meta.get('scheme_label') or meta.get('scheme', '?')}: '{meta.get('condition', '')}'.",
    )
    page.heading("The box")
    page.text(box_words, size=8.5, gap=0.1)
    rows = _restriction_rows(found.table("box"))
    _table(
        page.axes(_ROW * (len(rows) + 1)),
        ["Assumption", "In the box", "Quasi-p-value", "Significant"],
        rows,
        (3.6, 2.2, 1.2, 1.0),
    )
    page.heading("Coverage against density, and the box's ranges")
    image = mpimg.imread(found.path / "discovery.png")
    height = page.width * image.shape[0] / image.shape[1]
    ax = page.axes(height)
    ax.imshow(image)
    ax.set_axis_off()
    page.heading("Cross-check")
    page.text(cart_words, size=8, gap=0.08)
    page.text(
        "Coverage: the share of the runs where the condition holds that lie in the box. Density: the share "
        "of the box's runs where it holds. A quasi-p-value below 0.05 says a restriction this strong would "
        f"rarely arise by chance. The box as a scenario: schemesim run {found.path / 'variant.toml'}.",
        size=7,
        gap=0,
    )
    add_footer(fig, meta)
    for text in fig.texts[-1:]:
        text.set_position((_MARGIN / size[0], 0.25 / size[1]))
    return fig


def _sentences(found: ResultFolder) -> tuple[str, str]:
    lines = [line for line in (found.path / "discovery.txt").read_text().splitlines() if line.strip()]
    return (lines[0] if lines else "", lines[1] if len(lines) > 1 else "")


def _restriction_rows(box: pd.DataFrame) -> list[list[str]]:
    rows = []
    for _, row in box.iterrows():
        qp = float(np.fmin(row["qp_low"], row["qp_high"]))
        rows.append(
            [str(row["label"]), str(row["restriction"]), format_qp(qp), "yes" if row["significant"] else "no"]
        )
    return rows
