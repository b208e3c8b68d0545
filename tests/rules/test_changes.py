"""R-CHANGE: dated top-ups, the reserve list, reopening and an early close, on both engines."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from sim.engines.timeline import PolicyChange
from tests.rules.conftest import applicants, check, terms

NAN = np.nan


def test_a_top_up_funds_the_reserve_list_in_decision_order_before_new_files(simulate) -> None:
    # One place, review 2 weeks, not closing; one more place at week 10, one more at week 20:
    #   f0 arrives 0, decided 2, funded (the only place);
    #   f1 arrives 1, decided 3: no place -> exhausts the scheme at 3, first on the reserve list;
    #   f2 arrives 2, decided 4: second on the reserve list;
    #   week 10: one place -> f1 (first decided) funded, awarded at 10; f2 stays on the list;
    #   f3 arrives 12, decided 14: the list is not empty, so f3 queues behind f2;
    #   week 20: one place -> f2 funded at 20; f3 stays unfunded at the horizon.
    files = applicants([0, 1, 2, 12], review=[2] * 4)
    changes = (PolicyChange(10.0, places=1), PolicyChange(20.0, places=1))
    rec = simulate(files, terms(places=1, changes=changes))
    check(
        "R-CHANGE",
        rec,
        4,
        status=["AWARDED", "AWARDED", "AWARDED", "UNFUNDED"],
        decision=[2, 10, 20, 14],
        upgrade_start=[2, 10, 20, NAN],
        upgrade_end=[12, 20, 30, NAN],
        exhaustion=3.0,
        exhausted_by="PLACES",
    )


def test_a_money_top_up_funds_the_reserve_list_while_its_first_file_fits(simulate) -> None:
    # Budget 250, review 2 weeks; HK$150 more at week 10 (limit 400):
    #   f0 (grant 200) decided 2, funded (200); f1 (200) decided 3: 400 > 250 -> money runs out at 3;
    #   f2 (50) decided 4: on the reserve list behind f1, although it would fit;
    #   week 10: 200 + 200 = 400 <= 400 -> f1 funded at 10; then 400 + 50 > 400 -> f2 waits.
    files = applicants([0, 1, 2], review=[2] * 3, grant=[200, 200, 50])
    rec = simulate(files, terms(budget_hkd=250.0, changes=(PolicyChange(10.0, budget_hkd=150.0),)))
    check(
        "R-CHANGE",
        rec,
        3,
        status=["AWARDED", "AWARDED", "UNFUNDED"],
        decision=[2, 10, 4],
        exhaustion=3.0,
        exhausted_by="MONEY",
    )


def test_an_exhausted_scheme_reopens_when_a_top_up_empties_the_reserve_list(simulate) -> None:
    # One place, closing on exhaustion, review 2 weeks; two more places at week 10:
    #   f0 decided 2, funded; f1 decided 3 exhausts the scheme (reserve list: f1);
    #   f2 arrives 5 (exhausted): turned away;
    #   week 10: f1 funded at 10, the list is empty: the scheme reopens with one place left;
    #   f3 arrives 11: admitted, decided 13, funded; f4 arrives 12, decided 14: exhausts it again
    #   (reserve list: f4), and f5 arriving 15 is turned away. The exhaustion week stays the first, 3.
    files = applicants([0, 1, 5, 11, 12, 15], review=[2] * 6)
    rec = simulate(files, terms(places=1, close_on_exhaustion=True, changes=(PolicyChange(10.0, places=2),)))
    check(
        "R-CHANGE",
        rec,
        6,
        status=["AWARDED", "AWARDED", "TURNED_AWAY", "AWARDED", "UNFUNDED", "TURNED_AWAY"],
        review_start=[0, 1, NAN, 11, 12, NAN],
        decision=[2, 10, NAN, 13, 14, NAN],
        exhaustion=3.0,
        exhausted_by="PLACES",
    )


def test_an_early_close_turns_later_arrivals_away(simulate) -> None:
    # Ample money and places; applications close at week 5, review 2 weeks:
    #   f0 arrives 1 and f1 arrives 5 (at the close, not after it): reviewed, decided 3 and 7, funded;
    #   f2 arrives 6 and f3 arrives 9: turned away (counted as turned away, never reviewed).
    files = applicants([1, 5, 6, 9], review=[2] * 4)
    rec = simulate(files, terms(changes=(PolicyChange(5.0, closes=True),)))
    check(
        "R-CHANGE",
        rec,
        4,
        status=["AWARDED", "AWARDED", "TURNED_AWAY", "TURNED_AWAY"],
        review_start=[1, 5, NAN, NAN],
        decision=[3, 7, NAN, NAN],
        exhaustion=NAN,
        exhausted_by="NONE",
    )


def test_a_change_goes_before_the_meeting_of_its_week(simulate) -> None:
    # Rounds every 4 weeks, one place; one more place at week 8 (a meeting week):
    #   f0 (readiness 0.2) and f1 (0.9) reviewed by week 3, decided at the meeting at 4: f1 (ready
    #   first) funded, f0 exhausts the scheme at 4 (reserve list: f0);
    #   f2 (readiness 0.5) reviewed 5-7, decided at 8: the top-up at 8 comes first and funds f0
    #   (awarded at 8), so f2 finds no place and joins the reserve list.
    files = applicants([0, 1, 5], review=[2] * 3, readiness=[0.2, 0.9, 0.5])
    rec = simulate(files, terms(rule="rounds", places=1, changes=(PolicyChange(8.0, places=1),)))
    check(
        "R-CHANGE",
        rec,
        3,
        status=["AWARDED", "AWARDED", "UNFUNDED"],
        decision=[8, 4, 8],
        exhaustion=4.0,
        exhausted_by="PLACES",
    )


def test_a_zero_top_up_is_bit_identical_to_none(simulate) -> None:
    # The reserve-list example with nothing added at weeks 10 and 20: every record field the same.
    files = applicants([0, 1, 2, 12, 15], review=[2] * 5, grant=[100, 200, 50, 80, 10])
    base = terms(budget_hkd=250.0, places=3, close_on_exhaustion=True)
    zero = (PolicyChange(10.0, budget_hkd=0.0), PolicyChange(20.0, places=0.0))
    plain, topped = simulate(files, base), simulate(files, terms(**{**_as_dict(base), "changes": zero}))
    for field in fields(plain):
        np.testing.assert_array_equal(
            getattr(topped, field.name), getattr(plain, field.name), err_msg=f"R-CHANGE: {field.name}"
        )
    check("R-CHANGE", plain, 5, status=["AWARDED", "UNFUNDED", "UNFUNDED", "TURNED_AWAY", "TURNED_AWAY"])


def _as_dict(t: object) -> dict[str, object]:
    return {f.name: getattr(t, f.name) for f in fields(t)}  # type: ignore[arg-type]


def test_a_new_cap_applies_to_files_decided_from_its_week(simulate) -> None:
    # Matching 1 : 2 (grant = min(cap, cost / 3)), review 2 weeks, budget 250; cap HK$60 from week 4:
    #   f0 (cost 300) decided 2, before the change: keeps its grant of 100, funded (100);
    #   f1 (cost 300) decided 4, at the change's week: min(60, 100) = 60, funded (160);
    #   f2 (cost 300) decided 7: 60, funded (220);
    #   f3 (cost 150) decided 9: min(60, 50) = 50; 270 > 250 -> the money runs out at 9.
    files = applicants([0, 2, 5, 7], review=[2] * 4, cost=[300, 300, 300, 150], grant=[100, 100, 100, 50])
    rec = simulate(
        files, terms(budget_hkd=250.0, matching_ratio=2.0, changes=(PolicyChange(4.0, max_grant_hkd=60.0),))
    )
    check(
        "R-CHANGE",
        rec,
        4,
        status=["AWARDED", "AWARDED", "AWARDED", "UNFUNDED"],
        grant=[100, 60, 60, 50],
        decision=[2, 4, 7, 9],
        exhaustion=9.0,
        exhausted_by="MONEY",
    )


def test_a_raised_cap_changes_no_grant_below_it(simulate) -> None:
    # A cap of HK$1,000 from week 1 leaves grants of cost / 3 = 100 (every file decided after it).
    files = applicants([0, 1], review=[2] * 2, cost=[300, 300], grant=[100, 100])
    rec = simulate(files, terms(matching_ratio=2.0, changes=(PolicyChange(1.0, max_grant_hkd=1000.0),)))
    check("R-CHANGE", rec, 2, status=["AWARDED", "AWARDED"], grant=[100, 100])


def test_an_assessor_added_at_week_2_takes_the_first_waiting_file(simulate) -> None:
    # One reviewer, four files arriving at week 0 with reviews of 4 weeks; one assessor from week 2:
    #   f0 starts at 0 on the first reviewer (decided 4); f1, f2, f3 wait;
    #   week 2: the new assessor takes f1, the first waiting (2-6, decided 6);
    #   week 4: the first reviewer frees up: f2 (4-8); week 6: the assessor frees up: f3 (6-10).
    # Without the change: starts 0, 4, 8, 12 and decisions 4, 8, 12, 16.
    files = applicants([0, 0, 0, 0], review=[4] * 4)
    rec = simulate(files, terms(capacity=1, changes=(PolicyChange(2.0, assessors=1),)))
    check(
        "R-CHANGE",
        rec,
        4,
        status=["AWARDED"] * 4,
        review_start=[0, 2, 4, 6],
        decision=[4, 6, 8, 10],
        upgrade_end=[14, 16, 18, 20],
    )
    plain = simulate(files, terms(capacity=1))
    check("R-VET-FCFS", plain, 4, review_start=[0, 4, 8, 12], decision=[4, 8, 12, 16])


def test_assessors_from_two_changes_join_at_their_weeks(simulate) -> None:
    # One reviewer, six files at week 0 reviewed in 4 weeks; one assessor from week 2, two from week 3
    # (the second change also adds a place: four places in all):
    #   f0 0-4 (first reviewer); week 2: f1 2-6; week 3: f2 and f3 3-7 on the two new ones;
    #   week 4: f4 4-8 (first reviewer); week 6: f5 6-10;
    #   decisions 4, 6, 7, 7, 8, 10: f0, f1, f2 take the three places, f3 the one added at week 3;
    #   f4 (decided 8) exhausts the scheme and f5 waits behind it.
    files = applicants([0] * 6, review=[4] * 6)
    changes = (PolicyChange(2.0, assessors=1), PolicyChange(3.0, places=1, assessors=2))
    rec = simulate(files, terms(capacity=1, places=3, changes=changes))
    check(
        "R-CHANGE",
        rec,
        6,
        status=["AWARDED"] * 4 + ["UNFUNDED"] * 2,
        review_start=[0, 2, 3, 3, 4, 6],
        decision=[4, 6, 7, 7, 8, 10],
        exhaustion=8.0,
        exhausted_by="PLACES",
    )


def test_an_assessor_idle_at_its_week_reviews_the_next_arrival_at_once(simulate) -> None:
    # One reviewer busy with f0 from 0 to 10; one assessor from week 5; review 10 weeks:
    #   f1 arrives 5, the assessor's week (a change goes before the arrivals of its week): starts at 5;
    #   f2 arrives 7: both reviewers busy (to 10 and 15), so it starts at 10 on the first;
    #   f3 arrives 20: both free, it starts at 20. Nothing waited at week 5, so nothing moved then.
    files = applicants([0, 5, 7, 20], review=[10] * 4)
    rec = simulate(files, terms(capacity=1, changes=(PolicyChange(5.0, assessors=1),)))
    check("R-CHANGE", rec, 4, review_start=[0, 5, 10, 20], decision=[10, 15, 20, 30])


def test_assessors_after_an_early_close_review_the_files_already_in(simulate) -> None:
    # One reviewer, reviews of 6 weeks; applications close at week 3; two assessors from week 4:
    #   f0, f1, f2 arrive at 0, 1, 2: f0 0-6; at week 4 the assessors take f1 and f2 (4-10);
    #   f3 arrives 5, after the close: turned away, never reviewed.
    files = applicants([0, 1, 2, 5], review=[6] * 4)
    changes = (PolicyChange(3.0, closes=True), PolicyChange(4.0, assessors=2))
    rec = simulate(files, terms(capacity=1, changes=changes))
    check(
        "R-CHANGE",
        rec,
        4,
        status=["AWARDED", "AWARDED", "AWARDED", "TURNED_AWAY"],
        review_start=[0, 4, 4, NAN],
        decision=[6, 10, 10, NAN],
    )
