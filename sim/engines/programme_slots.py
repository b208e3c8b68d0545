"""The cohorts of a chunk's operators in order of admission, compiled (R-PROGRAMME-COHORTS,
R-PROGRAMME-POOL).

:func:`sim.engines.programme.cohort_slots` orders every cohort of every operator by replication,
week, then operator. Operators come replication by replication, so this finds the same order one
replication at a time: its operators' cohorts listed operator by operator (k = 0, 1, ... while the
week is within the follow-up), then sorted by week with a stable sort (equal weeks keep operator
order, as the stable sort of the whole chunk does). The weeks are the same sums,
``opening + k * interval``, so the numbers are the same to the bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["ordered_slots"]


@njit(cache=True, nogil=True, error_model="numpy")
def ordered_slots(rep, opening, interval, end, most, op, k, when):  # pragma: no cover - compiled
    """Each replication's cohorts (operator ``op``, its ``k``-th cohort, admission week ``when``) in
    order of admission, into ``op``, ``k`` and ``when`` (room for ``len(rep) * most``); returns how many.

    ``rep`` (non-decreasing) and ``opening`` (NaN: never opens) are per operator; a cohort is
    admitted at ``opening + k * interval`` for k below ``most`` while that is at most ``end``.
    """
    order, spare = np.empty(len(op), dtype=np.int64), np.empty(len(op), dtype=np.int64)
    weeks = np.empty(len(op))
    n, a = 0, 0
    while a < len(rep):
        b = a
        while b < len(rep) and rep[b] == rep[a]:
            b += 1
        start = n
        for o in range(a, b):
            for j in range(most):
                week = opening[o] + float(j) * interval
                if week <= end:
                    op[n], k[n], when[n] = o, j, week
                    n += 1
        if n - start > 1:
            _sort_by_week(when, start, n, order, spare)
            for i in range(start, n):  # the entries kept in their old places, then put in order
                spare[i], weeks[i] = op[i], when[i]
            for i in range(start, n):
                op[i], when[i] = spare[order[i]], weeks[order[i]]
            for i in range(start, n):
                spare[i] = k[i]
            for i in range(start, n):
                k[i] = spare[order[i]]
        a = b
    return n


@njit(cache=True, nogil=True, error_model="numpy")
def _sort_by_week(when, start, stop, order, spare):  # pragma: no cover - compiled
    """The entries ``start`` to ``stop`` of ``when`` in a stable order of week, as their indices into
    ``order[start:stop]`` (a merge sort: equal weeks keep their order; ``spare`` is room for it)."""
    for i in range(start, stop):
        order[i] = i
    width = 1
    while width < stop - start:
        for lo in range(start, stop, 2 * width):
            mid, hi = min(lo + width, stop), min(lo + 2 * width, stop)
            i, j = lo, mid
            for o in range(lo, hi):
                if j < hi and (i >= mid or when[order[j]] < when[order[i]]):
                    spare[o] = order[j]
                    j += 1
                else:
                    spare[o] = order[i]
                    i += 1
        for o in range(start, stop):
            order[o] = spare[o]
        width *= 2
