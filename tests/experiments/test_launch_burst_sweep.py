"""The shipped launch-burst sweep: it loads, holds the baseline's burst among its points, and runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.experiments.designs import load_sweep, make_design
from tests.experiments.conftest import SCENARIOS

SWEEP = SCENARIOS / "sweeps" / "launch-burst.toml"
SHARE = "schemes.manufacturing_plus.uptake.launch_share"
WEEKS = "schemes.manufacturing_plus.uptake.launch_weeks"


def test_the_grid_sweeps_share_by_length_through_the_baselines_burst() -> None:
    sweep = load_sweep(SWEEP)
    design = make_design(sweep).values
    assert sweep.paths == [SHARE, WEEKS]
    assert len(design) == 9 * 6
    assert ((design[SHARE].round(6) == 0.15) & (design[WEEKS] == 6)).sum() == 1


def test_it_runs_and_without_a_burst_its_length_changes_nothing(cli, tmp_path: Path) -> None:
    result = cli("sweep", SWEEP, "-n", "2", "--workers", "1", "--out", "burst")
    assert result.exit_code == 0, result.output
    points = pd.read_parquet(tmp_path / "burst" / "points.parquet")
    mine = points[points["scheme"] == "manufacturing_plus"]
    assert mine["point"].nunique() == 54
    plain = mine[mine[SHARE] == 0]
    assert plain["applications_mean"].nunique() == 1  # the same runs (common random numbers)
    assert plain["wait_median_weeks_mean"].nunique() == 1
