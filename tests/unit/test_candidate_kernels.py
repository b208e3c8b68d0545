"""The batch engine's compiled candidate arithmetic gives numpy's numbers to the bit, and the choice
among schemes made only where several fit is the choice made for every project."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines import candidate_kernels as ck
from sim.engines import choice, rules
from sim.engines.uptake import Timing, application_time, has_bursts

pytestmark = pytest.mark.fast


def _block(rng: np.random.Generator, reps: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count = rng.integers(0, 30, reps)
    first = np.cumsum(count) - count
    cost = rng.lognormal(np.log(600_000), 0.9, int(count.sum()))
    cost[::17] = 0.0  # a zero cost takes the other branch of the subsidy rate
    return cost, first, count


@pytest.mark.parametrize("elasticity", [1.0, 0.7, 1.6])
def test_offers_and_chances_are_the_rules_numbers(elasticity: float) -> None:
    rng = np.random.default_rng(3)
    cost, first, count = _block(rng)
    terms = np.empty((len(ck.OfferRow), len(count)))
    terms[ck.OfferRow.CAP] = rng.choice([250_000.0, 400_000.0], len(count))
    terms[ck.OfferRow.RATIO] = rng.choice([1.0, 2.0], len(count))
    terms[ck.OfferRow.REFERENCE] = 1 / 3
    terms[ck.OfferRow.PROPENSITY] = rng.uniform(0.02, 0.4, len(count))
    grant, chance = np.empty(cost.size), np.empty(cost.size)
    ck.offers(cost, first, count, terms, grant, chance)
    if elasticity != 1.0:
        chance = chance**elasticity
    ck.chances(first, count, terms, chance)
    each = {row: np.repeat(terms[row], count) for row in ck.OfferRow}
    cap, ratio = each[ck.OfferRow.CAP], each[ck.OfferRow.RATIO]
    rate = rules.subsidy_rate(cost, cap, ratio)
    expected = rules.would_apply_probability(each[ck.OfferRow.PROPENSITY], rate, 1 / 3, elasticity)
    assert np.array_equal(grant, rules.grant(cost, cap, ratio))
    assert np.array_equal(chance, expected)


def test_offers_at_unit_elasticity_are_offers_then_chances_to_the_bit() -> None:
    """The one-pass kernel (on vectors) against the two passes, where caps bind, costs are zero and
    chances are clipped at 0 and 1."""
    rng = np.random.default_rng(5)
    cost, first, count = _block(rng, reps=200)
    terms = np.empty((len(ck.OfferRow), len(count)))
    terms[ck.OfferRow.CAP] = rng.choice([0.0, 250_000.0, 400_000.0, np.inf], len(count))
    terms[ck.OfferRow.RATIO] = rng.choice([0.0, 1.0, 2.0], len(count))
    terms[ck.OfferRow.REFERENCE] = rng.choice([1 / 3, 0.5], len(count))
    terms[ck.OfferRow.PROPENSITY] = rng.choice([-0.1, 0.0, 0.2, 0.9, 3.0], len(count))
    want_grant, want_chance = np.empty(cost.size), np.empty(cost.size)
    ck.offers(cost, first, count, terms, want_grant, want_chance)
    ck.chances(first, count, terms, want_chance)
    grant, chance = np.full(cost.size, np.nan), np.full(cost.size, np.nan)
    ck.offers_at_unit_elasticity(cost, first, count, terms, grant, chance)
    assert np.array_equal(grant.view(np.int64), want_grant.view(np.int64))
    assert np.array_equal(chance.view(np.int64), want_chance.view(np.int64))
    assert (chance == 1.0).any()  # clipped at 1
    assert (chance == 0.0).any()  # clipped at 0


def test_band_kernels_are_numpys_numbers() -> None:
    rng = np.random.default_rng(4)
    u, z = rng.random(5000), rng.standard_normal(5000)
    edges = np.cumsum([0.8, 0.17, 0.03])[:-1]
    band = np.empty(u.size, dtype=np.int64)
    ck.bands_of(u, edges, band)
    expected = np.zeros(u.size, dtype=np.int64)
    for edge in edges:
        expected += u >= edge
    assert np.array_equal(band, expected)
    sigma = np.array([0.65, 0.5, 0.4])
    scaled = z.copy()
    ck.scale_by_band(scaled, band, sigma)
    assert np.array_equal(scaled, z * sigma[band])


def test_choosing_where_several_fit_is_choosing_for_all() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    cost = rng.lognormal(np.log(1_000_000), 1.0, n)
    bounds = [(0.0, np.inf), (3_000_000.0, np.inf), (500_000.0, 2_000_000.0)]
    grants = [np.minimum(cap, cost / 3) for cap in (250_000.0, 15_000_000.0, 600_000.0)]
    weeks = [rng.uniform(0, 150, n) for _ in bounds]

    def options(where: np.ndarray) -> list[choice.Option]:
        return [
            choice.Option(g[where], w[where], low, high, 104.0)
            for g, w, (low, high) in zip(grants, weeks, bounds, strict=True)
        ]

    first, several = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    found = ck.fitting(cost, *(np.array([b[k] for b in bounds]) for k in (0, 1)), first, several)
    fits = np.array([(cost >= low) & (cost <= high) for low, high in bounds])
    assert np.array_equal(several[:found], np.flatnonzero(fits.sum(axis=0) > 1))
    assert np.array_equal(first, np.where(fits.any(axis=0), fits.argmax(axis=0), choice.NONE))
    got = choice.choose_fitting(cost, bounds, options)
    assert np.array_equal(got, choice.choose(cost, options(np.arange(n))))
    assert {0, 1, 2} <= set(got.tolist())  # each option chosen somewhere: the check can fail
    none_fit = choice.choose_fitting(cost, bounds[1:2], lambda where: options(where)[1:2])
    assert np.array_equal(none_fit, np.where(cost >= 3_000_000.0, 0, choice.NONE))


@pytest.mark.parametrize("launch", [0.0, 0.15])
def test_times_of_some_firms_are_their_times_among_all(launch: float) -> None:
    rng = np.random.default_rng(6)
    n = 3000
    u = np.sort(rng.random(n))
    shares = np.where(rng.random(n) < 0.5, launch, 0.0)  # per firm: some with a burst, some without
    timing = Timing(bass_p=0.005, bass_q=0.05, length=104.0, launch_share=shares, launch_weeks=6.0)
    every = application_time(u, timing)
    where = np.flatnonzero(rng.random(n) < 0.1)
    some = application_time(u[where], timing.take(where), has_bursts(timing))
    assert np.array_equal(some, every[where])


def test_a_scheme_taking_some_candidates_computes_times_the_way_all_of_them_need(baseline) -> None:
    """The batch engine's burst flag for a segment's candidates is ``has_bursts`` of their whole
    timing, with launch shares the same in every replication, or varying (zero in some)."""
    import dataclasses

    from sim.engines import batch
    from sim.engines.parameters import draw_parameters, scheme_parameters
    from sim.engines.uptake import scheme_timing

    drawn = scheme_parameters(draw_parameters(baseline.scenario, 1, np.arange(8)), "manufacturing_plus")
    rng = np.random.default_rng(7)
    for launch in ([0.0] * 8, [0.15] * 8, [0, 0, 0.2, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0.1]):
        par = dataclasses.replace(drawn, launch_share=np.array(launch, dtype=float))
        for counts in (
            np.zeros(8, dtype=np.int64),
            rng.integers(0, 3, 8),
            np.array([5, 5, 0, 5, 5, 5, 5, 0]),
        ):
            each = lambda x, counts=counts: x[0] if (x == x[0]).all() else np.repeat(x, counts)  # noqa: E731
            expected = has_bursts(scheme_timing(par, 104.0, each))
            assert batch._has_bursts(par, counts) == expected


def test_kept_candidates_are_numpys_fits_replication_by_replication() -> None:
    """The candidates a later scheme may fund: numpy's indices of costs within any bounds, and their
    count per replication."""
    rng = np.random.default_rng(6)
    cost, first, count = _block(rng, reps=300)
    cost[::23] = np.nan  # fits no bounds
    for bounds in ([(3e6, np.inf)], [(0.0, 2e5), (1e6, 3e6)], [(5e5, 5e5)]):
        low, high = (np.array([b[k] for b in bounds]) for k in (0, 1))
        fits = np.zeros(cost.size, dtype=bool)
        for lo, hi in bounds:
            fits |= (cost >= lo) & (cost <= hi)
        want = np.flatnonzero(fits)
        counts, room = np.empty(count.size, dtype=np.int64), np.full(cost.size, -1, dtype=np.int64)
        where = room[: ck.kept_candidates(cost, low, high, first, count, counts, room)]
        np.testing.assert_array_equal(where, want)
        np.testing.assert_array_equal(counts, np.diff(np.searchsorted(want, first + count), prepend=0))


def test_keeping_the_chosen_is_multiplying_by_the_choice() -> None:
    rng = np.random.default_rng(7)
    chance = rng.choice([0.0, 0.3, 1.0, np.inf, -0.0], 1000)
    chosen = rng.integers(-1, 3, 1000)
    with np.errstate(invalid="ignore"):  # infinity times 0: NaN, as the kernel makes it
        want = chance * (chosen == 1)
    ck.keep_chosen(chance, chosen, 1)
    assert np.array_equal(chance.view(np.int64), want.view(np.int64))
