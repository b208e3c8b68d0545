"""Every output of one replication (MODEL.md "Outputs"), from :class:`SchemeRecords`.

All functions work on R replications at once and return arrays of length R
(or R x series x weeks for the weekly series), so the SimPy engine (R = 1 per
call) and the batch engine (R = a chunk) share one definition of each metric.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numba import njit

from sim.engines import kernels
from sim.engines.funded import AT_CAP_HKD
from sim.engines.layout import RecordColumns, Series, SumTerms, names
from sim.engines.limits import UNDERSUBSCRIBED_BELOW, undersubscribed
from sim.engines.parameters import ParameterDraws, SchemeParameters, scheme_parameters
from sim.engines.records import ExhaustedBy, FlatRecords, SchemeRecords, flat_records
from sim.engines.rules import pv_factor

__all__ = [
    "ACCRUING",
    "COUNTS",
    "FOLLOW_UP_SUFFIX",
    "METRICS",
    "SERIES",
    "UNDERSUBSCRIBED_BELOW",
    "SchemeMetrics",
    "scheme_metrics",
    "undersubscribed",
    "weeks",
]

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
    "reapplications",
    "reopenings",
    "exhausted",
    "exhaustion_week",
    "exhausted_by_money",
    "exhausted_by_places",
    "applications_below_places",
    "undersubscribed",
    "wait_mean_weeks",
    "wait_median_weeks",
    "wait_p90_weeks",
    "committed_hkd",
    "unused_budget_hkd",
    "unused_budget_share",
    "average_grant_hkd",
    "awards_at_cap_share",
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

#: Outcomes that keep accruing after the horizon (payments, completions, impact): the columns of
#: :data:`METRICS` of these names count up to the horizon; each is also reported at the end of
#: the follow-up as ``<name>_follow_up`` (the same number when there is no follow-up).
ACCRUING: tuple[str, ...] = (
    "completed",
    "abandoned",
    "ongoing",
    "paid_hkd",
    "released_hkd",
    "private_hkd",
    "public_cost_hkd",
    "additional_upgrades",
    "additional_gva_hkd",
    "pv_benefit_hkd",
    "cost_per_additional_hkd",
    "benefit_cost_ratio",
    "leverage",
)

#: The suffix of an accruing outcome counted to the end of the follow-up.
FOLLOW_UP_SUFFIX = "_follow_up"

METRICS += tuple(name + FOLLOW_UP_SUFFIX for name in ACCRUING)

#: Weekly series (cumulative counts and money, and the vetting queue), in row order.
SERIES: tuple[str, ...] = names(Series)


def weeks(horizon_weeks: float) -> np.ndarray:
    """The weekly grid 0, 1, ..., floor(horizon) on which series are reported.

    Series run to the end of the follow-up: pass the scenario's ``end_weeks``.
    """
    return np.arange(int(np.floor(horizon_weeks)) + 1, dtype=float)


@dataclass
class SchemeMetrics:
    """Metrics of one scheme (or one of its segments) over R replications."""

    values: dict[str, np.ndarray]  # metric -> (R,)
    weekly: np.ndarray | None  # (R, len(SERIES), weeks); None when not asked for


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, else NaN (divided only there: no warnings to silence)."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    return np.divide(num, den, out=out, where=den > 0)


def scheme_metrics(
    rec: SchemeRecords,
    draws: ParameterDraws,
    scheme: str,
    horizon: float,
    segment: int | None = None,
    weekly: bool = True,
    end: float | None = None,
    top_up: tuple[float, float] = (0.0, 0.0),
) -> SchemeMetrics:
    """All metrics of ``scheme`` from its records; ``segment`` restricts to one segment.

    Applications, decisions and awards count up to ``horizon``; the accruing
    outcomes (:data:`ACCRUING`) both up to ``horizon`` and up to ``end``, the
    end of the follow-up (None: the horizon), over which the weekly series run.

    Works on the applications only (:class:`~sim.engines.records.FlatRecords`),
    so padding costs nothing; records held in groups of replications are
    handled group by group, which keeps the arrays in cache. Every sum runs
    over a replication's applications in slot order, left to right, so each
    replication's numbers do not depend on the chunk it was computed in. The
    weekly series are computed only if ``weekly``. ``top_up`` is the money and places the scheme's
    dated changes add by the horizon (R-CHANGE): the unused budget and under-subscription are
    measured against the budget and places at the horizon.
    """
    par = scheme_parameters(draws, scheme)
    if top_up != (0.0, 0.0):  # the budget and places at the horizon (R-CHANGE)
        par = replace(par, budget_hkd=par.budget_hkd + top_up[0], places=par.places + top_up[1])
    period = (horizon, horizon if end is None else end)
    groups = flat_records(rec)
    if len(groups) == 1 and groups[0][0] is None:
        return _metrics(groups[0][1], par, period, segment, weekly)
    reps = rec.replications
    series = np.empty((reps, len(SERIES), len(weeks(period[1])))) if weekly else None
    values: dict[str, np.ndarray] = {}
    for rows, flat in groups:
        assert rows is not None  # records held in groups name each group's replications
        # a group of consecutive replications writes its series in place
        span = slice(rows[0], rows[-1] + 1) if len(rows) and (np.diff(rows) == 1).all() else None
        out = series[span] if series is not None and span is not None else None
        part = _metrics(flat, par.take(rows), period, segment, weekly, out)
        for key, value in part.values.items():
            values.setdefault(key, np.empty(reps))[rows] = value
        if series is not None and out is None:
            series[rows] = part.weekly
    return SchemeMetrics(values=values, weekly=series)


def _metrics(
    flat: FlatRecords,
    par: SchemeParameters,
    period: tuple[float, float],
    segment: int | None,
    weekly: bool,
    series: np.ndarray | None = None,
) -> SchemeMetrics:
    """:func:`scheme_metrics` of one group of replications; ``par`` holds their scheme parameters.

    ``period`` is the horizon and the end of the follow-up. The weekly series
    (to the end of the follow-up) are written into ``series`` if given (else a
    new array).
    """
    h, end = period
    reps = flat.replications
    if series is None:
        series = np.empty((reps if weekly else 0, len(SERIES), len(weeks(end))))
    got, later = _sums(flat, par, period, segment, series)
    v = _funnel(flat, got, segment, h)
    admitted = v["applications"] - got["turned_away"]
    v["wait_mean_weeks"] = _ratio(got["wait_sum"], got["decided"])
    for key in ("wait_median_weeks", "wait_p90_weeks", "committed_hkd"):
        v[key] = got[key]
    v.update(_limits(v, par, np.where(v["exhausted"] > 0, flat.exhausted_by, ExhaustedBy.NONE), segment))
    v["awards_at_cap_share"] = _ratio(got["awards_at_cap"], v["awarded"])
    v["admin_cost_hkd"] = admitted * par.admin_cost_per_application_hkd
    v.update(_outcomes(got, v["admin_cost_hkd"]))
    v.update({key + FOLLOW_UP_SUFFIX: value for key, value in _outcomes(later, v["admin_cost_hkd"]).items()})
    return SchemeMetrics(values={key: v[key] for key in METRICS}, weekly=series if weekly else None)


def _outcomes(got: dict[str, np.ndarray], admin_cost: np.ndarray) -> dict[str, np.ndarray]:
    """The accruing outcomes (:data:`ACCRUING`) from the sums of one window."""
    o = {key: got[key] for key in ACCRUING if key in got}
    o["public_cost_hkd"] = o["paid_hkd"] + admin_cost
    o["cost_per_additional_hkd"] = _ratio(o["public_cost_hkd"], o["additional_upgrades"])
    o["benefit_cost_ratio"] = _ratio(o["pv_benefit_hkd"], o["public_cost_hkd"])
    o["leverage"] = _ratio(o["private_hkd"], o["paid_hkd"])
    return o


def _limits(
    v: dict[str, np.ndarray], par: SchemeParameters, exhausted_by: np.ndarray, segment: int | None
) -> dict[str, np.ndarray]:
    """Which limit binds, the budget left unused, the average grant and under-subscription.

    ``v`` holds the funnel and the committed money; ``exhausted_by`` the
    :class:`~sim.engines.records.ExhaustedBy` code of each replication
    (NONE where the scheme is not exhausted inside the horizon). The limit is the
    scheme's, on its segments' rows too; the budget, its unused part and
    under-subscription are the scheme's only, so empty (NaN) on a segment's row.
    """
    whole = segment is None
    budget = par.budget_hkd if whole else np.full(len(exhausted_by), np.nan)
    unused = budget - v["committed_hkd"]
    below = np.where(whole, (v["applications"] < par.places).astype(float), np.nan)
    unused_share = _ratio(unused, budget)
    return {
        "exhausted_by_money": (exhausted_by == ExhaustedBy.MONEY).astype(float),
        "exhausted_by_places": (exhausted_by == ExhaustedBy.PLACES).astype(float),
        "applications_below_places": below,
        "undersubscribed": undersubscribed(below, unused_share),
        "unused_budget_hkd": unused,
        "unused_budget_share": unused_share,
        "average_grant_hkd": _ratio(v["committed_hkd"], v["awarded"]),
    }


def _sums(
    flat: FlatRecords,
    par: SchemeParameters,
    period: tuple[float, float],
    segment: int | None,
    series: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The compiled per-replication sums (:func:`sim.engines.kernels.scheme_sums`), by slot name,
    up to the horizon and up to the end of the follow-up (``period``), from one pass.

    Elementwise powers (the discount back to the opening, the present value
    of a unit gain) stay here in numpy; the sums run in one compiled pass.
    The discount to the opening is computed for every application (a few more
    powers than the ended upgrades it is read for, but no selection and
    scatter); where the upgrade has not ended (where it is never read) its
    exponent is 0 rather than NaN, as numpy's vectorised power is several times
    slower on a block of numbers that holds a NaN.
    """
    reps = flat.replications
    c, rows = flat.columns, flat.rep
    first = np.searchsorted(rows, np.arange(reps + 1))  # each replication's applications follow the last's
    count = np.diff(first)
    discount = par.discount_rate
    # discount factor back to the opening (each replication's rate beside its applications)
    exponent = np.empty(len(rows))
    _opening_exponents(c["upgrade_end"], exponent)
    opening = np.power((1.0 + discount).repeat(count), exponent, out=exponent)
    factor = _pv_factor(par.ramp_years, par.benefit_years, discount)
    terms = SumTerms(
        opening=opening,
        upfront=par.upfront_share.astype(float),
        ramp_years=par.ramp_years.astype(float),
        pv_factor=np.broadcast_to(factor, (reps,)).astype(float),
        at_cap=np.asarray(par.max_grant_hkd - AT_CAP_HKD, dtype=float),
        segment=-1 if segment is None else segment,
        horizon=float(period[0]),
        end=float(period[1]),
    )
    columns = RecordColumns(**{name: c[name] for name in RecordColumns._fields})
    sums = np.empty((reps, 2, len(kernels.SUMS)))
    kernels.scheme_sums(first[:-1], count, columns, terms, sums, series)
    to_horizon, to_end = (dict(zip(kernels.SUMS, sums[:, w].T, strict=True)) for w in range(2))
    return to_horizon, to_end


