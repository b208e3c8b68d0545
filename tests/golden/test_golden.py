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
    "baseline-batch": "ee7062ebf1dd2bb9715cc17ac2c455f8a04ddecfdd82dc7321fb3e1c3522a71e",
    "baseline-des": "788cdff94238c95adc516de4e4b622a49e8d3c408aacfc4767bbccb4d031c605",
    "small-batch": "6db38f2f777a4a60cdf200b3a93e4c5fe098050b0c8611f578a66a5ba7e651bf",
    "small-des": "fba4383aeb9d9fdc35409caa4c5b6440de92d4ae48696b10080bdf65372a1cd9",
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
