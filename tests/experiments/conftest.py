"""Small sweeps on the one-tenth scenario (tests/data/small.toml) for the experiment tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA, SCENARIOS

SMALL = DATA / "small.toml"


def write_sweep(folder: Path, body: str, name: str = "tiny") -> Path:
    """A sweep file over the small scenario; ``body`` adds keys and [[parameters]]."""
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\nbase = "{SMALL}"\n{body}')
    return path


GRID = """
design = "grid"
replications = 4
[[parameters]]
path = "schemes.manufacturing_plus.max_grant_hkd"
values = [150_000, 250_000, 500_000]
[[parameters]]
path = "schemes.manufacturing_plus.vetting.capacity"
values = [2, 8]
"""


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    """A 3 x 2 grid over the small scenario, 4 replications per point."""
    return write_sweep(tmp_path, GRID, "grid")


__all__ = ["SMALL", "SCENARIOS", "write_sweep", "GRID"]
