"""The batch engine: many replications at once, equal in distribution to the SimPy engine.

Every rule of MODEL.md that :mod:`sim.engines.des` implements is computed here
for a chunk of replications, block by block (:data:`BLOCK` replications):

1. **Population and uptake** (numpy, on arrays of candidates). Only firms that
   may apply are drawn. Per segment and replication the eligible count is
   Binomial(count, eligible share) and the *candidates* Binomial(eligible,
   a_max), where ``a_max`` is the largest chance to apply any firm can have
   (its subsidy rate is at most ``1 / (1 + matching)``). A candidate gets its
   size band, project cost and value added (readiness, or a lottery ticket,
   only where the allocation rule ranks by it), and is a would-be applicant with probability
   ``a_i / a_max``: an exact thinning of MODEL.md 3. A segment several schemes list is thinned
   with the largest ``a_max`` of theirs, so each scheme draws the same candidates, and a
   candidate whose project goes to another scheme (R-CHOICE, :func:`_choices`) has ``a_i = 0``.
   Application times are the
   window's opening plus the timing inverse (R-UPTAKE-TIME) of each
   replication's sorted uniforms, made from exponential spacings, so
   candidates come in order of arrival (:meth:`_Draws.arrivals`); would-be
   applicants whose time falls after the window never apply.
2. **Vetting, funding, upgrades** (compiled, replication by replication, in
   :func:`sim.engines.kernels.scheme_block`): first-come-first-served review
   with ``c`` reviewers; decisions at review end, at committee meetings or at
   one draw after the call's close;
   approved files funded in order of (decision time, rank) while budget and
   places last, the first one past that setting the exhaustion time (files
   arriving later are turned away when the scheme closes on exhaustion);
   upgrades starting at award, or in award order on a finite pool of
   integrators. Because the queue is first-come-first-served, later arrivals
   never change earlier outcomes, so this equals the event-by-event rule of
   the SimPy engine. :func:`simulate_applicants` runs a prepared table of
   applications through the same kernel (the seam of the worked examples in
   ``tests/rules``, one per rule of :data:`sim.engines.rules.RULE_BOOK`).
3. **Redirect** (R-REDIRECT, :func:`_settle_with_redirects`): where a scheme
   sends the firms it turns away on, the chunk is settled in passes; a firm
   sent on is its candidate row in the receiving scheme's table, kept
   whatever its thinning uniform and arriving at the week it was turned away.

Random numbers come from one stream per stage, segment and block
(:func:`sim.rng.block_seed`), with one named child per quantity, drawn for the
whole block replication after replication, so that a replication's draws
depend only on the seed, its index and the candidate counts of its block: not
on the chunk or the worker that computes it. Two scenarios run with the same
seed share their draws stage by stage (common random numbers); where their
candidate counts agree, every firm keeps every draw.

Records come back as :class:`~sim.engines.records.FlatGroupedRecords`: the
applications of all replications as flat arrays, one group per block, which
the metrics read with no padding (padded arrays are made only if a field is
read).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from sim.engines import block_streams, candidate_kernels, choice, flat_kernels, kernels, redirect, rules
from sim.engines.allocation import ALLOCATION_RULES, allocation_rule
from sim.engines.applicants import Applicants, ProcessTerms, call_close, completion_factors
from sim.engines.candidate_kernels import OfferRow
from sim.engines.contract import UnsupportedScenario
from sim.engines.kept_rows import KeptRows, fresh_rows
from sim.engines.layout import (
    BlockOutput,
    CandidateRow,
    Candidates,
    FloatColumn,
    IntColumn,
    SchemeRow,
    SchemeTerms,
    names,
)
from sim.engines.parameters import (
    ParameterDraws,
    SchemeParameters,
    SegmentParameters,
    draw_parameters,
    scheme_parameters,
    segment_parameters,
)
from sim.engines.reapply import may_reapply
from sim.engines.records import (
    METRIC_FIELDS,
    FlatGroupedRecords,
    FlatRecords,
    SchemeRecords,
    Status,
    padded_width,
)
from sim.engines.timeline import change_table, policy_changes
from sim.engines.uptake import Timing, application_time, has_bursts, scheme_timing
from sim.rng import block_key, tag
from sim.spec import distributions as dists
from sim.spec import scenario as schema
from sim.spec.scenario import Band, Scenario, Scheme

__all__ = [
    "BLOCK",
    "NAME",
    "UnsupportedScenario",
    "BatchEngine",
    "CandidateSpace",
    "simulate_applicants",
    "check_supported",
    "unsupported",
    "simulate_batch",
    "fcfs_starts",
    "bytes_per_replication",
    "draw_counts",
]

NAME = "batch"

#: Replications per block of random numbers (fixed: changing it changes results).
BLOCK = 512

# ---------------------------------------------------------------- what is implemented

#: Scenario fields the batch engine implements, per schema class. A field not
#: listed here (added to the schema later) must keep its default, or the
#: scenario is refused rather than silently simulated without it.
_IMPLEMENTED: dict[type[BaseModel], frozenset[str]] = {
    schema.Scenario: frozenset(
        {"name", "description", "start_date", "horizon_weeks", "follow_up_weeks", "segments", "schemes"}
        | {"posterior"}  # drawn with the other parameters (sim.engines.posterior)
    ),
    schema.PosteriorFile: frozenset({"file", "sha256", "draws", "parameters"}),
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
            "opens_week",
            "closes_week",
            "close_on_exhaustion",
            "redirect_when_closed",
            "changes",
            "admin_cost_per_application_hkd",
            "min_project_cost_hkd",
            "max_project_cost_hkd",
            "uptake",
            "vetting",
            "allocation",
            "upgrade",
            "tranches",
            "impact",
            "kind",  # an intermediary's programme is computed from the records (sim/engines/programme.py)
            "programme",
        }
    ),
    schema.Programme: frozenset(
        {
            "cohort_segment",
            "cohort_size_mean",
            "cohort_interval_weeks",
            "relocated_share",
            "survival_probability",
            "follow_on_probability",
            "tranches",
            "impact",
        }
    ),
    schema.StartupImpact: frozenset(
        {"surviving_value_hkd", "relocated_value_hkd", "follow_on_value_hkd", "deadweight", "discount_rate"}
    ),
    schema.Uptake: frozenset(
        {
            "reference_rate",
            "elasticity",
            "bass_p",
            "bass_q",
            "launch_share",
            "launch_weeks",
            "rush_share",
            "rush_weeks",
        }
    ),
    schema.Vetting: frozenset(
        {
            "capacity",
            "review_weeks",
            "withdraw_probability",
            "approval_probability",
            "reapply_probability",
            "reapply_delay_weeks",
        }
    ),
    schema.Allocation: frozenset({"rule", "meeting_interval_weeks"}),
    schema.Change: frozenset({"week", "budget_hkd", "places", "max_grant_hkd", "closes"}),
    schema.Upgrade: frozenset({"integrators", "duration_weeks", "completion_probability"}),
    schema.Tranches: frozenset({"upfront_share"}),
    schema.Impact: frozenset(
        {"no_gain_probability", "gain", "ramp_years", "deadweight", "benefit_years", "discount_rate"}
    ),
}

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


def unsupported(scenario: Scenario) -> list[str]:
    """What of ``scenario`` the batch engine does not implement, as dotted paths (empty if none).

    The answer for the last scenario asked about is kept (scenarios are frozen): every chunk of a
    run asks again, and walking the scenario costs about a microsecond per replication."""
    last = _CHECKED.get("last")
    if last is not None and last[0] is scenario and last[1] is _IMPLEMENTED:
        return list(last[2])
    problems = _unsupported(scenario)
    _CHECKED["last"] = (scenario, _IMPLEMENTED, problems)
    return list(problems)


#: The last scenario :func:`unsupported` walked, against which table of what is implemented, and
#: its answer.
_CHECKED: dict[str, tuple[Scenario, object, list[str]]] = {}


def _unsupported(scenario: Scenario) -> list[str]:
    problems: list[str] = []
    _check_model(scenario, "", problems)
    for name, scheme in scenario.schemes.items():
        if scheme.allocation.rule not in ALLOCATION_RULES:
            problems.append(f"schemes.{name}.allocation.rule = '{scheme.allocation.rule}'")
    return problems


def check_supported(scenario: Scenario) -> None:
    """Raise :class:`UnsupportedScenario`, saying what and where, if the batch engine cannot run it
    (the registry's one message for every engine)."""
    from sim.engines.registry import get_engine, require_supported

    require_supported(get_engine(NAME), scenario)


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
    """The named children of one stage's block stream: one generator per quantity,
    ``SFC64(SeedSequence(seed, spawn_key=(*block_seed's key, tag(quantity))))``, seeded by
    :func:`sim.engines.block_streams.stream` (the same generator, without a seed sequence each)."""

    def __init__(self, seed: int, stage: str, key: str, block: int):
        self.spawn_key = block_key(stage, key, block)
        self._words = block_streams.stream_words(seed, self.spawn_key)

    def __call__(self, quantity: str) -> np.random.Generator:
        return block_streams.stream(self._words, tag(quantity))

    @property
    def words(self) -> np.ndarray:
        """The stream's seed words (:func:`sim.engines.block_streams.stream_words`)."""
        return self._words

    def draw(self, kind: str, quantity: str, out: np.ndarray) -> np.ndarray:
        """Draws of ``kind`` (as numpy's ``random``, ``standard_normal`` or ``standard_exponential``
        make them from ``self(quantity)``) into ``out``: the same numbers, made from the stream's seed words
        in a compiled loop with no generator object (:mod:`sim.engines.block_streams`)."""
        return _DRAWS[kind](self._words, tag(quantity), out)


@dataclass(frozen=True)
class _FromWords:
    """A ``make`` of :meth:`_Draws.fill` that draws from the stream's seed words and the quantity's
    tag, ``make(words, last, out)``, rather than from a generator (:mod:`sim.engines.block_streams`)."""

    make: Callable[[np.ndarray, int, np.ndarray], np.ndarray]


#: How :meth:`_Stage.draw` makes each kind of draw.
_DRAWS: dict[str, Callable[[np.ndarray, int, np.ndarray], np.ndarray]] = {
    "uniform": block_streams.uniforms,
    "normal": block_streams.normals,
    "exponential": block_streams.exponentials,
}


class _Stages(dict[str, _Stage]):
    """One segment's and block's :class:`_Stage` by stage name, each made when first asked for (making
    one costs a seed sequence; a scheme taking its draws from another's makes none)."""

    def __init__(self, seed: int, key: str, block: int):
        super().__init__()
        self._where = (seed, key, block)

    def __missing__(self, stage: str) -> _Stage:
        seed, key, block = self._where
        made = self[stage] = _Stage(seed, stage, key, block)
        return made


class _Draws:
    """Draws for the candidates of one segment in one block, replication after replication.

    ``counts[r]`` candidates of replication ``r`` of the block follow one
    another (``first[r]`` on); each quantity is one array from its own named
    stream, drawn for the whole block, so a replication's numbers depend on
    the seed, its index and the counts of its block, never on the chunk or
    the worker.
    """

    def __init__(self, seed: int, seg_name: str, block: int, counts: np.ndarray):
        self.stage = _Stages(seed, seg_name, block)
        self.counts = counts
        self.first = np.cumsum(counts) - counts
        self.size = int(counts.sum())
        #: The order uniforms behind the last :meth:`arrivals` (the same for every scheme's timing).
        self.timing_uniforms: np.ndarray | None = None
        #: The first scheme to draw a shared segment keeps these candidates' draws (:class:`_Kept`) ...
        self.keeping: _Kept | None = None
        #: ... and a later one takes its candidates and their draws from them (see :meth:`subset`).
        self.known: _Kept | None = None
        self.full = self

    def subset(self, kept: _Kept) -> _Draws:
        """The draws of the candidates ``kept`` holds, taken from it: numbers the first scheme listing
        the segment drew from the same streams; a quantity it did not draw is drawn here in full."""
        part = copy.copy(self)
        part.counts, part.size = kept.counts, kept.where.size
        part.first = np.cumsum(kept.counts) - kept.counts
        part.known, part.full = kept, self
        return part

    def fill(
        self, kind: str, stage: str, quantity: str, out: np.ndarray, make: Any = None, variant: Any = None
    ) -> np.ndarray:
        """Draws of one quantity into ``out``, from its stream: ``make(rng, out)``, by default by ``kind``.

        ``kind`` ("uniform", "normal" or "exponential") is what :func:`draw_counts` counts them as;
        ``variant`` names what ``make`` makes (the draws of a ``make`` without one are not kept).
        """
        key, keeps = (stage, quantity, variant or kind), make is None or variant is not None
        if self.known is not None:
            got = self.known.raw.get(key) if keeps else None
            if got is None:
                got = self.full.fill(kind, stage, quantity, np.empty(self.full.size), make)[self.known.where]
            out[:] = got
            return out
        self._make(kind, stage, quantity, out, make)
        if self.keeping is not None and self.keeping.started and keeps:
            self.keeping.raw[key] = out[self.keeping.where]
        return out

    def _make(self, kind: str, stage: str, quantity: str, out: np.ndarray, make: Any = None) -> np.ndarray:
        """Draws of one quantity into ``out`` from its own stream (every random value is drawn here)."""
        if make is None:  # numpy's numbers, without a generator object
            self.stage[stage].draw(kind, quantity, out)
        elif isinstance(make, _FromWords):
            make.make(self.stage[stage].words, tag(quantity), out)
        else:
            make(self.stage[stage](quantity), out)
        return out

    def start_keeping(self, band: np.ndarray, cost: np.ndarray) -> None:
        """From here on, keep the draws of the candidates whose cost the later schemes of
        :attr:`keeping` may fund (set by :func:`_segment_draws`), with their band and cost."""
        kept = self.keeping
        if kept is None:
            return
        low, high = (np.array([b[k] for b in kept.bounds], dtype=float) for k in (0, 1))
        kept.counts, room = np.empty(len(self.counts), dtype=np.int64), np.empty(cost.size, dtype=np.int64)
        found = candidate_kernels.kept_candidates(cost, low, high, self.first, self.counts, kept.counts, room)
        # a copy, so the room (a candidate's worth per candidate) is freed here: kept until a later
        # scheme takes these draws, it made the metric sums' arrays come from fresh memory (slower)
        kept.where = room[:found].copy()
        kept.band, kept.cost = band[kept.where], cost[kept.where]
        kept.started = True

    def uniform(self, stage: str, quantity: str, out: np.ndarray) -> np.ndarray:
        return self.fill("uniform", stage, quantity, out)

    def firm(self, dist: Any, stage: str, quantity: str, out: np.ndarray) -> np.ndarray:
        """Draws of a firm-level distribution into ``out`` (a number is a fixed value)."""
        if isinstance(dist, int | float):
            out[:] = float(dist)
        elif isinstance(dist, dists.LogNormal):  # one standard normal each, scaled in place
            self.fill("normal", stage, quantity, out)
            np.exp(np.multiply(out, dist.sigma, out=out), out=out)
            out *= dist.median
        elif isinstance(dist, dists.Triangular):
            shape = (dist.low, dist.mode, dist.high)
            make = _FromWords(lambda words, last, out: block_streams.triangular(words, last, shape, out))
            self.fill("uniform", stage, quantity, out, make, ("triangular", *shape))
        else:
            self.fill(
                "uniform", stage, quantity, out, lambda rng, out: np.copyto(out, dist.sample(rng, out.shape))
            )
        return out

    def by_band(
        self, specs: list[Any], band: np.ndarray, stage: str, quantity: str, out: np.ndarray
    ) -> np.ndarray:
        """A firm-level quantity whose distribution depends on the candidate's size band.

        With one band, or lognormal bands (one standard normal per candidate,
        scaled by its band), one draw per candidate; otherwise each band's
        distribution is drawn for every candidate, which keeps its own band's.
        """
        if len(specs) == 1:
            return self.firm(specs[0], stage, quantity, out)
        if all(isinstance(s, dists.LogNormal) for s in specs):
            self.fill("normal", stage, quantity, out)
            _scale_by_band(out, band, [s.sigma for s in specs])
            np.exp(out, out=out)
            _scale_by_band(out, band, [s.median for s in specs])
            return out
        each = np.empty(self.size)
        for b, spec in enumerate(specs):
            np.copyto(out, self.firm(spec, stage, f"{quantity}:{b}", each), where=band == b)
        return out

    def order_uniforms(self, stage: str, quantity: str, out: np.ndarray) -> np.ndarray:
        """Each replication's sorted uniforms, into ``out``, from exponential spacings (see
        :meth:`arrivals`); drawn again from the same streams, they are the same numbers."""
        key = ("order", stage, quantity)
        if self.known is not None:
            got = self.known.raw.get(key)
            if got is None:
                got = self.full.order_uniforms(stage, quantity, np.empty(self.full.size))[self.known.where]
            out[:] = got
            return out
        self._make("exponential", stage, quantity, out)
        last = self._make("exponential", stage, quantity + ":last", np.empty(BLOCK))
        kernels.order_statistics(out, self.first, self.counts, last, out)
        if self.keeping is not None and self.keeping.started:
            self.keeping.raw[key] = out[self.keeping.where]
        return out

    def arrivals(
        self,
        stage: str,
        quantity: str,
        timing: Timing,
        opens: float,
        out: np.ndarray,
        where: np.ndarray | None = None,
        bursts: bool | None = None,
    ) -> np.ndarray:
        """Application times that increase with the slot within each replication, into ``out``.

        With ``m`` candidates and ``m + 1`` standard exponential spacings, the
        partial sums divided by the total are the order statistics of ``m``
        uniforms. A candidate's other draws do not depend on its uniform, so
        handing the k-th smallest to the k-th candidate is the same, in
        distribution, as drawing one uniform per candidate; its time is the
        window's opening week ``opens`` plus the inverse of the timing CDF at
        it (R-UPTAKE-TIME, :func:`sim.engines.uptake.application_time`,
        increasing), so candidates come in order of arrival.

        With ``where``, only the candidates at those indices get a time (the others, which cannot
        apply, infinity); the uniforms are kept in :attr:`timing_uniforms` (for the choice among
        schemes, :func:`_choices`). ``bursts`` says how the times are computed (see
        :func:`sim.engines.uptake.application_time`; by default as ``timing`` needs).
        """
        u = self.timing_uniforms = self.order_uniforms(stage, quantity, np.empty(self.size))
        bursts = has_bursts(timing) if bursts is None else bursts
        if where is None:
            application_time(u, timing, bursts, out)
        else:
            out[:] = np.inf
            out[where] = application_time(u[where], timing.take(where), bursts)
        if opens:
            out += opens
        return out


def _scale_by_band(values: np.ndarray, band: np.ndarray, factors: list[float]) -> None:
    """``values *= factors[band]`` in place: by one number where every band has the same (the same
    products, on vectors), else compiled (:func:`sim.engines.candidate_kernels.scale_by_band`)."""
    if all(f == factors[0] for f in factors):
        values *= float(factors[0])
    else:
        candidate_kernels.scale_by_band(values, band, np.array(factors, dtype=float))


class CandidateSpace:
    """Room for a chunk's candidate table and bands, kept from one call to the next (per thread).

    A table of tens of megabytes made afresh for every chunk costs fresh pages
    each time once other work has used the memory in between (a tenth of the
    engine's time, measured after a SimPy-engine run), so a
    :class:`BatchEngine` keeps one of these and grows it when too small. Each
    thread gets its own arrays; they are used only within one call.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._rows = KeptRows()

    def rows(self, room: int) -> tuple[np.ndarray, np.ndarray]:
        """Output rows of the kernel with room for ``room`` applications, kept from call to call
        too, but handed out again only once no records of an earlier call read them
        (:class:`~sim.engines.kept_rows.KeptRows`)."""
        return self._rows.take(room)

    def reserve(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """This thread's candidate table (CandidateRow x room) and band array, with room for ``size``."""
        kept = getattr(self._local, "arrays", None)
        if kept is None or kept[1].size < size:
            room = max(size, int(1.25 * kept[1].size) if kept is not None else size)
            kept = self._local.arrays = (np.empty((len(CandidateRow), room)), np.empty(room, dtype=np.int64))
        return kept


def _largest_chance(par: SchemeParameters, seg: SegmentParameters) -> np.ndarray:
    """``a_max`` per replication: a firm's chance to apply at the highest subsidy rate."""
    return rules.would_apply_probability(
        seg.propensity, 1.0 / (1.0 + par.matching_ratio), par.reference_rate, par.elasticity
    )


def _segment_chance(scenario: Scenario, seg_name: str, draws: ParameterDraws) -> np.ndarray:
    """``a_max`` of a segment per replication: the largest over the schemes listing it (R-CHOICE)."""
    seg = segment_parameters(draws, seg_name)
    chances = [_largest_chance(scheme_parameters(draws, s), seg) for s in scenario.schemes_of(seg_name)]
    return chances[0] if len(chances) == 1 else np.max(chances, axis=0)


def _candidate_counts(
    scenario: Scenario, seg_name: str, block_draws: ParameterDraws, seed: int, block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eligible firms, candidates and ``a_max`` of one segment in every replication of a block.

    Eligible ~ Binomial(count, eligible share); candidates ~ Binomial(eligible,
    a_max), ``a_max`` the largest chance to apply a firm can have (at the
    highest subsidy rate, ``1 / (1 + matching)``), over every scheme listing the segment: so
    each of them draws the same candidates, the same firms with the same draws (R-CHOICE).
    """
    seg = segment_parameters(block_draws, seg_name)
    a_max = _segment_chance(scenario, seg_name, block_draws)
    eligible = _Stage(seed, "population", seg_name, block)("eligible").binomial(
        scenario.segments[seg_name].count, seg.eligible_share
    )
    candidates = _Stage(seed, "uptake", seg_name, block)("candidates").binomial(eligible, a_max)
    return eligible, candidates, a_max


def _segment_table(
    scenario: Scenario,
    name: str,
    seg_name: str,
    par: SchemeParameters,
    seg_par: SegmentParameters,
    draws: _Draws,
    table: np.ndarray,
    band: np.ndarray,
) -> None:
    """Each candidate's draws into ``table`` (rows of :class:`CandidateRow`), and its band.

    For one segment in one block: ``table`` has a column, ``band`` an entry per candidate.
    """
    seg, scheme = scenario.segments[seg_name], scenario.schemes[name]
    bands = list(seg.bands.values())
    cost = _band_and_cost(bands, draws, table, band)
    _offer_rows(par, seg_par, draws, table)
    _firm_draws(scheme, bands, band, draws, table)
    # the timing needs the replication's parameters (one number if all share it)
    each = lambda x: x[0] if (x == x[0]).all() else np.repeat(x, draws.counts)  # noqa: E731
    timing = scheme_timing(par, scenario.window_length(name), each)
    arrival, bursts = table[CandidateRow.ARRIVAL], _has_bursts(par, draws.full.counts)
    draws.arrivals("uptake", "arrival", timing, scheme.opens_week, arrival, _fitting(scheme, cost), bursts)


def _has_bursts(par: SchemeParameters, counts: np.ndarray) -> bool:
    """Whether the timing of a segment's candidates (``counts[r]`` in replication ``r``) has a launch
    burst or a deadline rush: :func:`sim.engines.uptake.has_bursts` of all of them, which sets how
    times are computed also for a scheme taking only some of them (so their numbers do not depend
    on which)."""
    for share in (par.launch_share, par.rush_share):
        if (share == share[0]).all():
            if share[0] > 0:
                return True
        elif (share[counts > 0] > 0).any():
            return True
    return False


def _band_and_cost(bands: list[Band], draws: _Draws, table: np.ndarray, band: np.ndarray) -> np.ndarray:
    """Each candidate's size band (into ``band``) and project cost (into ``table``, returned): the
    segment's, the same whichever scheme draws them (a later scheme of a shared segment takes them
    from the first's, :class:`_Kept`)."""
    cost = table[CandidateRow.COST]
    if draws.known is not None:
        band[:], cost[:] = draws.known.band, draws.known.cost
        return cost
    if len(bands) > 1:
        u = draws.uniform("population", "band", table[CandidateRow.KEEP])
        candidate_kernels.bands_of(u, np.cumsum([b.share for b in bands])[:-1], band)
    else:
        band[:] = 0
    draws.by_band([b.project_cost_hkd for b in bands], band, "population", "project_cost", cost)
    draws.start_keeping(band, cost)
    return cost


def _offer_rows(par: SchemeParameters, seg_par: SegmentParameters, draws: _Draws, table: np.ndarray) -> None:
    """Each candidate's grant and chance to apply into ``table``: :func:`sim.engines.rules.grant` and
    :func:`~sim.engines.rules.would_apply_probability` at its subsidy rate, compiled
    (:mod:`sim.engines.candidate_kernels`; the power stays in numpy, and an elasticity of 1 leaves
    the relative rate as it is)."""
    terms = np.empty((len(OfferRow), BLOCK))
    terms[OfferRow.CAP] = par.max_grant_hkd
    terms[OfferRow.RATIO] = par.matching_ratio
    terms[OfferRow.REFERENCE] = par.reference_rate
    terms[OfferRow.PROPENSITY] = seg_par.propensity
    chance = table[CandidateRow.APPLY]
    cost, first, count = table[CandidateRow.COST], draws.first, draws.counts
    elasticity = par.elasticity
    if (elasticity == 1.0).all():  # the relative rate is its own power: one pass
        candidate_kernels.offers_at_unit_elasticity(
            cost, first, count, terms, table[CandidateRow.GRANT], chance
        )
        return
    candidate_kernels.offers(cost, first, count, terms, table[CandidateRow.GRANT], chance)
    power = elasticity[0] if (elasticity == elasticity[0]).all() else np.repeat(elasticity, count)
    chance[:] = chance**power
    candidate_kernels.chances(first, count, terms, chance)


def _fitting(scheme: Scheme, cost: np.ndarray) -> np.ndarray | None:
    """The candidates whose project cost ``scheme`` funds (indices), None if it funds any: only they
    may apply to it, or be sent on to it (R-CHOICE, R-REDIRECT)."""
    low, high = choice.cost_bounds(scheme)
    if (low, high) == (0.0, np.inf):
        return None
    return np.flatnonzero((cost >= low) & (cost <= high))


def _firm_draws(
    scheme: Scheme, bands: list[Band], band: np.ndarray, draws: _Draws, table: np.ndarray
) -> None:
    """The candidates' uniforms and firm-level quantities, each from its own named stream."""
    draws.uniform("uptake", "keep", table[CandidateRow.KEEP])
    draws.uniform("approval", "decide", table[CandidateRow.DECIDE])
    draws.uniform("implementation", "complete", table[CandidateRow.COMPLETE])
    draws.uniform("impact", "no_gain", table[CandidateRow.NO_GAIN])
    draws.firm(schema.impact_of(scheme).gain, "impact", "gain", table[CandidateRow.GAIN])
    draws.uniform("impact", "deadweight", table[CandidateRow.DEADWEIGHT])
    value_added = [b.value_added_hkd for b in bands]
    draws.by_band(value_added, band, "population", "value_added", table[CandidateRow.VALUE_ADDED])
    draws.firm(scheme.vetting.review_weeks, "vetting", "review", table[CandidateRow.REVIEW])
    draws.firm(scheme.upgrade.duration_weeks, "implementation", "duration", table[CandidateRow.DURATION])
    ranking = allocation_rule(scheme.allocation.rule).ranking_draw  # only where a uniform ranks files
    if ranking is not None:
        stage, quantity = ranking
        draws.uniform(stage, quantity, table[CandidateRow[quantity.upper()]])
    if may_reapply(scheme):
        _second_try_draws(scheme, draws, table, allocation_rule(scheme.allocation.rule).ranks_by_ticket)


def _second_try_draws(scheme: Scheme, draws: _Draws, table: np.ndarray, ticketed: bool) -> None:
    """The candidates' draws for a re-application after rejection (R-REAPPLY), from the
    ``reapplication`` stage's streams (made only where files may reapply)."""
    vetting = scheme.vetting
    draws.uniform("reapplication", "chance", table[CandidateRow.AGAIN])
    draws.firm(vetting.reapply_delay_weeks, "reapplication", "delay", table[CandidateRow.AGAIN_DELAY])
    draws.firm(vetting.review_weeks, "reapplication", "review", table[CandidateRow.AGAIN_REVIEW])
    draws.uniform("reapplication", "decide", table[CandidateRow.AGAIN_DECIDE])
    if ticketed:
        draws.uniform("reapplication", "ticket", table[CandidateRow.AGAIN_TICKET])


def _parameter_rows(par: SchemeParameters | ProcessTerms, width: int) -> np.ndarray:
    """A scheme's per-replication parameters as rows of :class:`~sim.engines.layout.SchemeRow`.

    ``par`` holds one array per field (a block's replications) or, for the
    worked examples, one number per field; ``width`` is the number of columns.
    """
    out = np.empty((len(SchemeRow), width))
    out[SchemeRow.WITHDRAW] = par.withdraw_probability
    out[SchemeRow.APPROVE] = par.approval_probability
    out[SchemeRow.COMPLETION] = par.completion_probability
    out[SchemeRow.NO_GAIN] = par.no_gain_probability
    out[SchemeRow.DEADWEIGHT] = par.deadweight
    out[SchemeRow.SERVERS] = par.capacity
    out[SchemeRow.LIMIT] = par.budget_hkd + rules.BUDGET_SLACK_HKD
    out[SchemeRow.PLACES] = par.places
    out[SchemeRow.INTEGRATORS] = -1.0 if par.integrators is None else par.integrators
    out[SchemeRow.RATIO] = par.matching_ratio
    out[SchemeRow.REAPPLY] = par.reapply_probability
    return out


def _block_parameters(
    scenario: Scenario, seed: int, block: int, cache: dict[int, ParameterDraws]
) -> ParameterDraws:
    """Parameter draws of every replication of ``block`` (counts are drawn for whole blocks)."""
    if block not in cache:
        cache[block] = draw_parameters(scenario, seed, np.arange(block * BLOCK, (block + 1) * BLOCK))
    return cache[block]


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
    replication in order of arrival. Each replication keeps its servers' free
    times, and its next arrival takes the server that frees first, starting at
    ``max(arrival, free time)`` (:func:`sim.engines.kernels.fcfs`).
    """
    count = np.asarray(count, dtype=np.int64)
    first = np.cumsum(count) - count if first is None else np.asarray(first, dtype=np.int64)
    start = np.empty(len(arrival))
    kernels.fcfs(
        np.ascontiguousarray(arrival, dtype=float),
        np.ascontiguousarray(service, dtype=float),
        first,
        count,
        np.broadcast_to(np.asarray(servers, dtype=np.int64), count.shape).copy(),
        start,
    )
    return start


# ---------------------------------------------------------------- one scheme


@dataclass
class _BlockPlan:
    """One block's share of a chunk: its positions in the chunk, parameters and counts per segment."""

    block: int
    where: np.ndarray  # positions in the chunk of the block's replications
    scheme: SchemeParameters  # the whole block's
    segments: list[SegmentParameters]
    counts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # per segment: eligible, candidates, a_max
    parameters: ParameterDraws  # every scheme's, for the firms' choice among schemes (R-CHOICE)


def _plan(
    scenario: Scenario,
    name: str,
    seed: int,
    reps: np.ndarray,
    cache: dict[int, ParameterDraws],
    shared: _Shared,
) -> list[_BlockPlan]:
    """The blocks of ``reps``, in order of first appearance, with their parameters and candidate counts
    (a segment's, drawn once per block for every scheme listing it: kept in ``shared``)."""
    segments = scenario.schemes[name].segments
    blocks = reps // BLOCK
    plan = []
    for block in dict.fromkeys(blocks.tolist()):
        block_draws = _block_parameters(scenario, seed, block, cache)
        par = scheme_parameters(block_draws, name)
        seg_pars = [segment_parameters(block_draws, seg) for seg in segments]
        counts = []
        for seg in segments:
            if (seg, block) not in shared.counts:
                shared.counts[(seg, block)] = _candidate_counts(scenario, seg, block_draws, seed, block)
            counts.append(shared.counts[(seg, block)])
        plan.append(_BlockPlan(block, np.flatnonzero(blocks == block), par, seg_pars, counts, block_draws))
    return plan


def _simulate_scheme(
    scenario: Scenario,
    name: str,
    seed: int,
    reps: np.ndarray,
    cache: dict[int, ParameterDraws],
    space: CandidateSpace,
    shared: _Shared | None = None,
) -> SchemeRecords:
    """Every stage of scheme ``name`` for replications ``reps``; ``cache`` holds blocks' parameter draws.

    Per block, candidates are drawn as arrays (numpy); uptake, vetting,
    funding and upgrade, sequential within a replication, run replication
    by replication in :func:`sim.engines.kernels.scheme_block`, which writes
    the applications of the chunk one after another.
    """
    shared = _Shared() if shared is None else shared
    plan = _plan(scenario, name, seed, reps, cache, shared)
    segments = scenario.schemes[name].segments
    room = sum(int(sum(c[1][reps[p.where] % BLOCK].sum() for c in p.counts)) for p in plan)
    room *= 2 if may_reapply(scenario.schemes[name]) else 1  # a re-application is a row of its own
    out = _new_output(len(reps), len(segments), space.rows(room))
    eligible = np.zeros((len(reps), len(segments)), dtype=np.int64)
    factor = completion_factors(scenario, name)
    # one table serves every block in turn: the segments' candidates side by side
    table, band = space.reserve(max(sum(int(c[1].sum()) for c in p.counts) for p in plan))
    groups, offset = [], 0
    for p in plan:
        cand = _block_candidates(scenario, name, seed, p, (table, band), shared)
        cols = reps[p.where] % BLOCK
        start = offset
        offset = kernels.scheme_block(
            cols, p.where, cand, _scheme_terms(scenario, name, p, factor), out, offset
        )
        if scenario.schemes[name].redirect_when_closed:
            _send_on(scenario, name, (p, cols, cand), (out, start), shared)
        eligible[p.where] = np.stack([c[0][cols] for c in p.counts], axis=1)
        groups.append((p.where, start, offset))
    return _records(_columns(out, offset), groups, eligible, out)


def _new_output(replications: int, segments: int, rows: tuple[np.ndarray, np.ndarray]) -> BlockOutput:
    """Empty output of the batch kernel for ``replications``, writing applications into ``rows``
    (FloatColumn rows, IntColumn rows)."""
    return BlockOutput(
        count=np.zeros(replications, dtype=np.int64),
        would_be=np.zeros((replications, segments), dtype=np.int64),
        exhaustion=np.empty(replications),
        exhausted_by=np.empty(replications, dtype=np.int8),
        floats=rows[0],
        ints=rows[1],
        reapplied=np.zeros((replications, segments), dtype=np.int64),
        reopenings=np.zeros(replications, dtype=np.int64),
    )


def _block_candidates(
    scenario: Scenario,
    name: str,
    seed: int,
    plan: _BlockPlan,
    space: tuple[np.ndarray, np.ndarray],
    shared: _Shared,
) -> Candidates:
    """The block's candidates of every segment, side by side in the table and band of ``space`` (filled
    here). ``shared`` keeps each shared segment's choice per block for the other schemes listing it,
    and the firms sent on to this scheme (R-REDIRECT)."""
    table, band = space
    parts, at = [], 0
    for seg, seg_par, (_, count, _) in zip(
        scenario.schemes[name].segments, plan.segments, plan.counts, strict=True
    ):
        draws = _segment_draws(scenario, name, (seed, seg, plan.block, count), shared)
        span = slice(at, at + draws.size)
        _segment_table(scenario, name, seg, plan.scheme, seg_par, draws, table[:, span], band[span])
        if choice.needs_choice(scenario, seg):
            key = (seg, plan.block)
            if key not in shared.choices:
                shared.choices[key] = _choices(scenario, name, seg, plan.parameters, draws, table[:, span])
            chosen = shared.choices[key] if draws.known is None else shared.choices[key][draws.known.where]
            index = scenario.schemes_of(seg).index(name)
            candidate_kernels.keep_chosen(table[CandidateRow.APPLY, span], chosen, index)
            if redirect.redirects(scenario):
                _take_redirected(scenario, (name, seg, plan.block), table[:, span], chosen == index, shared)
        parts.append((draws, at))
        at += draws.size
    return Candidates(
        # the whole table, whatever the block fills (one array layout, so one compiled version)
        table=table,
        band=band,
        first=np.stack([draws.first + at for draws, at in parts]),
        count=np.stack([draws.counts for draws, _ in parts]),
        a_max=np.stack([c[2] for c in plan.counts]),
    )


def _segment_draws(
    scenario: Scenario, name: str, where: tuple[int, str, int, np.ndarray], shared: _Shared
) -> _Draws:
    """The draws of scheme ``name``'s candidates of one segment in one block (``where``: seed,
    segment, block and candidates per replication).

    A segment several schemes list has the same candidates with the same draws in each (R-CHOICE).
    Where each scheme after the first funds only some costs (bounds), the first keeps the draws of
    the candidates those schemes may fund (:class:`_Kept`, in ``shared``) and the others take their
    candidates, only those, from it: the same numbers, not drawn again (a candidate the scheme
    cannot fund never applies to it). Not where firms are sent on (R-REDIRECT), which find their
    row by its place among all the segment's candidates.
    """
    seed, seg, block, count = where
    draws = _Draws(seed, seg, block, count)
    kept = shared.kept.get((seg, block))
    if kept is not None and name in kept.waiting:
        kept.waiting.discard(name)
        if not kept.waiting:
            del shared.kept[(seg, block)]
        return draws.subset(kept)
    later = _kept_for(scenario, seg)
    if (seg, block) not in shared.choices and later and name not in later:
        bounds = [choice.cost_bounds(scenario.schemes[other]) for other in later]
        draws.keeping = shared.kept[(seg, block)] = _Kept(bounds, set(later))
    return draws


def _kept_for(scenario: Scenario, seg: str) -> list[str]:
    """The schemes that take a shared segment's candidates from the first listing it (none if any of
    them funds every cost, or firms are sent on; see :func:`_segment_draws`)."""
    rivals = scenario.schemes_of(seg)
    later = rivals[1:]
    if not later or redirect.redirects(scenario):
        return []
    bounded = all(choice.cost_bounds(scenario.schemes[s]) != (0.0, np.inf) for s in later)
    return later if bounded else []


@dataclass
class _Kept:
    """The draws of one block's candidates of a shared segment that the schemes after the first may
    fund, kept by the first (:func:`_segment_draws`): the candidates' indices and count per
    replication, their band and cost, and each quantity's raw draws by (stage, quantity, kind).
    ``bounds`` are the later schemes' cost bounds, ``waiting`` those still to take them."""

    bounds: list[tuple[float, float]]
    waiting: set[str]
    where: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.int64))
    counts: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.int64))
    band: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype=np.int64))
    cost: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    raw: dict[tuple, np.ndarray] = dataclasses.field(default_factory=dict)
    started: bool = False  # the candidates are known (their band and cost drawn): draws are kept


