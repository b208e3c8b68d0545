"""Single files a command writes (figures, briefs, traces): never over a file the tool did not write.

``run``, ``compare``, ``sweep`` and ``sensitivity`` write whole result folders,
whose manifest lists their files (see :mod:`sim.outputs.store`). ``plot``,
``brief`` and ``trace`` write single files, into a result folder or wherever
``--out`` says, often beside files of the user's own. Before anything is
written, every target that already exists must be the tool's own:

- the folder's record, a hidden ``.schemesim-files.json`` beside the file,
  lists its name with the SHA-256 digest of its current content (so a file
  the user put in its place, or edited, is not the tool's any more); or
- the record does not list it, and it lies inside the result folder it was
  drawn from, whose manifest lists it (figures and briefs drawn before records
  were kept).

Any other existing file is refused, naming it, unless the command is given
``--force``. Each file is written whole (a temporary file, then one rename),
and then entered in the record. Two commands writing into one folder at
once may each miss the other's entry; the file is then refused later, never
overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from sim.outputs.manifest import FolderError, read_manifest
from sim.outputs.store import atomic_file

__all__ = ["RECORD", "ForeignFile", "check_targets", "is_ours", "record_of", "write_file"]

#: The record of the files the tool wrote into a folder, kept in that folder.
RECORD = ".schemesim-files.json"

#: The marker of a record, so a user's file of that name is never taken for one.
_FORMAT = "schemesim-files"


class ForeignFile(FolderError):
    """A target that exists and is not the tool's own: the message names it and says what to do."""


def record_of(path: Path) -> Path:
    """The record that lists ``path`` (the record of the folder it is in)."""
    return Path(path).parent / RECORD


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _read_record(record: Path) -> dict[str, str]:
    """Name -> digest of the files the record lists; :class:`ForeignFile` for a file that is no record."""
    if not record.exists() and not record.is_symlink():
        return {}
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if record.is_symlink() or not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ForeignFile(
            f'{record}: not a record of schemesim\'s (it has no "format": "{_FORMAT}"), so it is '
            "left untouched; move it, or choose another --out"
        )
    files = data.get("files")
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def is_ours(path: Path, drawn_from: Path | None = None) -> bool:
    """Whether the existing file ``path`` is one the tool wrote and nobody changed since (see above).

    ``drawn_from`` is the result folder the file is drawn from; its manifest
    vouches for files inside it that no record lists.
    """
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return False
    listed = _read_record(record_of(path))
    if path.name in listed:
        return listed[path.name] == _digest(path)
    return drawn_from is not None and _in_manifest(path, Path(drawn_from))


def _in_manifest(path: Path, folder: Path) -> bool:
    try:
        relative = path.resolve().relative_to(folder.resolve()).as_posix()
        return relative in read_manifest(folder).owned()
    except (ValueError, OSError, FolderError):
        return False


def check_targets(paths: Iterable[Path], drawn_from: Path | None = None, force: bool = False) -> None:
    """Refuse, before anything is written, a target that exists and is not the tool's own.

    With ``force`` an existing file is replaced whatever it is; a folder or
    anything else that is not a file is refused even then.
    """
    for path in map(Path, paths):
        _read_record(record_of(path))  # a user's file in the record's place is refused, too
        if not path.exists() and not path.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink():
            raise ForeignFile(f"{path}: an existing folder where a file would go; choose another --out")
        if not force and not is_ours(path, drawn_from):
            raise ForeignFile(
                f"{path}: a file schemesim did not write (or one changed since), so it is left "
                "untouched; use --force to replace it, or choose another --out"
            )


def write_file(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` whole with ``write(temporary_path)``, then one rename; enter it in the record."""
    path = Path(path)
    atomic_file(path, write)
    _enter(path)
    return path


def _enter(path: Path) -> None:
    """Add ``path`` and its digest to its folder's record (written whole, too)."""
    record = record_of(path)
    listed = _read_record(record)
    listed[path.name] = _digest(path)
    text = json.dumps({"format": _FORMAT, "files": dict(sorted(listed.items()))}, indent=2) + "\n"
    tmp = record.with_name(f".tmp-{record.name}-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(record)
    finally:
        tmp.unlink(missing_ok=True)
