"""A hand-worked replication: the oracle and the compiled metrics both give MODEL.md's numbers.

The comparison in :mod:`tests.oracle.test_metric_oracle` shows that the
oracle and the compiled sums agree; this pins both to numbers worked out by
hand from MODEL.md, on a replication of nine applications of a scheme
serving two segments that takes every outcome once (turned away, withdrawn,
rejected, unfunded, in review; completed, abandoned, ongoing; deadweight),
with an upgrade completing exactly at the horizon (inside it, by MODEL.md)
and a second replication with no application at all (every wait and ratio
empty) whose exhaustion falls after the horizon (not exhausted).

Horizon 10 weeks; budget HK$1,000 and 4 places; upfront share 0.25; HK$10 admin cost per application;
ramp 1 year, 2 benefit years, discount rate 0.1.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sim.engines.metrics import SERIES, scheme_metrics
from sim.engines.parameters import ParameterDraws
from sim.engines.records import ExhaustedBy, SchemeRecords, Status
from tests.oracle.draws import scheme_draws
from tests.oracle.reference import reference_metrics, reference_series

HORIZON = 10.0
SCHEME = "demo"
S = Status
NAN = np.nan

#: Replication 0, one row per application (slot 9 and all of replication 1 are padding):
#: segment, status, arrival, review start, decision, cost, grant, value added,
#: upgrade end, completes, gain, deadweight
APPLICATIONS = [
    (0, S.TURNED_AWAY, 1.0, NAN, NAN, 300.0, 100.0, 1000.0, NAN, False, NAN, False),
    (0, S.WITHDRAWN, 0.5, 0.5, 2.5, 300.0, 100.0, 1000.0, NAN, False, NAN, False),
    (0, S.AWARDED, 1.0, 1.0, 3.0, 300.0, 100.0, 1000.0, 6.0, True, 0.1, False),  # additional
    (1, S.AWARDED, 2.0, 2.0, 6.0, 600.0, 200.0, 5000.0, 8.0, False, NAN, False),  # abandoned
    (1, S.AWARDED, 2.5, 3.0, 7.0, 150.0, 50.0, 2000.0, 10.0, True, 0.2, True),  # at the horizon
    (0, S.AWARDED, 3.0, 4.0, 8.6, 240.0, 80.0, 1000.0, 12.0, True, 0.1, False),  # ongoing
    (0, S.UNFUNDED, 3.5, 5.0, 9.5, 270.0, 90.0, 1000.0, NAN, False, NAN, False),
    (0, S.REJECTED, 4.0, 6.0, 9.8, 300.0, 100.0, 1000.0, NAN, False, NAN, False),
    (1, S.IN_REVIEW, 5.0, NAN, NAN, 300.0, 100.0, 1000.0, NAN, False, NAN, False),
]
FIELDS = (
    "segment",
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
FILL = {"segment": -1, "status": Status.PADDING, "completes": False, "deadweight": False}
DTYPE = {"segment": int, "status": int, "completes": bool, "deadweight": bool}


def worked_records() -> SchemeRecords:
    """The two replications above as padded records (2 x 10 slots)."""
    columns: dict[str, np.ndarray] = {}
    for k, name in enumerate(FIELDS):
        column: np.ndarray = np.full((2, 10), FILL.get(name, NAN), dtype=DTYPE.get(name, float))
        column[0, : len(APPLICATIONS)] = [row[k] for row in APPLICATIONS]
        columns[name] = column
    unused = np.full((2, 10), NAN)
    return SchemeRecords(
        **columns,
        band=np.where(columns["segment"] >= 0, 0, -1),
        readiness=unused,
        upgrade_start=unused,
        eligible=np.array([[20, 10], [3, 0]]),
        would_be=np.array([[9, 4], [0, 0]]),
        exhaustion=np.array([9.5, 12.0]),
        # replication 0: its 4 awards fill the 4 places; replication 1's exhaustion is past the
        # horizon, so its recorded limit must not count
        exhausted_by=np.array([ExhaustedBy.PLACES, ExhaustedBy.MONEY], dtype=np.int8),
        reapplied=np.zeros((2, 2), dtype=np.int64),
        reopenings=np.zeros(2, dtype=np.int64),
    )


def worked_draws() -> ParameterDraws:
    """The scheme's parameters, the same in both replications."""
    values = {
        "tranches.upfront_share": 0.25,
        "impact.ramp_years": 1.0,
        "impact.benefit_years": 2.0,
        "impact.discount_rate": 0.1,
        "admin_cost_per_application_hkd": 10.0,
        "budget_hkd": 1000.0,
        "places": 4.0,
    }
    return scheme_draws(SCHEME, {k: np.full(2, v) for k, v in values.items()})


