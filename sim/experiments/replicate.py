"""One replicate function that every executor calls: (scenario, seed, reps) -> tables.

Serial runs, worker processes and cluster workers all call
:func:`replicate` on a chunk of replication indices; since every random
number is keyed by the replication index, the split into chunks never changes
a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engines.contract import Engine
from sim.engines.funded import FundedTables, funded_tables
from sim.engines.metrics import METRICS, scheme_metrics
from sim.engines.parameters import draw_parameters
from sim.engines.programme_metrics import (
    INTERMEDIARY_METRICS,
    has_intermediary,
    intermediary_metrics,
    programme_terms,
)
from sim.engines.registry import engine_names, get_engine, register_engine, require_supported
from sim.engines.startup_impact import (
    STARTUP_BENEFIT,
    has_startup_impact,
    startup_impact,
    startup_impact_terms,
)
from sim.engines.timeline import top_up
from sim.spec.scenario import Scenario

__all__ = ["ChunkResult", "replicate", "engine_names", "register_engine"]


@dataclass
class ChunkResult:
    """Metrics of a chunk of replications.

    ``table`` has one row per (replication, scheme, segment) with every metric
    of :data:`METRICS`; segment is ``"all"`` for the scheme as a whole (rows per
    segment are added only when a scheme serves several). ``weekly[scheme]`` has
    shape (replications, series, weeks). ``funded`` holds who is funded, by
    size band and by grant (:mod:`sim.engines.funded`); None where not computed.
    """

    reps: np.ndarray
    table: pd.DataFrame
    weekly: dict[str, np.ndarray]
    funded: FundedTables | None = None


def table_metrics(scenario: Scenario) -> tuple[str, ...]:
    """The metric columns of a scenario's replication table: :data:`METRICS`, and the start-up
    outcomes when a scheme is an intermediary (MODEL.md 6b; empty on direct schemes' rows), with
    their undiscounted benefit when one values its start-ups (R-PROGRAMME-IMPACT)."""
    if has_intermediary(scenario):
        valued = STARTUP_BENEFIT if has_startup_impact(scenario) else ()
        return METRICS + INTERMEDIARY_METRICS + valued
    return METRICS


def replicate(
    scenario: Scenario,
    seed: int,
    reps: Sequence[int] | np.ndarray,
    engine: str | Engine | None = None,
    weekly: bool = True,
) -> ChunkResult:
    """Simulate replications ``reps`` with ``engine`` and compute every metric.

    ``engine`` is an engine's name, an :class:`Engine`, or None for the default engine.

    The weekly series (of each scheme as a whole) are computed only if
    ``weekly``; otherwise ``weekly`` of the result is empty.
    """
    simulator = get_engine(engine)
    require_supported(simulator, scenario)
    indices = np.asarray(reps, dtype=np.int64)
    draws = draw_parameters(scenario, seed, indices)
    records = simulator.simulate(scenario, seed, indices, draws)
    parts, series = [], {}
    for name, rec in records.items():
        segments = scenario.schemes[name].segments
        labels = [(None, "all")] + ([(k, s) for k, s in enumerate(segments)] if len(segments) > 1 else [])
        for k, label in labels:
            series_too = weekly and k is None
            m = scheme_metrics(
                rec,
                draws,
                name,
                scenario.horizon_weeks,
                segment=k,
                weekly=series_too,
                end=scenario.end_weeks,
                top_up=top_up(scenario.schemes[name]),
            )
            if scenario.schemes[name].kind == "intermediary":
                terms = programme_terms(scenario, draws, name)
                m = intermediary_metrics(m, rec, terms, (seed, indices, name), scenario.horizon_weeks)
                m = startup_impact(m, startup_impact_terms(scenario, draws, name))
            parts.append((name, label, m.values))
            if m.weekly is not None:
                series[name] = m.weekly
    # one table, built once: (scheme, segment) blocks of rows, each replication by replication
    n = len(indices)
    empty = np.full(n, np.nan)
    table = pd.DataFrame(
        {
            "replication": np.tile(indices, len(parts)),
            "scheme": np.repeat([name for name, _, _ in parts], n),
            "segment": np.repeat([label for _, label, _ in parts], n),
            **{
                key: np.concatenate([values.get(key, empty) for _, _, values in parts])
                for key in table_metrics(scenario)
            },
        }
    )
    funded = funded_tables(scenario, records, draws, indices)
    return ChunkResult(reps=indices, table=table, weekly=series, funded=funded)
