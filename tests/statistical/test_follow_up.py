"""The follow-up (MODEL.md v2, rule R-FOLLOW-UP), on every engine.

Outcomes counted to the end of the follow-up can only add to those counted
to the scheme's end: every replication completes, abandons, pays and benefits
at least as much by then, and the same awards are split into completed,
abandoned and ongoing upgrades in both windows. With no follow-up the two
windows are one, to the bit. A follow-up changes nothing that happens within
the horizon (applications, decisions, awards, money committed). These are
exact checks on fixed seeds, not statistical ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.engines.metrics import ACCRUING, FOLLOW_UP_SUFFIX, METRICS
from sim.experiments.replicate import engine_names, replicate
from sim.spec.loader import load_scenario, merge, scenario_from_dict
from sim.spec.scenario import Scenario
from tests.conftest import DATA

REPS = {"des": 6, "batch": 64}
SEED = 13

#: Outcomes that only grow as the window lengthens.
GROWING = (
    "completed",
    "abandoned",
    "paid_hkd",
    "released_hkd",
    "private_hkd",
    "additional_upgrades",
    "pv_benefit_hkd",
)


def _small(follow_up: float) -> Scenario:
    source = merge(load_scenario(DATA / "small.toml").source, {"follow_up_weeks": follow_up})
    return scenario_from_dict(source, path=f"<small, follow-up {follow_up:g}>")


def _whole(scenario: Scenario, engine: str) -> pd.DataFrame:
    table = replicate(scenario, SEED, np.arange(REPS[engine]), engine, weekly=False).table
    return table[table["segment"] == "all"].reset_index(drop=True)


@pytest.mark.parametrize("engine", engine_names())
def test_outcomes_by_the_end_of_the_follow_up_are_at_least_those_by_the_scheme_end(engine: str) -> None:
    rows = _whole(_small(104.0), engine)
    for name in GROWING:
        later, sooner = rows[name + FOLLOW_UP_SUFFIX], rows[name]
        empty = later.isna() & sooner.isna()  # an intermediary's direct outcomes (MODEL.md 6b)
        assert ((later >= sooner - 1e-6) | empty).all(), name
    for suffix in ("", FOLLOW_UP_SUFFIX):
        split = rows["completed" + suffix] + rows["abandoned" + suffix] + rows["ongoing" + suffix]
        np.testing.assert_array_equal(split, rows["awarded"])
    # upgrades funded late in a two-year pilot end after it: the follow-up must show them (the
    # I&T Accelerator's operators, funded at its call's close, open their bases inside the pilot)
    direct = rows[rows["scheme"] == "manufacturing_plus"]
    assert (direct["completed_follow_up"] > direct["completed"]).mean() > 0.5


@pytest.mark.parametrize("engine", engine_names())
def test_a_follow_up_changes_nothing_within_the_horizon(engine: str) -> None:
    without, with_follow_up = _whole(_small(0.0), engine), _whole(_small(52.0), engine)
    within = [m for m in METRICS if not m.endswith(FOLLOW_UP_SUFFIX)]
    pd.testing.assert_frame_equal(without[within], with_follow_up[within])


@pytest.mark.parametrize("engine", engine_names())
def test_without_a_follow_up_both_windows_are_one(engine: str) -> None:
    rows = _whole(_small(0.0), engine)
    for name in ACCRUING:
        np.testing.assert_array_equal(
            rows[name + FOLLOW_UP_SUFFIX].to_numpy(), rows[name].to_numpy(), err_msg=name
        )
