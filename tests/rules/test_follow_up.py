"""R-FOLLOW-UP: applications end at the horizon, upgrades and their payments go on to the end of the follow-up."""

from __future__ import annotations

import numpy as np

from tests.rules.conftest import applicants, check, terms

NAN = np.nan


def test_an_upgrade_ending_in_the_follow_up_is_reached(simulate) -> None:
    # Horizon 20, follow-up 20 (end 40). Awards at 1 and 2 (review 1 week); upgrades of 10 and 30
    # weeks: f0 ends at 11, f1 at 32 (after the horizon, before the end of the follow-up).
    files = applicants([0, 1], duration=[10, 30])
    rec = simulate(files, terms(horizon=20.0, follow_up=20.0))
    check("R-FOLLOW-UP", rec, 2, status=["AWARDED"] * 2, upgrade_start=[1, 2], upgrade_end=[11, 32])


def test_an_upgrade_ending_after_the_follow_up_is_ongoing(simulate) -> None:
    # As above with a follow-up of 10 (end 30): f1 would end at 32 > 30, so it has no end.
    files = applicants([0, 1], duration=[10, 30])
    rec = simulate(files, terms(horizon=20.0, follow_up=10.0))
    check("R-FOLLOW-UP", rec, 2, upgrade_start=[1, 2], upgrade_end=[11, NAN])


def test_no_file_is_decided_after_the_horizon_even_with_a_follow_up(simulate) -> None:
    # Horizon 10, follow-up 50. f0 decided at 1 and funded; f1 would be decided at 11 > 10: it
    # stays in review with no decision; the one place is not used up, so nothing is exhausted.
    files = applicants([0, 1], review=[1, 10])
    rec = simulate(files, terms(places=1, horizon=10.0, follow_up=50.0))
    check(
        "R-FOLLOW-UP",
        rec,
        2,
        status=["AWARDED", "IN_REVIEW"],
        review_start=[0, 1],
        decision=[1, NAN],
        exhaustion=NAN,
        exhausted_by="NONE",
    )


def test_a_review_that_would_start_after_the_horizon_does_not_start(simulate) -> None:
    # One reviewer, horizon 10, follow-up 50. f0 is reviewed from 0 to 12 (after the horizon: in
    # review); f1, arriving at 1, would start its review at 12 > 10: queued, no review start.
    files = applicants([0, 1], review=[12, 1])
    rec = simulate(files, terms(capacity=1, horizon=10.0, follow_up=50.0))
    check("R-FOLLOW-UP", rec, 2, status=["IN_REVIEW"] * 2, review_start=[0, NAN], decision=[NAN, NAN])


def test_no_meeting_is_held_after_the_horizon(simulate) -> None:
    # Rounds every 4 weeks, horizon 10, follow-up 50: meetings at 4 and 8 only. f0 reviewed by 3
    # is decided at 4; f1 reviewed by 9 waits for a meeting at 12 that is never held.
    files = applicants([2, 7], review=[1, 2])
    rec = simulate(files, terms(rule="rounds", meeting_interval_weeks=4.0, horizon=10.0, follow_up=50.0))
    check("R-FOLLOW-UP", rec, 2, decision=[4, NAN], status=["AWARDED", "IN_REVIEW"])


def test_an_upgrade_waiting_for_an_integrator_starts_in_the_follow_up(simulate) -> None:
    # One integrator, horizon 10, follow-up 20 (end 30). Awards at 1 and 2; upgrades of 12 weeks:
    # f0 from 1 to 13, f1 waits for the integrator and runs from 13 (after the horizon) to 25.
    files = applicants([0, 1], duration=[12, 12])
    rec = simulate(files, terms(integrators=1, horizon=10.0, follow_up=20.0))
    check("R-FOLLOW-UP", rec, 2, upgrade_start=[1, 13], upgrade_end=[13, 25])
