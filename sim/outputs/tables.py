"""Tables from replication results: the summary, weekly quantiles, headline numbers.

Plain functions from DataFrames/arrays to DataFrames; nothing here runs a model.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from sim.engines.metrics import METRICS, SERIES, weeks

__all__ = ["summarize", "weekly_quantiles", "headline", "HEADLINE", "QUANTILES"]

#: Quantiles reported for the weekly series (the 50% and 90% bands and the median).
QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Each metric by scheme and segment: mean, standard error, 5/50/95% across replications.

    ``n`` counts the replications where the metric is defined (e.g. the week the
    money runs out exists only in runs where it does).
    """
    rows = []
    for (scheme, segment), group in table.groupby(["scheme", "segment"], sort=False):
        for metric in METRICS:
            x = group[metric].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            n = len(x)
            q = np.quantile(x, [0.05, 0.5, 0.95]) if n else [np.nan] * 3
            rows.append(
                {
                    "scheme": scheme,
                    "segment": segment,
                    "metric": metric,
                    "n": n,
                    "mean": x.mean() if n else np.nan,
                    "se": x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                    "p05": q[0],
                    "p50": q[1],
                    "p95": q[2],
                }
            )
    return pd.DataFrame(rows)


def weekly_quantiles(weekly: dict[str, np.ndarray], horizon: float, start: date) -> pd.DataFrame:
    """Long table: scheme, series, week, date, mean and the :data:`QUANTILES` of each series."""
    grid = weeks(horizon)
    frames = []
    for scheme, arr in weekly.items():
        qs = np.quantile(arr, QUANTILES, axis=0)  # (q, series, weeks)
        mean = arr.mean(axis=0)
        for s, series in enumerate(SERIES):
            frame = pd.DataFrame(
                {
                    "scheme": scheme,
                    "series": series,
                    "week": grid,
                    "date": [start + timedelta(weeks=float(w)) for w in grid],
                    "mean": mean[s],
                }
            )
            for qi, q in enumerate(QUANTILES):
                frame[f"q{round(q * 100):02d}"] = qs[qi, s]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


#: Headline numbers: (label, metric, statistic). Statistic "mean" reports the mean
#: and the 5-95% range across replications; "share" the share of runs where the
#: metric is 1; "median" the median over the runs where the metric is defined.
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("Applications", "applications", "mean"),
    ("Awards", "awarded", "mean"),
    ("Runs where the money runs out", "exhausted", "share"),
    ("Week it runs out (median)", "exhaustion_week", "median"),
    ("Median wait to decision (weeks)", "wait_median_weeks", "median"),
    ("Upgrades completed in horizon", "completed", "mean"),
    ("Additional upgrades", "additional_upgrades", "mean"),
    ("Cost per additional upgrade (HK$)", "cost_per_additional_hkd", "mean"),
    ("Benefit-cost ratio", "benefit_cost_ratio", "mean"),
)


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """Headline numbers per scheme: value (mean, share or median) with a 90% interval."""
    rows = []
    whole = table[table["segment"] == "all"]
    for scheme, group in whole.groupby("scheme", sort=False):
        for label, metric, stat in HEADLINE:
            x = group[metric].to_numpy(dtype=float)
            finite = x[np.isfinite(x)]
            n = len(finite)
            lo = hi = np.nan
            if stat == "share":
                value = finite.mean() if n else np.nan
                # Wilson 90% interval for the share of runs
                if n:
                    z = 1.6448536269514722
                    centre = (value + z * z / (2 * n)) / (1 + z * z / n)
                    half = z * np.sqrt(value * (1 - value) / n + z * z / (4 * n * n)) / (1 + z * z / n)
                    lo, hi = centre - half, centre + half
            elif n:
                value = float(np.median(finite)) if stat == "median" else float(finite.mean())
                lo, hi = np.quantile(finite, [0.05, 0.95])
            else:
                value = np.nan
            rows.append(
                {
                    "scheme": scheme,
                    "label": label,
                    "metric": metric,
                    "statistic": stat,
                    "value": value,
                    "p05": lo,
                    "p95": hi,
                    "n": n,
                }
            )
    return pd.DataFrame(rows)
