"""Intermediary schemes' programmes (MODEL.md 6b, rules R-PROGRAMME-COHORTS, R-PROGRAMME-POOL and
R-PROGRAMME-PAY): from the funded operators to the start-ups they accelerate and the grants paid.

An intermediary scheme's operators go through the direct process unchanged (uptake, vetting,
allocation, R-FUND); their ``upgrade`` is the set-up of the base, which opens when it completes.
What follows the opening depends only on the operators' award and opening weeks, their grants and
the replication's parameters, so it is computed here, from either engine's records, with draws
from one stream per replication and scheme (:func:`sim.rng.programme_stream`): both engines give
identical programmes for identical records (common random numbers). :mod:`sim.engines.programme_des`
runs the same rules as SimPy processes, one per operator, and is held equal to this vectorised
pass in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engines.programme_draws import FAST_SPAWN, CohortDraws, CohortPlan, draw_cohorts, entropy_words
from sim.engines.programme_slots import ordered_slots
from sim.rng import programme_spawn_key, programme_stream

__all__ = [
    "Operators",
    "ProgrammeTerms",
    "Cohorts",
    "cohort_slots",
    "sort_slots",
    "cohort_weeks",
    "run_programmes",
    "draw_outcomes",
]


@dataclass(frozen=True)
class ProgrammeTerms:
    """A scheme's programme for R replications (one value per replication where an array)."""

    interval: float  # weeks between cohorts
    tranches: int  # equal tranches of the grant after the upfront share
    end: float  # the end of the follow-up: no cohort is admitted after it
    cohort_mean: np.ndarray  # (R,) mean cohort size (Poisson)
    relocated: np.ndarray  # (R,) chance an admitted start-up comes from outside Hong Kong
    survival: np.ndarray  # (R,) chance it survives the follow-up
    follow_on: np.ndarray  # (R,) chance it raises follow-on funding
    upfront: np.ndarray  # (R,) share of the grant paid at award
    pool: np.ndarray  # (R,) eligible start-ups of the cohort segment, the most that can be admitted


@dataclass(frozen=True)
class Operators:
    """The funded operators of R replications, flat, replication by replication, each in award order."""

    rep: np.ndarray  # (A,) position of the replication, 0..R-1
    award: np.ndarray  # (A,) award week
    opening: np.ndarray  # (A,) the base's opening week; NaN: never opens (set-up abandoned or not done)
    grant: np.ndarray  # (A,) HK$


@dataclass(frozen=True)
class Cohorts:
    """Every cohort of R replications, flat, in order of (replication, week, operator)."""

    rep: np.ndarray  # (C,) position of the replication
    operator: np.ndarray  # (C,) index into :class:`Operators`
    index: np.ndarray  # (C,) k: the operator's k-th cohort (0 at the opening)
    week: np.ndarray  # (C,) admission week
    places: np.ndarray  # (C,) start-ups the operator would admit (the drawn cohort size)
    admitted: np.ndarray  # (C,) start-ups admitted (places, while the pool lasts)
    relocated: np.ndarray  # (C,)
    surviving: np.ndarray  # (C,)
    follow_on: np.ndarray  # (C,)


def most_cohorts(terms: ProgrammeTerms) -> int:
    """The most cohorts one base can admit: one at week 0 and one every interval to the end."""
    return int(np.floor(terms.end / terms.interval)) + 1


def cohort_weeks(opening: np.ndarray, terms: ProgrammeTerms) -> np.ndarray:
    """(A, K) admission weeks of each operator's cohorts, NaN past the end (R-PROGRAMME-COHORTS)."""
    k = np.arange(most_cohorts(terms), dtype=float)
    weeks = opening[:, None] + k[None, :] * terms.interval
    return np.where(weeks <= terms.end, weeks, np.nan)


def draw_sizes(seed: int, rep: int, scheme: str, operators: int, terms: ProgrammeTerms, i: int) -> tuple:
    """The replication's stream and its (operators, K) Poisson cohort sizes, drawn first from it."""
    rng = programme_stream(seed, rep, scheme)
    return rng, rng.poisson(terms.cohort_mean[i], size=(operators, most_cohorts(terms))).astype(np.int64)


def admit(places: np.ndarray, pool: float) -> np.ndarray:
    """Admissions of cohorts in order: each its places while the pool lasts (R-PROGRAMME-POOL)."""
    before = np.cumsum(places) - places
    return np.clip(np.floor(pool) - before, 0, places).astype(np.int64)


def draw_outcomes(rng: np.random.Generator, admitted: np.ndarray, terms: ProgrammeTerms, i: int) -> tuple:
    """Relocated, surviving and follow-on start-ups per cohort, in admission order (R-PROGRAMME-COHORTS)."""
    relocated = rng.binomial(admitted, terms.relocated[i])
    surviving = rng.binomial(admitted, terms.survival[i])
    follow_on = rng.binomial(admitted, terms.follow_on[i])
    return relocated, surviving, follow_on


