"""Streaming stores (sim/engines/streaming.py) write the same bits as ordinary ones."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from sim.engines.streaming import fence, stream_rows


@njit(cache=False)
def _copy_all(src, out):  # pragma: no cover - compiled
    for r in range(out.shape[0]):
        stream_rows(src[r], out[r])
    fence()


@njit(cache=False)
def _copy_fenced(src, out):  # pragma: no cover - compiled
    stream_rows(src, out)
    fence()


def test_streamed_rows_hold_exactly_the_bits_copied() -> None:
    rng = np.random.default_rng(7)
    src = rng.normal(size=(5, 8, 209))
    src[0, 0, :4] = [np.nan, -0.0, np.inf, -np.inf]
    src[1, 2, 3] = np.float64(5e-324)  # the smallest subnormal
    out = np.full_like(src, 42.0)
    _copy_all(src, out)
    assert out.tobytes() == src.tobytes()


def test_rows_streamed_into_a_strided_view_leave_the_rest_untouched() -> None:
    src = np.arange(6.0).reshape(2, 3)
    whole = np.zeros((2, 4, 3))
    _copy_fenced(src, whole[:, 1, :])
    np.testing.assert_array_equal(whole[:, 1, :], src)
    assert not whole[:, [0, 2, 3], :].any()


def test_only_float64_arrays_are_streamed() -> None:
    with pytest.raises(TypingError):
        stream_rows(np.zeros((2, 2), dtype=np.float32), np.zeros((2, 2), dtype=np.float32))
