"""The chosen box written as a scenario variant that can be run (``variant.toml``).

The variant ``extends`` the scenario the cases came from (a run's scenario, a
sweep's base) and gives each restricted parameter a uniform distribution over
the box's range; a side the box leaves free keeps the lowest or highest value
the cases had. Running it shows the futures inside the box:
``schemesim run RESULTS/variant.toml``. A parameter that cannot be a
distribution (a week of a dated change) is listed in a comment instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.discover import Discovery

__all__ = ["VARIANT_FILE", "variant_text"]

#: The file name of the variant in the discovery folder.
VARIANT_FILE = "variant.toml"


def _number(value: float) -> str:
    """A TOML number, short but exact enough to reproduce the box (12 significant figures)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{float(value):.12g}"


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


def variant_text(
    found: Discovery, scenario: Path, folder: Path, scalars: set[str], names: tuple[str, str]
) -> str:
    """The TOML text of the variant, to be written to ``folder/variant.toml``.

    ``scalars``: the paths that may be distributions (a parameter outside them,
    such as a sweep's ``horizon_weeks``, is set to the middle of the box);
    ``names``: the variant's name and the condition."""
    name, condition = names
    lines = [
        f"# The box scenario discovery chose for: {condition}",
        f"# Each restricted parameter is uniform over the box; the rest is {scenario.name} as it is.",
        f'extends = "{_extends(scenario, folder)}"',
        f'name = "{name}"',
        f'description = "Inside the discovered box for: {_escape(condition)}"',
        "",
    ]
    for _, row in found.restrictions.iterrows():
        path = str(row["parameter"])
        low, high = _bounds(row)
        if any(part.isdigit() for part in path.split(".")) or not np.isfinite([low, high]).all():
            lines.append(
                f"# {path}: between {_number(low)} and {_number(high)} (set it in the scenario's list)"
            )
        elif high <= low or path not in scalars:
            lines.append(
                f"{path} = {_number((low + high) / 2)}  "
                f"# the middle of the box ({_number(low)} to {_number(high)})"
            )
        else:
            lines.append(f'{path} = {{ dist = "uniform", low = {_number(low)}, high = {_number(high)} }}')
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
