"""Adaptive replications: add batches until the chosen metrics are precise enough, or a maximum."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.adaptive import Precision, relative_half_widths, run_replications, run_to_precision
from sim.experiments.pipeline import Execution
from sim.spec.loader import load_scenario, scenario_from_dict
from tests.experiments.conftest import SMALL


@pytest.fixture(scope="module")
def small():
    """The small scenario without NIFS, whose few awards at a tenth of the baseline (about one run in
    three) no relative precision of a few percent can be reached for within a few hundred runs."""
    loaded = load_scenario(SMALL)
    source = copy.deepcopy(loaded.source)
    del source["schemes"]["nifs"]
    return dataclasses.replace(loaded, scenario=scenario_from_dict(source, loaded.path), source=source)


def test_stops_once_the_target_is_met_and_equals_a_fixed_run(small) -> None:
    rule = Precision(target=0.05, metrics=("awarded", "applications"), initial=8, max_replications=400)
    result = run_to_precision(small, 9, rule, "des", execution=Execution(workers=1))
    reached = result.extra["precision"]
    assert reached["met"]
    assert reached["reached"] <= 0.05
    assert reached["replications"] == result.replications > 8
    assert reached["batches"] >= 2
    widths = relative_half_widths(result.table, rule.metrics)
    assert max(widths.values()) == pytest.approx(reached["reached"], abs=1e-6)
    # replications are numbered on from batch to batch: the same as one fixed run
    fixed = run_replications(small, result.replications, 9, "des", execution=Execution(workers=2))
    pd.testing.assert_frame_equal(result.table, fixed.table, check_exact=True)
    for scheme, weekly in fixed.weekly.items():
        np.testing.assert_array_equal(result.weekly[scheme], weekly)


def test_stops_at_the_maximum_and_says_the_target_was_not_met(small) -> None:
    rule = Precision(target=0.001, metrics=("completed",), initial=6, max_replications=10)
    result = run_to_precision(small, 9, rule, "des", execution=Execution(workers=1))
    reached = result.extra["precision"]
    assert result.replications == 10
    assert not reached["met"]
    assert reached["reached"] > 0.001


def test_relative_half_width_by_hand() -> None:
    x = np.array([10.0, 12.0, 11.0, 13.0])
    table = pd.DataFrame({"replication": range(4), "scheme": "s", "segment": "all", "awarded": x})
    half = 3.182446305284263 * x.std(ddof=1) / 2  # t(0.975, 3) * sd / sqrt(4)
    assert relative_half_widths(table, ("awarded",))["s.awarded"] == pytest.approx(half / x.mean())


def test_run_precision_on_the_command_line_records_what_was_reached(cli, tmp_path: Path) -> None:
    result = cli(
        "run", SMALL, "-n", "8", "--precision", "0.5", "--precision-metrics", "awarded",
        "--max-replications", "300", "--workers", "1", "--engine", "des", "--out", "adaptive",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "adaptive" / "manifest.json").read_text())
    precision = manifest["precision"]
    # a loose target: NIFS's few awards at a tenth of the baseline set the pace
    assert precision["target"] == 0.5
    assert precision["metrics"] == ["awarded"]
    assert precision["met"]
    assert precision["reached"] <= 0.5
    assert precision["replications"] == manifest["replications"] > 8
    reps = pd.read_parquet(tmp_path / "adaptive" / "replications.parquet")
    assert len(reps) == 3 * manifest["replications"]
