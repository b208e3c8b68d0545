"""Who is funded, per replication: applications, awards and money by size band, and grants against the cap.

MODEL.md ("Outputs of one replication") asks, per size band, for applicants
and awards, and for the grant amounts, so that their distribution across runs
can be shown. Two tables per chunk of replications come from the records:

- ``bands``: one row per (replication, scheme, segment, size band) with the
  applications (files submitted, turned-away files included, as the metric
  ``applications``), the awards and the HK$ committed (sum of the grants
  awarded), all by the scheme horizon;
- ``grants``: one row per (replication, scheme) with the cap of that
  replication, the awards, the awards at the cap (grant within HK$1 of it)
  and a histogram of the awarded grants in :data:`GRANT_BINS` bins of
  grant / cap (``[0, 10%)``, ..., ``[90%, 100%]``, the last closed), so runs
  whose cap differs pool into one distribution.

The counts come from one compiled pass over a replication's applications in
slot order, equal to ``np.bincount`` over the same keys (its plain numpy twin
is in tests/unit/test_funded.py) and several times faster than the handful of
numpy passes that would need; a replication's rows therefore do not depend on
the chunk, the executor or the engine (the engines give identical records on
the same applicants).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numba import njit

from sim.engines.parameters import ParameterDraws
from sim.engines.records import FlatRecords, SchemeRecords, Status, flat_records
from sim.spec.scenario import Scenario

__all__ = [
    "AT_CAP_HKD",
    "BAND_VALUES",
    "GRANT_BINS",
    "BandCounts",
    "FundedTables",
    "band_counts",
    "awards_at_cap",
    "funded_tables",
    "grant_bin_columns",
    "grant_bin_edges",
]

#: Bins of grant / cap in the grant histogram (equal widths; the last includes the cap itself).
GRANT_BINS = 10

#: A grant at least the cap minus this many HK$ is "at the cap".
AT_CAP_HKD = 1.0

_AWARDED = int(Status.AWARDED)

#: Values per (replication, scheme, segment, band) row, in column order.
BAND_VALUES: tuple[str, ...] = ("applications", "awards", "committed_hkd")


def grant_bin_edges() -> np.ndarray:
    """Edges of the grant bins as shares of the cap: 0, 0.1, ..., 1."""
    return np.round(np.linspace(0.0, 1.0, GRANT_BINS + 1), 12)


def grant_bin_columns() -> list[str]:
    """Column names of the grant histogram: ``awards_cap_000_010`` (0-10% of the cap) ... ``_090_100``."""
    edges = np.rint(100 * grant_bin_edges()).astype(int)
    return [f"awards_cap_{lo:03d}_{hi:03d}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


@dataclass
class BandCounts:
    """One scheme's counts over R replications; band cells are (segment, band) pairs, segment-major."""

    applications: np.ndarray  # (R, cells) int
    awards: np.ndarray  # (R, cells) int
    committed_hkd: np.ndarray  # (R, cells) float, sum of grants awarded in slot order
    awards_at_cap: np.ndarray  # (R,) int
    grant_bins: np.ndarray  # (R, GRANT_BINS) int


@dataclass
class FundedTables:
    """The who-is-funded tables of a chunk of replications (Arrow tables, as the spool writes
    them), rows in replication order."""

    bands: pa.Table
    grants: pa.Table


def band_counts(rec: SchemeRecords, cap: np.ndarray, offsets: np.ndarray) -> BandCounts:
    """Counts of one scheme's records; ``cap`` is each replication's cap (HK$), and band ``b`` of
    the scheme's segment ``k`` is cell ``offsets[k] + b`` (``offsets[-1]``: the number of cells)."""
    cells = int(offsets[-1])
    out = _zeros(rec.replications, cells)
    for rows, flat in flat_records(rec):
        n, c = flat.replications, flat.columns
        where = np.arange(n) if rows is None else rows
        part = _zeros(n, cells)
        columns = (flat.rep, c["segment"], c["band"], c["status"], c["grant"], cap.take(where))
        by_band = (part.applications, part.awards, part.committed_hkd)
        _count(columns, offsets, by_band, part.awards_at_cap, part.grant_bins)
        for key in ("applications", "awards", "committed_hkd", "awards_at_cap", "grant_bins"):
            getattr(out, key)[where] = getattr(part, key)
    return out


def _zeros(reps: int, cells: int) -> BandCounts:
    return BandCounts(
        applications=np.zeros((reps, cells), dtype=np.int64),
        awards=np.zeros((reps, cells), dtype=np.int64),
        committed_hkd=np.zeros((reps, cells)),
        awards_at_cap=np.zeros(reps, dtype=np.int64),
        grant_bins=np.zeros((reps, GRANT_BINS), dtype=np.int64),
    )


