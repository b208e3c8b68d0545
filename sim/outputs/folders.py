"""Read a finished result folder (run, compare, sweep or sensitivity) back into tables.

A :class:`ResultFolder` knows its kind from ``manifest.json``, reads its tables
on demand, and recovers what figures need from the manifest: scheme labels,
places and budgets, the opening date, and the scenario's sourced defaults.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs.manifest import KINDS, FolderError, Manifest, read_manifest

__all__ = ["KINDS", "FolderError", "ResultFolder", "read_folder", "Assumption", "sourced_defaults"]


@dataclass(frozen=True)
class Assumption:
    """One default of a scenario: where it sits, its value as written, and its source comment."""

    path: str
    value: str
    source: str


@dataclass
class ResultFolder:
    """A finished result folder and its manifest; tables are read when first asked for."""

    path: Path
    manifest: Manifest
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        return self.manifest.kind

    @cached_property
    def meta(self) -> dict[str, Any]:
        """The manifest as its flat JSON form, the way figures and the brief read its fields."""
        return self.manifest.as_dict()

    def has(self, name: str) -> bool:
        return (self.path / name).exists()

    def table(self, name: str) -> pd.DataFrame:
        """``replications``, ``timeseries``, ``summary``, ``comparison``, ``points``, ``indices``..."""
        if name not in self._tables:
            parquet, csv = self.path / f"{name}.parquet", self.path / f"{name}.csv"
            if parquet.exists():
                self._tables[name] = pd.read_parquet(parquet)
            elif csv.exists():
                self._tables[name] = pd.read_csv(csv)
            else:
                raise FolderError(f"{self.path}: no {name}.parquet or {name}.csv")
        return self._tables[name]

    @cached_property
    def source(self) -> dict[str, Any]:
        """The merged scenario table (the base scenario, for comparisons the first one)."""
        for key in ("scenario_source", "scenario_source_a", "base_scenario_source"):
            if isinstance(self.meta.get(key), dict):
                return self.meta[key]
        return {}

    @property
    def labels(self) -> dict[str, str]:
        """Scheme name -> label, from the scenario (or the names themselves)."""
        schemes = self.source.get("schemes", {})
        return {name: s.get("label") or name for name, s in schemes.items()}

    @property
    def segment_labels(self) -> dict[str, str]:
        """Segment name -> label, from the scenario."""
        segments = self.source.get("segments", {})
        return {name: s.get("label") or name for name, s in segments.items()}

    @property
    def limits(self) -> dict[str, dict[str, float]]:
        """Places and budget of each scheme (their means, where they are uncertain)."""
        return scheme_limits(self.source)

    @property
    def name(self) -> str:
        m = self.meta
        if m.get("scenario_a") is not None:
            return f"{m['scenario_a']} vs {m.get('scenario_b', '?')}"
        return str(m.get("scenario") or m.get("base_scenario") or self.path.name)

    @property
    def description(self) -> str:
        return str(self.source.get("description", ""))

    def assumptions(self) -> dict[str, Assumption]:
        """The scenario's defaults with their ``# source`` comments, by dotted path."""
        keys = ("scenario_texts", "scenario_texts_a", "base_scenario_texts")
        texts: dict[str, str] = next((self.meta[k] for k in keys if isinstance(self.meta.get(k), dict)), {})
        return sourced_defaults(list(texts.values()))


def scheme_limits(source: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Places and budget of each scheme in a merged scenario table (means, where uncertain), with
    every dated top-up added (R-CHANGE): the places and budget at the horizon, as the metrics use."""
    out = {}
    for name, s in source.get("schemes", {}).items():
        out[name] = {k: v for k in ("places", "budget_hkd") if (v := _mean_of(s.get(k))) is not None}
        for change in s.get("changes", []):
            for key in ("places", "budget_hkd"):
                if key in out[name] and isinstance(change.get(key), int | float):
                    out[name][key] += float(change[key])
    return out


def _mean_of(value: Any) -> float | None:
    """A number, or the mean of a distribution table, or None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        from sim.spec.distributions import DistributionError, parse_distribution

        try:
            mean = parse_distribution(value).mean()
        except (DistributionError, NotImplementedError, TypeError, ValueError):
            return None
        return float(mean) if math.isfinite(mean) else None
    return None


def read_folder(path: str | Path) -> ResultFolder:
    """Open a finished result folder; :class:`FolderError` says what is missing."""
    path = Path(path)
    if not path.is_dir():
        raise FolderError(f"{path}: not a folder; give a result folder such as results/baseline-1a2b3c4d5e")
    manifest = read_manifest(path)
    missing = [name for name in KINDS[manifest.kind] if not (path / name).exists()]
    if missing:
        raise FolderError(f"{path}: a {manifest.kind} folder needs {', '.join(missing)}")
    return ResultFolder(path=path, manifest=manifest)


_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\.\"]+)\s*=\s*(.+)$")


def _split_comment(rest: str) -> tuple[str, str]:
    """Split 'value   # comment' at the first '#' outside a string."""
    quote = ""
    for i, ch in enumerate(rest):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return rest[:i].strip(), rest[i + 1 :].strip()
    return rest.strip(), ""


def sourced_defaults(texts: list[str]) -> dict[str, Assumption]:
    """Each ``key = value  # source`` line of scenario texts, by dotted path.

    ``texts`` run from the scenario itself to the file it extends (as stored in
    the manifest); a scenario's own lines override those it inherits.
    """
    out: dict[str, Assumption] = {}
    for text in reversed(texts):
        table = ""
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            if header := _HEADER.match(line):
                table = header.group(1).strip()
                continue
            if key := _KEY.match(line):
                value, comment = _split_comment(key.group(2))
                path = f"{table}.{key.group(1).strip()}" if table else key.group(1).strip()
                out[path] = Assumption(path, value, comment)
    return out
