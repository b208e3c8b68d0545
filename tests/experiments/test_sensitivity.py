"""Sensitivity through the sweep pipeline recovers known indices; noise is not an effect.

Test functions replace the simulation through ``run_sweep(simulate=...)``, so
they pass through the same design, chunking, per-point averaging and SALib
analysis as a scenario; each replication adds noise shared by all points
(common random numbers) and noise of its own.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engines.metrics import METRICS
from sim.experiments.designs import Parameter, Sweep, load_sweep
from sim.experiments.pipeline import Execution
from sim.experiments.sensitivity import analyze, sensitivity_design
from sim.experiments.sweep import MemorySink, SweepJob, run_sweep
from sim.spec.loader import load_scenario
from tests.experiments.conftest import SMALL, write_sweep

A, B = 7.0, 0.1
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]

#: Test functions run in this process, 64 replications a task.
CHUNKS_OF_64 = Execution(workers=1, chunk_size=64)


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[0]) + A * np.sin(x[1]) ** 2 + B * x[2] ** 4 * np.sin(x[0])


def linear(x: np.ndarray) -> np.ndarray:
    return 3.0 * x[0] + 1.0 * x[1] + 0.0 * x[2]


def _noisy(
    f, job: SweepJob, point: int, values: tuple[float, ...], reps: np.ndarray
) -> tuple[pd.DataFrame, str]:
    """``f(x)`` plus noise N(0, 1) shared by all points and N(0, 0.5) of each point, per replication."""
    shared = np.array([np.random.default_rng([job.seed, r]).normal() for r in reps])
    own = np.array([np.random.default_rng([job.seed, r, point]).normal() for r in reps])
    y = f(np.asarray(values)) + shared + 0.5 * own
    columns = {metric: np.ones(len(reps)) for metric in METRICS} | {"awarded": y}
    table = pd.DataFrame({"replication": reps, "scheme": "manufacturing_plus", "segment": "all", **columns})
    return table, "test"


def simulate_ishigami(job: SweepJob, point: int, values: tuple[float, ...], reps: np.ndarray):
    return _noisy(ishigami, job, point, values, reps)


def simulate_linear(job: SweepJob, point: int, values: tuple[float, ...], reps: np.ndarray):
    return _noisy(linear, job, point, values, reps)


def _sweep(low: float, high: float) -> Sweep:
    base = load_scenario(SMALL)
    params = tuple(Parameter(f"x{i + 1}", low=low, high=high) for i in range(3))
    return Sweep(
        name="test", path="test", base=base, parameters=params, replications=16, seed=11, resamples=500
    )


def _indices(sweep: Sweep, method: str, samples: int, simulate) -> pd.DataFrame:
    design = sensitivity_design(sweep, method, samples)
    result = run_sweep(sweep, design, MemorySink(), execution=CHUNKS_OF_64, simulate=simulate)
    table = analyze(result, method, schemes=("manufacturing_plus",), outputs=("awarded",)).table
    return table.set_index("parameter").loc[["x1", "x2", "x3"]]


def test_sobol_recovers_the_ishigami_indices() -> None:
    table = _indices(_sweep(-math.pi, math.pi), "sobol", 512, simulate_ishigami)
    # within two half-widths of the bootstrap 95% interval (about 4 standard errors)
    for column, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        error = np.abs(table[column].to_numpy() - truth)
        assert (error <= 2 * table[f"{column}_conf"].to_numpy()).all(), (column, table)
    # noise of a point's own: 0.5 / sqrt(16); the part shared by all points cancels
    assert 0.125 * 0.9 < table["noise_se"].iloc[0] < 0.125 * 1.1
    assert table[["mu_star", "sigma"]].isna().all().all()


def test_morris_recovers_linear_effects_and_the_noise_floor() -> None:
    sweep = _sweep(0.0, 1.0)
    design = sensitivity_design(sweep, "morris", 40)
    result = run_sweep(sweep, design, MemorySink(), execution=CHUNKS_OF_64, simulate=simulate_linear)
    indices = analyze(result, "morris", schemes=("manufacturing_plus",), outputs=("awarded",))
    table = indices.table.set_index("parameter").loc[["x1", "x2", "x3"]]
    floor = indices.noise["manufacturing_plus"]["awarded"]["mu_star_noise"]
    # own noise 0.5 / sqrt(16) per point; an elementary effect differences two points over a step of 2/3
    assert floor == pytest.approx(2 * 0.125 / (2 / 3 * math.sqrt(math.pi)), rel=0.1)
    # the elementary effect of x_i over its whole range is its coefficient (3, 1, 0), plus noise
    error = np.abs(table["mu_star"].to_numpy() - [3.0, 1.0, 0.0])
    assert (error <= 2 * table["mu_star_conf"].to_numpy() + floor).all(), table
    # x3 has no effect: its mu* is the noise floor, which the manifest reports beside it
    assert 0.6 * floor < table.loc["x3", "mu_star"] < 1.4 * floor
    assert table.loc["x1", "mu_star"] - table.loc["x1", "mu_star_conf"] > table.loc["x2", "mu_star"]
    assert table[["S1", "ST"]].isna().all().all()


SCENARIO = """
replications = 3
[sensitivity]
schemes = ["manufacturing_plus"]
morris_trajectories = 12
sobol_samples = 8
resamples = 200
[[parameters]]
path = "segments.manufacturing_sme.propensity"
low = 0.04
high = 0.25
[[parameters]]
path = "schemes.it_accelerator.max_grant_hkd"
low = 500_000
high = 1_500_000
"""


@pytest.mark.parametrize("method", ["morris", "sobol"])
def test_scenario_parameter_without_effect_gets_exactly_zero(cli, tmp_path: Path, method: str) -> None:
    """The I&T Accelerator's cap cannot change Manufacturing+ (other firms, other streams)."""
    path = write_sweep(tmp_path, SCENARIO, "levers")
    result = cli("sensitivity", path, "--method", method, "--workers", "1", "--engine", "des", "--out", "out")
    assert result.exit_code == 0, result.stdout + result.stderr
    indices = pd.read_csv(tmp_path / "out" / "indices.csv")
    columns = ["scheme", "output", "parameter", "method", "mu_star", "mu_star_conf", "sigma"]
    assert indices.columns.tolist() == [*columns, "S1", "S1_conf", "ST", "ST_conf", "noise_se"]
    assert set(indices["output"]) == {
        "exhausted_by_places",
        "exhausted_by_money",
        "unused_budget_share",
        "awarded",
        "completed",
        "cost_per_additional_hkd",
        "benefit_cost_ratio",
        "completed_follow_up",
        "cost_per_additional_hkd_follow_up",
        "benefit_cost_ratio_follow_up",
    }
    by = indices.set_index(["output", "parameter"])
    none = by.xs("schemes.it_accelerator.max_grant_hkd", level="parameter")
    lever = by.xs("segments.manufacturing_sme.propensity", level="parameter")
    # the money never runs out in this scenario: that share is 0 at every point, with no noise
    assert (indices.loc[indices["output"] != "exhausted_by_money", "noise_se"] > 0).all()
    if method == "morris":
        assert (none["mu_star"] == 0).all()
        assert (none["mu_star_conf"] == 0).all()
        floor = json.loads((tmp_path / "out" / "manifest.json").read_text())["noise"]
        floor = floor["manufacturing_plus"]["awarded"]["mu_star_noise"]
        assert lever.loc["awarded", "mu_star"] > lever.loc["awarded", "mu_star_conf"]
        assert lever.loc["awarded", "mu_star"] > 3 * floor
    else:  # Sobol' indices of an output that never varies (the money's share) are undefined
        defined = none.drop(index="exhausted_by_money")
        assert (defined["ST"] == 0).all()
        assert (defined["S1"] == 0).all()
        assert lever.loc["awarded", "ST"] > 0.5
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity"
    assert manifest["method"] == method
    assert manifest["points"] == (12 * 3 if method == "morris" else 8 * 4)
    assert manifest["noise"]["manufacturing_plus"]["awarded"]["noise_se"] > 0
    assert (tmp_path / "out" / "points.parquet").exists()


def test_sensitivity_of_the_shipped_global_design_loads() -> None:
    sweep = load_sweep(Path(__file__).resolve().parents[2] / "scenarios" / "sweeps" / "uncertain-ten.toml")
    assert len(sensitivity_design(sweep, "morris")) == 20 * 11
    assert len(sensitivity_design(sweep, "sobol")) == 128 * 12