def run_programmes(
    ops: Operators, terms: ProgrammeTerms, seed: int, reps: np.ndarray, scheme: str
) -> Cohorts:
    """Every cohort of the operators' programmes in replications ``reps`` (indices, for the streams).

    Which cohorts there are, and their order, follow from the opening weeks alone, so they are
    found for every replication at once (:func:`cohort_slots`). The draws, each replication on its
    own stream (the cohort sizes as :func:`draw_sizes`, the admissions while the pool lasts, the
    outcomes as :func:`draw_outcomes`), run compiled for all replications
    (:func:`sim.engines.programme_draws.draw_cohorts`: numpy's numbers); a replication it leaves
    to numpy is drawn here (:func:`_draw_with_numpy`). A replication without cohorts draws
    nothing (nothing of its stream would be used).
    """
    op, k, when = cohort_slots(ops, terms)
    rep = ops.rep[op]
    cuts = np.arange(len(reps) + 1)
    by_op, by_cohort = np.searchsorted(ops.rep, cuts), np.searchsorted(rep, cuts)
    plan = CohortPlan(by_op[:-1], np.diff(by_op), by_cohort[:-1], np.diff(by_cohort), op, k)
    out = CohortDraws(
        places=np.zeros(len(op), dtype=np.int64),
        admitted=np.zeros(len(op), dtype=np.int64),
        outcomes=np.zeros((3, len(op)), dtype=np.int64),
        numpy=plan.n > 0,
    )
    first, _, last = programme_spawn_key(0, scheme)
    if len(reps) and int(np.max(reps)) < FAST_SPAWN:
        entropy = entropy_words(seed, (first,), np.asarray(reps), last)
        chances = np.stack([terms.relocated, terms.survival, terms.follow_on]).astype(float)
        lam, pool = np.asarray(terms.cohort_mean, dtype=float), np.asarray(terms.pool, dtype=float)
        draw_cohorts(entropy, lam, pool, chances, plan, most_cohorts(terms), out)
    for i in np.flatnonzero(out.numpy).tolist():
        _draw_with_numpy(out, plan, terms, (seed, int(reps[i]), scheme), i)
    return Cohorts(rep, op, k, when, out.places, out.admitted, *out.outcomes)


def _draw_with_numpy(
    out: CohortDraws, plan: CohortPlan, terms: ProgrammeTerms, stream: tuple[int, int, str], i: int
) -> None:
    """Replication ``i``'s cohorts drawn by numpy from its stream (``stream``: seed, replication
    index, scheme), into ``out``: sizes, admissions in order, then the outcomes."""
    span = slice(plan.first[i], plan.first[i] + plan.n[i])
    seed, rep, scheme = stream
    rng, sizes = draw_sizes(seed, rep, scheme, int(plan.n_ops[i]), terms, i)
    out.places[span] = sizes[plan.op[span] - plan.first_op[i], plan.k[span]]
    out.admitted[span] = admit(out.places[span], terms.pool[i])
    out.outcomes[:, span] = draw_outcomes(rng, out.admitted[span], terms, i)


def cohort_slots(ops: Operators, terms: ProgrammeTerms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every cohort of every operator as (operator, k, week), ordered by replication, week, then
    operator (award order): the order of admission (R-PROGRAMME-COHORTS, R-PROGRAMME-POOL).

    Compiled, replication by replication (:func:`sim.engines.programme_slots.ordered_slots`), where
    the operators come replication by replication, as they do from the engines; otherwise
    :func:`sort_slots`, the same order."""
    rep = np.asarray(ops.rep, dtype=np.int64)
    if not (rep[1:] >= rep[:-1]).all():
        return sort_slots(ops, terms)
    most = most_cohorts(terms)
    op, k = np.empty(len(rep) * most, dtype=np.int64), np.empty(len(rep) * most, dtype=np.int64)
    when = np.empty(len(rep) * most)
    opening = np.ascontiguousarray(ops.opening, dtype=float)
    n = ordered_slots(rep, opening, float(terms.interval), float(terms.end), most, op, k, when)
    return op[:n], k[:n], when[:n]


def sort_slots(ops: Operators, terms: ProgrammeTerms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`cohort_slots` by one stable sort of the whole chunk's cohorts (numpy)."""
    weeks = cohort_weeks(ops.opening, terms)
    op, k = np.nonzero(~np.isnan(weeks))  # by operator, so a stable sort keeps operators in order
    when = weeks[op, k]
    order = np.lexsort((when, ops.rep[op]))
    return op[order], k[order], when[order]


def payments(
    ops: Operators, cohorts: Cohorts, terms: ProgrammeTerms
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every payment as (replication position, week, HK$) (R-PROGRAMME-PAY).

    The upfront share at award; the rest in ``tranches`` equal parts at the admissions of the
    operator's first ``tranches`` cohorts. A base that never opens is paid the upfront share only.
    """
    upfront = terms.upfront[ops.rep] * ops.grant
    paid = cohorts.index < terms.tranches
    rest = (ops.grant - upfront)[cohorts.operator[paid]] / terms.tranches
    rep = np.concatenate([ops.rep, cohorts.rep[paid]])
    week = np.concatenate([ops.award, cohorts.week[paid]])
    return rep, week, np.concatenate([upfront, rest])
