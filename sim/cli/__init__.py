"""The ``schemesim`` command line: parse, call the API, print. No model logic here.

Commands live in submodules by topic and register themselves on the shared app.
"""

from __future__ import annotations

from sim.cli import experiments as _experiments  # noqa: F401  (registers commands)
from sim.cli import outputs as _outputs  # noqa: F401  (registers commands)
from sim.cli import run as _run  # noqa: F401  (registers commands)
from sim.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
