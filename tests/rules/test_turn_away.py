"""R-TURN-AWAY: with close_on_exhaustion, applications after exhaustion are turned away, on both engines."""

from __future__ import annotations

import numpy as np

from tests.rules.conftest import applicants, check, terms

NAN = np.nan


def test_applications_after_exhaustion_are_turned_away_and_never_reviewed(simulate) -> None:
    # One place, review 2 weeks, closing on exhaustion:
    #   f0 arrives 0, decided 2, funded (the only place);
    #   f1 arrives 1, decided 3, no place left -> exhausts the scheme at 3, unfunded;
    #   f2 arrives 2.5 (before 3): reviewed 2.5-4.5, decided 4.5, unfunded;
    #   f3 arrives 5 and f4 arrives 6 (after 3): turned away, no review start, no decision.
    files = applicants([0, 1, 2.5, 5, 6], review=[2] * 5)
    rec = simulate(files, terms(places=1, close_on_exhaustion=True))
    check(
        "R-TURN-AWAY",
        rec,
        5,
        status=["AWARDED", "UNFUNDED", "UNFUNDED", "TURNED_AWAY", "TURNED_AWAY"],
        review_start=[0, 1, 2.5, NAN, NAN],
        decision=[2, 3, 4.5, NAN, NAN],
        exhaustion=3.0,
        exhausted_by="PLACES",
    )


def test_a_scheme_that_stays_open_reviews_late_applications(simulate) -> None:
    # The same files without closing: f3 and f4 are reviewed (5-7, 6-8) and approved but unfunded.
    files = applicants([0, 1, 2.5, 5, 6], review=[2] * 5)
    rec = simulate(files, terms(places=1, close_on_exhaustion=False))
    check(
        "R-TURN-AWAY",
        rec,
        5,
        status=["AWARDED", "UNFUNDED", "UNFUNDED", "UNFUNDED", "UNFUNDED"],
        review_start=[0, 1, 2.5, 5, 6],
        decision=[2, 3, 4.5, 7, 8],
        exhaustion=3.0,
        exhausted_by="PLACES",
    )


def test_applications_after_the_money_runs_out_are_turned_away(simulate) -> None:
    # Budget 250, ample places, review 2 weeks, closing on exhaustion:
    #   f0 arrives 0, decided 2, funded (200 committed);
    #   f1 arrives 1, decided 3: 400 > 250 with places left -> the money runs out at 3;
    #   f2 arrives 4 (after 3): turned away, although its grant of 50 would fit.
    files = applicants([0, 1, 4], review=[2] * 3, grant=[200, 200, 50])
    rec = simulate(files, terms(budget_hkd=250.0, close_on_exhaustion=True))
    check(
        "R-TURN-AWAY",
        rec,
        3,
        status=["AWARDED", "UNFUNDED", "TURNED_AWAY"],
        decision=[2, 3, NAN],
        exhaustion=3.0,
        exhausted_by="MONEY",
    )
