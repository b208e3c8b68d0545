"""The one-page brief: one A4 page, the headline in words and a table, figures, assumptions, footer."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from sim.outputs.brief import A4, brief_figure, write_brief
from sim.outputs.folders import FolderError, read_folder


def pdf_pages(path: Path) -> int:
    """Pages of a PDF, counted from its page objects (matplotlib writes them uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", path.read_bytes()))


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _assert_on_the_page(fig: Figure) -> None:
    """Every text and every panel (with its labels) lies inside the A4 page."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = fig.bbox.padded(1)
    boxes = [(t.get_text()[:60], t.get_window_extent(renderer)) for t in fig.texts if t.get_text()]
    boxes += [(ax.get_title(loc="left") or ax.get_xlabel(), ax.get_tightbbox(renderer)) for ax in fig.axes]
    for what, box in boxes:
        inside = page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
        assert inside, f"off the page: {what!r}"


def test_run_brief_is_one_a4_page_and_one_for_the_other_schemes(folders, tmp_path: Path) -> None:
    path = write_brief(folders["run"], out=tmp_path / "brief.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert pdf_pages(path) == 2  # Manufacturing+; then NIFS and the I&T Accelerator
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.\d+ 841\.\d+\s*\]", data)


def test_run_brief_has_headline_words_table_figures_assumptions_and_footer(folders) -> None:
    folder = read_folder(folders["run"])
    fig = brief_figure(folder)
    assert tuple(fig.get_size_inches()) == pytest.approx(A4)
    texts = _texts(fig)
    joined = "\n".join(texts)
    assert fig.texts[0].get_text() == "What the small scenario shows"
    for heading in ("The headline", "Key figures", "Main assumptions about Manufacturing+"):
        assert heading in texts
    words = " ".join(joined.split())  # sentences are wrapped over lines
    assert re.search(
        r"Manufacturing\+: the 40 places (fill within 104 weeks in (\d+% of runs|every run)|do not fill)",
        words,
    )
    assert re.search(r"HK\$[\d.]+M of the HK\$10M \(\d+%\) is left unused", words)
    reps = folder.table("replications")
    if not reps["exhausted_by_money"].any():  # the money is said to run out only where it does
        assert "runs out" not in words
    assert "Applications" in texts
    assert any(t.startswith("Benefit-cost ratio by scheme end") for t in texts)
    assert "launch notice: up to HK$250k per enterprise" in texts  # a sourced default
    assert "HK$250k" in texts
    axes = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert len(axes) == 4
    assert all(ax.get_xlabel() for ax in axes)
    assert any(f"hash {folder.meta['scenario_hash'][:10]}" in t for t in texts)
    _assert_on_the_page(fig)


def test_compare_folder_brief(folders, tmp_path: Path) -> None:
    folder = read_folder(folders["compare"])
    fig = brief_figure(folder)
    texts = _texts(fig)
    assert fig.texts[0].get_text() == "What changes from small to cap-doubled?"
    joined = "\n".join(texts)
    assert "Manufacturing+, from small to cap-doubled: applications" in joined
    assert "I&T Accelerator: no difference between small and cap-doubled" in joined
    assert "HK$250k → HK$500k" in texts  # what differs between the scenarios
    _assert_on_the_page(fig)
    assert pdf_pages(write_brief(folders["compare"], out=tmp_path / "c.pdf")) == 1


def test_run_compared_with_another_run(folders, other_run: Path) -> None:
    path = write_brief(folders["run"], compare=other_run)
    assert path.name == "brief-vs-cap-doubled.pdf"
    assert pdf_pages(path) == 1
    fig = brief_figure(read_folder(folders["run"]), read_folder(other_run))
    texts = _texts(fig)
    assert "Mean difference B - A (95%\nconfidence interval of the mean)" in texts  # one level throughout
    assert "Difference B - A in\n90% of runs (5-95%)" in texts
    assert "doubled cap" in texts  # the source comment of the changed line
    assert not any("different seeds" in t for t in texts)
    _assert_on_the_page(fig)


def test_runs_on_different_seeds_are_compared_unpaired(folders, other_run: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(other_run, tmp_path / "other-seed"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["seed"] = manifest["seed"] + 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    texts = _texts(brief_figure(read_folder(folders["run"]), read_folder(copy)))
    assert "The two runs used different seeds, so intervals are unpaired (wider)." in texts


def test_brief_of_a_sweep_is_refused(folders) -> None:
    with pytest.raises(FolderError, match="not a sweep folder"):
        write_brief(folders["sweep-1"])
