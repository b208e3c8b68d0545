"""Compiled passes over flat arrays laid out replication after replication (:mod:`sim.engines.batch`).

Replication ``r`` has ``count[r]`` entries, one after another; these loops write, in one pass and
without temporary arrays, what ``numpy.repeat`` and ``numpy.arange`` would put together: integers,
so the same numbers whichever way.
"""

from __future__ import annotations

from numba import njit

__all__ = ["rows_and_slots", "rows_of"]


@njit(cache=True, nogil=True, error_model="numpy")
def rows_and_slots(values, count, rep, slot):  # pragma: no cover - compiled
    """``rep = repeat(values, count)`` and ``slot`` each entry's place within its replication
    (0, 1, ... ``count[r] - 1``), into ``rep`` and ``slot`` (room for ``count.sum()``)."""
    j = 0
    for r in range(len(count)):
        v = values[r]
        for s in range(count[r]):
            rep[j] = v
            slot[j] = s
            j += 1


@njit(cache=True, nogil=True, error_model="numpy")
def rows_of(count, rep):  # pragma: no cover - compiled
    """``rep = repeat(arange(len(count)), count)``, into ``rep`` (room for ``count.sum()``)."""
    j = 0
    for r in range(len(count)):
        for _ in range(count[r]):
            rep[j] = r
            j += 1
