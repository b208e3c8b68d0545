"""The comparison brief (issue 11, item 4): precision and spread told apart, like with like, on one page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments.compare import run_compare
from sim.outputs.brief import brief_figure, write_brief
from sim.outputs.experiments import save_compare
from sim.outputs.folders import read_folder
from sim.spec.loader import load_scenario
from tests.conftest import SCENARIOS
from tests.outputs import builders
from tests.outputs.test_brief import _assert_on_the_page, _texts, pdf_pages


@pytest.fixture(scope="module")
def real_variant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cap-500k-200-places against the baseline, a few paired runs."""
    base = load_scenario(SCENARIOS / "baseline.toml")
    variant = load_scenario(SCENARIOS / "cap-500k-200-places.toml")
    result = run_compare(base, variant, 8, seed=5, workers=1)
    return save_compare(result, tmp_path_factory.mktemp("variant") / "compare")


def test_the_comparison_brief_tells_precision_from_spread_and_fits_one_page(
    real_variant: Path, tmp_path
) -> None:
    fig = brief_figure(read_folder(real_variant))
    texts = _texts(fig)
    words = " ".join(" ".join(texts).split())
    assert "Mean difference B - A (95% confidence interval of the mean)" in words
    assert "Difference B - A in 90% of runs (5-95%)" in words
    assert "Runs where B is better" in words
    assert "precision of the mean difference" in words
    assert any("% better, " in t and "% equal" in t for t in texts)  # shares of runs, ties apart
    _assert_on_the_page(fig)
    assert pdf_pages(write_brief(real_variant, out=tmp_path / "variant.pdf")) == 1


def test_brief_compare_of_runs_of_different_lengths_says_it_pairs_the_first_ones(
    cli, folders, tmp_path: Path
) -> None:
    b = builders.variant(tmp_path, "cap-doubled", builders.CAP_DOUBLED)
    shorter = builders.build_run(tmp_path / "shorter", b, replications=8)
    result = cli("brief", folders["run"], "--compare", shorter, "--out", tmp_path / "vs.pdf")
    assert result.exit_code == 0, result.stdout + result.stderr
    expected = "A has 16 runs and B 8: the first 8 replications of each are compared, paired"
    assert expected in " ".join(result.stdout.split())
    texts = _texts(brief_figure(read_folder(folders["run"]), read_folder(shorter)))
    assert any(t.startswith(expected) for t in texts)


def test_brief_compare_of_runs_with_different_horizons_is_refused(cli, folders, tmp_path: Path) -> None:
    b = builders.variant(tmp_path, "short", "horizon_weeks = 52\n")
    short = builders.build_run(tmp_path / "short", b, replications=4)
    result = cli("brief", folders["run"], "--compare", short, "--out", tmp_path / "vs.pdf")
    assert result.exit_code == 2
    message = " ".join((result.stdout + result.stderr).split())
    assert "horizon weeks = 104" in message
    assert "horizon weeks = 52" in message
    assert not (tmp_path / "vs.pdf").exists()


def test_a_compare_folder_written_before_the_spread_existed_is_recomputed_from_its_runs(
    real_variant: Path, tmp_path: Path
) -> None:
    old = Path(shutil.copytree(real_variant, tmp_path / "old"))
    table = pd.read_csv(old / "comparison.csv")
    keep = ["scheme", "metric", "a_mean", "b_mean", "diff_mean", "diff_se", "diff_lo", "diff_hi"]
    keep += ["unpaired_lo", "unpaired_hi", "n", "confidence"]
    table[keep].to_csv(old / "comparison.csv", index=False)
    words = " ".join(" ".join(_texts(brief_figure(read_folder(old)))).split())
    assert "Difference B - A in 90% of runs (5-95%)" in words
    assert "% better, " in words