#: PV at completion of a gain of 1 a year: years 1 and 2, fully ramped after one year.
ANNUITY = 1 / 1.1 + 1 / 1.1**2
#: The one additional upgrade (slot 2): value added 1000 x gain 0.1, completed at week 6.
GAIN = 1000.0 * 0.1
EMPTY = {
    "applications": 0.0,
    "exhausted": 0.0,
    "exhaustion_week": NAN,
    "wait_mean_weeks": NAN,
    "wait_median_weeks": NAN,
    "wait_p90_weeks": NAN,
    "paid_hkd": 0.0,
    "public_cost_hkd": 0.0,
    "pv_benefit_hkd": 0.0,
    "cost_per_additional_hkd": NAN,
    "benefit_cost_ratio": NAN,
    "leverage": NAN,
}

#: Replication 0 by row (the scheme, and each segment), then replication 1 (no application).
EXPECTED: dict[int | None, dict[str, tuple[float, float]]] = {
    None: {
        "eligible": (30, 3),
        "would_be": (13, 0),
        "applications": (9, 0),
        "turned_away": (1, 0),
        "in_review": (1, 0),
        "withdrawn": (1, 0),
        "rejected": (1, 0),
        "approved": (5, 0),
        "unfunded": (1, 0),
        "awarded": (4, 0),
        "completed": (2, 0),  # slot 4 completes at week 10, the horizon: inside it
        "abandoned": (1, 0),
        "ongoing": (1, 0),
        "exhausted": (1, 0),
        "exhaustion_week": (9.5, NAN),  # replication 1's week 12 is after the horizon
        "exhausted_by_places": (1, 0),  # 4 awards, 4 places: no place left for the unfunded file
        "exhausted_by_money": (0, 0),
        "applications_below_places": (0, 1),  # 9 >= 4; 0 < 4
        "undersubscribed": (1, 1),  # 430 of 1000 committed, less than half; no application
        "unused_budget_hkd": (570, 1000),
        "unused_budget_share": (0.57, 1),
        "average_grant_hkd": (430 / 4, NAN),
        # waits of the 7 files decided: 2, 2, 4, 4.5, 5.6, 6, 5.8
        "wait_mean_weeks": (29.9 / 7, NAN),
        "wait_median_weeks": (4.5, NAN),
        "wait_p90_weeks": (5.8 + 0.4 * (6.0 - 5.8), NAN),  # position 0.9 x 6 = 5.4 of the sorted waits
        "committed_hkd": (430, 0),
        "paid_hkd": (0.25 * 430 + 0.75 * (100 + 50), 0),
        "released_hkd": (0.75 * 200, 0),
        "private_hkd": ((300 - 100) + (150 - 50), 0),
        "admin_cost_hkd": (10 * 8, 0),
        "public_cost_hkd": (220 + 80, 0),
        "additional_upgrades": (1, 0),
        "additional_gva_hkd": (GAIN * 4 / 52, 0),  # 4 weeks into a 52-week ramp at the horizon
        "pv_benefit_hkd": (GAIN * ANNUITY * 1.1 ** (-6 / 52), 0),
        "cost_per_additional_hkd": (300, NAN),
        "benefit_cost_ratio": (GAIN * ANNUITY * 1.1 ** (-6 / 52) / 300, NAN),
        "leverage": (300 / 220, NAN),
    },
    0: {
        "eligible": (20, 3),
        "would_be": (9, 0),
        "applications": (6, 0),
        "turned_away": (1, 0),
        "in_review": (0, 0),
        "approved": (3, 0),
        "awarded": (2, 0),
        "completed": (1, 0),
        "abandoned": (0, 0),
        "ongoing": (1, 0),
        "exhausted": (1, 0),
        "exhausted_by_places": (1, 0),  # the scheme's limit, on its segments' rows too
        "unused_budget_hkd": (NAN, NAN),  # the budget is the scheme's, not a segment's
        "undersubscribed": (NAN, NAN),
        "average_grant_hkd": (90, NAN),
        # waits 2, 2, 5.6, 6, 5.8
        "wait_median_weeks": (5.6, NAN),
        "paid_hkd": (0.25 * 180 + 0.75 * 100, 0),
        "released_hkd": (0, 0),
        "private_hkd": (200, 0),
        "admin_cost_hkd": (10 * 5, 0),
        "additional_upgrades": (1, 0),
        "cost_per_additional_hkd": (120 + 50, NAN),
    },
    1: {
        "eligible": (10, 0),
        "applications": (3, 0),
        "in_review": (1, 0),
        "awarded": (2, 0),
        "completed": (1, 0),  # deadweight: not additional
        "abandoned": (1, 0),
        "wait_mean_weeks": ((4.0 + 4.5) / 2, NAN),
        "committed_hkd": (250, 0),
        "average_grant_hkd": (125, NAN),
        "paid_hkd": (0.25 * 250 + 0.75 * 50, 0),
        "released_hkd": (150, 0),
        "private_hkd": (100, 0),
        "additional_upgrades": (0, 0),
        "pv_benefit_hkd": (0, 0),
        "cost_per_additional_hkd": (NAN, NAN),
        "benefit_cost_ratio": (0, NAN),
        "leverage": (100 / 100, NAN),
    },
}

