"""The batch engine's parts: the queue recursion, streams per block, records, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.engines import batch, parameters
from sim.engines.parameters import ParameterDraws, UnknownParameter, draw_parameters, scheme_parameters
from sim.engines.records import FlatGroupedRecords, Status
from sim.engines.registry import get_engine, simulate_records
from sim.experiments.replicate import replicate
from sim.rng import tag
from sim.spec import scenario as schema
from sim.spec.loader import load_scenario, merge, scenario_from_dict
from tests.conftest import SCENARIOS
from tests.statistical.helpers import fcfs_starts as textbook_starts


def _ragged(rng: np.random.Generator, reps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count = rng.integers(0, 60, reps)
    arrival = np.concatenate([np.sort(rng.uniform(0, 50, n)) for n in count])
    service = rng.lognormal(1.5, 0.6, count.sum())
    return arrival, service, count


@pytest.mark.parametrize("servers", [1, 3, 10, 100])
def test_queue_recursion_matches_the_textbook_one(servers) -> None:
    rng = np.random.default_rng(servers)
    arrival, service, count = _ragged(rng, 40)
    per_rep = rng.integers(1, servers + 1, len(count)) if servers > 1 else np.ones(len(count), int)
    start = batch.fcfs_starts(arrival, service, count, per_rep)
    first = np.cumsum(count) - count
    for r, (a, n) in enumerate(zip(first, count, strict=True)):
        want = textbook_starts(arrival[a : a + n], service[a : a + n], int(per_rep[r]))
        np.testing.assert_allclose(start[a : a + n], want, rtol=0, atol=1e-12)


def test_queue_gives_the_textbook_starts_to_the_bit() -> None:
    """Every number of servers from 1 to 70 (heaps of every depth, full or not), with ties in the
    arrivals and service times (whole weeks): the starts are the textbook recursion's, exactly."""
    rng = np.random.default_rng(2026)
    for servers in range(1, 71):
        count = rng.integers(0, 200, 6)
        arrival = np.concatenate([np.sort(rng.integers(0, 60, n)).astype(float) for n in count])
        service = rng.integers(1, 30, count.sum()).astype(float) + rng.choice([0.0, 0.1], count.sum())
        start = batch.fcfs_starts(arrival, service, count, servers)
        for a, n in zip(np.cumsum(count) - count, count, strict=True):
            assert (
                start[a : a + n].tolist()
                == textbook_starts(arrival[a : a + n], service[a : a + n], servers).tolist()
            )


def test_records_hold_applications_in_order_of_arrival(small) -> None:
    """Applications in order of arrival, then re-applications (R-REAPPLY) in order of arrival."""
    records = batch.simulate_batch(small.scenario, 5, np.arange(300))
    assert sum(int(rec.reapplied.sum()) for rec in records.values()) > 0
    for rec in records.values():
        used = rec.status != Status.PADDING
        assert ((rec.segment >= 0) == used).all()
        assert np.isnan(rec.arrival[~used]).all()
        assert (np.diff(used.astype(int), axis=1) <= 0).all()  # applications first, then padding
        first = used.sum(axis=1) - rec.reapplied.sum(axis=1)  # where the re-applications start
        slot = np.arange(used.shape[1])
        arrival = np.where(used, rec.arrival, 0.0)
        same_block = (slot[1:] < first[:, None]) | (slot[:-1] >= first[:, None])  # not across the seam
        assert (np.diff(arrival, axis=1)[used[:, 1:] & same_block] >= 0).all()
        waits = rec.decision - rec.arrival
        assert (waits[np.isfinite(waits)] >= 0).all()
        assert (rec.review_start[np.isfinite(rec.review_start)] <= small.scenario.horizon_weeks).all()


def test_numbers_do_not_depend_on_chunks_or_their_order(small) -> None:
    key = ["scheme", "segment", "replication"]
    whole = replicate(small.scenario, 11, np.arange(600), "batch").table
    pieces = [np.arange(0, 37), np.arange(300, 600)[::-1], np.arange(37, 300)]
    parts = pd.concat([replicate(small.scenario, 11, p, "batch").table for p in pieces])
    pd.testing.assert_frame_equal(
        whole.sort_values(key).reset_index(drop=True),
        parts.sort_values(key).reset_index(drop=True),
        check_exact=True,
    )


