"""Result folders of sweeps, sensitivity analyses and comparisons.

A sweep folder is filled while the sweep runs, one file per point, each
written whole (temporary file, then rename), so an interrupted sweep leaves
only complete points behind and ``--resume`` finishes the others::

    definition.json            what defines the points (checked on resume)
    points/point-00012.parquet the replications of point 12 (+ parameters, seed, scenario hash)
    points/point-00013.error.json  the error of a point that raised
    points.parquet             one row per point x scheme: parameters, <metric>_mean, <metric>_se
    failures.csv               point, error
    manifest.json              written last: the folder is finished
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from sim.engines.metrics import FOLLOW_UP_SUFFIX
from sim.experiments.compare import SUBSET_METRICS, CompareResult
from sim.experiments.designs import Sweep
from sim.experiments.sensitivity import Indices, design_warning
from sim.experiments.sweep import SweepResult, peak_memory_mb
from sim.outputs import store
from sim.outputs.labels import COMPARE_HEADERS, COMPARE_LABELS, STATISTICS, compare_header
from sim.outputs.manifest import FolderError, Manifest, scenario_texts, write_manifest
from sim.outputs.numbers import (
    MISSING,
    count_words,
    format_hkd_short,
    format_ratio,
    format_share,
    format_value,
    format_weeks,
    is_share,
    is_weeks,
)
from sim.outputs.tables import readable_indices

__all__ = [
    "FolderError",
    "SweepStore",
    "sweep_folder",
    "sensitivity_folder",
    "compare_folder",
    "finish_sweep",
    "save_sensitivity",
    "save_compare",
    "comparison_cells",
    "comparison_table",
    "compared_label",
    "replication_note",
]

_POINT = re.compile(r"^point-(\d+)\.parquet$")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def sweep_folder(sweep: Sweep, replications: int, seed: int, engine: str, root: Path = store.RESULTS) -> Path:
    return root / store.run_id(f"sweep-{sweep.name}", sweep.definition(), replications, seed, engine)


def sensitivity_folder(
    sweep: Sweep,
    method: str,
    samples: int,
    replications: int,
    seed: int,
    engine: str,
    root: Path = store.RESULTS,
) -> Path:
    parts = (sweep.definition(), method, samples, replications, seed, engine)
    return root / store.run_id(f"sensitivity-{sweep.name}-{method}", *parts)


def compare_folder(result: CompareResult, root: Path = store.RESULTS) -> Path:
    a, b = result.a, result.b
    name = f"compare-{_safe(a.loaded.name)}-vs-{_safe(b.loaded.name)}"
    return root / store.run_id(name, a.loaded.hash, b.loaded.hash, a.seed, a.replications, a.engine)


#: The files a sensitivity analysis writes into its folder beside a sweep's.
SENSITIVITY_FILES = ("indices.csv", "indices_readable.csv", "WARNING.txt")


def _writes(definition: dict[str, Any]) -> list[str]:
    """The names a sweep (or a sensitivity analysis) of this definition writes into its folder."""
    extra = SENSITIVITY_FILES if definition.get("kind") == "sensitivity" else ()
    return [*store.SWEEP_FILES, *extra, "manifest.json"]


class SweepStore:
    """The points of a sweep on disk: the :class:`~sim.experiments.sweep.PointSink` of real runs."""

    def __init__(self, folder: Path, definition: dict[str, Any], resume: bool = False):
        self.folder = Path(folder)
        self.points = self.folder / "points"
        marker = self.folder / "definition.json"
        stored = {"format": store.SWEEP_MARKER, **json.loads(json.dumps(definition, default=str))}
        if self.folder.is_dir():
            store.hold_folder(self.folder)  # before anything is read or cleared: no other sweep meanwhile
            if store.owned_entries(self.folder) is not None:
                store.keep_aside(self.folder, _writes(definition))
        if resume and marker.exists():
            self._check_same_sweep(marker, stored)
            self._check_points_inside()
        elif self.folder.exists() and any(self.folder.iterdir()):
            store.check_replaceable(self.folder)
            store.clear_owned(self.folder)
        self.points.mkdir(parents=True, exist_ok=True)
        store.hold_folder(self.folder)
        (self.folder / "manifest.json").unlink(missing_ok=True)  # unfinished until the end
        for stale in self.points.glob(".tmp-*"):  # a file being written when the run was killed
            stale.unlink()
        store.write_json(marker, stored)

    def _check_points_inside(self) -> None:
        """Refuse to resume into a ``points`` folder that a link sends elsewhere (its files are not ours)."""
        if self.points.is_symlink():
            raise FolderError(
                f"{self.points}: a symbolic link, so the points would be read from and written to "
                "another folder; replace it by the folder itself, or start the sweep again without --resume"
            )

    def _check_same_sweep(self, marker: Path, stored: dict[str, Any]) -> None:
        """Refuse to resume a folder of another sweep (or a folder that is not a sweep of ours)."""
        try:
            found = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            found = None
        if not isinstance(found, dict) or found.get("format") != store.SWEEP_MARKER:
            raise FolderError(
                f'{marker}: not a schemesim sweep definition (no "format": "{store.SWEEP_MARKER}"); '
                "it is not a sweep folder of this schemesim version: choose another --out"
            )
        if found != stored:
            raise FolderError(
                f"{self.folder} holds a different sweep (its definition.json differs); "
                "resume with the same sweep file and options, or choose another --out"
            )

    def _file(self, point: int, suffix: str) -> Path:
        return self.points / f"point-{point:05d}{suffix}"

    def done(self) -> set[int]:
        return {int(m.group(1)) for f in self.points.iterdir() if (m := _POINT.match(f.name))}

    def load(self, point: int) -> pd.DataFrame:
        return pd.read_parquet(self._file(point, ".parquet"))

    def save(self, point: int, frame: pd.DataFrame) -> None:
        store.write_parquet(self._file(point, ".parquet"), frame)
        self._file(point, ".error.json").unlink(missing_ok=True)

    def fail(self, point: int, error: str) -> None:
        store.write_json(self._file(point, ".error.json"), {"point": point, "error": error})


def _sweep_manifest(result: SweepResult) -> Manifest:
    """The manifest of a sweep: its design, how it ran, and the text of the files it used."""
    sweep = result.sweep
    details = {
        "name": sweep.name,
        "sweep_file": sweep.path,
        "sweep_text": sweep.text,
        "base_scenario": sweep.base.name,
        "base_scenario_path": os.path.relpath(sweep.base.path, Path(sweep.path).parent),
        "scenario_hash": sweep.base.hash,
        "parameters": [p.describe() for p in sweep.parameters],
        "design": result.design.method,
        "points": len(result.design),
        "workers": result.workers,
        "scheduler": result.scheduler,
        "completed": result.completed,
        "failed": len(result.failures),
        "resumed_points": result.resumed,
        "replications_run": result.replications_run,
        "elapsed_s": round(result.elapsed_s, 3),
        "replications_per_second": round(result.reps_per_second, 1) if result.replications_run else None,
        "peak_memory_mb": result.peak_memory_mb,
        "base_scenario_source": sweep.base.source,
        "base_scenario_texts": scenario_texts(sweep.base),
    }
    return Manifest(
        kind="sweep",
        seed=result.seed,
        replications=result.replications,
        engine=result.engine,
        files=("definition.json", "points/", "points.parquet", "failures.csv"),
        details=details,
    )


def _write_pieces(path: Path, pieces: Iterator[pd.DataFrame]) -> None:
    """Write tables of the same columns as one Parquet file, a row group each, then rename into place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    try:
        writer, empty = None, None
        for piece in pieces:
            if piece.empty:  # no types to go by: keep the columns in case every piece is empty
                empty = piece
                continue
            table = pa.Table.from_pandas(piece, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table.cast(writer.schema))
        if writer is None:
            nothing = empty if empty is not None else pd.DataFrame()
            pq.write_table(pa.Table.from_pandas(nothing, preserve_index=False), tmp)
        else:
            writer.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def finish_sweep(folder: Path, result: SweepResult, extra: dict[str, Any] | None = None) -> Path:
    """Write the per-point table, the failures and, last, the manifest; then let other commands in."""
    folder = Path(folder)
    _write_pieces(folder / "points.parquet", result.points_tables())
    failures = pd.DataFrame(
        {"point": sorted(result.failures), "error": [result.failures[p] for p in sorted(result.failures)]}
    )
    store.write_csv(folder / "failures.csv", failures)
    manifest = _sweep_manifest(result)
    extra = dict(extra or {})
    kind = str(extra.pop("kind", manifest.kind))
    files = manifest.files + tuple(extra.pop("files", ()))
    details = {**manifest.details, **extra, "peak_memory_mb": peak_memory_mb()}  # with the tables written
    write_manifest(folder, replace(manifest, kind=kind, files=files, details=details))
    store.release_folder(folder)
    return folder


