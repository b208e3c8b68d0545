"""Time ``calibrate``: baseline Manufacturing+ against the 12 monthly counts of the synthetic example.

The target (issue 14) is at most 2 minutes on a 2-core machine at the default
number of replications, all cores working, figures and folder included.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sim.experiments.calibrate import DEFAULT_REPLICATIONS, calibrate
from sim.experiments.executors import default_workers
from sim.experiments.pipeline import Execution
from sim.outputs.calibration import save_calibration
from sim.spec.loader import load_scenario
from sim.spec.observations import read_observed

__all__ = ["OBSERVED", "SCENARIO", "TARGET_S", "bench_calibrate"]

SCENARIO = Path("scenarios/baseline.toml")
OBSERVED = Path("scenarios/observed/manufacturing-plus-synthetic.csv")
#: Longest acceptable calibration at the default number of replications on 2 cores (seconds).
TARGET_S = 120.0


def bench_calibrate(replications: int = DEFAULT_REPLICATIONS, seed: int = 20251118) -> list[str]:
    """Calibrate baseline to the synthetic example and save the folder (in a temporary folder)."""
    loaded = load_scenario(SCENARIO)
    observed = read_observed(OBSERVED, loaded.scenario)
    began = time.perf_counter()
    result = calibrate(loaded.scenario, observed, replications, seed, "batch", Execution())
    simulated = time.perf_counter() - began
    with tempfile.TemporaryDirectory(prefix="schemesim-bench-") as folder:
        save_calibration(loaded, observed, result, Path(folder) / "calibration")
    total = time.perf_counter() - began
    return [
        f"calibrate {loaded.name} to {OBSERVED.name} ({len(observed)} observations), "
        f"{replications:,} replications, {result.workers} of {default_workers()} cores",
        f"  simulate and weight {simulated:8.1f} s; with figures and folder {total:8.1f} s "
        f"(target <= {TARGET_S:.0f} s on 2 cores); effective sample size {result.ess:,.0f}",
    ]
