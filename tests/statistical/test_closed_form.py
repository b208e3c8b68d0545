"""MODEL.md's closed-form checks, on every engine.

With no budget, place or capacity limit and fixed parameters, a firm applies
with probability ``eligible_share * propensity * F(W)`` (F the Bass CDF, W the
window), independently of the others; so the number of applications is
binomial and application times follow F truncated to [0, W]. Every test states
its false-alarm rate; tolerances come from the binomial sampling error.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.engines.metrics import weeks
from sim.engines.records import Status
from sim.engines.registry import engine_names, simulate_records
from sim.engines.rules import bass_cdf
from tests.statistical.helpers import open_scheme_scenario

REPS = {"des": 150, "batch": 2000}
SEED = 424242


def _engines() -> list[str]:
    return engine_names()


@pytest.fixture(scope="module", params=_engines())
def open_run(request):
    engine = request.param
    scenario = open_scheme_scenario()
    records = simulate_records(scenario, SEED, np.arange(REPS.get(engine, 150)), engine)["open"]
    return engine, scenario, records


def _pi(scenario, t):
    seg = scenario.segments["firms"]
    up = scenario.schemes["open"].uptake
    return seg.eligible_share * seg.propensity * bass_cdf(t, up.bass_p, up.bass_q)


def test_total_applications_are_binomial(open_run) -> None:
    """Sum over replications of applications ~ Binomial(R * count, pi): two-sided z-test, 0.1% false alarm."""
    engine, scenario, rec = open_run
    apps = (rec.status != Status.PADDING).sum(axis=1)
    n = rec.replications * scenario.segments["firms"].count
    pi = _pi(scenario, scenario.horizon_weeks)
    z = (apps.sum() - n * pi) / np.sqrt(n * pi * (1 - pi))
    assert abs(z) < stats.norm.ppf(1 - 0.001 / 2), f"{engine}: z = {z:.2f}"


def test_applications_given_eligible_pool_are_binomial(open_run) -> None:
    """Applications | eligible pool ~ Binomial(pool, a F(H)): pooled z-test, 0.1% false alarm."""
    engine, scenario, rec = open_run
    apps = (rec.status != Status.PADDING).sum(axis=1)
    pool = rec.eligible.sum(axis=1)
    up = scenario.schemes["open"].uptake
    p = scenario.segments["firms"].propensity * bass_cdf(scenario.horizon_weeks, up.bass_p, up.bass_q)
    z = (apps.sum() - pool.sum() * p) / np.sqrt(pool.sum() * p * (1 - p))
    assert abs(z) < stats.norm.ppf(1 - 0.001 / 2), f"{engine}: z = {z:.2f}"


def test_application_times_follow_the_bass_curve(open_run) -> None:
    """Pooled application times against F(t)/F(W) on [0, W]: one-sample KS test at 0.1%."""
    engine, scenario, rec = open_run
    up = scenario.schemes["open"].uptake
    horizon = scenario.horizon_weeks
    times = rec.arrival[np.isfinite(rec.arrival)]
    cdf = lambda t: bass_cdf(t, up.bass_p, up.bass_q) / bass_cdf(horizon, up.bass_p, up.bass_q)  # noqa: E731
    result = stats.kstest(times, cdf)
    assert result.pvalue > 0.001, f"{engine}: KS p = {result.pvalue:.2g}"


def test_mean_cumulative_curve_within_simultaneous_band(open_run) -> None:
    """Mean cumulative applications at every week vs count * pi(t).

    Each week's mean is within z * sd / sqrt(R) of count * pi(t), with the binomial sd and a
    Bonferroni z over all weeks (simultaneous false alarm 0.1%).
    """
    engine, scenario, rec = open_run
    grid = weeks(scenario.horizon_weeks)[1:]
    n = scenario.segments["firms"].count
    counts = (rec.arrival[:, :, None] <= grid[None, None, :]).sum(axis=1)
    mean = counts.mean(axis=0)
    pi = _pi(scenario, grid)
    sd = np.sqrt(n * pi * (1 - pi) / rec.replications)
    z = stats.norm.ppf(1 - 0.001 / (2 * len(grid)))
    worst = np.max(np.abs(mean - n * pi) / sd)
    assert worst < z, f"{engine}: worst standardised deviation {worst:.2f} >= {z:.2f}"
