"""Compiled per-candidate arithmetic of the batch engine's candidate tables (:mod:`sim.engines.batch`).

Each loop makes, to the bit, the float64 numbers of the numpy expressions it
stands for (the rules of :mod:`sim.engines.rules` applied to arrays), in one
pass and without temporary arrays: it uses only ``+``, ``-``, ``*``, ``/``,
``min`` and ``max``, which round the same way compiled or vectorised. Powers,
exponentials and logarithms stay in numpy, whose vectorised versions may
round differently from the compiled ones (tests/unit/test_candidate_kernels.py
checks each loop against its numpy twin).

Candidates are flat, replication after replication: replication ``r`` of a
block has ``count[r]`` of them from ``first[r]`` on, and its per-replication
terms are column ``r`` of a table whose rows are named by :class:`OfferRow`.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba import njit

__all__ = [
    "OfferRow",
    "offers",
    "offers_at_unit_elasticity",
    "chances",
    "scale_by_band",
    "bands_of",
    "fitting",
    "kept_candidates",
    "keep_chosen",
]


class OfferRow(IntEnum):
    """Rows of a block's per-replication terms of a scheme's offer to one segment's candidates."""

    CAP = 0  # the largest grant, HK$
    RATIO = 1  # matching ratio (1 : 2 -> 2)
    REFERENCE = 2  # the subsidy rate at which the propensity is stated
    PROPENSITY = 3  # the segment's propensity to apply at the reference rate


@njit(cache=True, nogil=True, error_model="numpy")
def offers(cost, first, count, terms, grant, relative):  # pragma: no cover - compiled
    """Each candidate's grant and its subsidy rate relative to the reference rate, into ``grant`` and
    ``relative``.

    ``rules.grant(cost, cap, ratio)`` is ``min(cap, cost / (1 + ratio))``; ``rules.subsidy_rate`` is
    the grant over the cost (``1 / (1 + ratio)`` for a zero cost); ``relative`` is that rate over the
    reference rate: the base of ``rules.would_apply_probability``'s power.
    """
    for r in range(len(count)):
        cap, ratio = terms[OfferRow.CAP, r], terms[OfferRow.RATIO, r]
        reference = terms[OfferRow.REFERENCE, r]
        for j in range(first[r], first[r] + count[r]):
            c = cost[j]
            g = min(cap, c / (1.0 + ratio))
            grant[j] = g
            rate = g / c if c > 0 else 1.0 / (1.0 + ratio)
            relative[j] = rate / reference


@njit(cache=True, nogil=True, error_model="numpy")
def offers_at_unit_elasticity(cost, first, count, terms, grant, chance):  # pragma: no cover - compiled
    """:func:`offers` then :func:`chances` in one pass, for an elasticity of 1 (the relative rate is
    its own power): each candidate's grant and chance to apply, into ``grant`` and ``chance``."""
    for r in range(len(count)):
        at, stop = first[r], first[r] + count[r]
        _unit_offers(
            cost[at:stop],
            grant[at:stop],
            chance[at:stop],
            (terms[OfferRow.CAP, r], terms[OfferRow.RATIO, r]),
            (terms[OfferRow.REFERENCE, r], terms[OfferRow.PROPENSITY, r]),
        )


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _unit_offers(cost, grant, chance, offer, uptake):  # pragma: no cover - compiled
    """One replication's candidates of :func:`offers_at_unit_elasticity`: ``offer`` is (cap, ratio),
    ``uptake`` (reference rate, propensity). ``min`` and ``max`` are written out as the selects they
    are (``min(a, b)`` is ``b if b < a else a``), so the loop runs on vectors."""
    cap, ratio = offer
    reference, propensity = uptake
    for j in range(len(cost)):
        c = cost[j]
        share = c / (1.0 + ratio)
        g = share if share < cap else cap
        grant[j] = g
        rate = g / c if c > 0 else 1.0 / (1.0 + ratio)
        p = propensity * (rate / reference)
        p = 0.0 if 0.0 > p else p
        chance[j] = 1.0 if 1.0 < p else p


