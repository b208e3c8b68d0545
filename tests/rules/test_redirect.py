"""Worked examples of R-REDIRECT: firms turned away by one scheme apply to the next, on both engines.

Like R-CHOICE's examples, these run whole replications of small scenarios (the redirect happens
between schemes, above the process-rule seam): one segment of three firms that all apply (eligible
share 1, propensity 1, elasticity 0), every project costing HK$600k, each firm's week under a scheme
drawn uniformly in the two weeks after the scheme opens (a launch burst of share 1), every file
approved (withdraw 0, approval 1) after a fixed review. Grants are min(cap, 600k / 3): HK$200k under
a cap of HK$250k, else the cap, so every firm first goes to the scheme with the largest cap. Each
outcome below is computed by hand and holds exactly in every replication.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.engines import batch, des
from sim.engines.records import SchemeRecords, Status
from sim.spec.loader import merge, scenario_from_dict
from sim.spec.scenario import Scenario

RULE = "R-REDIRECT"
REPS = np.arange(6)
ENGINES = {"des": des.simulate_des, "batch": batch.simulate_batch}
FIRMS = 3


def _fixed(value: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": value}


def _scheme(cap: float, **overrides: Any) -> dict[str, Any]:
    """A scheme every firm applies to in the two weeks after it opens, every file approved."""
    base = {
        "segments": ["firms"],
        "budget_hkd": 1e9,
        "places": 1000,
        "max_grant_hkd": cap,
        "matching_ratio": 2,
        "uptake": {
            "elasticity": 0.0,
            "bass_p": 0.01,
            "bass_q": 0.08,
            "launch_share": 1.0,
            "launch_weeks": 2.0,
        },
        "tranches": {"upfront_share": 0.25},
        "vetting": {
            "capacity": 100,
            "review_weeks": _fixed(1.0),
            "withdraw_probability": 0.0,
            "approval_probability": 1.0,
        },
        "upgrade": {"duration_weeks": _fixed(20.0), "completion_probability": 1.0},
        "impact": {
            "no_gain_probability": 0.0,
            "gain": _fixed(0.05),
            "ramp_years": 1,
            "deadweight": 0.0,
            "benefit_years": 5,
            "discount_rate": 0.04,
        },
    }
    return merge(base, overrides)


def scenario(**schemes: dict[str, Any]) -> Scenario:
    segment = {
        "count": FIRMS,
        "eligible_share": 1.0,
        "propensity": 1.0,
        "bands": {"one": {"share": 1.0, "project_cost_hkd": _fixed(600_000), "value_added_hkd": _fixed(1e6)}},
    }
    source = {
        "name": "redirect",
        "start_date": "2025-11-18",
        "horizon_weeks": 52,
        "segments": {"firms": segment},
        "schemes": schemes,
    }
    return scenario_from_dict(source, "redirect")


def _files(records: SchemeRecords, r: int, status: Status | None = None) -> np.ndarray:
    """Arrival weeks of replication ``r``'s applications (with ``status``, if given), sorted."""
    rows = records.segment[r] >= 0
    if status is not None:
        rows &= records.status[r] == int(status)
    return np.sort(records.arrival[r][rows])


#: "first" opens in week 2 and closes early in week 1 (a dated change, R-CHANGE): every firm goes to
#: it (HK$200k against "second"'s HK$100k) and is turned away at its arrival, weeks 2 to 4.
CLOSED_EARLY = {"opens_week": 2.0, "changes": [{"week": 1.0, "closes": True}]}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_a_firm_turned_away_by_a_closed_scheme_applies_to_the_next_at_the_same_week(engine) -> None:
    sc = scenario(first=_scheme(250_000, redirect_when_closed=True, **CLOSED_EARLY), second=_scheme(100_000))
    records = ENGINES[engine](sc, 3, REPS)
    first, second = records["first"], records["second"]
    for r in range(len(REPS)):
        turned = _files(first, r, Status.TURNED_AWAY)
        # all three turned away by "first" (applications counted there), all three apply to "second"
        # at the very weeks they were turned away, and (approval 1, room for all) all are awarded
        assert len(_files(first, r)) == len(turned) == FIRMS, RULE
        assert ((2.0 <= turned) & (turned <= 4.0)).all(), RULE
        np.testing.assert_array_equal(_files(second, r), turned, err_msg=RULE)
        np.testing.assert_array_equal(_files(second, r, Status.AWARDED), turned, err_msg=RULE)
        # a redirected firm is a would-be applicant of both schemes, eligible for both
        assert first.would_be[r].tolist() == second.would_be[r].tolist() == [FIRMS], RULE
        assert first.eligible[r].tolist() == second.eligible[r].tolist() == [FIRMS], RULE
        assert np.allclose(second.grant[r][second.segment[r] >= 0], 100_000), RULE  # second's grant


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        ({}, {}, "without redirect_when_closed the firm stays turned away"),
        (
            {"redirect_when_closed": True},
            {"max_project_cost_hkd": 500_000},
            "HK$600k is above second's bound",
        ),
        (
            {"redirect_when_closed": True},
            {"closes_week": 1.5, "uptake": {"launch_weeks": 1.0}},
            "second's window closed in week 1.5",
        ),
        ({"redirect_when_closed": True}, {"opens_week": 10.0}, "second opens only in week 10"),
    ],
)
def test_a_firm_with_no_eligible_next_scheme_stays_turned_away(engine, first, second, why) -> None:
    sc = scenario(first=_scheme(250_000, **CLOSED_EARLY, **first), second=_scheme(100_000, **second))
    records = ENGINES[engine](sc, 3, REPS)
    for r in range(len(REPS)):
        assert len(_files(records["first"], r, Status.TURNED_AWAY)) == FIRMS, f"{RULE}: {why}"
        assert len(_files(records["second"], r)) == 0, f"{RULE}: {why}"
        assert records["second"].would_be[r].tolist() == [0], f"{RULE}: {why}"


