"""``schemesim calibrate``: the result folder and its files, the printed posterior, the ESS
warning, and a bad observed-data file refused with exit code 2 and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.calibrate import uncertain_paths
from sim.spec.loader import load_scenario
from tests.conftest import DATA, SCENARIOS

SMALL = DATA / "small.toml"
SYNTHETIC = SCENARIOS / "observed" / "manufacturing-plus-synthetic.csv"
HEAD = "scheme,date,quantity,value,bound,tolerance\n"
# loose figures the one-tenth scenario reaches in most replications: a posterior with a large ESS
LOOSE = (
    HEAD
    + "manufacturing_plus,2026-03-31,applications_received,10,approx,0.5\n"
    + "manufacturing_plus,2026-09-30,applications_received,3,at_least,\n"
)


def test_calibrate_writes_its_folder(cli, tmp_path: Path) -> None:
    observed = tmp_path / "loose.csv"
    observed.write_text(LOOSE)
    out = tmp_path / "cal"
    result = cli("calibrate", SMALL, observed, "-n", "400", "--seed", "4", "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "effective sample size" in result.stdout
    assert "Posterior of the uncertain parameters" in result.stdout
    names = {p.name for p in out.iterdir()}
    expected = {"posterior.parquet", "weights.parquet", "calibration.csv", "manifest.json"}
    assert expected | {"prior_posterior.png", "posterior_predictive.png"} <= names
    assert "WARNING.txt" not in names
    paths = uncertain_paths(load_scenario(SMALL).scenario)
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == ["draw", "replication", *paths]
    assert len(posterior) == 400
    weights = pd.read_parquet(out / "weights.parquet")
    assert list(weights.columns) == ["replication", "log_likelihood", "weight"]
    assert abs(weights["weight"].sum() - 1) < 1e-12
    summary = pd.read_csv(out / "calibration.csv")
    assert list(summary["parameter"]) == paths
    assert {"prior_p05", "posterior_p95", "ess", "replications"} <= set(summary.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "calibrate"
    assert manifest["replications"] == 400
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert manifest["ess"] > 100
    assert manifest["observation_model"]["dispersion"] == 100.0
    assert [row["bound"] for row in manifest["observed"]] == ["approx", "at_least"]
    for command, words in (("plot", "holds its figures already"), ("brief", "its figures are in it")):
        refused = cli(command, out)
        assert refused.exit_code == 2, refused.stdout + refused.stderr
        assert words in refused.stderr
    assert {p.name for p in out.iterdir()} == names


def test_a_small_ess_is_flagged(cli, tmp_path: Path) -> None:
    """Baseline figures against the one-tenth scenario: hardly any replication comes close."""
    out = tmp_path / "cal"
    result = cli("calibrate", SMALL, SYNTHETIC, "-n", "300", "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "warning:" in result.stderr
    assert "run more (-n" in result.stderr
    assert "below 100" in (out / "WARNING.txt").read_text()
    assert json.loads((out / "manifest.json").read_text())["warnings"]


def test_same_seed_same_files_with_1_and_2_workers(cli, tmp_path: Path) -> None:
    observed = tmp_path / "loose.csv"
    observed.write_text(LOOSE)
    for workers in ("1", "2"):
        out = tmp_path / workers
        result = cli("calibrate", SMALL, observed, "-n", "300", "--workers", workers, "--out", out)
        assert result.exit_code == 0, result.stderr
    for name in ("posterior.parquet", "weights.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "1" / name), pd.read_parquet(tmp_path / "2" / name)
        )
    assert (tmp_path / "1" / "calibration.csv").read_text() == (
        tmp_path / "2" / "calibration.csv"
    ).read_text()


def test_a_bad_observed_file_exits_2_and_writes_nothing(cli, tmp_path: Path) -> None:
    observed = tmp_path / "bad.csv"
    observed.write_text(HEAD + "manufacturing_plus,2026-03-31,awards,10,exact,\n")
    result = cli("calibrate", SMALL, observed, "-n", "50", "--out", tmp_path / "cal")
    assert result.exit_code == 2
    assert str(observed) in result.stderr
    assert "row 2, quantity" in result.stderr
    assert "did you mean 'awarded'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "cal").exists()
    assert not Path("results").exists()


def test_a_poisson_observation_model_is_recorded_and_weights_differently(cli, tmp_path: Path) -> None:
    observed = tmp_path / "loose.csv"
    observed.write_text(LOOSE)
    for name, k in (("nb", "100"), ("poisson", "inf")):
        args = ("-n", "200", "--workers", "1", "--dispersion", k, "--out", tmp_path / name)
        result = cli("calibrate", SMALL, observed, *args)
        assert result.exit_code == 0, result.stderr
    manifest = json.loads((tmp_path / "poisson" / "manifest.json").read_text())
    assert manifest["observation_model"]["dispersion"] == "inf"
    nb, poisson = (pd.read_parquet(tmp_path / n / "weights.parquet") for n in ("nb", "poisson"))
    assert (nb["replication"] == poisson["replication"]).all()
    assert not np.allclose(nb["log_likelihood"], poisson["log_likelihood"])
