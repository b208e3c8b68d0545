"""R-DECIDE: the review outcome from one uniform per file, decided at review end, on both engines."""

from __future__ import annotations

from tests.rules.conftest import applicants, check, terms


def test_one_uniform_decides_withdrawn_approved_or_rejected(simulate) -> None:
    # w = 0.1, p = 0.8: withdrawn if u < 0.1; approved if u < 0.1 + 0.9 * 0.8 = 0.82; else rejected.
    #   u = 0.05 -> withdrawn; 0.1 -> approved (not below w); 0.5 -> approved;
    #   u = 0.83 -> rejected; 0.95 -> rejected.
    # Review 2 weeks each on plenty of reviewers: decisions at arrival + 2.
    files = applicants([0, 1, 2, 3, 4], review=[2] * 5, decide=[0.05, 0.1, 0.5, 0.83, 0.95])
    rec = simulate(files, terms())
    check(
        "R-DECIDE",
        rec,
        5,
        review_start=[0, 1, 2, 3, 4],
        decision=[2, 3, 4, 5, 6],
        status=["WITHDRAWN", "AWARDED", "AWARDED", "REJECTED", "REJECTED"],
    )


def test_with_certain_approval_only_withdrawal_stops_a_file(simulate) -> None:
    # w = 0, p = 1: every u in [0, 1) is below 0 + 1 * 1 = 1, so every file is approved.
    files = applicants([0, 1, 2], decide=[0.0, 0.5, 0.999])
    rec = simulate(files, terms(withdraw_probability=0.0, approval_probability=1.0))
    check("R-DECIDE", rec, 3, decision=[1, 2, 3], status=["AWARDED"] * 3)
