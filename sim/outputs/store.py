"""The results store: the only writer under ``results/``.

A run is written into a hidden temporary folder beside its destination and
renamed into place only when every file, the manifest last, is complete; so an
interrupted run leaves nothing that looks like a finished result.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "OutputFolderError",
    "check_replaceable",
    "RESULTS",
    "run_id",
    "atomic_dir",
    "write_json",
    "write_parquet",
    "write_csv",
    "versions",
    "read_manifest",
]

#: Default root of everything runs write.
RESULTS = Path("results")

_PACKAGES = ("schemesim", "numpy", "scipy", "simpy", "pandas", "pyarrow", "pydantic", "matplotlib")


def versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def run_id(name: str, *parts: Any) -> str:
    """A stable folder name: the scenario name and a hash of what defines the run."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return f"{safe}-{digest[:10]}"


class OutputFolderError(ValueError):
    """A destination that is not ours to replace (an existing folder that is not a result)."""


def check_replaceable(final: Path) -> None:
    """Refuse a destination that exists and is not a finished result folder.

    A result folder is replaced whole, so only a folder holding a
    ``manifest.json`` (one this program wrote) may be replaced; anything else,
    such as ``--out scenarios``, is left untouched.
    """
    final = Path(final)
    if final.exists() and not (final.is_dir() and (final / "manifest.json").is_file()):
        kind = "folder" if final.is_dir() else "file"
        raise OutputFolderError(
            f"{final}: an existing {kind} that is not a result folder (no manifest.json); "
            "choose a new --out folder or an earlier result folder to replace"
        )


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``final`` in one rename.

    Raises :class:`OutputFolderError` before anything is written if ``final``
    exists and is not a result folder.
    """
    final = Path(final)
    check_replaceable(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = final.parent / f".old-{final.name}-{os.getpid()}"
        final.replace(old)
    tmp.replace(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _atomic_file(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    _atomic_file(path, lambda p: p.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    _atomic_file(path, lambda p: frame.to_parquet(p, index=False))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    _atomic_file(path, lambda p: frame.to_csv(p, index=False))


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a finished result folder (raises if the folder is incomplete)."""
    path = Path(folder) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"{folder}: no manifest.json; not a finished result folder")
    return json.loads(path.read_text())


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
