"""R-REAPPLY: a rejected first application reapplies once, on both engines.

The review outcome is decided by one uniform (R-DECIDE): with the base terms, u < 0.1 is
withdrawn, u < 0.82 approved, else rejected. Re-applications are rows of their own, after the
applications, in order of arrival; their firm keeps its project (cost, grant, upgrade).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from sim.engines.applicants import Applicants
from sim.engines.reapply import SecondTries
from sim.engines.timeline import PolicyChange
from tests.rules.conftest import applicants, check, outcome, terms

NAN = np.nan


def with_second_tries(
    files: Applicants,
    chance: Sequence[float],
    delay: Sequence[float],
    review: Sequence[float] | float = 1.0,
    decide: Sequence[float] | float = 0.5,
) -> Applicants:
    """``files`` with their re-application draws (the second review approves by default)."""
    n = files.size

    def column(values: Sequence[float] | float) -> np.ndarray:
        return np.broadcast_to(np.asarray(values, dtype=float), n).copy()

    second = SecondTries(column(chance), column(delay), column(review), column(decide))
    return replace(files, second=second)


def reapplied(rec) -> int:
    return int(np.asarray(rec.reapplied).sum())


def test_a_rejected_file_reapplies_once_and_a_withdrawn_one_never(simulate) -> None:
    # Reapply probability 0.5, review 2 weeks, decisions at review end:
    #   f0 arrives 0, u 0.9: rejected at 2; chance 0.2 < 0.5: reapplies at 2 + 5 = 7,
    #      second review 3 weeks, u 0.5: approved and funded at 10, upgrade to 20;
    #   f1 arrives 1, u 0.9: rejected at 3; chance 0.7: does not reapply;
    #   f2 arrives 1.5, u 0.05: withdrawn at 3.5; chance 0.1, but a withdrawn file never reapplies;
    #   f3 arrives 4, u 0.9: rejected at 6; chance 0.1: reapplies at 6 + 50 = 56, second review
    #      1 week, u 0.95: rejected again at 57, and does not reapply a second time.
    # Rows: f0..f3, then f0's re-application (arrives 7), then f3's (arrives 56).
    files = applicants([0, 1, 1.5, 4], review=[2] * 4, decide=[0.9, 0.9, 0.05, 0.9])
    files = with_second_tries(
        files, [0.2, 0.7, 0.1, 0.1], [5, 5, 5, 50], review=[3, 1, 1, 1], decide=[0.5] * 3 + [0.95]
    )
    rec = simulate(files, terms(reapply_probability=0.5))
    check(
        "R-REAPPLY",
        rec,
        6,
        status=["REJECTED", "REJECTED", "WITHDRAWN", "REJECTED", "AWARDED", "REJECTED"],
        arrival=[0, 1, 1.5, 4, 7, 56],
        review_start=[0, 1, 1.5, 4, 7, 56],
        decision=[2, 3, 3.5, 6, 10, 57],
        upgrade_end=[NAN, NAN, NAN, NAN, 20, NAN],
        grant=[100] * 6,
    )
    assert reapplied(rec) == 2, "R-REAPPLY: two re-applications"


def test_a_re_application_after_the_close_is_never_made(simulate) -> None:
    # The call closes at week 20 (horizon 104); every firm reapplies if rejected (chance 0 < 0.5):
    #   f0 arrives 0, rejected at 1, delay 19: reapplies at 20, the close (not after it): made;
    #   f1 arrives 2, rejected at 3, delay 17.5: 20.5 is after the close: never made.
    files = applicants([0, 2], decide=[0.9, 0.9])
    files = with_second_tries(files, [0.0, 0.0], [19, 17.5])
    rec = simulate(files, terms(reapply_probability=0.5, closes_week=20.0))
    check(
        "R-REAPPLY",
        rec,
        3,
        status=["REJECTED", "REJECTED", "AWARDED"],
        arrival=[0, 2, 20],
        decision=[1, 3, 21],
    )
    assert reapplied(rec) == 1, "R-REAPPLY: one re-application"


def test_a_re_application_queues_with_the_applications_and_takes_a_place(simulate) -> None:
    # One reviewer, two places:
    #   f0 arrives 0, review 1, u 0.9: rejected at 1; reapplies at 1 + 2 = 3 (second review 4 weeks);
    #   f1 arrives 2, review 4: reviewed 2-6, approved, funded at 6 (place 1);
    #   f0' arrives 3: the reviewer is busy until 6, reviewed 6-10, approved, funded at 10 (place 2);
    #   f2 arrives 5 (after f0'), review 1: reviewed 10-11, approved, no place left: unfunded,
    #   the scheme exhausted by places at 11.
    files = applicants([0, 2, 5], review=[1, 4, 1], decide=[0.9, 0.5, 0.5])
    files = with_second_tries(files, [0.0] * 3, [2.0] * 3, review=4.0)
    rec = simulate(files, terms(reapply_probability=1.0, capacity=1, places=2))
    check(
        "R-REAPPLY",
        rec,
        4,
        status=["REJECTED", "AWARDED", "UNFUNDED", "AWARDED"],
        review_start=[0, 2, 10, 6],
        decision=[1, 6, 11, 10],
        exhaustion=11.0,
        exhausted_by="PLACES",
    )


def test_a_re_application_is_turned_away_while_the_scheme_is_exhausted(simulate) -> None:
    # One place, closing on exhaustion:
    #   f0 arrives 0, u 0.9: rejected at 1; reapplies at 1 + 10 = 11;
    #   f1 arrives 2: approved at 3, funded; f2 arrives 3.5: approved at 4.5, no place: exhausted;
    #   f0' arrives 11, the scheme exhausted: turned away (an application, and a re-application).
    files = applicants([0, 2, 3.5], decide=[0.9, 0.5, 0.5])
    files = with_second_tries(files, [0.0] * 3, [10.0] * 3)
    rec = simulate(files, terms(reapply_probability=1.0, places=1, close_on_exhaustion=True))
    check(
        "R-REAPPLY",
        rec,
        4,
        status=["REJECTED", "AWARDED", "UNFUNDED", "TURNED_AWAY"],
        decision=[1, 3, 4.5, NAN],
        exhaustion=4.5,
    )
    assert reapplied(rec) == 1, "R-REAPPLY: the turned-away re-application counts"


def test_a_re_application_after_a_reopening_is_decided_under_the_new_cap(simulate) -> None:
    # As above, with one more place at week 8 and a cap of HK$60 from week 9 (cost 300, 1 : 2):
    #   week 8: f2 (on the reserve list) funded at 8: the list is empty, the scheme reopens (1);
    #   f0' arrives 11: admitted, reviewed 11-12, approved under the new cap: grant min(60, 100) = 60;
    #      places 2, awards 2: no place, on the reserve list (the scheme is exhausted again).
    files = applicants([0, 2, 3.5], decide=[0.9, 0.5, 0.5])
    files = with_second_tries(files, [0.0] * 3, [10.0] * 3)
    changes = (PolicyChange(8.0, places=1), PolicyChange(9.0, max_grant_hkd=60.0))
    rec = simulate(files, terms(reapply_probability=1.0, places=1, close_on_exhaustion=True, changes=changes))
    check(
        "R-REAPPLY",
        rec,
        4,
        status=["REJECTED", "AWARDED", "AWARDED", "UNFUNDED"],
        decision=[1, 3, 8, 12],
        grant=[100, 100, 100, 60],
        exhaustion=4.5,
    )
    assert int(np.asarray(rec.reopenings)[0]) == 1, "R-CHANGE: one reopening"


def test_under_rounds_a_re_application_waits_for_its_meeting(simulate) -> None:
    # Meetings every 4 weeks:
    #   f0 arrives 0, review 1, u 0.9: rejected at the meeting of week 4; reapplies at 4 + 3 = 7,
    #      second review 2 weeks (ends 9): approved at the meeting of week 12, funded;
    #   f1 arrives 0.5, review 1: approved and funded at week 4.
    files = applicants([0, 0.5], decide=[0.9, 0.5])
    files = with_second_tries(files, [0.0, 0.0], [3.0, 3.0], review=2.0)
    rec = simulate(files, terms(reapply_probability=1.0, rule="rounds"))
    check(
        "R-REAPPLY",
        rec,
        3,
        status=["REJECTED", "AWARDED", "AWARDED"],
        arrival=[0, 0.5, 7],
        decision=[4, 4, 12],
    )


def test_no_file_reapplies_after_a_draw_at_the_close(simulate) -> None:
    # One draw at the call's close (week 10): f0 (u 0.9) is rejected at the draw, at the close, so
    # its re-application (delay 0.5, week 10.5) would come after the close: none is made.
    files = applicants([0, 1], decide=[0.9, 0.5], ticket=[0.3, 0.6])
    files = with_second_tries(files, [0.0, 0.0], [0.5, 0.5])
    rec = simulate(files, terms(reapply_probability=1.0, rule="lottery_at_close", closes_week=10.0))
    check("R-REAPPLY", rec, 2, status=["REJECTED", "AWARDED"], decision=[10, 10])
    assert reapplied(rec) == 0, "R-REAPPLY: no re-application after the close"


def test_a_reapply_probability_of_zero_changes_nothing(simulate) -> None:
    # The draws are given, but no file reapplies: the same records as without them.
    files = applicants([0, 1], decide=[0.9, 0.5])
    plain = simulate(files, terms())
    again = simulate(with_second_tries(files, [0.0, 0.0], [1.0, 1.0]), terms(reapply_probability=0.0))
    for field in ("status", "arrival", "decision", "grant"):
        np.testing.assert_array_equal(
            getattr(again, field), getattr(plain, field), err_msg=f"R-REAPPLY: {field}"
        )
    assert reapplied(again) == 0


def test_a_file_turned_away_never_reapplies(simulate) -> None:
    # One place, closing on exhaustion, review 1 week, every rejected file reapplies after 1 week:
    #   f0 arrives 0, approved at 1, funded; f1 arrives 0.5, approved at 1.5: no place, exhausted;
    #   f2 arrives 1.2 (before the exhaustion), u 0.9: rejected at 2.2, reapplies at 3.2: turned away;
    #   f3 arrives 2 (after it): turned away, so never rejected and never reapplies, although its
    #   review uniform (0.9) and chance (0) would have made it.
    files = applicants([0, 0.5, 1.2, 2], decide=[0.5, 0.5, 0.9, 0.9])
    files = with_second_tries(files, [0.0] * 4, [1.0] * 4)
    rec = simulate(files, terms(reapply_probability=1.0, places=1, close_on_exhaustion=True))
    check(
        "R-REAPPLY",
        rec,
        5,
        status=["AWARDED", "UNFUNDED", "REJECTED", "TURNED_AWAY", "TURNED_AWAY"],
        arrival=[0, 0.5, 1.2, 2, 3.2],
        exhaustion=1.5,
    )
    assert reapplied(rec) == 1, "R-REAPPLY: only the rejected file's re-application is made"


def test_a_re_application_carries_its_own_firm_and_project(simulate) -> None:
    # f0 arrives 0, u 0.9: rejected at 1, reapplies at 1 + 5 = 6 (approved); f1 and f2 arrive 1
    # and 2, approved. The firms differ in the project's cost, value added and gain, and (at a
    # deadweight and a completion probability of 0.5) f0 is deadweight and completes, the others
    # not: the re-application (row 3, arriving 6) must carry f0's, not a neighbour's, with its
    # own arrival and status.
    files = applicants(
        [0, 1, 2],
        decide=[0.9, 0.5, 0.5],
        cost=[300, 450, 600],
        value_added=[1000, 2000, 3000],
        gain=[0.1, 0.15, 0.2],
        no_gain=0.99,
        deadweight=[0.1, 0.9, 0.9],
        complete=[0.1, 0.9, 0.9],
    )
    files = with_second_tries(files, [0.2, 0.9, 0.9], [5, 5, 5])
    rec = simulate(files, terms(reapply_probability=0.5, deadweight=0.5, completion_probability=0.5))
    status = ["REJECTED", "AWARDED", "AWARDED", "AWARDED"]
    check("R-REAPPLY", rec, 4, status=status, arrival=[0, 1, 2, 6])
    for field in ("cost", "value_added", "gain", "deadweight", "completes"):
        got = outcome(rec, 4, field).tolist()
        assert got[0] not in got[1:3], f"{field} {got}: the firms should differ"
        assert got[3] == got[0], f"R-REAPPLY: the re-application's {field} {got[3]} != {got[0]}"
    for field in ("segment", "band"):
        got = outcome(rec, 4, field).tolist()
        assert got[3] == got[0], f"R-REAPPLY: the re-application's {field} {got[3]} != {got[0]}"
