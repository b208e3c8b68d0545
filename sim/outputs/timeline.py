"""The dated policy changes of a run's scenario (R-CHANGE), in words, for figures, brief and workbook."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sim.outputs.numbers import format_count, format_hkd

__all__ = [
    "change_text",
    "policy_changes",
    "window_marks",
    "turn_away_words",
    "limit_steps",
]


def _schemes_and_start(meta: Mapping[str, Any]) -> tuple[dict[str, Any], date] | None:
    """The schemes of the run's scenario (as written) and its start date, or None if not recorded."""
    source = meta.get("scenario_source")
    if not isinstance(source, dict) or "start_date" not in meta:
        return None
    schemes = {k: v for k, v in source.get("schemes", {}).items() if isinstance(v, dict)}
    return schemes, date.fromisoformat(str(meta["start_date"])[:10])


def policy_changes(meta: Mapping[str, Any]) -> dict[str, list[tuple[date, str]]]:
    """Each scheme's dated changes (R-CHANGE) in the run's scenario, as (date, short label)."""
    found = _schemes_and_start(meta)
    if found is None:
        return {}
    schemes, start = found
    out: dict[str, list[tuple[date, str]]] = {}
    for name, scheme in schemes.items():
        for change in scheme.get("changes", []):
            out.setdefault(name, []).append(
                (start + timedelta(weeks=float(change["week"])), change_text(change))
            )
    return out


def _window(scheme: Mapping[str, Any], horizon: float) -> tuple[float, float | None]:
    """(opening week, closing week or None) of a scheme's application window as written: the close
    is ``closes_week`` or ``opens_week + application_window_weeks``, None if it rolls to the horizon."""
    opens = float(scheme.get("opens_week", 0.0))
    if isinstance(scheme.get("closes_week"), int | float):
        return opens, float(scheme["closes_week"])
    if isinstance(scheme.get("application_window_weeks"), int | float):
        close = opens + float(scheme["application_window_weeks"])
        return opens, close if close < horizon else None
    return opens, None


def window_marks(meta: Mapping[str, Any]) -> dict[str, list[tuple[date, str]]]:
    """Each scheme's application window as dated marks, (date, label): 'applications open' at a
    window opening after the start, 'applications close' at a scheduled close (``closes_week``)
    before the horizon. A rolling scheme opening at the start has none."""
    found = _schemes_and_start(meta)
    if found is None:
        return {}
    schemes, start = found
    horizon = float(meta.get("horizon_weeks", math.inf))
    out: dict[str, list[tuple[date, str]]] = {}
    for name, scheme in schemes.items():
        opens, close = _window(scheme, horizon)
        marks = [(opens, "applications open")] if opens > 0 else []
        if close is not None and close < horizon:
            marks.append((close, "applications close"))
        if marks:
            out[name] = [(start + timedelta(weeks=w), text) for w, text in marks]
    return out


def turn_away_words(meta: Mapping[str, Any], scheme: str) -> str:
    """When scheme ``scheme`` turns applications away, in words: 'after its applications close on
    16 May 2027' (an early close, R-CHANGE) and/or 'while it is exhausted' (R-TURN-AWAY)."""
    found = _schemes_and_start(meta)
    if found is None or scheme not in found[0]:
        return "after it closes or while it is exhausted"
    source, start = found[0][scheme], found[1]
    closes = [float(c["week"]) for c in source.get("changes", []) if c.get("closes")]
    words = []
    if closes:
        words.append(f"after its applications close on {start + timedelta(weeks=min(closes)):%d %B %Y}")
    if source.get("close_on_exhaustion", True):
        words.append("while it is exhausted")
    return " or ".join(words) or "after it closes or while it is exhausted"


def limit_steps(meta: Mapping[str, Any], scheme: str, key: str, final: float) -> list[tuple[date, float]]:
    """A scheme's places (``key`` 'places') or budget ('budget_hkd') over time, as (date from which
    it holds, value): ``final`` (the value with every top-up) less the top-ups still to come, so a
    line drawn from it steps up at each dated top-up (R-CHANGE). One step from the start without
    a recorded scenario."""
    found = _schemes_and_start(meta)
    if found is None or scheme not in found[0]:
        return [(date.min, final)]
    start = found[1]
    ups = sorted(
        (float(c["week"]), float(c[key]))
        for c in found[0][scheme].get("changes", [])
        if isinstance(c.get(key), int | float) and float(c[key]) > 0
    )
    value = final - sum(amount for _week, amount in ups)
    steps = [(start, value)]
    for week, amount in ups:
        value += amount
        steps.append((start + timedelta(weeks=week), value))
    return steps


def change_text(change: Mapping[str, Any]) -> str:
    """A change in a few words: '+HK$50M, +200 places', 'cap HK$300k', '+2 assessors', 'closes'."""
    words = []
    if float(change.get("budget_hkd", 0)) > 0:
        words.append(f"+{format_hkd(float(change['budget_hkd']))}")
    if float(change.get("places", 0)) > 0:
        words.append(f"+{format_count(float(change['places']))} places")
    if change.get("max_grant_hkd") is not None:
        words.append(f"cap {format_hkd(float(change['max_grant_hkd']))}")
    assessors = float(change.get("assessors", 0))
    if assessors > 0:
        words.append(f"+{format_count(assessors)} assessor{'' if assessors == 1 else 's'}")
    if change.get("closes"):
        words.append("closes")
    return ", ".join(words) or "no change"
