"""Paired comparison on common random numbers: exact zero against itself, narrower than unpaired."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.compare import COLUMNS, MisalignedScenarios, paired_differences, run_compare
from sim.outputs.brief import compare_sentences
from sim.outputs.experiments import compared_label, comparison_cells
from sim.spec.loader import load_scenario
from tests.experiments.conftest import SCENARIOS, SMALL


def test_compare_a_scenario_with_itself_gives_exactly_zero(cli, tmp_path: Path) -> None:
    result = cli("compare", SMALL, SMALL, "-n", "6", "--workers", "1", "--engine", "des", "--out", "self")
    assert result.exit_code == 0, result.stdout + result.stderr
    folder = tmp_path / "self"
    table = pd.read_csv(folder / "comparison.csv")
    assert table.columns.tolist() == list(COLUMNS)
    assert (table.loc[table["n"] > 0, "diff_mean"] == 0).all()
    defined = table[table["n"] > 1]  # an interval needs two replications where the metric is defined
    assert len(defined) >= 12
    for column in ("diff_se", "diff_lo", "diff_hi"):
        assert (defined[column] == 0).all(), column
    assert (defined["a_mean"] == defined["b_mean"]).all()
    assert (defined["confidence"] == 0.95).all()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "compare"
    assert manifest["scenario_a"] == manifest["scenario_b"] == "small"
    assert manifest["scenario_hash_a"] == manifest["scenario_hash_b"]
    for key in ("seed", "replications", "engine", "date", "created", "versions", "elapsed_s"):
        assert key in manifest
    readable = pd.read_csv(folder / "comparison-table.csv", keep_default_na=False)
    assert "Mean difference B - A (95% confidence interval of the mean)" in readable.columns
    awards = readable[readable["Metric"] == "Awards"]
    assert (awards["Difference B - A in 90% of runs (5-95%)"] == "none: 0 in every run").all()
    assert (awards["Runs where B is better"] == "0% better, 100% equal").all()
    a = pd.read_parquet(folder / "replications_a.parquet")
    pd.testing.assert_frame_equal(a, pd.read_parquet(folder / "replications_b.parquet"))
    assert len(a) == 6 * 3  # a row per replication and scheme


def test_paired_interval_is_narrower_than_unpaired_for_a_real_variant() -> None:
    base = load_scenario(SCENARIOS / "baseline.toml")
    variant = load_scenario(SCENARIOS / "cap-500k-200-places.toml")
    result = run_compare(base, variant, 24, seed=5, engine="des", workers=2)
    mp = result.comparison[result.comparison["scheme"] == "manufacturing_plus"].set_index("metric")
    paired = mp["diff_hi"] - mp["diff_lo"]
    unpaired = mp["unpaired_hi"] - mp["unpaired_lo"]
    for metric in ("applications", "awarded", "completed", "additional_upgrades", "benefit_cost_ratio"):
        assert paired[metric] < unpaired[metric], metric
    # the unchanged scheme differs by exactly nothing, replication by replication
    it = result.comparison[(result.comparison["scheme"] == "it_accelerator") & (result.comparison["n"] > 0)]
    assert (it["diff_mean"] == 0).all()
    assert (it.loc[it["n"] > 1, "diff_hi"] == 0).all()  # one run has no interval
    # fewer places: fewer awards, beyond doubt
    assert mp.loc["awarded", "diff_hi"] < 0


def test_paired_and_unpaired_intervals_by_hand() -> None:
    rng = np.random.default_rng(3)
    common = rng.normal(100, 10, 50)
    a = pd.DataFrame(
        {"replication": range(50), "scheme": "s", "segment": "all", "awarded": common + rng.normal(0, 1, 50)}
    )
    b = a.assign(awarded=common + 2 + rng.normal(0, 1, 50))
    row = paired_differences(a, b, metrics=("awarded",)).iloc[0]
    d = b["awarded"] - a["awarded"]
    half = 2.009575234489209 * d.std(ddof=1) / np.sqrt(50)  # t(0.975, 49)
    assert row["diff_mean"] == pytest.approx(d.mean())
    assert (row["diff_lo"], row["diff_hi"]) == pytest.approx((d.mean() - half, d.mean() + half))
    welch = np.sqrt(a["awarded"].var(ddof=1) / 50 + b["awarded"].var(ddof=1) / 50)
    assert row["unpaired_hi"] - row["unpaired_lo"] == pytest.approx(2 * 1.984 * welch, rel=0.01)
    assert row["diff_lo"] < 2 < row["diff_hi"]


# ------------------------------------------------------------------ honest comparisons (issue 11)


def _self_comparison() -> pd.DataFrame:
    run = run_compare(load_scenario(SMALL), load_scenario(SMALL), 6, seed=11, workers=1)
    return run.comparison


def test_a_self_comparison_has_no_spread_and_b_is_never_better_only_equal() -> None:
    table = _self_comparison()
    paired = table[table["n"] > 0]
    assert (paired["spread_lo"] == 0).all()
    assert (paired["spread_hi"] == 0).all()
    directed = paired[paired["better"] != ""]
    assert set(directed["metric"]) >= {"awarded", "additional_upgrades", "cost_per_additional_hkd"}
    assert (directed["share_b_better"] == 0).all()
    assert (directed["share_equal"] == 1).all()
    assert (directed["share_b_worse"] == 0).all()
    undirected = paired[paired["better"] == ""]
    assert {"applications", "public_cost_hkd"} <= set(undirected["metric"])
    assert undirected["share_b_better"].isna().all()  # no better direction: undefined, never 0%


def test_a_self_comparison_reads_as_no_difference_in_every_run() -> None:
    table = _self_comparison()
    awarded = comparison_cells(table.query("metric == 'awarded'").iloc[0])
    assert awarded[3] == "0 exactly (the same in every run)"  # a zero-width interval is not printed as one
    assert awarded[4] == "none: 0 in every run"
    assert awarded[5] == "0% better, 100% equal"
    applications = comparison_cells(table.query("metric == 'applications'").iloc[0])
    assert applications[5] == "-"


def test_the_spread_of_the_per_run_difference_is_wider_than_the_interval_of_its_mean() -> None:
    base = load_scenario(SCENARIOS / "baseline.toml")
    variant = load_scenario(SCENARIOS / "cap-500k-200-places.toml")
    result = run_compare(base, variant, 12, seed=5, workers=1)
    mp = result.comparison[result.comparison["scheme"] == "manufacturing_plus"].set_index("metric")
    for metric in ("awarded", "completed", "additional_upgrades", "benefit_cost_ratio"):
        row = mp.loc[metric]
        assert row["spread_hi"] - row["spread_lo"] > row["diff_hi"] - row["diff_lo"] > 0, metric
        assert row["spread_lo"] <= row["diff_mean"] <= row["spread_hi"], metric
    # half the places: B awards fewer in most runs (not all: some runs of A award fewer than 200)
    shares = mp.loc["awarded", ["share_b_better", "share_equal", "share_b_worse"]].to_numpy(dtype=float)
    assert shares.sum() == pytest.approx(1.0)
    assert shares[2] > 0.5 > shares[0]
    assert mp.loc["awarded", "better"] == "higher"
    assert mp.loc["cost_per_additional_hkd", "better"] == "lower"


def test_the_week_the_places_fill_is_compared_over_the_runs_where_both_fill() -> None:
    a = pd.DataFrame(
        {
            "replication": range(4),
            "scheme": "s",
            "segment": "all",
            "exhausted_by_places": [1, 1, 0, 1],
            "exhaustion_week": [50.0, 60.0, np.nan, 70.0],
        }
    )
    b = a.assign(exhausted_by_places=[1, 0, 1, 1], exhaustion_week=[40.0, np.nan, 30.0, 50.0])
    row = paired_differences(a, b, metrics=("places_fill_week",)).iloc[0]
    assert row["n"] == 2  # runs 0 and 3 fill under both
    assert bool(row["subset"])
    assert (row["a_mean"], row["b_mean"], row["diff_mean"]) == (60.0, 45.0, -15.0)
    assert "2 runs where both" in compared_label(row)


def test_a_scheme_in_one_scenario_only_is_shown_as_such_never_as_no_difference() -> None:
    a = pd.DataFrame({"replication": [0, 1, 0, 1], "scheme": ["s", "s", "t", "t"], "segment": "all"})
    a = a.assign(awarded=[3.0, 5.0, 7.0, 9.0])
    b = a[a["scheme"] == "s"]
    table = paired_differences(a, b, metrics=("awarded",))
    t = table[table["scheme"] == "t"].iloc[0]
    assert t["presence"] == "only in A"
    assert t["a_mean"] == 8.0
    assert np.isnan(t["b_mean"])
    assert np.isnan(t["diff_mean"])
    cells = comparison_cells(t)
    assert cells[2] == "not in B"
    assert cells[3] == "only in A"
    sentences = compare_sentences(table, {}, "base", "variant")
    assert any(s.startswith("T: only in base") for s in sentences)
    assert not any("no difference" in s and s.startswith("T") for s in sentences)


def test_scenarios_with_different_horizons_are_refused_naming_both(cli, tmp_path: Path) -> None:
    short = tmp_path / "short.toml"
    short.write_text(f'extends = "{SMALL.as_posix()}"\nhorizon_weeks = 52\n')
    result = cli("compare", SMALL, short, "-n", "2", "--workers", "1")
    assert result.exit_code == 2
    message = " ".join((result.stdout + result.stderr).split())
    assert "horizon weeks = 104" in message
    assert "horizon weeks = 52" in message
    with pytest.raises(MisalignedScenarios, match="52"):
        run_compare(load_scenario(SMALL), load_scenario(short), 2, seed=1, workers=1)
