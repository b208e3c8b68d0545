"""Windows and timing parameters (MODEL.md 3c-d): how the fields relate, and draws per replication."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines import batch
from sim.engines.parameters import draw_parameters, scheme_parameters
from sim.engines.records import Status
from sim.engines.registry import simulate_records
from tests.statistical.helpers import open_scheme_scenario


def test_a_rolling_window_runs_to_the_horizon() -> None:
    scenario = open_scheme_scenario(schemes={"open": {"opens_week": 5}})
    assert scenario.window("open") == 52
    assert scenario.window_length("open") == 47


def test_application_window_weeks_is_the_length_from_the_opening() -> None:
    scenario = open_scheme_scenario(schemes={"open": {"opens_week": 5, "application_window_weeks": 10}})
    assert scenario.window("open") == 15
    assert scenario.window_length("open") == 10


def test_a_window_past_the_horizon_is_cut_there_for_arrivals_but_not_for_the_rush() -> None:
    """The older field may reach past the horizon: no application after it, but the rush stays
    before the real close."""
    scenario = open_scheme_scenario(schemes={"open": {"opens_week": 40, "application_window_weeks": 20}})
    assert scenario.window("open") == 52
    assert scenario.window_length("open") == 20


def test_timing_shares_drawn_per_replication_reach_both_engines() -> None:
    """A launch share given as a distribution is drawn once per replication; the batch engine runs it."""
    scenario = open_scheme_scenario(
        segments={"firms": {"count": 400}},
        schemes={
            "open": {
                "uptake": {
                    "launch_share": {"dist": "uniform", "low": 0.1, "high": 0.5},
                    "launch_weeks": {"dist": "uniform", "low": 2, "high": 8},
                }
            }
        },
    )
    assert batch.unsupported(scenario) == []
    par = scheme_parameters(draw_parameters(scenario, 3, np.arange(6)), "open")
    assert len(np.unique(par.launch_share)) == 6
    assert par.launch_weeks is not None
    assert np.all((par.launch_weeks >= 2) & (par.launch_weeks <= 8))
    for engine in ("des", "batch"):
        rec = simulate_records(scenario, 3, np.arange(6), engine)["open"]
        assert (rec.status != Status.PADDING).sum() > 0, engine


@pytest.mark.parametrize("engine", ["des", "batch"])
def test_no_application_before_the_opening_or_after_the_close(engine) -> None:
    scenario = open_scheme_scenario(
        segments={"firms": {"count": 400}},
        schemes={"open": {"opens_week": 20, "closes_week": 30, "uptake": {"bass_p": 0.2}}},
    )
    rec = simulate_records(scenario, 5, np.arange(10), engine)["open"]
    times = rec.arrival[rec.status != Status.PADDING]
    assert times.size > 50
    assert times.min() >= 20
    assert times.max() <= 30