def _scheme_labels(result: SweepResult) -> dict[str, str]:
    """Scheme name -> label, from the sweep's base scenario."""
    schemes = result.sweep.base.source.get("schemes", {})
    return {name: s.get("label") or name for name, s in schemes.items()}


def _write_design_warning(folder: Path, indices: Indices) -> list[str]:
    """``WARNING.txt`` when Sobol' indices fall outside 0-100% beyond their interval (the design
    is too small for them); the file names written."""
    warning = design_warning(indices.table)
    if warning is None:
        return []
    store.write_text(folder / "WARNING.txt", warning + "\n")
    return ["WARNING.txt"]


def save_sensitivity(folder: Path, result: SweepResult, indices: Indices, method: str, samples: int) -> Path:
    """The sweep files, ``indices.csv`` (raw numbers), ``indices_readable.csv`` (names in words,
    HK$ and % formatted), ``WARNING.txt`` if the design is too small for its indices, and a
    manifest of kind ``sensitivity`` (with the warning, if any)."""
    folder = Path(folder)
    store.write_csv(folder / "indices.csv", indices.table)
    store.write_csv(folder / "indices_readable.csv", readable_indices(indices.table, _scheme_labels(result)))
    warned = _write_design_warning(folder, indices)
    extra = {
        "kind": "sensitivity",
        "method": method,
        "samples": samples,
        "outputs": sorted(set(indices.table["output"]), key=list(indices.table["output"]).index),
        "schemes": sorted(set(indices.table["scheme"]), key=list(indices.table["scheme"]).index),
        "confidence": 0.95,
        "resamples": result.sweep.resamples,
        "noise": indices.noise,
        "warnings": [design_warning(indices.table)] if warned else [],
        "files": ["indices.csv", "indices_readable.csv", *warned],
    }
    return finish_sweep(folder, result, extra)


