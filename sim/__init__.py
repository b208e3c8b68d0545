"""schemesim: simulate the impact of public support schemes on firms.

The public API, in the order of a study: load a scenario, run it, compare or
sweep it, then write tables, figures and a brief. Names are imported on first
use, so ``import sim`` (and the command line) stays quick.

>>> from sim import load_scenario, run_scenario, save_run
>>> result = run_scenario(load_scenario("scenarios/baseline.toml"), 1000, seed=1)
>>> folder = save_run(result)

Every entry point runs the default engine (``DEFAULT_ENGINE``, the batch
engine) unless told otherwise, as the command line does, so the same seed
gives the same numbers from a notebook and from ``schemesim run``. Where and
how chunks run (worker processes, a Dask scheduler, chunk size, progress) is
one :class:`Execution`, shared by runs, comparisons, adaptive runs and sweeps.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Public name -> the module that defines it.
_API: dict[str, str] = {
    "load_scenario": "sim.spec.loader",
    "ScenarioError": "sim.spec.loader",
    "LoadedScenario": "sim.spec.loader",
    "Scenario": "sim.spec.scenario",
    "read_observed": "sim.spec.observations",
    "ObservedDataError": "sim.spec.observations",
    "ObservationModel": "sim.experiments.observed",
    "simulated_at": "sim.experiments.observed",
    "replicate": "sim.experiments.replicate",
    "engine_names": "sim.experiments.replicate",
    "DEFAULT_ENGINE": "sim.engines.registry",
    "Execution": "sim.experiments.pipeline",
    "run_scenario": "sim.experiments.runner",
    "RunResult": "sim.experiments.runner",
    "run_compare": "sim.experiments.compare",
    "load_sweep": "sim.experiments.designs",
    "make_design": "sim.experiments.designs",
    "run_sweep": "sim.experiments.sweep",
    "SweepOptions": "sim.experiments.sweep",
    "run_to_precision": "sim.experiments.adaptive",
    "Precision": "sim.experiments.adaptive",
    "sensitivity_design": "sim.experiments.sensitivity",
    "analyze": "sim.experiments.sensitivity",
    "save_run": "sim.outputs.report",
    "save_compare": "sim.outputs.experiments",
    "save_sensitivity": "sim.outputs.experiments",
    "SweepStore": "sim.outputs.experiments",
    "finish_sweep": "sim.outputs.experiments",
    "read_folder": "sim.outputs.folders",
    "plot_folder": "sim.outputs.figures",
    "figures_for": "sim.outputs.figures",
    "write_brief": "sim.outputs.brief",
    "run_value_of_information": "sim.experiments.voi",
    "DecisionOptions": "sim.experiments.voi",
    "estimate_evppi": "sim.experiments.evppi",
    "save_value_of_information": "sim.outputs.voi_folder",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
