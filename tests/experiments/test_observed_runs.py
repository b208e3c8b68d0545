"""A run's weekly series (streamed to its spool and read back) give the
same simulated values and log-likelihoods at observed dates as one call of ``replicate``."""

from __future__ import annotations

import numpy as np

from sim.experiments.observed import log_likelihood, simulated_at
from sim.experiments.replicate import replicate
from sim.experiments.runner import run_scenario
from sim.spec.loader import LoadedScenario
from sim.spec.observations import read_observed
from tests import observed_example


def test_a_run_and_replicate_agree_at_the_observed_dates(baseline: LoadedScenario) -> None:
    observed = read_observed(observed_example.TARGET, baseline.scenario)
    run = run_scenario(baseline, 24, observed_example.SEED, workers=1)
    direct = replicate(baseline.scenario, observed_example.SEED, range(24)).weekly
    np.testing.assert_array_equal(simulated_at(observed, run.weekly), simulated_at(observed, direct))
    np.testing.assert_array_equal(log_likelihood(observed, run.weekly), log_likelihood(observed, direct))
    assert int(np.argmax(log_likelihood(observed, run.weekly))) == observed_example.REPLICATION
