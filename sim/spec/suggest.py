"""One "did you mean" helper for every message that names an allowed value."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(given: object, allowed: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the allowed value closest to ``given``, or ``""`` if none is close."""
    close = difflib.get_close_matches(str(given), list(allowed), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
