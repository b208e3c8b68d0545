"""Compiled loops for the steps of the batch engine that are sequential within a replication.

First-come-first-served service, funding in order until the money or the
places run out, and the per-replication sums of the metrics are recursions or
ordered sums over one replication's applications. numpy can only run them as
one Python-level step per rank of arrival (vectorised across replications);
compiled with numba they run replication by replication in one pass over
flat arrays, which is what makes the batch engine fast.

The metric sums (:func:`scheme_sums`), which the SimPy engine's results go
through too, add the same float64 numbers in the same order as the numpy
expressions they stand for (``np.bincount`` and ``np.cumsum`` add left to
right), so they give the same numbers to the bit; elementwise powers and
exponentials stay in numpy, outside the loops, for the same reason. The
rules applied firm by firm are those of :mod:`sim.engines.rules`, compiled.
The standard normals and triangular draws made here are numpy's own numbers
(the same algorithms on the same generator), made faster.

Arrays are flat, replication after replication: replication ``r`` has
``count[r]`` entries from ``first[r]`` on. Tables are indexed by the named
rows of :mod:`sim.engines.layout` and arguments come grouped in its named
tuples; status codes are those of :class:`~sim.engines.records.Status`.

Passing an array to a compiled function costs an atomic increment and
decrement of its reference count, even where the call is inlined, and a named
tuple costs that for every array in it. Functions called once per replication
take the named tuples; those called per file or per funding decision take
numbers and the few arrays they use (or are inlined where they are called,
``inline="always"``), which made the event path several times faster.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engines import rules
from sim.engines.allocation import DecisionTime, FundingOrder
from sim.engines.layout import (
    Binned,
    CandidateRow,
    ChangeColumn,
    FloatColumn,
    Funding,
    IntColumn,
    Ledger,
    Pending,
    SchemeRow,
    Series,
    Sum,
    Work,
    names,
)
from sim.engines.reapply import reapplication_week
from sim.engines.records import ExhaustedBy, Status
from sim.engines.streaming import fence, stream_rows

__all__ = [
    "SUMS",
    "fcfs",
    "order_statistics",
    "scheme_block",
    "scheme_sums",
]


@njit(cache=True, nogil=True, error_model="numpy")
def _queue(arrival, service, at, n, c, start):  # pragma: no cover - compiled
    """First-come-first-served starts of ``arrival[at:at+n]`` (in order) on ``c`` servers into ``start``.

    The servers' free times are kept in a binary heap; the next arrival takes
    the server that frees first and starts at ``max(arrival, free time)``.
    Which of several equally free servers it takes changes no start time.
    """
    if c >= n:
        for j in range(at, at + n):
            start[j] = arrival[j]
        return
    free, levels = _servers(c)
    for j in range(at, at + n):
        begin = max(arrival[j], free[0])
        start[j] = begin
        _replace_first(free, begin + service[j], levels)


@njit(cache=True, nogil=True, error_model="numpy")
def _servers(c):  # pragma: no cover - compiled
    """The free times of ``c`` idle servers as a heap for :func:`_replace_first`, and its levels.

    Past the ``c`` servers the heap holds +inf (never taken), so every node
    has two children; a root sifts down at most floor(log2(c)) levels.
    """
    levels = 0
    while (2 << levels) <= c:
        levels += 1
    free = np.full(2 * c + 2, np.inf)
    free[:c] = 0.0
    return free, levels


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _replace_first(free, value, levels):  # pragma: no cover - compiled
    """Replace the root of the heap ``free`` by ``value`` and sift it down, ``levels`` levels.

    Each level moves the smaller child up if it is below ``value``, by arithmetic rather than a
    branch (whether it is, is a coin toss for random times: a branch would often mispredict, and
    LLVM turns a select in this loop back into one): the node takes the smaller of the child and
    ``value``, the index moves by ``below`` times the step. Once no child is below ``value``
    the index stays, and its node takes ``value`` at every remaining level, as it does at the
    end. The +inf entries past the servers are never moved up.
    """
    i = 0
    for _ in range(levels):
        child = 2 * i + 1
        child += free[child + 1] < free[child]
        below = int(free[child] < value)
        free[i] = min(free[child], value)
        i += (child - i) * below
    free[i] = value


@njit(cache=True, nogil=True, error_model="numpy")
def fcfs(arrival, service, first, count, servers, start):  # pragma: no cover - compiled
    """Start times of first-come-first-served service with ``servers[r]`` servers, into ``start``."""
    for r in range(len(count)):
        _queue(arrival, service, first[r], count[r], servers[r], start)


@njit(cache=True, nogil=True, error_model="numpy")
def order_statistics(spacing, first, count, last, out):  # pragma: no cover - compiled
    """Sorted uniforms from exponential spacings, replication by replication, into ``out``.

    Replication ``r`` has ``count[r]`` spacings from ``first[r]``; with ``m``
    of them and ``last[r]`` one more, entry ``k`` becomes ``(spacing_1 + ... +
    spacing_k) / (spacing_1 + ... + spacing_m + last[r])``, the k-th smallest
    of ``m`` uniforms.
    """
    for r in range(len(count)):
        at, m = first[r], count[r]
        total = last[r]
        for j in range(at, at + m):
            total += spacing[j]
        partial = 0.0
        for j in range(at, at + m):
            partial += spacing[j]
            out[j] = partial / total


_approval_threshold = njit(cache=True, error_model="numpy")(rules.approval_threshold)
_completion_probability = njit(cache=True, error_model="numpy")(rules.completion_probability)
_next_meeting = njit(cache=True, error_model="numpy")(rules.next_meeting)
_binding_limit = njit(cache=True, error_model="numpy")(rules.binding_limit)
_grant = njit(cache=True, error_model="numpy")(rules.grant)
_reapplication_week = njit(cache=True, error_model="numpy")(reapplication_week)
#: What :func:`scheme_sums` returns per replication, in its columns' order (:class:`Sum`).
SUMS: tuple[str, ...] = names(Sum)

# layout sizes, as numbers the compiled loops can read
_BINNED = len(Binned)
_LEDGER = len(Ledger)
_STATUS_CODES = len(Status)

# status codes of records.Status as plain ints: numba compares an int8 with these faster than with
# an IntEnum member (measured on the metric sums)
_PADDING = int(Status.PADDING)
_TURNED_AWAY = int(Status.TURNED_AWAY)
_IN_REVIEW = int(Status.IN_REVIEW)
_WITHDRAWN = int(Status.WITHDRAWN)
_REJECTED = int(Status.REJECTED)
_UNFUNDED = int(Status.UNFUNDED)
_AWARDED = int(Status.AWARDED)

# which limit binds (records.ExhaustedBy), as a plain int
_NOT_EXHAUSTED = int(ExhaustedBy.NONE)

# review outcomes, as the status each one leaves a file in (an approved file is unfunded until awarded)
_APPROVED = _UNFUNDED

# the rows a re-application copies from the application it repeats (R-REAPPLY): the firm and its
# project; its arrival and grant are its own, and status, review, decision and upgrade times are
# written for every row after the reviews
_REPEATED_FLOATS = (
    int(FloatColumn.READINESS),
    int(FloatColumn.COST),
    int(FloatColumn.VALUE_ADDED),
    int(FloatColumn.GAIN),
)
_REPEATED_INTS = (
    int(IntColumn.SEGMENT),
    int(IntColumn.BAND),
    int(IntColumn.COMPLETES),
    int(IntColumn.DEADWEIGHT),
)


@njit(cache=True, nogil=True, error_model="numpy")
def scheme_block(cols, positions, cand, terms, out, offset):  # pragma: no cover - compiled
    """Every stage of one scheme for replications ``cols`` of one block, one replication at a time.

    Per replication ``b = cols[i]`` (written at chunk position
    ``positions[i]``), the candidates (:class:`~sim.engines.layout.Candidates`)
    become applications (:func:`_applications`), which are reviewed, decided,
    funded and upgraded (:func:`_settle`) under ``terms``
    (:class:`~sim.engines.layout.SchemeTerms`). Applications are written into
    ``out`` (:class:`~sim.engines.layout.BlockOutput`) from column ``offset``,
    re-applications (R-REAPPLY) after a replication's applications; returns the next free column.
    """
    room = 1  # the most candidates of one replication (twice that where files may reapply)
    again = False
    for i in range(len(cols)):
        room = max(room, cand.count[:, cols[i]].sum())
        again = again or terms.parameters[SchemeRow.REAPPLY, cols[i]] > 0.0
    if again:
        room *= 2
    work = Work(
        np.empty(room, dtype=np.int64),
        np.empty(room, dtype=np.int64),
        np.empty(room),
        np.empty(room, dtype=np.int64),
        np.empty(room),
        np.empty(room),
        np.empty(room),
        np.empty(room),
        np.empty(room, dtype=np.int8),
        np.zeros(room, dtype=np.bool_),
        np.empty(room),
        np.empty(room),
    )
    for i in range(len(cols)):
        b, pos = cols[i], positions[i]
        n = _applications(cand, b, terms.window, work, out.would_be[pos])
        _write_applications(cand, terms, b, work, n, offset, out)
        exhaustion, why, rows, reopened = _settle(offset, n, out, work, terms.parameters[:, b], terms, cand)
        out.count[pos] = rows
        out.exhaustion[pos], out.exhausted_by[pos], out.reopenings[pos] = exhaustion, why, reopened
        for k in range(offset + n, offset + rows):
            out.reapplied[pos, out.ints[IntColumn.SEGMENT, k]] += 1
        offset += rows
    return offset


@njit(cache=True, nogil=True, error_model="numpy")
def _applications(cand, b, window, work, would_be_out):  # pragma: no cover - compiled
    """Would-be applicants of replication ``b`` and, of them, the applications, in order of arrival.

    Segment ``s``'s candidates (``cand.count[s, b]`` from ``cand.first[s, b]``)
    are would-be applicants with probability ``APPLY / a_max`` (the ``KEEP``
    uniform); their times increase with the slot (see
    :meth:`sim.engines.batch._Draws.arrivals`), and those applying within
    ``window`` are the applications. Fills ``work.pick`` (candidate),
    ``work.seg_of``, ``work.when`` and ``work.order`` (their order of arrival
    across segments) and ``would_be_out`` per segment; returns how many apply.
    """
    table = cand.table
    segments = cand.first.shape[0]
    n = 0
    ordered = True  # a firm sent on from another scheme (R-REDIRECT) arrives out of slot order
    for s in range(segments):
        at, m = cand.first[s, b], cand.count[s, b]
        would_be = 0
        for j in range(at, at + m):
            if table[CandidateRow.KEEP, j] * cand.a_max[s, b] < table[CandidateRow.APPLY, j]:
                would_be += 1
                if table[CandidateRow.ARRIVAL, j] <= window:
                    work.pick[n] = j
                    work.seg_of[n] = s
                    work.when[n] = table[CandidateRow.ARRIVAL, j]
                    ordered = ordered and (n == 0 or work.when[n - 1] <= work.when[n])
                    n += 1
        would_be_out[s] = would_be
    if segments > 1 or not ordered:
        work.order[:n] = np.argsort(work.when[:n], kind="mergesort")
    else:
        work.order[:n] = np.arange(n)
    return n


@njit(cache=True, nogil=True, error_model="numpy")
def _write_applications(cand, terms, b, work, n, offset, out):  # pragma: no cover - compiled
    """Each application's attributes into ``out`` from column ``offset``, and its review inputs into ``work``.

    The review outcome comes from one uniform (rule R-DECIDE); the
    completion uniform decides completion and, past the chance to complete,
    how far an abandoned upgrade got (rule R-COMPLETE).
    """
    table, f, ints = cand.table, out.floats, out.ints
    par = terms.parameters
    withdraw = par[SchemeRow.WITHDRAW, b]
    threshold = _approval_threshold(withdraw, par[SchemeRow.APPROVE, b])
    for k in range(n):
        j, s, o = work.pick[work.order[k]], work.seg_of[work.order[k]], offset + k
        ints[IntColumn.SEGMENT, o] = s
        ints[IntColumn.BAND, o] = cand.band[j]
        f[FloatColumn.ARRIVAL, o] = work.when[work.order[k]]
        ranked = terms.order == FundingOrder.READINESS  # readiness is drawn only where it ranks files
        f[FloatColumn.READINESS, o] = table[CandidateRow.READINESS, j] if ranked else np.nan
        drawn = terms.order == FundingOrder.TICKET  # so is the lottery ticket
        work.ticket[k] = table[CandidateRow.TICKET, j] if drawn else np.nan
        f[FloatColumn.COST, o] = table[CandidateRow.COST, j]
        f[FloatColumn.GRANT, o] = table[CandidateRow.GRANT, j]
        f[FloatColumn.VALUE_ADDED, o] = table[CandidateRow.VALUE_ADDED, j]
        work.review[k] = table[CandidateRow.REVIEW, j]
        u = table[CandidateRow.DECIDE, j]
        work.outcome[k] = _WITHDRAWN if u < withdraw else (_REJECTED if u >= threshold else _APPROVED)
        prob = _completion_probability(par[SchemeRow.COMPLETION, b], terms.completion_factor[s, cand.band[j]])
        u = table[CandidateRow.COMPLETE, j]
        # past the chance to complete, (u - prob) / (1 - prob) is uniform: how far it got
        ints[IntColumn.COMPLETES, o] = u < prob
        duration = table[CandidateRow.DURATION, j]
        work.length[k] = duration if u < prob else duration * ((u - prob) / (1.0 - prob))
        gets_none = table[CandidateRow.NO_GAIN, j] < par[SchemeRow.NO_GAIN, b]
        f[FloatColumn.GAIN, o] = 0.0 if gets_none else table[CandidateRow.GAIN, j]
        ints[IntColumn.DEADWEIGHT, o] = table[CandidateRow.DEADWEIGHT, j] < par[SchemeRow.DEADWEIGHT, b]


@njit(cache=True, nogil=True, error_model="numpy")
def _settle(at, n, out, work, par, terms, cand):  # pragma: no cover - compiled
    """Vetting, funding and upgrade starts of one replication's ``n`` applications from column ``at``.

    ``work`` holds each application's review time, review outcome and upgrade
    length, and scratch; ``par`` the replication's column of SchemeRow
    parameters. Reviews (R-VET-FCFS), decisions (R-DECIDE, R-ROUNDS, R-LOTTERY), funding
    and exhaustion (R-FUND), turn-away (R-TURN-AWAY), upgrade starts
    (R-INTEGRATORS) and ends (R-COMPLETE): fills the status and the event
    times (NaN where the event does not happen by the horizon; for upgrades,
    by the end of the follow-up) and returns
    the exhaustion time (NaN: never), which limit binds (an ExhaustedBy code), the rows written
    (``n``) and the reopenings (0).
    Where files may reapply (R-REAPPLY), the reviews of the applications and of their
    re-applications come from :func:`_reviews_again` (``cand``: the candidates a re-application
    copies). A scheme with dated changes (R-CHANGE) goes through :func:`_settle_changes` instead;
    without them this path is untouched, so they cost nothing.
    """
    if terms.changes.shape[0] > 0:
        return _settle_changes(at, n, out, work, par, terms, cand)
    rows = n
    if par[SchemeRow.REAPPLY] > 0.0:
        rows = _reviews_again(at, n, out, work, par, terms, cand)
    k, total = _decisions(at, rows, out, work, par, terms, par[SchemeRow.REAPPLY] > 0.0)
    integrators = int(par[SchemeRow.INTEGRATORS])
    exhaustion = np.nan
    why = _NOT_EXHAUSTED
    award = np.empty(0, dtype=np.int64)
    if k > 0 and (k > par[SchemeRow.PLACES] or total > par[SchemeRow.LIMIT] or integrators >= 0):
        award, exhaustion, why = _fund(at, rows, out, work, par, terms, k)
    if terms.close and rows > n:
        rows = _drop_unmade(at, n, rows, out, work, exhaustion)
    _write_outcomes(at, rows, out, work, terms, exhaustion)
    _start_upgrades(at, rows, out, work, award, integrators, terms.end)
    return exhaustion, why, rows, 0


@njit(cache=True, nogil=True, error_model="numpy")
def _reviews_again(at, n, out, work, par, terms, cand):  # pragma: no cover - compiled
    """Review starts and decision times of the ``n`` applications and of the re-applications their
    rejections make (R-REAPPLY), reviewed first come first served in one merged order of arrival
    (that of :func:`_next_row`; the pending one arriving first is kept, :func:`_first_pending`) on
    the reviewers' heap of :func:`_queue`, one file at a time.
    Re-applications become rows after the applications, in order of arrival (:func:`_again`);
    returns the rows. Funding is left to :func:`_fund`: whether a file is rejected, and when,
    does not depend on the money or the places."""
    ledger = np.zeros(_LEDGER)
    ledger[Ledger.ROWS] = n
    room = 2 * n
    c = max(1, min(int(par[SchemeRow.SERVERS]), room))
    free, levels = _servers(c)
    pending = Pending(np.empty(n), np.empty(n, dtype=np.int64))
    arrival = out.floats[FloatColumn.ARRIVAL, at : at + room]
    together = terms.decided_at == DecisionTime.CLOSE  # decided at or after the close: none reapplies
    reapply, weeks = par[SchemeRow.REAPPLY], (min(terms.closing, terms.horizon), terms.horizon)
    first = 0
    p = -1  # the pending re-application arriving first, as _next_row finds it (-1: none)
    while True:
        if first < n and (p < 0 or arrival[first] <= pending.week[p]):
            i = first
            first += 1
        elif p >= 0:
            i = _again(p, at, (out.floats, out.ints), work, pending, ledger, cand.table, par)
            p = _first_pending(pending.week, int(ledger[Ledger.PENDING]))
        else:
            break
        begin = arrival[i]
        if room > c:
            begin = max(begin, free[0])
            _replace_first(free, begin + work.review[i], levels)
        work.start[i] = begin
        work.decision[i] = _decision_time(begin + work.review[i], terms.decided_at, terms.interval)
        if i < n and not together and work.outcome[i] == _REJECTED:
            week = _plan_again(work.decision[i], work.pick[work.order[i]], cand.table, reapply, weeks)
            if week < np.inf:  # pending, it comes first only if earlier than the first
                last = _pend(pending.week, pending.source, ledger, week, i)
                p = last if p < 0 or week < pending.week[p] else p
    return int(ledger[Ledger.ROWS])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _first_pending(week_of, count):  # pragma: no cover - compiled
    """The first to arrive of the ``count`` pending re-applications arriving at ``week_of`` (the
    first of equals; -1: none), as :func:`_next_row` picks it; :func:`_reviews_again` looks again
    only when one leaves, not at every arrival."""
    p = -1
    for q in range(count):
        if p < 0 or week_of[q] < week_of[p]:
            p = q
    return p


@njit(cache=True, nogil=True, error_model="numpy")
def _drop_unmade(at, n, rows, out, work, exhaustion):  # pragma: no cover - compiled
    """With ``terms.close``: remove the re-applications of applications that arrived after the
    exhaustion (turned away, they were never rejected, so never reapplied), keeping the others in
    order; returns the rows left. Such a re-application arrives after the exhaustion too, so its
    review only moved later arrivals, all turned away, and no funded file (decided by the
    exhaustion, so arriving before it) moves."""
    kept = n
    for r in range(n, rows):
        if out.floats[FloatColumn.ARRIVAL, at + work.pick[r]] > exhaustion:
            continue
        if kept != r:
            for row in range(out.floats.shape[0]):
                out.floats[row, at + kept] = out.floats[row, at + r]
            for row in range(out.ints.shape[0]):
                out.ints[row, at + kept] = out.ints[row, at + r]
            work.start[kept], work.decision[kept], work.outcome[kept] = (
                work.start[r],
                work.decision[r],
                work.outcome[r],
            )
            work.length[kept], work.ticket[kept], work.funded[kept] = (
                work.length[r],
                work.ticket[r],
                work.funded[r],
            )
            work.order[kept], work.pick[kept] = work.order[r], work.pick[r]
        kept += 1
    work.funded[kept:rows] = False
    return kept


@njit(cache=True, nogil=True, error_model="numpy")
def _decisions(at, n, out, work, par, terms, reviewed):  # pragma: no cover - compiled
    """Review starts (first come first served on the reviewers) and decision times into ``work``
    (unless ``reviewed``: :func:`_reviews_again` has put them there).

    A file is decided at review end or, under a rule that decides at
    meetings, at the next meeting (:func:`_decision_time`); under a rule that
    decides at the close, every file at once, at the later of the call's
    close and the last review end (R-LOTTERY). Marks in ``work.funded`` the
    approved files decided by the horizon; returns how many there are and
    the sum of their grants.
    """
    arrival = out.floats[FloatColumn.ARRIVAL, at : at + n]
    grant = out.floats[FloatColumn.GRANT, at : at + n]
    if not reviewed:
        _queue(arrival, work.review, 0, n, int(par[SchemeRow.SERVERS]), work.start)
        for i in range(n):
            work.decision[i] = _decision_time(
                work.start[i] + work.review[i], terms.decided_at, terms.interval
            )
    if terms.decided_at == DecisionTime.CLOSE:
        last = terms.closing
        for i in range(n):
            last = max(last, work.decision[i])
        work.decision[:n] = last
    k = 0
    total = 0.0
    for i in range(n):
        end = work.decision[i]
        work.funded[i] = end <= terms.horizon and work.outcome[i] == _APPROVED
        if work.funded[i]:
            total += grant[i]
            k += 1
    return k, total


@njit(cache=True, nogil=True, error_model="numpy")
def _decision_time(review_end, decided_at, interval):  # pragma: no cover - compiled
    """When a file reviewed by ``review_end`` is decided under the allocation rule's ``decided_at``."""
    if decided_at == DecisionTime.MEETINGS:
        return _next_meeting(review_end, interval)
    return review_end


