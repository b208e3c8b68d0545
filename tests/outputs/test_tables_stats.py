"""Statistics the figures and the brief draw, computed in tables: small hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from sim.outputs import tables


def test_exhaustion_profile_of_four_runs_by_hand() -> None:
    # two runs run out (weeks 3 and 9), two never do, over a 12-week horizon in 4-week periods
    profile = tables.exhaustion_profile(np.array([9.0, np.nan, 3.0, np.nan]), 12.0, 4.0)
    assert_allclose(profile.edges, [0, 4, 8, 12])
    assert_allclose(profile.period_share, [0.25, 0, 0.25])
    assert_allclose(profile.weeks, [0, 3, 9, 12])
    assert_allclose(profile.cumulative, [0, 0.25, 0.5, 0.5])
    assert profile.never == 0.5
    assert profile.median_week == 6.0


def test_exhaustion_profile_when_the_money_never_runs_out() -> None:
    profile = tables.exhaustion_profile(np.full(3, np.nan), 8.0)
    assert profile.never == 1.0
    assert np.isnan(profile.median_week)
    assert_allclose(profile.cumulative, [0, 0])


def test_interval_summary_ignores_undefined_runs() -> None:
    summary = tables.interval_summary(np.array([np.nan, 0.0, 10.0, 20.0, 30.0, 40.0, np.inf]))
    assert summary == tables.IntervalSummary(mean=20.0, q05=2.0, q25=10.0, q75=30.0, q95=38.0)
    assert tables.interval_summary(np.array([np.nan])) is None


def test_linear_effects_recover_an_exact_plane() -> None:
    grid = pd.DataFrame([(a, b) for a in (0.0, 1.0, 2.0) for b in (10.0, 20.0)], columns=["a", "b"])
    grid["y_mean"] = 3 * grid["a"] - 0.5 * grid["b"] + 7
    effects = tables.linear_effects(grid, ["a", "b"], "y_mean").set_index("path")
    assert_allclose(effects["at_high"] - effects["at_low"], [6.0, -5.0])
    assert_allclose(effects["r2"], 1.0)
