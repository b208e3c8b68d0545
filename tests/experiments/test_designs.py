"""Sweep files and designs: shipped sweeps load, designs are seeded, bad files say what is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.experiments.designs import load_sweep, make_design, point_source
from sim.spec.loader import ScenarioError, scenario_from_dict
from tests.experiments.conftest import SCENARIOS, write_sweep

SHIPPED = sorted((SCENARIOS / "sweeps").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_sweeps_load_and_every_point_is_a_valid_scenario(path: Path) -> None:
    sweep = load_sweep(path)
    design = make_design(sweep)
    assert len(design) == (sweep.points or len(design))
    for row in design.values[sweep.paths].to_numpy()[:: max(1, len(design) // 25)]:
        source = point_source(sweep.base.source, dict(zip(sweep.paths, row, strict=True)))
        scenario_from_dict(source, path)


def test_cap_places_grid_is_400_points_at_a_fixed_budget() -> None:
    sweep = load_sweep(SCENARIOS / "sweeps" / "cap-places.toml")
    design = make_design(sweep)
    assert len(design) == 400
    caps = design.values["schemes.manufacturing_plus.max_grant_hkd"]
    places = design.values["schemes.manufacturing_plus.places"]
    assert sorted(set(caps)) == [100_000 + 25_000 * i for i in range(20)]
    assert sorted(set(places)) == [100 + 50 * i for i in range(20)]
    assert "schemes.manufacturing_plus.budget_hkd" not in sweep.paths


def test_ten_most_uncertain_parameters() -> None:
    assert len(load_sweep(SCENARIOS / "sweeps" / "uncertain-ten.toml").parameters) == 10


def test_grid_order_and_exact_log_values(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        """
[[parameters]]
path = "schemes.manufacturing_plus.vetting.capacity"
values = [2, 4]
[[parameters]]
path = "schemes.manufacturing_plus.uptake.bass_p"
values = [0.0025, 0.005, 0.0075]
scale = "log"
""",
    )
    design = make_design(load_sweep(path))
    assert design.values["schemes.manufacturing_plus.vetting.capacity"].tolist() == [2, 2, 2, 4, 4, 4]
    assert design.values["schemes.manufacturing_plus.uptake.bass_p"].tolist() == [0.0025, 0.005, 0.0075] * 2
    np.testing.assert_allclose(design.x[:3, 1], np.log10([0.0025, 0.005, 0.0075]))


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_space_filling_designs_are_seeded_and_stratified(tmp_path: Path, design: str) -> None:
    body = f"""
