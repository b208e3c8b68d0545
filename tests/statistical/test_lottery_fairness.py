"""R-LOTTERY's closed form: in an oversubscribed call every approved file is funded with the same chance.

Files decided together are funded in a uniformly random order, so with ``N``
approved files and ``P < N`` places (money not binding) each file is funded
with probability ``p = P / N`` whatever its place in the queue. Over ``R``
replications the count ``c_i`` of runs in which file ``i`` is funded has mean
``R p`` and variance ``R p (1 - p)``; exactly ``P`` are funded per run, so the
counts have covariance ``-R p (1 - p) / (N - 1)`` and ``X = (N - 1) / N *
sum (c_i - R p)^2 / (R p (1 - p))`` is chi-square with ``N - 1`` degrees of
freedom (for large ``R``). Each test rejects at a false-alarm rate of
:data:`ALPHA`; the same statistic on first come first served, where the
earliest files are always funded, must exceed the same bound (the test has
power).

On the batch engine's normal path the number of applications varies from run
to run; among runs with at least ``m`` applications each of the first ``m``
arrivals is funded with the same chance (tickets, approvals and grants do
not depend on the arrival rank), which Pearson's homogeneity statistic over
the ``m`` ranks tests (conservative: funded files of one run are drawn
without replacement, so their counts are negatively correlated).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from sim.engines import batch
from sim.engines.records import Status
from sim.engines.registry import simulate_records
from tests.rules.conftest import applicants, terms
from tests.statistical.helpers import open_scheme_scenario

ALPHA = 1e-3
FILES, PLACES, REPLICATIONS = 200, 50, 2000
RANKS = 120  # arrival ranks compared on the normal path


def _funded_counts(rule: str, seed: int) -> np.ndarray:
    """Per file, the runs (of :data:`REPLICATIONS`) in which it is funded: 200 approved files decided
    together (all reviewed before the call closes at week 30) for 50 places, fresh tickets each run."""
    files = applicants(np.linspace(0.0, 19.9, FILES))
    scheme = terms(rule=rule, closes_week=30.0, meeting_interval_weeks=30.0, places=PLACES, capacity=1000)
    rng = np.random.default_rng(seed)
    counts = np.zeros(FILES)
    for _ in range(REPLICATIONS):
        rec = batch.simulate_applicants(replace(files, ticket=rng.random(FILES)), scheme)
        funded = rec.status[0, :FILES] == Status.AWARDED
        assert funded.sum() == PLACES
        counts += funded
    return counts


def _equal_chance_statistic(counts: np.ndarray) -> float:
    """``X`` of the module docstring (chi-square with ``N - 1`` degrees of freedom if every file has
    the same chance ``P / N``)."""
    p = PLACES / FILES
    spread = ((counts - REPLICATIONS * p) ** 2).sum() / (REPLICATIONS * p * (1 - p))
    return float(spread * (FILES - 1) / FILES)


BOUND = float(stats.chi2.ppf(1 - ALPHA, FILES - 1))


@pytest.mark.parametrize("rule", ["lottery_at_close", "lottery"])
def test_each_approved_file_of_an_oversubscribed_call_has_the_same_chance(rule: str) -> None:
    # under "lottery", every file is reviewed before the first meeting (week 30): one meeting decides all
    counts = _funded_counts(rule, seed=13)
    assert _equal_chance_statistic(counts) < BOUND
    # the earliest and the latest quarter are funded equally often (a binomial z-test, same rate)
    early, late = counts[: FILES // 4].sum(), counts[-FILES // 4 :].sum()
    trials = REPLICATIONS * FILES // 4
    p = PLACES / FILES
    z = (early - late) / np.sqrt(2 * trials * p * (1 - p))
    assert abs(z) < stats.norm.ppf(1 - ALPHA / 2)


def test_first_come_fails_the_same_check() -> None:
    counts = _funded_counts("first_come", seed=13)
    assert (counts[:PLACES] == REPLICATIONS).all()
    assert (counts[PLACES:] == 0).all()
    assert _equal_chance_statistic(counts) > BOUND


def _funded_by_rank(rule: str) -> np.ndarray:
    """Funded (runs x ranks) of the first :data:`RANKS` arrivals, over runs with at least that many
    applications, on the batch engine's normal path: an oversubscribed call (about 240 applications
    for 50 places) that closes at week 40, its tickets drawn by the engine."""
    scenario = open_scheme_scenario(
        horizon_weeks=104,
        schemes={"open": {"places": PLACES, "closes_week": 40, "allocation": {"rule": rule}}},
    )
    rec = simulate_records(scenario, 20251130, np.arange(REPLICATIONS), "batch")["open"]
    applied = (rec.status != Status.PADDING).sum(axis=1)
    status = rec.status[applied >= RANKS, :RANKS]
    assert len(status) > REPLICATIONS // 2
    assert ((rec.status == Status.UNFUNDED).sum(axis=1) > 0).mean() > 0.99  # oversubscribed
    return status == Status.AWARDED


def _homogeneity_pvalue(funded: np.ndarray) -> float:
    """Pearson's chi-square p-value that every rank (column) is funded equally often."""
    runs, counts = funded.shape[0], funded.sum(axis=0)
    share = counts.mean() / runs
    statistic = ((counts - counts.mean()) ** 2).sum() / (runs * share * (1 - share))
    return float(stats.chi2.sf(statistic, funded.shape[1] - 1))


def test_the_batch_engines_own_tickets_give_every_arrival_rank_the_same_chance() -> None:
    assert _homogeneity_pvalue(_funded_by_rank("lottery_at_close")) > ALPHA


def test_first_come_on_the_normal_path_favours_early_arrivals() -> None:
    funded = _funded_by_rank("first_come")
    assert funded[:, :10].mean() > funded[:, -10:].mean() + 0.5  # the first ten: funded unless not approved
    assert _homogeneity_pvalue(funded) < ALPHA
