"""R-UPTAKE-TIME: a would-be applicant's uniform gives its application week (MODEL.md 3c-d).

The rule is one function both engines call on their uniforms
(:func:`sim.engines.uptake.application_time`); its worked examples give a
handful of uniforms and the weeks computed by hand. The applications it makes
then go through both engines' process rules and give identical records, and
both engines' normal paths keep every application inside its window.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from sim.engines import batch, des
from sim.engines.applicants import process_terms
from sim.engines.parameters import draw_parameters, scheme_parameters, segment_parameters
from sim.engines.records import Status
from sim.engines.registry import simulate_records
from sim.engines.rules import RULES, bass_cdf, bass_inverse
from sim.engines.uptake import Timing, application_time, timing_cdf
from tests.rules.conftest import applicants, terms
from tests.rules.test_engines_agree import CASES, FIELDS, _random_applicants
from tests.statistical.helpers import open_scheme_scenario

RULE = "R-UPTAKE-TIME"
P, Q = 0.01, 0.08
#: Half apply in a 4-week launch burst, half in a 2-week rush before the close of a 13-week window.
BURSTS_ONLY = Timing(
    bass_p=P, bass_q=Q, length=13.0, launch_share=0.5, launch_weeks=4.0, rush_share=0.5, rush_weeks=2.0
)


def test_bursts_alone_are_uniform_in_their_weeks() -> None:
    """u = 0.25 is half-way through the launch (week 2); u = 0.75 half-way through the rush, which runs
    from week 11 to 13 (week 12); u = 0.999 is 99.8% through the rush (week 12.996)."""
    got = application_time(np.array([0.0, 0.25, 0.5, 0.75, 0.999]), BURSTS_ONLY)
    np.testing.assert_allclose(got, [0.0, 2.0, 4.0, 12.0, 12.996], rtol=0, atol=1e-12, err_msg=RULE)


def test_without_bursts_the_time_is_the_bass_inverse_exactly() -> None:
    """u = 0.5 with p = 0.01, q = 0.08: t = ln((1 + 0.5 * 8) / 0.5) / 0.09 = ln(10) / 0.09."""
    plain = Timing(bass_p=P, bass_q=Q, length=104.0)
    u = np.array([0.1, 0.5, 0.9])
    assert application_time(0.5, plain) == pytest.approx(math.log(10.0) / 0.09, rel=1e-15), RULE
    np.testing.assert_array_equal(application_time(u, plain), bass_inverse(u, P, Q), err_msg=RULE)


def test_between_the_bursts_only_the_bass_part_moves() -> None:
    """With a 20% launch burst over 4 weeks, a firm at u = 0.2 + 0.8 F_Bass(10) applies in week 10."""
    launch = Timing(bass_p=P, bass_q=Q, length=52.0, launch_share=0.2, launch_weeks=4.0)
    u = 0.2 + 0.8 * float(bass_cdf(10.0, P, Q))
    assert application_time(u, launch) == pytest.approx(10.0, abs=1e-12), RULE


def test_inside_a_burst_the_time_solves_the_cdf() -> None:
    """Inside the launch burst and the rush (with Bass beneath them) F(t) = u, and the Bass part
    makes each firm apply earlier than the burst alone would."""
    mixed = Timing(
        bass_p=P, bass_q=Q, length=13.0, launch_share=0.2, launch_weeks=4.0, rush_share=0.26, rush_weeks=1.0
    )
    u = np.array([0.05, 0.1, 0.19])
    t = application_time(u, mixed)
    np.testing.assert_allclose(timing_cdf(t, mixed), u, rtol=0, atol=1e-12, err_msg=RULE)
    assert np.all(t < u / 0.2 * 4.0), RULE
    top = timing_cdf(13.0, mixed)
    rush = application_time(np.array([top - 0.2, top - 0.01]), mixed)
    assert np.all((rush > 12.0) & (rush < 13.0)), RULE


def test_past_the_close_means_never() -> None:
    """A uniform above F(W) gives a time after the close: with a 13-week window and Bass beneath,
    u = F(13) + 0.01 lies past week 13."""
    mixed = Timing(
        bass_p=P, bass_q=Q, length=13.0, launch_share=0.2, launch_weeks=4.0, rush_share=0.26, rush_weeks=1.0
    )
    after = application_time(float(timing_cdf(13.0, mixed)) + 0.01, mixed)
    assert after > 13.0, RULE
    # past the close only the Bass part rises: F = L + R + (1 - L - R) F_Bass
    assert 0.2 + 0.26 + 0.54 * float(bass_cdf(after, P, Q)) == pytest.approx(
        float(timing_cdf(13.0, mixed)) + 0.01
    )


def test_times_increase_with_the_uniform() -> None:
    """The batch engine hands sorted uniforms to candidates in order: the rule must keep that order."""
    mixed = Timing(
        bass_p=P, bass_q=Q, length=13.0, launch_share=0.3, launch_weeks=4.0, rush_share=0.3, rush_weeks=3.0
    )
    t = application_time(np.linspace(0.0, 0.999, 5001), mixed)
    assert np.all(np.diff(t) >= 0), RULE


def test_a_firm_gets_the_same_time_alone_or_with_others() -> None:
    """Per-firm terms (one replication's parameters each) give each firm the time it gets alone."""
    u = np.array([0.05, 0.3, 0.7, 0.95])
    share = np.array([0.1, 0.2, 0.3, 0.4])
    together = application_time(
        u, Timing(bass_p=P, bass_q=Q, length=13.0, launch_share=share, launch_weeks=4.0)
    )
    alone = [
        application_time(
            u[i], Timing(bass_p=P, bass_q=Q, length=13.0, launch_share=share[i], launch_weeks=4.0)
        )
        for i in range(4)
    ]
    np.testing.assert_array_equal(together, np.ravel(alone), err_msg=RULE)


def test_applications_timed_by_the_rule_give_identical_records_on_both_engines() -> None:
    """Firms with given uniforms in a window opening in week 10: weeks 12, 14, 22 and 22.996 computed
    by hand; both engines' process rules then give the same records, to the bit."""
    arrival = 10.0 + application_time(np.array([0.25, 0.5, 0.75, 0.999]), BURSTS_ONLY)
    np.testing.assert_allclose(arrival, [12.0, 14.0, 22.0, 22.996], rtol=0, atol=1e-12, err_msg=RULE)
    files = applicants(arrival, review=[3.0, 1.0, 0.5, 0.25], decide=[0.5, 0.05, 0.9, 0.5])
    scheme = terms(capacity=1, places=2)
    ours, theirs = des.simulate_applicants(files, scheme), batch.simulate_applicants(files, scheme)
    for field in ("arrival", "status", "review_start", "decision", "upgrade_start", "upgrade_end"):
        np.testing.assert_array_equal(
            getattr(ours, field)[0, :4], getattr(theirs, field)[0, :4], err_msg=field
        )
    want = ["AWARDED", "WITHDRAWN", "REJECTED", "AWARDED"]
    assert [Status(int(s)).name for s in ours.status[0, :4]] == want, RULES[RULE].title


@pytest.mark.parametrize("engine", ["des", "batch"])
def test_every_engine_applies_only_inside_the_bursts_of_its_window(engine) -> None:
    """All would-be applicants in a launch burst (weeks 10-14) or a rush (weeks 21-23) of a window
    open from week 10 to 23: every application falls inside them, and some in each."""
    scenario = open_scheme_scenario(
        segments={"firms": {"count": 300}},
        schemes={
            "open": {
                "opens_week": 10,
                "closes_week": 23,
                "uptake": {"launch_share": 0.5, "launch_weeks": 4, "rush_share": 0.5, "rush_weeks": 2},
            }
        },
    )
    rec = simulate_records(scenario, 11, np.arange(20), engine)["open"]
    times = rec.arrival[rec.status != Status.PADDING]
    assert times.size > 100
    launch, rush = (times >= 10) & (times <= 14), (times >= 21) & (times <= 23)
    assert np.all(launch | rush), f"{RULE}: {np.sort(times[~(launch | rush)])[:5]}"
    assert launch.any(), RULE
    assert rush.any(), RULE


@pytest.mark.parametrize("case", list(CASES))
def test_burst_timed_applications_give_identical_records_on_both_engines(case) -> None:
    """Sixty firms timed by the rule in a call opening in week 5 (a launch burst and a deadline rush
    crowd the reviewers): every record field is equal on both engines, to the bit."""
    rng = np.random.default_rng(7)
    timing = Timing(
        bass_p=P, bass_q=Q, length=20.0, launch_share=0.3, launch_weeks=2.0, rush_share=0.3, rush_weeks=1.0
    )
    weeks = 5.0 + application_time(np.sort(rng.random(60)), timing)
    weeks = weeks[weeks <= 25.0]
    factors = np.array([[1.0, 0.8]])
    scheme = terms(completion_factor=factors, no_gain_probability=0.2, deadweight=0.4, **CASES[case])
    files = _random_applicants(rng, weeks.size, factors, scheme.completion_probability, scheme.horizon)
    files = replace(files, arrival=weeks)
    ours, theirs = des.simulate_applicants(files, scheme), batch.simulate_applicants(files, scheme)
    n = files.size
    for field in ("arrival", *FIELDS):
        np.testing.assert_array_equal(
            getattr(ours, field)[0, :n], getattr(theirs, field)[0, :n], err_msg=f"{case}: {field}"
        )
    np.testing.assert_array_equal(ours.exhaustion, theirs.exhaustion, err_msg=f"{case}: exhaustion")
    np.testing.assert_array_equal(ours.exhausted_by, theirs.exhausted_by, err_msg=f"{case}: exhausted_by")


def test_the_simpy_engines_normal_path_with_bursts_runs_the_same_process_as_its_seam() -> None:
    """A drawn replication of a call with a launch burst and a rush, its applications run through the
    seam alone, gives the replication's records."""
    scenario = open_scheme_scenario(
        segments={"firms": {"count": 500}},
        schemes={
            "open": {
                "opens_week": 3,
                "closes_week": 16,
                "places": 30,
                "vetting": {"capacity": 4},
                "uptake": {"launch_share": 0.3, "launch_weeks": 2, "rush_share": 0.3, "rush_weeks": 1},
            }
        },
    )
    seed, rep = 4, 2
    draws = draw_parameters(scenario, seed, [rep])
    records, _ = des.simulate_replication(scenario, seed, rep, draws)
    par = scheme_parameters(draws, "open")
    files, _ = des._prepare(scenario, "open", par, [segment_parameters(draws, "firms")], 0, seed, rep)
    alone = des.simulate_applicants(files, process_terms(scenario, "open", par, 0))
    assert files.size > 10
    assert np.all(np.diff(files.arrival) >= 0)
    for field in ("arrival", *FIELDS):
        np.testing.assert_array_equal(getattr(alone, field), getattr(records["open"], field), err_msg=field)
