"""Re-application after rejection (MODEL.md 3e, rule R-REAPPLY), shared by both engines.

A rejected applicant (not a withdrawn one) reapplies once, with probability
``vetting.reapply_probability``, ``vetting.reapply_delay_weeks`` after its
rejection, if the window is still open then. The re-application is the same
firm and project: it keeps the project's cost, value added, readiness and
upgrade draws (the first application was never funded, so they were never
used), and gets a new review: its own review time, review uniform and, under a
lottery, ticket. Those draws, and the uniform deciding whether the firm
reapplies and its delay, come from a stage stream of their own
(``reapplication``), so a scenario whose files never reapply draws nothing
from it and keeps every other number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.rng import replication_stream
from sim.spec.distributions import Distribution
from sim.spec.scenario import Scheme

__all__ = ["SecondTries", "may_reapply", "reapplication_week", "draw_second_tries", "QUANTITIES"]

#: The quantities drawn per firm from the ``reapplication`` stream, in drawing order (the ticket
#: last, and only under a lottery, so the others do not move with the rule).
QUANTITIES: tuple[str, ...] = ("chance", "delay", "review", "decide", "ticket")


@dataclass(frozen=True)
class SecondTries:
    """Each application's draws for a re-application, one array per quantity (order of arrival)."""

    chance: np.ndarray  # uniform: the firm reapplies if rejected and this is below the probability
    delay: np.ndarray  # weeks from the rejection to the re-application
    review: np.ndarray  # the second review's time (weeks)
    decide: np.ndarray  # uniform deciding the second review's outcome (R-DECIDE)
    ticket: np.ndarray | None = None  # the second file's lottery ticket (R-LOTTERY); None: not drawn

    def take(self, index: np.ndarray) -> SecondTries:
        """The draws of the applications at ``index``."""
        ticket = None if self.ticket is None else self.ticket[index]
        return SecondTries(
            self.chance[index], self.delay[index], self.review[index], self.decide[index], ticket
        )


def may_reapply(scheme: Scheme) -> bool:
    """Whether any file of ``scheme`` can reapply: its reapply probability is not fixed at 0."""
    value = scheme.vetting.reapply_probability
    return (value.support()[1] if isinstance(value, Distribution) else float(value)) > 0.0


def reapplication_week(decided, chance, delay, probability, last_week):
    """When a file rejected at ``decided`` reapplies (rule R-REAPPLY): ``decided + delay`` if its
    uniform ``chance`` is below ``probability`` and that week is not after ``last_week`` (the
    window's close, at most the horizon); otherwise never (inf). Numbers only (compiled for the
    batch engine as it is)."""
    week = decided + delay
    if chance < probability and week <= last_week:
        return week
    return np.inf


def draw_second_tries(
    scheme: Scheme, segments: list[str], counts: list[int], seed: int, rep: int, ticketed: bool
) -> SecondTries | None:
    """Every firm's re-application draws in replication ``rep`` (the SimPy engine), one stream per
    segment; None where no file can reapply (nothing drawn)."""
    if not may_reapply(scheme):
        return None
    parts: dict[str, list[np.ndarray]] = {q: [] for q in QUANTITIES}
    for seg_name, n in zip(segments, counts, strict=True):
        rng = replication_stream(seed, rep, "reapplication", seg_name)
        parts["chance"].append(rng.random(n))
        parts["delay"].append(np.asarray(scheme.vetting.reapply_delay_weeks.sample(rng, n), dtype=float))
        parts["review"].append(np.asarray(scheme.vetting.review_weeks.sample(rng, n), dtype=float))
        parts["decide"].append(rng.random(n))
        if ticketed:
            parts["ticket"].append(rng.random(n))
    joined = {q: np.concatenate(v) for q, v in parts.items() if v}
    return SecondTries(**joined)