@njit(cache=True, nogil=True, error_model="numpy")
def _funding_key(decision, readiness, order, interval):  # pragma: no cover - compiled
    """A file's place in the funding order under the allocation rule's ``order``, smallest first.

    Decision time first; ranked by readiness, files decided at one meeting
    follow highest readiness first (the offset stays below half an interval,
    so it never passes the next meeting). Ranked by ticket, the key is the
    decision time alone: :func:`_fund` orders by ticket before it sorts by
    this key, stably, so files decided together follow lowest ticket first.
    """
    if order == FundingOrder.READINESS:
        return decision + 0.5 * interval * (1.0 - readiness)
    return decision


@njit(cache=True, nogil=True, error_model="numpy")
def _stable_sort(keys, files):  # pragma: no cover - compiled
    """``files`` ordered by ``keys``, equal keys in their order (as ``files[np.argsort(keys,
    kind="mergesort")]``). The keys come nearly sorted (decision times of files taken in order of
    arrival), so an insertion sort, which moves each file past the few later-decided before it,
    is fastest; past a budget of moves (keys far from sorted) the merge sort takes over."""
    order = np.arange(len(keys))
    budget = 16 * len(keys) + 64
    for a in range(1, len(keys)):
        key, b = keys[order[a]], a
        while b > 0 and keys[order[b - 1]] > key:
            order[b] = order[b - 1]
            b -= 1
        order[b] = a
        budget -= a - b
        if budget < 0:
            return files[np.argsort(keys, kind="mergesort")]
    return files[order]


