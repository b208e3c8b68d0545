"""R-LOTTERY: files decided together are funded lowest ticket first, at each meeting or at one draw at
the call's close, on both engines (R-FUND's exhaustion rules unchanged)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.rules.conftest import applicants, check, terms

NAN = np.nan


def test_a_meeting_funds_the_lowest_tickets_first(simulate) -> None:
    # Meetings every 4 weeks; two places. Review ends 1, 2.5, 3, 2.5, 6: decided at 4, 4, 4, 4, 8.
    # At week 4, by ticket: f3 (0.1, withdrawn: takes no place), f0 (0.3, place 1), f2 (0.6, place 2),
    # f1 (0.8: no place left -> exhausts at 4 by places, unfunded). f4 (0.2) is decided at 8, a later
    # meeting, whatever its ticket: unfunded. By arrival f2 would be the unfunded one, by readiness f0.
    files = applicants(
        [0, 0.5, 1, 1.5, 5],
        review=[1, 2, 2, 1, 1],
        readiness=[0.2, 0.9, 0.5, 0.95, 0.99],
        decide=[0.5, 0.5, 0.5, 0.05, 0.5],
        ticket=[0.3, 0.8, 0.6, 0.1, 0.2],
    )
    rec = simulate(files, terms(rule="lottery", meeting_interval_weeks=4.0, places=2))
    check(
        "R-LOTTERY",
        rec,
        5,
        decision=[4, 4, 4, 4, 8],
        status=["AWARDED", "UNFUNDED", "AWARDED", "WITHDRAWN", "UNFUNDED"],
        upgrade_start=[4, NAN, 4, NAN, NAN],
        exhaustion=4.0,
        exhausted_by="PLACES",
    )


def test_the_first_drawn_file_that_cannot_be_paid_exhausts_the_money(simulate) -> None:
    # One meeting at week 4 for all three (review ends 1, 2, 3); budget HK$250. By ticket: f1 (0.2,
    # HK$300 > 250: exhausts at 4 by money, unfunded), then f0 and f2 come after the exhausting file:
    # unfunded too, though each alone would fit (R-FUND).
    files = applicants([0, 1, 2], grant=[100, 300, 100], ticket=[0.5, 0.2, 0.8])
    rec = simulate(files, terms(rule="lottery", meeting_interval_weeks=4.0, budget_hkd=250.0))
    check(
        "R-LOTTERY",
        rec,
        3,
        decision=[4, 4, 4],
        status=["UNFUNDED", "UNFUNDED", "UNFUNDED"],
        exhaustion=4.0,
        exhausted_by="MONEY",
    )


def test_one_draw_at_the_close_once_every_file_is_reviewed(simulate) -> None:
    # The call closes at week 10; one reviewer, reviews 4, 4, 4, 1 weeks: starts 1, 5, 9, 13, ends 5,
    # 9, 13, 14. The draw is at max(10, 14) = 14, for every file. Two places; by ticket: f3 (0.05,
    # rejected: u = 0.95), f1 (0.3, place 1), f0 (0.6, place 2), f2 (0.9: exhausts at 14 by places).
    files = applicants(
        [1, 3, 9, 9.5], review=[4, 4, 4, 1], decide=[0.5, 0.5, 0.5, 0.95], ticket=[0.6, 0.3, 0.9, 0.05]
    )
    rec = simulate(files, terms(rule="lottery_at_close", closes_week=10.0, capacity=1, places=2))
    check(
        "R-LOTTERY",
        rec,
        4,
        review_start=[1, 5, 9, 13],
        decision=[14, 14, 14, 14],
        status=["AWARDED", "AWARDED", "UNFUNDED", "REJECTED"],
        upgrade_start=[14, 14, NAN, NAN],
        exhaustion=14.0,
        exhausted_by="PLACES",
    )


def test_files_reviewed_before_the_close_wait_for_it(simulate) -> None:
    # Reviews end at 1 and 2; the call closes at 10: both are decided (and funded) at 10.
    files = applicants([0, 1], ticket=[0.9, 0.1])
    rec = simulate(files, terms(rule="lottery_at_close", closes_week=10.0))
    check("R-LOTTERY", rec, 2, decision=[10, 10], status=["AWARDED", "AWARDED"], upgrade_start=[10, 10])


def test_no_draw_when_the_last_review_ends_after_the_horizon(simulate) -> None:
    # Horizon 20, close 10, one reviewer: f0 reviewed 0..1, f1 9..24, past the horizon. The draw would
    # be at 24: none is held, and both files are still in review at the horizon (R-FOLLOW-UP).
    files = applicants([0, 9], review=[1, 15], ticket=[0.5, 0.5])
    rec = simulate(files, terms(rule="lottery_at_close", closes_week=10.0, horizon=20.0, capacity=1))
    check(
        "R-LOTTERY",
        rec,
        2,
        review_start=[0, 9],
        decision=[NAN, NAN],
        status=["IN_REVIEW", "IN_REVIEW"],
        exhaustion=NAN,
        exhausted_by="NONE",
    )


def test_a_lottery_without_tickets_is_refused(simulate) -> None:
    with pytest.raises(ValueError, match="tickets"):
        simulate(applicants([0, 1]), terms(rule="lottery"))


def test_the_draw_sets_the_award_order_for_the_integrators(simulate) -> None:
    # Both decided and funded at the close, week 10, f1 first (ticket 0.1 < 0.9). One integrator
    # (R-INTEGRATORS, in award order): f1 upgrades 10..20, then f0 20..30, though f0 arrived first.
    files = applicants([0, 1], ticket=[0.9, 0.1])
    rec = simulate(files, terms(rule="lottery_at_close", closes_week=10.0, integrators=1))
    check("R-LOTTERY", rec, 2, decision=[10, 10], upgrade_start=[20, 10], upgrade_end=[30, 20])
