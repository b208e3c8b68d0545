"""Where a firm turned away goes next (MODEL.md 3b, rule R-REDIRECT).

A scheme with ``redirect_when_closed = true`` sends the firms it turns away (its applications
closed early, or it is exhausted and closes on exhaustion) to their next eligible scheme, at the
week they were turned away: among the schemes listing the firm's segment that it has not applied
to, whose cost bounds its project fits and whose window is open at that week, the one with the
largest grant (ties: scenario order). There it applies at once, with the draws it has in that
scheme (the same firm, as in R-CHOICE). It counts as turned away by the first scheme and as an
applicant (and a would-be applicant) of the second.

Schemes may send firms to each other, so the engines settle a replication in passes
(:data:`MOST_PASSES` at most): each pass runs the schemes whose incoming firms changed, with the
firms the previous pass sent them, until the firms sent no longer change. A pass repeats every
event before the first redirect that differs from the true one and gets that one right too (whether
a firm is turned away depends only on what happened before it arrived), so the first time it
differs moves later with every pass, and the passes stop at the true redirects.

Both engines call :func:`next_schemes` on the same quantities (the SimPy engine per firm, the batch
engine per candidate), so they send the same firms to the same schemes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engines import choice, rules
from sim.engines.parameters import ParameterDraws, scheme_parameters
from sim.spec.scenario import Scenario

__all__ = ["Redirected", "redirects", "next_schemes", "tried_bit", "changed", "MOST_PASSES"]

#: Passes after which settling stops with an error (each pass gets at least one more redirect right).
MOST_PASSES = 1000


@dataclass
class Redirected:
    """Firms of one segment sent to one scheme (in one replication, or one block of them).

    ``firm`` identifies each in the engine's own terms (the SimPy engine: its position in the
    segment; the batch engine: its candidate index in the block), ``week`` is when it applies and
    ``tried`` the schemes it has applied to (bit k: the k-th scheme listing the segment).
    """

    firm: np.ndarray
    week: np.ndarray
    tried: np.ndarray

    @staticmethod
    def empty() -> Redirected:
        return Redirected(np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64))

    def add(self, firm: np.ndarray, week: np.ndarray, tried: np.ndarray) -> None:
        self.firm = np.concatenate([self.firm, firm])
        self.week = np.concatenate([self.week, week])
        self.tried = np.concatenate([self.tried, tried])

    def same(self, other: Redirected) -> bool:
        """The same firms at the same weeks, whatever their order."""
        a, b = np.argsort(self.firm, kind="stable"), np.argsort(other.firm, kind="stable")
        return (
            len(a) == len(b)
            and bool((self.firm[a] == other.firm[b]).all())
            and bool((self.week[a] == other.week[b]).all())
            and bool((self.tried[a] == other.tried[b]).all())
        )


def changed(old: dict[tuple, Redirected], new: dict[tuple, Redirected]) -> set[str]:
    """The schemes (first element of each key) whose incoming firms differ between two passes."""
    return {
        key[0]
        for key in set(old) | set(new)
        if not old.get(key, Redirected.empty()).same(new.get(key, Redirected.empty()))
    }


def tried_bit(scenario: Scenario, segment: str, scheme: str) -> int:
    """The bit of ``scheme`` among the schemes listing ``segment`` (for :attr:`Redirected.tried`)."""
    return 1 << scenario.schemes_of(segment).index(scheme)


def redirects(scenario: Scenario) -> bool:
    """Whether any scheme sends the firms it turns away on (otherwise nothing here runs)."""
    return any(scheme.redirect_when_closed for scheme in scenario.schemes.values())


def next_schemes(
    scenario: Scenario,
    segment: str,
    draws: ParameterDraws,
    i: int | np.ndarray,
    firms: tuple[np.ndarray, ...],
) -> np.ndarray:
    """The next eligible scheme (an index into ``scenario.schemes_of(segment)``, or
    :data:`sim.engines.choice.NONE`) of firms turned away; ``firms`` is (cost, week, tried: bits as in
    :class:`Redirected`) and ``i`` the replication's position in ``draws`` (one, or one per firm)."""
    cost, week, bits = firms
    rivals = scenario.schemes_of(segment)
    tried = ((np.asarray(bits, dtype=np.int64)[:, None] >> np.arange(len(rivals))) & 1).astype(bool)
    options = []
    for name in rivals:
        par = scheme_parameters(draws, name)
        low, high = choice.cost_bounds(scenario.schemes[name])
        grant = rules.grant(cost, np.asarray(par.max_grant_hkd)[i], np.asarray(par.matching_ratio)[i])
        opens, close = scenario.schemes[name].opens_week, scenario.window(name)
        options.append(choice.Option(grant, week, low, high, close, opens))
    return choice.redirect(cost, week, tried, options)
