"""Every metric and weekly series of MODEL.md, recomputed in plain numpy from the records.

This is the oracle beside the compiled metric sums (:mod:`sim.engines.kernels`,
called from :mod:`sim.engines.metrics`): it is written from the definitions
in MODEL.md ("Made precise, money and benefit", "Outputs of one
replication") and the docstrings of :mod:`sim.engines.records`, and shares no
code with the fast path. It reads the padded replications x slots arrays of
:class:`~sim.engines.records.SchemeRecords` and works with boolean masks,
so each definition reads as one line of the model; only the wait quantiles
and the present-value annuity loop over replications, for clarity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engines.parameters import ParameterDraws
from sim.engines.records import SchemeRecords, Status
from sim.spec.scenario import NO_IMPACT

__all__ = [
    "REFERENCE_SERIES",
    "SchemeTerms",
    "Outcomes",
    "scheme_terms",
    "outcomes",
    "reference_metrics",
    "reference_series",
    "week_grid",
]


@dataclass(frozen=True)
class SchemeTerms:
    """The per-replication parameters of one scheme that the metrics read, each of shape (R,)."""

    upfront_share: np.ndarray  # share of the grant paid at award
    ramp_years: np.ndarray  # years over which the gain phases in
    benefit_years: np.ndarray  # whole years of benefit after completion
    discount_rate: np.ndarray  # annual discount rate
    admin_per_application: np.ndarray  # HK$ per application that entered vetting
    budget_hkd: np.ndarray  # the scheme's budget
    places: np.ndarray  # the scheme's places
    max_grant_hkd: np.ndarray  # the scheme's cap on a grant


def _impact(draws: ParameterDraws, scheme: str, field: str) -> np.ndarray:
    """An impact parameter's draws; an intermediary scheme has no impact section and carries the
    neutral terms (``NO_IMPACT``), which none of its outputs read."""
    value = draws.get(f"schemes.{scheme}.impact.{field}", float(getattr(NO_IMPACT, field)))
    assert value is not None
    return value


def scheme_terms(draws: ParameterDraws, scheme: str) -> SchemeTerms:
    """The drawn values of the scheme's tranche, impact and admin-cost parameters."""
    return SchemeTerms(
        upfront_share=draws.scheme(scheme, "tranches.upfront_share"),
        ramp_years=_impact(draws, scheme, "ramp_years"),
        benefit_years=_impact(draws, scheme, "benefit_years"),
        discount_rate=_impact(draws, scheme, "discount_rate"),
        admin_per_application=draws.scheme(scheme, "admin_cost_per_application_hkd"),
        budget_hkd=draws.scheme(scheme, "budget_hkd"),
        places=draws.scheme(scheme, "places"),
        max_grant_hkd=draws.scheme(scheme, "max_grant_hkd"),
    )


@dataclass(frozen=True)
class Outcomes:
    """Where each application (R x N mask) stands at the horizon, per MODEL.md 5-7."""

    applied: np.ndarray  # a real application of the scheme (or segment), padding excluded
    turned_away: np.ndarray
    in_review: np.ndarray
    withdrawn: np.ndarray
    rejected: np.ndarray
    unfunded: np.ndarray
    awarded: np.ndarray
    completed: np.ndarray  # awarded, completes, and its upgrade ends inside the horizon
    abandoned: np.ndarray  # awarded, abandoned inside the horizon
    ongoing: np.ndarray  # awarded, upgrade not ended inside the horizon
    decided: np.ndarray  # a decision (withdrawn, rejected, approved) inside the horizon
    additional: np.ndarray  # completed and not deadweight

    @property
    def admitted(self) -> np.ndarray:
        """Applications that entered vetting (all but the turned-away ones)."""
        return self.applied & ~self.turned_away


