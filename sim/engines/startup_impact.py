"""The value of an intermediary scheme's start-up outcomes (MODEL.md 6b, rule R-PROGRAMME-IMPACT).

No value-added gain is invented for start-ups: an intermediary scheme's benefit, its present value
and its benefit-cost ratio exist only where the scenario gives the scheme's programme an ``impact``
section (:class:`~sim.spec.scenario.StartupImpact`) saying what a surviving start-up, a relocated
one and one with follow-on funding are worth. Without it they stay empty (NaN), never 0.

The benefit is computed from the start-up counts the programme pass has already put in a scheme's
metrics (:func:`sim.engines.programme_metrics.intermediary_metrics`), which both engines share, so
the two engines agree on it whenever they agree on the counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engines.metrics import FOLLOW_UP_SUFFIX, SchemeMetrics
from sim.engines.parameters import ParameterDraws
from sim.spec.scenario import Scenario

__all__ = [
    "VALUED",
    "STARTUP_BENEFIT",
    "StartupImpactTerms",
    "has_startup_impact",
    "startup_impact_terms",
    "startup_benefit",
    "startup_impact",
]

#: The start-up outcomes valued, as (metric counting them, field of the impact section giving the
#: HK$ value of one start-up with that outcome).
VALUED: tuple[tuple[str, str], ...] = (
    ("startups_surviving", "surviving_value_hkd"),
    ("startups_relocated", "relocated_value_hkd"),
    ("startups_follow_on", "follow_on_value_hkd"),
)

#: Columns the replication table adds when a scheme values its start-ups: the undiscounted benefit
#: by the scheme's end and by the end of the follow-up (its present value and the benefit-cost
#: ratio go in ``pv_benefit_hkd`` and ``benefit_cost_ratio``, as for a direct scheme).
STARTUP_BENEFIT: tuple[str, ...] = ("startup_benefit_hkd", "startup_benefit_hkd" + FOLLOW_UP_SUFFIX)

#: Weeks in a year, for discounting (as the direct schemes' present value).
_WEEKS_PER_YEAR = 52.0


@dataclass(frozen=True)
class StartupImpactTerms:
    """A scheme's start-up values for R replications (one value per replication)."""

    values: dict[str, np.ndarray]  # start-up metric -> (R,) HK$ per start-up with that outcome
    deadweight: np.ndarray  # (R,) share of the outcomes that would have happened anyway
    discount_rate: np.ndarray  # (R,) annual
    end: float  # the end of the follow-up (weeks): when the outcomes are valued


def has_startup_impact(scenario: Scenario) -> bool:
    """Whether any intermediary scheme of ``scenario`` values its start-ups (an impact section)."""
    return any(s.programme is not None and s.programme.impact is not None for s in scenario.schemes.values())


def startup_impact_terms(scenario: Scenario, draws: ParameterDraws, scheme: str) -> StartupImpactTerms | None:
    """The start-up values of ``scheme`` for the replications of ``draws``; None without an impact
    section (or for a direct scheme)."""
    programme = scenario.schemes[scheme].programme
    if programme is None or programme.impact is None:
        return None
    path = f"schemes.{scheme}.programme.impact."
    return StartupImpactTerms(
        values={metric: draws[path + field] for metric, field in VALUED},
        deadweight=draws[path + "deadweight"],
        discount_rate=draws[path + "discount_rate"],
        end=scenario.end_weeks,
    )


def startup_benefit(
    counts: dict[str, np.ndarray], terms: StartupImpactTerms
) -> tuple[np.ndarray, np.ndarray]:
    """(benefit, present value) in HK$ per replication (R-PROGRAMME-IMPACT).

    ``counts`` maps each metric of :data:`VALUED` to its start-ups per replication. The benefit is
    (1 - deadweight) x the sum over outcomes of start-ups x value; it is counted at the end of the
    follow-up and discounted to the scheme's opening by (1 + rate) ** -(end / 52).
    """
    gross = sum(np.asarray(counts[metric], dtype=float) * value for metric, value in terms.values.items())
    benefit = (1.0 - terms.deadweight) * np.asarray(gross, dtype=float)
    return benefit, benefit * (1.0 + terms.discount_rate) ** -(terms.end / _WEEKS_PER_YEAR)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def startup_impact(m: SchemeMetrics, terms: StartupImpactTerms | None) -> SchemeMetrics:
    """An intermediary scheme's metrics ``m`` with its start-ups valued, by the scheme's end (start-ups
    accelerated by then) and by the end of the follow-up: ``startup_benefit_hkd``, ``pv_benefit_hkd``
    and ``benefit_cost_ratio`` (PV / public cost by then; empty where the cost is 0). Without
    ``terms`` (no impact section) ``m`` is returned unchanged, its benefit-cost ratio empty."""
    if terms is None:
        return m
    v = dict(m.values)
    for suffix in ("", FOLLOW_UP_SUFFIX):
        counts = {metric: v[metric + suffix] for metric, _ in VALUED}
        benefit, pv = startup_benefit(counts, terms)
        v["startup_benefit_hkd" + suffix] = benefit
        v["pv_benefit_hkd" + suffix] = pv
        v["benefit_cost_ratio" + suffix] = _ratio(pv, v["public_cost_hkd" + suffix])
    return SchemeMetrics(values=v, weekly=m.weekly)
