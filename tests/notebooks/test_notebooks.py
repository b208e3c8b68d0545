"""The notebooks run top to bottom with small counts, and are kept in git without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01-baseline.ipynb", "02-what-if.ipynb", "03-sweep-and-sensitivity.ipynb"]


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
