"""The results store: the only writer under ``results/``.

A run is written into a hidden temporary folder beside its destination and
renamed into place only when every file, the manifest last, is complete; so an
interrupted run leaves nothing that looks like a finished result.

Replacing an earlier result takes two renames (the old result to a hidden
``.old-`` name, the new one into place), then carries across anything a user
added to the old folder, then removes what is left of it. A process killed at
any of these instants leaves either the old or the new result under its name,
or hidden debris from which :func:`recover` restores it: it puts an ``.old-``
folder back when the final name is missing, finishes the carry-across and
removal when the new result is in place, and removes ``.tmp-`` debris. Debris
is named ``.tmp-PID-N-NAME`` and ``.old-PID-NAME``, so it is only touched once
the process that made it has ended.

Only the tool's own result folders are ever replaced or cleared (their
manifest parses with the tool's marker and they hold their kind's tables),
and within them only the files the manifest lists, never through a link;
see :mod:`sim.outputs.manifest`. Each replace notes its destination in the
temporary folder until it is over, so the next command tidies debris beside
any ``--out`` folder, not only under ``results/``. Two replaces of one
destination at once end as if they had run one after the other; a sweep
holds its folder (:func:`hold_folder`) for as long as it writes it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import itertools
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.experiments.debris import close_journal, open_journal, process_alive, stale_journals
from sim.outputs.manifest import (
    KINDS,
    MANIFEST,
    FolderError,
    Manifest,
    now_utc,
    read_manifest,
    versions,
    write_manifest,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FolderError",
    "RESULTS",
    "SWEEP_FILES",
    "SWEEP_MARKER",
    "atomic_dir",
    "check_not_in_use",
    "check_replaceable",
    "check_writable",
    "clear_owned",
    "hold_folder",
    "keep_aside",
    "now_utc",
    "read_manifest",
    "record_derived",
    "recover",
    "recover_journaled",
    "release_folder",
    "recover_root",
    "run_id",
    "versions",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_text",
]

#: Default root of everything runs write.
RESULTS = Path("results")

#: The marker of a sweep's ``definition.json``: an unfinished sweep folder is ours too.
SWEEP_MARKER = "schemesim-sweep-definition"

#: What a sweep writes into its folder (an unfinished one has no manifest to list them).
SWEEP_FILES = ("definition.json", "points/", "points.parquet", "failures.csv", "indices.csv")

#: Debris names: ``.tmp-PID-N-NAME`` (a new result being written), ``.old-PID-NAME`` (the result
#: being replaced), ``.del-PID-NAME`` (a replaced result whose user files were carried across).
_DEBRIS = (
    re.compile(r"^\.(?P<what>tmp)-(?P<pid>\d+)-\d+-(?P<name>.+)$"),
    re.compile(r"^\.(?P<what>old|del)-(?P<pid>\d+)-(?P<name>.+)$"),
)
_COUNTER = itertools.count()


def _no_fault(step: str) -> None:
    """The default fault hook: nothing happens between the steps of a replace."""


#: Called with the name of each step of a replace before it is taken; tests set it to kill the process.
fault_hook: Callable[[str], None] = _no_fault


def run_id(name: str, *parts: Any) -> str:
    """A stable folder name: the scenario name and a hash of what defines the run."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return f"{safe}-{digest[:10]}"


