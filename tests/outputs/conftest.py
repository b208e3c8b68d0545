"""Result folders of every kind, built once per session from small real runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.outputs import builders


@pytest.fixture(scope="session")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("folders")
    return {
        "run": builders.build_run(tmp / "run"),
        "compare": builders.build_compare(tmp),
        "sweep-1": builders.build_sweep(tmp, [builders.CAPACITY]),
        "sweep-2": builders.build_sweep(tmp, [builders.CAPACITY, builders.GRANT]),
        "sweep-3": builders.build_sweep(tmp, builders.SENSITIVITY_PARAMETERS, "lhs", "points = 8\n"),
        "morris": builders.build_sensitivity(tmp, "morris", 4),
        "sobol": builders.build_sensitivity(tmp, "sobol", 8),
    }


@pytest.fixture(scope="session")
def other_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second run, of a variant, on the same seed as ``folders['run']``."""
    tmp = tmp_path_factory.mktemp("other")
    b = builders.variant(tmp, "cap-doubled", builders.CAP_DOUBLED)
    return builders.build_run(tmp / "cap-doubled", b)
