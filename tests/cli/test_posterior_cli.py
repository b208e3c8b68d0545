"""A calibrated scenario (``posterior = "FILE.parquet"``) through ``run``, ``compare``, ``sweep``
and ``brief``: the same numbers as the equivalent fixed scenario where the posterior is one row,
common random numbers across a comparison, and a bad posterior refused with exit code 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.outputs.brief import main_assumptions
from sim.outputs.folders import read_folder
from tests.conftest import DATA

SMALL = DATA / "small.toml"
PROPENSITY = "segments.manufacturing_sme.propensity"
APPROVAL = "schemes.manufacturing_plus.vetting.approval_probability"
ONE_ROW = pd.DataFrame({"draw": [0], "replication": [5], PROPENSITY: [0.07], APPROVAL: [0.8]})
FIXED = "[segments.manufacturing_sme]\npropensity = 0.07\n[schemes.manufacturing_plus.vetting]\napproval_probability = 0.8\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder holding a one-row posterior, the calibrated scenario and its fixed twin."""
    (tmp_path / "pyproject.toml").write_text("")
    ONE_ROW.to_parquet(tmp_path / "posterior.parquet")
    (tmp_path / "calibrated.toml").write_text(f'extends = "{SMALL}"\nposterior = "posterior.parquet"\n')
    (tmp_path / "fixed.toml").write_text(f'extends = "{SMALL}"\n{FIXED}')
    return tmp_path


def _ok(result) -> None:
    assert result.exit_code == 0, result.stdout + result.stderr


def test_run_on_the_calibrated_world(cli, project: Path) -> None:
    for name in ("calibrated", "fixed"):
        _ok(cli("run", project / f"{name}.toml", "-n", "40", "--seed", "3", "--out", project / f"run-{name}"))
    a = pd.read_parquet(project / "run-calibrated" / "replications.parquet")
    b = pd.read_parquet(project / "run-fixed" / "replications.parquet")
    pd.testing.assert_frame_equal(a, b)
    folder = read_folder(project / "run-calibrated")
    assert folder.source["posterior"]["parameters"] == [PROPENSITY, APPROVAL]


def test_brief_names_the_posterior(cli, project: Path) -> None:
    _ok(cli("run", project / "calibrated.toml", "-n", "40", "--seed", "3", "--out", project / "run"))
    _ok(cli("brief", project / "run"))
    assert (project / "run" / "brief.pdf").stat().st_size > 0
    rows = {
        label: (value, source)
        for label, value, source in main_assumptions(read_folder(project / "run"), "manufacturing_plus")
    }
    assert rows["approval probability"] == ("posterior sample (1 draw)", "posterior.parquet")


def test_the_brief_says_at_the_top_that_the_scenario_is_calibrated(cli, project: Path) -> None:
    """The printed page says so above its headline (the posterior's rows may sit among the
    assumptions left out for room), and a scenario without a posterior says nothing of it."""
    from matplotlib.text import Text

    from sim.outputs.brief import brief_figure

    for name in ("calibrated", "fixed"):
        _ok(cli("run", project / f"{name}.toml", "-n", "20", "--seed", "3", "--out", project / name))
    line = "Calibrated: posterior sample of 1 draw from posterior.parquet covering 2 parameters."
    for name, calibrated in (("calibrated", True), ("fixed", False)):
        texts = [t for t in brief_figure(read_folder(project / name)).findobj(Text) if t.get_text().strip()]
        heights = {t.get_text(): t.get_position()[1] for t in texts}
        assert (line in heights) is calibrated
        assert not any(t.startswith("Calibrated") for t in heights if t != line)
        if calibrated:
            assert (
                heights[line]
                > heights["The headline"]
                > heights[next(t for t in heights if "Main assump" in t)]
            )


def test_compare_shares_posterior_rows(cli, project: Path) -> None:
    """A and B differ only in the admin cost: under common random numbers their applications agree
    run by run, which needs both to take the same posterior row in each replication."""
    sample = pd.DataFrame({PROPENSITY: np.linspace(0.02, 0.2, 9), APPROVAL: np.linspace(0.6, 0.95, 9)})
    sample.to_parquet(project / "posterior.parquet")
    (project / "costly.toml").write_text(
        'extends = "calibrated.toml"\n[schemes.manufacturing_plus]\nadmin_cost_per_application_hkd = 20_000\n'
    )
    out = project / "cmp"
    _ok(
        cli(
            "compare",
            project / "calibrated.toml",
            project / "costly.toml",
            "-n",
            "60",
            "--seed",
            "2",
            "--out",
            out,
        )
    )
    tables = sorted(out.glob("*replications*.parquet"))
    assert len(tables) == 2, [p.name for p in out.iterdir()]
    a, b = (pd.read_parquet(p) for p in tables)
    a, b = (t[t["scheme"] == "manufacturing_plus"].reset_index(drop=True) for t in (a, b))
    assert np.array_equal(a["applications"], b["applications"])
    assert a["applications"].std() > 0  # the rows differ from run to run
    assert not np.array_equal(a["public_cost_hkd"], b["public_cost_hkd"])


def test_sweep_on_the_calibrated_world(cli, project: Path) -> None:
    body = 'design = "grid"\nreplications = 6\n[[parameters]]\npath = "schemes.manufacturing_plus.places"\nvalues = [10, 40]\n'
    for name in ("calibrated", "fixed"):
        (project / f"sweep-{name}.toml").write_text(f'name = "s-{name}"\nbase = "{name}.toml"\n{body}')
        _ok(
            cli(
                "sweep",
                project / f"sweep-{name}.toml",
                "--seed",
                "4",
                "--workers",
                "1",
                "--out",
                project / f"out-{name}",
            )
        )
    points = sorted((project / "out-fixed" / "points").glob("*.parquet"))
    assert len(points) == 2
    for point in points:
        fixed = pd.read_parquet(point)
        calibrated = pd.read_parquet(project / "out-calibrated" / "points" / point.name)
        pd.testing.assert_frame_equal(
            calibrated.drop(columns="scenario_hash", errors="ignore"),
            fixed.drop(columns="scenario_hash", errors="ignore"),
        )


def test_bad_posterior_exits_2(cli, project: Path) -> None:
    bad = project / "bad.toml"
    bad.write_text(f'extends = "{SMALL}"\nposterior = "missing.parquet"\n')
    for command in (
        ("run", bad, "-n", "4"),
        ("validate", bad),
        ("compare", bad, project / "fixed.toml", "-n", "4"),
    ):
        result = cli(*command)
        assert result.exit_code == 2, result.stdout + result.stderr
        assert f"{bad}: posterior: file not found" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (project / "results").exists()