def owned_entries(folder: Path) -> set[str] | None:
    """Paths inside ``folder`` the tool wrote, or None if the folder is not the tool's.

    A finished result lists them in its manifest; an unfinished sweep folder
    is recognised by the marker in its ``definition.json``.
    """
    folder = Path(folder)
    if (folder / MANIFEST).exists():
        try:
            manifest = read_manifest(folder)
        except FolderError:
            return None
        return manifest.owned() if _complete(folder, manifest) else None
    try:
        definition = json.loads((folder / "definition.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(definition, dict) and definition.get("format") == SWEEP_MARKER:
        return set(SWEEP_FILES)
    return None


def _complete(folder: Path, manifest: Manifest) -> bool:
    """Whether ``folder`` holds every file its kind of result must have, as regular files.

    A manifest that carries the marker but sits beside none of the tables the
    tool writes (one copied or written by hand) does not make the folder ours.
    """
    return all(
        (folder / name).is_file() and not (folder / name).is_symlink() for name in KINDS[manifest.kind]
    )


def _found(folder: Path) -> str:
    """What a foreign folder holds, in a few words, for a refusal message."""
    if (folder / MANIFEST).exists():
        try:
            manifest = read_manifest(folder)
        except FolderError as problem:
            return str(problem)
        if not _complete(folder, manifest):
            missing = [n for n in KINDS[manifest.kind] if not (folder / n).is_file()]
            return f"a manifest of a {manifest.kind} without its {', '.join(missing) or 'tables'}"
    names = sorted(p.name for p in folder.iterdir())
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{shown} and no schemesim manifest"


#: Folders this process holds (by device and inode), with the open descriptor that holds each.
_HELD: dict[tuple[int, int], int] = {}


def _in_use(folder: Path) -> FolderError:
    return FolderError(
        f"{folder}: another schemesim command is writing this folder now; "
        "wait for it to finish, or choose another --out folder"
    )


def hold_folder(folder: Path) -> None:
    """Hold ``folder`` for this process until it ends: no other command may write it meanwhile.

    A sweep fills its folder point by point for as long as it runs; a second
    sweep (or run) into the same folder would clear or mix its points. The
    hold is an advisory lock on the folder itself, so it goes with the
    process however that ends; holding a folder twice is a no-op.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    stat = os.fstat(fd)
    if (stat.st_dev, stat.st_ino) in _HELD:
        os.close(fd)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise _in_use(folder) from None
    _HELD[(stat.st_dev, stat.st_ino)] = fd


def release_folder(folder: Path) -> None:
    """Let other commands write ``folder`` again (a finished sweep); a folder not held is left as is."""
    try:
        stat = Path(folder).stat()
    except OSError:
        return
    fd = _HELD.pop((stat.st_dev, stat.st_ino), None)
    if fd is not None:
        os.close(fd)


def check_not_in_use(folder: Path) -> None:
    """Refuse a folder that another process holds (see :func:`hold_folder`)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        stat = os.fstat(fd)
        if (stat.st_dev, stat.st_ino) in _HELD:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _in_use(folder) from None
    finally:
        os.close(fd)  # releases the lock just taken


def check_replaceable(final: Path) -> None:
    """Refuse a destination that exists and is not one of the tool's result folders.

    Missing or empty folders and the tool's own results (finished, or an
    unfinished sweep) may be written; anything else, such as ``--out
    scenarios`` or a folder of someone else's holding a ``manifest.json``, is
    left untouched.
    """
    final = Path(final)
    if not final.exists() and not final.is_symlink():
        return
    if not final.is_dir() or final.is_symlink():
        kind = "symbolic link" if final.is_symlink() else "file"
        raise FolderError(
            f"{final}: an existing {kind}, not a result folder; choose a new --out folder "
            "(schemesim replaces only its own result folders)"
        )
    _check_not_around_cwd(final)
    check_not_in_use(final)
    if not any(final.iterdir()) or owned_entries(final) is not None:
        return
    raise FolderError(
        f"{final}: not a result folder of schemesim, so it is left untouched; found {_found(final)}; "
        "choose a new --out folder, or move this folder's files elsewhere first"
    )


def _check_not_around_cwd(final: Path) -> None:
    """Refuse the current folder, or one holding it, as a destination (``--out .`` inside a result).

    Replacing it would rename the folder the command runs in from under it.
    """
    try:
        here = Path.cwd().resolve()
        target = final.resolve()
    except (OSError, RuntimeError):  # a loop of links on the way: checked as such elsewhere
        return
    if target == here or target in here.parents:
        raise FolderError(
            f"{final}: the current folder, or a folder holding it; a result replaces its folder "
            "whole, so choose an --out folder below or beside the current one"
        )


def check_writable(final: Path) -> None:
    """Refuse, before any work, a destination that cannot be created or replaced."""
    final = Path(final)
    existing = final if final.exists() else final.parent
    while not _present(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "a file" if existing.exists() else "a broken symbolic link (or a loop of them)"
        raise FolderError(
            f"{final}: cannot be created, because {existing} is {what}, not a folder; "
            "choose an --out folder whose parent is a folder"
        )
    needed = [existing] if existing != final else [final, final.parent]
    for folder in needed:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise FolderError(
                f"{final}: cannot write there ({folder} is not writable); "
                "choose another --out folder, or make that folder writable"
            )


def _present(path: Path) -> bool:
    """Whether anything is at ``path``: an entry, or a symbolic link even if it leads nowhere."""
    return path.exists() or path.is_symlink()


def _pid_alive(pid: int) -> bool:
    """Whether a process of this id still runs (so its debris is still in use)."""
    return process_alive(pid)


def _debris(final: Path) -> Iterator[tuple[str, Path]]:
    """Hidden ``.tmp-`` and ``.old-`` entries of ``final`` left by processes that have ended."""
    parent = final.parent
    if not parent.is_dir():
        return
    for entry in sorted(parent.iterdir()):
        match = _debris_name(entry.name)
        if match and match["name"] == final.name and not _pid_alive(int(match["pid"])):
            yield match["what"], entry


def _debris_name(name: str) -> re.Match[str] | None:
    """The parts of a debris name (what, pid, name), or None for any other name."""
    return next((m for pattern in _DEBRIS if (m := pattern.match(name))), None)


def recover(final: Path) -> None:
    """Restore or clean what an interrupted replace of ``final`` left behind.

    An ``.old-`` folder goes back under the final name if that is missing (the
    previous result is never lost); if the new result is in place, the user's
    files still in the ``.old-`` folder are carried across and the rest
    removed. ``.tmp-`` debris (an unfinished new result) and ``.del-`` debris
    (a replaced result already stripped of the user's files) are removed.
    """
    final = Path(final)
    for what, entry in _debris(final):
        if what in ("tmp", "del"):
            _remove(entry)
        elif not final.exists():
            entry.replace(final)
        else:
            _retire(entry, final)


def recover_root(root: Path = RESULTS) -> None:
    """:func:`recover` every result under ``root`` that an interrupted replace left debris for."""
    root = Path(root)
    if not root.is_dir():
        return
    names = {m["name"] for e in root.iterdir() if (m := _debris_name(e.name))}
    for name in sorted(names):
        recover(root / name)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _foreign(folder: Path, owned: set[str], rel: str = "") -> Iterator[str]:
    """Paths (relative to ``folder``) that the tool did not write: whole files or folders."""
    owned = {o.rstrip("/") for o in owned}
    for entry in sorted((folder / rel).iterdir() if rel else folder.iterdir()):
        path = f"{rel}/{entry.name}" if rel else entry.name
        if path in owned:
            continue
        if entry.is_dir() and not entry.is_symlink() and any(o.startswith(path + "/") for o in owned):
            yield from _foreign(folder, owned, path)
        else:
            yield path


def _kept_name(target: Path) -> Path:
    """A free name for a user's file whose name the new result took: ``kept-NAME``, ``kept-2-NAME``..."""
    for n in itertools.count(1):
        prefix = "kept-" if n == 1 else f"kept-{n}-"
        candidate = target.with_name(prefix + target.name)
        if not candidate.exists():
            return candidate
    raise AssertionError("unreachable")


def carry_foreign(old: Path, new: Path) -> list[str]:
    """Move every file of ``old`` the tool did not write into ``new``; return their paths."""
    owned = owned_entries(old) or set()
    moved = []
    for path in list(_foreign(old, owned)):
        target = new / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            target = _kept_name(target)
        (old / path).replace(target)
        moved.append(path)
    return moved


def keep_aside(folder: Path, names: list[str]) -> list[str]:
    """Move the user's files in one of the tool's folders out of the way of ``names`` it will write.

    A sweep or sensitivity analysis writes straight into its folder; a file
    there that its manifest does not list but whose name the command is about
    to write (a user's ``WARNING.txt``) is kept as ``kept-NAME``, as a replaced
    result keeps it. Returns the names moved.
    """
    folder = Path(folder)
    owned = {o.rstrip("/") for o in owned_entries(folder) or set()}
    moved = []
    for name in names:
        path = folder / name.rstrip("/")
        if name.rstrip("/") not in owned and _present(path):
            path.replace(_kept_name(path))
            moved.append(name)
    return moved


def _retire(old: Path, new: Path) -> None:
    """Carry the user's files from a replaced result into the new one, then remove the rest."""
    fault_hook("carry")
    carry_foreign(old, new)
    fault_hook("retire-old")
    dead = old.with_name(f".del-{os.getpid()}-{new.name}")
    old.replace(dead)
    fault_hook("remove-old")
    shutil.rmtree(dead, ignore_errors=True)


def clear_owned(folder: Path) -> None:
    """Remove from one of the tool's folders the files it wrote, keeping anything else."""
    folder = Path(folder)
    owned = owned_entries(folder)
    if owned is None:
        raise FolderError(f"{folder}: not a result folder of schemesim; nothing removed")
    for path in sorted(owned - {MANIFEST}) + [MANIFEST]:
        if _through_link(folder, path.rstrip("/")):
            continue  # a folder of ours replaced by a link: what it points to is not ours
        _remove(folder / path.rstrip("/"))


def _through_link(folder: Path, path: str) -> bool:
    """Whether ``path`` inside ``folder`` passes through a symbolic link on its way (not counting its end)."""
    parents = Path(path).parents
    return any((folder / parent).is_symlink() for parent in parents if parent != Path())


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``final`` (see the module's notes).

    Recovers debris of an earlier interrupted replace of ``final`` first, and
    raises :class:`FolderError` before anything is written if ``final``
    exists and is not one of the tool's result folders.
    """
    final = Path(final)
    recover(final)
    check_replaceable(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    journal = open_journal(final)
    tmp = final.parent / f".tmp-{os.getpid()}-{next(_COUNTER)}-{final.name}"
    try:
        tmp.mkdir()
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        close_journal(journal)
        raise
    _replace(tmp, final)  # stopped midway (Ctrl-C while the old result is removed): the journal stays
    close_journal(journal)


def recover_journaled() -> list[Path]:
    """:func:`recover` every destination whose replace a killed process left unfinished, anywhere.

    Each replace notes its destination in the temporary folder (see
    :mod:`sim.experiments.debris`), so debris beside an ``--out`` folder
    outside ``results/`` is tidied by the next command too; returns those destinations.
    """
    done = []
    for note, final in stale_journals():
        try:
            recover(final)
        except OSError:
            continue  # left for a later start; the note stays so it is tried again
        close_journal(note)
        done.append(final)
    return done


def _replace(tmp: Path, final: Path) -> None:
    """Put the finished ``tmp`` under the final name; the old result's user files go with it.

    If another command puts its own result under the final name between the
    two renames (two runs into one --out at once), the user's files of the
    result moved aside go into that one, and the replace starts again: the
    last run to finish wins, as if the two had run one after the other.
    """
    for attempt in itertools.count(1):
        fault_hook("move-old")
        old = _move_aside(final)
        try:
            fault_hook("move-new")
            tmp.replace(final)
        except OSError as problem:
            if problem.errno not in (errno.ENOTEMPTY, errno.EEXIST) or attempt >= _ATTEMPTS:
                _undo(tmp, old, final)
                raise
            if old is not None:  # another result took the name: the user's files go to it
                _retire(old, final)
            continue
        except BaseException:  # interrupted in this process (Ctrl-C): put the previous result back now
            _undo(tmp, old, final)
            raise
        if old is not None:
            _retire(old, final)
        return


#: How often a replace starts again when other commands keep taking the final name meanwhile.
_ATTEMPTS = 5


def _move_aside(final: Path) -> Path | None:
    """Move the result under ``final`` to a hidden ``.old-`` name and return it (None if there is none)."""
    if not final.exists():
        return None
    if not any(final.iterdir()):
        with suppress(OSError):  # filled or moved by another command meanwhile
            final.rmdir()
            return None
    old = final.parent / f".old-{os.getpid()}-{final.name}"
    try:
        final.replace(old)
    except FileNotFoundError:  # another command moved it aside first
        return None
    return old


def _undo(tmp: Path, old: Path | None, final: Path) -> None:
    """A replace failed: drop the new result and put the previous one back (or its user's files)."""
    shutil.rmtree(tmp, ignore_errors=True)
    if old is None:
        return
    if not final.exists():
        old.replace(final)
    else:
        _retire(old, final)


def record_derived(folder: Path, paths: list[Path]) -> None:
    """Add files drawn later from a result (figures, briefs) to its manifest's ``derived`` list.

    Only paths inside the folder are recorded; so a later replace of the
    result removes them with it, while the user's own files are kept.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    inside = []
    for path in paths:
        try:
            inside.append(Path(path).resolve().relative_to(folder.resolve()).as_posix())
        except ValueError:
            continue
    derived = tuple(dict.fromkeys([*manifest.derived, *inside]))
    if derived != manifest.derived:
        try:
            write_manifest(folder, _with_derived(manifest, derived))
        except OSError:  # a read-only result: the drawings stay, and a replace would keep them as foreign
            pass


def _with_derived(manifest: Manifest, derived: tuple[str, ...]) -> Manifest:
    from dataclasses import replace

    return replace(manifest, derived=derived)


def atomic_file(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` whole with ``write(temporary_path)``, then one rename (never half a file)."""
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    """Write JSON whole: a temporary file, then one rename."""
    text = json.dumps(data, indent=2, default=str) + "\n"

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_file(path, write)


def write_text(path: Path, text: str) -> None:
    """Write a text file whole: a temporary file, then one rename."""

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_file(path, write)


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write a table as Parquet whole: a temporary file, then one rename."""
    atomic_file(path, lambda p: frame.to_parquet(p, index=False))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write a table as CSV whole: a temporary file, then one rename."""
    atomic_file(path, lambda p: frame.to_csv(p, index=False))
