"""An intermediary scheme's programme outcomes added up per replication, compiled, in one pass over
its operators and cohorts (MODEL.md 6b, R-PROGRAMME-PAY).

Per replication and for each of two weeks (the horizon and the end of the follow-up): the start-up
counts of the cohorts admitted by then and the HK$ paid by then; and, where asked, the cumulative HK$
paid at each week of the weekly grid. The payments are those of
:func:`sim.engines.programme.payments`, in its order (every operator's upfront share, then the
tranches at its first cohorts), each worked out by the same operations. Every sum adds its terms in
that order, as ``np.bincount`` adds weights, and the series cumulates week by week as ``np.cumsum``
does: the same numbers to the bit (tests/unit/test_programme_sums.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["NO_SERIES", "programme_sums"]

#: What to pass as ``series`` when no weekly series is wanted (the same array layout as a row of the
#: weekly series, so one compiled version serves both).
NO_SERIES = np.empty((0, 1, 0))[:, 0, :]


@njit(cache=True, nogil=True, error_model="numpy")
def programme_sums(ops, cohorts, pay, until, counts, money, series):  # pragma: no cover - compiled
    """The start-up counts into ``counts`` (2, 5, R), the money paid into ``money`` (2, R), both by
    each week of ``until`` (2,), and the cumulative money paid on the weeks 0, 1, ... into ``series``
    (R, weeks; overwritten; none if it has no rows).

    ``ops`` is (rep, award week, grant) per operator; ``cohorts`` (rep, operator, k, admission week,
    the five counts: places, admitted, relocated, surviving, follow-on) per cohort; ``pay`` (upfront
    share per replication, tranches). ``counts`` and ``money`` start at zero.
    """
    rep, award, grant = ops
    upfront, tranches = pay
    weekly = series.shape[0] > 0
    if weekly:
        series[:, :] = 0.0
    for i in range(len(rep)):
        _pay(rep[i], award[i], upfront[rep[i]] * grant[i], until, money, series, weekly)
    c_rep, operator, index, week, counted = cohorts
    for c in range(len(c_rep)):
        r = c_rep[c]
        for w in range(2):
            if week[c] <= until[w]:
                for k in range(5):
                    counts[w, k, r] += float(counted[k][c])
        if index[c] < tranches:
            o = operator[c]
            rest = (grant[o] - upfront[rep[o]] * grant[o]) / tranches
            _pay(r, week[c], rest, until, money, series, weekly)
    if weekly:
        for r in range(series.shape[0]):
            total = 0.0
            for w in range(series.shape[1]):
                total += series[r, w]
                series[r, w] = total


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _pay(rep, week, amount, until, money, series, weekly):  # pragma: no cover - compiled
    """One payment of ``amount`` HK$ in ``week``: into ``money`` by each week of ``until`` it is at
    or before, and into its week's cell of ``series`` (the first week of the grid at or after it, as
    ``np.searchsorted`` finds it on the grid 0, 1, ...; none past the grid)."""
    for w in range(2):
        if week <= until[w]:
            money[w, rep] += amount
    if weekly and week <= series.shape[1] - 1:
        series[rep, int(np.ceil(week)) if week > 0 else 0] += amount
