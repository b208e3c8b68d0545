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
``count[r]`` entries from ``first[r]`` on.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engines import rules

__all__ = [
    "SUMS",
    "fcfs",
    "fill_normal",
    "fill_triangular",
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
    free = np.zeros(c)
    for j in range(at, at + n):
        begin = max(arrival[j], free[0])
        start[j] = begin
        # replace the root by the new free time and sift it down
        value = begin + service[j]
        i = 0
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


@njit(cache=True, nogil=True, error_model="numpy")
def fcfs(arrival, service, first, count, servers, start):  # pragma: no cover - compiled
    """Start times of first-come-first-served service with ``servers[r]`` servers, into ``start``."""
    for r in range(len(count)):
        _queue(arrival, service, first[r], count[r], servers[r], start)


@njit(cache=True, nogil=True, error_model="numpy")
def fill_normal(rng, out):  # pragma: no cover - compiled
    """``rng.standard_normal(out=out)``: the same numbers, made in a compiled loop (about twice as fast)."""
    for i in range(len(out)):
        out[i] = rng.standard_normal()


@njit(cache=True, nogil=True, error_model="numpy")
def fill_triangular(rng, low, mode, high, out):  # pragma: no cover - compiled
    """``rng.triangular(low, mode, high, len(out))`` into ``out``: the same numbers, made faster."""
    for i in range(len(out)):
        out[i] = rng.triangular(low, mode, high)


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


# rows of the per-candidate table handed to :func:`scheme_block`
(
    COST,
    GRANT,
    APPLY,
    KEEP,
    ARRIVAL,
    DECIDE,
    COMPLETE,
    NO_GAIN,
    GAIN,
    DEADWEIGHT,
    VALUE_ADDED,
    REVIEW,
    DURATION,
    READINESS,
) = range(14)
CANDIDATE_ROWS = 14
# rows of its per-replication scheme parameters
(
    P_WITHDRAW,
    P_APPROVE,
    P_COMPLETION,
    P_NO_GAIN,
    P_DEADWEIGHT,
    P_SERVERS,
    P_LIMIT,
    P_PLACES,
    P_INTEGRATORS,
) = range(9)
PARAMETER_ROWS = 9
# rows of its float and small-integer outputs, one column per application
O_ARRIVAL, O_READINESS, O_COST, O_GRANT, O_VALUE_ADDED, O_GAIN = range(6)
O_REVIEW_START, O_DECISION, O_UPGRADE_START, O_UPGRADE_END = range(6, 10)
FLOAT_ROWS = 10
I_SEGMENT, I_BAND, I_STATUS, I_COMPLETES, I_DEADWEIGHT = range(5)
INT_ROWS = 5

_approval_threshold = njit(cache=True, error_model="numpy")(rules.approval_threshold)
_completion_probability = njit(cache=True, error_model="numpy")(rules.completion_probability)
_next_meeting = njit(cache=True, error_model="numpy")(rules.next_meeting)


@njit(cache=True, nogil=True, error_model="numpy")
def scheme_block(
    cols,
    positions,
    seg_first,
    seg_count,
    a_max,
    band,
    cand,
    factor,
    par,
    window,
    interval,
    rounds,
    close,
    horizon,
    offset,
    count_out,
    would_be_out,
    exhaustion_out,
    out_f,
    out_i,
):  # pragma: no cover - compiled
    """Every stage of one scheme for replications ``cols`` of one block, one replication at a time.

    Per replication ``b = cols[i]`` (written at chunk position
    ``positions[i]``) and segment ``s``: its ``seg_count[s, b]`` candidates
    from ``seg_first[s, b]`` (columns of ``cand``, rows named above) are
    would-be applicants with probability ``APPLY / a_max`` (``KEEP`` uniform);
    their times (``ARRIVAL``) increase with the slot (see
    :meth:`sim.engines.batch._Draws.arrivals`), and those applying within
    ``window`` are the applications, in order of arrival across segments.
    Each is then reviewed, decided, funded and upgraded (:func:`_settle`).
    Applications are written from column ``offset`` of ``out_f`` /
    ``out_i``; returns the next free column.
    """
    segments = seg_first.shape[0]
    room = 1  # the most candidates of one replication
    for i in range(len(cols)):
        room = max(room, seg_count[:, cols[i]].sum())
    pick = np.empty(room, dtype=np.int64)
    seg_of = np.empty(room, dtype=np.int64)
    when = np.empty(room)
    # per application of the replication at hand: what only vetting and funding need
    review, length, start, decision = np.empty(room), np.empty(room), np.empty(room), np.empty(room)
    outcome = np.empty(room, dtype=np.int8)
    funded = np.zeros(room, dtype=np.bool_)
    for i in range(len(cols)):
        b, pos = cols[i], positions[i]
        n = 0
        for s in range(segments):
            at, m = seg_first[s, b], seg_count[s, b]
            would_be = 0
            for j in range(at, at + m):
                if cand[KEEP, j] * a_max[s, b] < cand[APPLY, j]:
                    would_be += 1
                    if cand[ARRIVAL, j] <= window:
                        pick[n] = j
                        seg_of[n] = s
                        when[n] = cand[ARRIVAL, j]
                        n += 1
            would_be_out[pos, s] = would_be
        order = np.arange(n)
        if segments > 1:
            order = np.argsort(when[:n], kind="mergesort")
        threshold = _approval_threshold(par[P_WITHDRAW, b], par[P_APPROVE, b])
        for k in range(n):
            j, s, o = pick[order[k]], seg_of[order[k]], offset + k
            out_i[I_SEGMENT, o] = s
            out_i[I_BAND, o] = band[j]
            out_f[O_ARRIVAL, o] = when[order[k]]
            out_f[O_READINESS, o] = cand[READINESS, j] if rounds else np.nan
            out_f[O_COST, o] = cand[COST, j]
            out_f[O_GRANT, o] = cand[GRANT, j]
            out_f[O_VALUE_ADDED, o] = cand[VALUE_ADDED, j]
            review[k] = cand[REVIEW, j]
            u = cand[DECIDE, j]
            outcome[k] = 0 if u < par[P_WITHDRAW, b] else (1 if u >= threshold else 2)
            prob = _completion_probability(par[P_COMPLETION, b], factor[s, band[j]])
            u = cand[COMPLETE, j]
            # past the chance to complete, (u - prob) / (1 - prob) is uniform: how far it got
            out_i[I_COMPLETES, o] = u < prob
            duration = cand[DURATION, j]
            length[k] = duration if u < prob else duration * ((u - prob) / (1.0 - prob))
            out_f[O_GAIN, o] = 0.0 if cand[NO_GAIN, j] < par[P_NO_GAIN, b] else cand[GAIN, j]
            out_i[I_DEADWEIGHT, o] = cand[DEADWEIGHT, j] < par[P_DEADWEIGHT, b]
        count_out[pos] = n
        exhaustion_out[pos] = _settle(
            offset,
            n,
            out_f,
            out_i,
            review,
            outcome,
            length,
            par[:, b],
            interval,
            close,
            horizon,
            start,
            decision,
            funded,
        )
        offset += n
    return offset


@njit(cache=True, nogil=True, error_model="numpy")
def _settle(
    at, n, out_f, out_i, review, outcome, length, par, interval, close, horizon, start, decision, funded
):  # pragma: no cover - compiled
    """Vetting, funding and upgrade starts of one replication's ``n`` applications from column ``at``.

    ``review``, ``outcome`` and ``length`` hold each application's review
    time, review outcome (0 withdrawn, 1 rejected, 2 approved) and upgrade
    length; ``start``, ``decision`` and ``funded`` are scratch. Reviews start
    first come first served on ``par[P_SERVERS]`` reviewers; a file is
    decided at review end or, with ``interval > 0`` (committee rounds), at
    the next meeting; approved files decided by the horizon are funded in
    order of decision (then readiness, highest first) while the money
    (``par[P_LIMIT]``) and places (``par[P_PLACES]``) last, and the decision
    time of the first one past that is the exhaustion time, which is
    returned (NaN: never); with ``close``, files arriving after it are turned
    away. Upgrades start at award or, with ``par[P_INTEGRATORS] >= 0``, first
    come first served on that many integrators, in award order. Fills the
    status and the event times (NaN where the event does not happen by the
    horizon).
    """
    h = horizon
    arrival, grant = out_f[O_ARRIVAL, at : at + n], out_f[O_GRANT, at : at + n]
    limit, places, integrators = par[P_LIMIT], par[P_PLACES], int(par[P_INTEGRATORS])
    _queue(arrival, review, 0, n, int(par[P_SERVERS]), start)
    k = 0
    total = 0.0
    for i in range(n):
        end = start[i] + review[i]
        if interval > 0:
            end = _next_meeting(end, interval)
        decision[i] = end
        funded[i] = end <= h and outcome[i] == 2  # approved and decided by the horizon
        if funded[i]:
            total += grant[i]
            k += 1
    ordered = integrators >= 0
    exhaustion = np.nan
    award = np.empty(0, dtype=np.int64)
    if k > 0 and (k > places or total > limit or ordered):
        files = np.empty(k, dtype=np.int64)
        keys = np.empty(k)
        k = 0
        for i in range(n):
            if funded[i]:
                files[k] = i
                keys[k] = (
                    decision[i] + 0.5 * interval * (1.0 - out_f[O_READINESS, at + i])
                    if interval > 0
                    else decision[i]
                )
                k += 1
        files = files[np.argsort(keys, kind="mergesort")]
        spent = 0.0
        m = 0
        for f in range(k):
            i = files[f]
            spent += grant[i]
            if spent <= limit and f + 1 <= places:
                m += 1
            else:
                if np.isnan(exhaustion):
                    exhaustion = decision[i]
                funded[i] = False
        award = files[:m]
    upgrade = start  # the review starts are written below, then this holds upgrade starts
    for i in range(n):
        j = at + i
        admitted = not (close and arrival[i] > exhaustion)
        done = admitted and decision[i] <= h
        if funded[i]:
            out_i[I_STATUS, j] = 6
        elif done:
            out_i[I_STATUS, j] = outcome[i] + 3  # withdrawn, rejected or approved but unfunded
        else:
            out_i[I_STATUS, j] = 2 if admitted else 1  # in review, or turned away
        out_f[O_REVIEW_START, j] = start[i] if admitted and start[i] <= h else np.nan
        out_f[O_DECISION, j] = decision[i] if done else np.nan
        upgrade[i] = decision[i] if funded[i] else np.nan
        funded[i] = False
    if ordered and len(award) > 0:
        m = len(award)
        when, took, begin = np.empty(m), np.empty(m), np.empty(m)
        for f in range(m):
            when[f] = decision[award[f]]
            took[f] = length[award[f]]
        _queue(when, took, 0, m, integrators, begin)
        for f in range(m):
            upgrade[award[f]] = begin[f]
    for i in range(n):
        j = at + i
        t = upgrade[i]
        out_f[O_UPGRADE_START, j] = t if t <= h else np.nan
        out_f[O_UPGRADE_END, j] = t + length[i] if t + length[i] <= h else np.nan
    return exhaustion


#: What :func:`scheme_sums` returns per replication, in its columns' order.
SUMS: tuple[str, ...] = (
    "turned_away",
    "in_review",
    "withdrawn",
    "rejected",
    "unfunded",
    "awarded",
    "completed",
    "abandoned",
    "ongoing",
    "wait_sum",
    "decided",
    "wait_median_weeks",
    "wait_p90_weeks",
    "committed_hkd",
    "paid_hkd",
    "released_hkd",
    "private_hkd",
    "additional_upgrades",
    "additional_gva_hkd",
    "pv_benefit_hkd",
)

# status codes (sim.engines.records.Status)
_TURNED_AWAY, _IN_REVIEW, _WITHDRAWN, _REJECTED, _UNFUNDED, _AWARDED = 1, 2, 3, 4, 5, 6


@njit(cache=True, nogil=True, error_model="numpy")
def scheme_sums(
    first,
    count,
    segment,
    seg,
    status,
    arrival,
    review_start,
    decision,
    upgrade_end,
    completes,
    grant,
    cost,
    value_added,
    gain,
    deadweight,
    opening,
    upfront,
    ramp_years,
    pv_factor,
    horizon,
    weeks,
    sums,
    weekly,
):  # pragma: no cover - compiled
    """The per-replication sums behind every metric, and the weekly series, in one pass.

    Replication ``r``'s applications are ``first[r]:first[r] + count[r]``, in
    slot order; only those of segment ``seg`` count (``seg < 0``: all).
    ``opening[i]`` is the discount factor from an upgrade's end back to the
    opening, ``pv_factor[r]`` the present value of a unit gain. ``sums`` (R x
    len(SUMS)) and, if it has rows, ``weekly`` (R x 7 x weeks) are filled.
    Sums run over the applications in slot order, as ``np.bincount`` does.
    """
    h = horizon
    last = weeks - 1
    want_weekly = weekly.shape[0] > 0
    binned = np.zeros((9, weeks))
    waits = np.empty(0)
    by_status = np.zeros(7)
    for r in range(len(count)):
        at, n = first[r], count[r]
        if len(waits) < n:
            waits = np.empty(2 * n)
        if want_weekly:
            binned[:] = 0.0
        by_status[:] = 0.0
        up, ramp, factor = upfront[r], 52.0 * ramp_years[r], pv_factor[r]
        k = 0
        wait_sum = completed = abandoned = ongoing = committed = paid = released = private = 0.0
        additional = gva_sum = pv_sum = 0.0
        # Members of each sum are picked by selection, not branches (the outcomes are random, so
        # branches would mostly mispredict); a non-member adds exactly 0.0, which changes no sum.
        for j in range(at, at + n):
            if seg >= 0 and segment[j] != seg:
                continue
            st = status[j]
            by_status[st] += 1.0
            if want_weekly:
                t = arrival[j]
                if t <= last:
                    binned[0, int(np.ceil(t))] += 1.0
                if st == _TURNED_AWAY:
                    if t <= last:
                        binned[6, int(np.ceil(t))] += 1.0
                elif st != 0:
                    t = review_start[j]
                    if t <= last:
                        binned[7, int(np.ceil(t))] += 1.0
                    t = decision[j]
                    if t <= last:
                        binned[8, int(np.ceil(t))] += 1.0
            decided = st >= _WITHDRAWN
            wait = decision[j] - arrival[j]
            wait_sum += wait if decided else 0.0
            waits[k] = wait
            k += decided
            awarded = st == _AWARDED
            g = grant[j] if awarded else 0.0
            end = upgrade_end[j]
            ended = awarded and end <= h
            done = ended and completes[j]
            gone = ended and not completes[j]
            committed += g
            paid += g * up + (g * (1 - up) if done else 0.0)
            ongoing += awarded and not ended
            abandoned += gone
            released += g * (1 - up) if gone else 0.0
            completed += done
            private += cost[j] - g if done else 0.0
            extra = done and not deadweight[j]
            gva = value_added[j] * gain[j]
            additional += extra
            gva_sum += gva * min(max((h - end) / ramp, 0.0), 1.0) if extra else 0.0
            pv_sum += gva * factor * opening[j] if extra else 0.0
            if want_weekly and awarded:
                t = decision[j]
                if t <= last:
                    w = int(np.ceil(t))
                    binned[1, w] += 1.0
                    binned[3, w] += g
                    binned[4, w] += g * up
                if done and end <= last:
                    w = int(np.ceil(end))
                    binned[2, w] += 1.0
                    binned[5, w] += g * (1 - up)
        s = sums[r]
        s[:6] = by_status[1:]
        s[6], s[7], s[8] = completed, abandoned, ongoing
        s[9], s[10] = wait_sum, k
        s[11] = np.nan
        s[12] = np.nan
        s[13], s[14], s[15], s[16] = committed, paid, released, private
        s[17], s[18], s[19] = additional, gva_sum, pv_sum
        if k > 0:
            _two_quantiles(waits[:k], s)
        if want_weekly:
            _cumulate(binned, weekly[r])


@njit(cache=True, nogil=True, error_model="numpy")
def _select(values, lo, hi, k):  # pragma: no cover - compiled
    """Reorder ``values[lo:hi]`` so that ``values[k]`` is its k-th smallest (quickselect), and return it.

    Smaller values end up before ``k``, larger ones after it.
    """
    hi -= 1
    while hi > lo:
        # median of three as pivot, moved to ``hi``
        mid = (lo + hi) // 2
        a, b, c = values[lo], values[mid], values[hi]
        if (a <= b) == (b <= c):
            m = mid
        elif (b <= a) == (a <= c):
            m = lo
        else:
            m = hi
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


@njit(cache=True, nogil=True, error_model="numpy")
def _two_quantiles(values, s):  # pragma: no cover - compiled
    """Median and 90th percentile of ``values`` into ``s[11]``, ``s[12]``, as ``np.quantile`` (linear).

    Only the order statistics each quantile interpolates between are found
    (by selection, not a sort): the same numbers.
    """
    k = len(values)
    start = 0
    for q in range(2):
        index = (k - 1) * (0.5, 0.9)[q]
        below = np.floor(index)
        gamma = index - below
        lo = int(below)
        a = _select(values, start, k, lo)
        b = a
        if lo + 1 < k:  # the next order statistic: the smallest value above position lo
            b = values[lo + 1]
            for i in range(lo + 2, k):
                b = min(b, values[i])
        start = lo  # the next quantile is at or above this one
        diff = b - a
        s[11 + q] = b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


@njit(cache=True, nogil=True, error_model="numpy")
def _cumulate(binned, out):  # pragma: no cover - compiled
    """The weekly series (7 x weeks) from events binned by week (9 x weeks), summed week by week."""
    weeks = binned.shape[1]
    cum = np.zeros(9)
    for w in range(weeks):
        for i in range(9):
            cum[i] += binned[i, w]
        for i in range(4):
            out[i, w] = cum[i]
        out[4, w] = cum[4] + cum[5]
        admitted = cum[0] - cum[6]
        out[5, w] = admitted - cum[7]
        out[6, w] = admitted - cum[8]
