"""Every output of one replication (MODEL.md "Outputs"), from :class:`SchemeRecords`.

All functions work on R replications at once and return arrays of length R
(or R x series x weeks for the weekly series), so the SimPy engine (R = 1 per
call) and the batch engine (R = a chunk) share one definition of each metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engines.parameters import ParameterDraws
from sim.engines.records import FlatRecords, SchemeRecords, Status, flat_records
from sim.engines.rules import pv_factor, ramp_share

__all__ = ["COUNTS", "METRICS", "SERIES", "SchemeMetrics", "scheme_metrics", "weeks"]

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
    weekly: np.ndarray | None  # (R, len(SERIES), weeks); None when not asked for


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _quantiles(
    x: np.ndarray, rows: np.ndarray, slots: np.ndarray, shape: tuple[int, int], qs: tuple[float, ...]
) -> list[np.ndarray]:
    """Per-row quantiles ``qs`` of values ``x`` at (``rows``, ``slots``), NaN left out (NaN: no values).

    The same numbers as ``np.nanquantile(row, q)`` (linear interpolation) on
    each row, computed for all rows at once from one row-wise sort of the
    values laid out in a padded (rows x slots) array.
    """
    outs = [np.full(shape[0], np.nan) for _ in qs]
    n = np.bincount(rows[~np.isnan(x)], minlength=shape[0])
    has = n > 0
    if not has.any():
        return outs
    grid = np.full(shape, np.nan)
    grid[rows, slots] = x
    ordered = np.sort(grid[has], axis=1)
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
    weekly: bool = True,
) -> SchemeMetrics:
    """All metrics of ``scheme`` from its records; ``segment`` restricts to one segment.

    Works on the applications only (:class:`~sim.engines.records.FlatRecords`),
    and within them on the few that matter for each metric (awarded, decided,
    completed), so padding costs nothing; records held in groups of
    replications are handled group by group, which keeps the arrays in cache.
    Every sum runs over a replication's applications in slot order, left to
    right, so each replication's numbers do not depend on the chunk it was
    computed in. The weekly series are computed only if ``weekly``.
    """
    par = {
        key: draws.scheme(scheme, key)
        for key in (
            "tranches.upfront_share",
            "impact.ramp_years",
            "impact.discount_rate",
            "impact.benefit_years",
            "admin_cost_per_application_hkd",
        )
    }
    groups = flat_records(rec)
    if len(groups) == 1 and groups[0][0] is None:
        return _metrics(groups[0][1], par, horizon, segment, weekly)
    parts = [
        (rows, _metrics(flat, {k: v[rows] for k, v in par.items()}, horizon, segment, weekly))
        for rows, flat in groups
    ]
    reps = rec.replications
    values = {key: np.empty(reps) for key in parts[0][1].values}
    series = np.empty((reps, *parts[0][1].weekly.shape[1:])) if weekly else None
    for rows, part in parts:
        for key, value in part.values.items():
            values[key][rows] = value
        if series is not None:
            series[rows] = part.weekly
    return SchemeMetrics(values=values, weekly=series)


def _metrics(
    flat: FlatRecords, par: dict[str, np.ndarray], h: float, segment: int | None, weekly: bool
) -> SchemeMetrics:
    """:func:`scheme_metrics` of one group of replications; ``par`` holds their scheme parameters."""
    reps = flat.replications
    c, rows, slots = flat.columns, flat.rep, flat.slot
    seg_cols = slice(None) if segment is None else slice(segment, segment + 1)
    if segment is not None:
        keep = np.flatnonzero(c["segment"] == segment)
        needed = [key for key in c if key != "segment" and (weekly or key != "review_start")]
        c = {key: c[key].take(keep) for key in needed}
        rows, slots = rows.take(keep), slots.take(keep)
    st = c["status"].astype(np.intp)

    def bins(where: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(where, weights=weights, minlength=reps)

    by_status = np.bincount(rows * 7 + st, minlength=reps * 7).reshape(reps, 7).astype(float)
    applications = by_status[:, 1:].sum(axis=1)  # integers: exact in any order
    admitted = applications - by_status[:, Status.TURNED_AWAY]

    # awarded applications, and among them those ended, completed or abandoned by the horizon
    aw = np.flatnonzero(st == Status.AWARDED)
    aw_rows, aw_grant = rows.take(aw), c["grant"].take(aw)
    ended = c["upgrade_end"].take(aw) <= h
    completes = c["completes"].take(aw)
    completed, abandoned = ended & completes, ended & ~completes
    upfront = par["tranches.upfront_share"]
    aw_up = upfront.take(aw_rows)
    paid_now = aw_grant * aw_up + np.where(completed, aw_grant * (1 - aw_up), 0.0)

    # decided applications and their waits
    dec = np.flatnonzero(st >= Status.WITHDRAWN)  # withdrawn, rejected, unfunded or awarded
    dec_rows = rows.take(dec)
    wait = c["decision"].take(dec) - c["arrival"].take(dec)
    wait_q = _quantiles(wait, dec_rows, slots.take(dec), (reps, flat.width), (0.5, 0.9))

    # impact of the additional upgrades, computed on those entries only
    add = aw[completed & ~c["deadweight"].take(aw)]
    add_rows = rows.take(add)
    end = c["upgrade_end"].take(add)
    ramp_years, discount = par["impact.ramp_years"], par["impact.discount_rate"]
    factor = pv_factor(ramp_years, par["impact.benefit_years"], discount)
    gva = c["value_added"].take(add) * c["gain"].take(add)
    gva_at_h = bins(add_rows, gva * ramp_share(h - end, ramp_years.take(add_rows)))
    to_opening = (1.0 + discount.take(add_rows)) ** (-end / 52.0)
    pv = bins(add_rows, gva * factor.take(add_rows) * to_opening)

    done = aw[completed]
    done_rows = rows.take(done)
    ab_rows = aw_rows[abandoned]
    exhausted = flat.exhaustion <= h
    v: dict[str, np.ndarray] = {
        "eligible": flat.eligible[:, seg_cols].sum(axis=1).astype(float),
        "would_be": flat.would_be[:, seg_cols].sum(axis=1).astype(float),
        "applications": applications,
        "turned_away": by_status[:, Status.TURNED_AWAY],
        "in_review": by_status[:, Status.IN_REVIEW],
        "withdrawn": by_status[:, Status.WITHDRAWN],
        "rejected": by_status[:, Status.REJECTED],
        "approved": by_status[:, Status.UNFUNDED] + by_status[:, Status.AWARDED],
        "unfunded": by_status[:, Status.UNFUNDED],
        "awarded": by_status[:, Status.AWARDED],
        "completed": bins(done_rows).astype(float),
        "abandoned": bins(ab_rows).astype(float),
        "ongoing": bins(aw_rows[~ended]).astype(float),
        "exhausted": exhausted.astype(float),
        "exhaustion_week": np.where(exhausted, flat.exhaustion, np.nan),
        "wait_mean_weeks": _ratio(bins(dec_rows, wait), bins(dec_rows).astype(float)),
        "wait_median_weeks": wait_q[0],
        "wait_p90_weeks": wait_q[1],
        "committed_hkd": bins(aw_rows, aw_grant),
        "paid_hkd": bins(aw_rows, paid_now),
        "released_hkd": bins(ab_rows, aw_grant[abandoned] * (1 - aw_up[abandoned])),
        "private_hkd": bins(done_rows, c["cost"].take(done) - c["grant"].take(done)),
        "admin_cost_hkd": admitted * par["admin_cost_per_application_hkd"],
        "additional_upgrades": bins(add_rows).astype(float),
        "additional_gva_hkd": gva_at_h,
        "pv_benefit_hkd": pv,
    }
    v["public_cost_hkd"] = v["paid_hkd"] + v["admin_cost_hkd"]
    v["cost_per_additional_hkd"] = _ratio(v["public_cost_hkd"], v["additional_upgrades"])
    v["benefit_cost_ratio"] = _ratio(v["pv_benefit_hkd"], v["public_cost_hkd"])
    v["leverage"] = _ratio(v["private_hkd"], v["paid_hkd"])
    series = _weekly(c, rows, st, reps, upfront, h, aw, aw_up, completed) if weekly else None
    return SchemeMetrics(values=v, weekly=series)


def _weekly(
    c: dict[str, np.ndarray],
    rows: np.ndarray,
    st: np.ndarray,
    reps: int,
    upfront: np.ndarray,
    horizon: float,
    aw: np.ndarray,
    aw_up: np.ndarray,
    completed: np.ndarray,
) -> np.ndarray:
    """The weekly series of :data:`SERIES`, shape (R, len(SERIES), weeks), from flat applications.

    ``aw`` are the awarded applications, ``aw_up`` their upfront shares and
    ``completed`` which of them completed by the horizon.
    """
    n = len(weeks(horizon))
    last = n - 1
    size = reps * n

    def week(times: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # bin (row, week) of the events of rows ``where`` at ``times``; NaN or past the grid: left out
        keep = times <= last
        return where[keep] * n + np.ceil(times[keep]).astype(np.intp), keep

    def count(index: np.ndarray) -> np.ndarray:
        return np.bincount(index, minlength=size)

    binned = np.empty((9, size))
    arrivals, _ = week(c["arrival"], rows)
    binned[0] = count(arrivals)
    awards, keep = week(c["decision"].take(aw), rows.take(aw))
    aw_grant = c["grant"].take(aw)[keep]
    binned[1] = count(awards)
    binned[3] = np.bincount(awards, weights=aw_grant, minlength=size)
    binned[4] = np.bincount(awards, weights=aw_grant * aw_up[keep], minlength=size)
    done = aw[completed]
    done_rows = rows.take(done)
    completions, keep = week(c["upgrade_end"].take(done), done_rows)
    binned[2] = count(completions)
    final = c["grant"].take(done) * (1 - upfront.take(done_rows))
    binned[5] = np.bincount(completions, weights=final[keep], minlength=size)
    away = np.flatnonzero(st == Status.TURNED_AWAY)
    if len(away):  # admitted: all but those turned away (counts, so the difference is exact)
        binned[6] = binned[0] - count(week(c["arrival"].take(away), rows.take(away))[0])
        adm = np.flatnonzero(st != Status.TURNED_AWAY)
        adm_rows = rows.take(adm)
        review_start, decision = c["review_start"].take(adm), c["decision"].take(adm)
    else:
        binned[6] = binned[0]
        adm_rows, review_start, decision = rows, c["review_start"], c["decision"]
    binned[7] = count(week(review_start, adm_rows)[0])
    binned[8] = count(week(decision, adm_rows)[0])
    cum = np.cumsum(binned.reshape(9, reps, n), axis=2)  # each series summed week by week, as the rows were
    out = np.empty((reps, len(SERIES), n))
    out[:, :4] = cum[:4].transpose(1, 0, 2)
    out[:, 4] = cum[4] + cum[5]  # paid: upfront tranches plus final tranches
    out[:, 5] = cum[6] - cum[7]  # queue: admitted arrivals not yet taken by a reviewer
    out[:, 6] = cum[6] - cum[8]  # in vetting: admitted arrivals not yet decided
    return out
