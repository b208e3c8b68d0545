"""Memory a run needs, estimated before any work, and refused when the machine does not have it.

A run holds at once one chunk of replications per worker process that runs
(a single-process run: one chunk); what one chunk needs comes from the
engine (:meth:`~sim.engines.contract.Engine.working_memory`). A run that
would need more than the memory available now stops before it starts, with
the numbers, instead of being killed by the system halfway.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.engines.contract import Engine
from sim.spec.scenario import Scenario

__all__ = ["InsufficientMemory", "available_memory", "require_memory", "format_bytes"]


class InsufficientMemory(ValueError):
    """A run needs more memory than the machine has; ``str()`` is the message for the user."""


def available_memory() -> int:
    """Bytes the machine can give a run now: MemAvailable of /proc/meminfo, else its physical memory."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def format_bytes(n: float) -> str:
    """``n`` bytes in MiB below a GiB, else in GiB."""
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def require_memory(engine: Engine, scenario: Scenario, seed: int, chunk_size: int, workers: int) -> int:
    """Bytes ``workers`` chunks of ``chunk_size`` need; :class:`InsufficientMemory` if they do not fit."""
    per_chunk = engine.working_memory(scenario, seed, chunk_size)
    need = per_chunk * max(1, workers)
    have = available_memory()
    if need > have:
        raise InsufficientMemory(
            f"this run needs about {format_bytes(need)} of memory: {max(1, workers)} chunk(s) at once, "
            f"{format_bytes(per_chunk)} each ({chunk_size:,} replications a chunk on the {engine.name} "
            f"engine), but the machine has {format_bytes(have)} available; reduce the firm counts of the "
            "scenario, or the workers"
        )
    return need
