"""Worked examples of R-CHOICE: firms of one segment listed by several schemes, on both engines.

The choice happens before the process rules (it decides which scheme's table of applications a
firm joins), so these examples run whole replications of small scenarios whose every firm applies
(eligible share 1, propensity 1, elasticity 0, a launch burst inside the window) and whose project
costs are fixed per size band: HK$600k for small firms, HK$4M for large ones. The hand-computed
outcome is exact in every replication, on both engines.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.engines import batch, choice, des
from sim.engines.records import SchemeRecords
from sim.spec.loader import merge, scenario_from_dict
from sim.spec.scenario import Scenario

RULE = "R-CHOICE"
SMALL, LARGE = 0, 1  # band indices
REPS = np.arange(6)
ENGINES = {"des": des.simulate_des, "batch": batch.simulate_batch}


def _fixed(value: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": value}


def _scheme(**overrides: Any) -> dict[str, Any]:
    """A scheme every firm applies to in weeks 0-10 (cap HK$250k, 1 : 2, no limit), with ``overrides``."""
    base = {
        "budget_hkd": 1e13,
        "places": 10**7,
        "max_grant_hkd": 250_000,
        "matching_ratio": 2,
        "uptake": {
            "elasticity": 0.0,
            "bass_p": 0.01,
            "bass_q": 0.08,
            "launch_share": 1.0,
            "launch_weeks": 10.0,
        },
        "vetting": {
            "capacity": 10**5,
            "review_weeks": {"dist": "lognormal", "median": 6, "sigma": 0.5},
            "withdraw_probability": 0.1,
            "approval_probability": 0.85,
        },
        "upgrade": {
            "duration_weeks": {"dist": "lognormal", "median": 35, "sigma": 0.4},
            "completion_probability": 0.85,
        },
        "tranches": {"upfront_share": 0.25},
        "impact": {
            "no_gain_probability": 0.15,
            "gain": {"dist": "triangular", "low": 0, "mode": 0.05, "high": 0.2},
            "ramp_years": 2,
            "deadweight": 0.45,
            "benefit_years": 5,
            "discount_rate": 0.04,
        },
    }
    return merge(base, overrides)


def choice_scenario(**schemes: dict[str, Any]) -> Scenario:
    """One segment of 300 firms, half small (HK$600k projects), half large (HK$4M), all applying."""
    segment = {
        "count": 300,
        "eligible_share": 1.0,
        "propensity": 1.0,
        "bands": {
            "small": {"share": 0.5, "project_cost_hkd": _fixed(600_000), "value_added_hkd": _fixed(1e6)},
            "large": {"share": 0.5, "project_cost_hkd": _fixed(4_000_000), "value_added_hkd": _fixed(1e6)},
        },
    }
    source = {
        "name": "choice",
        "start_date": "2025-11-18",
        "horizon_weeks": 52,
        "segments": {"firms": segment},
        "schemes": {name: _scheme(segments=["firms"], **terms) for name, terms in schemes.items()},
    }
    return scenario_from_dict(source, "choice")


def _applications(records: SchemeRecords, r: int, band: int | None = None) -> int:
    rows = records.segment[r] >= 0
    if band is not None:
        rows &= records.band[r] == band
    return int(rows.sum())


#: Manufacturing+ beside a scheme for large projects: HK$15M cap, projects from HK$3M.
PLUS_AND_NIFS = {"plus": {}, "nifs": {"max_grant_hkd": 15_000_000, "min_project_cost_hkd": 3_000_000}}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_large_projects_go_to_the_larger_grant_small_ones_to_the_only_fitting_scheme(engine) -> None:
    scenario = choice_scenario(**PLUS_AND_NIFS)
    records = ENGINES[engine](scenario, 3, REPS)
    plus, nifs = records["plus"], records["nifs"]
    for r in range(len(REPS)):
        # HK$4M: grant min(15M, 4M / 3) = HK$1.33M at nifs > HK$250k at plus; HK$600k fits plus only
        assert _applications(nifs, r) == _applications(nifs, r, LARGE) > 0, RULE
        assert _applications(plus, r) == _applications(plus, r, SMALL) > 0, RULE
        assert _applications(plus, r) + _applications(nifs, r) == 300, RULE
        assert np.allclose(nifs.grant[r][nifs.segment[r] >= 0], 4_000_000 / 3), RULE
        assert (plus.would_be[r] + nifs.would_be[r] == 300).all(), RULE
        assert (plus.eligible[r] == 300).all(), RULE  # every firm is eligible for both: the choice is after
        assert (nifs.eligible[r] == 300).all(), RULE


@pytest.mark.parametrize("engine", list(ENGINES))
def test_a_project_above_the_upper_bound_goes_to_the_other_scheme(engine) -> None:
    nifs = PLUS_AND_NIFS["nifs"] | {"max_project_cost_hkd": 3_500_000}  # HK$4M projects no longer fit
    records = ENGINES[engine](choice_scenario(plus={}, nifs=nifs), 3, REPS)
    for r in range(len(REPS)):
        assert _applications(records["nifs"], r) == 0, RULE
        assert _applications(records["plus"], r) == 300, RULE


@pytest.mark.parametrize("engine", list(ENGINES))
def test_equal_grants_go_to_the_scheme_listed_first(engine) -> None:
    records = ENGINES[engine](choice_scenario(first={}, twin={}), 3, REPS)
    for r in range(len(REPS)):
        assert _applications(records["first"], r) == 300, RULE
        assert _applications(records["twin"], r) == 0, RULE
        assert (records["twin"].would_be[r] == 0).all(), RULE


@pytest.mark.parametrize("engine", list(ENGINES))
def test_a_closed_window_sends_the_project_to_the_open_scheme(engine) -> None:
    """nifs opens in week 30: a large firm's week under nifs (30-40) is open, under plus (0-10) too; with
    nifs closing in week 35 half of them find it closed and go to plus, none is lost."""
    late = PLUS_AND_NIFS["nifs"] | {"opens_week": 30.0, "closes_week": 35.0}
    late["uptake"] = {"launch_weeks": 5.0}
    records = ENGINES[engine](choice_scenario(plus={}, nifs=late), 3, REPS)
    plus, nifs = records["plus"], records["nifs"]
    for r in range(len(REPS)):
        assert _applications(plus, r) + _applications(nifs, r) == 300, RULE
        assert _applications(nifs, r) == _applications(nifs, r, LARGE) > 0, RULE
        assert (nifs.arrival[r][nifs.segment[r] >= 0] >= 30).all(), RULE


def test_the_choice_by_hand() -> None:
    """Four projects and three schemes, every grant and week written out."""
    cost = np.array([600_000.0, 4_000_000.0, 4_000_000.0, 50_000_000.0])
    options = [
        choice.Option(
            grant=[200_000, 250_000, 250_000, 250_000], arrival=1.0, min_cost=0, max_cost=np.inf, window=52
        ),
        choice.Option(
            grant=[0, 1.3e6, 1.3e6, 15e6], arrival=[5, 5, 60, 5], min_cost=3e6, max_cost=np.inf, window=52
        ),
        choice.Option(grant=[0, 1.3e6, 1.3e6, 0], arrival=5.0, min_cost=3e6, max_cost=1e7, window=52),
    ]
    # firm 0: only the first fits; 1: a tie of 1.3M between the second and third, the second listed first;
    # 2: the second is closed at its week 60, the third is open; 3: the second's HK$15M
    assert choice.choose(cost, options).tolist() == [0, 1, 2, 1], RULE
    assert choice.reasons(cost, options).tolist() == [
        "only scheme",
        "largest grant",
        "largest grant",
        "largest grant",
    ], RULE
    closed = [choice.Option(grant=1.0, arrival=60.0, min_cost=0, max_cost=np.inf, window=52)] * 2
    assert choice.choose(cost, closed).tolist() == [0, 0, 0, 0], RULE  # fits, none open: never applies
    assert choice.reasons(cost, closed).tolist() == ["window closed"] * 4, RULE
    narrow = [choice.Option(grant=1.0, arrival=1.0, min_cost=1e6, max_cost=2e6, window=52)]
    assert choice.choose(cost, narrow).tolist() == [choice.NONE] * 4, RULE
