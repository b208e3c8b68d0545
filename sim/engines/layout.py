"""Named layouts of the arrays the compiled loops read and write (one declaration each).

The compiled loops of :mod:`sim.engines.kernels` take tables whose rows (or
slots) are named here: each layout is an :class:`~enum.IntEnum` whose members
are numbered 0, 1, 2, ... in the order they are declared, and the loops index
by member (``table[CandidateRow.GRANT, j]``), never by a literal number. The
groups of arrays and numbers handed to a loop are named tuples (numba compiles
their fields' access), so no loop takes a long positional argument list, and
reordering a layout cannot mislabel a metric: readers use the same names.
"""

from __future__ import annotations

from collections import namedtuple
from enum import IntEnum, auto
from typing import Any

import numpy as np

__all__ = [
    "Binned",
    "BlockOutput",
    "Candidates",
    "CandidateRow",
    "ChangeColumn",
    "Ledger",
    "Pending",
    "FloatColumn",
    "IntColumn",
    "RecordColumns",
    "SchemeRow",
    "SchemeTerms",
    "Series",
    "Sum",
    "SumTerms",
    "Work",
    "names",
]


class _Layout(IntEnum):
    """Members numbered from 0 in declaration order: the row (or slot) of each name."""

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[Any]) -> int:
        return count


def names(layout: type[IntEnum]) -> tuple[str, ...]:
    """The layout's names in row order, lower case (as metrics and record fields spell them)."""
    return tuple(member.name.lower() for member in layout)


class CandidateRow(_Layout):
    """Rows of the per-candidate table of one block (draws and derived values per candidate)."""

    COST = auto()  # project cost, HK$
    GRANT = auto()  # grant it would receive, HK$
    APPLY = auto()  # its chance to apply, a_i
    KEEP = auto()  # uniform thinning candidates to would-be applicants (kept if KEEP * a_max < APPLY)
    ARRIVAL = auto()  # application time
    DECIDE = auto()  # uniform deciding the review outcome
    COMPLETE = auto()  # uniform deciding completion (and how far an abandoned upgrade got)
    NO_GAIN = auto()  # uniform: no gain below the no-gain probability
    GAIN = auto()  # relative gain if any
    DEADWEIGHT = auto()  # uniform: deadweight below the deadweight probability
    VALUE_ADDED = auto()
    REVIEW = auto()  # review duration
    DURATION = auto()  # full upgrade duration
    READINESS = auto()  # rank at committee meetings
    TICKET = auto()  # lottery ticket: rank of files decided together under a lottery
    # a re-application after rejection (R-REAPPLY), drawn only where files may reapply
    AGAIN = auto()  # uniform: a rejected file reapplies if this is below the reapply probability
    AGAIN_DELAY = auto()  # weeks from the rejection to the re-application
    AGAIN_REVIEW = auto()  # the second review's time
    AGAIN_DECIDE = auto()  # uniform deciding the second review's outcome
    AGAIN_TICKET = auto()  # the second file's lottery ticket


class SchemeRow(_Layout):
    """Rows of a scheme's per-replication parameters (one column per replication of a block)."""

    WITHDRAW = auto()
    APPROVE = auto()
    COMPLETION = auto()
    NO_GAIN = auto()
    DEADWEIGHT = auto()
    SERVERS = auto()  # reviewers
    LIMIT = auto()  # budget plus the rounding slack
    PLACES = auto()
    INTEGRATORS = auto()  # -1: upgrades start at award
    RATIO = auto()  # matching ratio (a grant is recomputed when a dated change sets a new cap)
    REAPPLY = auto()  # chance a rejected file reapplies once (R-REAPPLY)


class ChangeColumn(_Layout):
    """Columns of a scheme's table of dated changes (one row per change, in week order; R-CHANGE)."""

    WEEK = auto()
    BUDGET = auto()  # HK$ added
    PLACES = auto()  # places added
    CAP = auto()  # the grant cap for files decided from WEEK on (NaN: unchanged)
    CLOSES = auto()  # 1.0: applications arriving after WEEK are turned away
    ASSESSORS = auto()  # reviewers added from WEEK on (free to review from then)


class Ledger(_Layout):
    """Slots of the funding state the batch kernel keeps when a scheme has dated changes (R-CHANGE)."""

    LIMIT = auto()  # budget so far plus the rounding slack
    PLACES = auto()  # places so far
    SPENT = auto()  # committed, HK$
    AWARDS = auto()  # awards made
    CLOSED_AT = auto()  # week after which arrivals are turned away (inf: open)
    EXHAUSTION = auto()  # first exhaustion time (NaN: none)
    WHY = auto()  # which limit bound first (an ExhaustedBy code)
    NEXT = auto()  # the next change not yet applied
    HEAD = auto()  # the reserve list is reserve[HEAD:TAIL]
    TAIL = auto()
    HEAP = auto()  # files waiting for their decision
    AWARDED = auto()  # awards in award order: award[:AWARDED]
    REOPENINGS = auto()  # top-ups that emptied the reserve list of the exhausted scheme
    PENDING = auto()  # re-applications made but not yet arrived (R-REAPPLY)
    ROWS = auto()  # rows written: the applications, then the re-applications that arrived


class FloatColumn(_Layout):
    """Float rows of the applications written by the batch kernel (named as record fields)."""

    ARRIVAL = auto()
    READINESS = auto()
    COST = auto()
    GRANT = auto()
    VALUE_ADDED = auto()
    GAIN = auto()
    REVIEW_START = auto()
    DECISION = auto()
    UPGRADE_START = auto()
    UPGRADE_END = auto()


