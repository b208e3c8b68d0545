"""The cases scenario discovery works on, read from a result folder.

- A **run**: one case per replication of the chosen scheme (its whole-scheme
  rows of ``replications.parquet``), its inputs the parameters the scenario
  gives as distributions, as drawn for that replication (``draws.parquet``;
  a folder written before runs kept it has them drawn again from the
  scenario in its manifest, with the same seed: the same numbers). Outputs
  are every metric, plus ``exhausted_by`` (``money``, ``places`` or ``none``).
- A **sweep** (or sensitivity design): one case per point, its inputs the
  sweep's parameters, its outputs each metric's mean over the point's
  replications (``points.parquet``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engines.parameters import draw_parameters
from sim.outputs.draws import DRAWS_FILE, uncertain_paths
from sim.outputs.folders import FolderError, ResultFolder, read_folder
from sim.spec.suggest import did_you_mean

__all__ = ["Cases", "EXHAUSTED_BY", "read_cases", "outputs_allowed"]

#: The words of the text output ``exhausted_by``.
EXHAUSTED_BY = ("money", "places", "none")

#: Result kinds discovery reads.
KINDS = ("run", "sweep", "sensitivity")


@dataclass(frozen=True)
class Cases:
    """Cases of one scheme: ``inputs`` (one column per parameter path) and ``outputs``, row by row."""

    folder: ResultFolder
    kind: str
    scheme: str
    inputs: pd.DataFrame
    outputs: pd.DataFrame
    note: str = ""

    @property
    def unit(self) -> str:
        """What one case is, in words: futures (replications) or points."""
        return "futures" if self.kind == "run" else "points"


def outputs_allowed(outputs: pd.DataFrame) -> dict[str, tuple[str, ...] | None]:
    """Output name -> its words (``exhausted_by``) or None (a number), for the condition parser."""
    return {c: (EXHAUSTED_BY if c == "exhausted_by" else None) for c in outputs.columns}


def read_cases(path: Path, scheme: str | None = None) -> Cases:
    """The cases of result folder ``path`` for ``scheme`` (None: the scenario's first scheme)."""
    folder = read_folder(path)
    if folder.kind not in KINDS:
        raise FolderError(
            f"{path}: a {folder.kind} folder; discovery reads a run (its replications and their drawn "
            "parameters) or a sweep (its points)"
        )
    scheme = _scheme(folder, scheme)
    if folder.kind == "run":
        return _run_cases(folder, scheme)
    return _sweep_cases(folder, scheme)


def _scheme(folder: ResultFolder, scheme: str | None) -> str:
    names = list(folder.labels)
    if scheme is None:
        if not names:
            raise FolderError(f"{folder.path}: its manifest names no scheme")
        return names[0]
    if scheme not in names:
        raise FolderError(
            f"--scheme: '{scheme}' is not a scheme of this result{did_you_mean(scheme, names)}; "
            f"allowed: {', '.join(names)}"
        )
    return scheme


def _run_cases(folder: ResultFolder, scheme: str) -> Cases:
    table = folder.table("replications")
    rows = table[(table["scheme"] == scheme) & (table["segment"] == "all")].sort_values("replication")
    draws, note = _draws(folder)
    merged = rows[["replication"]].merge(draws, on="replication", how="left", validate="one_to_one")
    inputs = merged.drop(columns="replication").reset_index(drop=True)
    outputs = rows.drop(columns=["replication", "scheme", "segment"]).reset_index(drop=True)
    outputs = outputs.select_dtypes("number").astype(float)
    outputs["exhausted_by"] = _exhausted_by(outputs)
    return Cases(folder, "run", scheme, inputs, outputs, note)


def _exhausted_by(outputs: pd.DataFrame) -> np.ndarray:
    money = outputs.get("exhausted_by_money", pd.Series(0.0, index=outputs.index)).to_numpy() > 0
    places = outputs.get("exhausted_by_places", pd.Series(0.0, index=outputs.index)).to_numpy() > 0
    return np.where(places, "places", np.where(money, "money", "none")).astype(object)


def _draws(folder: ResultFolder) -> tuple[pd.DataFrame, str]:
    """The run's draws: its ``draws.parquet``, or drawn again from the manifest's scenario."""
    if folder.has(DRAWS_FILE):
        return pd.read_parquet(folder.path / DRAWS_FILE), ""
    from sim.spec.loader import ScenarioError, scenario_from_dict

    try:
        scenario = scenario_from_dict(dict(folder.source), folder.path / "manifest.json")
    except ScenarioError as problem:
        raise FolderError(
            f"{folder.path}: no {DRAWS_FILE}, and its scenario cannot be read again: {problem}"
        ) from None
    reps = np.arange(int(folder.manifest.replications), dtype=np.int64)
    draws = draw_parameters(scenario, int(folder.manifest.seed), reps)
    columns: dict[str, Any] = {"replication": reps, **{p: draws[p] for p in uncertain_paths(scenario)}}
    note = f"no {DRAWS_FILE} in the folder: the parameters were drawn again from the scenario in its manifest"
    return pd.DataFrame(columns), note


def _sweep_cases(folder: ResultFolder, scheme: str) -> Cases:
    points = folder.table("points")
    rows = points[points["scheme"] == scheme].sort_values("point").reset_index(drop=True)
    means = [c for c in rows.columns if c.endswith("_mean")]
    known = {"point", "scheme", "segment"}
    inputs = rows[[c for c in rows.columns if c not in known and not c.endswith(("_mean", "_se"))]]
    outputs = rows[means].rename(columns=lambda c: c.removesuffix("_mean")).astype(float)
    return Cases(folder, folder.kind, scheme, inputs.astype(float), outputs)
