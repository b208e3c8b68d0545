"""Which scheme a firm's project goes to when several could fund it (MODEL.md 3b, rule R-CHOICE).

A segment may be listed by several schemes. Each of its firms has one project: one cost, one
chance to apply and one timing uniform, drawn from the segment's streams whichever scheme it goes
to. The project is *eligible* for a scheme when its cost lies within the scheme's
``min_project_cost_hkd`` / ``max_project_cost_hkd`` and the scheme's window is open at the
project's would-be application week under that scheme's timing. Among eligible schemes the firm
goes to the one with the largest grant (ties: scenario order); if none is open it goes to the
fitting scheme with the largest grant, where, as with one scheme, it is a would-be applicant whose
time falls after the close and never applies. So a project goes to at most one scheme and is never
funded twice, and a segment listed by one scheme without cost bounds keeps every firm, as before.

Both engines call :func:`choose` on the same quantities (the SimPy engine per firm, the batch
engine per candidate), so they make the same choice for the same draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engines import candidate_kernels
from sim.spec.scenario import Scenario, Scheme

__all__ = [
    "Option",
    "choose",
    "choose_fitting",
    "redirect",
    "reasons",
    "needs_choice",
    "cost_bounds",
    "NONE",
    "REDIRECT",
]

#: The choice of a firm whose project fits no scheme.
NONE = -1
#: The trace's reason for a firm that applies to a scheme after another turned it away (R-REDIRECT).
REDIRECT = "redirect"


@dataclass(frozen=True)
class Option:
    """One scheme's offer to a segment's firms: the grant and would-be application week of each firm
    (arrays, or numbers for all), its cost bounds, and the last week its window takes applications."""

    grant: Any
    arrival: Any
    min_cost: float
    max_cost: float
    window: float
    opens: float = 0.0


def cost_bounds(scheme: Scheme) -> tuple[float, float]:
    """The project costs a scheme funds, as (lowest, highest); no upper bound is infinity."""
    high = np.inf if scheme.max_project_cost_hkd is None else float(scheme.max_project_cost_hkd)
    return float(scheme.min_project_cost_hkd), high


def needs_choice(scenario: Scenario, segment: str) -> bool:
    """Whether a segment's firms must choose (several schemes list it, or its one scheme has cost bounds).

    Otherwise every firm goes to its one scheme and no choice is computed (the engines' numbers are
    those of a scenario without choice, to the bit).
    """
    schemes = scenario.schemes_of(segment)
    return len(schemes) > 1 or any(cost_bounds(scenario.schemes[s]) != (0.0, np.inf) for s in schemes)


def _fits(cost: np.ndarray, option: Option) -> np.ndarray:
    return (cost >= option.min_cost) & (cost <= option.max_cost)


def choose(cost: np.ndarray, options: Sequence[Option]) -> np.ndarray:
    """The index in ``options`` (scenario order) of the scheme each project goes to, :data:`NONE` if none.

    Among options whose bounds the cost fits and whose window is open at the firm's week under that
    option, the largest grant (the first of equal ones); if none is open, the fitting option with the
    largest grant (where the firm never applies: its week is past the close).
    """
    cost = np.asarray(cost, dtype=float)
    best = {True: np.full(cost.shape, NONE), False: np.full(cost.shape, NONE)}
    top = {True: np.full(cost.shape, -np.inf), False: np.full(cost.shape, -np.inf)}
    for k, option in enumerate(options):
        fits = _fits(cost, option)
        grant = np.broadcast_to(np.asarray(option.grant, dtype=float), cost.shape)
        is_open = fits & (np.asarray(option.arrival) <= option.window)
        for open_only, allowed in ((True, is_open), (False, fits)):
            better = allowed & (grant > top[open_only])  # strictly larger: ties keep the earlier scheme
            best[open_only][better] = k
            top[open_only][better] = grant[better]
    return np.where(best[True] != NONE, best[True], best[False])


def choose_fitting(
    cost: np.ndarray,
    bounds: Sequence[tuple[float, float]],
    options_at: Callable[[np.ndarray], Sequence[Option]],
) -> np.ndarray:
    """:func:`choose` for many projects, each option's grants and weeks made only where they matter.

    ``bounds`` are the options' cost bounds (scenario order). A project whose cost fits one option
    goes to it, open or not, and one that fits none to :data:`NONE`, so only the projects fitting
    several need :func:`choose`, with ``options_at(where)``: the options of the projects at indices
    ``where``. The result is ``choose(cost, options_at(all indices))``.
    """
    low, high = (np.array([b[k] for b in bounds], dtype=float) for k in (0, 1))
    out, several = np.empty(cost.shape, dtype=np.int64), np.empty(cost.shape, dtype=np.int64)
    where = several[
        : candidate_kernels.fitting(cost, low, high, out, several)
    ]  # out: NONE (-1) where none fits
    if where.size:
        out[where] = choose(cost[where], options_at(where))
    return out


def reasons(cost: np.ndarray, options: Sequence[Option]) -> np.ndarray:
    """Why each project goes where :func:`choose` sends it, in words (for the trace).

    "largest grant" (several schemes were open to it), "only open scheme" (it fitted several, one was
    open), "only scheme" (it fitted one), "window closed" (it fitted some, none was open at its week),
    or "" (it fitted none).
    """
    cost = np.asarray(cost, dtype=float)
    fitting = sum(_fits(cost, o).astype(int) for o in options)
    opened = sum((_fits(cost, o) & (np.asarray(o.arrival) <= o.window)).astype(int) for o in options)
    out = np.full(cost.shape, "", dtype=object)
    out[fitting > 0] = "window closed"
    out[(opened == 1) & (fitting > 1)] = "only open scheme"
    out[(fitting == 1) & (opened == 1)] = "only scheme"
    out[opened > 1] = "largest grant"
    return out


def redirect(cost: np.ndarray, week: np.ndarray, tried: np.ndarray, options: Sequence[Option]) -> np.ndarray:
    """The next eligible scheme of firms turned away at ``week`` (rule R-REDIRECT), :data:`NONE` if none.

    ``tried[i, k]`` says firm ``i`` has already applied to option ``k``. Among the options it has not
    tried, whose bounds its cost fits and whose window is open at ``week`` (opened, not past its
    close), the largest grant (the first of equal ones); there it applies at ``week``.
    """
    cost, week = np.asarray(cost, dtype=float), np.asarray(week, dtype=float)
    best, top = np.full(cost.shape, NONE), np.full(cost.shape, -np.inf)
    for k, option in enumerate(options):
        grant = np.broadcast_to(np.asarray(option.grant, dtype=float), cost.shape)
        is_open = _fits(cost, option) & (week >= option.opens) & (week <= option.window) & ~tried[:, k]
        better = is_open & (grant > top)  # strictly larger: ties keep the earlier scheme
        best[better], top[better] = k, grant[better]
    return best
