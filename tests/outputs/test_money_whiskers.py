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
