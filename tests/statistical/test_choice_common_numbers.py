"""Common random numbers across the choice among schemes (R-CHOICE), on both engines.

Adding NIFS to the baseline leaves the I&T Accelerator, whose segment no other scheme lists, exactly
as it was; and a NIFS that no project fits (its lowest project cost above every project) leaves
Manufacturing+ exactly as it is without NIFS: the choice sends every project where it went before
and draws nothing that moves another scheme's numbers.
"""

from __future__ import annotations

import copy
from dataclasses import fields

import numpy as np
import pytest

from sim.engines import batch, des
from sim.engines.records import SchemeRecords
from sim.spec.loader import scenario_from_dict

ENGINES = {"des": (des.simulate_des, 3), "batch": (batch.simulate_batch, 600)}


def _without_nifs(source: dict) -> dict:
    out = copy.deepcopy(source)
    del out["schemes"]["nifs"]
    return out


def _assert_same(a: SchemeRecords, b: SchemeRecords, what: str) -> None:
    for f in fields(SchemeRecords):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f"{what}: {f.name}")


@pytest.mark.parametrize("engine", list(ENGINES))
def test_a_scheme_whose_segment_no_other_lists_does_not_move(baseline, engine) -> None:
    simulate, n = ENGINES[engine]
    alone = scenario_from_dict(_without_nifs(baseline.source), "no-nifs.toml")
    reps = np.arange(n)
    _assert_same(
        simulate(baseline.scenario, 5, reps)["it_accelerator"],
        simulate(alone, 5, reps)["it_accelerator"],
        engine,
    )


@pytest.mark.parametrize("engine", list(ENGINES))
def test_a_scheme_no_project_fits_takes_nothing_from_the_other(baseline, engine) -> None:
    simulate, n = ENGINES[engine]
    source = copy.deepcopy(baseline.source)
    source["schemes"]["nifs"]["min_project_cost_hkd"] = 1e11  # above every project
    unreachable = scenario_from_dict(source, "unreachable.toml")
    alone = scenario_from_dict(_without_nifs(baseline.source), "no-nifs.toml")
    reps = np.arange(n)
    with_nifs = simulate(unreachable, 5, reps)
    _assert_same(with_nifs["manufacturing_plus"], simulate(alone, 5, reps)["manufacturing_plus"], engine)
    assert (with_nifs["nifs"].would_be == 0).all()