@dataclass
class _Shared:
    """What the schemes of one chunk share: a segment's candidate counts per block (:func:`_plan`), a
    shared segment's choice per block (R-CHOICE) and the
    draws kept for the schemes after the first (:class:`_Kept`); per
    (scheme, segment, block) the firms sent on to the scheme in this pass and the schemes each
    candidate has applied to, as bits; per scheme the firms it sent on (R-REDIRECT,
    :class:`sim.engines.redirect.Redirected`)."""

    choices: dict[tuple[str, int], np.ndarray] = dataclasses.field(default_factory=dict)
    counts: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = dataclasses.field(
        default_factory=dict
    )
    kept: dict[tuple[str, int], _Kept] = dataclasses.field(default_factory=dict)
    incoming: dict[tuple, redirect.Redirected] = dataclasses.field(default_factory=dict)
    tried: dict[tuple[str, str, int], np.ndarray] = dataclasses.field(default_factory=dict)
    sent: dict[str, dict[tuple, redirect.Redirected]] = dataclasses.field(default_factory=dict)


def _take_redirected(
    scenario: Scenario, key: tuple[str, str, int], part: np.ndarray, mine: np.ndarray, shared: _Shared
) -> None:
    """Candidates sent on to scheme ``key[0]`` apply to it at the week they were turned away (chance to
    apply infinite: kept whatever their thinning uniform); every candidate going to it has tried it."""
    name, seg, _ = key
    tried = shared.tried[key] = np.zeros(part.shape[1], dtype=np.int64)
    tried[mine] = redirect.tried_bit(scenario, seg, name)
    got = shared.incoming.get(key)
    if got is not None:
        part[CandidateRow.APPLY, got.firm] = np.inf
        part[CandidateRow.ARRIVAL, got.firm] = got.week
        tried[got.firm] = got.tried | redirect.tried_bit(scenario, seg, name)


