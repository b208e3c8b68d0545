"""The manifest of a result folder: one typed record, written and read in one place.

Every result folder (a run, a comparison, a sweep, a sensitivity analysis)
ends with a ``manifest.json`` written last. Its ``format`` and ``schema``
fields mark the folder as this tool's own: a folder is treated as a result
(and so may be replaced by a later run) only when its manifest parses with
that marker. A foreign folder that merely holds a file called
``manifest.json`` is never ours.

The manifest also lists the files the tool wrote into the folder (``files``,
and ``derived`` for figures and briefs drawn later), so replacing a result
removes exactly those and keeps anything a user added.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.spec.suggest import did_you_mean

if TYPE_CHECKING:
    from sim.spec.loader import LoadedScenario

__all__ = [
    "FORMAT",
    "SCHEMA",
    "KINDS",
    "MANIFEST",
    "FolderError",
    "Manifest",
    "write_manifest",
    "read_manifest",
    "is_result_folder",
    "versions",
    "now_utc",
    "scenario_texts",
]

#: The marker every manifest of this tool carries, and the version of its layout.
FORMAT = "schemesim-result"
SCHEMA = 1

#: The file name of the manifest inside a result folder.
MANIFEST = "manifest.json"

#: The files each kind of result folder must hold (besides the manifest).
KINDS: dict[str, tuple[str, ...]] = {
    "run": ("replications.parquet", "timeseries.parquet", "summary.csv"),
    "compare": ("comparison.csv",),
    "sweep": ("points.parquet",),
    "sensitivity": ("points.parquet", "indices.csv"),
    "calibrate": ("posterior.parquet", "weights.parquet", "calibration.csv"),
    "discover": ("box.csv", "peeling.csv"),
    "nowcast": ("headline.csv", "bands.parquet", "weights.parquet"),
    "value-of-information": ("evppi.csv", "value_of_information.csv", "decision.parquet"),
}

#: Packages whose versions shape results; those marked optional are listed only when installed.
_PACKAGES = (
    "schemesim",
    "numpy",
    "scipy",
    "numba",
    "simpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "matplotlib",
    "SALib",
)
_OPTIONAL_PACKAGES = ("dask", "distributed")


class FolderError(ValueError):
    """A folder that cannot be used as asked: not a result, incomplete, foreign or unwritable.

    The one error type of result folders; its message names the folder or
    file, what was found, and what to do.
    """


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape results (dask only when installed)."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    for name in _OPTIONAL_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def now_utc() -> str:
    """The current UTC time to the second, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def scenario_texts(loaded: LoadedScenario) -> dict[str, str]:
    """The text of each file a scenario was read from: the named file and its ``extends`` chain.

    Keys are the named file's path as given, and the other files' paths
    relative to the named file's folder, so no absolute path of the machine
    is stored; nothing but the files the scenario was built from is kept.
    """
    named = Path(loaded.path)
    home = named.resolve().parent
    out: dict[str, str] = {}
    for path, text in loaded.texts.items():
        resolved = Path(path)
        if resolved == named.resolve():
            out[str(named)] = text
        else:
            out[os.path.relpath(resolved, home)] = text
    return out


@dataclass(frozen=True)
class Manifest:
    """What a result folder holds and how it was made.

    ``details`` holds the fields of one kind (the scenario and its hash for a
    run, both scenarios for a comparison, the design for a sweep); they are
    stored beside the common fields, at the top level of the JSON, so readers
    find every field by its name.
    """

    kind: str
    seed: int
    replications: int
    engine: str
    files: tuple[str, ...]
    details: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=now_utc)
    versions: dict[str, str] = field(default_factory=versions)
    derived: tuple[str, ...] = ()

    def owned(self) -> set[str]:
        """Paths (relative to the folder) the tool wrote: the manifest, its files, derived files.

        Only plain relative paths inside the folder count: an entry such as
        ``../x``, ``/x`` or ``.`` (the folder itself) in an edited manifest
        never makes a file outside ours, nor the whole folder ours.
        """
        listed = {MANIFEST, *self.files, *self.derived}
        return {p for p in listed if _plain_relative(p)}

    def as_dict(self) -> dict[str, Any]:
        """The flat JSON form: marker, common fields, then the kind's details (which never override them)."""
        common = {
            "format": FORMAT,
            "schema": SCHEMA,
            "kind": self.kind,
            "seed": self.seed,
            "replications": self.replications,
            "engine": self.engine,
            "date": self.created[:10],
            "created": self.created,
            "versions": self.versions,
        }
        details = {k: v for k, v in self.details.items() if k not in common}
        return {**common, **details, "files": list(self.files), "derived": list(self.derived)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> Manifest:
        """Parse the JSON form; :class:`FolderError` names ``where`` and what is wrong."""
        _check_marker(data, where)
        kind = data.get("kind")
        if kind not in KINDS:
            hint = did_you_mean(kind, KINDS)
            raise FolderError(f"{where}: unknown kind {kind!r}{hint}; known kinds: {', '.join(KINDS)}")
        common = {"format", "schema", "kind", "seed", "replications", "engine", "date", "created"}
        common |= {"versions", "files", "derived"}
        try:
            return cls(
                kind=str(kind),
                seed=int(data["seed"]),
                replications=int(data["replications"]),
                engine=str(data["engine"]),
                files=tuple(str(f) for f in data.get("files", [])),
                details={k: v for k, v in data.items() if k not in common},
                created=str(data.get("created", "")),
                versions=dict(data.get("versions", {})),
                derived=tuple(str(f) for f in data.get("derived", [])),
            )
        except (KeyError, TypeError, ValueError) as problem:
            raise FolderError(f"{where}: a {kind} manifest without a valid {problem}") from None


def _plain_relative(path: str) -> bool:
    """Whether ``path`` names something strictly inside a folder: relative, not ``.``, no ``..``."""
    parts = Path(path).parts
    return bool(parts) and not Path(path).is_absolute() and ".." not in parts


def _check_marker(data: Any, where: str) -> None:
    """Refuse JSON that is not a manifest of this tool, of a schema this version reads."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FolderError(
            f'{where}: not a schemesim result manifest (no "format": "{FORMAT}"); '
            "it is a folder of someone else's, or of a schemesim version before result markers"
        )
    if data.get("schema") != SCHEMA:
        raise FolderError(
            f"{where}: manifest schema {data.get('schema')!r}, this version reads schema {SCHEMA}; "
            "rerun to write the result again"
        )


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` into ``folder`` whole (temporary file, then rename): the folder is finished."""
    path = Path(folder) / MANIFEST
    tmp = path.with_name(f".tmp-{MANIFEST}-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(manifest.as_dict(), indent=2, default=str) + "\n")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_manifest(folder: Path) -> Manifest:
    """The manifest of a finished result folder; :class:`FolderError` says why there is none."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FolderError(f"{folder}: no {MANIFEST}; not a finished result folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as problem:
        raise FolderError(f"{path}: not valid JSON ({problem}); not a schemesim result manifest") from None
    except OSError as problem:
        raise FolderError(f"{path}: cannot be read ({problem.strerror})") from None
    return Manifest.from_dict(data, str(path))


def is_result_folder(folder: Path) -> bool:
    """Whether ``folder`` is a result folder this tool wrote (its manifest parses with the marker)."""
    try:
        read_manifest(folder)
    except FolderError:
        return False
    return True
