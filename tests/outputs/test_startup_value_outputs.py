"""An intermediary scheme's benefit-cost ratio in every output (MODEL.md 6b, R-PROGRAMME-IMPACT):
given where the scenario values its start-ups (`scenarios/accelerator-startup-values.toml`), and
shown as not given, never as 0, where it does not (the baseline): the headline, the command line's
cells, the brief, the workbook, `compare` and a sweep point's outputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from sim.experiments.compare import run_compare
from sim.experiments.designs import OUTPUTS, load_sweep, make_design
from sim.experiments.replicate import replicate
from sim.experiments.sweep import run_sweep, summarize_point
from sim.outputs.brief import brief_figure, compare_sentences
from sim.outputs.experiments import SweepStore, comparison_cells, finish_sweep
from sim.outputs.figures import compared_rows, figures_for
from sim.outputs.folders import read_folder
from sim.outputs.numbers import NOT_GIVEN, format_cell, format_value
from sim.spec.loader import load_scenario
from tests.outputs import builders

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios/baseline.toml"
VALUED = ROOT / "scenarios/accelerator-startup-values.toml"
REPS = 40


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("valued")
    return {
        name: builders.build_run(tmp / name, path, REPS)
        for name, path in (("baseline", BASELINE), ("valued", VALUED))
    }


def _accelerator_ratio(folder: Path) -> pd.DataFrame:
    head = pd.read_csv(folder / "headline.csv")
    return head[(head["scheme"] == "it_accelerator") & head["key"].str.startswith("benefit_cost_ratio")]


def test_the_headline_gives_the_ratio_only_where_start_ups_are_valued(runs: dict[str, Path]) -> None:
    valued = _accelerator_ratio(runs["valued"])
    assert list(valued["key"]) == ["benefit_cost_ratio", "benefit_cost_ratio_follow_up"]
    assert (valued["n"] == REPS).all()  # the public cost (administration at least) is never 0
    assert (valued["value"] > 0).all()
    assert (valued["p05"] <= valued["value"]).all()
    plain = _accelerator_ratio(runs["baseline"])
    assert len(plain) == 2
    assert (plain["n"] == 0).all()
    assert plain["value"].isna().all()


def test_an_undefined_ratio_reads_not_given_and_other_gaps_a_dash() -> None:
    for metric in ("benefit_cost_ratio", "benefit_cost_ratio_follow_up"):
        assert format_cell(math.nan, metric) == NOT_GIVEN == format_value(math.nan, metric)
    assert format_value(math.nan, "cost_per_startup_hkd") == "-"
    assert format_cell(0.0, "benefit_cost_ratio") == "0.0"  # a ratio of 0 is a given ratio


def _accelerator_words(folder: Path) -> str:
    fig = brief_figure(read_folder(folder))
    words = " ".join(" ".join(t.get_text() for t in fig.findobj(Text) if t.get_text()).split())
    return words[words.index("I&T Accelerator: ") :]


def test_the_brief_says_what_the_start_ups_are_worth_or_that_it_is_not_given(runs: dict[str, Path]) -> None:
    valued = _accelerator_words(runs["valued"])
    assert "valued as the scenario's impact section says" in valued
    assert "times the public cost" in valued
    plain = _accelerator_words(runs["baseline"])
    assert "the scenario gives no impact section valuing their outcomes" in plain
    assert "impact section says" not in plain


def test_the_workbook_leaves_a_missing_ratio_empty_not_zero(runs: dict[str, Path]) -> None:
    for name, defined in (("valued", True), ("baseline", False)):
        sheet = pd.read_excel(runs[name] / "results.xlsx", sheet_name="Headline")
        rows = sheet[
            (sheet["Scheme"] == "I&T Accelerator") & sheet["Statistic"].str.startswith("Benefit-cost")
        ]
        assert len(rows) == 2
        assert rows["Value"].notna().all() == defined
        assert (rows["Runs counted"] > 0).all() == defined
        assert not (rows["Value"] == 0).any()


def test_compare_shows_the_ratio_of_b_and_not_given_for_a() -> None:
    """Baseline against the valued variant, on common random numbers: only the accelerator's ratio
    differs; A's is not given, B's is a number; Manufacturing+'s differs by exactly 0."""
    result = run_compare(
        load_scenario(BASELINE), load_scenario(VALUED), 60, seed=5, engine="batch", workers=1
    )
    shown = compared_rows(result.comparison)

    def row(scheme: str) -> pd.Series:
        found = shown[(shown["scheme"] == scheme) & (shown["metric"] == "benefit_cost_ratio_follow_up")]
        assert len(found) == 1
        return found.iloc[0]

    ratio = row("it_accelerator")
    assert math.isnan(ratio["a_mean"])
    assert ratio["b_mean"] > 0
    cells = comparison_cells(ratio)
    assert cells[1] == NOT_GIVEN
    assert cells[2] not in (NOT_GIVEN, "-", "0")
    words = " ".join(compare_sentences(result.comparison, {}, "A", "B"))
    assert "benefit-cost ratio by follow-up end not given → " in words
    assert "(given only in B)" in words
    assert "Manufacturing plus: no difference between A and B" in words
    same = row("manufacturing_plus")
    assert same["diff_mean"] == 0
    assert same["a_mean"] == same["b_mean"]


