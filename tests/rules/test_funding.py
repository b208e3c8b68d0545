"""R-FUND: funding in decision order while budget and places last; the first miss exhausts, on both engines."""

from __future__ import annotations

import numpy as np

from tests.rules.conftest import applicants, check, terms

NAN = np.nan


def test_the_first_grant_that_does_not_fit_exhausts_the_budget(simulate) -> None:
    # Budget 500; grants 200, 200, 200, 50 decided at 1, 2, 3, 4 (review 1 week each):
    #   f0: 0 + 200 <= 500 funded (200); f1: 400 <= 500 funded (400);
    #   f2: 600 > 500 -> exhausts the scheme at its decision time, 3, unfunded;
    #   f3: 450 would fit, but every approved file after exhaustion is unfunded.
    files = applicants([0, 1, 2, 3], grant=[200, 200, 200, 50])
    rec = simulate(files, terms(budget_hkd=500.0))
    check(
        "R-FUND",
        rec,
        4,
        decision=[1, 2, 3, 4],
        status=["AWARDED", "AWARDED", "UNFUNDED", "UNFUNDED"],
        upgrade_start=[1, 2, NAN, NAN],
        exhaustion=3.0,
        exhausted_by="MONEY",  # places were left (2 of 1000 used): the money binds
    )


def test_a_grant_that_exactly_uses_up_the_budget_is_funded(simulate) -> None:
    # Budget 500, grants 250 + 250 = 500 <= 500: both funded, no exhaustion.
    files = applicants([0, 1], grant=[250, 250])
    rec = simulate(files, terms(budget_hkd=500.0))
    check("R-FUND", rec, 2, status=["AWARDED", "AWARDED"], exhaustion=NAN, exhausted_by="NONE")


def test_places_run_out_before_money_and_rejections_take_no_place(simulate) -> None:
    # Two places, ample budget. Decisions at 1..5: f0 approved (place 1), f1 rejected (u = 0.9
    # >= 0.82, takes no place), f2 approved (place 2), f3 approved but no place left: exhausts at
    # 4; f4 withdrawn (u = 0.05) stays withdrawn after exhaustion.
    files = applicants([0, 1, 2, 3, 4], decide=[0.5, 0.9, 0.5, 0.5, 0.05])
    rec = simulate(files, terms(places=2))
    check(
        "R-FUND",
        rec,
        5,
        status=["AWARDED", "REJECTED", "AWARDED", "UNFUNDED", "WITHDRAWN"],
        exhaustion=4.0,
        exhausted_by="PLACES",  # 200 of HK$1e9 committed: the places bind
    )


def test_an_approval_after_the_horizon_exhausts_nothing(simulate) -> None:
    # One place, horizon 10. f0 decided at 1, funded. f1 arrives 1 with a 10-week review: it
    # would be decided at 11 > 10, so it is still in review and the scheme is not exhausted.
    files = applicants([0, 1], review=[1, 10])
    rec = simulate(files, terms(places=1, horizon=10.0))
    check(
        "R-FUND",
        rec,
        2,
        status=["AWARDED", "IN_REVIEW"],
        decision=[1, NAN],
        exhaustion=NAN,
        exhausted_by="NONE",
    )


def test_a_file_with_no_place_left_is_stopped_by_the_places_even_if_the_money_is_short_too(
    simulate,
) -> None:
    # Two places, budget 300; grants 100, 100, 200 decided at 1, 2, 3:
    #   f0 and f1 funded (200 committed, both places taken);
    #   f2: no place left, and 400 > 300 too: the places bind (no place is checked first).
    files = applicants([0, 1, 2], grant=[100, 100, 200])
    rec = simulate(files, terms(places=2, budget_hkd=300.0))
    check("R-FUND", rec, 3, status=["AWARDED", "AWARDED", "UNFUNDED"], exhaustion=3.0, exhausted_by="PLACES")


def test_a_grant_too_big_for_the_money_left_binds_the_money_with_a_place_to_spare(simulate) -> None:
    # Two places, budget 300; grants 100 then 250 decided at 1, 2:
    #   f0 funded (100 committed, one place left); f1: 350 > 300 with a place left -> the money binds.
    files = applicants([0, 1], grant=[100, 250])
    rec = simulate(files, terms(places=2, budget_hkd=300.0))
    check("R-FUND", rec, 2, status=["AWARDED", "UNFUNDED"], exhaustion=2.0, exhausted_by="MONEY")
