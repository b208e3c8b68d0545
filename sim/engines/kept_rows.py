"""The batch kernel's output rows, kept from one chunk to the next while nothing still reads them.

Each scheme of a chunk writes its applications into float rows
(:class:`~sim.engines.layout.FloatColumn`) and small-integer rows
(:class:`~sim.engines.layout.IntColumn`) of tens of megabytes. Made afresh for
every chunk, they cost fresh pages each time (the operating system zeroes them
on first touch: about a sixth of the kernel's time on the baseline). The
records of a chunk are views of these rows, so rows are handed out again only
once no view of them is left: when the array's reference count shows that only
this keeper holds it. Rows still read (records a caller keeps) are never
reused; new ones are made instead.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from sim.engines.layout import FloatColumn, IntColumn

__all__ = ["KeptRows", "fresh_rows"]

#: References to a kept array that no one else holds: the keeper's list, and
#: ``sys.getrefcount``'s own argument.
_ONLY_KEPT = 2


class KeptRows:
    """Output rows for the batch kernel, per thread, reused once no records view them."""

    def __init__(self) -> None:
        self._local = threading.local()

    def take(self, room: int) -> tuple[np.ndarray, np.ndarray]:
        """Float rows (FloatColumn x at least ``room``) and int8 rows (IntColumn x the same) that
        nothing else reads; their contents are left over (the kernel writes before it reads)."""
        floats: list[np.ndarray] = self._kept("floats")
        ints: list[np.ndarray] = self._kept("ints")
        for i in range(len(floats)):
            if _unread(floats, i) and _unread(ints, i) and floats[i].shape[1] >= room:
                return floats[i], ints[i]
        for i in range(len(floats)):  # an unread pair too small: grown in its place
            if _unread(floats, i) and _unread(ints, i):
                floats[i], ints[i] = fresh_rows(max(room, int(1.25 * floats[i].shape[1])))
                return floats[i], ints[i]
        new_floats, new_ints = fresh_rows(room)
        floats.append(new_floats)
        ints.append(new_ints)
        return new_floats, new_ints

    def _kept(self, kind: str) -> list[np.ndarray]:
        kept = getattr(self._local, kind, None)
        if kept is None:
            kept = []
            setattr(self._local, kind, kept)
        return kept


def _unread(kept: list[np.ndarray], i: int) -> bool:
    """Whether ``kept[i]`` is held by nothing but ``kept`` (no records, no view of it left)."""
    return sys.getrefcount(kept[i]) <= _ONLY_KEPT


def fresh_rows(room: int) -> tuple[np.ndarray, np.ndarray]:
    """New output rows with room for ``room`` applications (float, then int8)."""
    return np.empty((len(FloatColumn), room)), np.empty((len(IntColumn), room), dtype=np.int8)