def save_compare(result: CompareResult, out: Path | None = None) -> Path:
    """``comparison.csv`` (numbers, for scripts), ``comparison-table.csv`` (the same comparison as
    read, with the column headers of ``compare``), both runs' replications and the manifest,
    written atomically."""
    folder = Path(out) if out is not None else compare_folder(result)
    with store.atomic_dir(folder) as tmp:
        store.write_csv(tmp / "comparison.csv", result.comparison)
        store.write_csv(tmp / "comparison-table.csv", comparison_table(result.comparison))
        store.write_parquet(tmp / "replications_a.parquet", result.a.table)
        store.write_parquet(tmp / "replications_b.parquet", result.b.table)
        write_manifest(tmp, _compare_manifest(result))
    return folder


def _compare_manifest(result: CompareResult) -> Manifest:
    """The manifest of a comparison: both scenarios, their hashes and the texts of the files used."""
    a, b = result.a, result.b
    details = {
        "scenario_a": a.loaded.name,
        "scenario_b": b.loaded.name,
        "scenario_path_a": a.loaded.path,
        "scenario_path_b": b.loaded.path,
        "scenario_hash_a": a.loaded.hash,
        "scenario_hash_b": b.loaded.hash,
        "workers": a.workers,
        "confidence": float(result.comparison["confidence"].iloc[0]) if len(result.comparison) else 0.95,
        "elapsed_s": round(result.elapsed_s, 3),
        "scenario_source_a": a.loaded.source,
        "scenario_source_b": b.loaded.source,
        "scenario_texts_a": scenario_texts(a.loaded),
        "scenario_texts_b": scenario_texts(b.loaded),
    }
    files = ("comparison.csv", "comparison-table.csv", "replications_a.parquet", "replications_b.parquet")
    return Manifest(
        kind="compare",
        seed=a.seed,
        replications=a.replications,
        engine=a.engine,
        files=files,
        details=details,
    )


# ------------------------------------------------------------------ comparison cells


def _change(value: float, metric: str, extra: int = 0) -> str:
    """A difference B - A: percentage points for a share of runs, else the metric's own unit;
    ``extra`` digits beyond the usual ones (so that an interval does not print as a point)."""
    if not math.isfinite(value):
        return MISSING
    if is_share(metric):
        return f"{100 * value:+.{extra}f} pp" if value else "0 pp"
    if not value:
        return "0"
    if not extra:
        return format_value(value, metric, signed=True)
    sign, base = "+" if value > 0 else "", metric.removesuffix(FOLLOW_UP_SUFFIX)
    if base.endswith("_hkd"):
        return sign + format_hkd_short(value, 3 + extra)
    if is_weeks(base):
        return format_weeks(value, 1 + extra, sign=sign)
    if base in ("benefit_cost_ratio", "leverage"):
        return format_ratio(value, 2 + extra, sign=sign)
    return f"{value:+,.{extra}f}"


