"""Common random numbers: same seed, same numbers; one change moves only what it touches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.engines.records import Status
from sim.engines.registry import simulate_records
from sim.experiments.replicate import engine_names, replicate
from sim.spec.loader import load_scenario, merge, scenario_from_dict
from tests.conftest import DATA

REPS = np.arange(6)


@pytest.mark.parametrize("engine", engine_names())
def test_a_scenario_compared_with_itself_differs_by_exactly_zero(small, engine) -> None:
    a = replicate(small.scenario, 99, REPS, engine).table
    b = replicate(small.scenario, 99, REPS, engine).table
    metrics = a.select_dtypes("number").columns
    diff = b[metrics].to_numpy() - a[metrics].to_numpy()
    assert np.all((diff == 0) | (np.isnan(a[metrics].to_numpy()) & np.isnan(b[metrics].to_numpy())))


def test_formatting_does_not_change_the_scenario_hash(tmp_path) -> None:
    text = (DATA / "small.toml").read_text()
    reformatted = "# a new comment\n\n" + text.replace(" = ", "=")
    (tmp_path / "small.toml").write_text(
        reformatted.replace("../../scenarios/", str(DATA.parents[1] / "scenarios") + "/")
    )
    assert load_scenario(tmp_path / "small.toml").hash == load_scenario(DATA / "small.toml").hash


def _variant(small, **change) -> object:
    return scenario_from_dict(merge(small.source, change))


def _applications(rec) -> np.ndarray:
    """Per replication, the records' first applications (the slots before the re-applications)."""
    return (np.asarray(rec.status) != Status.PADDING).sum(axis=1) - np.asarray(rec.reapplied).sum(axis=1)


@pytest.mark.parametrize("engine", engine_names())
def test_vetting_capacity_leaves_population_and_uptake_untouched(small, engine) -> None:
    """Changing a vetting parameter keeps every firm's population and uptake draws."""
    more = _variant(small, schemes={"manufacturing_plus": {"vetting": {"capacity": 9}}})
    a = simulate_records(small.scenario, 3, REPS, engine)["manufacturing_plus"]
    b = simulate_records(more, 3, REPS, engine)["manufacturing_plus"]
    np.testing.assert_array_equal(a.eligible, b.eligible)
    np.testing.assert_array_equal(a.would_be, b.would_be)
    # the applications keep their slots; re-applications (R-REAPPLY) follow them and move with the
    # reviews' timing
    first = _applications(a)
    np.testing.assert_array_equal(first, _applications(b))
    mask = np.arange(a.arrival.shape[1]) < first[:, None]
    width = min(a.arrival.shape[1], b.arrival.shape[1])
    mask = mask[:, :width]
    np.testing.assert_array_equal(a.arrival[:, :width][mask], b.arrival[:, :width][mask])
    np.testing.assert_array_equal(a.cost[:, :width][mask], b.cost[:, :width][mask])
    assert not np.array_equal(np.nan_to_num(a.review_start), np.nan_to_num(b.review_start))


@pytest.mark.parametrize("engine", engine_names())
def test_one_scheme_change_leaves_the_other_scheme_identical(small, engine) -> None:
    cheaper = _variant(small, schemes={"manufacturing_plus": {"max_grant_hkd": 100_000}})
    a = replicate(small.scenario, 5, REPS, engine).table
    b = replicate(cheaper, 5, REPS, engine).table
    other_a = a[a["scheme"] == "it_accelerator"].reset_index(drop=True)
    other_b = b[b["scheme"] == "it_accelerator"].reset_index(drop=True)
    pd.testing.assert_frame_equal(other_a, other_b, check_exact=True)
    changed = a[a["scheme"] == "manufacturing_plus"]["committed_hkd"].to_numpy()
    assert not np.array_equal(changed, b[b["scheme"] == "manufacturing_plus"]["committed_hkd"].to_numpy())


@pytest.mark.parametrize("engine", engine_names())
def test_replication_numbers_do_not_depend_on_the_chunk(small, engine) -> None:
    whole = replicate(small.scenario, 8, np.arange(6), engine).table
    parts = pd.concat(
        [
            replicate(small.scenario, 8, np.arange(0, 2), engine).table,
            replicate(small.scenario, 8, np.arange(2, 6), engine).table,
        ]
    )
    key = ["scheme", "segment", "replication"]
    pd.testing.assert_frame_equal(
        whole.sort_values(key).reset_index(drop=True),
        parts.sort_values(key).reset_index(drop=True),
        check_exact=True,
    )


@pytest.mark.parametrize("engine", engine_names())
def test_assessors_from_a_week_keep_the_history_before_it_and_shorten_the_waits(small, engine) -> None:
    """R-CHANGE, more assessors from week 30 on common random numbers: every first application's
    review started and decision made before week 30 is as without them (what lets a nowcast take
    such a variant), and after it reviews start earlier and the mean wait to decision falls.
    (A review may in principle start later: a re-application rejected earlier comes back earlier and
    may queue ahead of it; MODEL.md R-CHANGE. Here none does.)"""
    week = 30.0
    more = _variant(small, schemes={"manufacturing_plus": {"changes": [{"week": week, "assessors": 4}]}})
    reps = np.arange(12)
    a = simulate_records(small.scenario, 3, reps, engine)["manufacturing_plus"]
    b = simulate_records(more, 3, reps, engine)["manufacturing_plus"]
    first = _applications(a)
    np.testing.assert_array_equal(first, _applications(b))
    width = min(a.arrival.shape[1], b.arrival.shape[1])
    mine = np.arange(width) < first[:, None]
    start_a, start_b = a.review_start[:, :width], b.review_start[:, :width]
    decided_a, decided_b = a.decision[:, :width], b.decision[:, :width]
    before = mine & (np.nan_to_num(start_a, nan=np.inf) < week)
    np.testing.assert_array_equal(start_a[before], start_b[before])
    early = mine & (np.nan_to_num(decided_a, nan=np.inf) < week)
    np.testing.assert_array_equal(decided_a[early], decided_b[early])
    both = mine & np.isfinite(start_a) & np.isfinite(start_b)
    earlier, later = (start_b[both] < start_a[both]).sum(), (start_b[both] > start_a[both]).sum()
    assert earlier > 20 * max(later, 1), (earlier, later)
    arrival = a.arrival[:, :width]
    wait_a, wait_b = np.nanmean((decided_a - arrival)[mine]), np.nanmean((decided_b - arrival)[mine])
    assert wait_b < 0.9 * wait_a, (wait_a, wait_b)