def outcomes(rec: SchemeRecords, horizon: float, segment: int | None = None) -> Outcomes:
    """The outcome masks of the scheme's applications (of segment ``segment`` only, if given)."""
    applied = (rec.status != Status.PADDING) & (rec.segment >= 0)
    if segment is not None:
        applied &= rec.segment == segment
    status = np.where(applied, rec.status, Status.PADDING)
    awarded = status == Status.AWARDED
    ended = awarded & (rec.upgrade_end <= horizon)  # NaN (not reached) compares False
    completes = rec.completes.astype(bool)
    completed = ended & completes
    decided_status = np.isin(status, [Status.WITHDRAWN, Status.REJECTED, Status.UNFUNDED, Status.AWARDED])
    return Outcomes(
        applied=applied,
        turned_away=status == Status.TURNED_AWAY,
        in_review=status == Status.IN_REVIEW,
        withdrawn=status == Status.WITHDRAWN,
        rejected=status == Status.REJECTED,
        unfunded=status == Status.UNFUNDED,
        awarded=awarded,
        completed=completed,
        abandoned=ended & ~completes,
        ongoing=awarded & ~ended,
        decided=decided_status & (rec.decision <= horizon),
        additional=completed & ~rec.deadweight.astype(bool),
    )


def _count(mask: np.ndarray) -> np.ndarray:
    """Per-replication number of applications in ``mask``, as floats like the metrics."""
    return mask.sum(axis=1).astype(float)


