"""What an engine hands back: per-application records of one scheme.

Both engines fill the same :class:`SchemeRecords` (arrays of shape
replications x applications, padded), and :mod:`sim.engines.metrics` turns
them into every output of MODEL.md. Keeping the metric definitions in one
place means the two engines can differ only in how they simulate, never in
what they count.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

__all__ = [
    "Status",
    "SchemeRecords",
    "GroupedRecords",
    "stack_records",
    "padded_width",
    "split_records",
    "take_records",
    "width_groups",
]


class Status(IntEnum):
    """Where an application stands at the horizon (before the upgrade)."""

    PADDING = 0  # no application in this slot
    TURNED_AWAY = 1  # arrived after the money ran out (close_on_exhaustion)
    IN_REVIEW = 2  # queued, in review or awaiting a meeting at the horizon
    WITHDRAWN = 3  # withdrawn or found ineligible at review end
    REJECTED = 4
    UNFUNDED = 5  # approved after the scheme was exhausted
    AWARDED = 6


@dataclass
class SchemeRecords:
    """Applications to one scheme in R replications (arrays R x N, N padded).

    Times are weeks from the scheme's opening; NaN means "did not happen" (or,
    for ``upgrade_end``, "not reached inside the simulated time").
    """

    segment: np.ndarray  # int, index into the scheme's segments; -1 for padding
    band: np.ndarray  # int, index into the segment's bands
    arrival: np.ndarray  # application time
    status: np.ndarray  # Status code
    review_start: np.ndarray  # a reviewer takes the file
    decision: np.ndarray  # decision announced (review end, or the committee meeting)
    readiness: np.ndarray
    cost: np.ndarray  # project cost, HK$
    grant: np.ndarray  # grant the project would receive, HK$
    value_added: np.ndarray  # firm's annual value added, HK$
    upgrade_start: np.ndarray  # an integrator starts the project
    upgrade_end: np.ndarray  # completion or abandonment
    completes: np.ndarray  # bool: ends in completion (else abandonment)
    gain: np.ndarray  # relative gain in value added once complete
    deadweight: np.ndarray  # bool: would have upgraded without the grant
    eligible: np.ndarray  # R x segments: eligible firms
    would_be: np.ndarray  # R x segments: would-be applicants
    exhaustion: np.ndarray  # R: time the scheme ran out of money or places (NaN: never)

    @property
    def replications(self) -> int:
        return self.arrival.shape[0]


def stack_records(parts: list[SchemeRecords]) -> SchemeRecords:
    """Stack records of single replications (or chunks) along the replication axis."""
    width = max(p.arrival.shape[1] for p in parts)

    def pad(a: np.ndarray, name: str) -> np.ndarray:
        if a.ndim < 2 or name in ("eligible", "would_be") or a.shape[1] == width:
            return a
        fill = {"segment": -1, "band": -1, "status": 0, "completes": False, "deadweight": False}.get(
            name, np.nan
        )
        out = np.full((a.shape[0], width), fill, dtype=a.dtype)
        out[:, : a.shape[1]] = a
        return out

    merged = {
        f.name: np.concatenate([pad(getattr(p, f.name), f.name) for p in parts])
        for f in fields(SchemeRecords)
    }
    return SchemeRecords(**merged)


#: Fill value of padding slots, per field (NaN for the others).
PADDING_FILL: dict[str, object] = {
    "segment": -1,
    "band": -1,
    "status": Status.PADDING,
    "completes": False,
    "deadweight": False,
}

_PER_REPLICATION = ("eligible", "would_be", "exhaustion")


def padded_width(n: int) -> int:
    """Width of a group of rows using up to ``n`` slots: the next power of two, at least 16."""
    return int(max(16, 2 ** int(np.ceil(np.log2(max(n, 1))))))


def take_records(rec: SchemeRecords, rows: np.ndarray, width: int) -> SchemeRecords:
    """Replications ``rows`` of ``rec``, cut or padded to ``width`` slots."""
    out = {}
    for f in fields(SchemeRecords):
        a = getattr(rec, f.name)
        if f.name in _PER_REPLICATION:
            out[f.name] = a[rows]
            continue
        out[f.name] = np.full((len(rows), width), PADDING_FILL.get(f.name, np.nan), dtype=a.dtype)
        out[f.name][:, : min(width, a.shape[1])] = a[rows, :width]
    return SchemeRecords(**out)


def split_records(rec: SchemeRecords) -> list[tuple[np.ndarray, SchemeRecords]] | None:
    """``rec`` as groups of replications of similar width, as (rows, records); None if one group will do.

    Metrics computed group by group equal those of the whole (every row is
    computed on its own), while the groups spare the padding that a few crowded
    replications would otherwise give every row.
    """
    if isinstance(rec, GroupedRecords):
        return rec.groups
    groups = width_groups(rec)
    if len(groups) == 1 and groups[0][1] >= rec.arrival.shape[1]:
        return None
    return [(rows, take_records(rec, rows, width)) for rows, width in groups]


class GroupedRecords(SchemeRecords):
    """Records kept as groups of replications of similar width (see :func:`split_records`).

    The padded (replications x slots) arrays of :class:`SchemeRecords` are put
    together only when a field is first read.
    """

    def __init__(self, groups: list[tuple[np.ndarray, SchemeRecords]], replications: int):
        self.groups = groups
        self._replications = replications

    @property
    def replications(self) -> int:
        return self._replications

    def __getattr__(self, name: str) -> np.ndarray:
        if name not in _FIELD_NAMES:
            raise AttributeError(name)
        parts = [(rows, getattr(part, name)) for rows, part in self.groups]
        first = parts[0][1]
        if name in _PER_REPLICATION:
            value = np.empty((self._replications, *first.shape[1:]), dtype=first.dtype)
            for rows, part in parts:
                value[rows] = part
        else:
            width = max(part.shape[1] for _, part in parts)
            value = np.full((self._replications, width), PADDING_FILL.get(name, np.nan), dtype=first.dtype)
            for rows, part in parts:
                value[rows, : part.shape[1]] = part
        setattr(self, name, value)
        return value


_FIELD_NAMES = frozenset(f.name for f in fields(SchemeRecords))


def width_groups(rec: SchemeRecords) -> list[tuple[np.ndarray, int]]:
    """Replications grouped by the :func:`padded_width` of their used slots, as (rows, width)."""
    used = rec.status != Status.PADDING
    last = np.where(used.any(axis=1), used.shape[1] - np.argmax(used[:, ::-1], axis=1), 0)
    widths = np.maximum(16, 2 ** np.ceil(np.log2(np.maximum(last, 1))).astype(np.int64))
    return [(np.flatnonzero(widths == w), int(w)) for w in np.unique(widths)]
