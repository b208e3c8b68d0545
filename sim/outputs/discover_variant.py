"""The chosen box written as a scenario variant that can be run (``variant.toml``).

The variant ``extends`` the scenario the cases came from (a run's scenario, a
sweep's base) and draws each restricted parameter only inside the box:

- from a **run**, the parameter's prior truncated to the box's range: an
  empirical distribution of the run's own draws of it that fall in the range
  (at most :data:`MAX_VALUES`, evenly spaced quantiles of them). The
  parameters are drawn independently, so the variant's futures are the
  baseline's futures inside the box, and the condition should hold in about
  the box's density of them;
- from a **sweep**, a uniform distribution over the box's range (the sweep's
  design spreads its points over the ranges evenly too).

A side the box leaves free keeps the lowest or highest value the cases had.
Running it shows the futures inside the box: ``schemesim run
RESULTS/variant.toml``. A sweep parameter that cannot be a distribution is
set to the middle of the box; one inside a list (a week of a dated change)
is named in a comment instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.discover import Discovery

__all__ = ["MAX_VALUES", "VARIANT_FILE", "VariantSource", "variant_text"]

#: The file name of the variant in the discovery folder.
VARIANT_FILE = "variant.toml"

#: Most values of a truncated prior written out (evenly spaced quantiles of the draws in range).
MAX_VALUES = 1000


@dataclass(frozen=True)
class VariantSource:
    """Where the box came from: the scenario file, the cases' inputs, which of its paths may be
    distributions, and whether the inputs are draws from priors (a run) or design points (a sweep)."""

    scenario: Path
    inputs: pd.DataFrame
    scalars: set[str]
    drawn: bool


def _number(value: float) -> str:
    """A TOML number to 6 significant figures (integers as they are)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{float(value):.6g}"


def _bounds(row: pd.Series) -> tuple[float, float]:
    low = row["low"] if row["restricts_low"] else row["data_low"]
    high = row["high"] if row["restricts_high"] else row["data_high"]
    return float(max(low, row["data_low"])), float(min(high, row["data_high"]))


def _extends(scenario: Path, folder: Path) -> str:
    """The scenario's path as the variant in ``folder`` names it (relative where possible)."""
    try:
        return Path(os.path.relpath(scenario.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive
        return scenario.resolve().as_posix()


def _truncated(values: np.ndarray, low: float, high: float) -> str:
    """An empirical distribution of the draws in [low, high] (the prior truncated to the range)."""
    inside = np.sort(values[(values >= low) & (values <= high)])
    if len(inside) > MAX_VALUES:
        inside = np.quantile(inside, (np.arange(MAX_VALUES) + 0.5) / MAX_VALUES)
    return f'{{ dist = "empirical", values = [{", ".join(_number(v) for v in inside)}] }}'


def _line(path: str, low: float, high: float, source: VariantSource) -> str:
    where = f"between {_number(low)} and {_number(high)}"
    if any(part.isdigit() for part in path.split(".")):
        return f"# {path}: {where} (set it in the scenario's list)"
    if high <= low or path not in source.scalars:
        return f"{path} = {_number((low + high) / 2)}  # the middle of the box, {where}"
    if source.drawn and path in source.inputs:
        values = source.inputs[path].to_numpy(dtype=float)
        return f"# {where}: the prior truncated to the box\n{path} = {_truncated(values, low, high)}"
    return f'{path} = {{ dist = "uniform", low = {_number(low)}, high = {_number(high)} }}'


def variant_text(found: Discovery, source: VariantSource, folder: Path, names: tuple[str, str]) -> str:
    """The TOML text of the variant, to be written to ``folder/variant.toml``; ``names`` are the
    variant's name and the condition."""
    name, condition = names
    how = "the prior truncated to the box" if source.drawn else "uniform over the box"
    lines = [
        f"# The box scenario discovery chose for: {condition}",
        f"# Each restricted parameter is drawn from {how}; the rest is {source.scenario.name} as it is.",
        f'extends = "{_extends(source.scenario, folder)}"',
        f'name = "{name}"',
        f'description = "Inside the discovered box for: {_escape(condition)}"',
        "",
    ]
    for _, row in found.restrictions.iterrows():
        lines.append(_line(str(row["parameter"]), *_bounds(row), source))
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
