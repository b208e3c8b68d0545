"""The notebooks run top to bottom with small counts, and are kept in git without outputs."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
NAMES = [
    "01-baseline.ipynb",
    "02-what-if.ipynb",
    "03-sweep-and-sensitivity.ipynb",
    "04-which-assumptions-matter.ipynb",
]


def test_the_notebooks_are_all_here() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_saved_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


@pytest.mark.parametrize("name", NAMES)
def test_every_code_cell_follows_a_markdown_cell_that_explains_it(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for before, cell in pairwise(nb.cells):
        if cell.cell_type == "code":
            assert before.cell_type == "markdown", f"no explanation before: {cell.source[:60]!r}"
            assert before.source.strip(), f"empty explanation before: {cell.source[:60]!r}"
    assert nb.cells[0].cell_type == "markdown"


#: A number as a formatter never writes it: more than 3 decimals, or scientific notation.
RAW_FLOAT = re.compile(r"\d\.?\d*e[+-]\d\d|\d\.\d{4,}")


def output_texts(nb: nbformat.NotebookNode) -> list[str]:
    """The text a reader sees under the code cells: printed lines and tables (plain and HTML)."""
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append(output["text"])
            data = output.get("data", {})
            texts += [data[kind] for kind in ("text/plain", "text/html") if kind in data]
    return texts


def raw_floats(nb: nbformat.NotebookNode) -> list[str]:
    """Numbers in the outputs that did not go through the project's formatter (sim.outputs.numbers)."""
    return [match for text in output_texts(nb) for match in RAW_FLOAT.findall(text)]


def test_a_raw_float_in_an_output_is_found() -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                outputs=[
                    nbformat.v4.new_output("stream", text="HK$45.2M 33% 0.4 s\n"),
                    nbformat.v4.new_output("execute_result", {"text/plain": "value 4.519041e+07 0.333333"}),
                ]
            )
        ]
    )
    assert raw_floats(nb) == ["4.519041e+07", "0.333333"]


#: What each notebook leaves in its results folder when it has run through.
WRITES = {
    "01-baseline.ipynb": [
        "notebook-baseline/manifest.json",
        "notebook-baseline/brief.pdf",
        "notebook-baseline/figures/exhaustion.png",
    ],
    "02-what-if.ipynb": [
        "notebook-compare/comparison.csv",
        "notebook-compare/brief.pdf",
        "notebook-compare/figures/comparison.png",
    ],
    "03-sweep-and-sensitivity.ipynb": [
        "notebook-sweep/points.parquet",
        "notebook-morris/indices.csv",
        "notebook-morris/figures/morris.png",
    ],
    "04-which-assumptions-matter.ipynb": [
        "notebook-uncertain/draws.parquet",
        "notebook-discover/box.csv",
        "notebook-discover/discovery.png",
        "notebook-discover/variant.toml",
        "notebook-voi/evppi.csv",
        "notebook-voi/evppi.png",
    ],
}


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "SCHEMESIM_REPLICATIONS": "3",
        "SCHEMESIM_WORKERS": "1",
        "SCHEMESIM_TRAJECTORIES": "2",
        "SCHEMESIM_RESULTS": str(tmp_path),
    }.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}}
    )
    client.execute()
    images = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})
    ]
    assert images, "no figure was displayed"
    for path in WRITES[name]:
        assert (tmp_path / path).stat().st_size > 0, path
    assert raw_floats(nb) == [], "a table or a line shows an unformatted number"
    shown = "\n".join(output_texts(nb))
    for words in SHOWN[name]:
        assert words in shown, words


#: Words each notebook's tables must show: the labels and units the command line uses.
SHOWN = {
    "01-baseline.ipynb": [
        "Runs where the places fill",
        "Budget left unused (HK$)",
        "HK$",
        "range (5-95% of runs; CI: of a share)",
        "CI ",
    ],
    "02-what-if.ipynb": ["Runs where B is better", "Difference B - A in 90% of runs (5-95%)", "HK$"],
    "03-sweep-and-sensitivity.ipynb": ["Manufacturing+: vetting capacity", "Mean absolute effect (mu*)"],
    "04-which-assumptions-matter.ipynb": [
        "'exhausted_by == places' holds in",
        "Manufacturing SMEs: propensity to apply",
        "CART cross-check",
        "of the futures inside the box",
        "paired futures; on current information the choice is",
        "Value of learning the parameter first",
        "90% interval",
    ],
}
