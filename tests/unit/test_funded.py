"""Who is funded per replication (sim.engines.funded): a hand-worked example, a plain ``np.bincount``
twin of the compiled pass, agreement with the metrics table, and rows that do not depend on the
chunk, the record layout or the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

from sim.engines import batch, des
from sim.engines.funded import (
    AT_CAP_HKD,
    GRANT_BINS,
    BandCounts,
    awards_at_cap,
    band_counts,
    funded_tables,
    grant_bin_columns,
)
from sim.engines.parameters import draw_parameters, scheme_parameters
from sim.engines.records import SchemeRecords, Status, flat_records, stack_records
from sim.engines.registry import get_engine
from sim.experiments.replicate import replicate
from sim.spec.loader import load_scenario
from tests.rules.conftest import applicants, terms

ROOT = Path(__file__).resolve().parents[2]
SMALL = load_scenario(ROOT / "tests/data/small.toml")
SEED = 20251118

A, R, T, U = Status.AWARDED, Status.REJECTED, Status.TURNED_AWAY, Status.UNFUNDED


def _records(band: list[list[int]], status: list[list[int]], grant: list[list[float]]) -> SchemeRecords:
    """Padded records of one segment: a row per replication, ``-1`` bands mark padding."""
    b = np.array(band)
    shape, pad = b.shape, b < 0
    nan = np.full(shape, np.nan)
    return SchemeRecords(
        segment=np.where(pad, -1, 0),
        band=b,
        arrival=np.where(pad, np.nan, 1.0),
        status=np.where(pad, Status.PADDING, np.array(status)),
        review_start=nan,
        decision=nan,
        readiness=nan,
        cost=nan,
        grant=np.array(grant, dtype=float),
        value_added=nan,
        upgrade_start=nan,
        upgrade_end=nan,
        completes=np.zeros(shape, dtype=bool),
        gain=nan,
        deadweight=np.zeros(shape, dtype=bool),
        eligible=np.ones((shape[0], 1)),
        would_be=np.ones((shape[0], 1)),
        exhaustion=np.full(shape[0], np.nan),
        exhausted_by=np.zeros(shape[0], dtype=np.int64),
        reapplied=np.zeros((shape[0], 1), dtype=np.int64),
        reopenings=np.zeros(shape[0], dtype=np.int64),
    )


def test_a_hand_worked_example_gives_exact_counts() -> None:
    # replication 0 (cap HK$100): band 0 awarded HK$100 (at the cap, last bin), band 1 awarded HK$45
    # (bin 40-50%), band 1 rejected, band 0 turned away; replication 1 (cap HK$200): band 1 awarded
    # HK$199.5 (within HK$1 of the cap, last bin), band 0 approved but unfunded, two padding slots.
    rec = _records(
        band=[[0, 1, 1, 0], [1, 0, -1, -1]],
        status=[[A, A, R, T], [A, U, 0, 0]],
        grant=[[100.0, 45.0, 80.0, 10.0], [199.5, 50.0, np.nan, np.nan]],
    )
    got = band_counts(rec, np.array([100.0, 200.0]), np.array([0, 2]))
    assert got.applications.tolist() == [[2, 2], [1, 1]]
    assert got.awards.tolist() == [[1, 1], [0, 1]]
    assert got.committed_hkd.tolist() == [[100.0, 45.0], [0.0, 199.5]]
    assert got.awards_at_cap.tolist() == [1, 1]
    bins = np.zeros((2, GRANT_BINS), dtype=int)
    bins[0, 9], bins[0, 4], bins[1, 9] = 1, 1, 1
    assert got.grant_bins.tolist() == bins.tolist()


def test_a_grant_just_short_of_the_slack_is_not_at_the_cap() -> None:
    rec = _records(band=[[0, 0]], status=[[A, A]], grant=[[100.0 - AT_CAP_HKD, 100.0 - 1.5 * AT_CAP_HKD]])
    got = band_counts(rec, np.array([100.0]), np.array([0, 1]))
    assert got.awards_at_cap.tolist() == [1]
    assert got.grant_bins[0, GRANT_BINS - 1] == 2


def bincount_twin(rec: SchemeRecords, cap: np.ndarray, offsets: np.ndarray) -> BandCounts:
    """The counts in plain numpy (np.bincount over flat applications), as MODEL.md states them."""
    reps, cells = rec.replications, int(offsets[-1])
    rows, cols = np.nonzero(rec.status != Status.PADDING)
    cell = offsets[rec.segment[rows, cols]] + rec.band[rows, cols]
    status, grant = rec.status[rows, cols], rec.grant[rows, cols]
    won = status == Status.AWARDED
    key, r, g = rows * cells + cell, rows[won], grant[won]
    share = np.where(cap[r] > 0, g / np.where(cap[r] > 0, cap[r], 1.0) * GRANT_BINS, GRANT_BINS)
    return BandCounts(
        applications=np.bincount(key, minlength=reps * cells).reshape(reps, cells),
        awards=np.bincount(key[won], minlength=reps * cells).reshape(reps, cells),
        committed_hkd=np.bincount(key[won], weights=g, minlength=reps * cells).reshape(reps, cells),
        awards_at_cap=np.bincount(r[g >= cap[r] - AT_CAP_HKD], minlength=reps),
        grant_bins=np.bincount(
            r * GRANT_BINS + np.minimum(share.astype(int), GRANT_BINS - 1), minlength=reps * GRANT_BINS
        ).reshape(reps, GRANT_BINS),
    )


def _padded(rec: SchemeRecords) -> SchemeRecords:
    """The same records as padded arrays (each field read once, so flat records are laid out)."""
    return stack_records([SchemeRecords(**{f: getattr(rec, f) for f in SchemeRecords.__dataclass_fields__})])


@pytest.mark.parametrize("engine", ["batch", "des"])
def test_the_compiled_pass_equals_its_bincount_twin_bit_for_bit(engine: str) -> None:
    reps = np.arange(40 if engine == "batch" else 6)
    draws = draw_parameters(SMALL.scenario, SEED, reps)
    records = get_engine(engine).simulate(SMALL.scenario, SEED, reps, draws)
    for name, rec in records.items():
        cap = scheme_parameters(draws, name).max_grant_hkd
        offsets = np.array([0, len(SMALL.scenario.segments[SMALL.scenario.schemes[name].segments[0]].bands)])
        got, want = band_counts(rec, cap, offsets), bincount_twin(_padded(rec), cap, offsets)
        for key in BandCounts.__dataclass_fields__:
            assert np.array_equal(getattr(got, key), getattr(want, key)), (name, key)
        assert got.awards.sum() > 0, name  # the example funds someone


@pytest.mark.parametrize(("engine", "n"), [("batch", 64), ("des", 8)])
def test_bands_add_up_to_the_metrics_table_in_every_replication(engine: str, n: int) -> None:
    chunk = replicate(SMALL.scenario, SEED, np.arange(n), engine)
    assert chunk.funded is not None
    bands, grants = chunk.funded.bands.to_pandas(), chunk.funded.grants.to_pandas()
    summed = bands.groupby(["replication", "scheme"], observed=True)[
        ["applications", "awards", "committed_hkd"]
    ]
    by_scheme = summed.sum().reset_index()
    whole = chunk.table[chunk.table["segment"] == "all"]
    both = whole.merge(by_scheme, on=["replication", "scheme"], validate="one_to_one")
    assert len(both) == len(whole) == n * len(SMALL.scenario.schemes)
    assert (both["applications_x"] == both["applications_y"]).all()
    assert (both["awarded"] == both["awards"]).all()
    # the same grants summed in another grouping: equal to rounding
    np.testing.assert_allclose(both["committed_hkd_y"], both["committed_hkd_x"], rtol=1e-12, atol=1e-6)
    hist = grants[grant_bin_columns()].sum(axis=1)
    assert (hist == grants["awards"]).all()
    assert (grants["awards_at_cap"] <= grants[grant_bin_columns()[-1]]).all()
    paired = grants.merge(by_scheme, on=["replication", "scheme"], suffixes=("", "_bands"))
    assert (paired["awards"] == paired["awards_bands"]).all()
    # the metrics table's share at the cap is the grants table's count over its awards
    shares = grants.merge(whole, on=["replication", "scheme"], validate="one_to_one")
    np.testing.assert_array_equal(
        shares["awards_at_cap_share"],
        np.where(shares["awards"] > 0, shares["awards_at_cap"] / shares["awards"], np.nan),
    )


def test_a_replication_gives_the_same_rows_in_any_chunk() -> None:
    whole = replicate(SMALL.scenario, SEED, np.arange(12)).funded
    part = replicate(SMALL.scenario, SEED, np.arange(7, 12)).funded
    assert whole is not None
    assert part is not None
    for key in ("bands", "grants"):
        a, b = getattr(whole, key).to_pandas(), getattr(part, key).to_pandas()
        tail = a[a["replication"] >= 7].reset_index(drop=True)
        assert_frame_equal(tail, b, check_categorical=False)


def test_rows_come_in_replication_order_with_names() -> None:
    reps = np.arange(3, 6)
    draws = draw_parameters(SMALL.scenario, SEED, reps)
    records = get_engine("batch").simulate(SMALL.scenario, SEED, reps, draws)
    got = funded_tables(SMALL.scenario, records, draws, reps)
    bands = got.bands.to_pandas()
    assert bands["replication"].tolist() == [3] * 7 + [4] * 7 + [5] * 7
    first = bands[bands["replication"] == 3]
    assert first["band"].astype(str).tolist() == ["micro", "small", "medium"] * 2 + ["all"]
    assert first["scheme"].astype(str).tolist() == ["manufacturing_plus"] * 3 + ["nifs"] * 3 + [
        "it_accelerator"
    ]
    assert got.grants["cap_hkd"].to_pylist() == [250_000.0, 15_000_000.0, 3_000_000.0] * 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_engines_count_the_same_on_the_same_applicants(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 50
    table = applicants(
        np.sort(rng.uniform(0, 80, n)).tolist(),
        decide=rng.uniform(0, 1, n).tolist(),
        grant=rng.uniform(10.0, 100.0, n).round(0).tolist(),
        band=rng.integers(0, 2, n).tolist(),
    )
    case = terms(budget_hkd=2_000.0, completion_factor=np.array([[1.0, 1.0]]))
    cap, offsets = np.array([100.0]), np.array([0, 2])
    counts = [band_counts(sim.simulate_applicants(table, case), cap, offsets) for sim in (des, batch)]
    for key in BandCounts.__dataclass_fields__:
        assert np.array_equal(getattr(counts[0], key), getattr(counts[1], key)), key
    assert counts[0].applications.sum() == n


def test_flat_and_padded_records_give_identical_counts() -> None:
    reps = np.arange(20)
    draws = draw_parameters(SMALL.scenario, SEED, reps)
    rec = get_engine("batch").simulate(SMALL.scenario, SEED, reps, draws)["manufacturing_plus"]
    assert flat_records(rec)[0][0] is not None  # the batch engine hands records over flat
    cap = scheme_parameters(draws, "manufacturing_plus").max_grant_hkd
    offsets = np.array([0, 3])
    flat, padded = band_counts(rec, cap, offsets), band_counts(_padded(rec), cap, offsets)
    for key in BandCounts.__dataclass_fields__:
        assert np.array_equal(getattr(flat, key), getattr(padded, key)), key


def test_awards_at_cap_of_a_segment_counts_only_that_segment() -> None:
    rec = _records(band=[[0, 0, 0]], status=[[A, A, A]], grant=[[100.0, 100.0, 50.0]])
    rec.segment[0, 1] = 1  # the second award is another segment's
    ((_, flat),) = flat_records(rec)
    cap = np.array([100.0])
    assert awards_at_cap(flat, cap).tolist() == [2.0]
    assert awards_at_cap(flat, cap, segment=0).tolist() == [1.0]
    assert awards_at_cap(flat, cap, segment=1).tolist() == [1.0]
    assert band_counts(rec, cap, np.array([0, 1, 2])).awards_at_cap.tolist() == [2]