@njit(cache=True, nogil=True, error_model="numpy")
def _fund(at, n, out, work, par, terms, k):  # pragma: no cover - compiled
    """Fund the ``k`` approved files marked in ``work.funded`` in order while money and places last.

    Order: :func:`_funding_key` (decision time, then as the allocation rule orders; by
    ticket, two stable sorts: by ticket, then by decision time).
    The first file that cannot be funded exhausts the scheme at its decision
    time, and every later one is unfunded (its mark cleared). Returns the
    awarded files in award order, the exhaustion time (NaN: none) and which
    limit binds (:func:`sim.engines.rules.binding_limit`; NONE if none).
    """
    files = np.empty(k, dtype=np.int64)
    keys = np.empty(k)
    k = 0
    for i in range(n):
        if work.funded[i]:
            files[k] = i
            keys[k] = _funding_key(
                work.decision[i], out.floats[FloatColumn.READINESS, at + i], terms.order, terms.interval
            )
            k += 1
    if terms.order == FundingOrder.TICKET:
        by_ticket = np.argsort(work.ticket[files], kind="mergesort")
        files, keys = files[by_ticket], keys[by_ticket]
    files = _stable_sort(keys, files)
    grant = out.floats[FloatColumn.GRANT, at : at + n]
    exhaustion = np.nan
    why = _NOT_EXHAUSTED
    spent = 0.0
    m = 0
    for f in range(k):
        i = files[f]
        spent += grant[i]
        if spent <= par[SchemeRow.LIMIT] and f + 1 <= par[SchemeRow.PLACES]:
            m += 1
        else:
            if np.isnan(exhaustion):
                exhaustion = work.decision[i]
                why = _binding_limit(f, par[SchemeRow.PLACES])
            work.funded[i] = False
    return files[:m], exhaustion, why


