"""MODEL.md's closed-form uptake checks on the batch engine, where its exact thinning matters.

With no budget, place or capacity limit and fixed parameters, an eligible firm
applies with probability ``a(cost) * F(W)``, independently of the others; over
its (independent) cost that is ``E[a] * F(W)``. Here the grant cap binds for
most firms and the elasticity is not 1, so ``a`` varies from firm to firm and
the batch engine's candidates (drawn at the largest ``a``) are thinned; and the
application window ends before the horizon. ``E[a]`` is computed by numerical
integration over the cost distribution. Each test states its false-alarm rate.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from sim.engines.records import Status
from sim.engines.registry import simulate_records
from sim.engines.rules import bass_cdf, would_apply_probability
from sim.experiments.replicate import replicate
from tests.statistical.helpers import open_scheme_scenario

SEED = 5150
REPLICATIONS = 2000
CAP, MEDIAN, SIGMA, ELASTICITY, WINDOW = 150_000.0, 600_000.0, 0.6, 1.5, 40.0


def _scenario():
    return open_scheme_scenario(
        horizon_weeks=60,
        segments={
            "firms": {
                "bands": {
                    "all": {"project_cost_hkd": {"dist": "lognormal", "median": MEDIAN, "sigma": SIGMA}}
                }
            }
        },
        schemes={
            "open": {
                "max_grant_hkd": CAP,
                "application_window_weeks": WINDOW,
                "uptake": {"elasticity": ELASTICITY},
            }
        },
    )


def _mean_propensity(scenario) -> float:
    a_seg = scenario.segments["firms"].propensity

    def a(z: float) -> float:
        cost = MEDIAN * np.exp(SIGMA * z)
        rate = min(CAP, cost / 3) / cost
        return float(would_apply_probability(a_seg, rate, 1 / 3, ELASTICITY)) * stats.norm.pdf(z)

    return integrate.quad(a, -12, 12, epsabs=1e-13)[0]


@pytest.fixture(scope="module")
def thinned():
    scenario = _scenario()
    return scenario, simulate_records(scenario, SEED, np.arange(REPLICATIONS), "batch")["open"]


def test_applications_given_the_eligible_pool_are_binomial(thinned) -> None:
    """Sum of applications ~ Binomial(sum of pools, E[a] F(W)): two-sided z-test, 0.1% false alarm."""
    scenario, rec = thinned
    up = scenario.schemes["open"].uptake
    p = _mean_propensity(scenario) * bass_cdf(WINDOW, up.bass_p, up.bass_q)
    pool = rec.eligible.sum()
    apps = (rec.status != Status.PADDING).sum()
    z = (apps - pool * p) / np.sqrt(pool * p * (1 - p))
    assert abs(z) < stats.norm.ppf(1 - 0.001 / 2), f"z = {z:.2f}"


def test_would_be_applicants_follow_the_mean_propensity(thinned) -> None:
    """Would-be applicants ~ Binomial(pool, E[a]): the thinning is exact. z-test, 0.1% false alarm."""
    scenario, rec = thinned
    p = _mean_propensity(scenario)
    pool = rec.eligible.sum()
    z = (rec.would_be.sum() - pool * p) / np.sqrt(pool * p * (1 - p))
    assert abs(z) < stats.norm.ppf(1 - 0.001 / 2), f"z = {z:.2f}"


def test_application_times_follow_the_truncated_bass_curve(thinned) -> None:
    """Pooled times against F(t)/F(W) on [0, W]: one-sample KS test at 0.1%."""
    scenario, rec = thinned
    up = scenario.schemes["open"].uptake
    times = rec.arrival[np.isfinite(rec.arrival)]
    assert times.max() <= WINDOW
    cdf = lambda t: bass_cdf(t, up.bass_p, up.bass_q) / bass_cdf(WINDOW, up.bass_p, up.bass_q)  # noqa: E731
    assert stats.kstest(times, cdf).pvalue > 0.001


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(baseline) -> None:
    a = replicate(baseline.scenario, 9, np.arange(300), "batch")
    b = replicate(baseline.scenario, 9, np.arange(300), "batch")
    numbers = a.table.select_dtypes("number").columns
    diff = b.table[numbers].to_numpy() - a.table[numbers].to_numpy()
    assert np.all((diff == 0) | np.isnan(a.table[numbers].to_numpy()))
    for scheme in a.weekly:
        np.testing.assert_array_equal(a.weekly[scheme], b.weekly[scheme])
