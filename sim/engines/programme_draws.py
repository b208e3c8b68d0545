"""The programme streams' draws (:func:`sim.rng.programme_stream`), compiled: numpy's numbers, made
without a Python-level generator per replication.

An intermediary scheme's programme draws, per replication, a handful of Poisson cohort sizes and
binomial outcomes from its own stream, a PCG64 generator seeded by ``SeedSequence(seed,
spawn_key=(2**62 + 3, rep, tag(scheme)))``. Building that generator in Python costs more than
everything it draws, so this module runs numpy's algorithms in one compiled loop over the
replications: SeedSequence's hash of the seed and spawn key into PCG64's 128-bit state, the PCG64
(XSL-RR) generator and ``random()``, numpy's Poisson (multiplication below a mean of 10, PTRS from
10) and its binomial by inversion. They are numpy's own steps, one for one, in the same floating
point operations, so the numbers are numpy's to the bit (tests/unit/test_programme_draws.py draws
both ways over many seeds and parameters). What numpy computes from the parameters alone (a
Poisson mean's constants, a binomial's ``q^n`` and bound for each number of trials) is computed
once per replication by the same operations: the same numbers. A binomial numpy would draw by
BTPE (``n * min(p, 1 - p) > 30``) is not ported: such a replication is flagged and drawn by numpy
itself.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

__all__ = ["CohortPlan", "CohortDraws", "entropy_words", "draw_cohorts", "pcg64_words", "FAST_SPAWN"]

_U = np.uint64
_MASK32 = _U(0xFFFFFFFF)
_SHIFT16, _SHIFT32, _SHIFT63 = _U(16), _U(32), _U(63)
_SHIFT58, _SHIFT64_MASK, _ONE = _U(58), _U(63), _U(1)
# SeedSequence's hash constants (numpy/random/bit_generator.pyx)
_INIT_A, _MULT_A = _U(0x43B0D7E5), _U(0x931E8875)
_INIT_B, _MULT_B = _U(0x8B51F9DD), _U(0x58F38DED)
_MIX_MULT_L, _MIX_MULT_R = _U(0xCA01F9DD), _U(0x4973F715)
_POOL = 4
# PCG64's 128-bit multiplier, as high and low words
_MULT_HI, _MULT_LO = _U(2549297995355413924), _U(4865540595714422341)

#: Spawn keys the compiled seeding takes: each element below 2**32 is one word of entropy.
FAST_SPAWN = 2**32

#: Where each replication's cohorts are, flat: its operators ``first_op[i]`` on (``n_ops[i]``),
#: its cohorts ``first[i]`` on (``n[i]``), each cohort's operator (index into the operators) and k.
CohortPlan = namedtuple("CohortPlan", ["first_op", "n_ops", "first", "n", "op", "k"])

#: What is drawn per cohort (places, admitted, and outcomes: relocated, surviving, follow-on
#: rows) and, per replication, whether numpy must draw it instead (``numpy``).
CohortDraws = namedtuple("CohortDraws", ["places", "admitted", "outcomes", "numpy"])


def _words(n: int) -> list[int]:
    """A non-negative integer as SeedSequence reads it: 32-bit words, least significant first."""
    words = [n & 0xFFFFFFFF]
    while n > 0xFFFFFFFF:
        n >>= 32
        words.append(n & 0xFFFFFFFF)
    return words


def entropy_words(seed: int, key_before: tuple[int, ...], reps: np.ndarray, key_after: int) -> np.ndarray:
    """(R, words) the entropy SeedSequence(seed, spawn_key=(*key_before, rep, key_after)) mixes, per
    replication ``rep`` of ``reps``: the seed's words padded with zeros to the pool size, then the
    spawn key's. ``reps`` and ``key_after`` must be below :data:`FAST_SPAWN` (one word each)."""
    assert key_after < FAST_SPAWN
    assert len(reps) == 0 or int(np.max(reps)) < FAST_SPAWN
    run = _words(seed)
    run += [0] * max(0, _POOL - len(run))
    head = run + [w for part in key_before for w in _words(part)]
    out = np.empty((len(reps), len(head) + 2), dtype=np.uint64)
    out[:, : len(head)] = np.array(head, dtype=np.uint64)
    out[:, -2] = reps
    out[:, -1] = key_after
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _hashmix(value, const):  # pragma: no cover - compiled
    """SeedSequence's hashmix: the mixed value and the next hash constant (32-bit arithmetic)."""
    value = (value ^ const) & _MASK32
    const = (const * _MULT_A) & _MASK32
    value = (value * const) & _MASK32
    return value ^ (value >> _SHIFT16), const