class IntColumn(_Layout):
    """Small-integer rows of the applications written by the batch kernel (named as record fields)."""

    SEGMENT = auto()
    BAND = auto()
    STATUS = auto()
    COMPLETES = auto()
    DEADWEIGHT = auto()


class Sum(_Layout):
    """Slots of the per-replication metric sums (:func:`sim.engines.kernels.scheme_sums`)."""

    TURNED_AWAY = auto()
    IN_REVIEW = auto()
    WITHDRAWN = auto()
    REJECTED = auto()
    UNFUNDED = auto()
    AWARDED = auto()
    COMPLETED = auto()
    ABANDONED = auto()
    ONGOING = auto()
    WAIT_SUM = auto()
    DECIDED = auto()
    WAIT_MEDIAN_WEEKS = auto()
    WAIT_P90_WEEKS = auto()
    COMMITTED_HKD = auto()
    PAID_HKD = auto()
    RELEASED_HKD = auto()
    PRIVATE_HKD = auto()
    ADDITIONAL_UPGRADES = auto()
    ADDITIONAL_GVA_HKD = auto()
    PV_BENEFIT_HKD = auto()
    AWARDS_AT_CAP = auto()  # awards whose grant is at the cap (funded.AT_CAP_HKD)


class Binned(_Layout):
    """Events counted (or money added) by the week they fall in, before cumulating."""

    APPLICATIONS = auto()
    AWARDS = auto()
    COMPLETIONS = auto()
    COMMITTED = auto()
    UPFRONT = auto()  # upfront tranches paid
    FINAL = auto()  # final tranches paid
    TURNED_AWAY = auto()
    REVIEW_STARTS = auto()
    DECISIONS = auto()
    APPROVALS = auto()  # approved files (funded or not), by their recorded decision week


class Series(_Layout):
    """Rows of the weekly series (MODEL.md "Outputs")."""

    APPLICATIONS = auto()
    AWARDS = auto()
    COMPLETIONS = auto()
    COMMITTED_HKD = auto()
    PAID_HKD = auto()
    QUEUE = auto()
    IN_VETTING = auto()
    APPROVALS = auto()  # approved files, funded or not (R-CHANGE: a reserve-list award at its week)


#: A block's candidates: ``table`` (CandidateRow x candidates), ``band`` per candidate, and per
#: segment and replication of the block the first candidate, the count and ``a_max``.
Candidates = namedtuple("Candidates", ["table", "band", "first", "count", "a_max"])

#: A scheme's terms for one block: ``parameters`` (SchemeRow x replications), ``completion_factor``
#: (segment x band), the application window, the meeting interval (0: no meetings), the allocation
#: rule's properties as codes (``decided_at``: :class:`~sim.engines.allocation.DecisionTime`,
#: ``order``: :class:`~sim.engines.allocation.FundingOrder`), whether the scheme closes on
#: exhaustion, the horizon (the last decision), the end of the follow-up (the last upgrade event)
#: and the call's close (the earliest decision of a rule that decides at the close; inf: none), and
#: the dated changes (:class:`ChangeColumn` columns, no rows: none).
SchemeTerms = namedtuple(
    "SchemeTerms",
    [
        "parameters",
        "completion_factor",
        "window",
        "interval",
        "decided_at",
        "order",
        "close",
        "horizon",
        "end",
        "closing",
        "changes",
    ],
    defaults=(np.zeros((0, len(ChangeColumn))),),
)

#: Where the batch kernel writes: applications per replication, would-be applicants per
#: replication and segment, exhaustion time and which limit binds (an
#: :class:`~sim.engines.records.ExhaustedBy` code) per replication, the applications'
#: FloatColumn and IntColumn rows, re-applications per replication and segment (R-REAPPLY) and
#: reopenings per replication (R-CHANGE).
BlockOutput = namedtuple(
    "BlockOutput",
    ["count", "would_be", "exhaustion", "exhausted_by", "floats", "ints", "reapplied", "reopenings"],
)

#: Scratch arrays of one replication's applications in the batch kernel (``key``: an approved
#: file's place in the funding order, while it waits in the event path's heap).
Work = namedtuple(
    "Work",
    [
        "pick",
        "seg_of",
        "when",
        "order",
        "review",
        "length",
        "start",
        "decision",
        "outcome",
        "funded",
        "ticket",
        "key",
    ],
)

#: Re-applications made but not yet arrived, in one replication of the batch kernel (R-REAPPLY):
#: ``week`` each arrives and ``source``, the row of the rejected application it repeats.
Pending = namedtuple("Pending", ["week", "source"])

#: What the event path's funding steps read and write, one entry per row of a replication (R-FUND,
#: R-CHANGE): each approved file's place in the funding order (``key``), ``ticket`` and
#: ``readiness``, its ``decision`` (an award's week, once funded), whether it is ``funded``, and
#: its ``grant``.
Funding = namedtuple("Funding", ["key", "ticket", "readiness", "decision", "funded", "grant"])

#: The record fields the metric sums read, one flat array each.
RecordColumns = namedtuple(
    "RecordColumns",
    [
        "segment",
        "status",
        "arrival",
        "review_start",
        "decision",
        "upgrade_end",
        "completes",
        "grant",
        "cost",
        "value_added",
        "gain",
        "deadweight",
    ],
)

#: What the metric sums need besides the records: the discount factor from each application's
#: upgrade end to the opening, per replication the upfront share, ramp years, present value of
#: a unit gain and the grant from which an award is at the cap, the segment counted (-1: all),
#: the horizon and the end of the follow-up.
SumTerms = namedtuple(
    "SumTerms",
    ["opening", "upfront", "ramp_years", "pv_factor", "at_cap", "segment", "horizon", "end"],
)
