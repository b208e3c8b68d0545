"""The numpy batch engine: many replications at once, equal in distribution to the SimPy engine.

Every rule of MODEL.md that :mod:`sim.engines.des` implements is computed here
on flat arrays holding the firms of many replications, one replication after
another, so one numpy call serves a whole chunk of replications:

1. **Population and uptake.** Only firms that may apply are drawn. Per
   segment and replication the eligible count is Binomial(count, eligible
   share) and the *candidates* Binomial(eligible, a_max), where ``a_max`` is the
   largest chance to apply any firm can have (its subsidy rate is at most
   ``1 / (1 + matching)``). A candidate gets its size band, readiness, project
   cost and value added, and is a would-be applicant with probability
   ``a_i / a_max``: an exact thinning of MODEL.md 3. Its application time is
   the closed-form Bass inverse of its own uniform; would-be applicants whose
   time falls after the window never apply.
2. **Vetting.** First-come-first-served with ``c`` reviewers is a recursion
   over arrivals; it runs once per rank of arrival, vectorised across
   replications (each keeps its reviewers' free times; the next file takes the
   one that frees first).
3. **Allocation.** Approved files are ordered by (decision time, rank); the
   funded ones are the longest prefix whose cumulative grants fit the budget
   and whose count fits the places (prefix sums). The first approved file past
   that prefix sets the exhaustion time; files arriving later are turned away
   when the scheme closes on exhaustion. Because the queue is
   first-come-first-served, later arrivals never change earlier outcomes, so
   this equals the event-by-event rule of the SimPy engine.
4. **Upgrade and impact.** Upgrades start at award, or in award order on a
   finite pool of integrators (the same recursion as vetting).

Random numbers come from :func:`sim.rng.block_stream`: one stream per stage,
segment and block of :data:`BLOCK` replications, with one named child per
quantity, laid out by :class:`_Layout` so that a replication's draws depend
only on the seed, its index and the counts of its block: not on the chunk or
the worker that computes it. Two scenarios run with the same seed share their
draws stage by stage (common random numbers); where their candidate counts
agree, every firm keeps every draw.

Records come back as :class:`~sim.engines.records.FlatGroupedRecords`: the
applications of all replications as flat arrays, which the metrics read with
no padding (padded arrays are made only if a field is read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from pydantic import BaseModel

from sim.engines import rules
from sim.engines.parameters import ParameterDraws, draw_parameters
from sim.engines.records import METRIC_FIELDS, FlatGroupedRecords, FlatRecords, SchemeRecords, Status
from sim.rng import STAGES, block_stream, tag
from sim.spec import distributions as dists
from sim.spec import scenario as schema
from sim.spec.scenario import Scenario

__all__ = [
    "BLOCK",
    "NAME",
    "UnsupportedScenario",
    "check_supported",
    "simulate_batch",
    "fcfs_starts",
    "bytes_per_replication",
    "draw_counts",
]

NAME = "batch"

#: Replications per block of random numbers (fixed: changing it changes results).
BLOCK = 256

# Outcome of review, decided at review end from one uniform per file.
_WITHDRAWN, _REJECTED, _APPROVED = 0, 1, 2


class UnsupportedScenario(ValueError):
    """A scenario that uses something the batch engine does not implement."""


# ---------------------------------------------------------------- what is implemented

#: Scenario fields the batch engine implements, per schema class. A field not
#: listed here (added to the schema later) must keep its default, or the
#: scenario is refused rather than silently simulated without it.
_IMPLEMENTED: dict[type[BaseModel], frozenset[str]] = {
    schema.Scenario: frozenset({"name", "description", "start_date", "horizon_weeks", "segments", "schemes"}),
    schema.Segment: frozenset({"label", "count", "eligible_share", "propensity", "bands"}),
    schema.Band: frozenset({"share", "project_cost_hkd", "value_added_hkd", "completion_factor"}),
    schema.Scheme: frozenset(
        {
            "label",
            "segments",
            "budget_hkd",
            "places",
            "max_grant_hkd",
            "matching_ratio",
            "application_window_weeks",
            "close_on_exhaustion",
            "admin_cost_per_application_hkd",
            "uptake",
            "vetting",
            "allocation",
            "upgrade",
            "tranches",
            "impact",
        }
    ),
    schema.Uptake: frozenset({"reference_rate", "elasticity", "bass_p", "bass_q"}),
    schema.Vetting: frozenset({"capacity", "review_weeks", "withdraw_probability", "approval_probability"}),
    schema.Allocation: frozenset({"rule", "meeting_interval_weeks"}),
    schema.Upgrade: frozenset({"integrators", "duration_weeks", "completion_probability"}),
    schema.Tranches: frozenset({"upfront_share"}),
    schema.Impact: frozenset(
        {"no_gain_probability", "gain", "ramp_years", "deadweight", "benefit_years", "discount_rate"}
    ),
}

_RULES = frozenset({"first_come", "rounds"})

#: Firm-level distributions whose ``sample(rng, (slots, BLOCK))`` fills slot-major, one value per cell.
_SLOT_SAFE = (
    dists.Fixed,
    dists.Uniform,
    dists.Triangular,
    dists.Normal,
    dists.LogNormal,
    dists.Beta,
    dists.Gamma,
    dists.Poisson,
    dists.Empirical,
)


def check_supported(scenario: Scenario) -> None:
    """Raise :class:`UnsupportedScenario`, saying what and where, if the batch engine cannot run it."""
    problems: list[str] = []
    _check_model(scenario, "", problems)
    for name, scheme in scenario.schemes.items():
        if scheme.allocation.rule not in _RULES:
            problems.append(f"schemes.{name}.allocation.rule = '{scheme.allocation.rule}'")
    if problems:
        raise UnsupportedScenario(
            "the batch engine does not implement: " + "; ".join(problems) + " (run it with --engine des)"
        )


def _check_model(model: BaseModel, path: str, problems: list[str]) -> None:
    known = _IMPLEMENTED.get(type(model))
    if known is None:
        problems.append(f"{path.rstrip('.') or 'scenario'} ({type(model).__name__})")
        return
    for field, info in type(model).model_fields.items():
        value = getattr(model, field)
        where = f"{path}{field}"
        if field not in known:
            if value != info.get_default(call_default_factory=True):
                problems.append(where)
            continue
        if isinstance(value, BaseModel):
            _check_model(value, where + ".", problems)
        elif isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(sub, BaseModel):
                    _check_model(sub, f"{where}.{key}.", problems)
        elif isinstance(value, dists.Distribution) and not isinstance(value, _SLOT_SAFE):
            problems.append(f"{where} (distribution '{value.name}')")


# ---------------------------------------------------------------- random streams


class _Stage:
    """The named children of one stage's block stream: one generator per quantity."""

    def __init__(self, seed: int, stage: str, key: str, block: int):
        self._seq = block_stream(seed, stage, key, block).bit_generator.seed_seq

    def __call__(self, quantity: str) -> np.random.Generator:
        seq = np.random.SeedSequence(self._seq.entropy, spawn_key=(*self._seq.spawn_key, tag(quantity)))
        return np.random.Generator(np.random.PCG64(seq))


