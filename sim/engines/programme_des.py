"""Intermediary schemes' programmes as SimPy processes, one per funded operator (MODEL.md 6b).

The event-by-event statement of rules R-PROGRAMME-COHORTS, R-PROGRAMME-POOL and R-PROGRAMME-PAY,
beside the vectorised pass of :mod:`sim.engines.programme` that runs them for both engines. Given
the same operators, terms and seed the two give identical cohorts and payments (tested); they
share the draws (:func:`~sim.engines.programme.draw_sizes`, then
:func:`~sim.engines.programme.draw_outcomes` in order of admission), not the bookkeeping. Cohorts of
two operators admitted in the same week (probability zero when set-up times are continuous) are
admitted in event order here and in operator order there.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.engines.programme import Cohorts, Operators, ProgrammeTerms, draw_outcomes, draw_sizes

__all__ = ["simulate_programmes"]


class _Call:
    """One replication's programmes: the start-up pool left, the sizes drawn and the admissions made."""

    def __init__(self, pool: float, sizes: np.ndarray):
        self.pool = int(np.floor(pool))
        self.sizes = sizes
        self.log: list[tuple[float, int, int, int, int]] = []  # (week, operator, k, places, admitted)


def _operator(
    env: simpy.Environment, call: _Call, j: int, opening: float, terms: ProgrammeTerms
) -> Generator[simpy.Event, Any, None]:
    """An operator's base: opens at ``opening``, then admits a cohort every interval until the end."""
    yield env.timeout(opening - env.now)
    k = 0
    while env.now <= terms.end:
        places = int(call.sizes[j, k])
        admitted = min(places, call.pool)
        call.pool -= admitted
        call.log.append((env.now, j, k, places, admitted))
        k += 1
        if opening + k * terms.interval > terms.end:
            return
        yield env.timeout(opening + k * terms.interval - env.now)


def _replication(ops: Operators, terms: ProgrammeTerms, seed: int, rep: int, scheme: str, i: int) -> list:
    mine = np.flatnonzero(ops.rep == i)
    rng, sizes = draw_sizes(seed, rep, scheme, len(mine), terms, i)
    env = simpy.Environment()
    call = _Call(terms.pool[i], sizes)
    for j, op in enumerate(mine):
        if not np.isnan(ops.opening[op]) and ops.opening[op] <= terms.end:
            env.process(_operator(env, call, j, float(ops.opening[op]), terms))
    env.run()
    log = call.log
    admitted = np.array([row[4] for row in log], dtype=np.int64)
    outcomes = draw_outcomes(rng, admitted, terms, i)
    return [
        np.full(len(log), i),
        mine[np.array([row[1] for row in log], dtype=np.int64)],
        np.array([row[2] for row in log], dtype=np.int64),
        np.array([row[0] for row in log], dtype=float),
        np.array([row[3] for row in log], dtype=np.int64),
        admitted,
        *outcomes,
    ]


def simulate_programmes(
    ops: Operators, terms: ProgrammeTerms, seed: int, reps: np.ndarray, scheme: str
) -> Cohorts:
    """Every cohort of the operators' programmes, as :func:`~sim.engines.programme.run_programmes` does."""
    parts = [_replication(ops, terms, seed, int(rep), scheme, i) for i, rep in enumerate(reps)]
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return Cohorts(empty, empty, empty, np.empty(0), empty, empty, empty, empty, empty)
    return Cohorts(*(np.concatenate([p[c] for p in parts]) for c in range(9)))
