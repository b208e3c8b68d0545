"""R-FUND and R-CHANGE seen in the weekly series of approvals, on both engines.

A handful of files run through each engine's process rules; their records go
through the metrics both engines share (:func:`sim.engines.metrics.scheme_metrics`),
and the cumulative approvals at each week are counted by hand: every approved
file (funded or not) at its recorded decision week, a file approved when the
money has run out included.
"""

from __future__ import annotations

import numpy as np

from sim.engines.metrics import SERIES, scheme_metrics
from sim.engines.records import SchemeRecords
from sim.engines.timeline import PolicyChange
from tests.oracle.draws import scheme_draws
from tests.rules.conftest import applicants, check, terms

SCHEME = "demo"
HORIZON = 12.0


def weekly(rec: SchemeRecords, name: str, horizon: float = HORIZON) -> list[float]:
    """One weekly series of the records' single replication, weeks 0 .. horizon."""
    draws = scheme_draws(SCHEME, {"budget_hkd": np.array([1e9]), "places": np.array([1000.0])})
    series = scheme_metrics(rec, draws, SCHEME, horizon).weekly
    assert series is not None
    return series[0, SERIES.index(name)].tolist()


def test_an_approval_the_money_cannot_fund_still_counts_at_its_decision_week(simulate) -> None:
    # Budget 500, review 1 week; six files arriving at 0, 1, 2, 3, 4, 5, decided at 1 .. 6:
    #   f0 (grant 200) approved, funded; f1 (200) approved, funded (400);
    #   f2 (200) approved, 600 > 500: the money has run out, unfunded (exhausts at 3);
    #   f3 rejected (u = 0.9 >= 0.82); f4 withdrawn (u = 0.05); f5 (50) approved, unfunded.
    # Approvals by week 0..7: f0 at 1, f1 at 2, f2 at 3, f5 at 6; awards only f0 and f1.
    files = applicants(
        [0, 1, 2, 3, 4, 5], grant=[200, 200, 200, 100, 100, 50], decide=[0.5, 0.5, 0.5, 0.9, 0.05, 0.5]
    )
    rec = simulate(files, terms(budget_hkd=500.0, horizon=HORIZON))
    check(
        "R-FUND",
        rec,
        6,
        decision=[1, 2, 3, 4, 5, 6],
        status=["AWARDED", "AWARDED", "UNFUNDED", "REJECTED", "WITHDRAWN", "UNFUNDED"],
        exhausted_by="MONEY",
    )
    assert weekly(rec, "approvals")[:8] == [0, 1, 2, 3, 3, 3, 4, 4], "R-FUND: approvals"
    assert weekly(rec, "awards")[:8] == [0, 1, 2, 2, 2, 2, 2, 2], "R-FUND: awards"
    assert weekly(rec, "approvals")[-1] == 4


def test_a_reserve_list_award_counts_as_approved_at_its_award_week(simulate) -> None:
    # One place, review 2 weeks; one more place at week 10 (MODEL.md, R-CHANGE "Award time"):
    #   f0 decided 2, funded; f1 decided 3, no place: reserve list (exhausts at 3);
    #   f2 decided 4: reserve list behind f1; week 10: f1 funded, its recorded decision week 10;
    #   f2 stays unfunded, counted at its decision week 4.
    # Approvals by week 0..12: f0 at 2, f2 at 4, f1 at 10 (its award week, not 3).
    files = applicants([0, 1, 2], review=[2] * 3)
    rec = simulate(files, terms(places=1, horizon=HORIZON, changes=(PolicyChange(10.0, places=1),)))
    check("R-CHANGE", rec, 3, status=["AWARDED", "AWARDED", "UNFUNDED"], decision=[2, 10, 4])
    assert weekly(rec, "approvals") == [0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3], "R-CHANGE: approvals"
    assert weekly(rec, "awards") == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2], "R-CHANGE: awards"
