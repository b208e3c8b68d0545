"""Paired comparison on common random numbers: exact zero against itself, narrower than unpaired."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.compare import COLUMNS, paired_differences, run_compare
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
    a = pd.read_parquet(folder / "replications_a.parquet")
    pd.testing.assert_frame_equal(a, pd.read_parquet(folder / "replications_b.parquet"))
    assert len(a) == 6 * 2


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
    assert (it["diff_hi"] == 0).all()
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
