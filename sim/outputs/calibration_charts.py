"""The two figures of a calibration: prior against posterior per parameter, and the posterior
predictive check of the observed series (observations as points on the weighted fan).

Both take a finished :class:`~sim.experiments.calibrate.Calibration` and never run an engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.experiments.calibrate import Calibration, SeriesKey, observed_series, weighted_quantiles
from sim.outputs.style import (
    GREYS,
    INK,
    add_footer,
    date_axis,
    hkd_axis,
    legend_below,
    new_figure,
    parameter_label,
    scheme_label,
    set_title,
    style_axes,
)
from sim.spec.observations import COUNT_QUANTITIES, ObservedData

__all__ = ["predictive_chart", "prior_posterior_chart"]

#: Quantiles of the bands: 5-95% and 25-75%, and the median.
BANDS = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Words for the observed quantities on the panels.
QUANTITY_WORDS = {
    "applications_received": "applications received",
    "approved": "applications approved",
    "awarded": "awards",
    "committed_hkd": "money committed",
    "paid_hkd": "money paid",
    "completed": "upgrades completed",
}


def _grid(count: int, columns: int) -> tuple[int, int]:
    columns = max(1, min(columns, count))
    return math.ceil(count / columns), columns


def prior_posterior_chart(
    calibration: Calibration, labels: Mapping[str, str], meta: Mapping[str, Any]
) -> Figure:
    """One panel per uncertain parameter: the prior's histogram (light) under the posterior's (dark)."""
    paths = calibration.paths or ["(none)"]
    rows, cols = _grid(len(paths), 3)
    fig = new_figure(3.4 * cols + 0.4, 2.5 * rows + 1.4)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, path in zip(axes, calibration.paths, strict=False):
        prior = calibration.prior[path].to_numpy(dtype=float)
        posterior = calibration.posterior[path].to_numpy(dtype=float)
        edges = np.histogram_bin_edges(prior, bins=40)
        if edges[0] == edges[-1]:
            edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
        ax.hist(prior, bins=edges, density=True, color=GREYS[2], lw=0)
        ax.hist(posterior, bins=edges, density=True, histtype="step", color=INK, lw=1.6)
        ax.set_title(parameter_label(path, labels), fontsize=8, wrap=True)
        ax.set_yticks([])
        style_axes(ax, grid="x")
    for ax in axes[len(calibration.paths) :]:
        ax.set_axis_off()
    set_title(
        fig, f"What do the observations say about the uncertain parameters? (ESS {calibration.ess:,.0f})"
    )
    handles = [Patch(color=GREYS[2]), Patch(facecolor="none", edgecolor=INK, lw=1.6)]
    legend_below(fig, handles, ["prior (the scenario's distributions)", "posterior (given the observations)"])
    add_footer(fig, meta)
    return fig


def band_frame(calibration: Calibration, key: SeriesKey, start: Any) -> pd.DataFrame:
    """Per week of one observed series: dates and the prior and posterior (weighted) quantiles."""
    series = calibration.series[key].astype(float)
    equal = np.full(len(series), 1.0 / len(series))
    prior = weighted_quantiles(series, equal, BANDS)
    posterior = weighted_quantiles(series, calibration.weights, BANDS)
    weeks = np.arange(series.shape[1])
    frame = pd.DataFrame({"week": weeks, "date": [start + timedelta(weeks=int(w)) for w in weeks]})
    for i, q in enumerate(BANDS):
        frame[f"prior_q{round(100 * q):02d}"] = prior[i]
        frame[f"posterior_q{round(100 * q):02d}"] = posterior[i]
    return frame


def _draw_observations(ax: Any, observed: ObservedData, key: SeriesKey) -> None:
    """The observations of one series: exact as dots, approx with its range, at_least as a triangle."""
    for o in observed.observations:
        if (o.scheme, o.quantity) != key:
            continue
        x = pd.Timestamp(o.day)
        if o.bound == "approx":
            low, high = o.value * (1 - o.tolerance), o.value * (1 + o.tolerance)
            ax.errorbar(
                [x], [o.value], yerr=[[o.value - low], [high - o.value]], fmt="o", color="black", ms=3
            )
        else:
            ax.plot([x], [o.value], "^" if o.bound == "at_least" else "o", color="black", ms=4, zorder=5)


def _draw_bands(ax: Any, frame: pd.DataFrame) -> None:
    x = pd.to_datetime(frame["date"])
    ax.fill_between(x, frame["prior_q05"], frame["prior_q95"], color=GREYS[3], lw=0)
    ax.fill_between(x, frame["posterior_q05"], frame["posterior_q95"], color=GREYS[2], lw=0)
    ax.fill_between(x, frame["posterior_q25"], frame["posterior_q75"], color=GREYS[1], lw=0)
    ax.plot(x, frame["posterior_q50"], color=INK, lw=1.6)


def predictive_chart(
    calibration: Calibration, observed: ObservedData, labels: Mapping[str, str], meta: Mapping[str, Any]
) -> Figure:
    """Per observed scheme and quantity: the prior's 5-95% band (lightest), the posterior's 5-95%
    and 25-75% bands and median, over dates, with the observations as points."""
    keys = observed_series(observed)
    rows, cols = _grid(len(keys), 2)
    fig = new_figure(4.8 * cols + 0.4, 3.0 * rows + 1.4)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    start = date.fromisoformat(str(meta["start_date"]))
    for ax, key in zip(axes, keys, strict=False):
        frame = band_frame(calibration, key, start)
        _draw_bands(ax, frame)
        _draw_observations(ax, observed, key)
        scheme, quantity = key
        ax.set_title(f"{scheme_label(scheme, labels)}: {QUANTITY_WORDS.get(quantity, quantity)}", fontsize=9)
        if quantity not in COUNT_QUANTITIES:
            hkd_axis(ax.yaxis)
        date_axis(ax.xaxis, float(frame["week"].max()))
        ax.set_ylim(bottom=0)
        style_axes(ax)
    for ax in axes[len(keys) :]:
        ax.set_axis_off()
    set_title(fig, "Do the calibrated replications go through the observations?")
    handles: list[Any] = [Patch(color=GREYS[3]), Patch(color=GREYS[2]), Patch(color=GREYS[1])]
    handles.append(Line2D([], [], marker="o", ls="", color="black", ms=4))
    names = ["prior 90% band", "posterior 90% band", "posterior 50% band", "observed"]
    legend_below(fig, handles, names)
    add_footer(fig, meta)
    return fig