@njit(cache=True, nogil=True, error_model="numpy")
def _mix(x, y):  # pragma: no cover - compiled
    """SeedSequence's mix of two 32-bit words."""
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK32
    return result ^ (result >> _SHIFT16)


@njit(cache=True, nogil=True, error_model="numpy")
def _pool(entropy):  # pragma: no cover - compiled
    """SeedSequence's entropy pool (4 words) from the assembled entropy words."""
    mixer = np.zeros(_POOL, dtype=np.uint64)
    const = _INIT_A
    for i in range(_POOL):
        mixer[i], const = _hashmix(entropy[i] if i < len(entropy) else _U(0), const)
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                hashed, const = _hashmix(mixer[src], const)
                mixer[dst] = _mix(mixer[dst], hashed)
    for src in range(_POOL, len(entropy)):
        for dst in range(_POOL):
            hashed, const = _hashmix(entropy[src], const)
            mixer[dst] = _mix(mixer[dst], hashed)
    return mixer


@njit(cache=True, nogil=True, error_model="numpy")
def pcg64_words(entropy):  # pragma: no cover - compiled
    """``SeedSequence.generate_state(4, np.uint64)`` of the assembled entropy words."""
    pool = _pool(entropy)
    out = np.zeros(4, dtype=np.uint64)
    const = _INIT_B
    for i in range(8):
        value = (pool[i % _POOL] ^ const) & _MASK32
        const = (const * _MULT_B) & _MASK32
        value = (value * const) & _MASK32
        value ^= value >> _SHIFT16
        out[i // 2] |= value << (_SHIFT32 * _U(i % 2))
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _mul_hi(a, b):  # pragma: no cover - compiled
    """The high 64 bits of the 128-bit product of two 64-bit words."""
    a_lo, a_hi, b_lo, b_hi = a & _MASK32, a >> _SHIFT32, b & _MASK32, b >> _SHIFT32
    lo_lo, hi_lo, lo_hi = a_lo * b_lo, a_hi * b_lo, a_lo * b_hi
    cross = (lo_lo >> _SHIFT32) + (hi_lo & _MASK32) + lo_hi
    return (hi_lo >> _SHIFT32) + (cross >> _SHIFT32) + a_hi * b_hi


@njit(cache=True, nogil=True, error_model="numpy")
def _step(state):  # pragma: no cover - compiled
    """One PCG64 step, in place: state = state * multiplier + increment (mod 2**128).

    ``state`` holds the state's high and low words, then the increment's."""
    hi, lo = state[0], state[1]
    new_hi = _mul_hi(lo, _MULT_LO) + hi * _MULT_LO + lo * _MULT_HI
    new_lo = lo * _MULT_LO
    low = new_lo + state[3]
    state[0] = new_hi + state[2] + (_ONE if low < new_lo else _U(0))
    state[1] = low


@njit(cache=True, nogil=True, error_model="numpy")
def _seeded(words, state):  # pragma: no cover - compiled
    """PCG64's state from SeedSequence's four words (numpy's ``pcg64_set_seed``), into ``state``."""
    state[2] = (words[2] << _ONE) | (words[3] >> _SHIFT63)
    state[3] = (words[3] << _ONE) | _ONE
    state[0], state[1] = _U(0), _U(0)
    _step(state)
    low = state[1] + words[1]
    state[0] = state[0] + words[0] + (_ONE if low < state[1] else _U(0))
    state[1] = low
    _step(state)


@njit(cache=True, nogil=True, error_model="numpy")
def _random(state):  # pragma: no cover - compiled
    """numpy's ``random()`` from PCG64: step, XSL-RR output, its top 53 bits scaled to [0, 1)."""
    _step(state)
    value = state[0] ^ state[1]
    rot = state[0] >> _SHIFT58
    out = (value >> rot) | (value << ((_U(64) - rot) & _SHIFT64_MASK))
    return float(out >> _U(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _loggam(x):  # pragma: no cover - compiled
    """numpy's ``random_loggam``: log Gamma(x) by Stirling's series (as PTRS uses it)."""
    a = (
        8.333333333333333e-02,
        -2.777777777777778e-03,
        7.936507936507937e-04,
        -5.952380952380952e-04,
        8.417508417508418e-04,
        -1.917526917526918e-03,
        6.410256410256410e-03,
        -2.955065359477124e-02,
        1.796443723688307e-01,
        -1.39243221690590e00,
    )
    if x == 1.0 or x == 2.0:
        return 0.0
    n = int(7 - x) if x < 7.0 else 0
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    gl0 = a[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += a[k]
    gl = gl0 / x0 + 0.5 * 1.8378770664093453e00 + (x0 - 0.5) * np.log(x0) - x0
    for _ in range(n):
        gl -= np.log(x0 - 1.0)
        x0 -= 1.0
    return gl


@njit(cache=True, nogil=True, error_model="numpy")
def _poisson(state, lam):  # pragma: no cover - compiled
    """numpy's ``random_poisson``: 0 at a mean of 0, multiplication below 10, PTRS from 10."""
    return _poisson_with(state, lam, _poisson_terms(lam), np.empty(0))


@njit(cache=True, nogil=True, error_model="numpy")
def _poisson_terms(lam):  # pragma: no cover - compiled
    """What numpy's Poisson computes from the mean alone, computed once for many draws of one mean:
    ``exp(-lam)`` below 10; from 10, PTRS's ``log(lam)``, ``b``, ``a``, ``1 / alpha``, ``v_r`` and
    ``log(1 / alpha)``, by numpy's operations (the same numbers)."""
    if lam < 10:
        return (np.exp(-lam), 0.0, 0.0, 0.0, 0.0, 0.0)
    slam = np.sqrt(lam)
    b = 0.931 + 2.53 * slam
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    return (np.log(lam), b, -0.059 + 0.02483 * b, invalpha, 0.9277 - 3.6224 / (b - 2), np.log(invalpha))


@njit(cache=True, nogil=True, error_model="numpy")
def _poisson_with(state, lam, terms, bounds):  # pragma: no cover - compiled
    """:func:`_poisson` with the mean's ``terms`` (:func:`_poisson_terms`) and PTRS's ``bounds`` for
    it (:func:`_ptrs`)."""
    if lam >= 10:
        return _ptrs(state, lam, terms, bounds)
    if lam == 0:
        return 0
    enlam = terms[0]
    x = 0
    prod = 1.0
    while True:
        prod *= _random(state)
        if prod > enlam:
            x += 1
        else:
            return x


@njit(cache=True, nogil=True, error_model="numpy")
def _sizes(state, lam, terms, sizes, count, bounds):  # pragma: no cover - compiled
    """``count`` Poisson(``lam``) draws into ``sizes``, as :func:`_poisson_with` draws them; from a mean
    of 10 by :func:`_ptrs` (inlined here), with ``bounds`` (NaN: not yet worked out) for this ``lam``."""
    if lam < 10:
        for s in range(count):
            sizes[s] = _poisson_with(state, lam, terms, bounds)
        return
    for s in range(count):
        sizes[s] = _ptrs(state, lam, terms, bounds)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _ptrs(state, lam, terms, bounds):  # pragma: no cover - compiled
    """numpy's ``random_poisson_ptrs`` (Hormann's transformed rejection), its constants in ``terms``;
    the right-hand side of its last test, which depends on ``lam`` and the candidate ``k`` alone, is
    kept in ``bounds[k]`` once worked out (for ``k`` within it; NaN: not yet; an empty ``bounds``
    keeps none): the same numbers by the same operations, each worked out once."""
    loglam, b, a, _, vr, log_invalpha = terms
    while True:
        u = _random(state) - 0.5
        v = _random(state)
        us = 0.5 - np.fabs(u)
        k = int(np.floor((2 * a / us + b) * u + lam + 0.43))
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if k < len(bounds):
            if np.isnan(bounds[k]):
                bounds[k] = -lam + k * loglam - _loggam(float(k + 1))
            bound = bounds[k]
        else:
            bound = -lam + k * loglam - _loggam(float(k + 1))
        if (np.log(v) + log_invalpha - np.log(a / (us * us) + b)) <= bound:
            return k


@njit(cache=True, nogil=True, error_model="numpy")
def _by_inversion(n, p):  # pragma: no cover - compiled
    """Whether numpy draws Binomial(n, p) by inversion (else by BTPE, not ported here)."""
    if n == 0 or p == 0.0:
        return True
    return (p * n <= 30.0) if p <= 0.5 else ((1.0 - p) * n <= 30.0)


@njit(cache=True, nogil=True, error_model="numpy")
def _binomial(state, n, p):  # pragma: no cover - compiled
    """numpy's ``random_binomial`` where it inverts (:func:`_by_inversion`): 0 draws nothing."""
    if n == 0 or p == 0.0:
        return 0
    if p <= 0.5:
        return _single_inversion(state, n, p)
    return n - _single_inversion(state, n, 1.0 - p)


@njit(cache=True, nogil=True, error_model="numpy")
def _single_inversion(state, n, p):  # pragma: no cover - compiled
    """One draw of :func:`_inversion`, its probabilities kept for this draw alone."""
    terms = _inversion_terms(n, p, np.log(1.0 - p))
    px = np.empty((1, terms[1] + 1))
    px[0, 0] = terms[0]
    return _inversion(state, n, p, terms, (px, 0), 1)[0]


@njit(cache=True, nogil=True, error_model="numpy")
def _inversion_terms(n, p, log_q):  # pragma: no cover - compiled
    """What numpy's ``random_binomial_inversion`` computes from ``n`` and ``p`` before it draws: ``q^n``
    and the bound past which it starts again (``log_q`` is ``log(1 - p)``)."""
    q = 1.0 - p
    mean = n * p
    return np.exp(n * log_q), int(min(n, mean + 10.0 * np.sqrt(mean * q + 1)))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _inversion(state, n, p, terms, kept, filled):  # pragma: no cover - compiled
    """numpy's ``random_binomial_inversion``, with the terms of ``n`` and ``p``
    (:func:`_inversion_terms`) and its probabilities of 0, 1, ... successes kept in row ``row`` of
    ``px`` (``kept = (px, row)``): read as far as ``filled`` holds them, the rest worked out by the
    same operations and kept there. Returns the draw and how far the row is filled now."""
    px, row = kept
    q = 1.0 - p
    qn, bound = terms
    x = 0
    now = qn
    u = _random(state)
    while u > now:
        x += 1
        if x > bound:
            x = 0
            now = qn
            u = _random(state)
        else:
            u -= now
            if x >= filled:
                px[row, x] = ((n - x + 1) * p * px[row, x - 1]) / (x * q)
                filled = x + 1
            now = px[row, x]
    return x, filled


@njit(cache=True, nogil=True, error_model="numpy")
def _outcomes(state, admitted, p, out, known, px):  # pragma: no cover - compiled
    """``out[c] = Binomial(admitted[c], p)`` for each cohort in turn, as :func:`_binomial` draws them.

    What numpy works out from the number of trials ``n`` and ``p`` alone is kept from draw to draw
    (and from call to call while ``p`` is the same, ``known[0, 0]``): column ``n`` of ``known``
    holds ``q^n``, the bound and how many of the probabilities in row ``n`` of ``px`` are set (0:
    none yet). The same numbers by the same operations, each worked out once."""
    if p == 0.0:
        out[:] = 0
        return
    flip = p > 0.5
    inverted = 1.0 - p if flip else p
    if known[0, 0] != inverted:
        known[0, 0] = inverted
        known[3, :] = 0.0
    log_q = np.log(1.0 - inverted)
    for c in range(len(admitted)):
        n = admitted[c]
        if n == 0:
            out[c] = 0
            continue
        if known[3, n] == 0.0:
            qn, bound = _inversion_terms(n, inverted, log_q)
            known[1, n], known[2, n], known[3, n] = qn, bound, 1.0
            px[n, 0] = qn
        x, filled = _inversion(state, n, inverted, (known[1, n], int(known[2, n])), (px, n), int(known[3, n]))
        known[3, n] = filled
        out[c] = n - x if flip else x


@njit(cache=True, nogil=True, error_model="numpy")
def draw_cohorts(entropy, lam, pool, chances, plan, most, out):  # pragma: no cover - compiled
    """Each replication's cohort sizes, admissions and outcomes, drawn as
    :func:`sim.engines.programme.run_programmes` draws them.

    Replication ``i`` (with cohorts) seeds its stream from ``entropy[i]``, draws Poisson(``lam[i]``)
    sizes for each of its operators' ``most`` cohorts (operator by operator, as numpy fills an
    (operators, most) array), admits its cohorts in order while ``pool[i]`` lasts, then draws the
    binomial outcomes with ``chances[:, i]`` row after row, into ``out``
    (:class:`CohortDraws`). A replication one of whose binomials numpy would draw by BTPE is
    left to numpy (``out.numpy[i]``), its cohorts' entries unset.
    """
    state = np.zeros(4, dtype=np.uint64)
    known, px = _binomial_room(64)  # what a binomial's parameters give, by outcome (:func:`_outcomes`)
    sizes = np.empty(max(1, plan.n_ops.max() * most) if len(plan.n_ops) else 1, dtype=np.int64)
    bounds, bounds_lam = np.full(256, np.nan), np.nan  # PTRS's bounds by k, for the mean bounds_lam
    terms = _poisson_terms(0.0)  # the terms of the mean bounds_lam, once it is set
    for i in range(len(plan.n)):
        at, n = plan.first[i], plan.n[i]
        if n == 0:
            continue
        _seeded(pcg64_words(entropy[i]), state)
        if lam[i] != bounds_lam:
            bounds[:] = np.nan
            bounds_lam = lam[i]
            terms = _poisson_terms(lam[i])
        _sizes(state, lam[i], terms, sizes, plan.n_ops[i] * most, bounds)
        before = 0
        ok = True
        for c in range(at, at + n):
            places = sizes[(plan.op[c] - plan.first_op[i]) * most + plan.k[c]]
            out.places[c] = places
            out.admitted[c] = int(min(max(np.floor(pool[i]) - before, 0.0), places))
            before += places
            for w in range(3):
                ok = ok and _by_inversion(out.admitted[c], chances[w, i])
        out.numpy[i] = not ok
        if ok:
            admitted = out.admitted[at : at + n]
            if admitted.max() >= known.shape[2]:
                known, px = _binomial_room(2 * admitted.max() + 1)
            for w in range(3):
                _outcomes(state, admitted, chances[w, i], out.outcomes[w, at : at + n], known[w], px[w])


@njit(cache=True, nogil=True, error_model="numpy")
def _binomial_room(trials):  # pragma: no cover - compiled
    """Empty room for what :func:`_outcomes` keeps of each of the three outcomes' binomials, up to
    ``trials - 1`` trials: (3, 4, trials) terms, none known, and (3, trials, trials) probabilities."""
    known = np.zeros((3, 4, trials))
    known[:, 0, 0] = np.nan  # no p: the first call sets its own
    return known, np.empty((3, trials, trials))
