"""All rules at once: the two engines' process rules give identical records on random tables.

The worked examples pin one rule each; here thirty to eighty applications with
continuous random draws (ties have probability zero) go through both engines'
``simulate_applicants`` under several terms, and every record field must be
equal, to the bit.
"""

from __future__ import annotations

import copy
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from sim.engines import batch, des
from sim.engines.applicants import Applicants, process_terms
from sim.engines.parameters import draw_parameters, scheme_parameters, segment_parameters
from sim.engines.reapply import SecondTries
from sim.engines.records import Status
from sim.engines.rules import completion_probability
from sim.engines.timeline import PolicyChange
from sim.spec.loader import scenario_from_dict
from tests.rules.conftest import terms

FIELDS = (
    "status",
    "review_start",
    "decision",
    "upgrade_start",
    "upgrade_end",
    "completes",
    "gain",
    "deadweight",
)

CASES: dict[str, dict[str, Any]] = {
    "first come, budget binds": {"budget_hkd": 2_000.0},
    "places bind and the scheme closes": {"places": 12, "close_on_exhaustion": True},
    "committee rounds": {"rule": "rounds", "meeting_interval_weeks": 4.0, "places": 15},
    "few reviewers and integrators": {"capacity": 3, "integrators": 2, "completion_probability": 0.7},
    "short horizon": {"horizon": 30.0, "capacity": 2, "integrators": 1},
    "follow-up": {"horizon": 30.0, "follow_up": 25.0, "capacity": 2, "integrators": 1, "rule": "rounds"},
    "lottery at each meeting": {"rule": "lottery", "meeting_interval_weeks": 4.0, "places": 15},
    "lottery at the close": {
        "rule": "lottery_at_close",
        "closes_week": 40.0,
        "places": 15,
        "capacity": 8,
        "integrators": 3,
    },
    "lottery, money binds, scheme closes": {
        "rule": "lottery",
        "meeting_interval_weeks": 6.0,
        "budget_hkd": 2_000.0,
        "close_on_exhaustion": True,
    },
}


def _random_applicants(
    rng: np.random.Generator, n: int, factors: np.ndarray, completion: float, horizon: float
) -> Applicants:
    """``n`` applications over two bands, arriving in the first 60% of the horizon.

    The abandoned fraction given to the SimPy engine is the one the batch
    engine derives from the completion uniform, ``(u - p) / (1 - p)``.
    """
    band = rng.integers(0, factors.shape[1], n)
    complete = rng.random(n)
    p = completion_probability(completion, factors[0, band])
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(complete < p, 0.5, (complete - p) / (1.0 - p))
    cost = rng.lognormal(5.5, 0.5, n)
    return Applicants(
        segment=np.zeros(n, dtype=np.int64),
        band=band,
        arrival=np.sort(rng.uniform(0, 0.6 * horizon, n)),
        review=rng.lognormal(1.5, 0.5, n),
        decide=rng.random(n),
        cost=cost,
        grant=cost / 3,
        value_added=rng.lognormal(7, 1, n),
        readiness=rng.random(n),
        duration=rng.lognormal(2.5, 0.4, n),
        complete=complete,
        abandon_fraction=fraction,
        no_gain=rng.random(n),
        gain=rng.uniform(0, 0.2, n),
        deadweight=rng.random(n),
        ticket=rng.random(n),
    )


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_engines_give_the_same_records_on_a_random_table(case, seed) -> None:
    rng = np.random.default_rng(seed)
    factors = np.array([[1.0, 0.8]])
    scheme = terms(completion_factor=factors, no_gain_probability=0.2, deadweight=0.4, **CASES[case])
    n = int(rng.integers(30, 80))
    files = _random_applicants(rng, n, factors, scheme.completion_probability, scheme.horizon)
    ours, theirs = des.simulate_applicants(files, scheme), batch.simulate_applicants(files, scheme)
    for field in FIELDS:
        np.testing.assert_array_equal(
            getattr(ours, field)[0, :n], getattr(theirs, field)[0, :n], err_msg=f"{case}: {field}"
        )
    np.testing.assert_array_equal(ours.exhaustion, theirs.exhaustion, err_msg=f"{case}: exhaustion")
    np.testing.assert_array_equal(ours.exhausted_by, theirs.exhausted_by, err_msg=f"{case}: exhausted_by")


