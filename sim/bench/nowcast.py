"""Time ``nowcast``: baseline as at the synthetic example's last figure, with the top-up variant.

Issue 14 asks the nowcast of 10,000 conditioned replications to be shown in
seconds: the base and one variant on common random numbers, all cores working,
then the result folder with its figures and brief.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sim.bench.calibrate import OBSERVED, SCENARIO
from sim.experiments.executors import default_workers
from sim.experiments.nowcast import DEFAULT_REPLICATIONS, NowcastTask, as_at_of, nowcast
from sim.experiments.observed import ObservationModel
from sim.experiments.pipeline import Execution
from sim.outputs.nowcast_folder import save_nowcast
from sim.spec.loader import load_scenario
from sim.spec.observations import read_observed

__all__ = ["VARIANT", "bench_nowcast"]

VARIANT = Path("scenarios/top-up-month-12.toml")


def bench_nowcast(replications: int = DEFAULT_REPLICATIONS, seed: int = 20251118) -> list[str]:
    """Nowcast baseline (and the top-up variant) given the synthetic example; save the folder (temporary)."""
    base, variant = load_scenario(SCENARIO), load_scenario(VARIANT)
    observed = read_observed(OBSERVED, base.scenario)
    day = as_at_of(observed, base.scenario)
    task = NowcastTask(base.scenario, (variant.scenario,), observed, ObservationModel(), day)
    began = time.perf_counter()
    result = nowcast(task, (base.name, variant.name), replications, seed, "batch", Execution())
    simulated = time.perf_counter() - began
    with tempfile.TemporaryDirectory(prefix="schemesim-bench-") as folder:
        save_nowcast([base, variant], observed, result, Path(folder) / "nowcast")
    total = time.perf_counter() - began
    return [
        f"nowcast {base.name} as at {day} ({len(observed)} observations) with variant {variant.name}, "
        f"{replications:,} conditioned replications each, {result.workers} of {default_workers()} cores",
        f"  simulate and weight {simulated:8.1f} s; with figures, brief and folder {total:8.1f} s; "
        f"effective sample size {result.ess:,.0f}",
    ]