@njit(cache=True, nogil=True, error_model="numpy")
def _count(columns, offsets, by_band, at_cap, bins):  # pragma: no cover - compiled
    """One pass over the applications (``columns``: replication, segment, band, status, grant,
    and each replication's cap), in slot order: what :func:`band_counts` returns, as ``np.bincount``
    over the same keys would give it (tests/unit/test_funded.py holds that twin)."""
    rep, segment, band, status, grant, cap = columns
    applications, awards, committed = by_band
    for i in range(len(rep)):
        r, k = rep[i], offsets[segment[i]] + band[i]
        applications[r, k] += 1
        if status[i] != _AWARDED:
            continue
        g, limit = grant[i], cap[r]
        awards[r, k] += 1
        committed[r, k] += g
        at_cap[r] += g >= limit - AT_CAP_HKD
        share = g / limit * GRANT_BINS if limit > 0 else GRANT_BINS
        bins[r, min(int(share), GRANT_BINS - 1)] += 1


def awards_at_cap(flat: FlatRecords, cap: np.ndarray, segment: int | None = None) -> np.ndarray:
    """Awards per replication of ``flat`` (of segment ``segment``; None: all) whose grant is at
    the replication's ``cap`` (at least the cap minus :data:`AT_CAP_HKD`), as floats."""
    c, out = flat.columns, np.zeros(flat.replications)
    columns = (flat.rep, c["segment"], c["status"], c["grant"], cap)
    _count_at_cap(columns, -1 if segment is None else segment, out)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _count_at_cap(columns, segment, out):  # pragma: no cover - compiled
    """:func:`awards_at_cap` in one pass (``segment`` < 0: every segment)."""
    rep, seg, status, grant, cap = columns
    for i in range(len(rep)):
        if status[i] == _AWARDED and (segment < 0 or seg[i] == segment):
            out[rep[i]] += grant[i] >= cap[rep[i]] - AT_CAP_HKD


def _band_labels(scenario: Scenario, scheme: str) -> tuple[np.ndarray, list[str], list[str]]:
    """A scheme's band cells: offsets per segment, and each cell's segment and band names."""
    segments = scenario.schemes[scheme].segments
    bands = [list(scenario.segments[s].bands) for s in segments]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in bands])]).astype(np.int64)
    seg_names = [s for s, names in zip(segments, bands, strict=True) for _ in names]
    band_names = [b for names in bands for b in names]
    return offsets, seg_names, band_names


def funded_tables(
    scenario: Scenario, records: dict[str, SchemeRecords], draws: ParameterDraws, indices: np.ndarray
) -> FundedTables:
    """The two who-is-funded tables of replications ``indices`` (their records and draws).

    Rows are in replication order, then the scenario's order of schemes,
    segments and bands; names are dictionary-encoded (small however many rows).
    """
    reps, cells, got, caps = len(indices), [], [], []
    for name, rec in records.items():
        cap = np.asarray(draws.scheme(name, "max_grant_hkd"), dtype=float)  # as scheme_parameters reads it
        offsets, seg_names, band_names = _band_labels(scenario, name)
        got.append(band_counts(rec, cap, offsets))
        cells += [(name, seg, band) for seg, band in zip(seg_names, band_names, strict=True)]
        caps.append(cap)
    names = list(records)
    bands = {
        "replication": np.repeat(indices, len(cells)),
        **{key: _tiled([c[i] for c in cells], reps) for i, key in enumerate(("scheme", "segment", "band"))},
        **{key: np.concatenate([getattr(g, key) for g in got], axis=1).reshape(-1) for key in BAND_VALUES},
    }
    grants = {
        "replication": np.repeat(indices, len(names)),
        "scheme": _tiled(names, reps),
        "cap_hkd": np.stack(caps, axis=1).reshape(-1),
        "awards": np.stack([g.awards.sum(axis=1) for g in got], axis=1).reshape(-1),
        "awards_at_cap": np.stack([g.awards_at_cap for g in got], axis=1).reshape(-1),
    }
    hist = np.stack([g.grant_bins for g in got], axis=1).reshape(-1, GRANT_BINS)
    grants |= dict(zip(grant_bin_columns(), hist.T, strict=True))
    return FundedTables(bands=pa.table(bands), grants=pa.table(grants))


def _tiled(labels: list[str], reps: int) -> pa.DictionaryArray:
    """``labels`` repeated for ``reps`` replications, dictionary-encoded by the distinct labels in order."""
    categories = list(dict.fromkeys(labels))
    codes = np.array([categories.index(x) for x in labels], dtype=np.int32)
    return pa.DictionaryArray.from_arrays(np.tile(codes, reps), pa.array(categories, type=pa.string()))
