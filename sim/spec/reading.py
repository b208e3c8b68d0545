"""Bounded reading of scenario and sweep files, and the folder tree they may read from.

**Bounded reading.** A scenario or sweep file is read only if it is a regular
file (not a FIFO, a device such as ``/dev/zero``, or a folder) of at most
:data:`MAX_FILE_BYTES`; it is opened without blocking and checked on the open
handle, so nothing can make reading wait or grow (observed-data files, CSV,
are read under the same bounds: :func:`read_text_file`). Its TOML may nest arrays and
tables at most :data:`MAX_NESTING` deep (checked before validation, so no
recursion runs deeper), and a chain of ``extends`` is at most
:data:`MAX_EXTENDS` files long (see :mod:`sim.spec.loader`).

**The allowed tree.** A scenario's ``extends`` and a sweep's ``base`` may name
only files inside the *allowed tree* of the file the user named: its project
folder, which is the nearest ancestor of that file (its own folder included)
holding a ``pyproject.toml`` or a ``scenarios/`` folder, or else the file's own
folder. The shipped files keep working this way: ``scenarios/sweeps/*.toml``
(``base = "../baseline.toml"``) and ``tests/data/small.toml``
(``extends = "../../scenarios/baseline.toml"``) lie in the project folder that
holds ``pyproject.toml``. The files shipped with schemesim itself (its own source
folder, when it holds ``pyproject.toml`` and ``scenarios/``) may also always be
extended, e.g. ``extends = "/opt/schemesim/scenarios/baseline.toml"``. Anything
else (an absolute path such as ``/etc/...``, or ``../`` climbing out) is refused
unless allowed explicitly: ``allow_outside=True`` in
:func:`sim.spec.loader.load_scenario` / :func:`sim.experiments.designs.load_sweep`, or the
environment variable ``SCHEMESIM_ALLOW_OUTSIDE=1``. Paths are compared after
resolving symbolic links, so a link cannot lead out of the tree either.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NESTING",
    "MAX_EXTENDS",
    "ALLOW_OUTSIDE_ENV",
    "ReadError",
    "read_toml_file",
    "read_text_file",
    "resolved",
    "project_root",
    "allowed_roots",
    "inside",
    "outside_allowed",
]

#: Largest scenario or sweep file read, in bytes (1 MiB).
MAX_FILE_BYTES = 1 << 20
#: Deepest nesting of arrays and tables in a scenario or sweep file.
MAX_NESTING = 16
#: Longest chain of ``extends`` (a file and the files it extends, in turn).
MAX_EXTENDS = 16
#: Environment variable that allows ``extends`` and ``base`` outside the allowed tree when set to 1.
ALLOW_OUTSIDE_ENV = "SCHEMESIM_ALLOW_OUTSIDE"


class ReadError(ValueError):
    """A file that cannot be read as a scenario or sweep; ``str()`` says why, without the file's content."""


def resolved(path: Path) -> Path:
    """``path`` with symbolic links resolved; a symlink loop is a :class:`ReadError`."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        raise ReadError(f"{path} is a loop of symbolic links") from None


def _read_bytes(
    path: Path, what: str = "scenario or sweep file", example: str = "scenario file (.toml)"
) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES, opened without blocking.

    ``what`` and ``example`` name the kind of file in the messages."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ReadError(f"file not found: {path}") from None
    except OSError as err:
        reason = "a loop of symbolic links" if err.errno == 40 else (err.strerror or "unreadable")
        raise ReadError(f"cannot read {path}: {reason}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ReadError(f"{path} is a directory, not {_with_article(example)}")
        if not stat.S_ISREG(info.st_mode):
            raise ReadError(f"{path} is not a regular file (a pipe, device or socket is never read)")
        if info.st_size > MAX_FILE_BYTES:
            raise ReadError(f"{path} is {info.st_size:,} bytes; {_with_article(what)} is at most 1 MiB")
        data = os.read(fd, MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"{path} is over 1 MiB; {_with_article(what)} is at most 1 MiB")
    return data


def read_text_file(path: Path, what: str, example: str) -> str:
    """Read a UTF-8 text file under the bounds above (e.g. observed data, a CSV file).

    ``what`` names the kind of file in messages ("observed-data file") and
    ``example`` what a directory was taken for ("observed-data file (.csv)").
    Raises :class:`ReadError`; a byte-order mark at the start is dropped.
    """
    try:
        return _read_bytes(path, what, example).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadError(f"not a text file (UTF-8); {_with_article(what)} is a text file") from None


def _with_article(what: str) -> str:
    """``what`` with its indefinite article ("an observed-data file")."""
    return ("an " if what[:1] in "aeiou" else "a ") + what


def read_toml_file(path: Path) -> tuple[dict[str, Any], str]:
    """Read and parse a TOML file under the bounds above: (table, text). Raises :class:`ReadError`."""
    try:
        text = _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ReadError("not a text file; a scenario is a TOML file") from None
    if not text.strip():
        raise ReadError(
            "the file is empty; a scenario needs at least name, start_date, "
            "horizon_weeks, [segments] and [schemes] (or 'extends')"
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ReadError(f"not valid TOML: {err}") from None
    except RecursionError:
        raise ReadError(f"arrays or tables nested too deep; at most {MAX_NESTING} levels") from None
    if _depth(data) > MAX_NESTING:
        raise ReadError(f"arrays or tables nested too deep; at most {MAX_NESTING} levels")
    return data, text


def _depth(data: Any) -> int:
    """Deepest nesting of tables and arrays in ``data`` (a table alone is 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_NESTING:
            return depth
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


def project_root(named: Path) -> Path:
    """The allowed tree of the file the user named: the nearest ancestor holding
    ``pyproject.toml`` or ``scenarios/``, else the file's own folder (never the filesystem root)."""
    folder = resolved(named).parent
    for candidate in (folder, *folder.parents):
        if candidate == candidate.parent:
            break
        if (candidate / "pyproject.toml").is_file() or (candidate / "scenarios").is_dir():
            return candidate
    return folder


def _tool_root() -> Path | None:
    """schemesim's own source folder (the shipped scenarios and test data), if installed from one."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "scenarios").is_dir() else None


def allowed_roots(named: Path) -> tuple[Path, ...]:
    """Folders whose files ``named`` may extend or use as a base."""
    tool = _tool_root()
    own = project_root(named)
    return (own,) if tool is None or tool == own else (own, tool)


def inside(path: Path, roots: tuple[Path, ...]) -> bool:
    """Whether the resolved ``path`` lies in one of ``roots``."""
    return any(path.is_relative_to(root) for root in roots)


def outside_allowed(allow_outside: bool | None) -> bool:
    """The explicit option, or else the environment variable ``SCHEMESIM_ALLOW_OUTSIDE=1``."""
    if allow_outside is not None:
        return allow_outside
    return os.environ.get(ALLOW_OUTSIDE_ENV, "").strip() == "1"