def _total(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-replication sum of ``values`` over the applications in ``mask`` (NaN elsewhere ignored)."""
    return np.where(mask, values, 0.0).sum(axis=1)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, empty (NaN) where the denominator is 0 (MODEL.md 7)."""
    safe = np.where(denominator != 0, denominator, 1.0)
    return np.where(denominator != 0, numerator / safe, np.nan)


def funnel(rec: SchemeRecords, out: Outcomes, segment: int | None) -> dict[str, np.ndarray]:
    """The funnel counts, from eligible firms to ongoing upgrades (MODEL.md "Outputs")."""
    columns = slice(None) if segment is None else slice(segment, segment + 1)
    counts = {
        "eligible": rec.eligible[:, columns].sum(axis=1).astype(float),
        "would_be": rec.would_be[:, columns].sum(axis=1).astype(float),
        "applications": _count(out.applied),
        "approved": _count(out.unfunded | out.awarded),
        # re-applications are rows of their own among the applications (R-REAPPLY); the engine
        # records how many per segment. Reopenings are the scheme's (R-CHANGE).
        "reapplications": rec.reapplied[:, columns].sum(axis=1).astype(float),
        "reopenings": np.asarray(rec.reopenings, dtype=float),
    }
    for name in (
        "turned_away",
        "in_review",
        "withdrawn",
        "rejected",
        "unfunded",
        "awarded",
        "completed",
        "abandoned",
        "ongoing",
    ):
        counts[name] = _count(getattr(out, name))
    return counts


def exhaustion(rec: SchemeRecords, horizon: float) -> dict[str, np.ndarray]:
    """Whether the scheme is exhausted inside the horizon, and when (MODEL.md 5, made precise)."""
    inside = rec.exhaustion <= horizon
    return {
        "exhausted": inside.astype(float),
        "exhaustion_week": np.where(inside, rec.exhaustion, np.nan),
    }


def limits(
    rec: SchemeRecords, out: Outcomes, terms: SchemeTerms, horizon: float, segment: int | None
) -> dict[str, np.ndarray]:
    """Which limit binds, unused budget, average grant, awards at the cap and under-subscription
    (MODEL.md "Which limit binds", "Who is funded").

    Worked out from the outcomes rather than read from ``rec.exhausted_by``:
    every award precedes the exhausting file in funding order, so at
    exhaustion the scheme had made all its awards; if they fill the places,
    no place was left (places bind), otherwise the grant did not fit the
    money left (money binds). Budget, unused money and under-subscription are
    the scheme's, empty on a segment's row; under-subscribed means fewer
    applications than places or less than half the budget committed.
    """
    exhausted = rec.exhaustion <= horizon
    places_full = _count(outcomes(rec, horizon).awarded) >= terms.places
    committed = _total(out.awarded, rec.grant)
    scheme_row = np.full(len(exhausted), segment is None)
    budget = np.where(scheme_row, terms.budget_hkd, np.nan)
    unused = budget - committed
    share = _ratio(unused, budget)
    below = np.where(scheme_row, (_count(out.applied) < terms.places).astype(float), np.nan)
    short = (below == 1) | (committed < 0.5 * budget)
    at_cap = out.awarded & (rec.grant >= terms.max_grant_hkd[:, None] - 1.0)  # within HK$1 of the cap
    return {
        "exhausted_by_money": (exhausted & ~places_full).astype(float),
        "exhausted_by_places": (exhausted & places_full).astype(float),
        "applications_below_places": below,
        "undersubscribed": np.where(scheme_row, short.astype(float), np.nan),
        "unused_budget_hkd": unused,
        "unused_budget_share": share,
        "average_grant_hkd": _ratio(committed, _count(out.awarded)),
        "awards_at_cap_share": _ratio(_count(at_cap), _count(out.awarded)),
    }


def waits(rec: SchemeRecords, out: Outcomes) -> dict[str, np.ndarray]:
    """Mean, median and 90th percentile of the wait from application to decision.

    Over files decided inside the horizon; quantiles are numpy's linear ones;
    empty (NaN) in a replication with no decision.
    """
    reps = rec.status.shape[0]
    mean, median, p90 = np.full(reps, np.nan), np.full(reps, np.nan), np.full(reps, np.nan)
    for r in range(reps):
        wait = (rec.decision[r] - rec.arrival[r])[out.decided[r]]
        if wait.size:
            mean[r] = wait.mean()
            median[r] = np.quantile(wait, 0.5)
            p90[r] = np.quantile(wait, 0.9)
    return {"wait_mean_weeks": mean, "wait_median_weeks": median, "wait_p90_weeks": p90}


def money(rec: SchemeRecords, out: Outcomes, terms: SchemeTerms) -> dict[str, np.ndarray]:
    """Committed, paid, released, private and public money (MODEL.md 7, money and benefit)."""
    upfront = terms.upfront_share
    committed = _total(out.awarded, rec.grant)
    paid = upfront * committed + (1.0 - upfront) * _total(out.completed, rec.grant)
    admin = terms.admin_per_application * _count(out.admitted)
    return {
        "committed_hkd": committed,
        "paid_hkd": paid,
        "released_hkd": (1.0 - upfront) * _total(out.abandoned, rec.grant),
        "private_hkd": _total(out.completed, rec.cost - rec.grant),
        "admin_cost_hkd": admin,
        "public_cost_hkd": paid + admin,
    }


def annuity(ramp_years: float, benefit_years: float, discount_rate: float) -> float:
    """Present value at completion of a gain of 1 a year: years 1..n ramped and discounted."""
    return sum(
        min(1.0, year / ramp_years) * (1.0 + discount_rate) ** -year
        for year in range(1, int(round(benefit_years)) + 1)
    )


def impact(rec: SchemeRecords, out: Outcomes, terms: SchemeTerms, horizon: float) -> dict[str, np.ndarray]:
    """Additional upgrades, value added at the horizon and present value of benefits (MODEL.md 7)."""
    yearly_gain = rec.value_added * rec.gain
    ramp_weeks = 52.0 * terms.ramp_years[:, None]
    ramp = np.clip((horizon - rec.upgrade_end) / ramp_weeks, 0.0, 1.0)
    unit_pv = np.array(
        [
            annuity(ramp, years, rate)
            for ramp, years, rate in zip(
                terms.ramp_years, terms.benefit_years, terms.discount_rate, strict=True
            )
        ]
    )
    to_opening = (1.0 + terms.discount_rate[:, None]) ** (-rec.upgrade_end / 52.0)
    return {
        "additional_upgrades": _count(out.additional),
        "additional_gva_hkd": _total(out.additional, yearly_gain * ramp),
        "pv_benefit_hkd": _total(out.additional, yearly_gain * unit_pv[:, None] * to_opening),
    }


def ratios(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Cost per additional upgrade, benefit-cost ratio and leverage, from the sums."""
    return {
        "cost_per_additional_hkd": _ratio(values["public_cost_hkd"], values["additional_upgrades"]),
        "benefit_cost_ratio": _ratio(values["pv_benefit_hkd"], values["public_cost_hkd"]),
        "leverage": _ratio(values["private_hkd"], values["paid_hkd"]),
    }


def reference_metrics(
    rec: SchemeRecords,
    draws: ParameterDraws,
    scheme: str,
    horizon: float,
    segment: int | None = None,
    end: float | None = None,
) -> dict[str, np.ndarray]:
    """Every scalar metric of ``scheme`` (or of its segment ``segment``), one value per replication.

    The accruing outcomes are also counted to ``end``, the end of the
    follow-up (None: the horizon), under the names ending ``_follow_up``.
    """
    terms = scheme_terms(draws, scheme)
    out = outcomes(rec, horizon, segment)
    values = {
        **funnel(rec, out, segment),
        **exhaustion(rec, horizon),
        **limits(rec, out, terms, horizon, segment),
        **waits(rec, out),
        **money(rec, out, terms),
        **impact(rec, out, terms, horizon),
    }
    values.update(ratios(values))
    end = horizon if end is None else end
    later_out = outcomes(rec, end, segment)
    later = {
        **funnel(rec, later_out, segment),
        **money(rec, later_out, terms),
        **impact(rec, later_out, terms, end),
    }
    later.update(ratios(later))
    for name in FOLLOW_UP:
        values[name + "_follow_up"] = later[name]
    return values


#: The outcomes that keep accruing after the horizon (MODEL.md, the follow-up), counted again to its end.
FOLLOW_UP: tuple[str, ...] = (
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


#: The weekly series this oracle computes, by name.
REFERENCE_SERIES: tuple[str, ...] = (
    "applications",
    "awards",
    "completions",
    "committed_hkd",
    "paid_hkd",
    "queue",
    "in_vetting",
    "approvals",
)


def week_grid(horizon: float) -> np.ndarray:
    """The reporting weeks 0, 1, ..., floor(horizon) (MODEL.md "Outputs": weeks 0..104)."""
    return np.arange(int(np.floor(horizon)) + 1, dtype=float)


def weekly_state(
    rec: SchemeRecords, out: Outcomes, upfront: np.ndarray, week: float
) -> dict[str, np.ndarray]:
    """Each series' value at ``week``, one per replication: what happened at or before ``week``."""
    entered = out.admitted & (rec.arrival <= week)
    awarded = out.awarded & (rec.decision <= week)
    completed = out.completed & (rec.upgrade_end <= week)
    committed = _total(awarded, rec.grant)
    return {
        "applications": _count(out.applied & (rec.arrival <= week)),
        "awards": _count(awarded),
        "completions": _count(completed),
        "committed_hkd": committed,
        "paid_hkd": upfront * committed + (1.0 - upfront) * _total(completed, rec.grant),
        "queue": _count(entered & ~(rec.review_start <= week)),
        "in_vetting": _count(entered & ~(rec.decision <= week)),
        "approvals": _count((out.awarded | out.unfunded) & (rec.decision <= week)),
    }


def reference_series(
    rec: SchemeRecords,
    draws: ParameterDraws,
    scheme: str,
    horizon: float,
    segment: int | None = None,
    end: float | None = None,
) -> dict[str, np.ndarray]:
    """Every weekly series of ``scheme`` (or of its segment ``segment``), each (R, weeks).

    The weeks run to ``end``, the end of the follow-up (None: the horizon);
    completions and payments count to there.

    A quantity at week w counts the events at or before w: cumulative
    applications (turned-away ones too), awards, completions inside the
    horizon, committed and paid money; the vetting queue holds files that
    entered vetting and still wait for a reviewer, and files in vetting are
    those that entered it and have no decision yet (queued, in review, or
    waiting for a committee meeting); approvals are the files approved (funded or unfunded) by
    their recorded decision.
    """
    upfront = scheme_terms(draws, scheme).upfront_share
    end = horizon if end is None else end
    out = outcomes(rec, end, segment)
    states = [weekly_state(rec, out, upfront, week) for week in week_grid(end)]
    return {name: np.stack([state[name] for state in states], axis=1) for name in REFERENCE_SERIES}
