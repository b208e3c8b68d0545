"""A calibrated scenario: the posterior joint sample a scenario names in place of its priors.

A scenario may say ``posterior = "nifs-posterior.parquet"`` (a path relative to
the file that says it), naming the ``posterior.parquet`` of a calibration
(:mod:`sim.experiments.calibrate`): one row per posterior draw, one column per
uncertain parameter path, and the bookkeeping columns ``draw`` and
``replication``. Its rows replace the priors of the parameters it covers; the
others keep their prior (:mod:`sim.engines.posterior` draws the rows).

The loader (:func:`posterior_reference`) checks the file once, when the
scenario is read (a regular file inside the allowed tree, a Parquet table with
at least one row of finite numbers), and puts a reference in the scenario in
place of the path: the resolved file, its SHA-256 digest, the number of draws
and the parameters it covers. The digest goes into the scenario's hash, so a
new posterior gives a new result folder, and :func:`read_posterior` refuses a
file that changed after it was checked. :func:`posterior_problems` checks the
columns against the scenario: each must be a parameter the scenario gives as a
distribution, and its values must lie in that field's range.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sim.spec.distributions import Distribution
from sim.spec.reading import ALLOW_OUTSIDE_ENV, ReadError, inside, resolved
from sim.spec.scenario import Scenario, parameter_specs

__all__ = [
    "BOOKKEEPING_COLUMNS",
    "MAX_POSTERIOR_BYTES",
    "PosteriorError",
    "PosteriorSample",
    "posterior_problems",
    "posterior_reference",
    "read_posterior",
]

#: Largest posterior file read, in bytes (64 MiB: a million draws of eight parameters).
MAX_POSTERIOR_BYTES = 64 << 20
#: Columns of a calibration's ``posterior.parquet`` that are not parameters.
BOOKKEEPING_COLUMNS = ("draw", "replication")


class PosteriorError(ValueError):
    """A posterior file that cannot be used; ``str()`` says why."""


@dataclass(frozen=True)
class PosteriorSample:
    """A posterior joint sample: ``values[j, k]`` is draw ``j`` of parameter ``paths[k]``."""

    paths: tuple[str, ...]
    values: np.ndarray

    @property
    def draws(self) -> int:
        return int(self.values.shape[0])

    def column(self, path: str) -> np.ndarray:
        return self.values[:, self.paths.index(path)]


def posterior_reference(
    value: Any, origin: Path, roots: tuple[Path, ...], allow_outside: bool
) -> dict[str, Any]:
    """Check the posterior file ``value`` names (relative to ``origin``, the file that names it) and
    return the reference the scenario keeps: ``file``, ``sha256``, ``draws`` and ``parameters``."""
    if not isinstance(value, str) or not value or len(value) > 1000 or "\0" in value:
        raise PosteriorError(
            'must be the file name of a calibration\'s posterior sample, such as "posterior.parquet"'
        )
    try:
        target = resolved(origin.parent / value)
    except ReadError as problem:
        raise PosteriorError(str(problem)) from None
    if not allow_outside and not inside(target, roots):
        raise PosteriorError(
            f"{value} lies outside the allowed folder tree {roots[0]}; "
            f"run schemesim --allow-outside (or set {ALLOW_OUTSIDE_ENV}=1) to allow it"
        )
    data = _read_bytes(target)
    sample = _parse(data, target)
    return {
        "file": str(target),
        "sha256": hashlib.sha256(data).hexdigest(),
        "draws": sample.draws,
        "parameters": list(sample.paths),
    }


def _read_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_POSTERIOR_BYTES`, opened without blocking."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise PosteriorError(f"file not found: {path}") from None
    except OSError as err:
        raise PosteriorError(f"cannot read {path}: {err.strerror or 'unreadable'}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PosteriorError(f"{path} is not a regular file (a posterior is a .parquet file)")
        if info.st_size > MAX_POSTERIOR_BYTES:
            raise PosteriorError(f"{path} is {info.st_size:,} bytes; a posterior file is at most 64 MiB")
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(MAX_POSTERIOR_BYTES + 1)
    finally:
        os.close(fd)


def _parse(data: bytes, path: Path) -> PosteriorSample:
    """The joint sample in a Parquet file's bytes: every column but the bookkeeping ones, as floats."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception:  # pyarrow raises several types for a file that is not Parquet
        raise PosteriorError(f"{path} is not a Parquet table (a calibration's posterior.parquet)") from None
    paths = tuple(name for name in table.column_names if name not in BOOKKEEPING_COLUMNS)
    if not paths:
        raise PosteriorError(f"{path} has no parameter columns (one per uncertain parameter path)")
    if table.num_rows == 0:
        raise PosteriorError(f"{path} holds no draws (an empty sample)")
    columns = []
    for name in paths:
        column = table.column(name)
        if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
            raise PosteriorError(f"{path}: column '{name}' is not numeric (got {column.type})")
        values = column.to_numpy(zero_copy_only=False).astype(float)
        if not np.isfinite(values).all():
            raise PosteriorError(f"{path}: column '{name}' holds a value that is missing or not finite")
        columns.append(values)
    return PosteriorSample(paths, np.column_stack(columns))


@lru_cache(maxsize=8)
def read_posterior(file: str, sha256: str) -> PosteriorSample:
    """The sample in ``file``, refused if its content is no longer the one checked (``sha256``)."""
    data = _read_bytes(Path(file))
    if hashlib.sha256(data).hexdigest() != sha256:
        raise PosteriorError(f"{file} changed after the scenario was read; read the scenario again")
    return _parse(data, Path(file))


def posterior_problems(scenario: Scenario) -> list[str]:
    """What is wrong with the scenario's posterior columns: each must be a parameter the scenario
    gives as a distribution, with every value in that field's range."""
    if scenario.posterior is None:
        return []
    sample = read_posterior(scenario.posterior.file, scenario.posterior.sha256)
    uncertain = {
        path: spec for path, value, spec in parameter_specs(scenario) if isinstance(value, Distribution)
    }
    problems = []
    for path in sample.paths:
        spec = uncertain.get(path)
        if spec is None:
            problems.append(
                f"column '{path}' of {scenario.posterior.file} is not an uncertain parameter of the "
                f"scenario; allowed: {', '.join(uncertain) or 'none (no parameter is a distribution)'}"
            )
            continue
        column = sample.column(path)
        low, high = float(column.min()), float(column.max())
        if low < spec.lo or high > spec.hi:
            problems.append(
                f"column '{path}' of {scenario.posterior.file} holds values from {low:g} to {high:g}; "
                f"allowed: {spec.lo:g} to {spec.hi:g}"
            )
    return problems