class _Layout:
    """Where each candidate's draws sit in a block's streams.

    Replication ``r`` of a block has ``counts[r]`` candidate slots. Slots below
    ``head`` are drawn slot-major, as an array (head x BLOCK): slot ``k`` of
    replication ``r`` is cell ``[k, r]`` whatever the other replications need.
    Slots from ``head`` on are drawn from a second stream, replication after
    replication. ``head`` is a low quantile of the block's counts, so little is
    drawn that is not used; and both parts are fixed by the whole block, so a
    chunk that needs only some replications of a block gets the same numbers
    for them.

    Candidates of the chunk's replications ``cols`` are listed head cells first
    (slot by slot, ``valid`` False for a cell past its replication's count),
    then the rest (replication by replication); ``rep[i]`` is the position in
    ``cols`` of candidate ``i``.
    """

    def __init__(self, counts: np.ndarray, cols: np.ndarray):
        self.head = int(np.quantile(counts, 0.25)) if len(counts) else 0
        self.whole = len(cols) == BLOCK and bool((cols == np.arange(BLOCK)).all())
        self._cols = cols
        need = counts[cols]
        self.rows = int(min(self.head, need.max(initial=0)))
        over = np.maximum(counts - self.head, 0)
        over_start = np.cumsum(over) - over
        tail_n = over[cols]
        tail_col = np.repeat(np.arange(len(cols)), tail_n)
        first = np.cumsum(tail_n) - tail_n
        self._tail_index = over_start[cols][tail_col] + np.arange(len(tail_col)) - first[tail_col]
        self._tail_size = int((over_start + over)[cols].max(initial=0))
        self._split = self.rows * len(cols)
        self.rep = np.concatenate([np.tile(np.arange(len(cols)), self.rows), tail_col])
        self.valid = np.concatenate(
            [(np.arange(self.rows)[:, None] < need[None, :]).reshape(-1), np.ones(len(tail_col), dtype=bool)]
        )
        self.size = len(self.rep)

    def draw(self, sample, stage: _Stage, quantity: str) -> np.ndarray:
        """``sample(rng, shape)`` for every candidate, from the streams of ``quantity``.

        For a whole block, uniforms and normals are made in place (the same
        numbers, filled in the same order), which spares a copy of each.
        """
        out = np.empty(self.size)
        fill = _FILL.get(sample)
        if self.whole and fill is not None:
            fill(stage(quantity), out[: self._split].reshape(self.rows, BLOCK))
            fill(stage(quantity + ":rest"), out[self._split :])
            return out
        head = sample(stage(quantity), (self.rows, BLOCK))
        out[: self._split] = (head if self.whole else head[:, self._cols]).reshape(-1)
        tail = sample(stage(quantity + ":rest"), (self._tail_size,))
        out[self._split :] = tail if self.whole else tail.take(self._tail_index)
        return out

    def uniform(self, stage: _Stage, quantity: str) -> np.ndarray:
        return self.draw(_random, stage, quantity)

    def firm(self, dist: Any, stage: _Stage, quantity: str) -> np.ndarray:
        """Draws of a firm-level distribution (a number is a fixed value)."""
        if isinstance(dist, int | float):
            return np.full(self.size, float(dist))
        if isinstance(dist, dists.LogNormal):
            return dist.median * np.exp(dist.sigma * self.draw(_normal, stage, quantity))
        return self.draw(lambda rng, shape: np.asarray(dist.sample(rng, shape), dtype=float), stage, quantity)