def _send_on(
    scenario: Scenario,
    name: str,
    block: tuple[_BlockPlan, np.ndarray, Candidates],
    written: tuple[BlockOutput, int],
    shared: _Shared,
) -> None:
    """Send the candidates scheme ``name`` turned away in one block to their next eligible scheme
    (into ``shared.sent[name]``).

    A turned-away application is found among its replication's candidates by its arrival week (the
    table's, copied into the application; continuous, so one candidate has it).
    """
    (p, cols, cand), (out, start) = block, written
    n = out.count[p.where]
    stop = start + int(n.sum())
    status = out.ints[IntColumn.STATUS, start:stop]
    segment = out.ints[IntColumn.SEGMENT, start:stop]
    week, cost = out.floats[FloatColumn.ARRIVAL, start:stop], out.floats[FloatColumn.COST, start:stop]
    col = np.repeat(cols, n)
    for k, seg in enumerate(scenario.schemes[name].segments):
        turned = np.flatnonzero((status == int(Status.TURNED_AWAY)) & (segment == k))
        if turned.size == 0 or len(scenario.schemes_of(seg)) < 2:  # no other scheme to go to
            continue
        at = cand.first[k, 0]  # the segment's first candidate in the table
        found = np.array([_candidate(cand, k, int(col[a]), float(week[a])) for a in turned], dtype=np.int64)
        turned, firm = turned[found >= 0], found[found >= 0] - at  # not found: a re-application (R-REAPPLY)
        tried = shared.tried[(name, seg, p.block)][firm]
        nxt = redirect.next_schemes(
            scenario, seg, p.parameters, col[turned], (cost[turned], week[turned], tried)
        )
        for r in np.unique(nxt[nxt != choice.NONE]).tolist():
            sel = nxt == r
            key = (scenario.schemes_of(seg)[r], seg, p.block)
            got = shared.sent.setdefault(name, {}).setdefault(key, redirect.Redirected.empty())
            got.add(firm[sel], week[turned][sel], tried[sel])


