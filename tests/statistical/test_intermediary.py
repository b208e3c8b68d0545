"""Intermediary schemes (MODEL.md 6b) in every replication of the shipped scenarios that have one,
on both engines: operators are funded within the budget, the places and the cap; start-ups
accelerated never exceed the places offered; relocated, surviving and follow-on start-ups never
exceed those accelerated; the direct outcomes are empty; the money paid adds up."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.parameters import draw_parameters
from sim.engines.programme_metrics import INTERMEDIARY_METRICS, operators
from sim.engines.records import Status
from sim.engines.registry import get_engine
from sim.engines.rules import BUDGET_SLACK_HKD
from sim.experiments.replicate import engine_names, replicate
from sim.spec.loader import load_scenario
from tests.conftest import shipped_scenarios

REPS = {"des": 12, "batch": 300}
SEED = 11


def _intermediary_scenarios() -> list:
    return [
        p
        for p in shipped_scenarios()
        if any(s.kind == "intermediary" for s in load_scenario(p).scenario.schemes.values())
    ]


PATHS = _intermediary_scenarios()


def test_the_baseline_and_its_variant_have_an_intermediary_scheme() -> None:
    assert {"baseline", "accelerator-half-operators"} <= {p.stem for p in PATHS}


@pytest.mark.parametrize("engine", engine_names())
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_intermediary_invariants_in_every_replication(path, engine) -> None:
    scenario = load_scenario(path).scenario
    reps = np.arange(REPS.get(engine, 12))
    table = replicate(scenario, SEED, reps, engine).table
    draws = draw_parameters(scenario, SEED, reps)
    for name, scheme in scenario.schemes.items():
        t = table[(table["scheme"] == name) & (table["segment"] == "all")].sort_values("replication")
        if scheme.kind == "direct":
            assert t[list(INTERMEDIARY_METRICS)].isna().all().all()
            continue
        places = draws.scheme(name, "places")
        assert (t["operators_funded"] == t["awarded"]).all()
        assert (t["operators_funded"].to_numpy() <= places).all()
        assert (
            t["committed_hkd"].to_numpy() <= draws.scheme(name, "budget_hkd") + BUDGET_SLACK_HKD * places
        ).all()
        for suffix in ("", "_follow_up"):
            accelerated = t["startups_accelerated" + suffix]
            assert (accelerated <= t["startup_places" + suffix]).all()
            for part in ("relocated", "surviving", "follow_on"):
                assert (t[f"startups_{part}{suffix}"] <= accelerated).all()
            assert (t["paid_hkd" + suffix] <= t["committed_hkd"] * (1 + 1e-12)).all()
        assert (t["startups_accelerated"] <= t["startups_accelerated_follow_up"]).all()
        assert (
            t[["benefit_cost_ratio", "cost_per_additional_hkd", "benefit_cost_ratio_follow_up"]]
            .isna()
            .all()
            .all()
        )
        # every grant in the records is within the cap
        rec = get_engine(engine).simulate(scenario, SEED, reps, draws)[name]
        ops = operators(rec)
        cap = draws.scheme(name, "max_grant_hkd")[ops.rep]
        assert (ops.grant <= cap + 1e-6).all()
        assert len(ops.rep) == int(t["awarded"].sum())
        assert (np.asarray(rec.status)[np.asarray(rec.status) == Status.AWARDED].size) == len(ops.rep)


@pytest.mark.parametrize("engine", engine_names())
def test_a_fully_paid_programme_pays_the_grants_committed(engine) -> None:
    """With three tranches and a long follow-up every opened base is paid in full: paid to the end
    of the follow-up = committed less the released rest of set-ups that were abandoned."""
    scenario = load_scenario(PATHS[0]).scenario
    reps = np.arange(REPS.get(engine, 12))
    t = replicate(scenario, SEED, reps, engine).table
    t = t[t["scheme"] == "it_accelerator"]
    opened_all = (t["abandoned_follow_up"] == 0) & (t["ongoing_follow_up"] == 0)
    assert opened_all.sum() > 0
    sub = t[opened_all]
    assert np.allclose(sub["paid_hkd_follow_up"], sub["committed_hkd"], rtol=1e-12)