@pytest.mark.parametrize("engine", list(ENGINES))
def test_an_exhausted_scheme_sends_later_arrivals_on(engine) -> None:
    """ "first" has no place (places 0) and decides in 0.001 weeks: the first arrival is approved, finds
    no place and exhausts it (R-FUND); the two later ones (arriving over two weeks, so more than
    0.001 weeks later) are turned away (R-TURN-AWAY) and apply to "second"."""
    exhausted = {"places": 0, "redirect_when_closed": True, "vetting": {"review_weeks": _fixed(0.001)}}
    records = ENGINES[engine](scenario(first=_scheme(250_000, **exhausted), second=_scheme(100_000)), 3, REPS)
    first, second = records["first"], records["second"]
    for r in range(len(REPS)):
        arrivals = _files(first, r)
        assert len(arrivals) == FIRMS, RULE
        np.testing.assert_array_equal(_files(first, r, Status.UNFUNDED), arrivals[:1], err_msg=RULE)
        np.testing.assert_array_equal(_files(first, r, Status.TURNED_AWAY), arrivals[1:], err_msg=RULE)
        np.testing.assert_array_equal(_files(second, r, Status.AWARDED), arrivals[1:], err_msg=RULE)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_a_firm_goes_on_down_the_schemes_but_never_back(engine) -> None:
    """Three schemes, caps HK$250k, 150k and 100k. "first" closed early sends all three firms to
    "second", which has closed too (in week 1) and sends them on to "third": all awarded there. With
    "third" shut as well (opening in week 30), they are turned away by all three and, having applied
    to "first" already, do not go back to it although "third" redirects too."""
    closed = {"changes": [{"week": 1.0, "closes": True}], "redirect_when_closed": True}
    schemes = {
        "first": _scheme(250_000, redirect_when_closed=True, **CLOSED_EARLY),
        "second": _scheme(150_000, **closed),
        "third": _scheme(100_000),
    }
    records = ENGINES[engine](scenario(**schemes), 3, REPS)
    for r in range(len(REPS)):
        turned = _files(records["first"], r, Status.TURNED_AWAY)
        np.testing.assert_array_equal(_files(records["second"], r, Status.TURNED_AWAY), turned, err_msg=RULE)
        np.testing.assert_array_equal(_files(records["third"], r, Status.AWARDED), turned, err_msg=RULE)
    schemes["third"] = _scheme(100_000, redirect_when_closed=True, opens_week=30.0)
    records = ENGINES[engine](scenario(**schemes), 3, REPS)
    for r in range(len(REPS)):
        assert [len(_files(records[s], r)) for s in schemes] == [FIRMS, FIRMS, 0], RULE
        assert len(_files(records["second"], r, Status.TURNED_AWAY)) == FIRMS, RULE


@pytest.mark.parametrize("engine", list(ENGINES))
def test_firms_sent_both_ways_apply_to_each_scheme_once(engine) -> None:
    """Both schemes redirect. "first" closed early sends all three to "second", which has no place
    and decides in 0.001 weeks: the first of them is unfunded and exhausts it, the other two are
    turned away and would go back to "first", where they have applied already: they stay turned away."""
    second = _scheme(100_000, places=0, redirect_when_closed=True, vetting={"review_weeks": _fixed(0.001)})
    sc = scenario(first=_scheme(250_000, redirect_when_closed=True, **CLOSED_EARLY), second=second)
    records = ENGINES[engine](sc, 3, REPS)
    for r in range(len(REPS)):
        turned = _files(records["first"], r, Status.TURNED_AWAY)
        assert len(turned) == len(_files(records["first"], r)) == FIRMS, RULE
        np.testing.assert_array_equal(_files(records["second"], r, Status.UNFUNDED), turned[:1], err_msg=RULE)
        np.testing.assert_array_equal(
            _files(records["second"], r, Status.TURNED_AWAY), turned[1:], err_msg=RULE
        )


def test_the_trace_names_the_scheme_a_firm_was_redirected_to_and_why() -> None:
    sc = scenario(first=_scheme(250_000, redirect_when_closed=True, **CLOSED_EARLY), second=_scheme(100_000))
    _, trace = des.simulate_replication(sc, 3, 0, trace=True)
    assert trace is not None
    first, second = trace[trace["scheme"] == "first"], trace[trace["scheme"] == "second"]
    assert (first["chosen_scheme"] == "first").all(), RULE
    assert (first["choice_reason"] == "largest grant").all(), RULE
    assert (first["status"] == "turned_away").all(), RULE
    assert (second["chosen_scheme"] == "second").all(), RULE
    assert (second["choice_reason"] == "redirect").all(), RULE
    assert (second["status"] == "awarded").all(), RULE
    np.testing.assert_array_equal(second["application_week"], first["application_week"], err_msg=RULE)
