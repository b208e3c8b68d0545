"""Which lever matters: Morris screening and Sobol' indices (SALib) over a sweep's parameters.

The pipeline is the sweep's: a design from SALib (Morris trajectories, or
Saltelli's design for first and total Sobol' indices), every point run for the
same replications on common random numbers, each output averaged over the
replications of a point (:func:`sim.experiments.sweep.point_outputs`), then
SALib's ``analyze`` with bootstrap confidence intervals.

Replication noise is kept apart from parameter effects twice over: the
analyses see point means, not single replications, and common random numbers
make the noise of all points move together, so that it largely cancels from
their differences. What remains is reported beside the indices as
``noise_se``: the standard error of the part of a point's output that is noise
of its own. It is estimated from the spread across points of (output on the
even replications - output on the odd ones) / 2, from which the noise all
points share cancels. From it follow the noise floors in the manifest: the
mu* that a parameter without any effect would show (about
2 noise_se / (delta sqrt(pi)), delta the Morris step), and the share of the
variance across points that noise accounts for (Sobol').
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.designs import OUTPUTS, Design, Sweep, make_design, problem_of
from sim.experiments.sweep import SweepResult
from sim.rng import tag

__all__ = [
    "METHODS",
    "COLUMNS",
    "sensitivity_design",
    "analyze_outputs",
    "analyze",
    "Indices",
    "implausible_indices",
    "design_warning",
]

#: Methods and the design each needs.
METHODS: dict[str, str] = {"morris": "morris", "sobol": "saltelli"}

COLUMNS = (
    "scheme",
    "output",
    "parameter",
    "method",
    "mu_star",
    "mu_star_conf",
    "sigma",
    "S1",
    "S1_conf",
    "ST",
    "ST_conf",
    "noise_se",
)


def sensitivity_design(sweep: Sweep, method: str, samples: int | None = None) -> Design:
    """The design of ``method``: ``samples`` Morris trajectories or Saltelli base samples."""
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}'; allowed: {', '.join(METHODS)}")
    default = sweep.morris_trajectories if method == "morris" else sweep.sobol_samples
    return make_design(sweep, METHODS[method], samples or default)


def _seed(seed: int, scheme: str, output: str) -> int:
    """The bootstrap seed of one output: never 0, which SALib would treat as "no seed"."""
    return int(np.random.default_rng([seed, tag(f"bootstrap:{scheme}:{output}")]).integers(1, 2**31 - 1))


def analyze_outputs(
    problem: dict[str, Any],
    method: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    num_levels: int = 4,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 1,
) -> pd.DataFrame:
    """Indices of one output ``y`` (one value per design point): one row per parameter.

    Columns a method does not give are NaN. A Sobol' analysis of an output
    that never varies has nothing to apportion and gives NaN.
    """
    if seed < 1:
        raise ValueError("seed must be at least 1: SALib takes 0 as 'no seed' and uses global random state")
    k = problem["num_vars"]
    frame = pd.DataFrame({"parameter": problem["names"]})
    for column in COLUMNS[4:11]:
        frame[column] = np.nan
    if not np.all(np.isfinite(y)):
        return frame
    y = np.asarray(y, dtype=float)
    if method == "morris":
        from SALib.analyze import morris

        si = morris.analyze(
            problem,
            np.asarray(x, dtype=float),
            y,
            num_resamples=resamples,
            conf_level=confidence,
            num_levels=num_levels,
            seed=seed,
        )
        for key in ("mu_star", "mu_star_conf", "sigma"):
            frame[key] = np.asarray(si[key], dtype=float)[:k]
    elif method == "sobol":
        if np.ptp(y) == 0:
            return frame
        from SALib.analyze import sobol

        si = sobol.analyze(
            problem,
            y,
            calc_second_order=False,
            num_resamples=resamples,
            conf_level=confidence,
            seed=seed,
        )
        for key in ("S1", "S1_conf", "ST", "ST_conf"):
            frame[key] = np.asarray(si[key], dtype=float)[:k]
    else:
        raise ValueError(f"unknown method '{method}'; allowed: {', '.join(METHODS)}")
    return frame


@dataclass
class Indices:
    """Indices of every output of every scheme, and the noise beside them."""

    table: pd.DataFrame  # COLUMNS
    noise: dict[str, dict[str, dict[str, float | None]]]  # scheme -> output -> numbers


def _num(v: float) -> float | None:
    return round(float(v), 6) if math.isfinite(v) else None


def analyze(
    result: SweepResult,
    method: str,
    *,
    schemes: tuple[str, ...] | None = None,
    outputs: tuple[str, ...] | None = None,
    resamples: int | None = None,
    confidence: float = 0.95,
) -> Indices:
    """Indices of each output of each scheme from a finished sensitivity sweep.

    Failed points leave holes the analyses cannot fill: their outputs give NaN.
    """
    sweep, s = result.sweep, result.summaries
    problem = problem_of(sweep)
    schemes = schemes or sweep.schemes or s.schemes
    outputs = outputs or sweep.outputs
    frames: list[pd.DataFrame] = []
    noise: dict[str, dict[str, dict[str, float | None]]] = {}
    for scheme in schemes:
        j = s.schemes.index(scheme)
        noise[scheme] = {}
        for output in outputs:
            o = OUTPUTS.index(output)
            y, se = s.output_value[:, j, o], s.output_se[:, j, o]
            frame = analyze_outputs(
                problem,
                method,
                result.design.x,
                y,
                num_levels=sweep.num_levels,
                resamples=resamples or sweep.resamples,
                confidence=confidence,
                seed=_seed(result.seed, scheme, output),
            )
            split = s.output_split[:, j, o]
            point_se = float(np.sqrt(np.nanmean(se**2))) if np.isfinite(se).any() else math.nan
            noise_se = float(np.nanstd(split, ddof=1)) / 2 if np.isfinite(split).sum() > 2 else point_se
            var = float(np.nanvar(y, ddof=1)) if np.isfinite(y).sum() > 1 else math.nan
            delta = sweep.num_levels / (2 * (sweep.num_levels - 1))
            noise[scheme][output] = {
                "noise_se": _num(noise_se),
                "point_se": _num(point_se),
                "output_sd": _num(math.sqrt(var)) if math.isfinite(var) else None,
                "noise_share_of_variance": _num(noise_se**2 / var) if var and math.isfinite(var) else None,
                "mu_star_noise": _num(2 * noise_se / (delta * math.sqrt(math.pi)))
                if method == "morris"
                else None,
            }
            frame.insert(0, "method", method)
            frame.insert(0, "output", output)
            frame.insert(0, "scheme", scheme)
            frame["noise_se"] = noise_se
            frames.append(frame)
    table = pd.concat(frames, ignore_index=True)[list(COLUMNS)]
    return Indices(table=table, noise=noise)


def implausible_indices(table: pd.DataFrame) -> pd.DataFrame:
    """The Sobol' rows whose S1 or ST lies outside [0, 1] by more than its confidence interval.

    A share of variance cannot be negative or above one; an estimate that is,
    beyond its own interval, says the design has too few samples for the
    indices (or the output is mostly replication noise), not that the
    parameter matters that much or that little.
    """
    bad = pd.Series(False, index=table.index)
    for key in ("S1", "ST"):
        if key not in table:
            continue
        value = table[key].to_numpy(dtype=float)
        conf = np.nan_to_num(table[f"{key}_conf"].to_numpy(dtype=float))
        with np.errstate(invalid="ignore"):
            bad |= (value - conf > 1.0) | (value + conf < 0.0)
    return table[bad.to_numpy()]


def design_warning(table: pd.DataFrame) -> str | None:
    """One sentence that warns a reader off indices the design is too small for, or None."""
    bad = implausible_indices(table)
    if bad.empty:
        return None
    outputs = ", ".join(dict.fromkeys(bad["output"]))
    return (
        f"Warning: {len(bad)} Sobol' index row(s) lie outside 0-100% beyond their confidence interval "
        f"(outputs: {outputs}); the design is too small for these indices. Use more samples "
        "(or more replications per point) before reading them."
    )
