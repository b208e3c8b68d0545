"""MODEL.md's closed-form check of the timing mixture (3c) against cumulative applications, on every engine.

With no budget, place or capacity limit and fixed parameters, a firm applies
with probability ``eligible_share * propensity * F(W)`` independently of the
others, F the mixture CDF (launch burst, deadline rush, Bass) and W the
window's length; its application week is the opening week plus a time drawn
from F truncated to [0, W]. Two windows: a rolling one with a launch burst,
and a call that opens in week 8 and closes in week 21 with a launch burst and
a deadline rush. Every test states its false-alarm rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.engines.records import Status
from sim.engines.registry import engine_names, simulate_records
from sim.engines.uptake import Timing, timing_cdf
from tests.statistical.helpers import open_scheme_scenario

REPS = {"des": 150, "batch": 2000}
SEED = 31337

#: name -> (opens_week, closes_week or None, uptake fields)
WINDOWS: dict[str, tuple[float, float | None, dict[str, Any]]] = {
    "rolling, launch burst": (0.0, None, {"launch_share": 0.2, "launch_weeks": 6}),
    "call from week 8 to 21, burst and rush": (
        8.0,
        21.0,
        {"launch_share": 0.2, "launch_weeks": 4, "rush_share": 0.26, "rush_weeks": 1},
    ),
}


@pytest.fixture(scope="module", params=[(w, e) for w in WINDOWS for e in engine_names()], ids=str)
def mixture_run(request):
    window, engine = request.param
    opens, closes, uptake = WINDOWS[window]
    scheme: dict[str, Any] = {"opens_week": opens, "uptake": uptake}
    if closes is not None:
        scheme["closes_week"] = closes
    scenario = open_scheme_scenario(schemes={"open": scheme})
    records = simulate_records(scenario, SEED, np.arange(REPS.get(engine, 150)), engine)["open"]
    return f"{window}, {engine}", scenario, records


def _timing(scenario) -> tuple[Timing, float, float]:
    """The scheme's timing terms, its opening week and its window's length."""
    up = scenario.schemes["open"].uptake
    timing = Timing(
        bass_p=up.bass_p,
        bass_q=up.bass_q,
        length=scenario.window_length("open"),
        launch_share=up.launch_share,
        launch_weeks=up.launch_weeks or 1.0,
        rush_share=up.rush_share,
        rush_weeks=up.rush_weeks or 1.0,
    )
    return timing, scenario.schemes["open"].opens_week, scenario.window_length("open")


def _apply_share(scenario, weeks_since_opening: Any) -> np.ndarray:
    """Chance that a firm applies within ``weeks_since_opening`` of the opening: e * a * F(t)."""
    seg = scenario.segments["firms"]
    return seg.eligible_share * seg.propensity * timing_cdf(weeks_since_opening, _timing(scenario)[0])


def test_total_applications_are_binomial(mixture_run) -> None:
    """Applications over all replications ~ Binomial(R * count, e a F(W)): z-test, 0.1% false alarm."""
    name, scenario, rec = mixture_run
    apps = (rec.status != Status.PADDING).sum()
    n = rec.replications * scenario.segments["firms"].count
    pi = float(_apply_share(scenario, scenario.window_length("open")))
    z = (apps - n * pi) / np.sqrt(n * pi * (1 - pi))
    assert abs(z) < stats.norm.ppf(1 - 0.001 / 2), f"{name}: z = {z:.2f}"


def test_application_times_follow_the_mixture_cdf(mixture_run) -> None:
    """Pooled application weeks against opening + F truncated to the window: one-sample KS test at 0.1%."""
    name, scenario, rec = mixture_run
    timing, opens, length = _timing(scenario)
    times = rec.arrival[rec.status != Status.PADDING]
    assert times.min() >= opens
    assert times.max() <= opens + length

    def cdf(t: np.ndarray) -> np.ndarray:
        return timing_cdf(np.clip(t - opens, 0.0, length), timing) / timing_cdf(length, timing)

    result = stats.kstest(times, cdf)
    assert result.pvalue > 0.001, f"{name}: KS p = {result.pvalue:.2g}"


def test_mean_cumulative_curve_within_simultaneous_band(mixture_run) -> None:
    """Mean cumulative applications at every week vs count * e * a * F(week - opening).

    Each week's mean is within z * sd / sqrt(R) of its expectation, with the binomial sd and a
    Bonferroni z over all weeks with any chance to apply (simultaneous false alarm 0.1%).
    """
    name, scenario, rec = mixture_run
    _, opens, length = _timing(scenario)
    grid = np.arange(1.0, scenario.horizon_weeks + 1)
    grid = grid[grid > opens]
    n = scenario.segments["firms"].count
    arrival = np.where(rec.status != Status.PADDING, rec.arrival, np.inf)
    counts = (arrival[:, :, None] <= grid[None, None, :]).sum(axis=1)
    pi = _apply_share(scenario, np.minimum(grid - opens, length))
    sd = np.sqrt(n * pi * (1 - pi) / rec.replications)
    z = stats.norm.ppf(1 - 0.001 / (2 * len(grid)))
    worst = np.max(np.abs(counts.mean(axis=0) - n * pi) / sd)
    assert worst < z, f"{name}: worst standardised deviation {worst:.2f} >= {z:.2f}"
