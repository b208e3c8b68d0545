"""Dated policy changes of a scheme (MODEL.md 5, rule R-CHANGE), as both engines read them.

A scheme's ``changes`` (:class:`sim.spec.scenario.Change`) become a tuple of
:class:`PolicyChange` in its :class:`~sim.engines.applicants.ProcessTerms`
(the SimPy engine runs one process per change) and a float table with the
rows of :class:`~sim.engines.layout.ChangeColumn` for the compiled kernel. A
scheme without changes gets an empty table: the kernel then takes its usual
path, so the baseline pays nothing for the feature. Any change is a row, one that
only adds assessors too, so such a scheme takes the kernel's event path (where
the added reviewers join the queue's servers, free from their week).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.engines.layout import ChangeColumn
from sim.spec.scenario import Scheme

__all__ = ["PolicyChange", "added_assessors", "cap_in_force", "change_table", "policy_changes", "top_up"]


@dataclass(frozen=True)
class PolicyChange:
    """One dated change: money and places added at ``week``, the grant cap for files decided from
    then on (NaN: unchanged), whether applications close then, and the reviewers added then
    (``assessors``: they review files from ``week`` on)."""

    week: float
    budget_hkd: float = 0.0
    places: float = 0.0
    closes: bool = False
    max_grant_hkd: float = math.nan
    assessors: int = 0


def policy_changes(scheme: Scheme) -> tuple[PolicyChange, ...]:
    """A scheme's validated changes, in week order."""
    return tuple(
        PolicyChange(
            float(c.week),
            float(c.budget_hkd),
            float(c.places),
            bool(c.closes),
            math.nan if c.max_grant_hkd is None else float(c.max_grant_hkd),
            int(c.assessors),
        )
        for c in scheme.changes
    )


def change_table(changes: Sequence[PolicyChange]) -> np.ndarray:
    """The changes as the kernel's table: one row per change, columns :class:`ChangeColumn`."""
    table = np.zeros((len(changes), len(ChangeColumn)))
    for k, change in enumerate(changes):
        table[k, ChangeColumn.WEEK] = change.week
        table[k, ChangeColumn.BUDGET] = change.budget_hkd
        table[k, ChangeColumn.PLACES] = change.places
        table[k, ChangeColumn.CAP] = change.max_grant_hkd
        table[k, ChangeColumn.CLOSES] = float(change.closes)
        table[k, ChangeColumn.ASSESSORS] = float(change.assessors)
    return table


def top_up(scheme: Scheme) -> tuple[float, float]:
    """The money and places a scheme's changes add in all (every change falls within the horizon)."""
    return (sum(c.budget_hkd for c in scheme.changes), sum(c.places for c in scheme.changes))


def added_assessors(changes: Sequence[PolicyChange]) -> int:
    """The reviewers the changes add in all (each from its week on)."""
    return sum(change.assessors for change in changes)


def cap_in_force(changes: Sequence[PolicyChange], when: float) -> float:
    """The grant cap the latest change at or before ``when`` set (NaN: no change set one)."""
    cap = math.nan
    for change in changes:
        if change.week > when:
            break
        if not math.isnan(change.max_grant_hkd):
            cap = change.max_grant_hkd
    return cap