def _candidate(cand: Candidates, k: int, col: int, week: float) -> int:
    """The table index of segment ``k``'s would-be applicant in block column ``col`` arriving at ``week``
    (-1 if none: the application is a re-application, R-REAPPLY)."""
    lo = int(cand.first[k, col])
    rows = cand.table[:, lo : lo + int(cand.count[k, col])]
    keep = rows[CandidateRow.KEEP] * cand.a_max[k, col] < rows[CandidateRow.APPLY]
    hit = np.flatnonzero(keep & (rows[CandidateRow.ARRIVAL] == week))
    if hit.size > 1:
        raise RuntimeError(f"R-REDIRECT: {hit.size} candidates arrive at week {week!r} (expected one)")
    return lo + int(hit[0]) if hit.size else -1  # none: a re-application, which arrives later


def _choices(
    scenario: Scenario, name: str, seg_name: str, block_draws: ParameterDraws, draws: _Draws, part: np.ndarray
) -> np.ndarray:
    """Where each of one segment's candidates in a block takes its project: the index of the scheme
    among those listing the segment (R-CHOICE, :func:`sim.engines.choice.choose`).

    Every scheme listing the segment draws the same candidates with the same cost and timing
    uniform (one ``a_max`` and the segment's streams), so the first of them to need the choice
    computes it for all; a candidate going elsewhere gets chance 0 to apply. ``part`` is the
    candidates' table for scheme ``name`` (its own weeks are already there, its timing uniforms
    in ``draws``). Grants and weeks are made only for candidates whose cost fits several schemes
    (:func:`sim.engines.choice.choose_fitting`).
    """
    rivals = scenario.schemes_of(seg_name)
    bounds = [choice.cost_bounds(scenario.schemes[other]) for other in rivals]

    def options(where: np.ndarray) -> list[choice.Option]:
        return [_option(scenario, (name, other), block_draws, draws, part, where) for other in rivals]

    return choice.choose_fitting(part[CandidateRow.COST], bounds, options)


