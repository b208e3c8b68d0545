"""When would-be applicants apply: the uptake timing mixture of MODEL.md 3c, its CDF and its inverse.

Measured from the opening of a scheme's application window (``length`` weeks
long, to its close or, for a rolling scheme, to the horizon), a would-be
applicant applies with probability ``launch_share`` uniformly in the first
``launch_weeks``, with probability ``rush_share`` uniformly in the last
``rush_weeks`` before the close, and otherwise at a Bass time (p, q). Its CDF
on ``[0, length]`` is::

    F(t) = L min(t / w_L, 1) + R clip((t - (W - w_R)) / w_R, 0, 1) + (1 - L - R) F_Bass(t)

and beyond the close (where only the Bass part still rises, since validation
keeps both bursts inside the window) ``F(t) = L + R + (1 - L - R) F_Bass(t)``:
a time past the close means the firm never applies.

Both engines turn one uniform ``u`` per would-be applicant into its time with
:func:`application_time`, the inverse of ``F``: the same function on the same
numbers, so the timing rule is one definition. Being monotone in ``u``, it
keeps the batch engine's sorted uniforms (order statistics) in order of
arrival, and it couples scenarios that differ only in timing as closely as
possible under common random numbers. Drawing the component first and then a
position in it has the same distribution; the inverse is exact within the
launch and rush intervals only up to a root finder (Newton's method kept
inside a bracket, to about 1e-13 weeks), and in closed form elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from sim.engines import rules
from sim.engines.parameters import SchemeParameters

__all__ = ["Timing", "has_bursts", "timing_cdf", "application_time", "scheme_timing"]

#: Newton steps at most per firm (it converges in about three; the bracket guarantees progress).
_MAX_STEPS = 200
#: A time is found when a step moves it by at most this many weeks (relative to 1 + t).
_TOLERANCE = 1e-13


@dataclass(frozen=True)
class Timing:
    """One scheme's timing terms: numbers, or arrays with one value per firm (broadcast together).

    ``length`` is the window's length in weeks, from its opening to its close
    (rolling schemes: to the horizon). ``launch_weeks`` and ``rush_weeks`` are
    read only where their share is positive.
    """

    bass_p: Any
    bass_q: Any
    length: Any
    launch_share: Any = 0.0
    launch_weeks: Any = 1.0
    rush_share: Any = 0.0
    rush_weeks: Any = 1.0

    def take(self, where: np.ndarray) -> Timing:
        """The terms of the firms at indices ``where`` (numbers, the same for every firm, kept)."""
        return Timing(*(v[where] if np.ndim(v) else v for v in (getattr(self, n) for n in _NAMES)))


def scheme_timing(par: SchemeParameters, length: float, each: Callable[[np.ndarray], Any]) -> Timing:
    """A scheme's timing terms from its parameters; ``each`` picks the values wanted from each
    per-replication array (one replication's number, or one value per firm)."""

    def weeks(values: np.ndarray | None) -> Any:
        return 1.0 if values is None else each(values)

    return Timing(
        bass_p=each(par.bass_p),
        bass_q=each(par.bass_q),
        length=length,
        launch_share=each(par.launch_share),
        launch_weeks=weeks(par.launch_weeks),
        rush_share=each(par.rush_share),
        rush_weeks=weeks(par.rush_weeks),
    )


def has_bursts(timing: Timing) -> bool:
    """Whether any firm's timing has a launch burst or a deadline rush (else it is plain Bass)."""
    return bool(np.any(np.asarray(timing.launch_share) > 0) or np.any(np.asarray(timing.rush_share) > 0))


_NAMES = ("bass_p", "bass_q", "length", "launch_share", "launch_weeks", "rush_share", "rush_weeks")


def _broadcast(x: Any, timing: Timing) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``x`` and the timing terms as float arrays of one shape; unused burst lengths set to 1 (no 0/0)."""
    values = np.broadcast_arrays(
        np.asarray(x, dtype=float), *(np.asarray(getattr(timing, n), dtype=float) for n in _NAMES)
    )
    k = {n: np.array(v) for n, v in zip(_NAMES, values[1:], strict=True)}
    k["launch_weeks"] = np.where(k["launch_share"] > 0, k["launch_weeks"], 1.0)
    k["rush_weeks"] = np.where(k["rush_share"] > 0, k["rush_weeks"], 1.0)
    return np.array(values[0]), k


def _cdf(t: np.ndarray, k: dict[str, np.ndarray]) -> np.ndarray:
    """``F(t)`` of MODEL.md 3c for terms ``k`` (arrays of the shape of ``t``)."""
    launch = k["launch_share"] * np.minimum(t / k["launch_weeks"], 1.0)
    rush_from = k["length"] - k["rush_weeks"]
    rush = k["rush_share"] * np.clip((t - rush_from) / k["rush_weeks"], 0.0, 1.0)
    bass = 1.0 - k["launch_share"] - k["rush_share"]
    return launch + rush + bass * rules.bass_cdf(t, k["bass_p"], k["bass_q"])


def timing_cdf(t: Any, timing: Timing) -> np.ndarray:
    """The share of would-be applicants who apply within ``t`` weeks of the opening (MODEL.md 3c)."""
    x, k = _broadcast(t, timing)
    return _cdf(x, k)


def application_time(
    u: Any, timing: Timing, bursts: bool | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """Weeks from the opening at which a would-be applicant with uniform ``u`` applies: ``F^-1(u)``.

    Without a launch burst or a deadline rush this is exactly
    :func:`sim.engines.rules.bass_inverse`. A time past ``length`` means the
    firm would apply only after the close: it never applies. With bursts each
    firm's time is computed on its own (:func:`_inverse`, compiled), so it does
    not depend on the other firms computed with it. ``bursts`` (default
    :func:`has_bursts` of ``timing``) says which way to compute: given for some
    of the firms, the way of all of them, it gives their numbers to the bit. With ``out`` (an
    array of the times' shape), the times are written into it and it is returned.
    """
    if not (has_bursts(timing) if bursts is None else bursts):
        return _into(out, rules.bass_inverse(u, timing.bass_p, timing.bass_q))
    if all(np.ndim(getattr(timing, n)) == 0 for n in _NAMES):  # one set of terms for every firm
        x, k = np.asarray(u, dtype=float), _broadcast(0.0, timing)[1]
        terms = np.array([[float(k[n])] for n in _NAMES])
    else:
        x, k = _broadcast(u, timing)
        terms = np.ascontiguousarray(np.stack([k[n].ravel() for n in _NAMES]))
    if out is not None and out.shape == x.shape and out.flags.c_contiguous and out.dtype == float:
        _inverse(np.ascontiguousarray(x.ravel()), terms, out.reshape(-1))  # straight into ``out``
        return out
    times = np.empty(x.size)
    _inverse(np.ascontiguousarray(x.ravel()), terms, times)
    return _into(out, times.reshape(x.shape))


def _into(out: np.ndarray | None, times: np.ndarray) -> np.ndarray:
    """``times``, copied into ``out`` if given."""
    if out is None:
        return times
    out[...] = times
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _inverse(u, terms, out):  # pragma: no cover - compiled
    """``out[i] = F^-1(u[i])``, firm ``i``'s terms in column ``i`` of ``terms`` (rows as ``_NAMES``),
    or in its only column for every firm."""
    shared = terms.shape[1] == 1
    ends = _ends(_column(terms, 0))
    for i in range(len(u)):
        k = _column(terms, 0 if shared else i)
        if not shared:
            ends = _ends(k)
        lo, hi, f_lo, f_hi, slope, level = _piece(u[i], k, ends)
        if slope == 0.0:  # only the Bass part moves: closed form
            bass = 1.0 - k[3] - k[5]
            share = min(max((u[i] - level) / bass, 0.0), 1.0) if bass > 0 else 0.0
            t = math.log((1.0 + share * k[1] / k[0]) / (1.0 - share)) / (k[0] + k[1])
            out[i] = min(max(t, lo), hi)
        else:
            out[i] = _solve(u[i], (lo, hi, f_lo, f_hi), k)


@njit(cache=True, nogil=True, error_model="numpy")
def _column(terms, i):  # pragma: no cover - compiled
    """Column ``i`` of ``terms`` as a tuple in the order of ``_NAMES``."""
    return (terms[0, i], terms[1, i], terms[2, i], terms[3, i], terms[4, i], terms[5, i], terms[6, i])


@njit(cache=True, nogil=True, error_model="numpy")
def _scalar_cdf(t, k):  # pragma: no cover - compiled
    """``F(t)`` for one firm; ``k`` holds its terms in the order of ``_NAMES``."""
    p, q, length, launch, launch_weeks, rush, rush_weeks = k
    e = math.exp(-(p + q) * t)
    bass = (1.0 - e) / (1.0 + (q / p) * e)
    rushed = min(max((t - (length - rush_weeks)) / rush_weeks, 0.0), 1.0)
    return launch * min(t / launch_weeks, 1.0) + rush * rushed + (1.0 - launch - rush) * bass


@njit(cache=True, nogil=True, error_model="numpy")
def _ends(k):  # pragma: no cover - compiled
    """Where the smooth pieces of ``F`` meet, and ``F`` there.

    The pieces run between 0, the end of the launch burst, the start of the
    rush and the close (sorted; either burst may be absent), then past the
    close. Returns the end of the launch burst, the start of the rush, the
    inner ends sorted, and ``F`` at both and at the close.
    """
    length, launch, launch_weeks, rush, rush_weeks = k[2], k[3], k[4], k[5], k[6]
    launch_end = min(launch_weeks, length) if launch > 0 else 0.0
    rush_start = max(length - rush_weeks, 0.0) if rush > 0 else length
    first, second = min(launch_end, rush_start), max(launch_end, rush_start)
    cdf = (_scalar_cdf(first, k), _scalar_cdf(second, k), _scalar_cdf(length, k))
    return launch_end, rush_start, first, second, cdf


@njit(cache=True, nogil=True, error_model="numpy")
def _piece(u, k, ends):  # pragma: no cover - compiled
    """The smooth piece of ``F`` where ``u`` falls (``ends`` from :func:`_ends`): its ends, ``F`` at
    them, and the slope and level of its linear part, ``F(t) = level + slope t + (1 - L - R) F_Bass(t)``
    there."""
    length, launch, launch_weeks, rush, rush_weeks = k[2], k[3], k[4], k[5], k[6]
    launch_end, rush_start, first, second, cdf = ends
    if u > cdf[2]:
        lo, hi, f_lo, f_hi = length, math.inf, cdf[2], 1.0
    elif u > cdf[1]:
        lo, hi, f_lo, f_hi = second, length, cdf[1], cdf[2]
    elif u > cdf[0]:
        lo, hi, f_lo, f_hi = first, second, cdf[0], cdf[1]
    else:
        lo, hi, f_lo, f_hi = 0.0, first, 0.0, cdf[0]
    mid = 0.5 * (lo + hi) if hi < math.inf else lo + 1.0
    slope, level = 0.0, launch
    if mid < launch_end:
        slope, level = launch / launch_weeks, 0.0
    if rush > 0 and mid > rush_start:
        if mid <= length:
            slope, level = slope + rush / rush_weeks, level - rush * rush_start / rush_weeks
        else:
            level = level + rush
    return lo, hi, f_lo, f_hi, slope, level


@njit(cache=True, nogil=True, error_model="numpy")
def _solve(u, bracket, k):  # pragma: no cover - compiled
    """The time in ``[lo, hi]`` where ``F(t) = u`` (``F`` smooth and increasing there).

    ``bracket`` is ``(lo, hi, F(lo), F(hi))``. Newton's method from the
    straight line between the ends; a step that leaves the bracket (which
    shrinks with every step) is replaced by bisection.
    """
    p, q, length, launch, launch_weeks, rush, rush_weeks = k
    lo, hi, f_lo, f_hi = bracket
    t = lo + (u - f_lo) / (f_hi - f_lo) * (hi - lo) if f_hi > f_lo else lo
    bass, r = 1.0 - launch - rush, q / p
    for _ in range(_MAX_STEPS):
        e = math.exp(-(p + q) * t)
        rushed = min(max((t - (length - rush_weeks)) / rush_weeks, 0.0), 1.0)
        cdf = launch * min(t / launch_weeks, 1.0) + rush * rushed + bass * (1.0 - e) / (1.0 + r * e)
        gap = cdf - u
        if gap == 0.0:
            return t
        if gap < 0.0:
            lo = t
        else:
            hi = t
        slope = bass * (p + q) ** 2 / p * e / (1.0 + r * e) ** 2
        slope += launch / launch_weeks if t < launch_weeks else 0.0
        slope += rush / rush_weeks if t > length - rush_weeks else 0.0
        step = t - gap / slope
        if not lo < step < hi:
            step = 0.5 * (lo + hi)
        if abs(step - t) <= _TOLERANCE * (1.0 + abs(t)):
            return step
        t = step
    return t
