"""What an engine hands back: per-application records of one scheme.

Both engines fill the same :class:`SchemeRecords` (arrays of shape
replications x applications, padded), and :mod:`sim.engines.metrics` turns
them into every output of MODEL.md. Keeping the metric definitions in one
place means the two engines can differ only in how they simulate, never in
what they count.

The metrics read records as :class:`FlatRecords` (the applications only, no
padding); the batch engine hands them over in that form
(:class:`FlatGroupedRecords`), padded arrays being made only if read.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

__all__ = [
    "Status",
    "ExhaustedBy",
    "SchemeRecords",
    "FlatRecords",
    "FlatGroupedRecords",
    "flat_records",
    "METRIC_FIELDS",
    "stack_records",
    "padded_width",
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


class ExhaustedBy(IntEnum):
    """Which limit stopped the scheme funding (rule R-FUND): why the first unfundable file was not funded."""

    NONE = 0  # not exhausted by the horizon
    MONEY = 1  # a place was left, but the file's grant exceeded the remaining budget
    PLACES = 2  # no place was left


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
    exhaustion: np.ndarray  # R: decision time of the first approved file that could not be funded (NaN: none)
    exhausted_by: np.ndarray  # R: ExhaustedBy code, why that file could not be funded (NONE: no such file)
    reapplied: np.ndarray  # R x segments: re-applications after rejection (R-REAPPLY), among the rows
    reopenings: np.ndarray  # R: times a top-up reopened the exhausted scheme (R-CHANGE)

    @property
    def replications(self) -> int:
        return self.arrival.shape[0]


def stack_records(parts: list[SchemeRecords]) -> SchemeRecords:
    """Stack records of single replications (or chunks) along the replication axis."""
    width = max(p.arrival.shape[1] for p in parts)

    def pad(a: np.ndarray, name: str) -> np.ndarray:
        if a.ndim < 2 or name in ("eligible", "would_be", "reapplied") or a.shape[1] == width:
            return a
        out = np.full((a.shape[0], width), PADDING_FILL.get(name, np.nan), dtype=a.dtype)
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

_PER_REPLICATION = ("eligible", "would_be", "exhaustion", "exhausted_by", "reapplied", "reopenings")


def padded_width(n: int) -> int:
    """Width of a group of rows using up to ``n`` slots: the next power of two, at least 16."""
    return int(max(16, 2 ** int(np.ceil(np.log2(max(n, 1))))))


_FIELD_NAMES = frozenset(f.name for f in fields(SchemeRecords))


#: Per-application fields the metrics read (``band``: by :mod:`sim.engines.funded`).
METRIC_FIELDS = (
    "segment",
    "band",
    "status",
    "arrival",
    "review_start",
    "decision",
    "cost",
    "grant",
    "value_added",
    "upgrade_end",
    "completes",
    "gain",
    "deadweight",
)


@dataclass
class FlatRecords:
    """The applications of R replications as flat arrays, with no padding.

    ``rep[i]`` is the replication (row) of application ``i`` and ``slot[i]``
    its column in padded records (below ``width``). Each replication's
    applications are consecutive and in slot order, so metrics summed over
    them in this order equal the left-to-right row sums of the padded
    arrays, bit for bit, while touching only slots in use.
    """

    rep: np.ndarray  # (A,) row of each application
    slot: np.ndarray  # (A,) its column in padded records
    width: int  # padded width
    columns: dict[str, np.ndarray]  # field -> (A,)
    eligible: np.ndarray  # R x segments
    would_be: np.ndarray  # R x segments
    exhaustion: np.ndarray  # R
    exhausted_by: np.ndarray  # R, ExhaustedBy codes
    replications: int
    reapplied: np.ndarray  # R x segments: re-applications (R-REAPPLY)
    reopenings: np.ndarray  # R: reopenings by a top-up (R-CHANGE)


def flat_records(rec: SchemeRecords) -> list[tuple[np.ndarray | None, FlatRecords]]:
    """The applications of ``rec`` (slots in use, of any segment) as groups of (rows, :class:`FlatRecords`).

    Records of an engine that keeps them flat come in its groups of
    replications (each group small enough to stay in cache); padded records
    are one group, ``rows`` None meaning all of them.
    """
    if isinstance(rec, FlatGroupedRecords):
        return rec.groups
    status, segment = rec.status, rec.segment
    if status.shape[0] == 1:  # one replication (the SimPy engine): plain 1-D selections
        cols = np.flatnonzero((status[0] != Status.PADDING) & (segment[0] >= 0))
        rows = np.zeros(len(cols), dtype=np.intp)
        columns = {name: getattr(rec, name)[0].take(cols) for name in METRIC_FIELDS}
    else:
        rows, cols = np.nonzero((status != Status.PADDING) & (segment >= 0))
        columns = {name: getattr(rec, name)[rows, cols] for name in METRIC_FIELDS}
    width = status.shape[1]
    per_replication = (rec.eligible, rec.would_be, rec.exhaustion, rec.exhausted_by)
    flat = FlatRecords(
        rows, cols, width, columns, *per_replication, rec.replications, rec.reapplied, rec.reopenings
    )
    return [(None, flat)]


class FlatGroupedRecords(SchemeRecords):
    """Records held flat, in groups of replications (see :func:`flat_records`).

    The metrics read the groups' flat arrays directly; the padded
    (replications x slots) arrays of :class:`SchemeRecords` are put together
    only when a field is first read, from ``columns`` (every field, flat,
    groups one after another) and ``rep`` / ``slot`` (row and column of each
    application).
    """

    def __init__(
        self,
        groups: list[tuple[np.ndarray, FlatRecords]],
        columns: dict[str, np.ndarray],
        rep: np.ndarray,
        slot: np.ndarray,
        per_replication: dict[str, np.ndarray],
    ):
        self.groups: list[tuple[np.ndarray | None, FlatRecords]] = list(groups)
        self._all, self._rep, self._slot = columns, rep, slot
        self._per_replication = per_replication
        self._replications = len(per_replication["exhaustion"])

    @property
    def replications(self) -> int:
        return self._replications

    def __getattr__(self, name: str) -> np.ndarray:
        if name not in _FIELD_NAMES:
            raise AttributeError(name)
        if name in _PER_REPLICATION:
            return self._per_replication[name]
        column = self._all[name]
        count = np.bincount(self._rep, minlength=self._replications)
        width = padded_width(int(count.max(initial=0)))
        value = np.full((self._replications, width), PADDING_FILL.get(name, np.nan), dtype=column.dtype)
        value[self._rep, self._slot] = column
        setattr(self, name, value)
        return value
