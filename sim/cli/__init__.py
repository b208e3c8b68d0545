"""The ``schemesim`` command line: parse, call the API, print. No model logic here.

Commands live in submodules by topic and register themselves on the shared app.
"""

from __future__ import annotations

from sim.cli import experiments as _experiments  # noqa: F401  (registers commands)
from sim.cli import outputs as _outputs  # noqa: F401  (registers commands)
from sim.cli import run as _run  # noqa: F401  (registers commands)
from sim.cli.app import _fail, app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point.

    Errors the user must fix that arise while work is under way (an unreachable
    Dask scheduler) end with their message and exit code 2, not a traceback.
    """
    from sim.experiments.dask_executor import SchedulerError

    try:
        app()
    except SchedulerError as problem:
        raise SystemExit(_fail(str(problem)).exit_code) from None