@njit(cache=True, nogil=True, error_model="numpy")
def chances(first, count, terms, powered):  # pragma: no cover - compiled
    """``powered`` (the relative rate raised to the elasticity) becomes the chance to apply, in place:
    ``min(max(propensity * powered, 0), 1)``, as ``rules.would_apply_probability``."""
    for r in range(len(count)):
        propensity = terms[OfferRow.PROPENSITY, r]
        for j in range(first[r], first[r] + count[r]):
            powered[j] = min(max(propensity * powered[j], 0.0), 1.0)


@njit(cache=True, nogil=True, error_model="numpy")
def scale_by_band(values, band, factors):  # pragma: no cover - compiled
    """``values *= factors[band]`` in place, without the gathered array."""
    for i in range(len(values)):
        values[i] *= factors[band[i]]


@njit(cache=True, nogil=True, error_model="numpy")
def bands_of(u, edges, band):  # pragma: no cover - compiled
    """Each candidate's size band from its uniform: how many of the bands' cumulative shares ``edges``
    (all but the last) it is at or above."""
    band[:] = 0
    for edge in edges:  # edge by edge, so the loop over candidates runs on vectors
        for i in range(len(u)):
            band[i] += u[i] >= edge


@njit(cache=True, nogil=True, error_model="numpy")
def fitting(cost, low, high, first, several):  # pragma: no cover - compiled
    """For each project, the first option whose cost bounds (``low[k]`` to ``high[k]``) its cost fits
    (-1 if none) into ``first``; the indices of the projects several options fit, in order, into
    ``several`` (room for every project), and how many there are (returned): what
    ``numpy.flatnonzero`` of the fits' count above 1 would give. Option by option, from the last
    (so the first fitting stays), each pass a select that runs on vectors."""
    n = len(cost)
    fits = np.zeros(n, dtype=np.int8)
    first[:] = -1
    for k in range(len(low) - 1, -1, -1):
        lo, hi = low[k], high[k]
        for i in range(n):
            c = cost[i]
            fit = (c >= lo) & (c <= hi)
            first[i] = k if fit else first[i]
            fits[i] += np.int8(fit)
    m = 0
    for i in range(n):
        if fits[i] > 1:
            several[m] = i
            m += 1
    return m


@njit(cache=True, nogil=True, error_model="numpy")
def kept_candidates(cost, low, high, first, count, kept, where):  # pragma: no cover - compiled
    """The indices of the candidates whose cost is within some bounds (``low[k]`` to ``high[k]``),
    in order, into ``where`` (room for every candidate), and how many of each replication's
    candidates that is, into ``kept``, in one pass; returns how many in all (``numpy.flatnonzero``
    of the fits and their counts per replication). Candidates follow one another (``first[r]``
    is replication ``r``'s first, from 0)."""
    n = 0
    for r in range(len(count)):
        start = n
        for j in range(first[r], first[r] + count[r]):
            if _within(cost[j], low, high):
                where[n] = j
                n += 1
        kept[r] = n - start
    return n


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _within(cost, low, high):  # pragma: no cover - compiled
    """Whether ``cost`` is within any of the bounds ``low[k]`` to ``high[k]``."""
    for k in range(len(low)):
        if cost >= low[k] and cost <= high[k]:
            return True
    return False


@njit(cache=True, nogil=True, error_model="numpy")
def keep_chosen(chance, chosen, index):  # pragma: no cover - compiled
    """``chance *= (chosen == index)`` in place, without the array of booleans: a candidate whose
    project goes to another scheme gets chance 0 (times its chance, as numpy multiplies)."""
    for i in range(len(chance)):
        chance[i] = chance[i] * (1.0 if chosen[i] == index else 0.0)
