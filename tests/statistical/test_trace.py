"""The SimPy engine's per-firm trace against independent recomputation.

Waits in the trace must equal the c-server first-come-first-served recursion
recomputed from arrival and review times (MODEL.md), decisions must follow the
allocation rule, and the trace must agree with the replication's metrics.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.allocation import DecisionTime, allocation_rule
from sim.engines.des import simulate_replication
from sim.engines.metrics import scheme_metrics
from sim.engines.parameters import draw_parameters
from sim.engines.rules import next_meeting
from sim.spec.loader import load_scenario
from sim.spec.scenario import closing_week
from tests.conftest import SCENARIOS
from tests.statistical.helpers import fcfs_starts, reapply_scenario, top_up_call_scenario

CASES = ["baseline", "vetting-half", "committee-rounds", "integrators-limited", "lottery"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("rep", [0, 3])
def test_trace_waits_equal_fcfs_recursion(name: str, rep: int) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.toml").scenario
    draws = draw_parameters(scenario, 11, [rep])
    records, trace = simulate_replication(scenario, 11, rep, draws, trace=True)
    horizon = scenario.horizon_weeks
    for scheme_name, scheme in scenario.schemes.items():
        t = trace[(trace["scheme"] == scheme_name) & trace["status"].ne("")]
        admitted = t[t["status"] != "turned_away"]
        capacity = int(draws.scheme(scheme_name, "vetting.capacity")[0])
        starts = fcfs_starts(
            admitted["application_week"].to_numpy(), admitted["review_weeks"].to_numpy(), capacity
        )
        seen = admitted["review_start_week"].to_numpy()
        inside = starts <= horizon
        np.testing.assert_allclose(seen[inside], starts[inside], rtol=0, atol=1e-9)
        assert np.isnan(seen[~inside]).all()
        ends = starts + admitted["review_weeks"].to_numpy()
        decided = admitted["decision_week"].notna().to_numpy()
        rule = allocation_rule(scheme.allocation.rule)
        if rule.decides_at_meetings:
            expected = next_meeting(ends, scheme.allocation.meeting_interval_weeks)
        elif (
            rule.decided_at is DecisionTime.CLOSE
        ):  # one draw: the later of the close and the last review end
            expected = np.full(len(ends), max(float(closing_week(scheme)), float(ends.max(initial=0.0))))
        else:
            expected = ends
        np.testing.assert_allclose(
            admitted["decision_week"].to_numpy()[decided], expected[decided], atol=1e-9
        )
        assert (expected[~decided] > horizon).all()
        # the trace's waits give the replication's mean wait
        m = scheme_metrics(records[scheme_name], draws, scheme_name, horizon, end=scenario.end_weeks).values
        waits = (admitted["decision_week"] - admitted["application_week"]).dropna()
        assert waits.mean() == pytest.approx(m["wait_mean_weeks"][0], rel=1e-12)
        assert len(admitted) + (t["status"] == "turned_away").sum() == m["applications"][0]
        assert (t["status"] == "awarded").sum() == m["awarded"][0]
        # the trace gives each project's standing at the end of the follow-up
        assert (t["upgrade"] == "completed").sum() == m["completed_follow_up"][0]


def test_integrators_are_fifo_in_award_order() -> None:
    """With finite integrators, upgrade starts follow the same recursion over award times."""
    scenario = load_scenario(SCENARIOS / "integrators-limited.toml").scenario
    _, trace = simulate_replication(scenario, 5, 1, trace=True)
    t = trace[(trace["scheme"] == "manufacturing_plus") & (trace["status"] == "awarded")]
    lengths = np.where(t["upgrade_end_week"].notna(), t["upgrade_end_week"] - t["upgrade_start_week"], np.inf)
    # projects still running at the end of the follow-up have unknown length; they hold an
    # integrator to the end
    starts = fcfs_starts(t["decision_week"].to_numpy(), lengths, 60)
    seen = t["upgrade_start_week"].to_numpy()
    inside = starts <= scenario.end_weeks
    np.testing.assert_allclose(seen[inside], starts[inside], atol=1e-9)
    assert np.isnan(seen[~inside]).all()
    assert (t["upgrade_start_week"] - t["decision_week"]).max() > 0, "capacity should bind in this scenario"


def test_the_trace_shows_files_funded_from_the_reserve_list() -> None:
    """R-CHANGE: files a top-up funds joined the reserve list before it and are awarded at its week."""
    scenario = top_up_call_scenario()  # places fill, 100 more at week 40
    _, trace = simulate_replication(scenario, 5, 0, trace=True)
    t = trace[trace["status"].ne("")]
    funded = t[t["funded_from_reserve"]]
    assert len(funded) > 0
    assert (funded["status"] == "awarded").all()
    assert (funded["decision_week"] == 40.0).all()
    assert (funded["reserve_list_week"] < 40.0).all()
    assert (funded["reserve_list_week"] >= funded["review_end_week"]).all()
    assert t.loc[t["status"] == "unfunded", "reserve_list_week"].notna().all()
    assert t.loc[~t["funded_from_reserve"] & (t["status"] == "awarded"), "reserve_list_week"].isna().all()


def test_the_trace_shows_each_re_application_as_a_second_row() -> None:
    """R-REAPPLY: one second row (``application`` 2) per firm that reapplied, after its first
    application was rejected and within the horizon; no firm is awarded twice."""
    scenario = reapply_scenario()
    records, trace = simulate_replication(scenario, 5, 0, trace=True)
    second = trace[trace["application"] == 2]
    assert len(second) == int(records["open"].reapplied.sum()) > 0
    assert not second.duplicated(["scheme", "firm"]).any()
    first = trace[trace["application"] == 1].set_index(["scheme", "firm"])
    before = first.loc[list(zip(second["scheme"], second["firm"], strict=True))]
    assert (before["status"] == "rejected").all()
    assert (second["application_week"].to_numpy() > before["decision_week"].to_numpy()).all()
    assert (second["application_week"] <= scenario.horizon_weeks).all()
    assert (second["project_cost_hkd"].to_numpy() == before["project_cost_hkd"].to_numpy()).all()
    awards = trace[trace["status"] == "awarded"].groupby(["scheme", "firm"]).size()
    assert (awards == 1).all()
    assert (second["status"] == "awarded").any()
