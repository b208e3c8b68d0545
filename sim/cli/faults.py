"""How the command line meets faults: signals, and refusals raised once work is under way.

Ctrl-C (SIGINT) and SIGTERM raise :class:`Interrupted` in the main process
(worker processes ignore SIGINT and die with their parent, see
:mod:`sim.experiments.executors`); the entry point turns it into one line and
exit code 128 + the signal's number (130 for Ctrl-C), after the usual clean-up
(the run's spool is removed, worker processes are stopped). :class:`Interrupted`
is not a :class:`KeyboardInterrupt`, so the command-line framework does not
turn it into its own message.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import typer

__all__ = ["Interrupted", "exit_interrupted", "handle_signals", "refusals"]


class Interrupted(BaseException):
    """The user or the system asked the command to stop (SIGINT or SIGTERM)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _stop(signum: int, frame: FrameType | None) -> None:
    """Raise :class:`Interrupted`; further signals are ignored while the command cleans up."""
    for ignored in (signal.SIGINT, signal.SIGTERM):
        signal.signal(ignored, signal.SIG_IGN)
    raise Interrupted(signum)


def handle_signals() -> None:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` (call from the main thread)."""
    for caught in (signal.SIGINT, signal.SIGTERM):
        signal.signal(caught, _stop)


@contextmanager
def refusals() -> Iterator[None]:
    """Turn what a run refuses before any work (memory, an unsupported scenario, an unknown
    engine) into one message and exit code 2."""
    from sim.cli.app import _fail
    from sim.engines.contract import UnsupportedScenario
    from sim.engines.registry import UnknownEngine
    from sim.experiments.memory import InsufficientMemory

    try:
        yield
    except (InsufficientMemory, UnsupportedScenario, UnknownEngine) as problem:
        raise _fail(str(problem)) from None


def exit_interrupted(stop: Interrupted, advice: str = "") -> typer.Exit:
    """Say that the command was interrupted, with ``advice`` after it, on one line; the exit to raise.

    The line is never wrapped (a narrow or absent terminal would otherwise break it in two).
    """
    from sim.cli.app import err

    name = "interrupted" if stop.signum == signal.SIGINT else "terminated"
    err.print(f"{name}; {advice}" if advice else name, highlight=False, soft_wrap=True)
    return typer.Exit(stop.exit_code)