def _pv_factor(ramp_years: np.ndarray, benefit_years: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """:func:`~sim.engines.rules.pv_factor` per replication, worked out once when every
    replication has the same terms (the same number: each element's value depends on its own
    terms only), as when they are not uncertain."""
    terms = [np.asarray(x, dtype=float) for x in (ramp_years, benefit_years, rate)]
    same_shape = len({x.shape for x in terms}) == 1
    if same_shape and all(x.ndim == 1 and len(x) > 0 and (x == x[0]).all() for x in terms):
        return np.broadcast_to(pv_factor(*(x[:1] for x in terms)), terms[0].shape)
    return pv_factor(ramp_years, benefit_years, rate)


@njit(cache=True, nogil=True, error_model="numpy")
def _opening_exponents(end, out):  # pragma: no cover - compiled
    """``out = -end / 52`` (the same bits: the sign of a quotient is exact), and 0 where ``end`` is
    NaN (an upgrade that has not ended), in one pass without the masks numpy would need."""
    for i in range(len(end)):
        t = end[i]
        out[i] = t / -52.0 if t == t else 0.0


def _funnel(
    flat: FlatRecords, got: dict[str, np.ndarray], segment: int | None, h: float
) -> dict[str, np.ndarray]:
    """The funnel counts and the exhaustion metrics of one group of replications."""
    seg_cols = slice(None) if segment is None else slice(segment, segment + 1)
    statuses = ("turned_away", "in_review", "withdrawn", "rejected", "unfunded", "awarded")
    by_status = [got[key] for key in statuses]
    exhausted = flat.exhaustion <= h
    v: dict[str, np.ndarray] = {
        "eligible": flat.eligible[:, seg_cols].sum(axis=1).astype(float),
        "would_be": flat.would_be[:, seg_cols].sum(axis=1).astype(float),
        "applications": sum(by_status[1:], by_status[0]),  # integers: exact in any order
        **{key: got[key] for key in statuses},
        "approved": got["unfunded"] + got["awarded"],
        **{key: got[key] for key in ("completed", "abandoned", "ongoing")},
        "exhausted": exhausted.astype(float),
        "exhaustion_week": np.where(exhausted, flat.exhaustion, np.nan),
        # re-applications are among the applications (R-REAPPLY); reopenings are the scheme's (R-CHANGE)
        "reapplications": flat.reapplied[:, seg_cols].sum(axis=1).astype(float),
        "reopenings": flat.reopenings.astype(float),
    }
    return v
