"""The compiled programme draws (sim.engines.programme_draws) are numpy's numbers: the same
SeedSequence state, the same PCG64 stream, the same Poisson and binomial draws in the same order,
leaving the stream where numpy leaves it (the next uniform agrees too)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim.engines import programme_draws as draws
from sim.rng import programme_spawn_key, programme_stream


@njit(cache=False)
def _poissons(state, lam, n):  # pragma: no cover - compiled
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = draws._poisson(state, lam)
    return out, draws._random(state)


@njit(cache=False)
def _binomials(state, n, p):  # pragma: no cover - compiled
    out = np.empty(len(n), dtype=np.int64)
    for i in range(len(n)):
        out[i] = draws._binomial(state, n[i], p)
    return out, draws._random(state)


def _state(seed: int, rep: int, scheme: str) -> np.ndarray:
    first, _, last = programme_spawn_key(rep, scheme)
    words = draws.entropy_words(seed, (first,), np.array([rep]), last)[0]
    state = np.zeros(4, dtype=np.uint64)
    draws._seeded(draws.pcg64_words(words), state)
    return state


SEEDS = [0, 1, 2**32 - 1, 2**32, 2**40 + 5, 12345678901234567890]
REPS = [0, 1, 511, 70_000, 2**31, 2**32 - 1]


@pytest.mark.parametrize("seed", SEEDS)
def test_seeding_gives_numpys_state_and_uniforms(seed) -> None:
    """SeedSequence's words and PCG64's state and uniforms, for seeds of one to three words."""
    for rep in REPS:
        for scheme in ("it_accelerator", "x"):
            first, _, last = programme_spawn_key(rep, scheme)
            words = draws.entropy_words(seed, (first,), np.array([rep]), last)[0]
            seq = np.random.SeedSequence(seed, spawn_key=programme_spawn_key(rep, scheme))
            assert np.array_equal(draws.pcg64_words(words), seq.generate_state(4, np.uint64))
            state = _state(seed, rep, scheme)
            numpy_state = np.random.PCG64(seq).state["state"]
            assert (int(state[0]) << 64) | int(state[1]) == numpy_state["state"]
            assert (int(state[2]) << 64) | int(state[3]) == numpy_state["inc"]
            uniforms = [draws._random(state) for _ in range(20)]
            assert uniforms == programme_stream(seed, rep, scheme).random(20).tolist()


@pytest.mark.parametrize("lam", [0.0, 1e-3, 0.5, 3.0, 9.99, 10.0, 10.5, 12.0, 30.0, 150.0, 1000.0])
def test_poisson_draws_are_numpys(lam) -> None:
    """Multiplication below a mean of 10 and PTRS from 10, over 50 streams of 400 draws each."""
    for rep in range(50):
        got, after = _poissons(_state(7, rep, "x"), lam, 400)
        rng = programme_stream(7, rep, "x")
        assert np.array_equal(got, rng.poisson(lam, size=400))
        assert after == rng.random()


@pytest.mark.parametrize("p", [0.0, 0.01, 0.25, 0.4, 0.5, 0.55, 0.9, 0.999, 1.0])
def test_binomial_draws_by_inversion_are_numpys(p) -> None:
    """Binomials of 0 to 60 trials wherever numpy inverts (n * min(p, 1 - p) <= 30), 50 streams."""
    n = np.arange(61, dtype=np.int64)
    n = n[[draws._by_inversion(int(m), p) for m in n]]
    for rep in range(50):
        trials = np.random.default_rng(rep).permutation(np.repeat(n, 3))
        got, after = _binomials(_state(3, rep, "y"), trials, p)
        rng = programme_stream(3, rep, "y")
        assert np.array_equal(got, rng.binomial(trials, p))
        assert after == rng.random()


def test_inversion_test_is_numpys_switch() -> None:
    """Inversion up to n * min(p, 1 - p) = 30, BTPE above; none of n = 0 or p = 0 is drawn."""
    assert draws._by_inversion(60, 0.5)
    assert not draws._by_inversion(61, 0.5)
    assert draws._by_inversion(120, 0.75)
    assert not draws._by_inversion(121, 0.75)
    assert draws._by_inversion(0, 0.5)
    assert draws._by_inversion(10**6, 0.0)