def _option(
    scenario: Scenario,
    schemes: tuple[str, str],
    block_draws: ParameterDraws,
    draws: _Draws,
    part: np.ndarray,
    where: np.ndarray,
) -> choice.Option:
    """Scheme ``schemes[1]``'s offer to the candidates at ``where`` of one segment's table ``part``
    (made for scheme ``schemes[0]``): their grants and their weeks under its timing, from the same
    timing uniforms (R-CHOICE)."""
    name, other = schemes
    par = scheme_parameters(block_draws, other)
    each = lambda x: x[0] if (x == x[0]).all() else np.repeat(x, draws.counts)  # noqa: E731
    at = lambda x: x[where] if np.ndim(x) else x  # noqa: E731
    if other == name:
        arrival = part[CandidateRow.ARRIVAL, where]
    else:
        assert draws.timing_uniforms is not None, "the scheme's own arrivals come first"
        timing = scheme_timing(par, scenario.window_length(other), each)
        times = application_time(draws.timing_uniforms[where], timing.take(where), has_bursts(timing))
        arrival = scenario.schemes[other].opens_week + times
    low, high = choice.cost_bounds(scenario.schemes[other])
    grant = rules.grant(
        part[CandidateRow.COST, where], at(each(par.max_grant_hkd)), at(each(par.matching_ratio))
    )
    return choice.Option(grant, arrival, low, high, scenario.window(other))