@njit(cache=True, nogil=True, error_model="numpy")
def _write_outcomes(at, n, out, work, terms, exhaustion):  # pragma: no cover - compiled
    """Status, review start and decision of each application; award times left in ``work.start``.

    With ``terms.close``, files arriving after the exhaustion time are turned
    away. ``work.start`` (the review starts) is overwritten with the award
    time of funded files (NaN for the others), and ``work.funded`` cleared.
    """
    h = terms.horizon
    arrival = out.floats[FloatColumn.ARRIVAL, at : at + n]
    for i in range(n):
        j = at + i
        admitted = not (terms.close and arrival[i] > exhaustion)
        done = admitted and work.decision[i] <= h
        if work.funded[i]:
            out.ints[IntColumn.STATUS, j] = _AWARDED
        elif done:
            out.ints[IntColumn.STATUS, j] = work.outcome[i]  # withdrawn, rejected or approved but unfunded
        else:
            out.ints[IntColumn.STATUS, j] = _IN_REVIEW if admitted else _TURNED_AWAY
        start = work.start[i]
        out.floats[FloatColumn.REVIEW_START, j] = start if admitted and start <= h else np.nan
        out.floats[FloatColumn.DECISION, j] = work.decision[i] if done else np.nan
        work.start[i] = work.decision[i] if work.funded[i] else np.nan
        work.funded[i] = False


@njit(cache=True, nogil=True, error_model="numpy")
def _settle_changes(at, n, out, work, par, terms, cand):  # pragma: no cover - compiled
    """:func:`_settle` event by event in time order, for a scheme with dated changes (R-CHANGE) or
    whose rejected files may reapply (R-REAPPLY).

    Arrivals are taken in order, the applications' and the re-applications'
    merged (:func:`_next_row`); before each, the changes and the decisions
    due before it are applied in time order (a change before the decisions of
    its week), so a file is turned away if the scheme is then exhausted (with
    ``terms.close``) or closed. Admitted files queue for reviewers first come
    first served (those a change adds review from its week: :func:`_reviewers`);
    approved files wait in a heap in funding order
    (:func:`_funding_key`, then ticket or arrival). The first approved file
    that cannot be funded exhausts the scheme; it and every later approved
    file join the reserve list, funded in order at a top-up while they fit
    (award time: the top-up's week); an emptied reserve list reopens the
    scheme. A rejected application whose firm reapplies (:func:`_plan_again`)
    becomes a new row when it arrives (:func:`_again`), after the ``n``
    applications. Returns the first exhaustion time, which limit bound then,
    the rows written and the reopenings.
    """
    ledger = np.zeros(_LEDGER)
    ledger[Ledger.LIMIT], ledger[Ledger.PLACES] = par[SchemeRow.LIMIT], par[SchemeRow.PLACES]
    ledger[Ledger.CLOSED_AT], ledger[Ledger.EXHAUSTION] = np.inf, np.nan
    ledger[Ledger.WHY] = _NOT_EXHAUSTED
    ledger[Ledger.ROWS] = n
    room = n if par[SchemeRow.REAPPLY] <= 0.0 else 2 * n
    files = np.empty((3, room), dtype=np.int64)  # rows: reserve list, heap, award order
    admitted = np.zeros(room, dtype=np.bool_)
    free, queue = _reviewers(par[SchemeRow.SERVERS], terms.changes, room)
    pending = Pending(np.empty(n), np.empty(n, dtype=np.int64))
    arrival = out.floats[FloatColumn.ARRIVAL, at : at + room]
    together = terms.decided_at == DecisionTime.CLOSE
    reapply, weeks = par[SchemeRow.REAPPLY], (min(terms.closing, terms.horizon), terms.horizon)
    funding, rule, grant_terms = _funding_terms(at, out, work, terms, par)
    first = 0
    while True:
        i = _next_row(first, n, arrival, pending.week, int(ledger[Ledger.PENDING]))
        if i < 0:
            break
        if i < n:
            first += 1
        else:
            i = _again(i - n, at, (out.floats, out.ints), work, pending, ledger, cand.table, par)
        _advance(arrival[i], False, terms.changes, funding, rule, ledger, files)
        exhausted = ledger[Ledger.HEAD] < ledger[Ledger.TAIL]
        if (terms.close and exhausted) or arrival[i] > ledger[Ledger.CLOSED_AT]:
            continue
        admitted[i] = True
        work.start[i] = _serve(free, arrival[i], work.review[i], queue)
        work.decision[i] = _decision_time(work.start[i] + work.review[i], terms.decided_at, terms.interval)
        if not together:
            _regrant(i, work.decision[i], funding.grant, grant_terms, terms.changes, terms.horizon)
            if work.outcome[i] == _APPROVED and work.decision[i] <= terms.horizon:  # waits for funding
                work.key[i] = _funding_key(
                    work.decision[i], funding.readiness[i], terms.order, terms.interval
                )
                _sift_up(i, work.key, work.ticket, rule[3], files[1], ledger)
            if i < n and work.outcome[i] == _REJECTED:
                week = _plan_again(work.decision[i], work.pick[work.order[i]], cand.table, reapply, weeks)
                if week < np.inf:
                    _pend(pending.week, pending.source, ledger, week, i)
    if together:
        _draw(
            admitted, work.outcome, funding, (rule, grant_terms, terms.closing), terms.changes, files, ledger
        )
    _advance(terms.horizon, True, terms.changes, funding, rule, ledger, files)
    rows = int(ledger[Ledger.ROWS])
    _write_timeline(at, rows, out, work, terms, admitted)
    m = int(ledger[Ledger.AWARDED])
    _start_upgrades(at, rows, out, work, files[2, :m].copy(), int(par[SchemeRow.INTEGRATORS]), terms.end)
    return ledger[Ledger.EXHAUSTION], int(ledger[Ledger.WHY]), rows, int(ledger[Ledger.REOPENINGS])


