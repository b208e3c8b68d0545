"""Spools of processes that died: each spool names its owner, and the next start removes the dead's.

The same naming marks the journal of a result folder being replaced
(``schemesim-replace-PID-START-XXXX``, holding the destination's path), so
the next start can finish or undo a replace that a kill interrupted wherever
its ``--out`` folder was, not only under ``results/``.

Light on purpose (standard library only), so that the command line can clean
up on start before it imports anything heavy.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

__all__ = [
    "JOURNAL_PREFIX",
    "SPOOL_PREFIX",
    "close_journal",
    "new_spool_folder",
    "open_journal",
    "process_alive",
    "remove_stale_spools",
    "stale_journals",
]

#: Start of every spool folder's name in the temporary folder: ``schemesim-run-PID-START-XXXX``.
SPOOL_PREFIX = "schemesim-run-"

#: What a spool folder holds: the replication table and the weekly series of each scheme.
_SPOOL_FILE = re.compile(r"^(replications\.parquet|weekly-\d+\.f8)$")

#: Start of every replace journal's name in the temporary folder: ``schemesim-replace-PID-START-XXXX``.
JOURNAL_PREFIX = "schemesim-replace-"


def _start_time(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from /proc); '' where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""  # field 22 of stat; fields[0] is field 3


def process_alive(pid: int, started: str = "") -> bool:
    """Whether process ``pid`` still runs (and, given its ``started`` time, is the same process, not a
    reused id); a process we may not signal counts as running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _start_time(pid)
    return not (started and now and now != started)


def _owner_of(folder: Path, prefix: str = SPOOL_PREFIX) -> tuple[int, str] | None:
    """(pid, start time) from a spool's or journal's name, or None for a name that carries no owner."""
    parts = folder.name[len(prefix) :].split("-")
    if len(parts) < 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), parts[1]


def _only_spool_files(folder: Path) -> bool:
    """Whether ``folder`` is a real folder holding nothing but what a spool writes.

    A folder of someone else's that happens to be named like a spool (an
    ``--out`` in the temporary folder) is never removed.
    """
    if folder.is_symlink() or not folder.is_dir():
        return False
    return all(_SPOOL_FILE.match(entry.name) for entry in folder.iterdir())


def remove_stale_spools(folder: Path | None = None) -> list[Path]:
    """Remove spools in ``folder`` (the temporary folder) whose owner process is dead; return them."""
    root = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for spool in root.glob(f"{SPOOL_PREFIX}*"):
            owner = _owner_of(spool)
            if owner is not None and not process_alive(*owner) and _only_spool_files(spool):
                shutil.rmtree(spool, ignore_errors=True)
                removed.append(spool)
    return removed


def new_spool_folder() -> Path:
    """A fresh spool folder in the temporary folder, named after this process."""
    pid = os.getpid()
    return Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{pid}-{_start_time(pid) or 0}-"))


def _temporary() -> Path:
    return Path(tempfile.gettempdir())


def open_journal(final: Path) -> Path | None:
    """Note in the temporary folder that this process is replacing ``final``; return the note.

    Best effort: with no room for a note the replace goes ahead without one
    (its debris is then tidied when the same destination is next written).
    """
    pid = os.getpid()
    try:
        fd, name = tempfile.mkstemp(prefix=f"{JOURNAL_PREFIX}{pid}-{_start_time(pid) or 0}-")
        with os.fdopen(fd, "w", encoding="utf-8") as note:
            note.write(str(Path(final).absolute()))
    except OSError:
        return None
    return Path(name)


def close_journal(journal: Path | None) -> None:
    """The replace is over (done or undone): remove its note."""
    if journal is not None:
        with contextlib.suppress(OSError):
            journal.unlink()


def stale_journals(folder: Path | None = None) -> list[tuple[Path, Path]]:
    """(note, destination) of replaces whose process died, from this user's notes in ``folder``.

    Notes of other users are ignored: a shared temporary folder must not let
    anyone else point this tool at a folder to tidy.
    """
    root = Path(folder) if folder is not None else _temporary()
    found = []
    with contextlib.suppress(OSError):
        for note in root.glob(f"{JOURNAL_PREFIX}*"):
            owner = _owner_of(note, JOURNAL_PREFIX)
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if owner is None or process_alive(*owner) or note.stat().st_uid != os.getuid():
                    continue
                found.append((note, Path(note.read_text(encoding="utf-8"))))
    return found