def _random(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.random(shape)


def _normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


#: In-place versions of the samplers above: ``fill(rng, out)`` draws what ``sample(rng, out.shape)`` would.
_FILL = {
    _random: lambda rng, out: rng.random(out=out),
    _normal: lambda rng, out: rng.standard_normal(out=out),
}


def _by_band(specs: list[Any], band: np.ndarray, layout: _Layout, stage: _Stage, quantity: str) -> np.ndarray:
    """A firm-level quantity whose distribution depends on the candidate's size band.

    With one band, or lognormal bands (one standard normal per candidate,
    scaled by its band), one draw per candidate; otherwise each band's
    distribution is drawn for every candidate, which keeps its own band's.
    """
    if len(specs) == 1:
        return layout.firm(specs[0], stage, quantity)
    if all(isinstance(s, dists.LogNormal) for s in specs):
        median = np.array([s.median for s in specs])[band]
        sigma = np.array([s.sigma for s in specs])[band]
        return median * np.exp(sigma * layout.draw(_normal, stage, quantity))
    out = np.empty(layout.size)
    for b, spec in enumerate(specs):
        np.copyto(out, layout.firm(spec, stage, f"{quantity}:{b}"), where=band == b)
    return out


# ---------------------------------------------------------------- candidates and applicants

#: Per-application arrays of a scheme, with the value records give an empty slot.
_FIELDS: dict[str, Any] = {
    "segment": -1,
    "band": -1,
    "arrival": np.nan,
    "readiness": np.nan,
    "cost": np.nan,
    "grant": np.nan,
    "value_added": np.nan,
    "review": np.nan,
    "outcome": _WITHDRAWN,
    "completes": False,
    "length": np.nan,
    "gain": np.nan,
    "deadweight": False,
}


@dataclass
class _Applications:
    """Applications to one scheme, flat: replication after replication, each in order of arrival.

    Replications follow one another in the order ``order`` (positions in the
    chunk), grouped by block and by :func:`_width` of their number of
    applications; ``groups`` lists each such group as (positions, width,
    first, stop), its applications being ``first:stop`` of the flat arrays.
    """

    arrays: dict[str, np.ndarray]  # field -> (A,)
    count: np.ndarray  # (R,) applications per replication (by position in the chunk)
    order: np.ndarray  # (R,) positions in the order their applications are listed
    groups: list[tuple[np.ndarray, int, int, int]]
    eligible: np.ndarray  # (R, segments)
    would_be: np.ndarray  # (R, segments)
    picked: np.ndarray | None = None  # of one block before assembly: the candidates that apply, in order

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    @cached_property
    def first(self) -> np.ndarray:
        """Where each replication's applications start in the flat arrays (by position)."""
        first = np.empty(len(self.count), dtype=np.int64)
        n = self.count[self.order]
        first[self.order] = np.cumsum(n) - n
        return first

    @cached_property
    def rep(self) -> np.ndarray:
        """Position in the chunk of each application's replication."""
        return np.repeat(self.order, self.count[self.order])

    @cached_property
    def slot(self) -> np.ndarray:
        """Rank of each application in its replication's order of arrival."""
        n = self.count[self.order]
        return np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)


def _width(count: np.ndarray) -> np.ndarray:
    """Record width for replications with ``count`` applications: a power of two, at least 16."""
    return np.maximum(16, 2 ** np.ceil(np.log2(np.maximum(count, 1))).astype(np.int64))


def _par(draws: ParameterDraws, name: str, field: str) -> np.ndarray:
    return draws[f"schemes.{name}.{field}"]