@njit(cache=True, nogil=True, error_model="numpy")
def _reviewers(servers, changes, room):  # pragma: no cover - compiled
    """The reviewers' free times as the heap :func:`_serve` takes, and whether files can queue.

    ``servers`` reviewers are free from the start; those a dated change adds (R-CHANGE,
    ``ASSESSORS``) are free from its week: to a first-come-first-served queue a reviewer who joins
    at week w is one busy until w, so the files waiting then start on it in order of arrival.
    At most ``room`` reviewers are kept, the first free (no more files are reviewed), in
    increasing free time (a valid heap). Files queue when fewer than ``room`` review from the start.
    """
    c = int(servers)
    added = 0
    for k in range(changes.shape[0]):
        added += int(changes[k, ChangeColumn.ASSESSORS])
    free = np.zeros(max(1, min(c + added, room)))
    m = c
    for k in range(changes.shape[0]):
        for _ in range(int(changes[k, ChangeColumn.ASSESSORS])):
            if m < len(free):
                free[m] = changes[k, ChangeColumn.WEEK]
                m += 1
    return free, c < room


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _next_row(first, n, arrival, week_of, count):  # pragma: no cover - compiled
    """The next arrival: application ``first`` (if ``< n``), or ``n + p`` for the pending
    re-application ``p`` (of the ``count`` arriving at ``week_of``) arriving first, if it arrives
    earlier (ties: the application); -1: none left."""
    p = -1
    for q in range(count):
        if p < 0 or week_of[q] < week_of[p]:
            p = q
    if first < n and (p < 0 or arrival[first] <= week_of[p]):
        return first
    return -1 if p < 0 else n + p


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _plan_again(decided, j, table, reapply, weeks):  # pragma: no cover - compiled
    """The week a file rejected at ``decided`` (candidate ``j`` of ``table``) reapplies (R-REAPPLY),
    inf if it does not: ``reapply`` is the probability, ``weeks`` the window's last week (at most
    the horizon) and the horizon. Numbers and one array, not the kernels' named tuples: it runs
    per rejected file, and passing a tuple costs the reference counts of every array in it."""
    last, horizon = weeks
    week = _reapplication_week(
        decided, table[CandidateRow.AGAIN, j], table[CandidateRow.AGAIN_DELAY, j], reapply, last
    )
    return np.inf if not decided <= horizon else week


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _pend(week_of, source_of, ledger, week, i):  # pragma: no cover - compiled
    """Add application ``i``'s re-application, arriving at ``week``, to the pending ones
    (``week_of``, ``source_of``, counted in ``ledger``); returns its place among them."""
    c = int(ledger[Ledger.PENDING])
    week_of[c] = week
    source_of[c] = i
    ledger[Ledger.PENDING] = c + 1
    return c


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _again(p, at, rows, work, pending, ledger, table, par):  # pragma: no cover - compiled
    """Pending re-application ``p`` arrives: it becomes the next row, a copy of the application it
    repeats (same firm and project, its grant at the start's cap) with its own arrival, second
    review time, review outcome and ticket (R-REAPPLY). ``rows`` are the output's float and int
    rows, ``table`` the candidates' (the arrays the copy needs, not their named tuples: each array
    passed costs its reference count, per re-application). Only the firm's and project's rows are
    copied (``_REPEATED_FLOATS``, ``_REPEATED_INTS``): the status, event times and upgrade times are
    written for every row later, and those rows, not yet touched in the replication, would cost
    a cache miss each. Returns the row."""
    floats, ints = rows
    k = int(ledger[Ledger.ROWS])
    ledger[Ledger.ROWS] = k + 1
    i, week = pending.source[p], pending.week[p]
    last = int(ledger[Ledger.PENDING]) - 1
    pending.week[p], pending.source[p] = pending.week[last], pending.source[last]
    ledger[Ledger.PENDING] = last
    for row in _REPEATED_FLOATS:
        floats[row, at + k] = floats[row, at + i]
    for row in _REPEATED_INTS:
        ints[row, at + k] = ints[row, at + i]
    j = work.pick[work.order[i]]
    work.order[k] = work.order[i]  # the candidate, as for its first application
    work.pick[k] = i  # rows from n on: the application a re-application repeats
    floats[FloatColumn.ARRIVAL, at + k] = week
    floats[FloatColumn.GRANT, at + k] = table[CandidateRow.GRANT, j]
    work.review[k] = table[CandidateRow.AGAIN_REVIEW, j]
    withdraw = par[SchemeRow.WITHDRAW]
    u = table[CandidateRow.AGAIN_DECIDE, j]
    threshold = _approval_threshold(withdraw, par[SchemeRow.APPROVE])
    work.outcome[k] = _WITHDRAWN if u < withdraw else (_REJECTED if u >= threshold else _APPROVED)
    work.length[k] = work.length[i]
    work.ticket[k] = table[CandidateRow.AGAIN_TICKET, j]
    return k


@njit(cache=True, nogil=True, error_model="numpy")
def _serve(free, arrival, review, queue):  # pragma: no cover - compiled
    """The review start of the next arrival on the reviewers whose free times are the heap ``free``
    (:func:`_queue`, one file at a time); with as many reviewers as files (not ``queue``), its arrival."""
    if not queue:
        return arrival
    begin = max(arrival, free[0])
    value = begin + review
    i = 0
    c = len(free)
    while True:
        child = 2 * i + 1
        if child >= c:
            break
        if child + 1 < c and free[child + 1] < free[child]:
            child += 1
        if free[child] < value:
            free[i] = free[child]
            i = child
        else:
            break
    free[i] = value
    return begin


@njit(cache=True, nogil=True, error_model="numpy")
def _funding_terms(at, out, work, terms, par):  # pragma: no cover - compiled
    """What the event path's per-file steps take, once per replication: the
    :class:`~sim.engines.layout.Funding` arrays, the funding rule (the horizon, the allocation
    rule's ``order``, the meeting interval and whether tickets order files) and the grant terms
    (costs and the matching ratio). Per-file steps take these rather than the kernels' named
    tuples, since passing a tuple costs the reference counts of every array in it, per call."""
    rows = slice(at, at + work.key.shape[0])
    floats = out.floats
    funding = Funding(
        work.key,
        work.ticket,
        floats[FloatColumn.READINESS, rows],
        work.decision,
        work.funded,
        floats[FloatColumn.GRANT, rows],
    )
    rule = (terms.horizon, terms.order, terms.interval, terms.order == FundingOrder.TICKET)
    return funding, rule, (floats[FloatColumn.COST, rows], par[SchemeRow.RATIO])


