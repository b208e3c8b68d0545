"""The batch engine's named streams, seeded without building a ``SeedSequence`` for each, and
the fills it makes from them faster than numpy, to the same numbers.

A stream of :mod:`sim.engines.batch` is ``Generator(SFC64(SeedSequence(seed, spawn_key=(...,
tag(quantity)))))``: one per quantity, stage, segment and block, a few dozen per block. numpy
makes each seed sequence in Python-level code (about 10 microseconds with the state it hands
SFC64); here the same state comes from the same arithmetic compiled: numpy's
``SeedSequence`` hashes the words of its entropy and spawn key into a pool of four words
(``mix_entropy``) and hashes the pool into the words of the state (``generate_state``), all in
32-bit unsigned integers, which wrap the same way compiled. SFC64 takes the three 64-bit words
from a stand-in for the seed sequence (:class:`_State`), so the generator is the very one numpy
would make. The engine's draws skip the generator object: SFC64 itself is written out, with
numpy's ziggurats for normals and exponentials (:func:`uniforms`, :func:`normals`,
:func:`exponentials`, :func:`triangular`). tests/unit/test_block_streams.py compares states and
numbers.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numba import njit
from numba.np.random import _constants as zig
from numpy.random.bit_generator import ISeedSequence

__all__ = ["stream_words", "stream", "uniforms", "normals", "exponentials", "triangular"]

# numpy's SeedSequence constants (numpy/random/bit_generator.pyx), as uint64 so the compiled
# arithmetic stays in unsigned integers (a Python int beside a uint64 would make it a float)
_POOL = 4
_INIT_A = np.uint64(0x43B0D7E5)
_MULT_A = np.uint64(0x931E8875)
_INIT_B = np.uint64(0x8B51F9DD)
_MULT_B = np.uint64(0x58F38DED)
_MIX_L = np.uint64(0xCA01F9DD)
_MIX_R = np.uint64(0x4973F715)
_MASK = np.uint64(0xFFFFFFFF)
_HALF = np.uint64(16)
_WORD = np.uint64(32)
_LAST = 0xFFFFFFFF


def _words(value: object) -> list[int]:
    """A non-negative integer as numpy's seed sequences read it: 32-bit words, least significant
    first (zero is one word)."""
    n = operator.index(value)  # type: ignore[arg-type]
    if n < 0:
        raise ValueError(f"a seed must be non-negative, got {n}")
    out = [n & _LAST]
    n >>= 32
    while n:
        out.append(n & _LAST)
        n >>= 32
    return out


def stream_words(seed: int, spawn_key: tuple[int, ...]) -> np.ndarray:
    """The entropy words of ``SeedSequence(seed, spawn_key=spawn_key + (q,))`` except the last,
    ``q``'s (one word, for ``q`` below 2**32), with room for it at the end: the seed's words, padded
    with zeros to the pool size as numpy pads them when there is a spawn key, then the key's."""
    run = _words(seed)
    run += [0] * (_POOL - len(run))
    key = [w for part in spawn_key for w in _words(part)]
    return np.array([*run, *key, 0], dtype=np.uint64)


class _State(ISeedSequence):
    """A stand-in for the seed sequence SFC64 reads: the three 64-bit words it asks for, made."""

    __slots__ = ("_state",)

    def __init__(self, state: np.ndarray):
        self._state = state

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        if n_words != len(self._state) or np.dtype(dtype) != np.uint64:
            raise ValueError("made for SFC64 only (three 64-bit words)")
        return self._state


def stream(words: np.ndarray, last: int) -> np.random.Generator:
    """``Generator(SFC64(SeedSequence(seed, spawn_key=(*key, last))))``, where ``words`` is
    :func:`stream_words` of ``seed`` and ``key`` and ``last`` is below 2**32 (a tag)."""
    if not 0 <= last <= _LAST:
        raise ValueError(f"the last spawn-key word must be below 2**32, got {last}")
    seeded: Any = _State(_sfc64_seed(words, np.uint64(last)))  # numpy takes any ISeedSequence
    return np.random.Generator(np.random.SFC64(seeded))


@njit(cache=True, nogil=True)
def _hashmix(value, hash_const):  # pragma: no cover - compiled
    """numpy's ``hashmix``: the hashed value and the next hash constant (32-bit words in uint64)."""
    value = (value ^ hash_const) & _MASK
    hash_const = (hash_const * _MULT_A) & _MASK
    value = (value * hash_const) & _MASK
    return value ^ (value >> _HALF), hash_const


@njit(cache=True, nogil=True)
def _mix(x, y):  # pragma: no cover - compiled
    """numpy's ``mix`` of two pool words."""
    result = (_MIX_L * x - _MIX_R * y) & _MASK
    return result ^ (result >> _HALF)


