"""The compiled programme pieces against their numpy twins: the order of admission of every cohort
(:func:`sim.engines.programme.cohort_slots` against :func:`~sim.engines.programme.sort_slots`) and the
cohorts' draws (:func:`sim.engines.programme_draws.draw_cohorts`, each binomial's terms worked out once
per number of trials, against numpy drawing each replication from its own stream)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.programme import (
    Operators,
    ProgrammeTerms,
    _draw_with_numpy,
    cohort_slots,
    run_programmes,
    sort_slots,
)
from sim.engines.programme_draws import CohortDraws, CohortPlan


def _operators(rng: np.random.Generator, reps: int, sort: bool = True) -> Operators:
    """Random operators of ``reps`` replications; openings shared by several, or never (NaN)."""
    n = int(rng.integers(0, 40))
    rep = rng.integers(0, reps, n)
    opening = rng.choice(np.array([10.0, 36.0, np.nan, 52.5]), n)
    own = rng.random(n) < 0.5
    opening[own] = rng.uniform(0, 220, int(own.sum()))
    return Operators(np.sort(rep) if sort else rep, rng.uniform(0, 30, n), opening, rng.uniform(1e6, 3e7, n))


def _terms(rng: np.random.Generator, reps: int, interval: float) -> ProgrammeTerms:
    chances = rng.choice(np.array([0.0, 0.3, 0.5, 0.7, 1.0]), (3, reps))
    chances[rng.random((3, reps)) < 0.5] = rng.random()
    return ProgrammeTerms(
        interval,
        3,
        208.0,
        rng.choice(np.array([0.0, 3.0, 9.99, 10.0, 12.0, 25.0]), reps),
        *chances,
        rng.random(reps),
        rng.integers(0, 400, reps).astype(float),
    )


@pytest.mark.parametrize("seed", range(4))
def test_cohorts_come_in_the_order_of_one_stable_sort(seed) -> None:
    """Same operators, k and weeks in the same order (ties in week kept in operator order)."""
    rng = np.random.default_rng(seed)
    for trial in range(100):
        ops = _operators(rng, 6, sort=trial % 10 != 0)  # unsorted replications: the numpy way
        terms = _terms(rng, 6, float(rng.choice([26.0, 13.0, 7.5, 26.25])))
        for got, want in zip(cohort_slots(ops, terms), sort_slots(ops, terms), strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(2))
def test_many_operators_of_one_replication_come_in_the_same_order(seed) -> None:
    """Replications of up to 40 operators (more than are merged: sorted instead) and of a few, with
    shared openings: the order of one stable sort."""
    rng = np.random.default_rng(50 + seed)
    for _ in range(40):
        ops = _operators(rng, int(rng.choice([1, 2])))
        terms = _terms(rng, 2, float(rng.choice([26.0, 13.0, 26.25])))
        for got, want in zip(cohort_slots(ops, terms), sort_slots(ops, terms), strict=True):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(3))
def test_compiled_cohort_draws_are_numpys_replication_by_replication(seed) -> None:
    """Every replication drawn compiled has numpy's sizes, admissions and outcomes, to the number."""
    rng = np.random.default_rng(100 + seed)
    reps = 40
    for _ in range(10):
        ops, terms = _operators(rng, reps), _terms(rng, reps, 26.0)
        index = np.arange(reps) + 1000 * seed
        got = run_programmes(ops, terms, 11, index, "x")
        cuts = np.arange(reps + 1)
        by_op, by_cohort = np.searchsorted(ops.rep, cuts), np.searchsorted(got.rep, cuts)
        plan = CohortPlan(
            by_op[:-1], np.diff(by_op), by_cohort[:-1], np.diff(by_cohort), got.operator, got.index
        )
        size = len(got.rep)
        want = CohortDraws(
            np.zeros(size, np.int64), np.zeros(size, np.int64), np.zeros((3, size), np.int64), None
        )
        for i in np.flatnonzero(plan.n).tolist():
            _draw_with_numpy(want, plan, terms, (11, int(index[i]), "x"), i)
        np.testing.assert_array_equal(got.places, want.places)
        np.testing.assert_array_equal(got.admitted, want.admitted)
        np.testing.assert_array_equal(np.stack([got.relocated, got.surviving, got.follow_on]), want.outcomes)


def test_large_cohorts_grow_the_kept_binomial_terms_and_stay_numpys() -> None:
    """Cohorts of about 150 (past the 63 trials the compiled draws first keep room for), with
    chances repeated from replication to replication and some above one half: numpy's numbers."""
    rng = np.random.default_rng(5)
    reps = 12
    ops = _operators(rng, reps)
    chances = rng.choice(np.array([0.05, 0.1, 0.95]), (3, reps))
    terms = ProgrammeTerms(
        26.0, 3, 208.0, np.full(reps, 150.0), *chances, rng.random(reps), np.full(reps, 1e5)
    )
    got = run_programmes(ops, terms, 4, np.arange(reps), "x")
    assert got.admitted.max() >= 64
    cuts = np.arange(reps + 1)
    by_op, by_cohort = np.searchsorted(ops.rep, cuts), np.searchsorted(got.rep, cuts)
    plan = CohortPlan(by_op[:-1], np.diff(by_op), by_cohort[:-1], np.diff(by_cohort), got.operator, got.index)
    want = CohortDraws(
        *(np.zeros(len(got.rep), np.int64) for _ in range(2)), np.zeros((3, len(got.rep)), np.int64), None
    )
    for i in np.flatnonzero(plan.n).tolist():
        _draw_with_numpy(want, plan, terms, (4, i, "x"), i)
    np.testing.assert_array_equal(got.admitted, want.admitted)
    np.testing.assert_array_equal(np.stack([got.relocated, got.surviving, got.follow_on]), want.outcomes)
