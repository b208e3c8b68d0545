"""Golden digests: a change not meant to move results leaves these bit-identical.

Each digest is a SHA-256 over the contents of ``replications.parquet`` and
``timeseries.parquet`` of one run (column names, dtypes and the raw bytes of
every value, in file order), not over the files' bytes, so a new pyarrow that
writes different metadata does not move it while any changed number does.

A deliberate change of numbers is its own commit that says why and updates
:data:`GOLDEN` (``python -m tests.golden.test_golden`` prints the new digests).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.runner import run_scenario
from sim.outputs.report import save_run
from sim.spec.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SEED = 20251118
#: (scenario file, engine, replications)
CASES = {
    "small-batch": ("tests/data/small.toml", "batch", 64),
    "small-des": ("tests/data/small.toml", "des", 16),
    "baseline-batch": ("scenarios/baseline.toml", "batch", 64),
    "baseline-des": ("scenarios/baseline.toml", "des", 8),
}
GOLDEN: dict[str, str] = {
    "baseline-batch": "de50ed780d69c2eeb1ce57a925c7c6439951e4a7491d70b8165e15bf6083d503",
    "baseline-des": "816b7b9898ca70764f2fac6d1c7237fd5ced18b5c4582b8c285778b84c949362",
    "small-batch": "c735022d46eecc8e103d084477e5555ecf95cec1b53721bea485219e489e8a17",
    "small-des": "3432a61cb14bf8e25efa0627f31d9125e7319a2dc31d3c73b1e372a9aa00adbb",
}


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's column names, dtypes and values (categoricals as their labels)."""
    h = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(str)
        h.update(f"{name}:{column.dtype}\n".encode())
        values = column.to_numpy()
        if values.dtype == object:
            h.update("\x1f".join(map(str, values)).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def run_digest(case: str, out: Path) -> str:
    """Run one case, write its folder, and digest its two tables."""
    path, engine, replications = CASES[case]
    loaded = load_scenario(ROOT / path)
    result = run_scenario(loaded, replications, SEED, engine=engine, workers=1)
    folder = save_run(result, out / case, figures=False)
    h = hashlib.sha256()
    for table in ("replications.parquet", "timeseries.parquet"):
        h.update(frame_digest(pd.read_parquet(folder / table)).encode())
    return h.hexdigest()


@pytest.mark.parametrize("case", sorted(CASES))
def test_results_are_bit_identical_to_the_golden_digest(case: str, tmp_path: Path) -> None:
    assert run_digest(case, tmp_path) == GOLDEN[case]


if __name__ == "__main__":  # pragma: no cover - prints the digests to paste into GOLDEN
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(CASES):
            print(f'    "{name}": "{run_digest(name, Path(tmp))}",', file=sys.stdout)
