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
would make. Uniforms skip the generator object: SFC64 itself is written out (:func:`uniforms`);
exponentials are numba's version of numpy's ziggurat in a compiled loop
(:func:`fill_exponential`). tests/unit/test_block_streams.py compares states and numbers.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numba import njit
from numpy.random.bit_generator import ISeedSequence

__all__ = ["stream_words", "stream", "uniforms", "fill_exponential"]

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


def uniforms(words: np.ndarray, last: int, out: np.ndarray) -> np.ndarray:
    """``stream(words, last).random(out=out)``: the same numbers, made by SFC64 written out in a
    compiled loop (numpy calls the generator through a pointer for each number)."""
    if not 0 <= last <= _LAST:
        raise ValueError(f"the last spawn-key word must be below 2**32, got {last}")
    _sfc64_uniforms(words, np.uint64(last), out)
    return out


# SFC64 (numpy/random/src/sfc64/sfc64.h): shifts and rotation, and the double of a 64-bit word
_S11 = np.uint64(11)
_S3 = np.uint64(3)
_S24 = np.uint64(24)
_S40 = np.uint64(40)
_ONE = np.uint64(1)
_TO_DOUBLE = 1.0 / 9007199254740992.0


@njit(cache=True, nogil=True)
def _sfc64_uniforms(words, last, out):  # pragma: no cover - compiled
    """SFC64 seeded as numpy seeds it (the seed sequence's three words, a counter of 1, twelve
    steps), then one double per step into ``out``, ``(word >> 11) * 2**-53`` as numpy's
    ``random``."""
    seed = _sfc64_seed(words, last)
    a, b, c, w = seed[0], seed[1], seed[2], _ONE
    for _ in range(12):
        tmp = a + b + w
        w += _ONE
        a = b ^ (b >> _S11)
        b = c + (c << _S3)
        c = ((c << _S24) | (c >> _S40)) + tmp
    for i in range(len(out)):
        tmp = a + b + w
        w += _ONE
        a = b ^ (b >> _S11)
        b = c + (c << _S3)
        c = ((c << _S24) | (c >> _S40)) + tmp
        out[i] = np.float64(np.int64(tmp >> _S11)) * _TO_DOUBLE  # below 2**53: exact as a signed word


@njit(cache=True, nogil=True, error_model="numpy")
def fill_exponential(rng, out):  # pragma: no cover - compiled
    """``rng.standard_exponential(out=out)``: the same numbers, made in a compiled loop (numba's
    ziggurat is numpy's, read from the same bit generator; about a fifth faster)."""
    for i in range(len(out)):
        out[i] = rng.standard_exponential()