def _scheme_terms(scenario: Scenario, name: str, plan: _BlockPlan, factor: np.ndarray) -> SchemeTerms:
    """The batch kernel's terms for one block of scheme ``name``."""
    scheme = scenario.schemes[name]
    return _kernel_terms(
        _parameter_rows(plan.scheme, BLOCK),
        factor,
        float(scenario.window(name)),
        (scheme.allocation.rule, float(scheme.allocation.meeting_interval_weeks), call_close(scenario, name)),
        bool(scheme.close_on_exhaustion),
        (float(scenario.horizon_weeks), float(scenario.end_weeks)),
        change_table(policy_changes(scheme)),
    )


def _kernel_terms(
    parameters: np.ndarray,
    factor: np.ndarray,
    window: float,
    allocation: tuple[str, float, float],
    close: bool,
    period: tuple[float, float],
    changes: np.ndarray | None = None,
) -> SchemeTerms:
    """The compiled kernel's terms, the one place a scheme's allocation rule becomes kernel codes.

    ``allocation`` is the rule's name, the meeting interval and the call's close in weeks; the
    kernel gets the declared rule's properties
    (:data:`sim.engines.allocation.ALLOCATION_RULES`), never its name.
    ``period`` is the horizon and the end of the follow-up, in weeks; ``changes`` the dated
    changes (:func:`sim.engines.timeline.change_table`).
    """
    rule = allocation_rule(allocation[0])
    return SchemeTerms(
        parameters=parameters,
        completion_factor=factor,
        window=window,
        interval=rule.meeting_interval(allocation[1]),
        decided_at=int(rule.decided_at),
        order=int(rule.order),
        close=close,
        horizon=period[0],
        end=period[1],
        closing=allocation[2],
        changes=change_table(()) if changes is None else changes,
    )