#: Cases where rejected files reapply (R-REAPPLY), with top-ups, a new cap and an early close (R-CHANGE).
REAPPLY_CASES: dict[str, dict[str, Any]] = {
    "first come, places bind, scheme closes": {"places": 20, "close_on_exhaustion": True},
    "few reviewers, committee rounds": {"capacity": 3, "rule": "rounds", "meeting_interval_weeks": 4.0},
    "lottery at each meeting, a top-up and a close": {
        "rule": "lottery",
        "meeting_interval_weeks": 6.0,
        "places": 6,
        "close_on_exhaustion": True,
        "changes": (PolicyChange(30.0, places=40, max_grant_hkd=60.0), PolicyChange(50.0, closes=True)),
    },
    "call closes, money binds, top-up": {
        "closes_week": 45.0,
        "budget_hkd": 2_500.0,
        "capacity": 5,
        "changes": (PolicyChange(35.0, budget_hkd=800.0),),
    },
    "lottery at the close, a top-up and a new cap": {
        "rule": "lottery_at_close",
        "closes_week": 40.0,
        "places": 10,
        "capacity": 6,
        "changes": (PolicyChange(20.0, max_grant_hkd=60.0), PolicyChange(60.0, places=8)),
    },
    "few reviewers, more assessors": {
        "capacity": 2,
        "places": 25,
        "changes": (PolicyChange(15.0, assessors=2), PolicyChange(25.5, assessors=1)),
    },
}


@pytest.mark.parametrize("case", list(REAPPLY_CASES))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_engines_give_the_same_re_applications_on_a_random_table(case, seed) -> None:
    """R-REAPPLY: with half the rejected files reapplying, every row (re-applications included, in
    order of arrival) is the same to the bit on both engines, and so are the counts."""
    rng = np.random.default_rng([seed, 7])
    factors = np.array([[1.0, 0.8]])
    scheme = terms(
        completion_factor=factors, approval_probability=0.5, reapply_probability=0.5, **REAPPLY_CASES[case]
    )
    n = int(rng.integers(30, 80))
    files = _random_applicants(rng, n, factors, scheme.completion_probability, scheme.horizon)
    second = SecondTries(
        rng.random(n), rng.lognormal(2.0, 0.6, n), rng.lognormal(1.5, 0.5, n), rng.random(n), rng.random(n)
    )
    files = replace(files, second=second)
    ours, theirs = des.simulate_applicants(files, scheme), batch.simulate_applicants(files, scheme)
    rows = n + int(ours.reapplied.sum())
    assert int(theirs.reapplied.sum()) == rows - n
    for field in (*FIELDS, "arrival", "grant", "cost"):
        np.testing.assert_array_equal(
            getattr(ours, field)[0, :rows], getattr(theirs, field)[0, :rows], err_msg=f"{case}: {field}"
        )
    assert (np.asarray(theirs.status)[0, rows:] == Status.PADDING).all(), f"{case}: extra rows"
    np.testing.assert_array_equal(ours.exhaustion, theirs.exhaustion, err_msg=f"{case}: exhaustion")
    np.testing.assert_array_equal(ours.reopenings, theirs.reopenings, err_msg=f"{case}: reopenings")


def test_the_random_re_application_tables_reapply_and_reopen() -> None:
    """The cases above make re-applications (and one reopens its scheme), so they test something."""
    made, reopened = 0, 0
    for case, seed in [(c, s) for c in REAPPLY_CASES for s in (1, 2, 3)]:
        rng = np.random.default_rng([seed, 7])
        factors = np.array([[1.0, 0.8]])
        scheme = terms(
            completion_factor=factors,
            approval_probability=0.5,
            reapply_probability=0.5,
            **REAPPLY_CASES[case],
        )
        n = int(rng.integers(30, 80))
        files = _random_applicants(rng, n, factors, scheme.completion_probability, scheme.horizon)
        second = SecondTries(
            rng.random(n),
            rng.lognormal(2.0, 0.6, n),
            rng.lognormal(1.5, 0.5, n),
            rng.random(n),
            rng.random(n),
        )
        rec = des.simulate_applicants(replace(files, second=second), scheme)
        made += int(rec.reapplied.sum())
        reopened += int(rec.reopenings.sum())
    assert made > 20
    assert reopened > 0


