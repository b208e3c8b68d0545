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

__all__ = ["Status", "SchemeRecords", "stack_records"]


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