@njit(cache=True, nogil=True, error_model="numpy")
def _draw(admitted, outcome, funding, rules, changes, files, ledger):  # pragma: no cover - compiled
    """Under a rule deciding at the close: every admitted file decided at the later of the call's
    close and the last review end (R-LOTTERY), each approved one waiting for funding. ``rules``:
    the funding rule and grant terms of :func:`_funding_terms`, and the close."""
    rule, grant_terms, closing = rules
    decision = funding.decision
    last = closing
    for i in range(len(admitted)):
        if admitted[i]:
            last = max(last, decision[i])
    for i in range(len(admitted)):
        if admitted[i]:
            decision[i] = last
            _regrant(i, last, funding.grant, grant_terms, changes, rule[0])
            if outcome[i] == _APPROVED and last <= rule[0]:  # waits for funding
                funding.key[i] = _funding_key(last, funding.readiness[i], rule[1], rule[2])
                _sift_up(i, funding.key, funding.ticket, rule[3], files[1], ledger)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _regrant(i, decided, grant, grant_terms, changes, horizon):  # pragma: no cover - compiled
    """File ``i``'s grant under the cap a dated change set for files decided from its week on
    (the latest change at or before ``decided``, within the ``horizon``; R-CHANGE).
    ``grant_terms``: the costs and the matching ratio (:func:`_funding_terms`)."""
    if decided > horizon:
        return
    cost, ratio = grant_terms
    cap = np.nan
    for k in range(changes.shape[0]):
        if changes[k, ChangeColumn.WEEK] > decided:
            break
        if not np.isnan(changes[k, ChangeColumn.CAP]):
            cap = changes[k, ChangeColumn.CAP]
    if not np.isnan(cap):
        grant[i] = _grant(cost[i], cap, ratio)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _before(a, b, key, ticket, lottery):  # pragma: no cover - compiled
    """Whether approved file ``a`` is funded before file ``b``: by ``key`` (:func:`_funding_key`),
    then lowest ``ticket`` (under a lottery), then arrival. Arrays, not the kernels' named tuples:
    it runs at every level of the heap, and passing a tuple costs the reference counts of every
    array in it."""
    if key[a] != key[b]:
        return key[a] < key[b]
    if lottery and ticket[a] != ticket[b]:
        return ticket[a] < ticket[b]
    return a < b


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _sift_up(i, key, ticket, lottery, heap, ledger):  # pragma: no cover - compiled
    """Add file ``i``, approved and decided by the horizon, its place in the funding order in
    ``key[i]``, to the heap of files awaiting funding (:func:`_before` orders it)."""
    c = int(ledger[Ledger.HEAP])
    ledger[Ledger.HEAP] = c + 1
    while c > 0:  # sift up
        parent = (c - 1) // 2
        if not _before(i, heap[parent], key, ticket, lottery):
            break
        heap[c] = heap[parent]
        c = parent
    heap[c] = i


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _next_decided(key, ticket, lottery, heap, ledger):  # pragma: no cover - compiled
    """Take the first file of the heap in funding order (the heap must not be empty)."""
    top = heap[0]
    c = int(ledger[Ledger.HEAP]) - 1
    ledger[Ledger.HEAP] = c
    last = heap[c]
    i = 0
    while True:  # sift the last entry down from the root
        child = 2 * i + 1
        if child >= c:
            break
        if child + 1 < c and _before(heap[child + 1], heap[child], key, ticket, lottery):
            child += 1
        if _before(heap[child], last, key, ticket, lottery):
            heap[i] = heap[child]
            i = child
        else:
            break
    if c > 0:
        heap[i] = last
    return top


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _advance(until, inclusive, changes, funding, rule, ledger, files):  # pragma: no cover - compiled
    """Apply, in time order, the changes up to ``until`` and the funding decisions before it (at it
    too if ``inclusive``); a change goes before the decisions and arrivals of its week."""
    lottery = rule[3]
    while True:
        k = int(ledger[Ledger.NEXT])
        week = changes[k, ChangeColumn.WEEK] if k < changes.shape[0] else np.inf
        decided = funding.decision[files[1, 0]] if ledger[Ledger.HEAP] > 0 else np.inf
        if week <= decided:
            if week > until:
                return
            ledger[Ledger.NEXT] = k + 1
            _change(changes[k], _money(funding), ledger, files)
        else:
            if not (decided < until or (inclusive and decided <= until)):
                return
            i = _next_decided(funding.key, funding.ticket, lottery, files[1], ledger)
            _fund_one(i, _money(funding), ledger, files)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _fits(i, grant, ledger):  # pragma: no cover - compiled
    """Whether file ``i``'s grant and one more award fit in the money and places left (R-FUND)."""
    spent = ledger[Ledger.SPENT] + grant[i]
    return spent <= ledger[Ledger.LIMIT] and ledger[Ledger.AWARDS] + 1 <= ledger[Ledger.PLACES]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _award(i, when, money, ledger, files):  # pragma: no cover - compiled
    """Fund file ``i`` at ``when`` (its award time, kept as its decision; ``money``: the files'
    grants, decisions and funded marks, :func:`_money`)."""
    grant, decision, funded = money
    ledger[Ledger.SPENT] += grant[i]
    ledger[Ledger.AWARDS] += 1
    funded[i] = True
    decision[i] = when
    m = int(ledger[Ledger.AWARDED])
    files[2, m] = i
    ledger[Ledger.AWARDED] = m + 1


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _money(funding):  # pragma: no cover - compiled
    """The arrays funding a file changes: grants, decisions and funded marks, as a plain tuple."""
    return funding.grant, funding.decision, funding.funded


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _fund_one(i, money, ledger, files):  # pragma: no cover - compiled
    """An approved file at its decision (R-FUND): funded if the scheme is not exhausted and it
    fits, else onto the reserve list (the first such file exhausts the scheme). ``money``: the
    files' grants, decisions and funded marks (:func:`_money`)."""
    grant, decision, _ = money
    tail = int(ledger[Ledger.TAIL])
    if ledger[Ledger.HEAD] == tail and _fits(i, grant, ledger):
        _award(i, decision[i], money, ledger, files)
        return
    if ledger[Ledger.HEAD] == tail and np.isnan(ledger[Ledger.EXHAUSTION]):
        ledger[Ledger.EXHAUSTION] = decision[i]
        ledger[Ledger.WHY] = _binding_limit(ledger[Ledger.AWARDS], ledger[Ledger.PLACES]).value
    files[0, tail] = i
    ledger[Ledger.TAIL] = tail + 1


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _change(change, money, ledger, files):  # pragma: no cover - compiled
    """One dated change (R-CHANGE): money and places added, then the reserve list funded in
    order while its first file fits (emptied, the scheme reopens); or applications close."""
    week = change[ChangeColumn.WEEK]
    exhausted = ledger[Ledger.HEAD] < ledger[Ledger.TAIL]
    ledger[Ledger.LIMIT] += change[ChangeColumn.BUDGET]
    ledger[Ledger.PLACES] += change[ChangeColumn.PLACES]
    if change[ChangeColumn.CLOSES] > 0.0:
        ledger[Ledger.CLOSED_AT] = min(ledger[Ledger.CLOSED_AT], week)
    while ledger[Ledger.HEAD] < ledger[Ledger.TAIL]:
        i = files[0, int(ledger[Ledger.HEAD])]
        if not _fits(i, money[0], ledger):
            return
        _award(i, week, money, ledger, files)
        ledger[Ledger.HEAD] += 1
    ledger[Ledger.REOPENINGS] += exhausted  # an emptied reserve list reopens the scheme


@njit(cache=True, nogil=True, error_model="numpy")
def _write_timeline(at, n, out, work, terms, admitted):  # pragma: no cover - compiled
    """:func:`_write_outcomes` when who was turned away is known per file (``admitted``)."""
    h = terms.horizon
    for i in range(n):
        j = at + i
        done = admitted[i] and work.decision[i] <= h
        if work.funded[i]:
            out.ints[IntColumn.STATUS, j] = _AWARDED
        elif done:
            out.ints[IntColumn.STATUS, j] = work.outcome[i]
        else:
            out.ints[IntColumn.STATUS, j] = _IN_REVIEW if admitted[i] else _TURNED_AWAY
        start = work.start[i]
        out.floats[FloatColumn.REVIEW_START, j] = start if admitted[i] and start <= h else np.nan
        out.floats[FloatColumn.DECISION, j] = work.decision[i] if done else np.nan
        work.start[i] = work.decision[i] if work.funded[i] else np.nan
        work.funded[i] = False