@njit(cache=True, nogil=True)
def _sfc64_seed(words, last):  # pragma: no cover - compiled
    """``SeedSequence.generate_state(3, uint64)`` of the entropy ``words`` with ``last`` as its last word."""
    entropy = words.copy()
    entropy[-1] = last
    pool = np.zeros(_POOL, dtype=np.uint64)
    h = _INIT_A
    for i in range(_POOL):  # the seed's words (padded to the pool size), hashed in
        pool[i], h = _hashmix(entropy[i], h)
    for i_src in range(_POOL):
        for i_dst in range(_POOL):
            if i_src != i_dst:
                hashed, h = _hashmix(pool[i_src], h)
                pool[i_dst] = _mix(pool[i_dst], hashed)
    for i_src in range(_POOL, len(entropy)):  # the spawn key's words, each mixed into every pool word
        for i_dst in range(_POOL):
            hashed, h = _hashmix(entropy[i_src], h)
            pool[i_dst] = _mix(pool[i_dst], hashed)
    state = np.empty(3, dtype=np.uint64)
    h = _INIT_B
    for i in range(6):  # generate_state: 32-bit words, two (least significant first) per 64-bit word
        value = (pool[i % _POOL] ^ h) & _MASK
        h = (h * _MULT_B) & _MASK
        value = (value * h) & _MASK
        value ^= value >> _HALF
        state[i // 2] = value if i % 2 == 0 else state[i // 2] | (value << _WORD)
    return state


def normals(words: np.ndarray, last: int, out: np.ndarray) -> np.ndarray:
    """``stream(words, last).standard_normal(out=out)``: the same numbers, made by numpy's ziggurat
    with SFC64 written out in a compiled loop (no generator object, no call for each word)."""
    _sfc64_normals(words, np.uint64(_last_word(last)), out)
    return out


def exponentials(words: np.ndarray, last: int, out: np.ndarray) -> np.ndarray:
    """``stream(words, last).standard_exponential(out=out)``: the same numbers, made by numpy's
    ziggurat with SFC64 written out in a compiled loop."""
    _sfc64_exponentials(words, np.uint64(_last_word(last)), out)
    return out


def triangular(
    words: np.ndarray, last: int, shape: tuple[float, float, float], out: np.ndarray
) -> np.ndarray:
    """``stream(words, last).triangular(*shape, out.size)`` into ``out`` (``shape``: low, mode, high):
    the same numbers, the uniforms made first, then each one's side of the mode chosen after both
    square roots are taken (so the second loop runs on vectors; a square root rounds the same)."""
    low, mode, high = (float(v) for v in shape)
    _sfc64_triangular(words, np.uint64(_last_word(last)), low, mode, high, out)
    return out


def _last_word(last: int) -> int:
    if not 0 <= last <= _LAST:
        raise ValueError(f"the last spawn-key word must be below 2**32, got {last}")
    return last


def uniforms(words: np.ndarray, last: int, out: np.ndarray) -> np.ndarray:
    """``stream(words, last).random(out=out)``: the same numbers, made by SFC64 written out in a
    compiled loop (numpy calls the generator through a pointer for each number)."""
    _sfc64_uniforms(words, np.uint64(_last_word(last)), out)
    return out


# SFC64 (numpy/random/src/sfc64/sfc64.h): shifts and rotation, and the double of a 64-bit word
_S11 = np.uint64(11)
_S3 = np.uint64(3)
_S24 = np.uint64(24)
_S40 = np.uint64(40)
_ONE = np.uint64(1)
_S8 = np.uint64(8)
_BYTE = np.uint64(0xFF)
_MANTISSA = np.uint64(0x000FFFFFFFFFFFFF)
_TO_DOUBLE = 1.0 / 9007199254740992.0
# the ziggurat's tables of numpy's distributions.c, as numba ships them
_KI, _WI, _FI = zig.ki_double, zig.wi_double, zig.fi_double
_NOR_R, _NOR_INV_R = zig.ziggurat_nor_r, zig.ziggurat_nor_inv_r
_KE, _WE, _FE, _EXP_R = zig.ke_double, zig.we_double, zig.fe_double, zig.ziggurat_exp_r


@njit(cache=True, nogil=True, inline="always")
def _step(a, b, c, w):  # pragma: no cover - compiled
    """One step of SFC64 (``sfc64_next``): its 64-bit word and the next state."""
    tmp = a + b + w
    return tmp, b ^ (b >> _S11), c + (c << _S3), ((c << _S24) | (c >> _S40)) + tmp, w + _ONE


@njit(cache=True, nogil=True, inline="always")
def _double(word):  # pragma: no cover - compiled
    """numpy's double of a 64-bit word: its top 53 bits times 2**-53 (below 2**53: exact as signed)."""
    return np.float64(np.int64(word >> _S11)) * _TO_DOUBLE


@njit(cache=True, nogil=True)
def _seeded(words, last):  # pragma: no cover - compiled
    """SFC64's state as numpy seeds it: the seed sequence's three words, a counter of 1, twelve steps."""
    seed = _sfc64_seed(words, last)
    a, b, c, w = seed[0], seed[1], seed[2], _ONE
    for _ in range(12):
        _, a, b, c, w = _step(a, b, c, w)
    return a, b, c, w


@njit(cache=True, nogil=True, error_model="numpy")
def _sfc64_normals(words, last, out):  # pragma: no cover - compiled
    """Standard normals into ``out`` by numpy's ziggurat (numpy's ``random_standard_normal``, as numba
    writes it), each word from SFC64 written out."""
    a, b, c, w = _seeded(words, last)
    for i in range(len(out)):
        while True:
            r, a, b, c, w = _step(a, b, c, w)
            idx = np.int64(r & _BYTE)
            r >>= _S8
            rabs = (r >> _ONE) & _MANTISSA
            x = np.float64(np.int64(rabs)) * _WI[idx]
            if r & _ONE:
                x = -x
            if rabs < _KI[idx]:  # nearly always
                break
            if idx == 0:
                x, a, b, c, w = _normal_tail(rabs, a, b, c, w)
                break
            u, a, b, c, w = _step(a, b, c, w)
            if (_FI[idx - 1] - _FI[idx]) * _double(u) + _FI[idx] < np.exp(-0.5 * x * x):
                break
        out[i] = x


@njit(cache=True, nogil=True, error_model="numpy")
def _sfc64_exponentials(words, last, out):  # pragma: no cover - compiled
    """Standard exponentials into ``out`` by numpy's ziggurat (``random_standard_exponential``, as
    numba writes it), each word from SFC64 written out."""
    a, b, c, w = _seeded(words, last)
    for i in range(len(out)):
        while True:
            r, a, b, c, w = _step(a, b, c, w)
            r >>= _S3
            idx = np.int64(r & _BYTE)
            r >>= _S8
            x = np.float64(np.int64(r)) * _WE[idx]
            if r < _KE[idx]:  # nearly always
                break
            u, a, b, c, w = _step(a, b, c, w)
            if idx == 0:
                x = _EXP_R - np.log1p(-_double(u))
                break
            if (_FE[idx - 1] - _FE[idx]) * _double(u) + _FE[idx] < np.exp(-x):
                break
        out[i] = x


@njit(cache=True, nogil=True, error_model="numpy")
def _sfc64_triangular(words, last, left, mode, right, out):  # pragma: no cover - compiled
    """numpy's ``random_triangular`` of each uniform, SFC64 written out: ``left + sqrt(u * leftprod)``
    up to the mode's share ``ratio``, else ``right - sqrt((1 - u) * rightprod)``."""
    base = right - left
    leftbase = mode - left
    ratio = leftbase / base
    leftprod = leftbase * base
    rightprod = (right - mode) * base
    a, b, c, w = _seeded(words, last)
    for i in range(len(out)):
        word, a, b, c, w = _step(a, b, c, w)
        out[i] = _double(word)
    for i in range(len(out)):
        u = out[i]
        below = left + np.sqrt(u * leftprod)
        above = right - np.sqrt((1.0 - u) * rightprod)
        out[i] = below if u <= ratio else above


@njit(cache=True, nogil=True, error_model="numpy")
def _normal_tail(rabs, a, b, c, w):  # pragma: no cover - compiled
    """A normal from the ziggurat's tail (past ``r``), and the state after it."""
    while True:
        u, a, b, c, w = _step(a, b, c, w)
        xx = -_NOR_INV_R * np.log1p(-_double(u))
        u, a, b, c, w = _step(a, b, c, w)
        yy = -np.log1p(-_double(u))
        if yy + yy > xx * xx:
            x = -(_NOR_R + xx) if (rabs >> _S8) & _ONE else _NOR_R + xx
            return x, a, b, c, w


@njit(cache=True, nogil=True)
def _sfc64_uniforms(words, last, out):  # pragma: no cover - compiled
    """SFC64 seeded as numpy seeds it (the seed sequence's three words, a counter of 1, twelve
    steps), then one double per step into ``out``, ``(word >> 11) * 2**-53`` as numpy's
    ``random``."""
    a, b, c, w = _seeded(words, last)
    for i in range(len(out)):
        word, a, b, c, w = _step(a, b, c, w)
        out[i] = _double(word)
