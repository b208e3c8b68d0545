"""Worked examples of an intermediary scheme's programmes (rules R-PROGRAMME-COHORTS,
R-PROGRAMME-POOL, R-PROGRAMME-PAY), hand-computed, on both statements of the rules: the
vectorised pass both engines use (:func:`sim.engines.programme.run_programmes`) and the SimPy
processes, one per operator (:func:`sim.engines.programme_des.simulate_programmes`).

Cohort sizes are Poisson draws; the examples make them irrelevant or certain: a start-up pool
smaller than any cohort (a Poisson(1000) cohort is below 100 with probability under 1e-300) fixes
the admissions, and probabilities of 0 or 1 fix the outcomes.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.programme import Cohorts, Operators, ProgrammeTerms, payments, run_programmes
from sim.engines.programme_des import simulate_programmes

RUNNERS = {"vectorised": run_programmes, "simpy": simulate_programmes}


def terms(pool: float, *, end: float = 100.0, tranches: int = 3) -> ProgrammeTerms:
    one = np.ones(1)
    return ProgrammeTerms(
        interval=26.0,
        tranches=tranches,
        end=end,
        cohort_mean=1000 * one,
        relocated=one,  # every admitted start-up relocated
        survival=one,  # and surviving
        follow_on=0 * one,  # none raises follow-on funding
        upfront=0.25 * one,
        pool=pool * one,
    )


#: Three operators of one replication: A opens at 30.5, B at 20, C's set-up is abandoned.
OPS = Operators(
    rep=np.zeros(3, dtype=np.int64),
    award=np.array([12.0, 12.0, 14.0]),
    opening=np.array([30.5, 20.0, np.nan]),
    grant=np.array([30_000_000.0, 24_000_000.0, 18_000_000.0]),
)


def cohorts(runner: str, pool: float, **kw: float) -> Cohorts:
    return RUNNERS[runner](OPS, terms(pool, **kw), 5, np.array([3]), "accelerator")


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_cohorts_every_interval_from_the_opening_to_the_end(runner) -> None:
    """A: 30.5, 56.5, 82.5 (108.5 is past week 100); B: 20, 46, 72, 98; C none; in order of week."""
    c = cohorts(runner, pool=1e9)
    assert c.week.tolist() == [20.0, 30.5, 46.0, 56.5, 72.0, 82.5, 98.0]
    assert c.operator.tolist() == [1, 0, 1, 0, 1, 0, 1]
    assert c.index.tolist() == [0, 0, 1, 1, 2, 2, 3]
    assert (c.admitted == c.places).all()
    assert (c.places > 100).all()
    assert (c.relocated == c.admitted).all()
    assert (c.surviving == c.admitted).all()
    assert (c.follow_on == 0).all()


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_the_pool_goes_to_the_earliest_cohorts(runner) -> None:
    """A pool of 50 start-ups: B's first cohort (week 20) takes all 50, whatever the operator order."""
    c = cohorts(runner, pool=50)
    assert c.admitted.tolist() == [50, 0, 0, 0, 0, 0, 0]
    assert c.surviving.tolist() == [50, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_no_cohort_after_the_end(runner) -> None:
    """With the follow-up ending at week 25, only B's first cohort (week 20) is admitted."""
    c = cohorts(runner, pool=1e9, end=25.0)
    assert c.week.tolist() == [20.0]


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_grants_are_paid_upfront_then_in_tranches_at_the_first_cohorts(runner) -> None:
    """25% at award; the rest in 3 equal tranches at each base's first three cohorts; C only its 25%."""
    c = cohorts(runner, pool=1e9)
    rep, week, amount = payments(OPS, c, terms(1e9))
    got = sorted(zip(week.tolist(), amount.tolist(), strict=True))
    assert got == [
        (12.0, 6_000_000.0),  # B upfront
        (12.0, 7_500_000.0),  # A upfront
        (14.0, 4_500_000.0),  # C upfront, never opens
        (20.0, 6_000_000.0),  # B: 18M / 3
        (30.5, 7_500_000.0),  # A: 22.5M / 3
        (46.0, 6_000_000.0),
        (56.5, 7_500_000.0),
        (72.0, 6_000_000.0),
        (82.5, 7_500_000.0),
    ]
    assert (rep == 0).all()
    assert amount.sum() == pytest.approx(30e6 + 24e6 + 0.25 * 18e6)


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_a_base_opening_late_pays_only_the_tranches_of_its_cohorts(runner) -> None:
    """With the follow-up ending at week 50, A has one cohort, B two: 1/3 and 2/3 of their rest."""
    c = cohorts(runner, pool=1e9, end=50.0)
    _, _, amount = payments(OPS, c, terms(1e9, end=50.0))
    assert amount.sum() == pytest.approx(0.25 * 72e6 + 22.5e6 / 3 + 2 * 18e6 / 3)


def test_both_statements_agree_on_random_operators() -> None:
    """Random operators, terms and pools in five replications: identical cohorts, field by field."""
    rng = np.random.default_rng(20251118)
    for _ in range(30):
        n, reps = int(rng.integers(0, 25)), 4
        opening = np.where(rng.random(n) < 0.8, rng.uniform(10, 220, n), np.nan)
        ops = Operators(
            np.sort(rng.integers(0, reps, n)), rng.uniform(0, 30, n), opening, rng.uniform(1e6, 3e7, n)
        )
        t = ProgrammeTerms(
            float(rng.uniform(5, 52)),
            int(rng.integers(1, 5)),
            208.0,
            *(
                rng.uniform(0, 20, reps),
                rng.random(reps),
                rng.random(reps),
                rng.random(reps),
                rng.random(reps),
            ),
            pool=rng.integers(0, 300, reps).astype(float),
        )
        a = run_programmes(ops, t, 9, np.arange(reps) + 40, "x")
        b = simulate_programmes(ops, t, 9, np.arange(reps) + 40, "x")
        for name in Cohorts.__dataclass_fields__:
            assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_both_statements_agree_on_large_cohorts() -> None:
    """Cohorts large enough that numpy draws some outcomes by BTPE (left to numpy by the compiled
    draws, replication by replication) beside replications drawn compiled: identical cohorts."""
    rng = np.random.default_rng(20260130)
    btpe = 0
    for _ in range(10):
        n, reps = int(rng.integers(5, 25)), 4
        ops = Operators(
            np.sort(rng.integers(0, reps, n)),
            rng.uniform(0, 30, n),
            rng.uniform(10, 200, n),
            rng.uniform(1e6, 3e7, n),
        )
        chances = rng.random((3, reps))
        t = ProgrammeTerms(
            26.0,
            3,
            208.0,
            rng.choice([5.0, 80.0], reps),
            *chances,
            rng.random(reps),
            rng.integers(0, 9000, reps).astype(float),
        )
        a = run_programmes(ops, t, 9, np.arange(reps), "x")
        b = simulate_programmes(ops, t, 9, np.arange(reps), "x")
        for name in Cohorts.__dataclass_fields__:
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        p = chances[:, a.rep]
        btpe += int((a.admitted * np.minimum(p, 1 - p) > 30).sum())
    assert btpe > 0


def test_cohorts_of_one_week_follow_the_operators_award_order() -> None:
    """Three operators opening in the same week (the last two in a second replication): each week's
    cohorts in operator order, replication by replication."""
    ops = Operators(
        rep=np.array([0, 0, 0, 1, 1]),
        award=np.full(5, 12.0),
        opening=np.array([40.0, 40.0, 40.0, 30.0, 30.0]),
        grant=np.full(5, 1e7),
    )
    one = np.ones(2)
    t = ProgrammeTerms(26.0, 3, 100.0, 3 * one, one, one, 0 * one, 0.25 * one, 1e9 * one)
    c = run_programmes(ops, t, 5, np.array([0, 1]), "x")
    assert c.rep.tolist() == [0] * 9 + [1] * 6
    assert c.week.tolist() == [40.0] * 3 + [66.0] * 3 + [92.0] * 3 + [30.0] * 2 + [56.0] * 2 + [82.0] * 2
    assert c.operator.tolist() == [0, 1, 2] * 3 + [3, 4] * 3
