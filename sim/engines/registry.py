"""The engines by name, and the one default engine of the library, the CLI and the notebooks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.engines.contract import Engine, UnsupportedScenario
from sim.engines.records import SchemeRecords
from sim.spec.scenario import Scenario
from sim.spec.suggest import did_you_mean

__all__ = [
    "DEFAULT_ENGINE",
    "UnknownEngine",
    "engine_names",
    "get_engine",
    "register_engine",
    "require_supported",
    "simulate_records",
]

#: The engine every entry point uses unless told otherwise.
DEFAULT_ENGINE = "batch"

_ENGINES: dict[str, Engine] = {}


class UnknownEngine(ValueError):
    """An engine name that is not registered (the message lists the allowed names)."""


def _builtin() -> dict[str, Engine]:
    if not _ENGINES:
        from sim.engines.batch import BatchEngine
        from sim.engines.des import DesEngine

        for engine in (BatchEngine(), DesEngine()):
            _ENGINES.setdefault(engine.name, engine)
    return _ENGINES


def register_engine(engine: Engine) -> None:
    """Make ``engine`` available under ``engine.name``."""
    _builtin()[engine.name] = engine


def engine_names() -> list[str]:
    return sorted(_builtin())


def get_engine(name: str | Engine | None = None) -> Engine:
    """The engine called ``name`` (the default engine for None); an :class:`Engine` is returned as is."""
    if name is None:
        name = DEFAULT_ENGINE
    if not isinstance(name, str):
        return name
    engines = _builtin()
    if name not in engines:
        hint = did_you_mean(name, engines)
        raise UnknownEngine(f"unknown engine '{name}'{hint}; allowed: {', '.join(sorted(engines))}")
    return engines[name]


def require_supported(engine: Engine, scenario: Scenario) -> None:
    """Raise :class:`UnsupportedScenario`, saying what and where, if ``engine`` cannot run ``scenario``."""
    problems = engine.unsupported(scenario)
    if problems:
        others = [n for n in engine_names() if n != engine.name]
        hint = f" (run it with --engine {others[0]})" if others else ""
        raise UnsupportedScenario(
            f"the {engine.name} engine does not implement: " + "; ".join(problems) + hint
        )


def simulate_records(
    scenario: Scenario, seed: int, reps: Sequence[int] | np.ndarray, engine: str | Engine | None = None
) -> dict[str, SchemeRecords]:
    """Records per scheme for replications ``reps``: the parameters drawn once, then the engine run."""
    from sim.engines.parameters import draw_parameters

    simulator = get_engine(engine)
    require_supported(simulator, scenario)
    reps = np.asarray(reps, dtype=np.int64)
    return simulator.simulate(scenario, seed, reps, draw_parameters(scenario, seed, reps))
