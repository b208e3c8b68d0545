"""A calibrated scenario (``posterior = "FILE.parquet"``): rows of the joint sample replace the
priors they cover, chosen by a stream of their own; every bad file is refused naming the scenario
file and the field; no posterior leaves the draws as they were."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engines.parameters import draw_parameters
from sim.engines.posterior import posterior_rows
from sim.experiments.replicate import replicate
from sim.spec.loader import ScenarioError, load_scenario
from sim.spec.posterior import PosteriorError, read_posterior
from tests.conftest import DATA

SMALL = DATA / "small.toml"
PROPENSITY = "segments.manufacturing_sme.propensity"
ELIGIBLE = "segments.manufacturing_sme.eligible_share"
APPROVAL = "schemes.manufacturing_plus.vetting.approval_probability"


def calibrated(folder: Path, sample: pd.DataFrame, name: str = "calibrated") -> Path:
    """A scenario extending the small one with ``sample`` as its posterior; returns its path."""
    sample.to_parquet(folder / f"{name}.parquet")
    path = folder / f"{name}.toml"
    path.write_text(f'extends = "{SMALL}"\nposterior = "{name}.parquet"\n')
    return path


def joint_sample(draws: int = 7) -> pd.DataFrame:
    """A sample whose two columns move together (row j: propensity 0.01 (j+1), eligible 0.1 (j+1))."""
    j = np.arange(draws)
    return pd.DataFrame(
        {"draw": j, "replication": j * 3, PROPENSITY: 0.01 * (j + 1), ELIGIBLE: 0.1 * (j + 1)}
    )


def test_rows_do_not_depend_on_chunks() -> None:
    reps = np.arange(3000)
    whole = posterior_rows(5, reps, 11)
    pieces = np.concatenate([posterior_rows(5, reps[a : a + 700], 11) for a in range(0, 3000, 700)])
    assert np.array_equal(whole, pieces)
    assert np.array_equal(posterior_rows(5, np.array([2047, 3]), 11), whole[[2047, 3]])
    assert set(whole) == set(range(11))  # every row is reachable
    assert not np.array_equal(whole, posterior_rows(6, reps, 11))  # a seed of its own


def test_rows_are_uniform() -> None:
    """Row counts over 20,480 replications against the uniform (chi-square, false-alarm rate 1e-3)."""
    from scipy.stats import chisquare

    counts = np.bincount(posterior_rows(1, np.arange(20 * 1024), 8), minlength=8)
    assert chisquare(counts).pvalue > 1e-3


def test_rows_replace_the_priors_they_cover(tmp_path: Path) -> None:
    sample = joint_sample()
    loaded = load_scenario(calibrated(tmp_path, sample))
    prior = load_scenario(SMALL).scenario
    reps = np.arange(2000)
    draws, before = draw_parameters(loaded.scenario, 3, reps), draw_parameters(prior, 3, reps)
    rows = posterior_rows(3, reps, len(sample))
    assert np.array_equal(draws[PROPENSITY], sample[PROPENSITY].to_numpy()[rows])
    assert np.array_equal(draws[ELIGIBLE], sample[ELIGIBLE].to_numpy()[rows])  # whole rows: joint
    for path in before.paths():
        if path not in (PROPENSITY, ELIGIBLE):  # the others keep their prior, draw for draw
            assert np.array_equal(draws[path], before[path]), path
    reference = loaded.source["posterior"]
    assert reference["draws"] == 7
    assert reference["parameters"] == [PROPENSITY, ELIGIBLE]
    assert len(reference["sha256"]) == 64


def test_no_posterior_changes_nothing(small) -> None:
    """A scenario without the field draws exactly as before (the golden digests pin the runs)."""
    assert small.scenario.posterior is None
    assert "posterior" not in small.source


@pytest.mark.parametrize("engine", ["batch", "des"])
def test_one_row_is_the_same_as_fixed_numbers(tmp_path: Path, engine: str) -> None:
    """A posterior of one row gives every replication that row: the run equals one with those numbers."""
    row = pd.DataFrame({PROPENSITY: [0.07], APPROVAL: [0.8]})
    loaded = load_scenario(calibrated(tmp_path, row))
    fixed = tmp_path / "fixed.toml"
    fixed.write_text(
        f'extends = "{SMALL}"\n[segments.manufacturing_sme]\npropensity = 0.07\n'
        "[schemes.manufacturing_plus.vetting]\napproval_probability = 0.8\n"
    )
    reps = np.arange(24)
    a = replicate(loaded.scenario, 2, reps, engine).table
    b = replicate(load_scenario(fixed).scenario, 2, reps, engine).table
    pd.testing.assert_frame_equal(a, b)


def _refusal(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: posterior"), message
    return message


def test_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(f'extends = "{SMALL}"\nposterior = "nowhere.parquet"\n')
    assert "file not found" in _refusal(path)


def test_column_that_is_not_uncertain_is_refused(tmp_path: Path) -> None:
    sample = pd.DataFrame({PROPENSITY: [0.1], "schemes.manufacturing_plus.places": [30.0]})
    message = _refusal(calibrated(tmp_path, sample))
    assert "'schemes.manufacturing_plus.places'" in message
    assert "not an uncertain parameter" in message
    assert PROPENSITY in message  # what is allowed


def test_unknown_column_and_range_are_refused(tmp_path: Path) -> None:
    assert "not an uncertain parameter" in _refusal(calibrated(tmp_path, pd.DataFrame({"propensity": [0.1]})))
    out_of_range = pd.DataFrame({PROPENSITY: [0.1, 1.5]})
    assert "allowed: 0 to 1" in _refusal(calibrated(tmp_path, out_of_range, "range"))


def test_empty_sample_is_refused(tmp_path: Path) -> None:
    empty = pd.DataFrame({PROPENSITY: np.array([], dtype=float)})
    assert "no draws" in _refusal(calibrated(tmp_path, empty))
    only_bookkeeping = pd.DataFrame({"draw": [0], "replication": [0]})
    assert "no parameter columns" in _refusal(calibrated(tmp_path, only_bookkeeping, "bare"))


def test_outside_the_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    inner = tmp_path / "project"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("")
    joint_sample().to_parquet(tmp_path / "elsewhere.parquet")
    path = inner / "s.toml"
    path.write_text(f'extends = "{SMALL}"\nposterior = "../elsewhere.parquet"\n')
    assert "outside the allowed folder tree" in _refusal(path)
    assert load_scenario(path, allow_outside=True).scenario.posterior is not None


def test_not_parquet_and_not_a_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "text.parquet").write_text("draw,x\n0,1\n")
    path = tmp_path / "s.toml"
    path.write_text(f'extends = "{SMALL}"\nposterior = "text.parquet"\n')
    assert "not a Parquet table" in _refusal(path)
    path.write_text(f'extends = "{SMALL}"\nposterior = 3\n')
    assert "must be the file name" in _refusal(path)
    path.write_text(f'extends = "{SMALL}"\nposterior = "{tmp_path}"\n')
    assert "not a regular file" in _refusal(path)
    missing_values = pd.DataFrame({PROPENSITY: [0.1, np.nan]})
    assert "not finite" in _refusal(calibrated(tmp_path, missing_values, "gap"))


def test_inherited_posterior_is_relative_to_its_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")  # one project folder: the child may extend its parent
    sub = tmp_path / "sub"
    sub.mkdir()
    calibrated(tmp_path, joint_sample())
    child = sub / "child.toml"
    child.write_text('extends = "../calibrated.toml"\n')
    assert load_scenario(child).scenario.posterior is not None
    child.write_text('extends = "../calibrated.toml"\n[segments.manufacturing_sme]\npropensity = 0.1\n')
    message = str(pytest.raises(ScenarioError, load_scenario, child).value)
    assert message.startswith(
        f"{child}: posterior (set in {tmp_path / 'calibrated.toml'}): column '{PROPENSITY}'"
    )


def test_a_new_posterior_is_a_new_scenario(tmp_path: Path) -> None:
    """The file's digest is in the scenario's hash; a file changed after it was read is refused."""
    path = calibrated(tmp_path, joint_sample())
    first = load_scenario(path)
    joint_sample(9).to_parquet(tmp_path / "calibrated.parquet")
    second = load_scenario(path)
    assert first.hash != second.hash
    assert second.source["posterior"]["draws"] == 9
    reference = first.scenario.posterior
    assert reference is not None
    read_posterior.cache_clear()  # as in a fresh worker process
    with pytest.raises(PosteriorError, match="changed after the scenario was read"):
        read_posterior(reference.file, reference.sha256)


def test_the_hash_does_not_depend_on_where_the_posterior_lies(tmp_path: Path) -> None:
    """Two checkouts of one calibrated scenario give one hash (so one result-folder name)."""
    here, there = tmp_path / "here", tmp_path / "there" / "deeper"
    hashes = []
    for folder in (here, there):
        folder.mkdir(parents=True)
        hashes.append(load_scenario(calibrated(folder, joint_sample())).hash)
    assert hashes[0] == hashes[1]
    assert load_scenario(calibrated(here, joint_sample(9), "other")).hash != hashes[0]
