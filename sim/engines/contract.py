"""The engine contract: what every simulation engine offers its callers.

Callers (the run pipeline, sweeps, comparisons, tests) talk to an engine only
through :class:`Engine`; they never ask which engine it is. An engine

- simulates replications ``reps`` of a scenario, given the per-replication
  parameter draws the caller made once (:func:`sim.engines.parameters.draw_parameters`),
  and returns records per scheme (:class:`~sim.engines.records.SchemeRecords`);
- says what it cannot run (an empty list when it can run the scenario);
- hints how many replications one chunk of work should hold, and how much
  memory a chunk of a given size needs (checked before a run starts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from sim.engines.parameters import ParameterDraws
    from sim.engines.records import SchemeRecords
    from sim.spec.scenario import Scenario

__all__ = ["Engine", "UnsupportedScenario"]


class UnsupportedScenario(ValueError):
    """An engine was asked to run a scenario it does not implement (the message says what and where)."""


class Engine(Protocol):
    """A simulation engine (see the module docstring)."""

    #: Name used on the command line and in manifests.
    name: str
    #: Fewest chunks that make starting a worker process worth it for this engine.
    chunks_per_worker: int

    def simulate(
        self, scenario: Scenario, seed: int, reps: np.ndarray, draws: ParameterDraws
    ) -> dict[str, SchemeRecords]:
        """Records per scheme for replications ``reps`` (``draws`` are theirs, in the same order)."""
        ...

    def unsupported(self, scenario: Scenario) -> list[str]:
        """What of ``scenario`` this engine does not implement, each as a dotted path; empty if none."""
        ...

    def chunk_size(self, scenario: Scenario, seed: int, replications: int) -> int:
        """Replications per chunk of work for a run of ``replications``."""
        ...

    def working_memory(self, scenario: Scenario, seed: int, replications: int) -> int:
        """Bytes one chunk of ``replications`` replications needs while it is simulated."""
        ...