@pytest.mark.parametrize("rule", ["first_come", "lottery", "lottery_at_close"])
def test_the_simpy_engines_normal_path_runs_the_same_process_as_its_seam(small, rule) -> None:
    """A drawn replication's applications, run through the seam alone, give the replication's records
    (under a lottery, with the tickets the replication drew)."""
    source = copy.deepcopy(small.source)
    for scheme in source["schemes"].values():
        scheme["allocation"] = {"rule": rule, "meeting_interval_weeks": 6}
        if rule == "lottery_at_close":
            scheme["closes_week"] = 40  # a call
    scenario, seed, rep = scenario_from_dict(source), 4, 3
    draws = draw_parameters(scenario, seed, [rep])
    records, _ = des.simulate_replication(scenario, seed, rep, draws)
    sizes = []
    for name in scenario.schemes:
        par = scheme_parameters(draws, name)
        segments = [segment_parameters(draws, s) for s in scenario.schemes[name].segments]
        files, _ = des._prepare(scenario, name, par, segments, 0, seed, rep)
        alone = des.simulate_applicants(files, process_terms(scenario, name, par, 0))
        sizes.append(files.size)
        assert (files.ticket is None) == (rule == "first_come")
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(alone, field), getattr(records[name], field), err_msg=field)
        np.testing.assert_array_equal(alone.exhaustion, records[name].exhaustion)
        np.testing.assert_array_equal(alone.exhausted_by, records[name].exhausted_by)
    # not vacuous: Manufacturing+ and the I&T Accelerator have applications (NIFS, at a tenth of the
    # baseline, has one in two replications)
    assert sum(size > 0 for size in sizes) >= 2, sizes


def _random_changes(rng: np.random.Generator, horizon: float) -> tuple[PolicyChange, ...]:
    """One to three dated changes (R-CHANGE): top-ups of money and places, at whole weeks (so some
    fall on meeting weeks) or at random times, sometimes an early close, a new cap or more assessors."""
    k = int(rng.integers(1, 4))
    weeks = np.sort(rng.choice(np.arange(4, int(0.8 * horizon)), size=k, replace=False)).astype(float)
    weeks += np.where(rng.random(k) < 0.5, 0.0, rng.random(k))
    return tuple(
        PolicyChange(
            float(w),
            budget_hkd=float(rng.choice([0.0, rng.uniform(200, 1500)])),
            places=float(rng.integers(0, 8)),
            closes=bool(rng.random() < 0.2),
            max_grant_hkd=float(rng.uniform(50, 300)) if rng.random() < 0.3 else np.nan,
            assessors=int(rng.integers(1, 4)) if rng.random() < 0.4 else 0,
        )
        for w in weeks
    )


CHANGE_CASES: dict[str, dict[str, Any]] = {
    "first come": {"budget_hkd": 1_500.0, "places": 10},
    "first come, closes on exhaustion": {"budget_hkd": 1_500.0, "places": 10, "close_on_exhaustion": True},
    "rounds, closes on exhaustion": {"rule": "rounds", "places": 8, "close_on_exhaustion": True},
    "lottery at each meeting": {"rule": "lottery", "budget_hkd": 1_500.0, "close_on_exhaustion": True},
    "lottery at the close": {"rule": "lottery_at_close", "closes_week": 40.0, "places": 8, "capacity": 8},
    "integrators": {"places": 6, "capacity": 3, "integrators": 2, "close_on_exhaustion": True},
    "few reviewers": {"budget_hkd": 2_500.0, "places": 20, "capacity": 2},
    "few reviewers, rounds": {"rule": "rounds", "places": 20, "capacity": 2, "close_on_exhaustion": True},
}


@pytest.mark.parametrize("case", list(CHANGE_CASES))
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_both_engines_agree_under_random_dated_changes(case, seed) -> None:
    """R-CHANGE perturbed: random top-ups, caps, closes and assessors on random tables give identical
    records."""
    rng = np.random.default_rng(100 + seed)
    factors = np.array([[1.0, 0.8]])
    scheme = terms(completion_factor=factors, **CHANGE_CASES[case])
    n = int(rng.integers(30, 80))
    files = _random_applicants(rng, n, factors, scheme.completion_probability, scheme.horizon)
    scheme = replace(scheme, changes=_random_changes(rng, scheme.horizon))
    ours, theirs = des.simulate_applicants(files, scheme), batch.simulate_applicants(files, scheme)
    for field in FIELDS:
        np.testing.assert_array_equal(
            getattr(ours, field)[0, :n], getattr(theirs, field)[0, :n], err_msg=f"R-CHANGE {case}: {field}"
        )
    np.testing.assert_array_equal(ours.exhaustion, theirs.exhaustion, err_msg=f"R-CHANGE {case}: exhaustion")
    np.testing.assert_array_equal(ours.exhausted_by, theirs.exhausted_by, err_msg=f"R-CHANGE {case}")