def test_a_replication_keeps_its_candidates_when_vetting_changes(small) -> None:
    """Common random numbers: stages other than vetting draw exactly the same per firm."""
    more = scenario_from_dict(
        merge(small.source, {"schemes": {"manufacturing_plus": {"vetting": {"capacity": 9}}}})
    )
    a = simulate_records(small.scenario, 3, np.arange(256), "batch")["manufacturing_plus"]
    b = simulate_records(more, 3, np.arange(256), "batch")["manufacturing_plus"]
    # the applications (re-applications, R-REAPPLY, follow them and depend on the reviews' timing)
    first = (a.status != Status.PADDING).sum(axis=1) - a.reapplied.sum(axis=1)
    np.testing.assert_array_equal(first, (b.status != Status.PADDING).sum(axis=1) - b.reapplied.sum(axis=1))
    mask = np.arange(a.arrival.shape[1]) < first[:, None]
    for field in ("arrival", "cost", "value_added", "gain", "readiness"):
        np.testing.assert_array_equal(getattr(a, field)[mask], getattr(b, field)[mask])
    assert not np.array_equal(np.nan_to_num(a.review_start), np.nan_to_num(b.review_start))


def test_a_field_the_engine_does_not_know_is_refused(small, monkeypatch, cli) -> None:
    implemented = dict(batch._IMPLEMENTED)
    from sim.spec import scenario as schema

    implemented[schema.Scheme] = implemented[schema.Scheme] - {"admin_cost_per_application_hkd"}
    monkeypatch.setattr(batch, "_IMPLEMENTED", implemented)
    with pytest.raises(batch.UnsupportedScenario, match="admin_cost_per_application_hkd"):
        batch.simulate_batch(small.scenario, 1, [0])
    result = cli("run", SCENARIOS / "baseline.toml", "-n", "2", "--engine", "batch")
    assert result.exit_code == 2
    assert "admin_cost_per_application_hkd" in result.stderr
    assert "--engine des" in result.stderr


def test_an_unknown_allocation_rule_is_refused(small) -> None:
    scheme = small.scenario.schemes["manufacturing_plus"]
    raffle = scheme.model_copy(update={"allocation": scheme.allocation.model_copy(update={"rule": "raffle"})})
    scenario = small.scenario.model_copy(
        update={"schemes": {**small.scenario.schemes, "manufacturing_plus": raffle}}
    )
    with pytest.raises(batch.UnsupportedScenario, match="raffle"):
        batch.check_supported(scenario)


def test_draw_counts_are_the_values_the_engine_draws(baseline, small, monkeypatch) -> None:
    """``draw_counts`` (behind the bench's random-number floor) counts exactly what the engine draws.

    The committee-rounds scenario draws readiness too (its allocation rule ranks files by it), the
    lottery scenario a ticket instead.
    """
    make = batch._Draws._make
    rounds = load_scenario(SCENARIOS / "committee-rounds.toml")
    lottery = load_scenario(SCENARIOS / "lottery.toml")
    for loaded in (baseline, small, rounds, lottery):
        tally: dict[str, int] = {}

        def counted(self, kind, stage, quantity, out, maker=None, tally=tally):
            tally[kind] = tally.get(kind, 0) + out.size
            return make(self, kind, stage, quantity, out, maker)

        monkeypatch.setattr(batch._Draws, "_make", counted)
        batch.simulate_batch(loaded.scenario, 1, np.arange(512))
        monkeypatch.setattr(batch._Draws, "_make", make)
        counts = batch.draw_counts(loaded.scenario, 1, np.arange(512))
        assert {kind: counts[kind] for kind in tally} == tally
        assert counts["needed"] == sum(tally.values())


def test_only_the_rule_that_ranks_by_it_draws_readiness_or_a_ticket(baseline, monkeypatch) -> None:
    """First come draws neither, rounds readiness only, a lottery its ticket only: the other rules'
    draws (and so their results) do not move when the lottery is added."""
    make = batch._Draws._make
    drawn: dict[str, set[tuple[str, str]]] = {}
    for path in ("baseline", "committee-rounds", "lottery"):
        names: set[tuple[str, str]] = set()

        def named(self, kind, stage, quantity, out, maker=None, names=names):
            names.add((self.stage[stage].spawn_key[2], stage, quantity))  # by segment
            return make(self, kind, stage, quantity, out, maker)

        monkeypatch.setattr(batch._Draws, "_make", named)
        batch.simulate_batch(load_scenario(SCENARIOS / f"{path}.toml").scenario, 1, np.arange(512))
        monkeypatch.setattr(batch._Draws, "_make", make)
        drawn[path] = names
    # the variants change Manufacturing+ (the I&T Accelerator draws its own ticket at its call's close)
    sme = tag("manufacturing_sme")
    assert drawn["committee-rounds"] - drawn["baseline"] == {(sme, "population", "readiness")}
    # a lottery ranks re-applications (R-REAPPLY) by a ticket of their own too
    assert drawn["lottery"] - drawn["baseline"] == {
        (sme, "approval", "ticket"),
        (sme, "reapplication", "ticket"),
    }
    assert drawn["baseline"] <= drawn["lottery"]


