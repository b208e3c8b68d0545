"""The outputs of an intermediary scheme (MODEL.md 6b), from its records and its programmes.

For an intermediary scheme the direct outcomes that make no sense for operators (additional
upgrades, value added, benefit-cost) are empty (NaN); money paid follows the programme's tranches
(R-PROGRAMME-PAY) instead of the upgrade's; and the start-up outcomes of
:data:`INTERMEDIARY_METRICS` are added. A direct scheme's row has them empty.
"""

from __future__ import annotations

import numpy as np

from sim.engines.metrics import FOLLOW_UP_SUFFIX, SERIES, SchemeMetrics
from sim.engines.parameters import ParameterDraws
from sim.engines.programme import Operators, ProgrammeTerms, run_programmes
from sim.engines.programme_sums import NO_SERIES, programme_sums
from sim.engines.records import SchemeRecords, Status, flat_records
from sim.spec.scenario import Scenario

__all__ = [
    "REPLACED",
    "has_intermediary",
    "INTERMEDIARY_METRICS",
    "DIRECT_ONLY",
    "programme_terms",
    "operators",
    "intermediary_metrics",
]

#: Outcomes of an intermediary scheme's programmes that accrue: each also ``<name>_follow_up``.
_ACCRUING = (
    "startup_places",
    "startups_accelerated",
    "startups_relocated",
    "startups_surviving",
    "startups_follow_on",
    "cost_per_startup_hkd",
    "cost_per_surviving_startup_hkd",
)

#: The columns an intermediary scheme adds to the replication table (NaN on direct schemes' rows).
INTERMEDIARY_METRICS: tuple[str, ...] = (
    ("operators_funded",) + _ACCRUING + tuple(name + FOLLOW_UP_SUFFIX for name in _ACCRUING)
)

_DIRECT_BASE = (
    "additional_upgrades",
    "additional_gva_hkd",
    "pv_benefit_hkd",
    "cost_per_additional_hkd",
    "benefit_cost_ratio",
    "private_hkd",
    "leverage",
)
#: Direct outcomes left empty (NaN) on an intermediary scheme's row: no value-added gain is invented.
DIRECT_ONLY: tuple[str, ...] = _DIRECT_BASE + tuple(name + FOLLOW_UP_SUFFIX for name in _DIRECT_BASE)


_PAID = ("paid_hkd", "public_cost_hkd")
#: The metrics (and the weekly series ``paid_hkd``) an intermediary scheme's programme replaces.
REPLACED: tuple[str, ...] = _PAID + tuple(name + FOLLOW_UP_SUFFIX for name in _PAID) + DIRECT_ONLY


def has_intermediary(scenario: Scenario) -> bool:
    """Whether any scheme of ``scenario`` is an intermediary scheme (its table has the start-up columns)."""
    return any(s.kind == "intermediary" for s in scenario.schemes.values())


def programme_terms(scenario: Scenario, draws: ParameterDraws, scheme: str) -> ProgrammeTerms:
    """The programme terms of ``scheme`` for the replications of ``draws``."""
    spec = scenario.schemes[scheme].programme
    assert spec is not None, f"schemes.{scheme} is not an intermediary scheme"
    cohort = scenario.segments[spec.cohort_segment]
    path = f"schemes.{scheme}.programme."
    eligible = draws[f"segments.{spec.cohort_segment}.eligible_share"]
    return ProgrammeTerms(
        interval=spec.cohort_interval_weeks,
        tranches=spec.tranches,
        end=scenario.end_weeks,
        cohort_mean=draws[path + "cohort_size_mean"],
        relocated=draws[path + "relocated_share"],
        survival=draws[path + "survival_probability"],
        follow_on=draws[path + "follow_on_probability"],
        upfront=draws.scheme(scheme, "tranches.upfront_share"),
        pool=np.floor(cohort.count * eligible),
    )


def operators(rec: SchemeRecords) -> Operators:
    """The awarded operators of ``rec``, in replication and slot (award) order; a base opens when its
    set-up (the upgrade) completes."""
    parts = flat_records(rec)
    reps, award, opening, grant = [], [], [], []
    for rows, flat in parts:
        c = flat.columns
        got = np.flatnonzero(c["status"] == Status.AWARDED)
        positions = flat.rep[got] if rows is None else np.asarray(rows)[flat.rep[got]]
        reps.append(positions)
        award.append(c["decision"][got])
        opening.append(np.where(c["completes"][got], c["upgrade_end"][got], np.nan))
        grant.append(c["grant"][got])
    ordered = [np.concatenate(x) for x in (reps, award, opening, grant)]
    order = np.argsort(ordered[0], kind="stable")
    return Operators(*(x[order] for x in ordered))


#: The start-up counts of a window, and the field of :class:`Cohorts` each adds up.
_COUNTED = (
    ("startup_places", "places"),
    ("startups_accelerated", "admitted"),
    ("startups_relocated", "relocated"),
    ("startups_surviving", "surviving"),
    ("startups_follow_on", "follow_on"),
)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def intermediary_metrics(
    m: SchemeMetrics,
    rec: SchemeRecords,
    terms: ProgrammeTerms,
    where: tuple[int, np.ndarray, str],
    horizon: float,
) -> SchemeMetrics:
    """``m`` (a scheme's metrics from :func:`~sim.engines.metrics.scheme_metrics`) made an intermediary's.

    ``where`` is (seed, replication indices, scheme name). Money paid and public cost follow the
    programme's tranches, the direct-only outcomes are emptied, the start-up outcomes added, and
    the weekly paid series replaced (in ``m``'s own series, which are changed).
    """
    seed, reps, scheme = where
    ops = operators(rec)
    cohorts = run_programmes(ops, terms, seed, reps, scheme)
    v = dict(m.values)
    n = len(reps)
    counts, money = np.zeros((2, len(_COUNTED), n)), np.zeros((2, n))
    programme_sums(
        (ops.rep, ops.award, ops.grant),
        (
            cohorts.rep,
            cohorts.operator,
            cohorts.index,
            cohorts.week,
            tuple(getattr(cohorts, field) for _, field in _COUNTED),
        ),
        (terms.upfront, terms.tranches),
        np.array([horizon, terms.end], dtype=float),
        counts,
        money,
        NO_SERIES if m.weekly is None else m.weekly[:, SERIES.index("paid_hkd"), :],
    )
    v["operators_funded"] = v["awarded"]
    admin = v["admin_cost_hkd"]
    for w, suffix in enumerate(("", FOLLOW_UP_SUFFIX)):
        got = {name: counts[w, k] for k, (name, _) in enumerate(_COUNTED)} | {"paid_hkd": money[w]}
        for key, value in got.items():
            v[key + suffix] = value
        v["public_cost_hkd" + suffix] = got["paid_hkd"] + admin
        v["cost_per_startup_hkd" + suffix] = _ratio(
            v["public_cost_hkd" + suffix], got["startups_accelerated"]
        )
        v["cost_per_surviving_startup_hkd" + suffix] = _ratio(
            v["public_cost_hkd" + suffix], got["startups_surviving"]
        )
    for key in DIRECT_ONLY:
        v[key] = np.full(n, np.nan)
    return SchemeMetrics(values=v, weekly=m.weekly)
