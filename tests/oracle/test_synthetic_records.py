"""The compiled metrics against the oracle on made-up records full of ties on week boundaries.

Simulated times are continuous, so an event exactly on a reporting week or
exactly at the horizon happens only at committee meetings. Here every time
is a multiple of half a week, so many events fall exactly on a week, on the
horizon or just after it, which is where counting "at or before week w" and
"inside the horizon" can go wrong. The records are consistent as an engine
would make them (arrival <= review start <= decision <= upgrade end, the
times each status has), drawn at random from fixed seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.metrics import METRICS, SERIES, scheme_metrics
from sim.engines.parameters import ParameterDraws, draw_parameters
from sim.engines.records import ExhaustedBy, SchemeRecords, Status
from sim.spec.loader import load_scenario
from tests.conftest import DATA
from tests.oracle.reference import reference_metrics, reference_series
from tests.oracle.test_metric_oracle import ATOL, EXACT, EXACT_SERIES, RTOL

SCHEME = "synthetic"
SLOTS = 24


def _half_weeks(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    """Random multiples of half a week in [low, high]."""
    return rng.integers(int(2 * low), int(2 * high) + 1, size) / 2.0


def _stages(rng: np.random.Generator, status: np.ndarray, horizon: float) -> dict[str, np.ndarray]:
    """Arrival, review start and decision of one replication's applications, by status."""
    n = len(status)
    arrival = np.sort(_half_weeks(rng, 0.0, horizon, n))
    review_start = arrival + _half_weeks(rng, 0.0, 3.0, n)
    decision = np.minimum(review_start + _half_weeks(rng, 0.0, 6.0, n), horizon)
    waiting = status == Status.IN_REVIEW
    queued = waiting & (rng.random(n) < 0.5)
    review_start[(status == Status.TURNED_AWAY) | queued] = np.nan
    # a file in review at the horizon has no decision yet, or one after the horizon
    decision[waiting] = np.where(rng.random(n) < 0.5, np.nan, horizon + _half_weeks(rng, 0.5, 4.0, n))[
        waiting
    ]
    decision[status == Status.TURNED_AWAY] = np.nan
    return {"arrival": arrival, "review_start": review_start, "decision": decision}


def _upgrades(rng: np.random.Generator, status: np.ndarray, decision: np.ndarray) -> dict[str, np.ndarray]:
    """Upgrade ends, outcomes and gains; an end may fall on, before or after the horizon, or be unknown."""
    n = len(status)
    awarded = status == Status.AWARDED
    end = np.where(awarded, decision + _half_weeks(rng, 0.0, 20.0, n), np.nan)
    end[awarded & (rng.random(n) < 0.1)] = np.nan
    gain = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0.0, 0.2, n))
    return {
        "upgrade_end": end,
        "completes": awarded & (rng.random(n) < 0.8),
        "gain": gain,
        "deadweight": rng.random(n) < 0.4,
    }


def _replication(rng: np.random.Generator, horizon: float) -> dict[str, np.ndarray]:
    """One replication's applications: every field, unpadded."""
    n = int(rng.integers(0, SLOTS + 1))
    status = rng.integers(Status.TURNED_AWAY, Status.AWARDED + 1, n)
    stages = _stages(rng, status, horizon)
    grant = rng.uniform(1e4, 3e5, n)
    return {
        "segment": rng.integers(0, 2, n),
        "status": status,
        **stages,
        "cost": grant * rng.uniform(1.0, 4.0, n),
        "grant": grant,
        "value_added": rng.lognormal(14.0, 1.0, n),
        **_upgrades(rng, status, stages["decision"]),
    }