def _candidate_counts(
    scenario: Scenario,
    name: str,
    seg_name: str,
    block_draws: ParameterDraws,
    seed: int,
    block: int,
    stage: dict[str, _Stage] | None = None,
):
    """Eligible firms and candidates of one segment in every replication of a block.

    Eligible ~ Binomial(count, eligible share); candidates ~ Binomial(eligible,
    a_max), ``a_max`` the largest chance to apply a firm can have (at the
    highest subsidy rate, ``1 / (1 + matching)``). Returns (eligible,
    candidates); with ``stage`` omitted, only the candidates.
    """
    given = stage is not None
    stage = stage or {s: _Stage(seed, s, seg_name, block) for s in ("population", "uptake")}
    par = lambda field: _par(block_draws, name, field)  # noqa: E731
    propensity = block_draws.segment(seg_name, "propensity")
    ratio, ref, elasticity = par("matching_ratio"), par("uptake.reference_rate"), par("uptake.elasticity")
    a_max = rules.would_apply_probability(propensity, 1.0 / (1.0 + ratio), ref, elasticity)
    share = block_draws.segment(seg_name, "eligible_share")
    eligible = stage["population"]("eligible").binomial(scenario.segments[seg_name].count, share)
    candidates = stage["uptake"]("candidates").binomial(eligible, a_max)
    return (eligible, candidates) if given else candidates