def simulate_applicants(applicants: Applicants, terms: ProcessTerms) -> SchemeRecords:
    """Only the process rules for one scheme's applications (the seam the worked examples use).

    The applications become the candidates of a one-replication block that all
    apply (``KEEP`` 0, ``APPLY`` and ``a_max`` 1, no window), grouped by segment, and run
    through the compiled kernel of the normal path
    (:func:`sim.engines.kernels.scheme_block`). ``eligible`` and
    ``would_be`` of the result count the applicants.
    """
    segments = terms.completion_factor.shape[0]
    order = np.argsort(applicants.segment, kind="stable")  # by segment, each in order of arrival
    table = np.zeros((len(CandidateRow), max(applicants.size, 1)))
    for row, values in _candidate_rows(applicants, allocation_rule(terms.rule).ranks_by_ticket).items():
        table[row, : applicants.size] = np.broadcast_to(values, (applicants.size,))[order]
    count = np.bincount(applicants.segment, minlength=segments).astype(np.int64)
    cand = Candidates(
        table=table,
        band=np.ascontiguousarray(applicants.band[order], dtype=np.int64),
        first=np.ascontiguousarray((np.cumsum(count) - count)[:, None]),
        count=np.ascontiguousarray(count[:, None]),
        a_max=np.ones((segments, 1)),
    )
    kernel_terms = _kernel_terms(
        _parameter_rows(terms, 1),
        terms.completion_factor,
        np.inf,  # every application given is made
        (terms.rule, float(terms.meeting_interval_weeks), float(terms.closes_week)),
        bool(terms.close_on_exhaustion),
        (float(terms.horizon), float(terms.end)),
        change_table(terms.changes),
    )
    out = _new_output(1, segments, fresh_rows(applicants.size * (2 if terms.reapply_probability > 0 else 1)))
    first = np.zeros(1, dtype=np.int64)
    stop = kernels.scheme_block(first, first, cand, kernel_terms, out, 0)
    groups = [(np.arange(1), 0, stop)]
    return _records(_columns(out, stop), groups, count[None, :], out)


def _candidate_rows(a: Applicants, ticketed: bool) -> dict[CandidateRow, np.ndarray | float]:
    """The candidate-table rows of applications that all apply (``ticketed``: the rule ranks by ticket)."""
    return {
        CandidateRow.COST: a.cost,
        CandidateRow.GRANT: a.grant,
        CandidateRow.APPLY: 1.0,
        CandidateRow.KEEP: 0.0,
        CandidateRow.ARRIVAL: a.arrival,
        CandidateRow.DECIDE: a.decide,
        CandidateRow.COMPLETE: a.complete,
        CandidateRow.NO_GAIN: a.no_gain,
        CandidateRow.GAIN: a.gain,
        CandidateRow.DEADWEIGHT: a.deadweight,
        CandidateRow.VALUE_ADDED: a.value_added,
        CandidateRow.REVIEW: a.review,
        CandidateRow.DURATION: a.duration,
        CandidateRow.READINESS: a.readiness,
        CandidateRow.TICKET: a.tickets(needed=ticketed),
        **_second_try_rows(a),
    }


def _second_try_rows(a: Applicants) -> dict[CandidateRow, np.ndarray | float]:
    """The candidate-table rows of the applications' re-application draws (R-REAPPLY; none: 0,
    which a reapply probability of 0 never reads)."""
    second = a.second
    if second is None:
        return {}
    return {
        CandidateRow.AGAIN: second.chance,
        CandidateRow.AGAIN_DELAY: second.delay,
        CandidateRow.AGAIN_REVIEW: second.review,
        CandidateRow.AGAIN_DECIDE: second.decide,
        CandidateRow.AGAIN_TICKET: np.nan if second.ticket is None else second.ticket,
    }


def _records(
    columns: dict[str, np.ndarray],
    groups: list[tuple[np.ndarray, int, int]],
    eligible: np.ndarray,
    out: BlockOutput,
) -> FlatGroupedRecords:
    """The kernel's output as records, kept flat in groups (one per block).

    ``out`` gives the per-replication outputs (application counts, would-be
    applicants, exhaustion time and which limit binds); ``eligible`` the
    eligible firms per replication and segment.

    ``groups`` holds each block's positions in the chunk and the span of its
    applications in ``columns``; they follow one another, replication after
    replication, each in order of arrival (the slot order of padded records),
    so a group's columns are slices of the flat ones: no copies. Padded
    arrays are put together only if a field is read.
    """
    count, would_be, exhaustion, exhausted_by = out.count, out.would_be, out.exhaustion, out.exhausted_by
    order = np.concatenate([where for where, *_ in groups])
    n = count[order]
    rep, slot = np.empty(int(n.sum()), dtype=np.int64), np.empty(int(n.sum()), dtype=np.int64)
    flat_kernels.rows_and_slots(order.astype(np.int64, copy=False), n, rep, slot)
    flat_groups = []
    for where, first, stop in groups:
        m = count[where]
        flat = FlatRecords(
            rep=_rows(m),
            slot=slot[first:stop],
            width=padded_width(int(m.max(initial=0))),
            columns={key: columns[key][first:stop] for key in METRIC_FIELDS},
            eligible=eligible[where],
            would_be=would_be[where],
            exhaustion=exhaustion[where],
            exhausted_by=exhausted_by[where],
            replications=len(where),
            reapplied=out.reapplied[where],
            reopenings=out.reopenings[where],
        )
        flat_groups.append((where, flat))
    per_replication = {
        "eligible": eligible,
        "would_be": would_be,
        "exhaustion": exhaustion,
        "exhausted_by": exhausted_by,
        "reapplied": out.reapplied,
        "reopenings": out.reopenings,
    }
    return FlatGroupedRecords(flat_groups, columns, rep, slot, per_replication)


def _rows(count: np.ndarray) -> np.ndarray:
    """``numpy.repeat(numpy.arange(len(count)), count)``, in one compiled pass."""
    rep = np.empty(int(count.sum()), dtype=np.int64)
    flat_kernels.rows_of(count, rep)
    return rep


def _columns(out: BlockOutput, stop: int) -> dict[str, np.ndarray]:
    """Record fields as views of the kernel's output rows (named by the layouts)."""
    columns = {
        name: out.floats[row, :stop] for row, name in zip(FloatColumn, names(FloatColumn), strict=True)
    }
    for row, name in zip(IntColumn, names(IntColumn), strict=True):
        columns[name] = out.ints[row, :stop]
    for name in ("completes", "deadweight"):
        columns[name] = columns[name].view(np.bool_)
    return columns


# ---------------------------------------------------------------- the engine


