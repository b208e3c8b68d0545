"""Value of information on real runs: a scenario against itself (exactly nothing to learn), the
parameters recomputed from the seed are the runs' draws, and the result does not depend on the
number of workers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engines.parameters import draw_parameters
from sim.experiments.calibrate import uncertain_paths
from sim.experiments.pipeline import Execution
from sim.experiments.voi import DecisionOptions, decision_parameters, run_value_of_information
from sim.spec.loader import LoadedScenario, load_scenario
from tests.conftest import SCENARIOS


def test_a_scenario_against_itself_is_worth_nothing(small: LoadedScenario) -> None:
    result = run_value_of_information(
        small, small, 200, 5, execution=Execution(1), options=DecisionOptions(resamples=20)
    )
    np.testing.assert_array_equal(result.decision.a, result.decision.b)
    assert result.evppi.evpi == 0.0
    assert (result.evppi.table[["evppi", "lo", "hi"]].to_numpy() == 0.0).all()
    assert result.decision.schemes == ("manufacturing_plus", "nifs")  # the schemes that value a benefit
    assert set(result.evppi.table["parameter"]) | set(result.constant) == set(uncertain_paths(small.scenario))


def test_parameters_are_the_runs_draws(small: LoadedScenario) -> None:
    variant = load_scenario(SCENARIOS / "cap-500k-200-places.toml")
    reps = np.arange(300, dtype=np.int64)
    params = decision_parameters(small, variant, 9, reps)
    draws = draw_parameters(small.scenario, 9, reps)
    assert list(params.columns) == uncertain_paths(small.scenario)
    for path in params.columns:
        np.testing.assert_array_equal(params[path].to_numpy(), draws[path])


def test_same_result_on_one_and_two_workers(small: LoadedScenario) -> None:
    variant = load_scenario(SCENARIOS / "matching-1-1.toml")
    options = DecisionOptions(resamples=20)
    one = run_value_of_information(small, variant, 120, 3, execution=Execution(1), options=options)
    two = run_value_of_information(small, variant, 120, 3, execution=Execution(2), options=options)
    np.testing.assert_array_equal(one.decision.difference, two.decision.difference)
    pd.testing.assert_frame_equal(one.evppi.table, two.evppi.table)
    assert one.evppi.evpi == two.evppi.evpi