def test_the_random_changes_add_assessors_who_move_reviews() -> None:
    """The random changes above add assessors, and with few reviewers these start some reviews
    earlier than the same table without them (on the SimPy engine; the batch engine agrees above)."""
    moved = 0
    for case, seed in [(c, s) for c in ("few reviewers", "few reviewers, rounds") for s in range(1, 6)]:
        rng = np.random.default_rng(100 + seed)
        factors = np.array([[1.0, 0.8]])
        scheme = terms(completion_factor=factors, **CHANGE_CASES[case])
        n = int(rng.integers(30, 80))
        files = _random_applicants(rng, n, factors, scheme.completion_probability, scheme.horizon)
        changes = _random_changes(rng, scheme.horizon)
        without = tuple(replace(c, assessors=0) for c in changes)
        more = des.simulate_applicants(files, replace(scheme, changes=changes)).review_start[0, :n]
        fewer = des.simulate_applicants(files, replace(scheme, changes=without)).review_start[0, :n]
        both = np.isfinite(more) & np.isfinite(fewer)  # (an earlier exhaustion may turn more files away)
        assert (more[both] <= fewer[both]).all(), f"{case}: a review started later with more assessors"
        moved += int((more != fewer).any())
    assert moved >= 3


@pytest.mark.parametrize("case", list(CASES))
def test_zero_top_ups_leave_every_record_unchanged_on_both_engines(case) -> None:
    """R-CHANGE: top-ups of nothing take the batch kernel's path for changes (and start the SimPy
    engine's change processes), yet every record field equals the run without them, to the bit."""
    rng = np.random.default_rng(7)
    factors = np.array([[1.0, 0.8]])
    scheme = terms(completion_factor=factors, no_gain_probability=0.2, deadweight=0.4, **CASES[case])
    n = int(rng.integers(30, 80))
    files = _random_applicants(rng, n, factors, scheme.completion_probability, scheme.horizon)
    zero = replace(scheme, changes=(PolicyChange(5.5, budget_hkd=0.0), PolicyChange(12.0, places=0.0)))
    for engine in (des, batch):
        plain, topped = engine.simulate_applicants(files, scheme), engine.simulate_applicants(files, zero)
        for field in dataclass_fields(plain):
            np.testing.assert_array_equal(
                getattr(topped, field.name),
                getattr(plain, field.name),
                err_msg=f"R-CHANGE {case}: {field.name}",
            )


def test_the_simpy_engines_normal_path_passes_the_dated_changes_to_its_seam(small) -> None:
    """R-CHANGE: a drawn replication with a top-up, a new cap and an early close equals its
    applications run through the seam alone (the terms carry the changes and the matching ratio)."""
    source = copy.deepcopy(small.source)
    # Manufacturing+ is rolling (the I&T Accelerator's call closes before week 30)
    source["schemes"]["manufacturing_plus"]["changes"] = [
        {"week": 10, "places": 5, "budget_hkd": 1e6, "max_grant_hkd": 50_000},
        {"week": 30, "closes": True},
    ]
    scenario, seed, rep = scenario_from_dict(source), 4, 3
    draws = draw_parameters(scenario, seed, [rep])
    records, _ = des.simulate_replication(scenario, seed, rep, draws)
    for name in ["manufacturing_plus"]:
        par = scheme_parameters(draws, name)
        segments = [segment_parameters(draws, s) for s in scenario.schemes[name].segments]
        files, _ = des._prepare(scenario, name, par, segments, 0, seed, rep)
        terms_of_run = process_terms(scenario, name, par, 0)
        assert len(terms_of_run.changes) == 2
        assert terms_of_run.matching_ratio == float(par.matching_ratio[0])
        alone = des.simulate_applicants(files, terms_of_run)
        for field in (*FIELDS, "grant"):
            np.testing.assert_array_equal(getattr(alone, field), getattr(records[name], field), err_msg=field)
        late = records[name].arrival[0] > 30.0  # after the early close: turned away
        assert (records[name].status[0][late] == Status.TURNED_AWAY).all()
        assert late.any(), "the example should have applications after the close"


@pytest.mark.parametrize("engine", ["des", "batch"])
def test_both_engines_normal_paths_apply_the_dated_changes(small, engine) -> None:
    """R-CHANGE through each engine's normal path: after an early close every arrival is turned away,
    and every file decided after a new cap has a grant within it."""
    source = copy.deepcopy(small.source)
    # Manufacturing+ is rolling (the I&T Accelerator's call closes before week 30)
    source["schemes"]["manufacturing_plus"]["changes"] = [
        {"week": 10, "max_grant_hkd": 50_000},
        {"week": 30, "closes": True},
    ]
    scenario = scenario_from_dict(source)
    run = des.simulate_des if engine == "des" else batch.simulate_batch
    for rec in [run(scenario, 4, np.arange(3))["manufacturing_plus"]]:
        late = rec.arrival > 30.0
        assert late.any()
        assert (rec.status[late] == Status.TURNED_AWAY).all()
        capped = rec.decision >= 10.0  # NaN compares False: undecided files keep their first grant
        assert capped.any()
        assert (rec.grant[capped] <= 50_000).all()