@pytest.mark.parametrize("engine", ["batch", "des"])
def test_a_renamed_schema_field_fails_when_parameters_are_built(small, engine) -> None:
    """The typed parameters name their schema paths; a field renamed in the schema is refused by name.

    Renaming ``vetting.capacity`` is simulated by removing it from the schema's fields; the
    lookups of schema paths and the parameter specs kept from earlier builds are forgotten, as in a
    fresh process.
    """
    fields = schema.Vetting.model_fields
    kept = dict(fields)  # restored in its order: other tests read the schema's fields in order
    del fields["capacity"]
    parameters._in_schema.cache_clear()
    parameters._RECENT.clear()  # the parameter specs of the last scenario drawn for, kept too
    reps = np.arange(2)
    try:
        with pytest.raises(
            UnknownParameter, match=r"vetting\.capacity' is not a field of the scenario schema"
        ):
            get_engine(engine).simulate(small.scenario, 1, reps, draw_parameters(small.scenario, 1, reps))
    finally:
        fields.clear()
        fields.update(kept)
        parameters._in_schema.cache_clear()
        parameters._RECENT.clear()


@pytest.mark.parametrize("engine", ["batch", "des"])
def test_draws_missing_a_parameter_fail_when_parameters_are_built(small, engine) -> None:
    reps = np.arange(2)
    draws = draw_parameters(small.scenario, 1, reps)
    path = "schemes.manufacturing_plus.vetting.approval_probability"
    values = {p: draws[p] for p in draws.paths() if p != path}
    with pytest.raises(UnknownParameter, match=r"approval_probability' was not drawn"):
        get_engine(engine).simulate(small.scenario, 1, reps, ParameterDraws(values, draws.reps))


def test_typed_parameters_hold_the_draws_of_their_schema_paths(small) -> None:
    reps = np.arange(5)
    draws = draw_parameters(small.scenario, 3, reps)
    for name in small.scenario.schemes:
        par = scheme_parameters(draws, name)
        np.testing.assert_array_equal(par.budget_hkd, draws.scheme(name, "budget_hkd"))
        np.testing.assert_array_equal(par.capacity, draws.scheme(name, "vetting.capacity"))
        np.testing.assert_array_equal(
            par.take(np.array([3, 1])).bass_q, draws.scheme(name, "uptake.bass_q")[[3, 1]]
        )


def test_a_shared_segment_drawn_once_gives_the_numbers_drawn_for_each_scheme(baseline, monkeypatch) -> None:
    """NIFS takes its Manufacturing SMEs (those whose cost it funds) and their draws from
    Manufacturing+'s instead of drawing the segment's streams again: the same records, to the bit, as
    each scheme drawing the whole segment itself (over two blocks, one of them in part)."""
    reps = np.arange(300, 1024)
    taken = batch.simulate_batch(baseline.scenario, 5, reps)
    assert batch._kept_for(baseline.scenario, "manufacturing_sme") == ["nifs"]
    monkeypatch.setattr(batch, "_kept_for", lambda scenario, seg: [])
    drawn = batch.simulate_batch(baseline.scenario, 5, reps)
    for name in baseline.scenario.schemes:
        assert taken[name].status.shape == drawn[name].status.shape
        for field in ("status", "arrival", "cost", "grant", "review_start", "decision", "gain", "would_be"):
            assert np.array_equal(getattr(taken[name], field), getattr(drawn[name], field), equal_nan=True)
    assert (taken["nifs"].status != Status.PADDING).sum() > 100  # NIFS has applications to compare


def test_the_kept_answer_on_what_is_unsupported_is_the_scenarios_own(small) -> None:
    """The engine keeps its answer for the last scenario it checked: asked again it gives the same
    answer, a changed copy of the scenario gets its own, and the answer handed out is a copy."""
    scheme = small.scenario.schemes["manufacturing_plus"]
    raffle = scheme.model_copy(update={"allocation": scheme.allocation.model_copy(update={"rule": "raffle"})})
    other = small.scenario.model_copy(
        update={"schemes": {**small.scenario.schemes, "manufacturing_plus": raffle}}
    )
    first = batch.unsupported(small.scenario)
    first.append("changed by the caller")
    assert batch.unsupported(small.scenario) == []
    assert batch.unsupported(other) == ["schemes.manufacturing_plus.allocation.rule = 'raffle'"]
    assert batch.unsupported(small.scenario) == []


@pytest.mark.parametrize("reps", [np.arange(512), np.arange(300, 900), np.array([5, 700, 3])])
def test_each_group_numbers_its_replications_rows(small, reps) -> None:
    """A group's ``rep`` is each application's replication within the group (one block in order:
    the chunk's own rows), whatever the chunk's blocks and order."""
    for records in batch.simulate_batch(small.scenario, 1, reps).values():
        assert isinstance(records, FlatGroupedRecords)
        for where, flat in records.groups:
            assert where is not None
            count = np.bincount(flat.rep, minlength=len(where))
            assert np.array_equal(flat.rep, np.repeat(np.arange(len(where)), count[: len(where)]))
            assert np.array_equal(flat.slot, np.concatenate([np.arange(c) for c in count] + [np.arange(0)]))