@njit(cache=True, nogil=True, error_model="numpy")
def _start_upgrades(at, n, out, work, award, integrators, h):  # pragma: no cover - compiled
    """Upgrade start and end times: at award, or (``integrators >= 0``) first come first served
    on that many integrators, in award order; NaN where not reached by ``h`` (the end of the
    follow-up: awards stop at the horizon, upgrades go on)."""
    upgrade = work.start  # award times (NaN: not awarded)
    if integrators >= 0 and len(award) > 0:
        m = len(award)
        when, took, begin = np.empty(m), np.empty(m), np.empty(m)
        for f in range(m):
            when[f] = work.decision[award[f]]
            took[f] = work.length[award[f]]
        _queue(when, took, 0, m, integrators, begin)
        for f in range(m):
            upgrade[award[f]] = begin[f]
    for i in range(n):
        j = at + i
        t = upgrade[i]
        out.floats[FloatColumn.UPGRADE_START, j] = t if t <= h else np.nan
        out.floats[FloatColumn.UPGRADE_END, j] = t + work.length[i] if t + work.length[i] <= h else np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def scheme_sums(first, count, rec, terms, sums, weekly):  # pragma: no cover - compiled
    """The per-replication sums behind every metric, in both windows, and the weekly series, in one pass.

    Replication ``r``'s applications are ``first[r]:first[r] + count[r]`` of
    ``rec`` (:class:`~sim.engines.layout.RecordColumns`), in slot order; only
    those of segment ``terms.segment`` count (``< 0``: all). ``sums`` (R x 2 x
    len(Sum)) gets the sums up to the horizon (``[:, 0]``) and up to the end of
    the follow-up (``[:, 1]``; they differ only in the accruing outcomes) and,
    if it has rows, ``weekly`` (R x len(Series) x weeks, to the end of the
    follow-up) is filled. Sums run over the applications in slot order, as
    ``np.bincount`` does.

    A replication is read in two steps: every application once (counts, waits, and the rows
    of the awards), then the awards alone, for both windows at once; each sum still adds its
    members in slot order. Scratch arrays are made once per call, not per replication. A
    replication's weekly series are built in cache and streamed into ``weekly`` row by row
    (:mod:`sim.engines.streaming`): megabytes per chunk, written once and read only later.
    """
    want_weekly = weekly.shape[0] > 0
    binned = np.zeros((_BINNED, weekly.shape[2] if want_weekly else 0))
    series = np.empty(weekly.shape[1:])
    waits = np.empty(0)
    awards = np.empty(0, dtype=np.int64)
    by_status = np.empty(_STATUS_CODES)
    windows = (terms.horizon, terms.end)
    for r in range(len(count)):
        if len(waits) < count[r]:
            waits = np.empty(2 * count[r])
            awards = np.empty(2 * count[r], dtype=np.int64)
        if want_weekly:
            binned[:] = 0.0
        by_status[:] = 0.0
        k, m, wait_sum = _tally(rec, terms.segment, first[r], count[r], by_status, waits, awards, binned)
        per = (terms.upfront[r], 52.0 * terms.ramp_years[r], terms.pv_factor[r], terms.at_cap[r])
        committed, at_cap = _accrue(rec, terms.opening, awards[:m], windows, per, sums[r], binned)
        median = p90 = np.nan
        if k > 0:
            median, p90 = _two_quantiles(waits[:k])
        for w in range(2):
            _counts(sums[r, w], by_status, (wait_sum, float(k), committed, at_cap, median, p90))
        if want_weekly:
            _cumulate(binned, series)
            stream_rows(series, weekly[r])
    fence()


@njit(cache=True, nogil=True, error_model="numpy")
def _tally(rec, seg, at, n, by_status, waits, awards, binned):  # pragma: no cover - compiled
    """One replication's applications (``at:at + n`` of ``rec``, of segment ``seg``; ``< 0``: all)
    counted by status into ``by_status``, their events by week into ``binned`` (if it has columns),
    the waits of the decided ones into ``waits`` and the rows of the awards into ``awards``, in
    slot order. Returns how many waits and awards, and the sum of the waits."""
    segment, status, arrival, decision = rec.segment, rec.status, rec.arrival, rec.decision
    review_start = rec.review_start
    last = binned.shape[1] - 1
    want_weekly = last >= 0
    k = m = 0
    wait_sum = 0.0
    for j in range(at, at + n):
        if seg >= 0 and segment[j] != seg:
            continue
        st = status[j]
        by_status[st] += 1.0
        if want_weekly:
            _bin_application(binned, st, arrival[j], review_start[j], decision[j], last)
        decided = st >= _WITHDRAWN
        wait = decision[j] - arrival[j]
        wait_sum += wait if decided else 0.0
        waits[k] = wait
        k += decided
        awards[m] = j
        m += st == _AWARDED
    return k, m, wait_sum


@njit(cache=True, nogil=True, error_model="numpy")
def _accrue(rec, opening, awards, windows, per, s, binned):  # pragma: no cover - compiled
    """The awards' (rows ``awards`` of ``rec``) shares of the outcomes that accrue up to each of the
    two ``windows`` (weeks), summed in slot order into ``s[0]`` and ``s[1]`` (slots of
    :class:`Sum`), and, if ``binned`` has columns, their grants and tranches by week
    (:func:`_bin_award`); returns the money they commit and how many are at the cap.

    ``opening`` is each application's discount factor to the opening; ``per`` the
    replication's upfront share, the weeks over which value added ramps up, the present
    value of a unit gain and the grant from which an award is at the cap. An award is read
    once for both windows; each window's sums are plain numbers until the end (no round
    trip through memory).
    """
    upgrade_end, completes, grant, cost = rec.upgrade_end, rec.completes, rec.grant, rec.cost
    value_added, gain, deadweight = rec.value_added, rec.gain, rec.deadweight
    up, ramp, factor, cap = per
    decision, last = rec.decision, binned.shape[1] - 1
    committed = at_cap = 0.0
    to_horizon = to_end = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    for j in awards:
        end, g = upgrade_end[j], grant[j]
        committed += g
        at_cap += g >= cap
        gva = value_added[j] * gain[j]
        award = (
            end,
            completes[j],
            not deadweight[j],
            g * up,
            g * (1 - up),
            cost[j] - g,
            gva,
            gva * factor * opening[j],
        )
        to_horizon = _share(to_horizon, windows[0], ramp, award)
        to_end = _share(to_end, windows[1], ramp, award)
        if last >= 0:
            done = (end <= windows[1]) & completes[j]
            _bin_award(binned, (decision[j], end, last), (g, award[3], award[4]), done)
    _put(s[0], to_horizon)
    _put(s[1], to_end)
    return committed, at_cap


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _share(sums, h, ramp, award):  # pragma: no cover - compiled
    """``sums`` (those :func:`_put` stores, in its order) with an award's share up to week ``h`` added.

    ``award`` is its upgrade's end, whether it completes, whether it is additional (not
    deadweight), its upfront and final tranches, the money the firm adds, its gain in value
    added a year (reached over ``ramp`` weeks) and the present value of that gain. Members of
    each sum are picked by selection, not branches (the outcomes are random, so branches would
    mostly mispredict); a non-member adds exactly 0.0, which changes no sum.
    """
    end, completes, additional, upfront, final, own, gva, pv = award
    paid, ongoing, abandoned, released, completed, private, extra_n, added_gva, pv_benefit = sums
    ended = end <= h
    done = ended & completes  # & and ^, not and: no branch
    gone = ended ^ done
    extra = done & additional
    ramped = gva * min(max((h - end) / ramp, 0.0), 1.0)
    return (
        paid + (upfront + (final if done else 0.0)),
        ongoing + (not ended),
        abandoned + gone,
        released + (final if gone else 0.0),
        completed + done,
        private + (own if done else 0.0),
        extra_n + extra,
        added_gva + (ramped if extra else 0.0),
        pv_benefit + (pv if extra else 0.0),
    )


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _put(s, sums):  # pragma: no cover - compiled
    """One window's accruing sums (as :func:`_share` adds them up) into their slots of ``s``."""
    paid, ongoing, abandoned, released, completed, private, additional, added_gva, pv_benefit = sums
    s[Sum.PAID_HKD], s[Sum.RELEASED_HKD], s[Sum.PRIVATE_HKD] = paid, released, private
    s[Sum.ONGOING], s[Sum.ABANDONED], s[Sum.COMPLETED] = ongoing, abandoned, completed
    s[Sum.ADDITIONAL_UPGRADES], s[Sum.ADDITIONAL_GVA_HKD], s[Sum.PV_BENEFIT_HKD] = (
        additional,
        added_gva,
        pv_benefit,
    )


