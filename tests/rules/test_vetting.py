"""R-VET-FCFS: first-come-first-served vetting on `capacity` reviewers, on both engines."""

from __future__ import annotations

import numpy as np

from tests.rules.conftest import applicants, check, terms

NAN = np.nan


def test_a_file_waits_for_the_first_reviewer_to_free_up(simulate) -> None:
    # Two reviewers. Start = max(arrival, first free reviewer); end = start + review:
    #   f0 arrives 0, starts 0, ends 5        reviewers free at 5, -
    #   f1 arrives 1, starts 1, ends 6        reviewers free at 5, 6
    #   f2 arrives 2, waits, starts 5, ends 7 reviewers free at 6, 7
    #   f3 arrives 3, waits, starts 6, ends 7.5
    #   f4 arrives 10, both free, starts 10, ends 11
    # Decisions at review end (first come); everything approved and funded.
    files = applicants([0, 1, 2, 3, 10], review=[5, 5, 2, 1.5, 1])
    rec = simulate(files, terms(capacity=2))
    check(
        "R-VET-FCFS",
        rec,
        5,
        review_start=[0, 1, 5, 6, 10],
        decision=[5, 6, 7, 7.5, 11],
        status=["AWARDED"] * 5,
    )


def test_a_file_still_in_review_at_the_horizon_has_no_decision(simulate) -> None:
    # One reviewer, horizon 8: f0 reviewed 0-6, decided 6; f1 arrives 1, starts at 6 and would
    # end at 12 > 8: in review at the horizon, with its review start but no decision; f2 arrives 2
    # and would start at 12 > 8: in review, not even started.
    files = applicants([0, 1, 2], review=[6, 6, 6])
    rec = simulate(files, terms(capacity=1, horizon=8.0))
    check(
        "R-VET-FCFS",
        rec,
        3,
        review_start=[0, 6, NAN],
        decision=[6, NAN, NAN],
        status=["AWARDED", "IN_REVIEW", "IN_REVIEW"],
        exhaustion=NAN,
    )
