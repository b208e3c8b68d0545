"""An honest colour scale for a sweep's heatmap: differences between cells smaller than a cell's
sampling error are not stretched across the whole colour map.

Each cell of a sweep is a mean over replications, known to within its Monte Carlo standard
error (``<output>_se`` of ``points.parquet``). When the cells' means all lie within one cell's
95% half-width of each other (spread below ``Z95`` times the largest standard error), a colour
scale from the smallest to the largest mean would paint sampling error as strong contrast; the
scale then spans that half-width either side of the cells' middle, and the figure says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Z95", "ColourScale", "colour_scale"]

#: Two-sided 95% normal quantile: a cell's mean is known to +/- Z95 standard errors.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class ColourScale:
    """The colour scale's ends, and whether the cells' spread is within sampling error (then
    ``half_width`` is the 95% half-width of the least precise cell, and ``note`` says so)."""

    low: float
    high: float
    within_noise: bool
    half_width: float

    @property
    def note(self) -> str:
        """The figure's note when the spread is within sampling error ('' otherwise)."""
        if not self.within_noise:
            return ""
        return (
            "differences between cells are within sampling error: a cell's mean is known to\n"
            f"+/- {self.half_width:.3g} (95%), and the colour scale spans that, not the spread"
        )


def colour_scale(means: np.ndarray, ses: np.ndarray) -> ColourScale:
    """The colour scale of cells with these means and standard errors (NaN cells ignored): from the
    smallest to the largest mean, unless their spread is below one cell's 95% half-width."""
    shown = means[np.isfinite(means)]
    if not shown.size:
        return ColourScale(0.0, 1.0, False, 0.0)
    low, high = float(shown.min()), float(shown.max())
    errors = ses[np.isfinite(ses) & np.isfinite(means)]
    half = Z95 * float(errors.max()) if errors.size else 0.0
    if half > 0 and high - low < half:
        middle = (low + high) / 2
        return ColourScale(middle - half, middle + half, True, half)
    return ColourScale(low, high, False, half)