design = "{design}"
points = 16
[[parameters]]
path = "segments.manufacturing_sme.propensity"
low = 0.04
high = 0.2
[[parameters]]
path = "schemes.manufacturing_plus.uptake.elasticity"
low = 0.5
high = 2.0
"""
    sweep = load_sweep(write_sweep(tmp_path, body))
    a, b = make_design(sweep), make_design(sweep)
    np.testing.assert_array_equal(a.x, b.x)
    other = make_design(load_sweep(write_sweep(tmp_path, "seed = 7\n" + body, "other")))
    assert not np.array_equal(a.x, other.x)
    unit = (a.x - [0.04, 0.5]) / [0.16, 1.5]
    # Latin hypercube and Sobol' (2^4 points) both put one point in each 1/16 of every axis
    for j in range(2):
        assert sorted(np.floor(unit[:, j] * 16).astype(int)) == list(range(16))


def test_morris_and_saltelli_sizes(tmp_path: Path) -> None:
    body = "\n".join(
        f'[[parameters]]\npath = "{p}"\nlow = {lo}\nhigh = {hi}'
        for p, lo, hi in [
            ("segments.manufacturing_sme.propensity", 0.04, 0.2),
            ("schemes.manufacturing_plus.uptake.elasticity", 0.5, 2.0),
            ("schemes.manufacturing_plus.vetting.capacity", 2, 10),
        ]
    )
    sweep = load_sweep(write_sweep(tmp_path, 'design = "morris"\npoints = 5\n' + body))
    assert len(make_design(sweep)) == 5 * 4
    saltelli = make_design(sweep, "saltelli", 8)
    assert len(saltelli) == 8 * 5
    capacity = saltelli.values["schemes.manufacturing_plus.vetting.capacity"]
    assert (capacity == np.rint(capacity)).all(), "whole-number fields get whole numbers"


BAD = {
    "unknown-key": ('design = "grid"\nreplicatons = 3\n', "replicatons", "did you mean 'replications'"),
    "unknown-path": (
        '[[parameters]]\npath = "schemes.manufacturing_plus.max_grant"\nvalues = [1]\n',
        "parameters[0].path",
        "did you mean 'max_grant_hkd'",
    ),
    "not-a-number": (
        '[[parameters]]\npath = "schemes.manufacturing_plus.segments"\nvalues = [1]\n',
        "parameters[0].path",
        "not a number",
    ),
    "out-of-range": (
        '[[parameters]]\npath = "schemes.manufacturing_plus.vetting.withdraw_probability"\nvalues = [0.1, 1.5]\n',
        "withdraw_probability",
        "between 0 and 1",
    ),
    "grid-needs-levels": (
        '[[parameters]]\npath = "schemes.manufacturing_plus.places"\nlow = 10\nhigh = 50\n',
        "parameters[0].levels",
        "levels",
    ),
    "sobol-power-of-two": (
        'design = "sobol"\npoints = 100\n[[parameters]]\npath = "schemes.manufacturing_plus.places"\n'
        "low = 10\nhigh = 50\n",
        "points",
        "power of two",
    ),
    "bad-design": ('design = "random"\n', "design", "grid, lhs, sobol, morris"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_sweep_files_name_the_field_and_what_is_allowed(tmp_path: Path, case: str) -> None:
    body, field, allowed = BAD[case]
    path = write_sweep(tmp_path, body)
    with pytest.raises(ScenarioError) as problem:
        make_design(load_sweep(path))
    message = str(problem.value)
    assert str(path) in message
    assert field in message
    assert allowed in message


def test_bad_sweep_on_the_command_line_exits_2_and_writes_nothing(cli, tmp_path: Path) -> None:
    path = write_sweep(tmp_path, BAD["out-of-range"][0])
    result = cli("sweep", path)
    assert result.exit_code == 2
    assert "between 0 and 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()


PLACES = 'path = "schemes.manufacturing_plus.places"'
TOO_BIG = {
    "levels-1e9": (
        f"[[parameters]]\n{PLACES}\nlow = 10\nhigh = 50\nlevels = 1_000_000_000\n",
        "levels",
        "10,000",
    ),
    "grid-of-1.7-million-points": (
        "".join(
            f'[[parameters]]\npath = "{p}"\nvalues = [{a}, {b}]\n'
            for p, a, b in [
                ("schemes.manufacturing_plus.places", 100, 200),
                ("schemes.manufacturing_plus.vetting.capacity", 2, 4),
                ("schemes.manufacturing_plus.max_grant_hkd", 100_000, 200_000),
            ]
        )
        + "".join(
            f'[[parameters]]\npath = "schemes.manufacturing_plus.{p}"\nlow = 0.1\nhigh = 0.9\nlevels = 60\n'
            for p in ("vetting.withdraw_probability", "tranches.upfront_share", "impact.no_gain_probability")
        ),
        "parameters",
        "at most 100,000 points",
    ),
    "lhs-2-to-the-40": (
        f'design = "lhs"\npoints = {2**40}\n[[parameters]]\n{PLACES}\nlow = 10\nhigh = 50\n',
        "points",
        "100,000",
    ),
    "values-20000": (
        f"[[parameters]]\n{PLACES}\nvalues = [{', '.join(['1'] * 20_000)}]\n",
        "values",
        "1 to 10,000",
    ),
    "replications-1e9": (
        f"replications = 1_000_000_000\n[[parameters]]\n{PLACES}\nvalues = [1]\n",
        "replications",
        "10,000,000",
    ),
}


@pytest.mark.parametrize("case", sorted(TOO_BIG))
def test_designs_over_the_documented_size_are_refused_before_any_point_is_made(
    tmp_path: Path, case: str
) -> None:
    body, field, limit = TOO_BIG[case]
    path = write_sweep(tmp_path, body)
    with pytest.raises(ScenarioError) as problem:
        make_design(load_sweep(path))
    message = str(problem.value)
    assert message.startswith(str(path)), message
    assert field in message, message
    assert limit in message, message


def test_a_design_asked_for_by_number_is_bounded_too(tmp_path: Path) -> None:
    body = "\n".join(
        f'[[parameters]]\npath = "{p}"\nlow = {lo}\nhigh = {hi}'
        for p, lo, hi in [
            ("segments.manufacturing_sme.propensity", 0.04, 0.2),
            ("schemes.manufacturing_plus.uptake.elasticity", 0.5, 2.0),
        ]
    )
    sweep = load_sweep(write_sweep(tmp_path, 'design = "morris"\npoints = 5\n' + body))
    assert len(make_design(sweep, "saltelli", 16_384)) == 65_536  # 16,384 x (2 + 2)
    with pytest.raises(ScenarioError, match="32,768 Saltelli samples x 4 makes 131,072 points"):
        make_design(sweep, "saltelli", 32_768)
    with pytest.raises(ScenarioError, match="at most 100,000 points"):
        make_design(sweep, "morris", 40_000)


def test_a_base_outside_the_sweeps_tree_is_refused_unless_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCHEMESIM_ALLOW_OUTSIDE", raising=False)
    body = f"[[parameters]]\n{PLACES}\nvalues = [10, 20]\n"
    path = tmp_path / "outside.toml"
    path.write_text(f'base = "/etc/hostname"\n{body}')
    with pytest.raises(ScenarioError, match="base: /etc/hostname lies outside the allowed folder tree"):
        load_sweep(path)
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "base.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    inner = tmp_path / "mine" / "sweeps"
    inner.mkdir()
    climbing = inner / "climb.toml"
    climbing.write_text(f'base = "../base.toml"\n{body}')
    assert len(make_design(load_sweep(climbing))) == 2  # ../ inside the project folder is fine
    climbing.write_text(f'base = "{"../" * 30}etc/hostname"\n{body}')
    with pytest.raises(ScenarioError, match="outside the allowed folder tree"):
        load_sweep(climbing)
    foreign = tmp_path.parent / f"{tmp_path.name}-foreign.toml"
    foreign.write_text((SCENARIOS / "baseline.toml").read_text())
    climbing.write_text(f'base = "{foreign}"\n{body}')
    with pytest.raises(ScenarioError, match="outside the allowed folder tree"):
        load_sweep(climbing)
    assert load_sweep(climbing, allow_outside=True).base.path == str(foreign)
    foreign.unlink()


def test_a_fifo_sweep_file_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_sweep(fifo)


@pytest.mark.parametrize(
    "args",
    [
        ("sensitivity", SCENARIOS / "sweeps" / "uncertain-ten.toml", "--samples", "50000"),
        ("sweep", SCENARIOS / "sweeps" / "uncertain-ten.toml", "--points", "1000000"),
    ],
    ids=["sensitivity-samples", "sweep-points"],
)
def test_an_oversized_design_on_the_command_line_exits_2_before_any_work(cli, tmp_path: Path, args) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "at most 100,000 points" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()
