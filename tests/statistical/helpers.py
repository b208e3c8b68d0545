"""Scenario builders and the c-server queue recursion used by statistical tests."""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np

from sim.spec.loader import merge, scenario_from_dict
from sim.spec.scenario import Scenario


def open_scheme_scenario(**overrides: Any) -> Scenario:
    """One segment, one scheme, fixed parameters, no money, place or capacity limit.

    The grant cap is far above any project, so every firm's subsidy rate is exactly
    the reference rate and its chance to apply is ``propensity``: the setting of
    MODEL.md's closed-form uptake check.
    """
    source: dict[str, Any] = {
        "name": "open-scheme",
        "start_date": "2025-11-18",
        "horizon_weeks": 52,
        "segments": {
            "firms": {
                "count": 4000,
                "eligible_share": 0.5,
                "propensity": 0.2,
                "bands": {
                    "all": {
                        "share": 1.0,
                        "project_cost_hkd": {"dist": "lognormal", "median": 600_000, "sigma": 0.6},
                        "value_added_hkd": {"dist": "lognormal", "median": 2_000_000, "sigma": 0.8},
                    }
                },
            }
        },
        "schemes": {
            "open": {
                "segments": ["firms"],
                "budget_hkd": 1e13,  # the largest allowed: never binds
                "places": 10**7,
                "max_grant_hkd": 1e11,
                "matching_ratio": 2,
                "uptake": {"reference_rate": 1 / 3, "elasticity": 1.0, "bass_p": 0.01, "bass_q": 0.08},
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
        },
    }
    return scenario_from_dict(merge(source, overrides))


def fcfs_starts(arrival: np.ndarray, service: np.ndarray, servers: int) -> np.ndarray:
    """Start times of first-come-first-served service with ``servers`` servers.

    The textbook recursion: each arrival, in order, takes the server that frees
    first, starting at ``max(arrival, that server's free time)``.
    """
    free = [0.0] * servers
    heapq.heapify(free)
    starts = np.empty(len(arrival))
    for k in np.argsort(arrival, kind="stable"):
        earliest = heapq.heappop(free)
        starts[k] = max(arrival[k], earliest)
        heapq.heappush(free, starts[k] + service[k])
    return starts


def top_up_call_scenario() -> Scenario:
    """A scheme whose places fill, topped up at week 40 (it reopens) and closed early at week 80 (R-CHANGE)."""
    return open_scheme_scenario(
        name="top-up-call",
        horizon_weeks=104,
        schemes={
            "open": {
                "places": 150,
                "close_on_exhaustion": True,
                "changes": [{"week": 40, "places": 100}, {"week": 80, "closes": True}],
            }
        },
    )


def assessors_call_scenario() -> Scenario:
    """A scheme whose five reviewers fall behind (about four applications a week, six-week reviews)
    until ten more assessors join at week 40 (R-CHANGE); its places fill and it closes on exhaustion."""
    return open_scheme_scenario(
        name="assessors-call",
        horizon_weeks=104,
        schemes={
            "open": {
                "places": 250,
                "close_on_exhaustion": True,
                "vetting": {"capacity": 5},
                "changes": [{"week": 40, "assessors": 10}],
            }
        },
    )


def reapply_scenario() -> Scenario:
    """A rolling scheme where two files in five are rejected and half of those reapply (R-REAPPLY)."""
    return open_scheme_scenario(
        name="reapply",
        horizon_weeks=104,
        schemes={
            "open": {
                "places": 300,
                "vetting": {"approval_probability": 0.6, "reapply_probability": 0.5},
            }
        },
    )
