"""Simulated values at observed dates, and the observation model's log-likelihood, on hand-built
series (each term against its formula written out) and on the shipped synthetic example."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from sim.engines.metrics import SERIES
from sim.experiments.observed import (
    ObservationModel,
    log_likelihood,
    observation_log_likelihood,
    simulated_at,
)
from sim.experiments.replicate import replicate
from sim.spec.loader import LoadedScenario
from sim.spec.observations import Observation, ObservedData, observation_week, read_observed
from tests import observed_example

START = date(2025, 11, 18)
WEEKS = 30
REPS = 4


def _obs(*rows: tuple[str, int, str, float, str, float]) -> ObservedData:
    """Observations from (scheme, week, quantity, value, bound, tolerance), dated at the week's end."""
    made = []
    for i, (scheme, week, quantity, value, bound, tolerance) in enumerate(rows):
        day = START + timedelta(weeks=week)
        assert observation_week(day, START) == week
        made.append(Observation(i + 2, scheme, day, week, quantity, value, bound, tolerance))
    return ObservedData(path="hand.csv", observations=tuple(made))


def _coded_series() -> dict[str, np.ndarray]:
    """Series whose every cell says where it is: scheme offset + 10,000 r + 100 s + w."""
    r, s, w = np.meshgrid(np.arange(REPS), np.arange(len(SERIES)), np.arange(WEEKS), indexing="ij")
    code = 10_000.0 * r + 100.0 * s + w
    return {"a": code, "b": code + 1_000_000.0}


def test_simulated_values_are_read_at_each_observations_week() -> None:
    observed = _obs(
        ("a", 0, "applications_received", 0, "exact", 0),
        ("a", 7, "awarded", 1, "exact", 0),
        ("b", 29, "completed", 1, "at_least", 0),
        ("b", 12, "committed_hkd", 1, "approx", 0.1),
        ("a", 3, "paid_hkd", 1, "exact", 0),
        ("b", 9, "approved", 1, "exact", 0),
    )
    got = simulated_at(observed, _coded_series())
    rows = np.arange(REPS)[:, None] * 10_000.0
    expected = rows + np.array(
        [
            100 * SERIES.index("applications") + 0,
            100 * SERIES.index("awards") + 7,
            1_000_000 + 100 * SERIES.index("completions") + 29,
            1_000_000 + 100 * SERIES.index("committed_hkd") + 12,
            100 * SERIES.index("paid_hkd") + 3,
            1_000_000 + 100 * SERIES.index("approvals") + 9,
        ]
    )
    np.testing.assert_array_equal(got, expected)


def test_a_week_past_the_series_or_an_unknown_scheme_is_an_error() -> None:
    with pytest.raises(ValueError, match="week 30 is past the 30 weeks"):
        simulated_at(_obs(("a", WEEKS, "awarded", 1, "exact", 0)), _coded_series())
    with pytest.raises(ValueError, match="no weekly series of scheme 'c'"):
        simulated_at(_obs(("c", 1, "awarded", 1, "exact", 0)), _coded_series())


def _series_through(values: list[float], quantity_rows: list[int]) -> dict[str, np.ndarray]:
    """One scheme 'a' whose replications hold the given multiples of the observed values."""
    arr = np.zeros((len(values), len(SERIES), WEEKS))
    for r, factor in enumerate(values):
        for s in quantity_rows:
            arr[r, s, :] = factor * np.arange(WEEKS) * 10.0
    return {"a": arr}


@pytest.mark.parametrize("model", [ObservationModel(), ObservationModel(dispersion=math.inf)])
def test_the_trajectory_through_the_observations_is_the_most_likely(model: ObservationModel) -> None:
    rows = [SERIES.index(name) for name in ("applications", "awards", "paid_hkd")]
    weekly = _series_through([0.5, 0.9, 1.0, 1.1, 2.0], rows)
    observed = _obs(
        ("a", 5, "applications_received", 50, "exact", 0),
        ("a", 20, "applications_received", 200, "exact", 0),
        ("a", 10, "awarded", 100, "exact", 0),
        ("a", 25, "paid_hkd", 250, "exact", 0),
    )
    loglik = log_likelihood(observed, weekly, model)
    assert np.argmax(loglik) == 2
    assert loglik[1] < loglik[2]
    assert loglik[3] < loglik[2]
    assert loglik[0] < loglik[1]
    assert loglik[4] < loglik[3]
    terms = observation_log_likelihood(observed, simulated_at(observed, weekly), model)
    np.testing.assert_allclose(terms.sum(axis=1), loglik)
    assert np.all(np.argmax(terms, axis=0) == 2)


