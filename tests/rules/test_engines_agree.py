"""All rules at once: the two engines' process rules give identical records on random tables.

The worked examples pin one rule each; here thirty to eighty applications with
continuous random draws (ties have probability zero) go through both engines'
``simulate_applicants`` under several terms, and every record field must be
equal, to the bit.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from sim.engines import batch, des
from sim.engines.applicants import Applicants, process_terms
from sim.engines.parameters import draw_parameters, scheme_parameters, segment_parameters
from sim.engines.rules import completion_probability
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
