"""The seam between drawing firms and running the process rules, shared by both engines.

Each engine draws its firms its own way (the SimPy engine every firm of a
replication, the batch engine only the candidates of a block), then hands the
applications of one scheme, in order of arrival, to its process rules
(:data:`sim.engines.rules.RULE_BOOK`): first-come-first-served vetting,
decisions, committee rounds, funding and exhaustion, turn-away, integrators,
completion and abandonment. :class:`Applicants` is that table and
:class:`ProcessTerms` the scheme's numbers for the replication. Each engine's
``simulate_applicants(applicants, terms)`` runs only the process rules, on
the same code its normal path uses, which is what lets small worked examples
(``tests/rules``) pin every rule on both engines exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.engines.parameters import SchemeParameters
from sim.engines.reapply import SecondTries
from sim.engines.timeline import PolicyChange, policy_changes
from sim.spec.scenario import Scenario, closing_week

__all__ = ["Applicants", "ProcessTerms", "call_close", "process_terms", "completion_factors"]


@dataclass(frozen=True)
class Applicants:
    """Applications to one scheme in one replication, in order of arrival (one array per quantity).

    These are the applications made (inside the application window, which
    uptake applies when drawing them, and so at or before the horizon): the
    process rules take every one.
    """

    segment: np.ndarray  # int: index into the scheme's segments
    band: np.ndarray  # int: index into the segment's size bands
    arrival: np.ndarray  # application time (weeks), not decreasing
    review: np.ndarray  # review time (weeks)
    decide: np.ndarray  # uniform deciding the review outcome (R-DECIDE)
    cost: np.ndarray  # project cost, HK$
    grant: np.ndarray  # grant if awarded, HK$
    value_added: np.ndarray  # firm's annual value added, HK$
    readiness: np.ndarray  # rank at committee meetings (R-ROUNDS)
    duration: np.ndarray  # full upgrade duration (weeks)
    complete: np.ndarray  # uniform: completes below the completion probability (R-COMPLETE)
    #: Fraction of the duration an abandoned upgrade lasts. The SimPy engine reads it; the batch
    #: engine derives it from ``complete`` as ``(u - p) / (1 - p)``, the same distribution.
    abandon_fraction: np.ndarray
    no_gain: np.ndarray  # uniform: no gain below the no-gain probability
    gain: np.ndarray  # relative gain if any
    deadweight: np.ndarray  # uniform: deadweight below the deadweight probability
    #: Lottery ticket, a uniform of its own stream: files decided together are funded lowest ticket
    #: first under a lottery (R-LOTTERY). None: not drawn (the other rules do not read it).
    ticket: np.ndarray | None = None
    #: Draws of a re-application after rejection (R-REAPPLY); None: no file reapplies.
    second: SecondTries | None = None

    @property
    def size(self) -> int:
        return len(self.arrival)

    def tickets(self, needed: bool = False) -> np.ndarray:
        """The lottery tickets, NaN if none were drawn (ValueError if ``needed``: a lottery ranks by them)."""
        if self.ticket is not None:
            return self.ticket
        if needed:
            raise ValueError("a lottery ranks files by their tickets: give Applicants.ticket")
        return np.full(self.size, np.nan)


@dataclass(frozen=True)
class ProcessTerms:
    """A scheme's rules and numbers in one replication (attribute names as :class:`SchemeParameters`)."""

    horizon: float
    rule: str  # allocation rule: a name of sim.engines.allocation.ALLOCATION_RULES
    meeting_interval_weeks: float
    close_on_exhaustion: bool
    budget_hkd: float
    places: int
    capacity: int  # reviewers
    integrators: int | None  # None: upgrades start at award
    withdraw_probability: float
    approval_probability: float
    completion_probability: float
    no_gain_probability: float
    deadweight: float
    completion_factor: np.ndarray  # segment x band
    follow_up: float = 0.0  # weeks after the horizon in which upgrades still start and end
    closes_week: float = math.inf  # the call's close (R-LOTTERY at the close); inf: a rolling scheme
    changes: tuple[PolicyChange, ...] = ()  # dated top-ups, caps and early close, in week order (R-CHANGE)
    matching_ratio: float = 2.0  # company HK$ per government HK$ (a grant under a changed cap)
    reapply_probability: float = 0.0  # chance a rejected file reapplies once (R-REAPPLY)

    @property
    def last_arrival(self) -> float:
        """The last week an application (or re-application) can arrive: the call's close, at most
        the horizon."""
        return min(self.closes_week, self.horizon)

    @property
    def end(self) -> float:
        """The end of the follow-up (the horizon when there is none)."""
        return self.horizon + self.follow_up


def completion_factors(scenario: Scenario, name: str) -> np.ndarray:
    """Each segment's bands' completion factors (segment x band, zero past a segment's bands)."""
    segments = scenario.schemes[name].segments
    factor = np.zeros((len(segments), max(len(scenario.segments[s].bands) for s in segments)))
    for s, seg in enumerate(segments):
        values = [b.completion_factor for b in scenario.segments[seg].bands.values()]
        factor[s, : len(values)] = values
    return factor


def process_terms(scenario: Scenario, name: str, par: SchemeParameters, i: int) -> ProcessTerms:
    """Scheme ``name``'s terms in the ``i``-th replication of ``par``."""
    scheme = scenario.schemes[name]
    return ProcessTerms(
        horizon=float(scenario.horizon_weeks),
        rule=scheme.allocation.rule,
        meeting_interval_weeks=float(scheme.allocation.meeting_interval_weeks),
        close_on_exhaustion=bool(scheme.close_on_exhaustion),
        budget_hkd=float(par.budget_hkd[i]),
        places=int(par.places[i]),
        capacity=int(par.capacity[i]),
        integrators=None if par.integrators is None else int(par.integrators[i]),
        withdraw_probability=float(par.withdraw_probability[i]),
        approval_probability=float(par.approval_probability[i]),
        completion_probability=float(par.completion_probability[i]),
        no_gain_probability=float(par.no_gain_probability[i]),
        deadweight=float(par.deadweight[i]),
        completion_factor=completion_factors(scenario, name),
        follow_up=float(scenario.follow_up_weeks),
        closes_week=call_close(scenario, name),
        changes=policy_changes(scheme),
        matching_ratio=float(par.matching_ratio[i]),
        reapply_probability=float(par.reapply_probability[i]),
    )


def call_close(scenario: Scenario, name: str) -> float:
    """The week scheme ``name``'s call closes (inf for a rolling scheme)."""
    close = closing_week(scenario.schemes[name])
    return math.inf if close is None else float(close)