@njit(cache=True, nogil=True, error_model="numpy")
def _counts(s, by_status, got):  # pragma: no cover - compiled
    """The counts by status and ``got`` (the waits' sum, how many were decided, the money
    committed, the awards at the cap, the median and 90th percentile wait) into ``s`` (slots
    of :class:`Sum`)."""
    s[Sum.TURNED_AWAY] = by_status[_TURNED_AWAY]
    s[Sum.IN_REVIEW] = by_status[_IN_REVIEW]
    s[Sum.WITHDRAWN] = by_status[_WITHDRAWN]
    s[Sum.REJECTED] = by_status[_REJECTED]
    s[Sum.UNFUNDED] = by_status[_UNFUNDED]
    s[Sum.AWARDED] = by_status[_AWARDED]
    s[Sum.WAIT_SUM], s[Sum.DECIDED], s[Sum.COMMITTED_HKD], s[Sum.AWARDS_AT_CAP] = got[:4]
    s[Sum.WAIT_MEDIAN_WEEKS], s[Sum.WAIT_P90_WEEKS] = got[4], got[5]


@njit(cache=True, nogil=True, error_model="numpy")
def _bin_application(binned, st, arrival, review_start, decision, last):  # pragma: no cover - compiled
    """An application's arrival, turn-away, review start, decision and approval, by the week they fall in."""
    t = arrival
    if t <= last:
        binned[Binned.APPLICATIONS, int(np.ceil(t))] += 1.0
    if st == _TURNED_AWAY:
        if t <= last:
            binned[Binned.TURNED_AWAY, int(np.ceil(t))] += 1.0
    elif st != _PADDING:
        if review_start <= last:
            binned[Binned.REVIEW_STARTS, int(np.ceil(review_start))] += 1.0
        if decision <= last:
            w = int(np.ceil(decision))
            binned[Binned.DECISIONS, w] += 1.0
            binned[Binned.APPROVALS, w] += st == _UNFUNDED or st == _AWARDED


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _bin_award(binned, weeks, money, done):  # pragma: no cover - compiled
    """An award's grant and upfront tranche by the week of its decision, and, if ``done`` (its
    upgrade completed by the end of the follow-up), its completion and final tranche by the week
    its upgrade ends. ``weeks``: the decision, the upgrade's end and the last week binned;
    ``money``: the grant and its upfront and final tranches."""
    decision, end, last = weeks
    g, upfront, final = money
    if decision <= last:
        w = int(np.ceil(decision))
        binned[Binned.AWARDS, w] += 1.0
        binned[Binned.COMMITTED, w] += g
        binned[Binned.UPFRONT, w] += upfront
    if done and end <= last:
        w = int(np.ceil(end))
        binned[Binned.COMPLETIONS, w] += 1.0
        binned[Binned.FINAL, w] += final


@njit(cache=True, nogil=True, error_model="numpy")
def _select(values, lo, hi, k):  # pragma: no cover - compiled
    """Reorder ``values[lo:hi]`` so that ``values[k]`` is its k-th smallest (quickselect), and return it.

    Smaller values end up before ``k``, larger ones after it.
    """
    hi -= 1
    while hi > lo:
        m = _pivot(values, lo, hi, k)  # moved to ``hi``
        values[m], values[hi] = values[hi], values[m]
        pivot = values[hi]
        store = lo
        for i in range(lo, hi):  # Lomuto without branches (whether a value is below the pivot is a coin toss)
            v = values[i]
            values[i] = values[store]
            values[store] = v
            store += v < pivot
        values[store], values[hi] = values[hi], values[store]
        if store == k:
            return values[k]
        if store < k:
            lo = store + 1
        else:
            hi = store - 1
    return values[k]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _pivot(values, lo, hi, k):  # pragma: no cover - compiled
    """Where in ``values[lo:hi + 1]`` to take a pivot for the k-th smallest: on a long range, the
    one of the same rank among nine spread over it (close to the k-th: fewer values to pass over
    again), else the median of three."""
    n = hi - lo
    if n < _SAMPLED:
        mid = (lo + hi) // 2
        a, b, c = values[lo], values[mid], values[hi]
        if (a <= b) == (b <= c):
            return mid
        if (b <= a) == (a <= c):
            return lo
        return hi
    rank = ((k - lo) * 8 + n // 2) // n  # the sample's rank nearest the k-th's share of the range
    best = lo
    for i in range(9):  # the sample value of that rank: the one with ``rank`` below it (ties by place)
        at = lo + (n * i) // 8
        v, below = values[at], 0
        for j in range(9):
            w = values[lo + (n * j) // 8]
            below += (w < v) | ((w == v) & (j < i))
        best = at if below == rank else best
    return best


@njit(cache=True, nogil=True, error_model="numpy")
def _two_quantiles(values):  # pragma: no cover - compiled
    """Median and 90th percentile of ``values``, as ``np.quantile`` (linear) gives them.

    Only the order statistics each quantile interpolates between are found
    (by selection, not a sort): the same numbers.
    """
    median, lo = _quantile(values, 0, 0.5)
    p90, _ = _quantile(values, lo, 0.9)  # the 90th percentile is at or above the median
    return median, p90


@njit(cache=True, nogil=True, error_model="numpy")
def _quantile(values, start, q):  # pragma: no cover - compiled
    """The ``q`` quantile of ``values`` (linear), all of whose values before ``start`` are at or
    below it, and the position of the order statistic it starts from."""
    k = len(values)
    index = (k - 1) * q
    below = np.floor(index)
    gamma = index - below
    lo = int(below)
    a = _select(values, start, k, lo)
    b = a
    if lo + 1 < k:  # the next order statistic: the smallest value above position lo
        b = _smallest(values, lo + 1, k)
    diff = b - a
    return (b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma), lo


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _smallest(values, lo, hi):  # pragma: no cover - compiled
    """The smallest of ``values[lo:hi]`` (not empty, no NaN), as four running minima side by side
    (one would wait on each comparison before the next): the same value, as a minimum does not
    depend on the order in which it is taken."""
    a = b = c = d = values[lo]
    i = lo + 1
    while i + 4 <= hi:
        a, b = min(a, values[i]), min(b, values[i + 1])
        c, d = min(c, values[i + 2]), min(d, values[i + 3])
        i += 4
    for j in range(i, hi):
        a = min(a, values[j])
    return min(min(a, b), min(c, d))


@njit(cache=True, nogil=True, error_model="numpy")
def _cumulate(binned, out):  # pragma: no cover - compiled
    """The weekly series (Series x weeks) from events binned by week (Binned x weeks), summed week by week.

    The running sums are plain numbers (registers), not an array, so the weeks go by without a
    round trip through memory; each adds the same numbers in the same order as before.
    """
    applications = awards = completions = committed = upfront = final = 0.0
    turned_away = review_starts = decisions = approvals = 0.0
    for w in range(binned.shape[1]):
        applications += binned[Binned.APPLICATIONS, w]
        awards += binned[Binned.AWARDS, w]
        completions += binned[Binned.COMPLETIONS, w]
        committed += binned[Binned.COMMITTED, w]
        upfront += binned[Binned.UPFRONT, w]
        final += binned[Binned.FINAL, w]
        turned_away += binned[Binned.TURNED_AWAY, w]
        review_starts += binned[Binned.REVIEW_STARTS, w]
        decisions += binned[Binned.DECISIONS, w]
        approvals += binned[Binned.APPROVALS, w]
        out[Series.APPLICATIONS, w] = applications
        out[Series.AWARDS, w] = awards
        out[Series.COMPLETIONS, w] = completions
        out[Series.COMMITTED_HKD, w] = committed
        out[Series.PAID_HKD, w] = upfront + final
        admitted = applications - turned_away
        out[Series.QUEUE, w] = admitted - review_starts
        out[Series.IN_VETTING, w] = admitted - decisions
        out[Series.APPROVALS, w] = approvals


#: A range of at least this many values takes its pivot from nine (:func:`_pivot`).
_SAMPLED = 48
