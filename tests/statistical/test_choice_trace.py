"""The trace says where each firm's project went and why (R-CHOICE), consistently with what it did.

One replication of the baseline, where Manufacturing+ and NIFS both list the manufacturing SMEs: a
firm appears in both schemes' rows with the same project cost and the same chosen scheme; it is a
would-be applicant (and applies) only in the scheme its project went to; projects going to NIFS cost
at least HK$3M; and a project from HK$3M whose NIFS week was inside the window went to NIFS for its
larger grant.
"""

from __future__ import annotations

import numpy as np

from sim.engines import des
from sim.spec.loader import load_scenario
from tests.conftest import SCENARIOS


def test_the_trace_names_the_chosen_scheme_and_the_reason() -> None:
    scenario = load_scenario(SCENARIOS / "baseline.toml").scenario
    _, trace = des.simulate_replication(scenario, 5, 2, trace=True)
    assert trace is not None
    trace = trace[trace["application"] == 1]  # a firm's own row (a re-application has a second one)
    plus = trace[trace["scheme"] == "manufacturing_plus"].reset_index(drop=True)
    nifs = trace[trace["scheme"] == "nifs"].reset_index(drop=True)
    # the same firms in the same order (one segment), with one project each
    np.testing.assert_array_equal(plus["project_cost_hkd"], nifs["project_cost_hkd"])
    np.testing.assert_array_equal(plus["chosen_scheme"], nifs["chosen_scheme"])
    np.testing.assert_array_equal(plus["choice_reason"], nifs["choice_reason"])
    for rows, name in ((plus, "manufacturing_plus"), (nifs, "nifs")):
        assert (rows.loc[rows["would_be"], "chosen_scheme"] == name).all()
        assert (rows.loc[rows["application_week"].notna(), "chosen_scheme"] == name).all()
    to_nifs = nifs["chosen_scheme"] == "nifs"
    assert to_nifs.any()
    assert (nifs.loc[to_nifs, "project_cost_hkd"] >= 3_000_000).all()
    # a large project fits both: NIFS for its larger grant when both are open, else the open one or,
    # when neither is open at its week, NIFS's larger grant where it never applies
    assert set(nifs.loc[to_nifs, "choice_reason"]) <= {"largest grant", "only open scheme", "window closed"}
    assert (nifs.loc[to_nifs, "choice_reason"] == "largest grant").any()
    closed = trace["choice_reason"] == "window closed"
    assert trace.loc[closed, "application_week"].isna().all()
    small = plus["project_cost_hkd"] < 3_000_000
    assert (plus.loc[small, "chosen_scheme"] == "manufacturing_plus").all()
    assert set(plus.loc[small, "choice_reason"]) <= {"only scheme", "window closed"}
    # a large project goes to Manufacturing+ only when NIFS was closed at its week there
    large_plus = ~small & (plus["chosen_scheme"] == "manufacturing_plus")
    assert (plus.loc[large_plus, "choice_reason"].isin(["only open scheme", "window closed"])).all()
