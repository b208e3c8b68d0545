"""A sweep heatmap's colour scale is not stretched to differences within sampling error."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sim.outputs.figures import sweep_heatmap  # noqa: E402
from sim.outputs.heat_noise import Z95, colour_scale  # noqa: E402

A, B = "schemes.m.changes.0.places", "schemes.m.changes.0.week"
PARAMETERS = [{"path": A}, {"path": B}]


def _points(means: np.ndarray, se: float) -> pd.DataFrame:
    grid = [(a, b) for b in (13.0, 52.0) for a in (0.0, 100.0, 200.0)]
    return pd.DataFrame(
        {
            "scheme": "m",
            A: [a for a, _b in grid],
            B: [b for _a, b in grid],
            "awarded_mean": means,
            "awarded_se": se,
        }
    )


def test_a_spread_within_one_cells_error_gets_the_errors_scale() -> None:
    scale = colour_scale(np.array([97.40, 97.45, 97.42]), np.array([0.5, 0.6, 0.55]))
    assert scale.within_noise
    assert scale.half_width == pytest.approx(Z95 * 0.6)
    assert (scale.low, scale.high) == pytest.approx((97.425 - Z95 * 0.6, 97.425 + Z95 * 0.6))
    assert "within sampling error" in scale.note


def test_a_spread_beyond_the_error_keeps_the_data_scale() -> None:
    scale = colour_scale(np.array([300.0, 318.0, np.nan]), np.array([3.0, 3.0, np.nan]))
    assert not scale.within_noise
    assert (scale.low, scale.high) == (300.0, 318.0)
    assert scale.note == ""


def test_without_standard_errors_the_scale_is_the_data() -> None:
    scale = colour_scale(np.array([1.0, 2.0]), np.array([np.nan, np.nan]))
    assert (scale.low, scale.high, scale.within_noise) == (1.0, 2.0, False)


def _drawn(points: pd.DataFrame) -> tuple[str, tuple[float, float]]:
    meta = {"start_date": "2025-11-18"}
    fig = sweep_heatmap(points, PARAMETERS, "awarded", "m", {"m": "M"}, meta)
    ax = fig.axes[0]
    title, clim = ax.get_title(loc="left"), ax.images[0].get_clim()
    plt.close(fig)
    return title, clim


def test_the_heatmap_says_when_its_cells_differ_by_noise_only() -> None:
    title, (low, high) = _drawn(_points(np.array([97.40, 97.45, 97.41, 97.42, 97.44, 97.43]), 0.5))
    assert "differences between cells are within sampling error" in title
    assert high - low == pytest.approx(2 * Z95 * 0.5)


def test_the_heatmap_shows_real_differences_on_the_data_scale() -> None:
    title, clim = _drawn(_points(np.array([306.0, 316.0, 318.0, 306.0, 316.0, 318.0]), 1.0))
    assert "sampling error" not in title
    assert clim == pytest.approx((306.0, 318.0))