#: Replication 0's weekly series at weeks 0..10 (replication 1's are all zero).
EXPECTED_SERIES: dict[str, list[float]] = {
    "applications": [0, 3, 4, 6, 8, 9, 9, 9, 9, 9, 9],  # turned-away files included
    "awards": [0, 0, 0, 1, 1, 1, 2, 3, 3, 4, 4],
    "completions": [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2],
    "committed_hkd": [0, 0, 0, 100, 100, 100, 300, 350, 350, 430, 430],
    "paid_hkd": [0, 0, 0, 25, 25, 25, 150, 162.5, 162.5, 182.5, 220],
    "queue": [0, 0, 0, 1, 2, 2, 1, 1, 1, 1, 1],
    "in_vetting": [0, 2, 3, 3, 5, 6, 5, 4, 4, 3, 1],
    # the four awards, and the file approved at 9.5 with no place left (unfunded) in week 10
    "approvals": [0, 0, 0, 1, 1, 1, 2, 3, 3, 4, 5],
}


def _compiled_metrics(segment: int | None) -> dict[str, np.ndarray]:
    """The package's metrics of the worked records (one row)."""
    return scheme_metrics(worked_records(), worked_draws(), SCHEME, HORIZON, segment=segment).values


def _oracle_metrics(segment: int | None) -> dict[str, np.ndarray]:
    """The oracle's metrics of the worked records (one row)."""
    return reference_metrics(worked_records(), worked_draws(), SCHEME, HORIZON, segment=segment)


def _compiled_series() -> dict[str, np.ndarray]:
    """The package's weekly series of the worked records, by name."""
    weekly = scheme_metrics(worked_records(), worked_draws(), SCHEME, HORIZON).weekly
    assert weekly is not None
    return {name: weekly[:, i] for i, name in enumerate(SERIES)}


def _oracle_series() -> dict[str, np.ndarray]:
    """The oracle's weekly series of the worked records, by name."""
    return reference_series(worked_records(), worked_draws(), SCHEME, HORIZON)


METRIC_SOURCES: dict[str, Callable[[int | None], dict[str, np.ndarray]]] = {
    "oracle": _oracle_metrics,
    "compiled": _compiled_metrics,
}
SERIES_SOURCES: dict[str, Callable[[], dict[str, np.ndarray]]] = {
    "oracle": _oracle_series,
    "compiled": _compiled_series,
}


@pytest.mark.parametrize("segment", [None, 0, 1], ids=["all", "segment-0", "segment-1"])
@pytest.mark.parametrize("source", sorted(METRIC_SOURCES))
def test_the_worked_replication_gives_the_hand_computed_metrics(source: str, segment: int | None) -> None:
    got = METRIC_SOURCES[source](segment)
    for name, want in EXPECTED[segment].items():
        np.testing.assert_allclose(got[name], want, rtol=1e-12, atol=0, err_msg=name)
    for name, empty in EMPTY.items():  # replication 1 has no application in any row
        np.testing.assert_array_equal(got[name][1], empty, err_msg=name)


@pytest.mark.parametrize("source", sorted(SERIES_SOURCES))
def test_the_worked_replication_gives_the_hand_computed_weekly_series(source: str) -> None:
    got = SERIES_SOURCES[source]()
    for name, want in EXPECTED_SERIES.items():
        np.testing.assert_allclose(got[name][0], want, rtol=1e-12, atol=0, err_msg=name)
        np.testing.assert_array_equal(got[name][1], np.zeros(len(want)), err_msg=name)
