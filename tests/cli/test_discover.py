"""``schemesim discover``: on a run (replications and their draws) and on a sweep whose outcome one
parameter decides; the folder, the words, the box as a scenario that loads and runs; refusals."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from sim.engines.parameters import draw_parameters
from sim.experiments.replicate import replicate
from sim.outputs.brief import A4, write_brief
from sim.outputs.discover import DISCOVER_FILES
from sim.outputs.discover_brief import discovery_page
from sim.outputs.draws import uncertain_paths
from sim.outputs.folders import read_folder
from sim.spec.loader import load_scenario
from tests.conftest import DATA
from tests.outputs.test_brief import _assert_on_the_page, pdf_pages

pytest.importorskip("ema_workbench", reason="the discover extra is not installed")

SMALL = DATA / "small.toml"
PROPENSITY = "segments.manufacturing_sme.propensity"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of the one-tenth scenario, 600 replications."""
    from typer.testing import CliRunner

    from sim.cli import app

    out = tmp_path_factory.mktemp("run") / "small"
    result = CliRunner().invoke(
        app, ["run", str(SMALL), "-n", "600", "--seed", "3", "--workers", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stdout
    return out


def median_applications(folder: Path) -> float:
    table = pd.read_parquet(folder / "replications.parquet")
    rows = table[(table["scheme"] == "manufacturing_plus") & (table["segment"] == "all")]
    return float(np.median(rows["applications"]))


def test_a_run_keeps_each_replications_draws(run_folder: Path) -> None:
    scenario = load_scenario(SMALL).scenario
    draws = pd.read_parquet(run_folder / "draws.parquet")
    assert list(draws.columns) == ["replication", *uncertain_paths(scenario)]
    assert draws["replication"].tolist() == list(range(600))
    expected = draw_parameters(scenario, 3, np.array([5, 77]))
    for path in uncertain_paths(scenario):
        assert draws.loc[[5, 77], path].tolist() == expected[path].tolist()
    assert "draws.parquet" in json.loads((run_folder / "manifest.json").read_text())["files"]


def test_discover_on_a_run_finds_the_propensity_and_writes_a_runnable_box(
    cli, run_folder: Path, tmp_path: Path
) -> None:
    """Applications above their median depend mostly on the propensity to apply (and the eligible
    share): the box must restrict the propensity from below."""
    where = f"applications > {median_applications(run_folder):g}"
    out = tmp_path / "found"
    result = cli("discover", run_folder, "--where", where, "--out", out)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"'{where}' holds in" in result.stdout
    assert "Manufacturing SMEs: propensity to apply" in result.stdout
    assert "CART cross-check" in result.stdout
    names = {p.name for p in out.iterdir()}
    assert names == set(DISCOVER_FILES) | {"manifest.json"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "discover"
    assert manifest["condition"] == where
    box = pd.read_csv(out / "box.csv").set_index("parameter")
    assert box.loc[PROPENSITY, "restricts_low"]
    assert box.loc[PROPENSITY, "qp_low"] < 0.01
    peeling = pd.read_csv(out / "peeling.csv")
    assert peeling["chosen"].sum() == 1
    assert peeling.loc[0, ["mass", "coverage", "restricted"]].tolist() == [1.0, 1.0, 0]  # the whole space
    assert peeling["mass"].min() >= 0.05 - 0.05 * 0.05  # peeling stops at the smallest box (one step)
    cases = pd.read_parquet(out / "cases.parquet")
    assert len(cases) == 600
    assert cases["holds"].mean() == pytest.approx(manifest["cases_where_it_holds"] / 600)
    for command, words in (
        ("plot", "holds its figures already (discovery.png)"),
        ("brief", "its figures are in it"),
    ):
        refused = cli(command, out)
        assert refused.exit_code == 2, refused.stderr
        assert words in refused.stderr
    assert {p.name for p in out.iterdir()} == names
    variant = load_scenario(out / "variant.toml", allow_outside=True)
    low, high = box.loc[PROPENSITY, "low"], box.loc[PROPENSITY, "high"]
    drawn = draw_parameters(variant.scenario, 1, np.arange(400))[PROPENSITY]
    assert (drawn >= low - 1e-6).all()
    assert (drawn <= high + 1e-6).all()
    # The variant's futures are the futures inside the box: the condition holds in about the box's
    # density of them. Tolerance: 4 standard errors of the difference of two shares (the box's,
    # over its cases; the variant's, over 400 replications): a false alarm about 1 in 10,000.
    table = replicate(variant.scenario, 1, np.arange(400), weekly=False).table
    rows = table[(table["scheme"] == "manufacturing_plus") & (table["segment"] == "all")]
    share = float(np.mean(rows["applications"] > median_applications(run_folder)))
    density, in_box = manifest["density"], peeling.loc[peeling["chosen"], "mass"].iloc[0] * 600
    se = np.sqrt(density * (1 - density) / in_box + share * (1 - share) / 400)
    assert abs(share - density) < 4 * se + 0.01, (share, density)


def test_a_run_folder_without_draws_has_them_drawn_again_the_same(
    cli, run_folder: Path, tmp_path: Path
) -> None:
    """A folder written before runs kept their draws: the draws come from the manifest's scenario
    and seed, and they are the same numbers the run used."""
    older = tmp_path / "older"
    shutil.copytree(run_folder, older)
    (older / "draws.parquet").unlink()
    where = f"applications > {median_applications(run_folder):g}"
    result = cli("discover", older, "--where", where, "--out", tmp_path / "found")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "no draws.parquet in the folder" in result.stderr
    cases = pd.read_parquet(tmp_path / "found" / "cases.parquet")
    kept = pd.read_parquet(run_folder / "draws.parquet")
    for path in kept.columns.drop("replication"):
        assert cases[path].tolist() == kept[path].tolist()


def test_the_brief_gains_a_page_on_the_discovery_of_its_own_run(
    cli, run_folder: Path, tmp_path: Path
) -> None:
    found = tmp_path / "found"
    made = cli("discover", run_folder, "--where", "exhausted_by == places", "--out", found)
    assert made.exit_code == 0, made.stdout + made.stderr
    brief = tmp_path / "brief.pdf"
    result = cli("brief", run_folder, "--discovery", found, "--out", brief)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert pdf_pages(brief) == 3  # the run's page, its other schemes' page, the discovery's
    page = discovery_page(read_folder(found), A4)
    texts = [t.get_text() for t in page.findobj(Text) if t.get_text()]
    assert "Which assumptions decide it?" in texts
    assert any("'exhausted_by == places' holds in" in t for t in texts)
    assert any(t.startswith("CART cross-check") for t in texts)
    _assert_on_the_page(page)
    assert pdf_pages(Path(write_brief(run_folder, out=tmp_path / "one.pdf"))) == 2


def test_the_brief_refuses_a_discovery_of_another_run(cli, run_folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    made = cli("run", SMALL, "-n", "300", "--seed", "9", "--workers", "1", "--out", other)
    assert made.exit_code == 0, made.stdout
    found = tmp_path / "found"
    assert cli("discover", other, "--where", "exhausted_by == places", "--out", found).exit_code == 0
    result = cli("brief", run_folder, "--discovery", found, "--out", tmp_path / "brief.pdf")
    assert result.exit_code == 2
    assert "was made from" in result.stderr
    assert not (tmp_path / "brief.pdf").exists()


def test_discover_on_a_sweep_finds_the_parameter_that_decides(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the places fill in most runs is decided by the number of places, not by deadweight
    (which acts only after awards): the box restricts places from above and nothing else."""
    monkeypatch.setenv("SCHEMESIM_ALLOW_OUTSIDE", "0")  # restored after the test: --allow-outside sets it
    sweep = tmp_path / "places.toml"
    sweep.write_text(
        f'base = "{SMALL.as_posix()}"\ndesign = "lhs"\npoints = 48\nreplications = 40\nseed = 2\n'
        '[[parameters]]\npath = "schemes.manufacturing_plus.places"\nlow = 5\nhigh = 150\n'
        '[[parameters]]\npath = "schemes.manufacturing_plus.impact.deadweight"\nlow = 0.1\nhigh = 0.8\n'
    )
    out = tmp_path / "sweep"
    made = cli("--allow-outside", "sweep", sweep, "--out", out, "--workers", "1")
    assert made.exit_code == 0, made.stdout + made.stderr
    found = tmp_path / "found"
    result = cli("discover", out, "--where", "exhausted_by_places > 0.5", "--out", found)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "of the points where Manufacturing+: places is at most" in result.stdout
    box = pd.read_csv(found / "box.csv")
    assert box["parameter"].tolist() == ["schemes.manufacturing_plus.places"]
    peeling = pd.read_csv(found / "peeling.csv")
    chosen = peeling[peeling["chosen"]].iloc[0]
    assert chosen["density"] >= 0.9
    assert chosen["coverage"] >= 0.8
    variant = (found / "variant.toml").read_text()
    assert 'schemes.manufacturing_plus.places = { dist = "uniform", low = ' in variant
    assert "warning" not in result.stderr
    inside = load_scenario(found / "variant.toml", allow_outside=True).scenario
    places = draw_parameters(inside, 1, np.arange(200))["schemes.manufacturing_plus.places"]
    assert places.min() >= box.loc[0, "low"] - 0.5
    assert places.max() <= box.loc[0, "high"] + 0.5


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("exhausted_by == place", ["--where:", "did you mean 'places'", "allowed: money, places, none"]),
        ("unused budgt > 30M", ["--where:", "did you mean 'unused_budget_hkd'"]),
        ("applications < 0", ["holds in none of the 600 cases", "loosen it"]),
        ("applications >= 0", ["holds in every one of the 600 cases", "tighten it"]),
    ],
)
def test_bad_conditions_exit_2_and_write_nothing(
    cli, run_folder: Path, tmp_path: Path, where: str, words: list[str]
) -> None:
    out = tmp_path / "found"
    result = cli("discover", run_folder, "--where", where, "--out", out)
    assert result.exit_code == 2, result.stdout + result.stderr
    for word in words:
        assert word in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_an_unknown_scheme_and_a_folder_that_is_no_result_exit_2(
    cli, run_folder: Path, tmp_path: Path
) -> None:
    bad = cli("discover", run_folder, "--where", "awarded > 1", "--scheme", "manufacturing")
    assert bad.exit_code == 2
    assert "did you mean 'manufacturing_plus'" in bad.stderr
    onto = cli("discover", run_folder, "--where", "awarded > 1", "--out", run_folder)
    assert onto.exit_code == 2
    assert "is the folder discovery reads" in onto.stderr
    assert (run_folder / "replications.parquet").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = cli("discover", empty, "--where", "awarded > 1")
    assert refused.exit_code == 2
    assert "manifest" in refused.stderr


def test_without_the_extra_the_command_says_how_to_install_it(
    cli, run_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ema_workbench", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    result = cli("discover", run_folder, "--where", "awarded > 1")
    assert result.exit_code == 2
    assert "pip install -e '.[discover]'" in result.stderr
