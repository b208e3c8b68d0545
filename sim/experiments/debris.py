"""Spools of processes that died: each spool names its owner, and the next start removes the dead's.

Light on purpose (standard library only), so that the command line can clean
up on start before it imports anything heavy.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["SPOOL_PREFIX", "new_spool_folder", "remove_stale_spools"]

#: Start of every spool folder's name in the temporary folder: ``schemesim-run-PID-START-XXXX``.
SPOOL_PREFIX = "schemesim-run-"


def _start_time(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from /proc); '' where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""  # field 22 of stat; fields[0] is field 3


def _owner_alive(pid: int, started: str) -> bool:
    """Whether the process that made a spool still runs (the same process, not a reused id)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _start_time(pid)
    return not (started and now and now != started)


def _owner_of(folder: Path) -> tuple[int, str] | None:
    """(pid, start time) from a spool folder's name, or None for a name that carries no owner."""
    parts = folder.name[len(SPOOL_PREFIX) :].split("-")
    if len(parts) < 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), parts[1]


def remove_stale_spools(folder: Path | None = None) -> list[Path]:
    """Remove spools in ``folder`` (the temporary folder) whose owner process is dead; return them."""
    root = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for spool in root.glob(f"{SPOOL_PREFIX}*"):
            owner = _owner_of(spool)
            if owner is not None and not _owner_alive(*owner):
                shutil.rmtree(spool, ignore_errors=True)
                removed.append(spool)
    return removed


def new_spool_folder() -> Path:
    """A fresh spool folder in the temporary folder, named after this process."""
    pid = os.getpid()
    return Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{pid}-{_start_time(pid) or 0}-"))
