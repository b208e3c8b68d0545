"""The ``schemesim`` command line: parse, call the API, print. No model logic here.

Commands live in submodules by topic and register themselves on the shared app.
"""

from __future__ import annotations

import errno
import os
import signal

from sim.cli import backtest as _backtest  # noqa: F401  (registers commands)
from sim.cli import calibrate as _calibrate  # noqa: F401  (registers commands)
from sim.cli import discover as _discover  # noqa: F401  (registers commands)
from sim.cli import experiments as _experiments  # noqa: F401  (registers commands)
from sim.cli import nowcast as _nowcast  # noqa: F401  (registers commands)
from sim.cli import observed as _observed  # noqa: F401  (registers commands)
from sim.cli import outputs as _outputs  # noqa: F401  (registers commands)
from sim.cli import run as _run  # noqa: F401  (registers commands)
from sim.cli import voi as _voi  # noqa: F401  (registers commands)
from sim.cli.app import _fail, app
from sim.cli.faults import Interrupted, exit_interrupted, handle_signals

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point.

    On start, spools left in the temporary folder by runs that were killed are
    removed. Errors the user must fix that arise while work is under way (an
    unreachable Dask scheduler) end with their message and exit code 2, not a
    traceback; Ctrl-C or SIGTERM ends with one line (``interrupted``) and exit
    code 130 (143), after the run's spool and worker processes are gone. A
    destination that fills up or stops taking writes midway ends with one line
    too (see :func:`cannot_write`).
    """
    from sim.experiments.dask_executor import SchedulerError
    from sim.experiments.debris import remove_stale_spools

    handle_signals()
    remove_stale_spools()
    try:
        app()
    except SchedulerError as problem:
        raise SystemExit(_fail(str(problem)).exit_code) from None
    except Interrupted as stop:
        raise SystemExit(exit_interrupted(stop).exit_code) from None
    except OSError as problem:
        if problem.errno not in WRITE_ERRORS:
            raise
        raise SystemExit(_fail(cannot_write(problem)).exit_code) from None
    finally:
        ignore_signals()


def ignore_signals() -> None:
    """The command is over (its result saved, its line said): ignore SIGINT and SIGTERM from now on.

    Python puts the default handlers back while it shuts down, so a Ctrl-C in
    those last milliseconds would otherwise kill the process silently (exit
    -2) after a finished run; an ignored signal stays ignored.
    """
    for caught in (signal.SIGINT, signal.SIGTERM):
        signal.signal(caught, signal.SIG_IGN)


#: Errors of a destination that filled up or stopped taking writes while a command wrote to it.
WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})


def cannot_write(problem: OSError) -> str:
    """One line for a write that failed midway (a full disk): where, why, and what to do.

    A result folder is renamed into place only when complete, so nothing
    half-written is left under its name; a sweep keeps its finished points.
    """
    where = problem.filename or "the results"
    why = os.strerror(problem.errno) if problem.errno else str(problem)
    return (
        f"cannot write {where}: {why}; nothing half-written was put under the result's name "
        "(a sweep keeps its finished points for --resume); free some space, or choose another --out folder"
    )
