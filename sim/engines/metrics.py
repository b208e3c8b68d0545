"""Every output of one replication (MODEL.md "Outputs"), from :class:`SchemeRecords`.

All functions work on R replications at once and return arrays of length R
(or R x series x weeks for the weekly series), so the SimPy engine (R = 1 per
call) and the batch engine (R = a chunk) share one definition of each metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engines.parameters import ParameterDraws
from sim.engines.records import SchemeRecords, Status, split_records
from sim.engines.rules import pv_factor, ramp_share

__all__ = ["COUNTS", "METRICS", "SERIES", "SchemeMetrics", "scheme_metrics", "weekly_series", "weeks"]

#: The funnel, in order: counts per replication.
COUNTS: tuple[str, ...] = (
    "eligible",
    "would_be",
    "applications",
    "turned_away",
    "in_review",
    "withdrawn",
    "rejected",
    "approved",
    "unfunded",
    "awarded",
    "completed",
    "abandoned",
    "ongoing",
)

#: Every scalar metric per replication, scheme and segment.
METRICS: tuple[str, ...] = COUNTS + (
    "exhausted",
    "exhaustion_week",
    "wait_mean_weeks",
    "wait_median_weeks",
    "wait_p90_weeks",
    "committed_hkd",
    "paid_hkd",
    "released_hkd",
    "private_hkd",
    "admin_cost_hkd",
    "public_cost_hkd",
    "additional_upgrades",
    "additional_gva_hkd",
    "pv_benefit_hkd",
    "cost_per_additional_hkd",
    "benefit_cost_ratio",
    "leverage",
)

#: Weekly series (cumulative counts and money, and the vetting queue).
SERIES: tuple[str, ...] = (
    "applications",
    "awards",
    "completions",
    "committed_hkd",
    "paid_hkd",
    "queue",
    "in_vetting",
)


def weeks(horizon_weeks: float) -> np.ndarray:
    """The weekly grid 0, 1, ..., floor(horizon) on which series are reported."""
    return np.arange(int(np.floor(horizon_weeks)) + 1, dtype=float)


@dataclass
class SchemeMetrics:
    """Metrics of one scheme (or one of its segments) over R replications."""

    values: dict[str, np.ndarray]  # metric -> (R,)
    weekly: np.ndarray  # (R, len(SERIES), weeks)


def _take(draws: ParameterDraws, rows: np.ndarray) -> ParameterDraws:
    return ParameterDraws({path: draws[path][rows] for path in draws.paths()}, draws.reps[rows])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _row_total(x: np.ndarray) -> np.ndarray:
    """Row sums added strictly left to right.

    ``sum(axis=1)`` adds pairwise, so its last bits depend on the row length, i.e.
    on how much padding a chunk has; a sequential sum makes every replication's
    numbers independent of the chunk it was computed in.
    """
    if x.shape[1] == 0:
        return np.zeros(x.shape[0])
    return np.cumsum(x, axis=1)[:, -1]


def _row_quantile(x: np.ndarray, mask: np.ndarray, q: float) -> np.ndarray:
    """Per-row quantile of ``x`` where ``mask`` (NaN for rows with no entries)."""
    return _row_quantiles(x, mask, (q,))[0]


def _row_quantiles(x: np.ndarray, mask: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """Per-row quantiles ``qs`` of ``x`` where ``mask`` (NaN for rows with no entries).

    The same numbers as ``np.nanquantile(row, q)`` (linear interpolation) on each
    row, computed for all rows at once from one row-wise sort.
    """
    mask = mask & ~np.isnan(x)
    n = mask.sum(axis=1)
    has = n > 0
    outs = [np.full(x.shape[0], np.nan) for _ in qs]
    if not has.any():
        return outs
    ordered = np.sort(np.where(mask[has], x[has], np.nan), axis=1)
    n = n[has]
    for out, q in zip(outs, qs, strict=True):
        index = (n - 1) * q
        below = np.floor(index)
        gamma = index - below
        lo = below.astype(np.intp)[:, None]
        a = np.take_along_axis(ordered, lo, axis=1)[:, 0]
        b = np.take_along_axis(ordered, np.minimum(lo + 1, (n - 1)[:, None]), axis=1)[:, 0]
        diff = b - a
        out[has] = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return outs


def scheme_metrics(
    rec: SchemeRecords,
    draws: ParameterDraws,
    scheme: str,
    horizon: float,
    segment: int | None = None,
) -> SchemeMetrics:
    """All metrics of ``scheme`` from its records; ``segment`` restricts to one segment.

    Replications are handled in groups of similar width (slots in use), so a few
    crowded replications do not make every row of a chunk as wide as theirs.
    """
    groups = split_records(rec)
    if groups is not None:
        parts = [
            (rows, scheme_metrics(part, _take(draws, rows), scheme, horizon, segment))
            for rows, part in groups
        ]
        values = {key: np.empty(rec.replications) for key in parts[0][1].values}
        weekly = np.empty((rec.replications, *parts[0][1].weekly.shape[1:]))
        for rows, part in parts:
            for key, value in part.values.items():
                values[key][rows] = value
            weekly[rows] = part.weekly
        return SchemeMetrics(values=values, weekly=weekly)
    h = horizon
    mine = rec.segment >= 0 if segment is None else rec.segment == segment
    st = np.where(mine, rec.status, Status.PADDING)

    def count(mask: np.ndarray) -> np.ndarray:
        return mask.sum(axis=1).astype(float)

    def total(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        # left to right over the masked entries: the same sum as _row_total(np.where(mask, x, 0.0))
        rows, cols = np.nonzero(mask)
        return np.bincount(rows, weights=np.broadcast_to(x, mask.shape)[rows, cols], minlength=mask.shape[0])

    seg_cols = slice(None) if segment is None else slice(segment, segment + 1)
    awarded = st == Status.AWARDED
    ended = awarded & (rec.upgrade_end <= h)
    completed = ended & rec.completes
    abandoned = ended & ~rec.completes
    decided = st >= Status.WITHDRAWN  # withdrawn, rejected, unfunded or awarded
    admitted = (st != Status.PADDING) & (st != Status.TURNED_AWAY)
    wait = rec.decision - rec.arrival
    wait_q = _row_quantiles(wait, decided, (0.5, 0.9))

    upfront = draws.scheme(scheme, "tranches.upfront_share")[:, None]
    paid_now = np.where(awarded, rec.grant * upfront, 0.0) + np.where(
        completed, rec.grant * (1 - upfront), 0.0
    )
    additional = completed & ~rec.deadweight
    ramp_years = draws.scheme(scheme, "impact.ramp_years")
    discount = draws.scheme(scheme, "impact.discount_rate")
    factor = pv_factor(ramp_years, draws.scheme(scheme, "impact.benefit_years"), discount)
    # impact of the additional upgrades, computed on those entries only
    rows, cols = np.nonzero(additional)
    end = rec.upgrade_end[rows, cols]
    gva = rec.value_added[rows, cols] * rec.gain[rows, cols]
    reps = st.shape[0]
    gva_at_h = np.bincount(rows, weights=gva * ramp_share(h - end, ramp_years[rows]), minlength=reps)
    to_opening = (1.0 + discount[rows]) ** (-end / 52.0)
    pv = np.bincount(rows, weights=gva * factor[rows] * to_opening, minlength=reps)

    v: dict[str, np.ndarray] = {
        "eligible": rec.eligible[:, seg_cols].sum(axis=1).astype(float),
        "would_be": rec.would_be[:, seg_cols].sum(axis=1).astype(float),
        "applications": count(st != Status.PADDING),
        "turned_away": count(st == Status.TURNED_AWAY),
        "in_review": count(st == Status.IN_REVIEW),
        "withdrawn": count(st == Status.WITHDRAWN),
        "rejected": count(st == Status.REJECTED),
        "approved": count((st == Status.UNFUNDED) | awarded),
        "unfunded": count(st == Status.UNFUNDED),
        "awarded": count(awarded),
        "completed": count(completed),
        "abandoned": count(abandoned),
        "ongoing": count(awarded & ~ended),
        "exhausted": (rec.exhaustion <= h).astype(float),
        "exhaustion_week": np.where(rec.exhaustion <= h, rec.exhaustion, np.nan),
        "wait_mean_weeks": _ratio(total(wait, decided), count(decided)),
        "wait_median_weeks": wait_q[0],
        "wait_p90_weeks": wait_q[1],
        "committed_hkd": total(rec.grant, awarded),
        "paid_hkd": _row_total(paid_now),
        "released_hkd": total(rec.grant * (1 - upfront), abandoned),
        "private_hkd": total(rec.cost - rec.grant, completed),
        "admin_cost_hkd": count(admitted) * draws.scheme(scheme, "admin_cost_per_application_hkd"),
        "additional_upgrades": count(additional),
        "additional_gva_hkd": gva_at_h,
        "pv_benefit_hkd": pv,
    }
    v["public_cost_hkd"] = v["paid_hkd"] + v["admin_cost_hkd"]
    v["cost_per_additional_hkd"] = _ratio(v["public_cost_hkd"], v["additional_upgrades"])
    v["benefit_cost_ratio"] = _ratio(v["pv_benefit_hkd"], v["public_cost_hkd"])
    v["leverage"] = _ratio(v["private_hkd"], v["paid_hkd"])
    weekly = weekly_series(rec, st, upfront[:, 0], h)
    return SchemeMetrics(values=v, weekly=weekly)


class _Events:
    """Events of one kind on the weekly grid: located once, then counted or summed."""

    def __init__(self, times: np.ndarray, mask: np.ndarray, n_weeks: int):
        self.shape, self.n_weeks = times.shape, n_weeks
        self.rows, self.cols = np.nonzero(mask & (times <= n_weeks - 1))
        self.flat = self.rows * n_weeks + np.ceil(times[self.rows, self.cols]).astype(np.int64)

    def cumulative(self, weight: np.ndarray | None = None, row_scale: np.ndarray | None = None) -> np.ndarray:
        """Per row, the number (or weighted sum, ``weight * row_scale``) of events up to each week."""
        w = None if weight is None else np.broadcast_to(weight, self.shape)[self.rows, self.cols]
        if row_scale is not None:
            w = w * row_scale[self.rows]
        r = self.shape[0]
        binned = np.bincount(self.flat, weights=w, minlength=r * self.n_weeks).reshape(r, self.n_weeks)
        return np.cumsum(binned, axis=1)


def _cumulative(
    times: np.ndarray, mask: np.ndarray, n_weeks: int, weight: np.ndarray | None = None
) -> np.ndarray:
    """For each row, the (weighted) number of events with time <= w, for w = 0..n_weeks-1."""
    return _Events(times, mask, n_weeks).cumulative(weight)


def weekly_series(rec: SchemeRecords, st: np.ndarray, upfront: np.ndarray, horizon: float) -> np.ndarray:
    """The weekly series of :data:`SERIES`, shape (R, len(SERIES), weeks)."""
    n = len(weeks(horizon))
    admitted = (st != Status.PADDING) & (st != Status.TURNED_AWAY)
    awarded = st == Status.AWARDED
    completed = awarded & rec.completes & (rec.upgrade_end <= horizon)
    arrivals = _cumulative(rec.arrival, st != Status.PADDING, n)
    admitted_arrivals = _cumulative(rec.arrival, admitted, n)
    awards = _Events(rec.decision, awarded, n)
    completions = _Events(rec.upgrade_end, completed, n)
    out = np.stack(
        [
            arrivals,
            awards.cumulative(),
            completions.cumulative(),
            awards.cumulative(rec.grant),
            awards.cumulative(rec.grant, upfront) + completions.cumulative(rec.grant, 1 - upfront),
            admitted_arrivals - _cumulative(rec.review_start, admitted, n),
            admitted_arrivals - _cumulative(rec.decision, admitted, n),
        ],
        axis=1,
    )
    return out
