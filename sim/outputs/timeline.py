"""The dated policy changes of a run's scenario (R-CHANGE), in words, for figures, brief and workbook."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sim.outputs.numbers import format_count, format_hkd

__all__ = ["change_text", "policy_changes"]


def policy_changes(meta: Mapping[str, Any]) -> dict[str, list[tuple[date, str]]]:
    """Each scheme's dated changes (R-CHANGE) in the run's scenario, as (date, short label)."""
    source = meta.get("scenario_source")
    if not isinstance(source, dict) or "start_date" not in meta:
        return {}
    start = date.fromisoformat(str(meta["start_date"])[:10])
    out: dict[str, list[tuple[date, str]]] = {}
    for name, scheme in source.get("schemes", {}).items():
        for change in scheme.get("changes", []) if isinstance(scheme, dict) else []:
            out.setdefault(name, []).append(
                (start + timedelta(weeks=float(change["week"])), change_text(change))
            )
    return out


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