def _nbinom_pmf(y: int, mean: float, k: float) -> float:
    """The negative binomial written out: mean ``mean``, size ``k``."""
    log = math.lgamma(y + k) - math.lgamma(k) - math.lgamma(y + 1)
    return math.exp(log + k * math.log(k / (k + mean)) + y * math.log(mean / (k + mean)))


def test_count_terms_against_the_negative_binomial_written_out() -> None:
    model = ObservationModel(dispersion=20.0)
    observed = _obs(
        ("a", 1, "awarded", 40, "exact", 0),
        ("a", 1, "awarded", 40, "approx", 0.1),
        ("a", 1, "awarded", 40, "at_least", 0),
    )
    sims = np.array([[30.0] * 3, [40.0] * 3, [0.0] * 3])
    terms = observation_log_likelihood(observed, sims, model)
    for r, mean in enumerate([30.0, 40.0, 0.5]):  # a simulated zero counts as count_floor
        pmf = [_nbinom_pmf(y, mean, 20.0) for y in range(200)]
        assert terms[r, 0] == pytest.approx(math.log(pmf[40]), rel=1e-9)
        assert terms[r, 1] == pytest.approx(math.log(sum(pmf[36:45])), rel=1e-9)  # 40 +- 10%: 36..44
        assert terms[r, 2] == pytest.approx(math.log(sum(pmf[40:])), rel=1e-9)  # the tail, summed
    assert np.all(np.isfinite(terms[2, :2]))  # unlikely, not impossible


def test_money_terms_against_the_normal_written_out() -> None:
    model = ObservationModel()
    value = 2_000_000.0
    sd = 0.1 * value + 10_000.0
    observed = _obs(("a", 1, "paid_hkd", value, "exact", 0), ("a", 1, "paid_hkd", value, "approx", 0.2))
    sim = 1_700_000.0
    terms = observation_log_likelihood(observed, np.array([[sim, sim]]), model)
    z = (value - sim) / sd
    assert terms[0, 0] == pytest.approx(-0.5 * z * z - math.log(sd * math.sqrt(2 * math.pi)), rel=1e-12)

    def phi(x: float) -> float:
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    band = phi((1.2 * value - sim) / sd) - phi((0.8 * value - sim) / sd)
    assert terms[0, 1] == pytest.approx(math.log(band), rel=1e-9)


def test_a_violated_lower_bound_is_very_unlikely_and_a_met_one_costs_nothing() -> None:
    observed = _obs(("a", 1, "completed", 100, "at_least", 0), ("a", 1, "committed_hkd", 5e6, "at_least", 0))
    sims = np.array([[40.0, 2e6], [100.0, 5e6], [300.0, 9e6]])
    for model in (ObservationModel(), ObservationModel(dispersion=math.inf)):
        terms = observation_log_likelihood(observed, sims, model)
        assert np.all(terms[0] < -20), terms  # well below the bound: below e^-20
        assert np.all(np.abs(terms[2]) < 1e-6), terms  # well above: probability about 1
        assert np.all(terms[0] < terms[1])
        assert np.all(terms[1] < terms[2])


def test_an_approximate_figure_prefers_simulations_inside_its_band() -> None:
    observed = _obs(("a", 1, "awarded", 100, "approx", 0.1))
    sims = np.array([[100.0], [130.0], [300.0]])
    terms = observation_log_likelihood(observed, sims)[:, 0]
    assert terms[0] > terms[1] > terms[2]
    assert terms[2] < -20


def test_the_shipped_example_is_most_likely_under_the_replication_it_came_from(
    baseline: LoadedScenario,
) -> None:
    observed = read_observed(observed_example.TARGET, baseline.scenario)
    reps = [observed_example.REPLICATION, *range(1, 8)]
    weekly = replicate(baseline.scenario, observed_example.SEED, reps).weekly
    simulated = simulated_at(observed, weekly)
    np.testing.assert_array_equal(simulated[0], [o.value for o in observed.observations])
    loglik = log_likelihood(observed, weekly)
    assert np.argmax(loglik) == 0
    assert np.all(loglik[1:] < loglik[0])
