"""The allocation rules, declared once: when competing files are decided and in what order they are funded.

A scheme names its rule in ``allocation.rule`` (MODEL.md 5). Each rule is a
small frozen record of the properties the engines act on: when a file is
decided (:class:`DecisionTime`), how files decided at the same time are
ordered for funding (:class:`FundingOrder`) and the rule-book ids that state
it (:data:`sim.engines.rules.RULE_BOOK`). Everything else derives from this
table: the batch engine's supported set, which uniform is drawn (and
counted) to rank files, the compiled kernel's terms (integer codes of the properties, so
the kernel branches on what a rule does, never on its name) and the SimPy
engine's branching. The scenario schema lists the same names in
:data:`sim.spec.scenario.ALLOCATION_RULE_NAMES` (the spec layer does not
import engines); a test checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "ALLOCATION_RULES",
    "AllocationRule",
    "DecisionTime",
    "FundingOrder",
    "RANKING_DRAWS",
    "allocation_rule",
]


class DecisionTime(IntEnum):
    """When a reviewed file is decided (its value is the code the compiled kernel reads)."""

    REVIEW_END = 0  # at the end of its review (R-DECIDE)
    MEETINGS = 1  # at the first committee meeting at or after its review end (R-ROUNDS)
    CLOSE = 2  # all together, at the later of the call's close and the last review end (R-LOTTERY)


class FundingOrder(IntEnum):
    """How files decided at the same time are ordered for funding (the code the compiled kernel reads)."""

    ARRIVAL = 0  # in order of arrival
    READINESS = 1  # highest readiness first (R-ROUNDS); needs readiness drawn
    TICKET = 2  # lowest lottery ticket first, a uniform of its own (R-LOTTERY); needs the ticket drawn


#: The per-candidate uniform each funding order ranks by, as (stage, quantity) of its stream; the
#: quantity names the batch engine's candidate row (``CandidateRow[quantity.upper()]``). None: no draw.
RANKING_DRAWS: dict[FundingOrder, tuple[str, str] | None] = {
    FundingOrder.ARRIVAL: None,
    FundingOrder.READINESS: ("population", "readiness"),
    FundingOrder.TICKET: ("approval", "ticket"),
}


@dataclass(frozen=True)
class AllocationRule:
    """One allocation rule: its name in scenarios, what the engines do under it, and its rule-book ids."""

    name: str
    decided_at: DecisionTime
    order: FundingOrder
    rule_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        """Refuse a combination the engines cannot run.

        The compiled funding order ranks by readiness within one meeting (its
        key stays below the next meeting), so readiness ranks only files
        decided at meetings; a ticket ranks files decided together (at
        meetings or at the close), never files decided one by one.
        """
        if self.order is FundingOrder.READINESS and self.decided_at is not DecisionTime.MEETINGS:
            raise ValueError(f"allocation rule '{self.name}': readiness ranks only files decided at meetings")
        if self.order is FundingOrder.TICKET and self.decided_at is DecisionTime.REVIEW_END:
            raise ValueError(f"allocation rule '{self.name}': a ticket ranks only files decided together")

    @property
    def decides_at_meetings(self) -> bool:
        """Whether files wait for a committee meeting (the SimPy engine then runs a committee)."""
        return self.decided_at is DecisionTime.MEETINGS

    @property
    def decides_at_close(self) -> bool:
        """Whether all files wait for one draw after the call's close (the SimPy engine then runs it)."""
        return self.decided_at is DecisionTime.CLOSE

    @property
    def decides_together(self) -> bool:
        """Whether reviewed files wait to be decided with others (at meetings or at the close)."""
        return self.decided_at is not DecisionTime.REVIEW_END

    @property
    def ranks_by_ticket(self) -> bool:
        """Whether files decided together are funded lowest lottery ticket first."""
        return self.order is FundingOrder.TICKET

    @property
    def ranks_by_readiness(self) -> bool:
        """Whether files decided together are funded highest readiness first."""
        return self.order is FundingOrder.READINESS

    @property
    def ranking_draw(self) -> tuple[str, str] | None:
        """The (stage, quantity) of the uniform the batch engine draws per candidate to rank files, if any.

        Readiness (or the ticket) is drawn only where it ranks files (elsewhere its row stays empty).
        """
        return RANKING_DRAWS[self.order]

    @property
    def firm_uniforms(self) -> int:
        """Uniforms the batch engine draws per candidate for this rule (counted by ``draw_counts``)."""
        return int(self.ranking_draw is not None)

    def meeting_interval(self, interval_weeks: float) -> float:
        """The kernel's meeting interval: ``interval_weeks`` where files wait for meetings, else 0."""
        return float(interval_weeks) if self.decides_at_meetings else 0.0


#: Every allocation rule the engines implement, by name (the names of ``allocation.rule``).
ALLOCATION_RULES: dict[str, AllocationRule] = {
    rule.name: rule
    for rule in (
        AllocationRule("first_come", DecisionTime.REVIEW_END, FundingOrder.ARRIVAL, ("R-DECIDE", "R-FUND")),
        AllocationRule(
            "rounds", DecisionTime.MEETINGS, FundingOrder.READINESS, ("R-DECIDE", "R-ROUNDS", "R-FUND")
        ),
        AllocationRule(
            "lottery", DecisionTime.MEETINGS, FundingOrder.TICKET, ("R-DECIDE", "R-LOTTERY", "R-FUND")
        ),
        AllocationRule(
            "lottery_at_close", DecisionTime.CLOSE, FundingOrder.TICKET, ("R-DECIDE", "R-LOTTERY", "R-FUND")
        ),
    )
}


def allocation_rule(name: str) -> AllocationRule:
    """The declared allocation rule called ``name`` (KeyError naming the known rules if none is)."""
    try:
        return ALLOCATION_RULES[name]
    except KeyError:
        raise KeyError(f"no allocation rule '{name}' (known: {', '.join(ALLOCATION_RULES)})") from None
