"""The cohorts of a chunk's operators in order of admission, compiled (R-PROGRAMME-COHORTS,
R-PROGRAMME-POOL).

:func:`sim.engines.programme.cohort_slots` orders every cohort of every operator by replication,
week, then operator. Operators come replication by replication, so this finds the same order one
replication at a time: its operators' cohorts listed operator by operator (k = 0, 1, ... while the
week is within the follow-up), then put in order of week as a stable sort would (equal weeks keep
operator order, as the stable sort of the whole chunk does): merged, each operator's list being in
order of week already, or, for a replication of many operators, sorted. The weeks are the same sums,
``opening + k * interval``, so the numbers are the same to the bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["ordered_slots"]


#: The most operators of one replication whose cohorts are merged by a scan of their next cohorts;
#: more are sorted (:func:`_sort_by_week`).
_MERGED = 16


@njit(cache=True, nogil=True, error_model="numpy")
def ordered_slots(rep, opening, interval, end, most, op, k, when):  # pragma: no cover - compiled
    """Each replication's cohorts (operator ``op``, its ``k``-th cohort, admission week ``when``) in
    order of admission, into ``op``, ``k`` and ``when`` (room for ``len(rep) * most``); returns how many.

    ``rep`` (non-decreasing) and ``opening`` (NaN: never opens) are per operator; a cohort is
    admitted at ``opening + k * interval`` for k below ``most`` while that is at most ``end``.
    """
    order, spare = np.empty(len(op), dtype=np.int64), np.empty(len(op), dtype=np.int64)
    weeks = np.empty(len(op))
    head, stop = np.empty(len(rep), dtype=np.int64), np.empty(len(rep), dtype=np.int64)
    n, a = 0, 0
    while a < len(rep):
        b = a
        while b < len(rep) and rep[b] == rep[a]:
            b += 1
        start = n
        rising = True  # each operator's weeks in order of k (so the lists can be merged)
        for o in range(a, b):
            head[o] = n
            for j in range(most):
                week = opening[o] + float(j) * interval
                if week <= end:
                    rising = rising and (n == head[o] or weeks[n - 1] <= week)
                    spare[n], weeks[n] = j, week
                    n += 1
            stop[o] = n
        if rising and b - a <= _MERGED:
            _merge(a, b, (head, stop), spare, weeks, (op, k, when), start, n)
        else:
            _sort_listed(a, b, (head, stop), (spare, weeks, order), (op, k, when), start, n)
        a = b
    return n


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _merge(a, b, lists, listed_k, listed_week, into, start, stop):  # pragma: no cover - compiled
    """Operators ``a`` to ``b``'s cohorts, listed operator by operator (``lists``: where each
    operator's start and stop in ``listed_k`` and ``listed_week``, each in order of week), merged
    into ``into`` (op, k, when) from ``start`` to ``stop``: the next is always the earliest next
    cohort, of the first operator on a tie, as a stable sort of the list by week orders them."""
    head, end = lists
    op, k, when = into
    for out in range(start, stop):
        best = -1
        for o in range(a, b):
            if head[o] < end[o] and (best < 0 or listed_week[head[o]] < listed_week[head[best]]):
                best = o
        at = head[best]
        op[out], k[out], when[out] = best, listed_k[at], listed_week[at]
        head[best] = at + 1


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _sort_listed(a, b, lists, room, into, start, stop):  # pragma: no cover - compiled
    """As :func:`_merge`, by a stable sort of the listed cohorts by week (``room``: the listed k and
    weeks, and room for the order)."""
    head, _ = lists
    listed_k, listed_week, order = room
    op, k, when = into
    for o in range(a, b):
        for i in range(head[o], lists[1][o]):
            op[i] = o
    for i in range(start, stop):
        k[i], when[i] = listed_k[i], listed_week[i]
    if stop - start > 1:
        _sort_by_week(when, start, stop, order, listed_k)  # listed_k copied: free as room
        for i in range(start, stop):
            listed_k[i], listed_week[i] = op[i], when[i]
        for i in range(start, stop):
            op[i], when[i] = listed_k[order[i]], listed_week[order[i]]
        for i in range(start, stop):
            listed_k[i] = k[i]
        for i in range(start, stop):
            k[i] = listed_k[order[i]]


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