def simulate_batch(
    scenario: Scenario,
    seed: int,
    reps: Sequence[int] | np.ndarray,
    draws: ParameterDraws | None = None,
    space: CandidateSpace | None = None,
) -> dict[str, SchemeRecords]:
    """Run replications ``reps`` as arrays; records per scheme, as :func:`sim.engines.des.simulate_des`.

    ``space`` is kept room for the candidate tables (a :class:`BatchEngine` passes its own).
    """
    check_supported(scenario)
    index = np.asarray(reps, dtype=np.int64)
    if draws is None:
        draws = draw_parameters(scenario, seed, index)
    for name in scenario.schemes:  # a renamed schema field fails here, before any work
        scheme_parameters(draws, name)
    cache = _whole_blocks(draws)
    space = CandidateSpace() if space is None else space
    shared = _Shared()  # a shared segment's choice per block (R-CHOICE), firms sent on (R-REDIRECT)
    if redirect.redirects(scenario):
        return _settle_with_redirects(scenario, seed, index, (cache, space), shared)
    return {
        name: _simulate_scheme(scenario, name, seed, index, cache, space, shared) for name in scenario.schemes
    }


def _settle_with_redirects(
    scenario: Scenario,
    seed: int,
    index: np.ndarray,
    memory: tuple[dict[int, ParameterDraws], CandidateSpace],
    shared: _Shared,
) -> dict[str, SchemeRecords]:
    """Every scheme with the firms other schemes turned away and sent on to it (R-REDIRECT), settled
    in passes over the whole chunk (:mod:`sim.engines.redirect`): each pass runs the schemes whose
    incoming firms changed in some replication, until none changes."""
    done: dict[str, SchemeRecords] = {}
    stale = set(scenario.schemes)
    for _ in range(redirect.MOST_PASSES):
        for name in [n for n in scenario.schemes if n in stale]:
            shared.sent[name] = {}
            done[name] = _simulate_scheme(scenario, name, seed, index, *memory, shared)
        now: dict[tuple, redirect.Redirected] = {}
        for part in shared.sent.values():
            for key, got in part.items():
                now.setdefault(key, redirect.Redirected.empty()).add(got.firm, got.week, got.tried)
        stale, shared.incoming = redirect.changed(shared.incoming, now), now
        if not stale:
            return {name: done[name] for name in scenario.schemes}
    raise RuntimeError(f"R-REDIRECT: not settled in {redirect.MOST_PASSES} passes")


#: Working memory one chunk may use (bytes). Measured on the baseline, larger chunks are slower
#: (their arrays are mapped afresh for every chunk), and smaller ones pay more per-chunk overhead.
MEMORY_BUDGET = 64 * 2**20

#: Largest chunk (replications), for scenarios with few firms.
MAX_CHUNK = 4096


class BatchEngine:
    """The batch engine under the :class:`~sim.engines.contract.Engine` contract."""

    name = NAME
    #: A chunk takes a few hundredths of a second: a worker process pays off only for many of them.
    chunks_per_worker = 32

    def __init__(self) -> None:
        self._space = CandidateSpace()

    def simulate(
        self, scenario: Scenario, seed: int, reps: np.ndarray, draws: ParameterDraws
    ) -> dict[str, SchemeRecords]:
        return simulate_batch(scenario, seed, reps, draws, self._space)

    def unsupported(self, scenario: Scenario) -> list[str]:
        return unsupported(scenario)

    def chunk_size(self, scenario: Scenario, seed: int, replications: int) -> int:
        """The largest whole number of blocks whose working memory fits :data:`MEMORY_BUDGET`.

        At most :data:`MAX_CHUNK`, whatever the number of replications, so peak
        memory does not grow with it; a run shorter than one chunk is one chunk.
        """
        per_rep = bytes_per_replication(scenario, seed)
        fits = max(1, int(MEMORY_BUDGET // max(per_rep, 1.0)) // BLOCK) * BLOCK
        return max(BLOCK, min(fits, MAX_CHUNK, -(-replications // BLOCK) * BLOCK))

    def working_memory(self, scenario: Scenario, seed: int, replications: int) -> int:
        """Bytes a chunk of ``replications`` needs: a chunk always holds whole blocks of :data:`BLOCK`."""
        blocks = max(1, -(-replications // BLOCK))
        return int(bytes_per_replication(scenario, seed) * blocks * BLOCK)


def _whole_blocks(draws: ParameterDraws) -> dict[int, ParameterDraws]:
    """The parameter draws of each block whose every replication is in ``draws``, by block (none redrawn)."""
    blocks = draws.reps // BLOCK
    cache = {}
    for block in np.unique(blocks).tolist():
        where = np.flatnonzero(blocks == block)
        if len(where) == BLOCK:  # replications are distinct, so these are all of the block's
            cache[block] = draws.take(where[np.argsort(draws.reps[where])])
    return cache


def bytes_per_replication(scenario: Scenario, seed: int) -> float:
    """Working memory of one replication in a chunk (bytes), from its expected number of candidates.

    Averages over the first block's parameter draws: a chunk's arrays hold its
    replications' candidates and applications one after another, so memory
    follows the mean count, not the largest.
    """
    draws = draw_parameters(scenario, seed, np.arange(BLOCK))
    candidates = 0.0
    for scheme in scenario.schemes.values():
        for seg_name in scheme.segments:
            seg = segment_parameters(draws, seg_name)
            a_max = _segment_chance(scenario, seg_name, draws)
            candidates += float((scenario.segments[seg_name].count * seg.eligible_share * a_max).mean())
    series = len(scenario.schemes) * 8 * 7 * (int(scenario.end_weeks) + 1)
    return candidates * _BYTES_PER_CANDIDATE + 2 * series


#: Working bytes per candidate (draws, applications, records, metrics), measured on the baseline.
_BYTES_PER_CANDIDATE = 120


def draw_counts(scenario: Scenario, seed: int, reps: np.ndarray) -> dict[str, float]:
    """Random values drawn for replications ``reps``, by kind, and how many of them were needed.

    Counts per quantity what :func:`simulate_batch` draws for the blocks the
    replications belong to (whole blocks, shared out over their replications);
    the two binomial counts per segment and block (a few hundred values) are
    left out. "uniform" counts draws made from uniforms
    (uniform, triangular, ...), "normal" the standard normals behind lognormal
    quantities, "exponential" the spacings behind application times. Every
    candidate uses every draw made for it, so "needed" equals what is drawn.
    """
    out = {"uniform": 0.0, "normal": 0.0, "exponential": 0.0}
    cache: dict[int, ParameterDraws] = {}
    blocks = np.unique(np.asarray(reps) // BLOCK)
    share = len(reps) / (len(blocks) * BLOCK)
    for name, scheme in scenario.schemes.items():
        for seg_name in scheme.segments:
            if name in _kept_for(scenario, seg_name):  # takes the first scheme's draws (_segment_draws)
                continue  # (a quantity the first does not draw is drawn in full: not counted here)
            bands = list(scenario.segments[seg_name].bands.values())
            firm = [
                [b.project_cost_hkd for b in bands],
                [b.value_added_hkd for b in bands],
                [scheme.vetting.review_weeks],
                [scheme.upgrade.duration_weeks],
                [schema.impact_of(scheme).gain],
            ]
            normal = sum(all(isinstance(d, dists.LogNormal) for d in group) for group in firm)
            # keep, decide, complete, no gain, deadweight; band; allocation rule's; other firm-level draws
            allocation = allocation_rule(scheme.allocation.rule).firm_uniforms
            uniform = 5 + (len(bands) > 1) + allocation + len(firm) - normal
            if may_reapply(scheme):  # chance, decide, a ticket where the rule ranks by one; delay, review
                again = [scheme.vetting.reapply_delay_weeks, scheme.vetting.review_weeks]
                lognormal = sum(isinstance(d, dists.LogNormal) for d in again)
                ticket = int(allocation_rule(scheme.allocation.rule).ranks_by_ticket)
                uniform += 2 + ticket + len(again) - lognormal
                normal += lognormal
            for block in blocks.tolist():
                block_draws = _block_parameters(scenario, seed, block, cache)
                candidates = int(_candidate_counts(scenario, seg_name, block_draws, seed, block)[1].sum())
                out["uniform"] += uniform * candidates * share
                out["normal"] += normal * candidates * share
                # the spacings behind application times (the choice among schemes reuses them)
                out["exponential"] += (candidates + BLOCK) * share
    out["needed"] = out["uniform"] + out["normal"] + out["exponential"]
    return out