#: Most digits added to a mean difference and its interval to keep them apart.
_MOST_EXTRA = 4


def _difference(r: pd.Series) -> str:
    """The mean difference with its confidence interval: the precision of the mean. An interval of
    non-zero width gets the digits it needs not to print as a point; one of zero width (the paired
    difference the same in every run) is said to be exact."""
    if r["presence"] != "both":
        return str(r["presence"])
    m, value, lo, hi = r["metric"], r["diff_mean"], r["diff_lo"], r["diff_hi"]
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return _change(value, m)
    if lo == hi:
        return f"{_change(value, m)} exactly (the same in every run)"
    for extra in range(_MOST_EXTRA + 1):
        cells = [_change(x, m, extra) for x in (lo, value, hi)]
        if len(set(cells)) == len({lo, value, hi}):
            break
    return f"{cells[1]} ({cells[0].removesuffix(' weeks')} to {cells[2]})"


def _spread(r: pd.Series) -> str:
    """Where the per-run difference falls in 90% of runs; 'none' when it is the same in every run."""
    lo, hi, m = r["spread_lo"], r["spread_hi"], r["metric"]
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return MISSING
    if lo == hi:
        return f"{_change(lo, m)} in every run" if lo else "none: 0 in every run"
    return _range(lo, hi, m)


def _range(lo: float, hi: float, metric: str) -> str:
    """'-48.4 to -40.4 weeks': two differences, the unit of weeks said once."""
    return f"{_change(lo, metric).removesuffix(' weeks')} to {_change(hi, metric)}"


def _better(r: pd.Series) -> str:
    """'B better in 41% of runs, equal in 12%'; '-' where no direction is better or nothing is paired."""
    if not r["better"] or not isinstance(r["better"], str) or not math.isfinite(r["share_b_better"]):
        return MISSING
    return f"{format_share(r['share_b_better'])} better, {format_share(r['share_equal'])} equal"


def compared_label(r: pd.Series) -> str:
    """A metric's label; for a metric defined in some runs only, the runs it is compared over."""
    m = r["metric"]
    if m in SUBSET_METRICS:
        runs = f"{count_words(r['n'], 'run')} where both" if r["presence"] == "both" else "runs where it does"
        return f"{COMPARE_LABELS[m]} (mean, {runs})"
    if m in COMPARE_LABELS:
        return COMPARE_LABELS[m]
    return STATISTICS[m].label if m in STATISTICS else m.replace("_", " ").capitalize()


def comparison_cells(r: pd.Series) -> list[str]:
    """One comparison row as read: metric, A, B, mean difference (interval), 90% range, B better.

    Columns in the order of :data:`sim.outputs.labels.COMPARE_HEADERS`.
    """
    m = r["metric"]
    return [
        compared_label(r),
        format_value(r["a_mean"], m) if r["presence"] != "only in B" else "not in A",
        format_value(r["b_mean"], m) if r["presence"] != "only in A" else "not in B",
        _difference(r),
        _spread(r),
        _better(r),
    ]


def comparison_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """The comparison as a reader sees it: scheme, metric, A, B, the mean difference with its
    confidence interval, the range of the per-run difference and how often B is better (an
    intermediary scheme's rows in its own words, :mod:`sim.outputs.compare_words`)."""
    level = f"{100 * float(comparison['confidence'].iloc[0]):g}%" if len(comparison) else "95%"
    headers = ["Metric", *(compare_header(key, level) for key in COMPARE_HEADERS)]
    from sim.outputs.compare_words import operator_schemes, reader_cells, reader_rows

    operators = operator_schemes(comparison)
    shown = reader_rows(comparison)
    rows = [[r["scheme"], *reader_cells(r, r["scheme"] in operators)] for _, r in shown.iterrows()]
    return pd.DataFrame(rows, columns=["Scheme", *headers])


def replication_note(replications_a: int, replications_b: int) -> str | None:
    """What a comparison of runs with different replication counts does; None when they agree."""
    if replications_a == replications_b:
        return None
    n = min(replications_a, replications_b)
    return (
        f"A has {replications_a:,} runs and B {replications_b:,}: the first {n:,} replications of each "
        f"are compared, paired (run k of A with run k of B)."
    )
