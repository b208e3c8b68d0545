"""Intermediary schemes (MODEL.md 6b) in every replication of the shipped scenarios that have one,
on both engines: operators are funded within the budget (top-ups included), the places and the
cap, and their grants add up to the money committed; the operators' funnel conserves them;
start-ups accelerated never exceed the places offered nor the start-up pool; relocated, surviving
and follow-on start-ups never exceed those accelerated; the direct outcomes are empty; the money
paid adds up; a benefit-cost ratio exists exactly where the scenario values the start-ups
(R-PROGRAMME-IMPACT)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.parameters import draw_parameters
from sim.engines.programme_metrics import INTERMEDIARY_METRICS, operators
from sim.engines.records import Status
from sim.engines.registry import get_engine
from sim.engines.rules import BUDGET_SLACK_HKD
from sim.engines.timeline import top_up
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
        for part in ("accelerated", "relocated", "surviving", "follow_on"):
            assert (t[f"startups_{part}"] <= t[f"startups_{part}_follow_up"]).all()
        _funnel_conserves_operators(t)
        pool = np.floor(scenario.segments[scheme.programme.cohort_segment].count * _eligible(draws, scheme))
        assert (t["startups_accelerated_follow_up"].to_numpy() <= pool).all()  # R-PROGRAMME-POOL
        assert t["cost_per_additional_hkd"].isna().all()
        _valued_exactly_with_an_impact_section(t, scheme.programme.impact is not None)
        # every grant in the records is within the cap; together they are the money committed
        rec = get_engine(engine).simulate(scenario, SEED, reps, draws)[name]
        ops = operators(rec)
        caps = [c.max_grant_hkd for c in scheme.changes if c.max_grant_hkd is not None]
        cap = np.maximum(draws.scheme(name, "max_grant_hkd"), max(caps, default=0.0))[ops.rep]
        assert (ops.grant <= cap + 1e-6).all()
        assert len(ops.rep) == int(t["awarded"].sum())
        assert (np.asarray(rec.status)[np.asarray(rec.status) == Status.AWARDED].size) == len(ops.rep)
        granted = np.bincount(ops.rep, weights=ops.grant, minlength=len(reps))
        assert np.allclose(granted, t["committed_hkd"].to_numpy(), rtol=1e-12, atol=1e-6)
        money, more_places = top_up(scheme)  # dated top-ups (R-CHANGE)
        budget = draws.scheme(name, "budget_hkd") + money
        assert (granted <= budget + BUDGET_SLACK_HKD * (places + more_places)).all()


def _eligible(draws, scheme) -> np.ndarray:
    return draws.segment(scheme.programme.cohort_segment, "eligible_share")


def _funnel_conserves_operators(t) -> None:
    """Operators who applied = turned away + still in review + withdrawn + rejected + approved;
    approved = funded + unfunded; funded = bases opened + set-ups abandoned + still setting up."""
    parts = t["turned_away"] + t["in_review"] + t["withdrawn"] + t["rejected"] + t["approved"]
    assert (t["applications"] == parts).all()
    assert (t["approved"] == t["operators_funded"] + t["unfunded"]).all()
    for suffix in ("", "_follow_up"):
        opened = t["completed" + suffix] + t["abandoned" + suffix] + t["ongoing" + suffix]
        assert (t["operators_funded"] == opened).all()


def _valued_exactly_with_an_impact_section(t, valued: bool) -> None:
    """With an impact section every run has a benefit (at least 0) and a present value at most the
    benefit; a ratio wherever the public cost is positive. Without one: none, in no run."""
    for suffix in ("", "_follow_up"):
        ratio, pv = t["benefit_cost_ratio" + suffix], t["pv_benefit_hkd" + suffix]
        if not valued:
            assert ratio.isna().all()
            assert pv.isna().all()
            assert "startup_benefit_hkd" not in t.columns or t["startup_benefit_hkd" + suffix].isna().all()
            continue
        benefit = t["startup_benefit_hkd" + suffix]
        assert (benefit >= 0).all()
        assert (pv <= benefit * (1 + 1e-12)).all()
        assert (ratio.notna() == (t["public_cost_hkd" + suffix] > 0)).all()
    if valued:
        assert (t["pv_benefit_hkd"] <= t["pv_benefit_hkd_follow_up"] * (1 + 1e-12)).all()


def test_the_start_up_values_example_is_an_intermediary_scenario() -> None:
    assert "accelerator-startup-values" in {p.stem for p in PATHS}


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
