"""Money by financial year when a year's money comes in only a few runs (a call that closes early):
its mean can lie above the 95th percentile, and the whisker then stops at the bar."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.outputs.plots import draw_money_by_year


def test_a_mean_outside_the_5_95_range_draws_without_error() -> None:
    rows = pd.DataFrame(
        {
            "financial_year": ["2025-26", "2026-27"],
            "committed_hkd_mean": [5e6, 2e5],  # 2026-27: money in under 5% of runs
            "committed_hkd_p05": [3e6, 0.0],
            "committed_hkd_p95": [7e6, 0.0],
            "paid_hkd_mean": [1e6, 3e5],
            "paid_hkd_p05": [5e5, 0.0],
            "paid_hkd_p95": [2e6, 0.0],
        }
    )
    fig, ax = plt.subplots()
    try:
        draw_money_by_year(ax, rows)
        caps = [line for line in ax.lines if len(line.get_ydata()) == 2]
        tops = np.concatenate([line.get_ydata() for line in caps]) if caps else np.array([])
        assert len(ax.patches) == 4
        assert np.all(tops >= 0)
    finally:
        plt.close(fig)


def test_a_size_band_whose_mean_lies_above_its_95th_percentile_draws_without_error() -> None:
    """Who is funded: a band with firms in under 5% of runs (mean above the 95th percentile)."""
    from sim.outputs.funded_chart import draw_bands

    rows = pd.DataFrame(
        {
            "segment": ["manufacturing_sme", "manufacturing_sme"],
            "band": ["micro", "medium"],
            "applications_mean": [300.0, 0.4],
            "applications_p05": [150.0, 0.0],
            "applications_p95": [600.0, 0.0],
            "awards_mean": [200.0, 0.3],
            "awards_p05": [100.0, 0.0],
            "awards_p95": [340.0, 0.0],
        }
    )
    fig, ax = plt.subplots()
    try:
        draw_bands(ax, rows)
        assert len(ax.patches) == 4
    finally:
        plt.close(fig)
