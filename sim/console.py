"""The ``schemesim`` console script's entry point, which imports the command line only when called.

The console script imports this module at its top. A worker process started
with the ``spawn`` method re-runs that top (as ``__mp_main__``) before its
first task; were the command line imported there, every worker would load all
of it (about 0.6 s of CPU each on the baseline's machine) only to run
:func:`sim.experiments.replicate.replicate`.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Run the ``schemesim`` command line (:func:`sim.cli.main`)."""
    from sim.cli import main as command_line

    command_line()