def synthetic_records(seed: int, replications: int, horizon: float) -> SchemeRecords:
    """Random consistent records of a two-segment scheme, padded to :data:`SLOTS`."""
    rng = np.random.default_rng(seed)
    fill = {"segment": -1, "status": Status.PADDING, "completes": False, "deadweight": False}
    rows = [_replication(rng, horizon) for _ in range(replications)]
    columns = {}
    for name, first in rows[0].items():
        column = np.full((replications, SLOTS), fill.get(name, np.nan), dtype=first.dtype)
        for r, row in enumerate(rows):
            column[r, : len(row[name])] = row[name]
        columns[name] = column
    choices = np.array([np.nan, horizon - 0.5, horizon, horizon + 0.5, float(np.floor(horizon))])
    return SchemeRecords(
        **columns,
        band=np.where(columns["segment"] >= 0, 0, -1),
        readiness=np.full((replications, SLOTS), np.nan),
        upgrade_start=np.full((replications, SLOTS), np.nan),
        eligible=rng.integers(0, 100, (replications, 2)),
        would_be=rng.integers(0, 30, (replications, 2)),
        exhaustion=rng.choice(choices, replications),
        exhausted_by=np.zeros(replications, dtype=np.int8),  # set with the places (with_binding_limit)
        reapplied=np.zeros((replications, 2), dtype=np.int64),
        reopenings=np.zeros(replications, dtype=np.int64),
    )


def synthetic_draws(seed: int, replications: int) -> ParameterDraws:
    """Random per-replication tranche, impact and admin-cost parameters."""
    rng = np.random.default_rng(seed + 1)
    values = {
        "tranches.upfront_share": rng.choice([0.0, 0.25, 1.0, 0.4], replications),
        "impact.ramp_years": rng.uniform(0.25, 3.0, replications),
        "impact.benefit_years": rng.integers(1, 8, replications).astype(float),
        "impact.discount_rate": rng.choice([0.0, 0.04, 0.1], replications),
        "admin_cost_per_application_hkd": rng.choice([0.0, 8000.0], replications),
        "places": rng.choice([1.0, 3.0, 1000.0], replications),
        "budget_hkd": rng.choice([3e5, 1e6, 1e8], replications),
    }
    reps = np.arange(replications)
    base = draw_parameters(load_scenario(DATA / "small.toml").scenario, seed, reps)
    prefix = "schemes.manufacturing_plus."
    drawn = {f"schemes.{SCHEME}.{p[len(prefix) :]}": base[p] for p in base.paths() if p.startswith(prefix)}
    return ParameterDraws(drawn | {f"schemes.{SCHEME}.{k}": v for k, v in values.items()}, reps)


def with_binding_limit(rec: SchemeRecords, draws: ParameterDraws) -> SchemeRecords:
    """``rec`` with the limit that binds as the engines record it (R-FUND): places if the awards
    fill the places at exhaustion, else money; none where there is no exhaustion."""
    awards = (rec.status == Status.AWARDED).sum(axis=1)
    places = draws.scheme(SCHEME, "places")
    why = np.where(awards >= places, ExhaustedBy.PLACES, ExhaustedBy.MONEY)
    rec.exhausted_by = np.where(np.isnan(rec.exhaustion), ExhaustedBy.NONE, why).astype(np.int8)
    return rec


def _assert_same(got: np.ndarray, want: np.ndarray, exact: bool, name: str) -> None:
    """Equal to the bit for counts, quantiles and times; to :data:`RTOL` for sums (NaN equals NaN)."""
    if exact:
        np.testing.assert_array_equal(got, want, err_msg=name)
    else:
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL.get(name, 0.0), err_msg=name)


@pytest.mark.parametrize("replications", [1, 40])
@pytest.mark.parametrize("horizon", [20.0, 20.5])
@pytest.mark.parametrize("segment", [None, 0, 1], ids=["all", "segment-0", "segment-1"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("follow_up", [0.0, 7.5], ids=["no-follow-up", "follow-up"])
def test_compiled_metrics_equal_the_oracle_on_records_with_ties_on_week_boundaries(
    seed: int, segment: int | None, horizon: float, replications: int, follow_up: float
) -> None:
    draws = synthetic_draws(seed, replications)
    rec = with_binding_limit(synthetic_records(seed, replications, horizon), draws)
    end = horizon + follow_up
    got = scheme_metrics(rec, draws, SCHEME, horizon, segment=segment, end=end)
    want = reference_metrics(rec, draws, SCHEME, horizon, segment=segment, end=end)
    for name in METRICS:
        _assert_same(got.values[name], want[name], name in EXACT, name)
    series = reference_series(rec, draws, SCHEME, horizon, segment=segment, end=end)
    assert got.weekly is not None
    for i, name in enumerate(SERIES):
        _assert_same(got.weekly[:, i], series[name], name in EXACT_SERIES, f"weekly {name}")
