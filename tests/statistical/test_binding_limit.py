"""Which limit binds (MODEL.md "Which limit binds", rule R-FUND), on every engine.

A budget-tight variant of the small scenario (money for a handful of grants,
more places than applications) must report ``exhausted_by_money`` in every
replication of each scheme, and a places-tight one (three places, money for
thousands) ``exhausted_by_places``; in both, committed plus unused money is
the budget. The seeds are fixed and the limits far from the typical demand
(dozens of approved files per run), so every replication exhausts: these are
exact checks, not statistical ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.engines.parameters import draw_parameters
from sim.experiments.replicate import engine_names, replicate
from sim.spec.loader import load_scenario, merge, scenario_from_dict
from sim.spec.scenario import Scenario
from tests.conftest import DATA, shipped_scenarios

REPS = {"des": 6, "batch": 64}
SEED = 11

#: Per case: the change to tests/data/small.toml and the metric that must be 1 in every run.
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "budget-tight": (
        {
            "schemes": {
                "manufacturing_plus": {"budget_hkd": 600_000, "places": 1000},
                "it_accelerator": {"budget_hkd": 2_500_000, "places": 1000},
            }
        },
        "exhausted_by_money",
    ),
    "places-tight": (
        {
            # enough accelerator operators that more than 3 are approved in every run, and reviewers
            # enough that their reviews end, and the draw at the close is held, inside the horizon
            "segments": {"accelerator_operator": {"count": 150}},
            "schemes": {
                "manufacturing_plus": {"budget_hkd": 1e9, "places": 3},
                "it_accelerator": {"budget_hkd": 1e9, "places": 3, "vetting": {"capacity": 40}},
            },
        },
        "exhausted_by_places",
    ),
}


def _scenario(case: str) -> Scenario:
    source = merge(load_scenario(DATA / "small.toml").source, CASES[case][0])
    return scenario_from_dict(source, path=f"<{case}>")


def _scheme_rows(table: pd.DataFrame, scheme: str) -> pd.DataFrame:
    return table[(table["scheme"] == scheme) & (table["segment"] == "all")].sort_values("replication")


@pytest.mark.parametrize("engine", engine_names())
@pytest.mark.parametrize("case", list(CASES))
def test_the_binding_limit_is_reported_in_every_replication(case: str, engine: str) -> None:
    scenario, binds = _scenario(case), CASES[case][1]
    other = "exhausted_by_places" if binds == "exhausted_by_money" else "exhausted_by_money"
    reps = np.arange(REPS.get(engine, 6))
    table = replicate(scenario, SEED, reps, engine, weekly=False).table
    draws = draw_parameters(scenario, SEED, reps)
    for scheme in CASES[case][0]["schemes"]:  # the schemes the case makes tight (not NIFS's few files)
        t = _scheme_rows(table, scheme)
        budget = draws.scheme(scheme, "budget_hkd")
        assert (t[binds] == 1).all(), f"{scheme}: {binds}"
        assert (t[other] == 0).all(), f"{scheme}: {other}"
        assert (t["exhausted"] == 1).all()
        total = t["committed_hkd"].to_numpy() + t["unused_budget_hkd"].to_numpy()
        np.testing.assert_allclose(total, budget, rtol=1e-12, err_msg=f"{scheme}: committed + unused")
        if binds == "exhausted_by_places":
            assert (t["awarded"].to_numpy() == draws.scheme(scheme, "places")).all()
        else:  # the file that did not fit asked for more than was left, and grants are capped
            assert (t["unused_budget_hkd"].to_numpy() < draws.scheme(scheme, "max_grant_hkd")).all()


@pytest.mark.parametrize("engine", engine_names())
def test_a_scheme_that_never_runs_out_reports_neither_limit_and_its_unused_budget(engine: str) -> None:
    source = merge(
        load_scenario(DATA / "small.toml").source,
        {"schemes": {"manufacturing_plus": {"budget_hkd": 1e9, "places": 100_000}}},
    )
    scenario = scenario_from_dict(source, path="<ample>")
    reps = np.arange(REPS.get(engine, 6))
    t = _scheme_rows(replicate(scenario, SEED, reps, engine, weekly=False).table, "manufacturing_plus")
    assert (t["exhausted_by_money"] == 0).all()
    assert (t["exhausted_by_places"] == 0).all()
    # a few million of a billion committed, far fewer applications than places: under-subscribed
    assert (t["undersubscribed"] == 1).all()
    assert (t["applications_below_places"] == 1).all()
    np.testing.assert_allclose(t["unused_budget_hkd"] + t["committed_hkd"], 1e9, rtol=1e-12)


#: Replications per engine for the shipped scenarios (each scenario at full scale).
SHIPPED_REPS = {"des": 2, "batch": 128}


@pytest.mark.parametrize("engine", engine_names())
@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_every_exhausted_run_of_a_shipped_scenario_names_one_limit_that_fits_its_numbers(
    path: Path, engine: str
) -> None:
    scenario = load_scenario(path).scenario
    reps = np.arange(SHIPPED_REPS.get(engine, 2))
    table = replicate(scenario, 5, reps, engine, weekly=False).table
    draws = draw_parameters(scenario, 5, reps)
    for scheme in scenario.schemes:
        t = _scheme_rows(table, scheme)
        places = draws.scheme(scheme, "places")
        by_money, by_places = t["exhausted_by_money"].to_numpy(), t["exhausted_by_places"].to_numpy()
        np.testing.assert_array_equal(by_money + by_places, t["exhausted"].to_numpy())
        awarded = t["awarded"].to_numpy()
        changes = scenario.schemes[scheme].changes
        added_money = sum(change.budget_hkd for change in changes)
        added_places = sum(change.places for change in changes)
        if not changes:
            assert (awarded[by_places == 1] == places[by_places == 1]).all()
            assert (awarded[by_money == 1] < places[by_money == 1]).all()
        else:  # the first exhaustion is the one recorded; a later top-up may reopen the scheme
            assert (awarded <= places + added_places).all()
        total = t["committed_hkd"].to_numpy() + t["unused_budget_hkd"].to_numpy()
        np.testing.assert_allclose(total, draws.scheme(scheme, "budget_hkd") + added_money, rtol=1e-12)
