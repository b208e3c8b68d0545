"""The batch engine's streams seeded without a seed sequence each are numpy's own generators."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines import block_streams
from sim.rng import block_key, block_seed, tag

pytestmark = pytest.mark.fast

_SEEDS = [0, 1, 7, 2**32 - 1, 2**32, 2**40 + 5, 2**64 + 3, 2**100 + 11]
_KEYS = [(), (0,), (5, 2**32 - 1), (2**62 + 1, 1, 2931358912, 3), (2**32, 2**70, 0, 9, 4)]


@pytest.mark.parametrize("seed", _SEEDS)
@pytest.mark.parametrize("key", _KEYS)
def test_stream_is_numpys_generator(seed: int, key: tuple[int, ...]) -> None:
    """Same SFC64 state, and so the same numbers, as ``SeedSequence(seed, spawn_key=key + (last,))``,
    for seeds and keys of one to four words and last words at both ends of their range."""
    words = block_streams.stream_words(seed, key)
    for last in (0, 1, tag("keep"), 2**32 - 1):
        want = np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(*key, last))))
        got = block_streams.stream(words, last)
        assert np.array_equal(
            got.bit_generator.state["state"]["state"], want.bit_generator.state["state"]["state"]
        )
        assert np.array_equal(got.random(5), want.random(5))


def test_block_streams_match_block_seed() -> None:
    seq = block_seed(12345, "uptake", "manufacturing_sme", 17)
    want = np.random.Generator(
        np.random.SFC64(np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, 99)))
    )
    got = block_streams.stream(
        block_streams.stream_words(12345, block_key("uptake", "manufacturing_sme", 17)), 99
    )
    assert np.array_equal(got.standard_normal(8), want.standard_normal(8))


def test_out_of_range_words_are_refused() -> None:
    with pytest.raises(ValueError, match="must be non-negative"):
        block_streams.stream_words(-1, ())
    words = block_streams.stream_words(1, ())
    with pytest.raises(ValueError, match="must be below"):
        block_streams.stream(words, 2**32)


@pytest.mark.parametrize("seed", [0, 2**64 + 3])
def test_compiled_uniforms_are_the_streams_numbers(seed: int) -> None:
    """SFC64 written out gives ``Generator.random``'s doubles to the bit, long past the first few."""
    words = block_streams.stream_words(seed, (2**62 + 1, 1, 2931358912, 3))
    for last, n in ((0, 1), (tag("keep"), 100_003), (2**32 - 1, 7)):
        want = block_streams.stream(words, last).random(n)
        got = block_streams.uniforms(words, last, np.full(n, np.nan))
        assert np.array_equal(got.view(np.int64), want.view(np.int64))


@pytest.mark.parametrize(
    ("made", "numpys"),
    [
        (block_streams.normals, np.random.Generator.standard_normal),
        (block_streams.exponentials, np.random.Generator.standard_exponential),
    ],
)
def test_compiled_ziggurats_are_the_streams_numbers(made, numpys) -> None:
    """Normals and exponentials from the seed words are numpy's to the bit, over four million draws
    each (the ziggurats' rare branches, the tails among them, a few thousand times)."""
    words = block_streams.stream_words(2024, (2**62 + 1, 2, 17, 0))
    for last in (0, tag("review")):
        want = numpys(block_streams.stream(words, last), 2_000_003)
        got = made(words, last, np.full(want.size, np.nan))
        assert np.array_equal(got.view(np.int64), want.view(np.int64))


@pytest.mark.parametrize("shape", [(0.0, 0.05, 0.2), (2.0, 2.0, 9.5), (-1.0, 3.0, 3.0)])
def test_compiled_triangular_draws_are_the_streams_numbers(shape: tuple[float, float, float]) -> None:
    """Both sides of the mode, and a mode at either end, as numpy's ``triangular``."""
    words = block_streams.stream_words(5, (2**62 + 1, 5, 99, 1))
    want = block_streams.stream(words, tag("gain")).triangular(*shape, 200_001)
    got = block_streams.triangular(words, tag("gain"), shape, np.full(want.size, np.nan))
    assert np.array_equal(got.view(np.int64), want.view(np.int64))
