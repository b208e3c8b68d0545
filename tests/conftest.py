"""Shared fixtures: paths, small scenarios, and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.spec.loader import LoadedScenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DATA = Path(__file__).resolve().parent / "data"


#: Marker of each test folder: ``make test-fast`` runs the unit, example, oracle, golden and
#: property tests (``-m fast``); ``make test`` runs every folder.
FOLDER_MARKERS = {
    "unit": "fast",
    "rules": "fast",
    "oracle": "fast",
    "golden": "fast",
    "property": "fast",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by its folder (see :data:`FOLDER_MARKERS`); ``slow`` tests are never fast."""
    tests = Path(__file__).resolve().parent
    for item in items:
        folder = Path(str(item.path)).resolve().relative_to(tests).parts[0]
        marker = FOLDER_MARKERS.get(folder)
        if marker and item.get_closest_marker("slow") is None:
            item.add_marker(getattr(pytest.mark, marker))


#: The folder of the shipped scenarios of past schemes, each beside its observed figures.
OBSERVED = SCENARIOS / "observed"


def shipped_scenarios() -> list[Path]:
    """Every scenario file shipped in scenarios/ and scenarios/observed/ (not sweeps)."""
    return sorted(SCENARIOS.glob("*.toml")) + sorted(OBSERVED.glob("*.toml"))


@pytest.fixture(scope="session")
def baseline() -> LoadedScenario:
    return load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def small() -> LoadedScenario:
    return load_scenario(DATA / "small.toml")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Invoke ``schemesim`` in-process from an empty working folder; returns the Click result."""
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=True)

    return invoke
