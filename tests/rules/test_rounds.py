"""R-ROUNDS: committee meetings decide reviewed files, highest readiness first, on both engines."""

from __future__ import annotations

import numpy as np

from tests.rules.conftest import applicants, check, terms

NAN = np.nan


def test_a_meeting_funds_the_readiest_files_first(simulate) -> None:
    # Meetings every 4 weeks (4, 8, ...); two places.
    #   review ends: f0 0+1 = 1, f1 0.5+2 = 2.5, f2 1+2 = 3, f3 1.5+1 = 2.5, f4 5+1 = 6
    #   next meeting: 4, 4, 4, 4, 8 (every reviewed file waits for it, withdrawn ones too)
    # At week 4, by readiness: f3 (0.95, withdrawn: u = 0.05, takes no place), f1 (0.9, place 1),
    # f2 (0.5, place 2), f0 (0.2: no place left -> exhausts at 4, unfunded). f4 at week 8: unfunded.
    files = applicants(
        [0, 0.5, 1, 1.5, 5],
        review=[1, 2, 2, 1, 1],
        readiness=[0.2, 0.9, 0.5, 0.95, 0.99],
        decide=[0.5, 0.5, 0.5, 0.05, 0.5],
    )
    rec = simulate(files, terms(rule="rounds", meeting_interval_weeks=4.0, places=2))
    check(
        "R-ROUNDS",
        rec,
        5,
        decision=[4, 4, 4, 4, 8],
        status=["UNFUNDED", "AWARDED", "AWARDED", "WITHDRAWN", "UNFUNDED"],
        upgrade_start=[NAN, 4, 4, NAN, NAN],
        exhaustion=4.0,
    )


def test_a_file_reviewed_after_the_last_meeting_before_the_horizon_waits(simulate) -> None:
    # Horizon 10, meetings at 4 and 8 (the next, 12, is past the horizon). f0 reviewed by 3 is
    # decided at 4; f1 reviewed by 9 would be decided at 12: still in review at the horizon.
    files = applicants([2, 7], review=[1, 2])
    rec = simulate(files, terms(rule="rounds", meeting_interval_weeks=4.0, horizon=10.0))
    check("R-ROUNDS", rec, 2, decision=[4, NAN], status=["AWARDED", "IN_REVIEW"], review_start=[2, 7])
