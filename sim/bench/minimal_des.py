"""A minimal plain-SimPy model of the same pipeline, for benchmarking only.

Arrival (Bass), a vetting ``Resource``, approval, the budget and places, and the
upgrade: nothing else (no streams per stage, no records, no metrics, no trace).
It is the yardstick that the full SimPy engine's overhead is measured against.
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.spec.distributions import Distribution
from sim.spec.scenario import Scenario


def _value(x: float | Distribution) -> float:
    return x.mean() if isinstance(x, Distribution) else float(x)


def run_minimal(scenario: Scenario, rng: np.random.Generator) -> int:
    """One replication of the bare pipeline; returns the number of awards."""
    env = simpy.Environment()
    awards = 0
    for scheme in scenario.schemes.values():
        n = sum(scenario.segments[s].count for s in scheme.segments)
        seg = scenario.segments[scheme.segments[0]]
        band = next(iter(seg.bands.values()))
        eligible = rng.random(n) < _value(seg.eligible_share)
        cost = band.project_cost_hkd.sample(rng, n)
        grant = np.minimum(_value(scheme.max_grant_hkd), cost / (1 + _value(scheme.matching_ratio)))
        rate = grant / cost
        a = np.clip(_value(seg.propensity) * rate / _value(scheme.uptake.reference_rate), 0, 1)
        applies = eligible & (rng.random(n) < a)
        p, q = _value(scheme.uptake.bass_p), _value(scheme.uptake.bass_q)
        u = rng.random(n)
        t = np.log((1 + u * q / p) / (1 - u)) / (p + q)
        idx = np.flatnonzero(applies & (t <= scenario.horizon_weeks))
        review = scheme.vetting.review_weeks.sample(rng, n)
        duration = scheme.upgrade.duration_weeks.sample(rng, n)
        approve = rng.random(n) < _value(scheme.vetting.approval_probability)
        vetting = simpy.Resource(env, capacity=int(_value(scheme.vetting.capacity)))
        state = {"budget": _value(scheme.budget_hkd), "places": int(_value(scheme.places))}

        def firm(
            i,
            t=t,
            review=review,
            approve=approve,
            grant=grant,
            duration=duration,
            vetting=vetting,
            state=state,
        ):
            nonlocal awards
            yield env.timeout(t[i])
            with vetting.request() as req:
                yield req
                yield env.timeout(review[i])
            if approve[i] and state["budget"] >= grant[i] and state["places"] > 0:
                state["budget"] -= grant[i]
                state["places"] -= 1
                awards += 1
                yield env.timeout(duration[i])

        for i in idx:
            env.process(firm(int(i)))
    env.run(until=scenario.horizon_weeks)
    return awards