def _segment_candidates(
    scenario: Scenario,
    name: str,
    k: int,
    seg_name: str,
    block_draws: ParameterDraws,
    cols: np.ndarray,
    seed: int,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of one segment in one block (flat, see :class:`_Layout`).

    Returns per-candidate arrays, their replication, which of them apply, and
    the eligible and would-be counts of the replications ``cols``.
    """
    seg = scenario.segments[seg_name]
    scheme = scenario.schemes[name]
    block = int(block_draws.reps[0]) // BLOCK
    stage = {s: _Stage(seed, s, seg_name, block) for s in STAGES}
    par = lambda field: _par(block_draws, name, field)  # noqa: E731
    # counts for the whole block, so that a replication's draws never depend on the chunk
    propensity = block_draws.segment(seg_name, "propensity")
    ratio, ref, elasticity = par("matching_ratio"), par("uptake.reference_rate"), par("uptake.elasticity")
    a_max = rules.would_apply_probability(propensity, 1.0 / (1.0 + ratio), ref, elasticity)
    eligible, candidates = _candidate_counts(scenario, name, seg_name, block_draws, seed, block, stage)
    layout = _Layout(candidates, cols)
    rep = layout.rep
    each = lambda x: _per_candidate(x[cols], rep)  # noqa: E731

    bands = list(seg.bands.values())
    band = np.zeros(layout.size, dtype=np.int64)
    if len(bands) > 1:
        cum = np.cumsum([b.share for b in bands])
        u = layout.uniform(stage["population"], "band")
        band = np.minimum(np.searchsorted(cum, u, side="right"), len(bands) - 1)
    cost = _by_band([b.project_cost_hkd for b in bands], band, layout, stage["population"], "project_cost")
    cap = each(par("max_grant_hkd"))
    grant = rules.grant(cost, cap, each(ratio))
    rate = rules.subsidy_rate(cost, cap, each(ratio))
    a = rules.would_apply_probability(each(propensity), rate, each(ref), each(elasticity))
    would_be = layout.valid & (layout.uniform(stage["uptake"], "keep") * each(a_max) < a)
    arrival = rules.bass_inverse(
        layout.uniform(stage["uptake"], "arrival"), each(par("uptake.bass_p")), each(par("uptake.bass_q"))
    )
    applies = would_be & (arrival <= scenario.window(name))

    u = layout.uniform(stage["approval"], "decide")
    withdraw, approve = each(par("vetting.withdraw_probability")), each(par("vetting.approval_probability"))
    outcome = np.full(layout.size, _APPROVED, dtype=np.int8)
    outcome[u >= rules.approval_threshold(withdraw, approve)] = _REJECTED
    outcome[u < withdraw] = _WITHDRAWN

    impl, impact = stage["implementation"], stage["impact"]
    duration = layout.firm(scheme.upgrade.duration_weeks, impl, "duration")
    factor = np.array([b.completion_factor for b in bands])[band]
    prob = rules.completion_probability(each(par("upgrade.completion_probability")), factor)
    completes = layout.uniform(impl, "complete") < prob
    abandon = layout.uniform(impl, "abandon")
    no_gain = layout.uniform(impact, "no_gain") < each(par("impact.no_gain_probability"))
    gain = np.where(no_gain, 0.0, layout.firm(scheme.impact.gain, impact, "gain"))
    arrays = {
        "segment": np.full(layout.size, k, dtype=np.int16),
        "band": band.astype(np.int16),
        "arrival": arrival,
        "readiness": layout.uniform(stage["population"], "readiness"),
        "cost": cost,
        "grant": grant,
        "value_added": _by_band(
            [b.value_added_hkd for b in bands], band, layout, stage["population"], "value_added"
        ),
        "review": layout.firm(scheme.vetting.review_weeks, stage["vetting"], "review"),
        "outcome": outcome,
        "completes": completes,
        "length": np.where(completes, duration, duration * abandon),
        "gain": gain,
        "deadweight": layout.uniform(impact, "deadweight") < each(par("impact.deadweight")),
    }
    per_rep = np.bincount(rep[would_be], minlength=len(cols))
    return arrays, rep, applies, eligible[cols], per_rep


def _per_candidate(values: np.ndarray, rep: np.ndarray) -> np.ndarray:
    """A per-replication value for each candidate (one number when all replications share it)."""
    if len(values) and (values == values[0]).all():
        return values[0]
    return values.take(rep)


def _block_applications(
    scenario: Scenario, name: str, block_draws: ParameterDraws, cols: np.ndarray, seed: int
) -> _Applications:
    """One block's applications (replications ``cols`` of the block), flat, in order of arrival.

    The arrays are left as drawn, one entry per candidate; ``picked`` says which
    entries, in which order, are the applications (the chunk takes them).
    """
    parts = [
        _segment_candidates(scenario, name, k, seg_name, block_draws, cols, seed)
        for k, seg_name in enumerate(scenario.schemes[name].segments)
    ]
    if len(parts) == 1:
        arrays, rep, applies = parts[0][0], parts[0][1], parts[0][2]
    else:
        arrays = {key: np.concatenate([p[0][key] for p in parts]) for key in _FIELDS}
        rep = np.concatenate([p[1] for p in parts])
        applies = np.concatenate([p[2] for p in parts])
    applies = np.flatnonzero(applies)
    app_rep = rep[applies]
    count = np.bincount(app_rep, minlength=len(cols))
    widths = _width(count)
    # by record width, then replication, then arrival time: first replication by replication (a
    # radix sort), then each width's replications as rows of a padded array, sorted row by row
    by_rep = np.argsort(app_rep.astype(np.int16), kind="stable")
    applies, app_rep = applies[by_rep], app_rep[by_rep]
    slot = np.arange(len(applies)) - np.repeat(np.cumsum(count) - count, count)
    arrival = arrays["arrival"].take(applies)
    by_width = np.lexsort((np.arange(len(cols)), widths))
    groups, first, parts_order = [], 0, []
    for width in np.unique(widths).tolist():
        rows = np.flatnonzero(widths == width)
        n = count[rows]
        mine = np.flatnonzero(widths.take(app_rep) == width)  # this width's applications, by replication
        grid = np.full((len(rows), width), np.inf)
        grid[np.repeat(np.arange(len(rows)), n), slot[mine]] = arrival[mine]
        within = (np.cumsum(n) - n)[:, None] + np.argsort(grid, axis=1)
        parts_order.append(mine[within[np.arange(width)[None, :] < n[:, None]]])
        stop = first + int(n.sum())
        groups.append((rows, int(width), first, stop))
        first = stop
    order = applies[np.concatenate(parts_order)] if parts_order else applies
    # the arrays hold every candidate for now; ``picked`` lists the applications, in order
    return _Applications(
        arrays=arrays,
        count=count,
        order=by_width,
        groups=groups,
        eligible=np.stack([p[3] for p in parts], axis=1),
        would_be=np.stack([p[4] for p in parts], axis=1),
        picked=order,
    )


def _block_parameters(
    scenario: Scenario, seed: int, block: int, cache: dict[int, ParameterDraws]
) -> ParameterDraws:
    """Parameter draws of every replication of ``block`` (counts are drawn for whole blocks)."""
    if block not in cache:
        cache[block] = draw_parameters(scenario, seed, np.arange(block * BLOCK, (block + 1) * BLOCK))
    return cache[block]


def _applications(
    scenario: Scenario, name: str, seed: int, reps: np.ndarray, cache: dict[int, ParameterDraws]
) -> _Applications:
    """Every application to scheme ``name`` in replications ``reps`` (any order, any blocks)."""
    parts, where_all = [], []
    blocks = reps // BLOCK
    for block in dict.fromkeys(blocks.tolist()):
        where = np.flatnonzero(blocks == block)
        block_draws = _block_parameters(scenario, seed, block, cache)
        parts.append(_block_applications(scenario, name, block_draws, reps[where] % BLOCK, seed))
        where_all.append(where)
    count = np.zeros(len(reps), dtype=np.int64)
    eligible = np.zeros((len(reps), parts[0].eligible.shape[1]), dtype=np.int64)
    would_be = np.zeros_like(eligible)
    groups, offset = [], 0
    size = sum(len(p.picked) for p in parts)
    # float fields are gathered as rows of one (candidates x fields) array: one cache line per candidate
    floats = [key for key in _FIELDS if parts[0][key].dtype == np.float64]
    table = np.empty((len(floats), size))
    arrays = {key: table[j] for j, key in enumerate(floats)}
    arrays |= {key: np.empty(size, dtype=parts[0][key].dtype) for key in _FIELDS if key not in arrays}
    for where, part in zip(where_all, parts, strict=True):
        count[where], eligible[where], would_be[where] = part.count, part.eligible, part.would_be
        groups += [(where[rows], width, offset + a, offset + b) for rows, width, a, b in part.groups]
        stop = offset + len(part.picked)
        table[:, offset:stop] = np.stack([part[key] for key in floats], axis=1).take(part.picked, axis=0).T
        for key in _FIELDS:
            if key not in floats:
                np.take(part[key], part.picked, out=arrays[key][offset:stop])
        offset = stop
    arrays = {key: arrays[key] for key in _FIELDS}
    return _Applications(
        arrays=arrays,
        count=count,
        order=np.concatenate([where[p.order] for where, p in zip(where_all, parts, strict=True)]),
        groups=groups,
        eligible=eligible,
        would_be=would_be,
    )


# ---------------------------------------------------------------- queues


def fcfs_starts(
    arrival: np.ndarray,
    service: np.ndarray,
    count: np.ndarray,
    servers: np.ndarray,
    first: np.ndarray | None = None,
) -> np.ndarray:
    """Start times of first-come-first-served service with ``servers[r]`` servers, per replication.

    ``arrival`` and ``service`` are flat, replication by replication (``count[r]``
    each, starting at ``first[r]``; by default one after another), each
    replication in order of arrival. The recursion runs once per
    rank of arrival and is vectorised across replications: each replication
    keeps its servers' free times, and its next arrival takes the server that
    frees first, starting at ``max(arrival, free time)``. Replications with the
    most arrivals come first, so each step touches only those still arriving.
    """
    start = arrival.copy()
    servers = np.asarray(servers, dtype=np.int64)
    queued = np.flatnonzero(servers < count)  # replications where a file may ever wait
    if len(queued) == 0:
        return start
    order = queued[np.argsort(-count[queued], kind="stable")]
    n = count[order]
    at = (np.cumsum(count) - count if first is None else first)[order]
    width = int(servers[order].max())
    free = np.where(np.arange(width)[None, :] < servers[order][:, None], 0.0, np.inf)
    flat = free.reshape(-1)
    base = np.arange(len(order)) * width
    upto = np.searchsorted(-n, -np.arange(int(n[0])), side="left")
    index, free_at = np.empty(len(order), dtype=np.intp), np.empty(len(order))
    for m in upto.tolist():
        i, pos = index[:m], at[:m]
        np.add(base[:m], free[:m].argmin(axis=1), out=i)
        begin = np.maximum(arrival.take(pos), flat.take(i))
        start.put(pos, begin)
        np.add(begin, service.take(pos), out=free_at[:m])
        flat.put(i, free_at[:m])
        pos += 1  # the next arrival of each replication still arriving
    return start


# ---------------------------------------------------------------- allocation


def _segmented_cumsum(values: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Cumulative sums within consecutive groups of ``count[r]`` values, each added left to right."""
    if len(values) == 0:
        return values.copy()
    rows = np.repeat(np.arange(len(count)), count)
    cols = np.arange(len(values)) - np.repeat(np.cumsum(count) - count, count)
    grid = np.zeros((len(count), int(count.max())))
    grid[rows, cols] = values
    return np.cumsum(grid, axis=1)[rows, cols]


def _allocate(
    apps: _Applications,
    decision: np.ndarray,
    approved: np.ndarray,
    rank: np.ndarray | None,
    budget: np.ndarray,
    places: np.ndarray,
    ordered: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Fund approved files in order of (decision, rank) while money and places remain.

    ``approved`` holds only files decided within the horizon; ``rank`` breaks
    ties in decision time (committee rounds: readiness, highest first). Funded
    are the longest prefix, in that order, whose cumulative grant fits the
    budget (plus the rounding slack) and whose count fits the places; the first
    approved file past it sets the exhaustion time. Returns the funded mask,
    the exhaustion time per replication (NaN: never) and, if ``ordered``, the
    funded files in award order (flat indices, replication by replication).
    """
    reps = len(apps.count)
    rep = apps.rep
    grant = np.where(approved, apps["grant"], 0.0)
    limit = budget + rules.BUDGET_SLACK_HKD
    count = np.bincount(rep, weights=approved, minlength=reps)
    total = np.bincount(rep, weights=grant, minlength=reps)
    short = (count > places) | (total > limit)
    funded = approved.copy()
    exhaustion = np.full(reps, np.nan)
    pick = approved & (short[rep] | ordered)
    files = np.flatnonzero(pick)
    if len(files) == 0:
        return funded, exhaustion, files if ordered else None
    key = decision[files] + (0.0 if rank is None else rank[files])
    span = 2.0 * float(np.nanmax(key)) + 1.0
    files = files[np.argsort(rep[files] * span + key)]
    per_rep = np.bincount(rep[files], minlength=reps)
    nth = _segmented_cumsum(np.ones(len(files)), per_rep)
    spent = _segmented_cumsum(grant[files], per_rep)
    within = (spent <= limit[rep[files]]) & (nth <= places[rep[files]])
    funded[files[~within]] = False
    # the first file of each replication past its funded prefix
    out = files[~within]
    first_out = out[np.unique(rep[out], return_index=True)[1]]
    exhaustion[rep[first_out]] = decision[first_out]
    return funded, exhaustion, files[within] if ordered else None


# ---------------------------------------------------------------- one scheme


def _simulate_scheme(
    scenario: Scenario,
    name: str,
    seed: int,
    reps: np.ndarray,
    draws: ParameterDraws,
    cache: dict[int, ParameterDraws],
) -> SchemeRecords:
    """Every stage of scheme ``name`` for replications ``reps``; ``cache`` holds blocks' parameter draws."""
    scheme = scenario.schemes[name]
    horizon = scenario.horizon_weeks
    apps = _applications(scenario, name, seed, reps, cache)
    rep = apps.rep
    capacity = _par(draws, name, "vetting.capacity")
    start = fcfs_starts(apps["arrival"], apps["review"], apps.count, capacity, apps.first)
    review_end = start + apps["review"]
    rounds = scheme.allocation.rule == "rounds"
    interval = scheme.allocation.meeting_interval_weeks
    decision = rules.next_meeting(review_end, interval) if rounds else review_end
    decided = decision <= horizon
    approved = decided & (apps["outcome"] == _APPROVED)
    integrators = draws.get(f"schemes.{name}.upgrade.integrators")
    funded, exhaustion, award_order = _allocate(
        apps,
        decision,
        approved,
        0.5 * interval * (1.0 - apps["readiness"]) if rounds else None,
        _par(draws, name, "budget_hkd"),
        _par(draws, name, "places"),
        ordered=integrators is not None,
    )
    admitted = np.ones(len(rep), dtype=bool)
    if scheme.close_on_exhaustion:  # arrivals after the money ran out never queue
        admitted = ~(apps["arrival"] > exhaustion.take(rep))
    done = admitted & decided
    status = _status(admitted, done, apps["outcome"], funded)
    awarded = status == Status.AWARDED
    upgrade_start = decision
    if integrators is not None:
        upgrade_start = _integrator_starts(decision, apps["length"], award_order, rep, integrators)
    within = lambda x, keep: np.where(keep & (x <= horizon), x, np.nan)  # noqa: E731
    columns = {
        **{key: apps[key] for key in ("segment", "band", "arrival", "readiness", "cost", "grant")},
        "status": status,
        "review_start": within(start, admitted),
        "decision": np.where(done, decision, np.nan),
        "value_added": apps["value_added"],
        "upgrade_start": within(upgrade_start, awarded),
        "upgrade_end": within(upgrade_start + apps["length"], awarded),
        "completes": apps["completes"],
        "gain": apps["gain"],
        "deadweight": apps["deadweight"],
    }
    return _grouped_records(columns, apps, exhaustion)


def _status(admitted: np.ndarray, done: np.ndarray, outcome: np.ndarray, funded: np.ndarray) -> np.ndarray:
    """Each application's status at the horizon (before the upgrade).

    Decided files take the status of their outcome (withdrawn, rejected,
    approved: unfunded), which follow one another in :class:`Status`; funded
    files are awarded; the others are in review or, not admitted, turned away.
    """
    status = np.where(
        done, outcome + np.int8(Status.WITHDRAWN), admitted.view(np.int8) + np.int8(Status.TURNED_AWAY)
    )
    status[funded] = Status.AWARDED
    return status.astype(np.int8, copy=False)


def _integrator_starts(
    decision: np.ndarray,
    length: np.ndarray,
    award_order: np.ndarray,
    rep: np.ndarray,
    integrators: np.ndarray,
) -> np.ndarray:
    """Upgrade starts with ``integrators`` projects at once: first come first served, in award order."""
    start = np.full(len(decision), np.nan)
    count = np.bincount(rep[award_order], minlength=len(integrators))
    start[award_order] = fcfs_starts(
        decision[award_order], length[award_order], count, integrators.astype(np.int64)
    )
    return start


def _grouped_records(
    columns: dict[str, np.ndarray], apps: _Applications, exhaustion: np.ndarray
) -> FlatGroupedRecords:
    """Flat per-application columns as records, kept flat in the groups of ``apps``.

    Each group's applications are consecutive in the flat arrays, replication
    after replication, each in order of arrival (the slot order of padded
    records), so a group's columns are slices of the flat ones: no copies.
    Padded arrays are put together only if a field is read.
    """
    groups = []
    for rows, width, first, stop in apps.groups:
        n = apps.count[rows]
        rep = np.repeat(np.arange(len(rows)), n)
        flat = FlatRecords(
            rep=rep,
            slot=np.arange(stop - first) - np.repeat(np.cumsum(n) - n, n),
            width=width,
            columns={key: columns[key][first:stop] for key in METRIC_FIELDS},
            eligible=apps.eligible[rows],
            would_be=apps.would_be[rows],
            exhaustion=exhaustion[rows],
            replications=len(rows),
        )
        groups.append((rows, flat))
    per_replication = {"eligible": apps.eligible, "would_be": apps.would_be, "exhaustion": exhaustion}
    return FlatGroupedRecords(groups, columns, apps.rep, apps.slot, per_replication)


# ---------------------------------------------------------------- the engine


def simulate_batch(scenario: Scenario, seed: int, reps: Sequence[int]) -> dict[str, SchemeRecords]:
    """Run replications ``reps`` as arrays; records per scheme, as :func:`sim.engines.des.simulate_des`."""
    check_supported(scenario)
    reps = np.asarray(reps, dtype=np.int64)
    draws = draw_parameters(scenario, seed, reps)
    cache: dict[int, ParameterDraws] = {}
    return {name: _simulate_scheme(scenario, name, seed, reps, draws, cache) for name in scenario.schemes}


def bytes_per_replication(scenario: Scenario, seed: int) -> float:
    """Working memory of one replication in a chunk (bytes), from its expected number of candidates.

    Averages over the first block's parameter draws: a chunk's arrays hold its
    replications' candidates and applications one after another, so memory
    follows the mean count, not the largest.
    """
    draws = draw_parameters(scenario, seed, np.arange(BLOCK))
    candidates = 0.0
    for name, scheme in scenario.schemes.items():
        ratio, ref = _par(draws, name, "matching_ratio"), _par(draws, name, "uptake.reference_rate")
        elasticity = _par(draws, name, "uptake.elasticity")
        for seg_name in scheme.segments:
            a_max = rules.would_apply_probability(
                draws.segment(seg_name, "propensity"), 1.0 / (1.0 + ratio), ref, elasticity
            )
            share = draws.segment(seg_name, "eligible_share")
            candidates += float((scenario.segments[seg_name].count * share * a_max).mean())
    series = len(scenario.schemes) * 8 * 7 * (int(scenario.horizon_weeks) + 1)
    return candidates * _BYTES_PER_CANDIDATE + 2 * series


#: Working bytes per candidate (draws, applications, records, metrics), measured on the baseline.
_BYTES_PER_CANDIDATE = 120


def draw_counts(scenario: Scenario, seed: int, reps: np.ndarray) -> dict[str, float]:
    """Random values drawn for replications ``reps``, by kind, and how many of them were needed.

    Counts per quantity what :func:`simulate_batch` draws for the blocks the
    replications belong to (whole blocks, shared out over their replications):
    the head cells and the rest of :class:`_Layout`, and the two counts per
    segment. "uniform" counts draws made from uniforms (uniform, triangular,
    ...), "normal" the standard normals behind lognormal quantities.
    """
    out = {"uniform": 0.0, "normal": 0.0, "needed": 0.0}
    cache: dict[int, ParameterDraws] = {}
    blocks = np.unique(np.asarray(reps) // BLOCK)
    share = len(reps) / (len(blocks) * BLOCK)
    for name, scheme in scenario.schemes.items():
        for seg_name in scheme.segments:
            bands = list(scenario.segments[seg_name].bands.values())
            firm = [
                [b.project_cost_hkd for b in bands],
                [b.value_added_hkd for b in bands],
                [scheme.vetting.review_weeks],
                [scheme.upgrade.duration_weeks],
                [scheme.impact.gain],
            ]
            normal = sum(all(isinstance(d, dists.LogNormal) for d in group) for group in firm)
            uniform = 8 + (len(bands) > 1) + len(firm) - normal
            for block in blocks.tolist():
                block_draws = _block_parameters(scenario, seed, block, cache)
                counts = _candidate_counts(scenario, name, seg_name, block_draws, seed, block)
                layout = _Layout(counts, np.arange(BLOCK))
                made = (layout.size + 2 * BLOCK) * share
                out["uniform"] += uniform * made
                out["normal"] += normal * made
                out["needed"] += (uniform + normal) * (counts.sum() + 2 * BLOCK) * share
    return out