def test_a_sweep_point_gives_no_ratio_without_start_up_values() -> None:
    """A sweep point's benefit-cost outputs for the accelerator: NaN without an impact section,
    mean present value over mean public cost with one."""
    reps = np.arange(30)
    for path, defined in ((BASELINE, False), (VALUED, True)):
        scenario = load_scenario(path).scenario
        table = replicate(scenario, 9, reps, "batch", weekly=False).table
        point = summarize_point(table, ["it_accelerator"], scenario.horizon_weeks)
        for suffix in ("", "_follow_up"):
            value = point.output_value[0, OUTPUTS.index("benefit_cost_ratio" + suffix)]
            if not defined:
                assert math.isnan(value)
                continue
            t = table[table["scheme"] == "it_accelerator"]
            expected = t["pv_benefit_hkd" + suffix].mean() / t["public_cost_hkd" + suffix].mean()
            assert value == pytest.approx(expected, rel=1e-12)


def test_a_sweep_of_start_up_values_draws_the_ratio_and_no_empty_chart(tmp_path: Path) -> None:
    """Two values of a surviving start-up x two deadweights, on common random numbers: the ratio
    rises with the value and falls with the deadweight, exactly; the default figures are the
    ratio's alone (an intermediary scheme has no additional upgrades to draw)."""
    path = tmp_path / "values.toml"
    path.write_text(
        f'base = "{VALUED.as_posix()}"\nname = "values"\ndesign = "grid"\nreplications = 4\nseed = 3\n'
        '[[parameters]]\npath = "schemes.it_accelerator.programme.impact.surviving_value_hkd"\n'
        "values = [1_000_000, 3_000_000]\n"
        '[[parameters]]\npath = "schemes.it_accelerator.programme.impact.deadweight"\nvalues = [0.2, 0.6]\n'
    )
    sweep = load_sweep(path)
    result = run_sweep(sweep, make_design(sweep), SweepStore(tmp_path / "out", sweep.definition()), workers=1)
    folder = finish_sweep(tmp_path / "out", result)
    points = pd.read_parquet(folder / "points.parquet")
    it = points[points["scheme"] == "it_accelerator"].set_index(
        [
            "schemes.it_accelerator.programme.impact.surviving_value_hkd",
            "schemes.it_accelerator.programme.impact.deadweight",
        ]
    )["benefit_cost_ratio_follow_up_mean"]
    assert it[(3e6, 0.2)] > it[(1e6, 0.2)] > it[(1e6, 0.6)] > 0
    assert it[(3e6, 0.6)] > it[(1e6, 0.6)]
    assert set(figures_for(read_folder(folder))) == {"sweep-benefit_cost_ratio"}
