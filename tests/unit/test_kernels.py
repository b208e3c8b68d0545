"""The compiled loops against plain numpy: the same random numbers, the same metric sums."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from sim.engines import kernels
from sim.engines.batch import simulate_batch
from sim.engines.layout import (
    Binned,
    CandidateRow,
    FloatColumn,
    IntColumn,
    RecordColumns,
    SchemeRow,
    Series,
    Sum,
    names,
)
from sim.engines.metrics import METRICS, SERIES, scheme_metrics
from sim.engines.parameters import draw_parameters
from sim.engines.records import METRIC_FIELDS, SchemeRecords, Status
from sim.spec.loader import merge, scenario_from_dict


@pytest.fixture(scope="module")
def two_segments(baseline):
    """The baseline with Manufacturing+ open to start-ups too (a scheme serving two segments)."""
    source = merge(
        baseline.source, {"schemes": {"manufacturing_plus": {"segments": ["manufacturing_sme", "startup"]}}}
    )
    del source["schemes"]["it_accelerator"]
    return scenario_from_dict(source)


@pytest.mark.parametrize("segment", [None, 0, 1])
def test_metric_sums_equal_plain_numpy_on_the_same_records(two_segments, segment) -> None:
    """Each replication's sums, recomputed row by row with numpy from the padded records."""
    reps = np.arange(300)
    rec = simulate_batch(two_segments, 4, reps)["manufacturing_plus"]
    draws = draw_parameters(two_segments, 4, reps)
    got = scheme_metrics(rec, draws, "manufacturing_plus", two_segments.horizon_weeks, segment=segment).values
    h = two_segments.horizon_weeks
    mine = rec.status != Status.PADDING
    if segment is not None:
        mine &= rec.segment == segment
    upfront = draws.scheme("manufacturing_plus", "tranches.upfront_share")
    for r in range(len(reps)):
        row = mine[r]
        status = rec.status[r][row]
        awarded = status == Status.AWARDED
        grant = rec.grant[r][row]
        end = rec.upgrade_end[r][row]
        completed = awarded & (end <= h) & rec.completes[r][row]
        decided = status >= Status.WITHDRAWN
        wait = (rec.decision[r][row] - rec.arrival[r][row])[decided]
        assert got["applications"][r] == row.sum()
        assert got["awarded"][r] == awarded.sum()
        assert got["completed"][r] == completed.sum()
        assert got["committed_hkd"][r] == pytest.approx(grant[awarded].sum(), rel=1e-12)
        paid = grant[awarded].sum() * upfront[r] + grant[completed].sum() * (1 - upfront[r])
        assert got["paid_hkd"][r] == pytest.approx(paid, rel=1e-12)
        if len(wait):
            # the same numbers as numpy's linear quantiles, to the bit
            assert got["wait_median_weeks"][r] == np.quantile(wait, 0.5)
            assert got["wait_p90_weeks"][r] == np.quantile(wait, 0.9)
            assert got["wait_mean_weeks"][r] == pytest.approx(wait.mean(), rel=1e-12)
        else:
            assert np.isnan(got["wait_median_weeks"][r])


LAYOUTS = [CandidateRow, SchemeRow, FloatColumn, IntColumn, Sum, Binned, Series]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.__name__)
def test_every_layout_numbers_its_names_from_zero_without_gaps_or_repeats(layout) -> None:
    indices = [int(member) for member in layout]
    assert indices == list(range(len(layout)))
    assert len(set(names(layout))) == len(layout)


def test_the_metric_sums_and_series_are_named_by_their_layouts() -> None:
    assert kernels.SUMS == names(Sum)
    assert SERIES == names(Series)
    # every sum slot is read by name by the metrics (or is an intermediate of one)
    assert set(kernels.SUMS) - set(METRICS) == {"wait_sum", "decided", "awards_at_cap"}


def test_the_kernel_output_rows_are_named_as_record_fields() -> None:
    record_fields = {f.name for f in fields(SchemeRecords)}
    assert set(names(FloatColumn)) | set(names(IntColumn)) <= record_fields
    assert set(RecordColumns._fields) <= set(METRIC_FIELDS)


def test_reordering_a_layout_cannot_mislabel_a_metric(two_segments) -> None:
    """A metric read by its slot name equals the same count taken from the records' statuses."""
    reps = np.arange(64)
    rec = simulate_batch(two_segments, 2, reps)["manufacturing_plus"]
    got = scheme_metrics(
        rec, draw_parameters(two_segments, 2, reps), "manufacturing_plus", two_segments.horizon_weeks
    ).values
    for status in (Status.TURNED_AWAY, Status.IN_REVIEW, Status.WITHDRAWN, Status.REJECTED, Status.AWARDED):
        want = (rec.status == status).sum(axis=1)
        np.testing.assert_array_equal(got[status.name.lower()], want, err_msg=status.name)


@pytest.mark.parametrize("spread", [0.0, 3.0, 40.0, 1e6])
def test_the_funding_order_sort_is_numpys_stable_sort(spread) -> None:
    """Keys nearly sorted (files taken in order of arrival, decided a review later), with ties (files
    decided at one meeting), and far from sorted (past the insertion sort's budget, where the merge
    sort takes over): the same order as ``np.argsort(kind="mergesort")``, ties in their order."""
    rng = np.random.default_rng(11)
    for n in (0, 1, 2, 5, 40, 400):
        arrival = np.sort(rng.uniform(0.0, 100.0, n))
        keys = np.round(arrival + rng.exponential(spread, n) if spread else arrival, 0)  # ties
        files = rng.permutation(3 * n)[:n].astype(np.int64)
        np.testing.assert_array_equal(
            kernels._stable_sort(keys, files), files[np.argsort(keys, kind="mergesort")]
        )


@pytest.mark.parametrize("n", [1, 2, 3, 47, 48, 49, 100, 400, 1001])
def test_the_wait_quantiles_are_numpys_to_the_bit(n) -> None:
    """Median and 90th percentile by selection (pivots taken from a sample on long ranges, the next
    order statistic by four running minima): numpy's linear quantiles, with and without ties."""
    rng = np.random.default_rng(n)
    for values in (rng.exponential(10.0, n), np.round(rng.exponential(3.0, n)), np.full(n, 2.5)):
        scrambled = values.copy()
        assert kernels._two_quantiles(scrambled) == (np.quantile(values, 0.5), np.quantile(values, 0.9))
        np.testing.assert_array_equal(np.sort(scrambled), np.sort(values))  # reordered, none lost
