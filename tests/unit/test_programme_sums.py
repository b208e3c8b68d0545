"""The compiled programme sums (sim.engines.programme_sums) against numpy written out: the payments
of sim.engines.programme.payments added with np.bincount, the series binned with np.searchsorted on
the weekly grid and cumulated with np.cumsum; the same numbers to the bit."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.metrics import weeks
from sim.engines.programme import Cohorts, Operators, ProgrammeTerms, payments
from sim.engines.programme_sums import NO_SERIES, programme_sums

COUNTED = ("places", "admitted", "relocated", "surviving", "follow_on")
UNTIL = np.array([104.0, 208.5])


def _case(rng: np.random.Generator, reps: int) -> tuple[Operators, Cohorts, ProgrammeTerms]:
    """Random operators and cohorts, weeks on and off the grid, before 0 and past its end."""
    n_ops = int(rng.integers(1, 30))
    ops = Operators(
        np.sort(rng.integers(0, reps, n_ops)),
        rng.choice(np.array([0.0, 3.0, 7.25, 104.0, 104.5]), n_ops),
        np.full(n_ops, np.nan),
        rng.uniform(1e5, 3e7, n_ops),
    )
    operator = rng.integers(0, n_ops, int(rng.integers(0, 80)))
    week = rng.choice(
        np.array([-0.5, 0.0, 0.3, 26.0, 104.0, 208.0, 208.2, 208.5, 209.0, 400.0]), len(operator)
    )
    own = rng.random(len(week)) < 0.5
    week[own] = rng.uniform(-5.0, 215.0, int(own.sum()))
    counted = [rng.integers(0, 20, len(operator)) for _ in COUNTED]
    cohorts = Cohorts(ops.rep[operator], operator, rng.integers(0, 6, len(operator)), week, *counted)
    zero = np.zeros(reps)
    return ops, cohorts, ProgrammeTerms(26.0, 3, 208.5, zero, zero, zero, zero, rng.random(reps), zero)


def _numpy(ops: Operators, cohorts: Cohorts, terms: ProgrammeTerms, reps: int) -> tuple:
    """Counts (2, 5, R), money (2, R) and the series (R, weeks), by numpy."""
    rep, week, amount = payments(ops, cohorts, terms)
    counts, money = np.zeros((2, len(COUNTED), reps)), np.zeros((2, reps))
    for w, until in enumerate(UNTIL):
        by = cohorts.week <= until
        for k, field in enumerate(COUNTED):
            weights = getattr(cohorts, field)[by].astype(float)
            counts[w, k] = np.bincount(cohorts.rep[by], weights=weights, minlength=reps)
        money[w] = np.bincount(rep[week <= until], weights=amount[week <= until], minlength=reps)
    grid = weeks(terms.end)
    bins = np.searchsorted(grid, week, side="left")
    keep = bins < len(grid)
    cells = np.bincount(rep[keep] * len(grid) + bins[keep], weights=amount[keep], minlength=reps * len(grid))
    return counts, money, np.cumsum(cells.reshape(reps, len(grid)), axis=1)


def _compiled(ops: Operators, cohorts: Cohorts, terms: ProgrammeTerms, reps: int, weekly: bool) -> tuple:
    counts, money = np.zeros((2, len(COUNTED), reps)), np.zeros((2, reps))
    block = np.full((reps, 3, len(weeks(terms.end))), -1.0)  # a row of a weekly block, as in the engine
    programme_sums(
        (ops.rep, ops.award, ops.grant),
        (
            cohorts.rep,
            cohorts.operator,
            cohorts.index,
            cohorts.week,
            tuple(getattr(cohorts, f) for f in COUNTED),
        ),
        (terms.upfront, terms.tranches),
        UNTIL,
        counts,
        money,
        block[:, 1, :] if weekly else NO_SERIES,
    )
    return counts, money, block


@pytest.mark.parametrize("seed", range(5))
def test_programme_sums_are_numpys_to_the_bit(seed) -> None:
    """Counts and money by both weeks and the cumulative series, equal as bits; the other series
    rows of the block untouched."""
    rng = np.random.default_rng(seed)
    for _ in range(40):
        reps = int(rng.integers(1, 8))
        ops, cohorts, terms = _case(rng, reps)
        want = _numpy(ops, cohorts, terms, reps)
        counts, money, block = _compiled(ops, cohorts, terms, reps, weekly=True)
        assert counts.tobytes() == want[0].tobytes()
        assert money.tobytes() == want[1].tobytes()
        assert block[:, 1, :].tobytes() == want[2].tobytes()
        assert (block[:, [0, 2], :] == -1.0).all()
        counts, money, block = _compiled(ops, cohorts, terms, reps, weekly=False)
        assert money.tobytes() == want[1].tobytes()
        assert (block == -1.0).all()
