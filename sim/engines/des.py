"""The SimPy engine: every firm through every stage of MODEL.md, event by event.

This is the readable reference implementation. Per replication it

1. draws each segment's firms (band, eligibility, project cost, value added,
   readiness; under a lottery, a ticket) and each firm's later draws from the stage streams of
   :mod:`sim.rng`, one array per quantity indexed by firm, so a firm keeps its
   numbers when an unrelated parameter changes (common random numbers);
2. decides which scheme each firm's project goes to when several list its
   segment (R-CHOICE: the segment's streams give a firm the same project in each
   scheme's draw, so each scheme computes the same choice), who would apply
   (awareness and intent, MODEL.md 3) and when (the timing mixture of launch
   burst, deadline rush and Bass, R-UPTAKE-TIME);
3. runs one SimPy process per applicant: arrival, turn-away once the money is
   gone, first-come-first-served vetting on a ``simpy.Resource`` (whose seats for
   assessors a dated change adds are held until its week), decision at
   review end, at the next committee meeting or at a lottery's draw after the
   call's close, funding from the shared budget,
   upfront tranche, upgrade (on an integrator ``Resource`` when capacity is
   finite), completion or abandonment, final tranche;
4. returns :class:`SchemeRecords` per scheme and, on request, the per-firm trace.

Where a scheme sends the firms it turns away on (R-REDIRECT), each scheme runs on
its own clock and the replication is settled in passes
(:func:`_settle_with_redirects`, :mod:`sim.engines.redirect`).

Steps 1-2 end in a table of applications (:class:`~sim.engines.applicants.Applicants`)
and the scheme's terms; step 3, the process rules of the rule book
(:data:`sim.engines.rules.RULE_BOOK`), runs from there, in the normal path and
in :func:`simulate_applicants`, the seam the worked examples of
``tests/rules`` use.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim.engines import choice, redirect, rules
from sim.engines.allocation import AllocationRule, allocation_rule
from sim.engines.applicants import Applicants, ProcessTerms, process_terms
from sim.engines.parameters import (
    ParameterDraws,
    SchemeParameters,
    SegmentParameters,
    draw_parameters,
    scheme_parameters,
    segment_parameters,
)
from sim.engines.reapply import draw_second_tries, reapplication_week
from sim.engines.records import ExhaustedBy, SchemeRecords, Status, stack_records
from sim.engines.timeline import added_assessors, cap_in_force
from sim.engines.uptake import application_time, scheme_timing
from sim.rng import replication_stream, replication_streams
from sim.spec.scenario import Scenario, Scheme, impact_of

__all__ = [
    "DesEngine",
    "simulate_des",
    "simulate_replication",
    "simulate_applicants",
    "Firms",
    "draw_firms",
]


@dataclass
class Firms:
    """All firms of one scheme's segments in one replication, one array per quantity."""

    segment: np.ndarray
    band: np.ndarray
    eligible: np.ndarray
    readiness: np.ndarray
    cost: np.ndarray
    value_added: np.ndarray
    completion_factor: np.ndarray
    u_apply: np.ndarray
    u_time: np.ndarray
    review: np.ndarray
    u_decide: np.ndarray
    duration: np.ndarray
    u_complete: np.ndarray
    abandon_fraction: np.ndarray
    u_no_gain: np.ndarray
    gain_if_any: np.ndarray
    u_deadweight: np.ndarray
    ticket: np.ndarray | None = None  # lottery tickets, drawn only under a lottery (R-LOTTERY)

    @property
    def size(self) -> int:
        return len(self.segment)


def draw_firms(
    scenario: Scenario, scheme: Scheme, eligible_share: Sequence[float], seed: int, rep: int
) -> Firms:
    """Draw every firm of the scheme's segments from the per-stage streams.

    ``eligible_share[k]`` is the eligible share of the scheme's k-th segment in this replication.
    """
    parts: list[dict[str, np.ndarray]] = []
    for k, seg_name in enumerate(scheme.segments):
        seg = scenario.segments[seg_name]
        n = seg.count
        rng = replication_streams(seed, rep, seg_name)
        bands = list(seg.bands.values())
        pop = rng["population"]
        band = np.searchsorted(np.cumsum([b.share for b in bands]), pop.random(n), side="right")
        band = np.minimum(band, len(bands) - 1)
        eligible = pop.random(n) < eligible_share[k]
        readiness = pop.random(n)
        cost = np.empty(n)
        value_added = np.empty(n)
        factor = np.empty(n)
        for b, spec in enumerate(bands):
            in_band = band == b
            cost[in_band] = spec.project_cost_hkd.sample(pop, int(in_band.sum()))
            value_added[in_band] = spec.value_added_hkd.sample(pop, int(in_band.sum()))
            factor[in_band] = spec.completion_factor
        impl, imp = rng["implementation"], rng["impact"]
        parts.append(
            {
                "segment": np.full(n, k),
                "band": band,
                "eligible": eligible,
                "readiness": readiness,
                "cost": cost,
                "value_added": value_added,
                "completion_factor": factor,
                "u_apply": rng["uptake"].random(n),
                "u_time": rng["uptake"].random(n),
                "review": _sample(scheme.vetting.review_weeks, rng["vetting"], n),
                "u_decide": rng["approval"].random(n),
                "duration": _sample(scheme.upgrade.duration_weeks, impl, n),
                "u_complete": impl.random(n),
                "abandon_fraction": impl.random(n),
                "u_no_gain": imp.random(n),
                "gain_if_any": _sample(impact_of(scheme).gain, imp, n),
                "u_deadweight": imp.random(n),
            }
        )
    firms = Firms(**{key: np.concatenate([part[key] for part in parts]) for key in parts[0]})
    firms.ticket = _tickets(scheme, seed, rep, [scenario.segments[s].count for s in scheme.segments])
    return firms


def _tickets(scheme: Scheme, seed: int, rep: int, counts: list[int]) -> np.ndarray | None:
    """Each firm's lottery ticket, one uniform per firm from its segment's own ticket stream
    (the rule's ranking draw), or None where the rule does not rank by ticket: no other draw moves."""
    rule = allocation_rule(scheme.allocation.rule)
    if not rule.ranks_by_ticket or rule.ranking_draw is None:
        return None
    stage, quantity = rule.ranking_draw
    return np.concatenate(
        [
            replication_stream(seed, rep, stage, f"{seg_name}:{quantity}").random(n)
            for seg_name, n in zip(scheme.segments, counts, strict=True)
        ]
    )


def _sample(dist: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    return np.asarray(dist.sample(rng, n), dtype=float)


#: Event times kept per application; "reserve" is when an approved file joined the reserve list (R-CHANGE).
_TIMES = ("review_start", "review_end", "decision", "upgrade_start", "upgrade_end", "reserve")

# Status codes as plain ints: the event loop is the hot path.
_TURNED_AWAY, _IN_REVIEW, _WITHDRAWN, _REJECTED, _UNFUNDED, _AWARDED = (
    int(Status.TURNED_AWAY),
    int(Status.IN_REVIEW),
    int(Status.WITHDRAWN),
    int(Status.REJECTED),
    int(Status.UNFUNDED),
    int(Status.AWARDED),
)


@dataclass
class _SchemeRun:
    """The shared state of one scheme during a replication.

    Per-applicant inputs are plain Python lists indexed by ``j`` (applicants in
    order of arrival); the event loop reads and writes only these.
    """

    applicants: Applicants
    terms: ProcessTerms
    allocation: AllocationRule  # the declared rule named by ``terms.rule``
    vetting: simpy.Resource
    integrators: simpy.Resource | None
    approve_below: float  # u below this (and above the withdraw probability) means approved
    arrival: list[float]
    review: list[float]
    u_decide: list[float]
    grant: list[float]
    readiness: list[float]
    ticket: list[float]
    completes: list[bool]
    upgrade_weeks: list[float]  # full duration, or the abandoned fraction of it
    committed: float = 0.0
    awards: int = 0
    exhausted: bool = False
    exhausted_at: float = math.nan
    exhausted_by: int = int(ExhaustedBy.NONE)  # which limit binds (R-FUND), once exhausted
    limit: float = math.inf  # budget so far plus the rounding slack (grows at a top-up, R-CHANGE)
    places: float = math.inf  # places so far (grows at a top-up)
    closed_at: float = math.inf  # arrivals after this week are turned away (an early close, R-CHANGE)
    reserve: list[int] = field(default_factory=list)  # approved files not yet funded, in decision order
    turned: int = 0  # applications turned away (a draw at the close waits for the others only)
    reopenings: int = 0  # top-ups that reopened the exhausted scheme (R-CHANGE)
    #: Row -> the application it repeats: itself, or for a re-application (R-REAPPLY, appended
    #: after the applications) the rejected first application of the same firm.
    origin: list[int] = field(default_factory=list)
    pending: list[tuple[int, simpy.Event]] = field(default_factory=list)
    all_reviewed: simpy.Event | None = None  # under a draw at the close: every file has been reviewed
    status: list[int] = field(default_factory=list)
    times: dict[str, list[float]] = field(default_factory=dict)


def _scheme_run(env: simpy.Environment, applicants: Applicants, terms: ProcessTerms) -> _SchemeRun:
    """The shared state of one scheme, from its applications and terms (R-COMPLETE decided here)."""
    factor = terms.completion_factor[applicants.segment, applicants.band]
    prob = rules.completion_probability(terms.completion_probability, factor)
    completes = applicants.complete < prob
    weeks = applicants.duration * np.where(completes, 1.0, applicants.abandon_fraction)
    n = applicants.size
    return _SchemeRun(
        applicants=applicants,
        terms=terms,
        allocation=allocation_rule(terms.rule),
        vetting=simpy.Resource(env, capacity=terms.capacity + added_assessors(terms.changes)),
        integrators=None if terms.integrators is None else simpy.Resource(env, capacity=terms.integrators),
        approve_below=rules.approval_threshold(terms.withdraw_probability, terms.approval_probability),
        arrival=applicants.arrival.tolist(),
        review=applicants.review.tolist(),
        u_decide=applicants.decide.tolist(),
        grant=applicants.grant.tolist(),
        readiness=applicants.readiness.tolist(),
        ticket=applicants.tickets(needed=allocation_rule(terms.rule).ranks_by_ticket).tolist(),
        completes=completes.tolist(),
        upgrade_weeks=weeks.tolist(),
        status=[0] * n,
        times={k: [math.nan] * n for k in _TIMES},
        limit=terms.budget_hkd + rules.BUDGET_SLACK_HKD,
        places=float(terms.places),
        origin=list(range(n)),
    )


def _applicant(
    env: simpy.Environment, run: _SchemeRun, j: int, wait: float
) -> Generator[simpy.Event, Any, None]:
    """One application, arriving ``wait`` weeks from now."""
    yield env.timeout(wait)
    yield from _application(env, run, j)


def _application(env: simpy.Environment, run: _SchemeRun, j: int) -> Generator[simpy.Event, Any, None]:
    """Application ``j`` from its arrival (now): turn-away (R-TURN-AWAY), vetting (R-VET-FCFS),
    decision, upgrade."""
    if (run.exhausted and run.terms.close_on_exhaustion) or env.now > run.closed_at:
        run.status[j] = _TURNED_AWAY
        run.turned += 1
        _check_all_reviewed(run)
        return
    run.status[j] = _IN_REVIEW
    with run.vetting.request() as seat:
        yield seat
        if env.now > run.terms.horizon:
            return  # the scheme has ended: the file stays in review
        run.times["review_start"][j] = env.now
        yield env.timeout(run.review[j])
    if env.now > run.terms.horizon:
        return
    run.times["review_end"][j] = env.now
    if run.allocation.decides_together:
        decided = env.event()
        run.pending.append((j, decided))
        _check_all_reviewed(run)
        yield decided
    else:
        _decide(env, run, j)
    if run.status[j] == _AWARDED:
        yield from _upgrade(env, run, j)


def _check_all_reviewed(run: _SchemeRun) -> None:
    """Under a draw at the close: signal it once every application not turned away has been reviewed."""
    reviewed = run.all_reviewed
    if reviewed is None or reviewed.triggered:
        return
    if len(run.pending) + run.turned == len(run.arrival):
        reviewed.succeed()


def _decide(env: simpy.Environment, run: _SchemeRun, j: int) -> None:
    """Review outcome (R-DECIDE) and, if approved, funding from the remaining budget and places (R-FUND)."""
    run.times["decision"][j] = env.now
    u = run.u_decide[j]
    terms = run.terms
    cap = cap_in_force(terms.changes, env.now)
    if not math.isnan(cap):  # a dated change set the cap for files decided from its week (R-CHANGE)
        run.grant[j] = float(rules.grant(run.applicants.cost[run.origin[j]], cap, terms.matching_ratio))
    if u < terms.withdraw_probability:
        run.status[j] = _WITHDRAWN
    elif u >= run.approve_below:
        run.status[j] = _REJECTED
        _reapply(env, run, j)
    elif not run.exhausted and _fits(run, j):
        _award(run, j)
    else:
        if not run.exhausted and math.isnan(run.exhausted_at):  # the first exhaustion is the one kept
            run.exhausted_at = env.now
            run.exhausted_by = int(rules.binding_limit(run.awards, run.places))
        run.exhausted = True
        run.status[j] = _UNFUNDED
        run.reserve.append(j)
        run.times["reserve"][j] = env.now


def _reapply(env: simpy.Environment, run: _SchemeRun, j: int) -> None:
    """File ``j``, rejected now: if it is a first application and its firm reapplies (R-REAPPLY),
    its re-application arrives after the firm's delay (exactly ``now + delay``, as the rule
    computes it). None under a draw at the close (decided at or after the close)."""
    second = run.applicants.second
    if second is None or j >= run.applicants.size or run.allocation.decides_at_close:
        return
    week = reapplication_week(
        env.now, second.chance[j], second.delay[j], run.terms.reapply_probability, run.terms.last_arrival
    )
    if week != math.inf:
        env.process(_second_try(env, run, j, float(second.delay[j])))


def _second_try(
    env: simpy.Environment, run: _SchemeRun, j: int, delay: float
) -> Generator[simpy.Event, Any, None]:
    """File ``j``'s re-application: on arrival, a new row for the same firm and project with its
    second review's draws (rows of re-applications follow the applications, in order of arrival)."""
    yield env.timeout(delay)
    second = run.applicants.second
    assert second is not None
    k = len(run.arrival)
    run.origin.append(j)
    run.arrival.append(env.now)
    run.review.append(float(second.review[j]))
    run.u_decide.append(float(second.decide[j]))
    run.grant.append(float(run.applicants.grant[j]))  # the grant at the start's cap (a new cap: at decision)
    run.readiness.append(run.readiness[j])
    run.ticket.append(math.nan if second.ticket is None else float(second.ticket[j]))
    run.completes.append(run.completes[j])
    run.upgrade_weeks.append(run.upgrade_weeks[j])
    run.status.append(0)
    for times in run.times.values():
        times.append(math.nan)
    yield from _application(env, run, k)


def _fits(run: _SchemeRun, j: int) -> bool:
    """Whether file ``j``'s grant and one more award fit in the money and places left (R-FUND)."""
    return run.committed + run.grant[j] <= run.limit and run.awards < run.places


def _award(run: _SchemeRun, j: int) -> None:
    """Fund file ``j`` now."""
    run.committed += run.grant[j]
    run.awards += 1
    run.status[j] = _AWARDED


def _policy_change(env: simpy.Environment, run: _SchemeRun, k: int) -> Generator[simpy.Event, Any, None]:
    """Dated change ``k`` (R-CHANGE): at its week, money and places added and the reserve list funded
    in order while its first file fits (each award then, its upgrade starting); an emptied reserve
    list reopens the scheme. Or applications close: later arrivals are turned away. Or assessors
    join: the vetting resource has their seats from the start, held here (taken at the start, before
    any file asks) until the change's week, when they are released to the files waiting then, first
    come first served."""
    change = run.terms.changes[k]
    joining = [run.vetting.request() for _ in range(change.assessors)]
    assert all(seat.triggered for seat in joining), "R-CHANGE: new assessors' seats are held from the start"
    yield env.timeout(change.week)
    for seat in joining:
        run.vetting.release(seat)
    was_exhausted = run.exhausted
    run.limit += change.budget_hkd
    run.places += change.places
    if change.closes:
        run.closed_at = min(run.closed_at, change.week)
    while run.reserve and _fits(run, run.reserve[0]):
        j = run.reserve.pop(0)
        _award(run, j)
        run.times["decision"][j] = env.now  # the award time
        env.process(_upgrade(env, run, j))
    if not run.reserve:
        run.reopenings += was_exhausted
        run.exhausted = False


def _committee(env: simpy.Environment, run: _SchemeRun) -> Generator[simpy.Event, Any, None]:
    """Committee meetings (R-ROUNDS): every interval, decide the files reviewed since, in funding order."""
    interval = run.terms.meeting_interval_weeks
    while env.now + interval <= run.terms.horizon:  # no meeting after the scheme ends
        yield env.timeout(interval)
        _decide_pending(env, run)


def _draw_at_close(env: simpy.Environment, run: _SchemeRun) -> Generator[simpy.Event, Any, None]:
    """One draw (R-LOTTERY): once the call has closed and every file has been reviewed, decide them all.

    A file still in review at the horizon never joins (R-FOLLOW-UP), so then no draw is held.
    """
    close = run.terms.closes_week
    if run.all_reviewed is None or close > run.terms.horizon:
        return
    yield env.all_of([env.timeout(close), run.all_reviewed])
    _decide_pending(env, run)


def _decide_pending(env: simpy.Environment, run: _SchemeRun) -> None:
    """Decide the files waiting for a decision, in funding order (:func:`_meeting_rank`)."""
    batch, run.pending = run.pending, []
    batch.sort(key=lambda item: _meeting_rank(run, item[0]))
    for j, decided in batch:
        _decide(env, run, j)
        decided.succeed()


def _meeting_rank(run: _SchemeRun, j: int) -> float:
    """File ``j``'s place among files decided together, smallest first, as the rule orders them.

    Ranked by readiness: highest first; by ticket: lowest first; otherwise in order of arrival (``j``).
    """
    if run.allocation.ranks_by_ticket:
        return run.ticket[j]
    return -run.readiness[j] if run.allocation.ranks_by_readiness else float(j)


def _upgrade(env: simpy.Environment, run: _SchemeRun, j: int) -> Generator[simpy.Event, Any, None]:
    """The funded project (R-INTEGRATORS, R-COMPLETE): wait for an integrator, then complete or abandon."""
    if run.integrators is None:
        run.times["upgrade_start"][j] = env.now
        yield env.timeout(run.upgrade_weeks[j])
    else:
        with run.integrators.request() as slot:
            yield slot
            run.times["upgrade_start"][j] = env.now
            yield env.timeout(run.upgrade_weeks[j])
    run.times["upgrade_end"][j] = env.now


def _start(env: simpy.Environment, run: _SchemeRun) -> None:
    """One process per application and, under a rule that decides at meetings, the committee (at the
    close, the draw)."""
    for k in range(len(run.terms.changes)):  # first: a change goes before the decisions of its week
        env.process(_policy_change(env, run, k))
    for j in range(run.applicants.size):
        env.process(_applicant(env, run, j, run.arrival[j]))
    if run.allocation.decides_at_meetings:
        env.process(_committee(env, run))
    if run.allocation.decides_at_close and run.applicants.size > 0:
        run.all_reviewed = env.event()
        env.process(_draw_at_close(env, run))


def _run_until(env: simpy.Environment, end: float) -> None:
    """Run the events up to ``end``, those at exactly ``end`` included.

    ``end`` is the end of the follow-up: applications are taken and decided
    up to the horizon only (the processes stop there), upgrades go on to ``end``.
    """
    env.run(until=np.nextafter(end, np.inf))


def simulate_applicants(applicants: Applicants, terms: ProcessTerms) -> SchemeRecords:
    """Only the process rules for one scheme's applications (the seam the worked examples use).

    The normal path (:func:`simulate_replication`) runs the same functions on
    the applications it draws. ``eligible`` and ``would_be`` of the result
    count the applicants.
    """
    env = simpy.Environment()
    run = _scheme_run(env, applicants, terms)
    _start(env, run)
    _run_until(env, terms.end)
    counts = np.bincount(applicants.segment, minlength=terms.completion_factor.shape[0])
    return _records(run, counts, counts)


@dataclass
class _Population:
    """A scheme's firms in one replication and who of them applied (for counts and the trace)."""

    firms: Firms
    would_be: np.ndarray  # per firm
    applicants: np.ndarray  # firm index of applicant j
    choice: _Choice | None = None  # where each firm takes its project, when firms choose (R-CHOICE)
    tried: np.ndarray | None = None  # per firm: the schemes it applied to, as bits (R-REDIRECT)
    second: Any = None  # per firm: its re-application draws (R-REAPPLY), or None


def _prepare(
    scenario: Scenario,
    name: str,
    par: SchemeParameters,
    segments: list[SegmentParameters],
    i: int,
    seed: int,
    rep: int,
    draws: ParameterDraws | None = None,
) -> tuple[Applicants, _Population]:
    """Draw the scheme's firms and decide who applies and when (MODEL.md 1 and 3).

    ``par`` and ``segments`` (the scheme's, in its order) hold the parameters,
    ``i`` is the replication's position in them; ``draws`` holds every scheme's (for the firms'
    choice among schemes, R-CHOICE; drawn afresh for replication ``rep`` if not given).
    """
    scheme = scenario.schemes[name]
    firms = draw_firms(scenario, scheme, [float(s.eligible_share[i]) for s in segments], seed, rep)
    cap, ratio = float(par.max_grant_hkd[i]), float(par.matching_ratio[i])
    propensity = np.array([float(s.propensity[i]) for s in segments])[firms.segment]
    a = rules.would_apply_probability(
        propensity,
        rules.subsidy_rate(firms.cost, cap, ratio),
        float(par.reference_rate[i]),
        float(par.elasticity[i]),
    )
    would_be = firms.eligible & (firms.u_apply < a)
    chosen = _choices(scenario, name, firms, draws, i, seed, rep)
    if chosen is not None:
        would_be &= chosen.chosen
    t = _application_weeks(scenario, name, par, i, firms.u_time)
    order = _arrival_order(would_be & (t <= scenario.window(name)), t)
    counts = [scenario.segments[s].count for s in scheme.segments]
    second = draw_second_tries(scheme, list(scheme.segments), counts, seed, rep, firms.ticket is not None)
    applicants = _applicants(firms, order, t, rules.grant(firms.cost, cap, ratio), second)
    return applicants, _Population(firms, would_be, order, chosen, second=second)


def _arrival_order(applies: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The firms that apply, in order of arrival (ties: firm order)."""
    order = np.flatnonzero(applies)
    return order[np.argsort(t[order], kind="stable")]


def _applicants(firms: Firms, order: np.ndarray, t: np.ndarray, grant: np.ndarray, second: Any) -> Applicants:
    """The applications of firms ``order`` (in that order), arriving at ``t`` with grants ``grant``
    (both per firm) and their re-application draws ``second`` (per firm, or None)."""
    return Applicants(
        segment=firms.segment[order],
        band=firms.band[order],
        arrival=t[order],
        review=firms.review[order],
        decide=firms.u_decide[order],
        cost=firms.cost[order],
        grant=grant[order],
        value_added=firms.value_added[order],
        readiness=firms.readiness[order],
        ticket=None if firms.ticket is None else firms.ticket[order],
        second=None if second is None else second.take(order),
        duration=firms.duration[order],
        complete=firms.u_complete[order],
        abandon_fraction=firms.abandon_fraction[order],
        no_gain=firms.u_no_gain[order],
        gain=firms.gain_if_any[order],
        deadweight=firms.u_deadweight[order],
    )


@dataclass
class _Choice:
    """Where each firm of a scheme's segments takes its project (R-CHOICE), and why."""

    chosen: np.ndarray  # per firm: the project goes to this scheme
    scheme: np.ndarray  # per firm: the name of the scheme it goes to ("" if none)
    reason: np.ndarray  # per firm: why (:func:`sim.engines.choice.reasons`)


def _choices(
    scenario: Scenario, name: str, firms: Firms, draws: ParameterDraws | None, i: int, seed: int, rep: int
) -> _Choice | None:
    """Each firm's choice among the schemes listing its segment (R-CHOICE), or None where no segment of
    the scheme needs one (every firm goes to it)."""
    segments = scenario.schemes[name].segments
    if not any(choice.needs_choice(scenario, seg) for seg in segments):
        return None
    if draws is None:
        draws, i = draw_parameters(scenario, seed, [rep]), 0
    out = _Choice(
        np.ones(firms.size, bool),
        np.full(firms.size, name, object),
        np.full(firms.size, "only scheme", object),
    )
    for k, seg in enumerate(segments):
        rows = firms.segment == k
        rivals = scenario.schemes_of(seg)
        cost = firms.cost[rows]
        options = [
            _option(scenario, s, scheme_parameters(draws, s), i, cost, firms.u_time[rows]) for s in rivals
        ]
        picked = choice.choose(cost, options)
        out.chosen[rows] = picked == rivals.index(name)
        out.scheme[rows] = np.where(picked == choice.NONE, "", np.array(rivals, dtype=object)[picked])
        out.reason[rows] = choice.reasons(cost, options)
    return out


def _option(
    scenario: Scenario, name: str, par: SchemeParameters, i: int, cost: np.ndarray, u_time: np.ndarray
) -> choice.Option:
    """Scheme ``name``'s offer to firms with these costs and timing uniforms in replication ``i``."""
    low, high = choice.cost_bounds(scenario.schemes[name])
    return choice.Option(
        grant=rules.grant(cost, float(par.max_grant_hkd[i]), float(par.matching_ratio[i])),
        arrival=_application_weeks(scenario, name, par, i, u_time),
        min_cost=low,
        max_cost=high,
        window=scenario.window(name),
    )


def _application_weeks(
    scenario: Scenario, name: str, par: SchemeParameters, i: int, u: np.ndarray
) -> np.ndarray:
    """Each firm's would-be application week from its uniform (R-UPTAKE-TIME, MODEL.md 3c-d): the
    opening week plus the timing mixture's time (:func:`sim.engines.uptake.application_time`); past the
    close, never."""
    timing = scheme_timing(par, scenario.window_length(name), lambda values: float(values[i]))
    return scenario.schemes[name].opens_week + application_time(u, timing)


def _records(run: _SchemeRun, eligible: np.ndarray, would_be: np.ndarray) -> SchemeRecords:
    """The scheme's applications as one replication's :class:`SchemeRecords` (counts per segment given)."""
    a, terms, o = run.applicants, run.terms, np.asarray(run.origin, dtype=np.int64)
    gain = np.where(a.no_gain < terms.no_gain_probability, 0.0, a.gain)[o]
    segment = a.segment[o]

    def row(values: Any, dtype: Any = float) -> np.ndarray:
        return np.asarray(values, dtype=dtype)[None, :]

    return SchemeRecords(
        segment=row(segment, np.int64),
        band=row(a.band[o], np.int64),
        arrival=row(run.arrival),
        status=row(run.status, np.int8),
        review_start=row(run.times["review_start"]),
        decision=row(run.times["decision"]),
        readiness=row(run.readiness),
        cost=row(a.cost[o]),
        grant=row(run.grant),
        value_added=row(a.value_added[o]),
        upgrade_start=row(run.times["upgrade_start"]),
        upgrade_end=row(run.times["upgrade_end"]),
        completes=row(run.completes, bool),
        gain=row(gain),
        deadweight=row(a.deadweight[o] < terms.deadweight, bool),
        eligible=eligible[None, :],
        would_be=would_be[None, :],
        exhaustion=np.array([run.exhausted_at]),
        exhausted_by=np.array([run.exhausted_by], dtype=np.int8),
        reapplied=np.bincount(segment[a.size :], minlength=len(eligible))[None, :],
        reopenings=np.array([run.reopenings], dtype=np.int64),
    )


def simulate_replication(
    scenario: Scenario, seed: int, rep: int, draws: ParameterDraws | None = None, trace: bool = False
) -> tuple[dict[str, SchemeRecords], pd.DataFrame | None]:
    """Run replication ``rep`` on SimPy; return records per scheme and, if asked, the trace."""
    if draws is None:
        draws = draw_parameters(scenario, seed, [rep])
    i = int(np.flatnonzero(draws.reps == rep)[0])
    if redirect.redirects(scenario):
        runs, populations = _settle_with_redirects(scenario, seed, rep, draws, i)
    else:
        env = simpy.Environment()
        runs, populations = {}, {}
        for name in scenario.schemes:
            par = scheme_parameters(draws, name)
            segments = [segment_parameters(draws, s) for s in scenario.schemes[name].segments]
            applicants, populations[name] = _prepare(scenario, name, par, segments, i, seed, rep, draws)
            runs[name] = _scheme_run(env, applicants, process_terms(scenario, name, par, i))
            _start(env, runs[name])
        _run_until(env, scenario.end_weeks)
    records = {name: _population_records(run, populations[name]) for name, run in runs.items()}
    table = _trace(runs, populations, records, scenario, rep) if trace else None
    return records, table


def _settle_with_redirects(
    scenario: Scenario, seed: int, rep: int, draws: ParameterDraws, i: int
) -> tuple[dict[str, _SchemeRun], dict[str, _Population]]:
    """Every scheme to the end of the follow-up, with the firms other schemes turned away and sent on
    to it (R-REDIRECT), settled in passes (:mod:`sim.engines.redirect`): each pass runs, each on its
    own clock, the schemes whose incoming firms changed. Schemes share nothing else, so a pass gives
    what one clock would with those firms."""
    runs: dict[str, _SchemeRun] = {}
    populations: dict[str, _Population] = {}
    sent: dict[str, dict[tuple[str, str], redirect.Redirected]] = {}
    incoming: dict[tuple[str, str], redirect.Redirected] = {}
    stale = set(scenario.schemes)
    for _ in range(redirect.MOST_PASSES):
        for name in [n for n in scenario.schemes if n in stale]:
            par = scheme_parameters(draws, name)
            segments = [segment_parameters(draws, s) for s in scenario.schemes[name].segments]
            _, populations[name] = _prepare(scenario, name, par, segments, i, seed, rep, draws)
            applicants = _take_redirected(scenario, name, (par, i), populations[name], incoming)
            env = simpy.Environment()
            runs[name] = _scheme_run(env, applicants, process_terms(scenario, name, par, i))
            _start(env, runs[name])
            _run_until(env, scenario.end_weeks)
            sent[name] = _send_on(scenario, name, runs[name], populations[name], (draws, i))
        now = _merged(sent.values())
        stale, incoming = redirect.changed(incoming, now), now
        if not stale:
            return runs, populations
    raise RuntimeError(f"R-REDIRECT: replication {rep} not settled in {redirect.MOST_PASSES} passes")


def _merged(parts: Any) -> dict[tuple[str, str], redirect.Redirected]:
    """The firms every scheme sent, gathered per (receiving scheme, segment)."""
    out: dict[tuple[str, str], redirect.Redirected] = {}
    for part in parts:
        for key, got in part.items():
            out.setdefault(key, redirect.Redirected.empty()).add(got.firm, got.week, got.tried)
    return out


def _segment_starts(scenario: Scenario, name: str) -> np.ndarray:
    """Index of each segment's first firm among the scheme's firms (segments follow one another)."""
    counts = [scenario.segments[s].count for s in scenario.schemes[name].segments]
    return np.cumsum(counts) - counts


def _take_redirected(
    scenario: Scenario,
    name: str,
    at: tuple[SchemeParameters, int],
    population: _Population,
    incoming: dict[tuple[str, str], redirect.Redirected],
) -> Applicants:
    """The scheme's applications with the firms sent on to it (each applies at the week another
    scheme turned it away), marking them in ``population`` (would-be, tried, the trace's reason)."""
    par, i = at
    firms, scheme = population.firms, scenario.schemes[name]
    t = _application_weeks(scenario, name, par, i, firms.u_time)
    population.tried = np.zeros(firms.size, dtype=np.int64)
    for k, (seg, start) in enumerate(zip(scheme.segments, _segment_starts(scenario, name), strict=True)):
        population.tried[firms.segment == k] = redirect.tried_bit(scenario, seg, name)
        got = incoming.get((name, seg))
        if got is None:
            continue
        idx = start + got.firm
        t[idx], population.would_be[idx] = got.week, True
        population.tried[idx] |= got.tried
        if population.choice is not None:
            population.choice.scheme[idx], population.choice.reason[idx] = name, choice.REDIRECT
    population.applicants = _arrival_order(population.would_be & (t <= scenario.window(name)), t)
    grant = rules.grant(firms.cost, float(par.max_grant_hkd[i]), float(par.matching_ratio[i]))
    return _applicants(firms, population.applicants, t, grant, population.second)


def _send_on(
    scenario: Scenario,
    name: str,
    run: _SchemeRun,
    population: _Population,
    at: tuple[ParameterDraws, int],
) -> dict[tuple[str, str], redirect.Redirected]:
    """The firms scheme ``name`` turned away, sent to their next eligible scheme (R-REDIRECT), per
    (receiving scheme, segment); none if the scheme does not redirect."""
    out: dict[tuple[str, str], redirect.Redirected] = {}
    if not scenario.schemes[name].redirect_when_closed:
        return out
    # first applications only: a re-application turned away (R-REAPPLY) is not sent on
    turned = np.asarray(run.status[: run.applicants.size]) == _TURNED_AWAY
    firm, week = population.applicants[turned], run.applicants.arrival[turned]
    f, tried = population.firms, population.tried
    assert tried is not None
    starts = _segment_starts(scenario, name)
    for k, (seg, start) in enumerate(zip(scenario.schemes[name].segments, starts, strict=True)):
        rows = f.segment[firm] == k
        idx, when = firm[rows], week[rows]
        nxt = redirect.next_schemes(scenario, seg, at[0], at[1], (f.cost[idx], when, tried[idx]))
        for r in np.unique(nxt[nxt != choice.NONE]).tolist():
            sel = nxt == r
            got = out.setdefault((scenario.schemes_of(seg)[r], seg), redirect.Redirected.empty())
            got.add(idx[sel] - start, when[sel], tried[idx[sel]])
    return out


def _population_records(run: _SchemeRun, population: _Population) -> SchemeRecords:
    """Records of a scheme's run, with its eligible firms and would-be applicants counted per segment."""
    f, n_seg = population.firms, run.terms.completion_factor.shape[0]
    eligible = np.bincount(f.segment[f.eligible], minlength=n_seg)
    would_be = np.bincount(f.segment[population.would_be], minlength=n_seg)
    return _records(run, eligible, would_be)


def simulate_des(
    scenario: Scenario, seed: int, reps: Sequence[int] | np.ndarray, draws: ParameterDraws | None = None
) -> dict[str, SchemeRecords]:
    """Run replications ``reps`` one after another; records stacked per scheme."""
    if draws is None:
        draws = draw_parameters(scenario, seed, reps)
    for name in scenario.schemes:  # a renamed schema field fails here, before any work
        scheme_parameters(draws, name)
    per_rep = [simulate_replication(scenario, seed, int(r), draws)[0] for r in reps]
    return {name: stack_records([r[name] for r in per_rep]) for name in scenario.schemes}


class DesEngine:
    """The SimPy engine under the :class:`~sim.engines.contract.Engine` contract."""

    name = "des"
    #: A chunk takes a fraction of a second: two of them already pay for a worker process.
    chunks_per_worker = 2

    def simulate(
        self, scenario: Scenario, seed: int, reps: np.ndarray, draws: ParameterDraws
    ) -> dict[str, SchemeRecords]:
        return simulate_des(scenario, seed, reps, draws)

    def unsupported(self, scenario: Scenario) -> list[str]:
        return []

    def chunk_size(self, scenario: Scenario, seed: int, replications: int) -> int:
        """Small chunks (a few seconds each): at most 25, and about eight chunks a run."""
        return max(1, min(25, -(-replications // 8)))

    def working_memory(self, scenario: Scenario, seed: int, replications: int) -> int:
        """Bytes a chunk of ``replications`` needs: the records of the chunk, and the live SimPy
        objects of the one replication being simulated (about :data:`_DES_LIVE_FACTOR` times a
        replication's records)."""
        from sim.engines.batch import bytes_per_replication

        return int(bytes_per_replication(scenario, seed) * (replications + _DES_LIVE_FACTOR))


#: Memory of one replication's SimPy processes and events, in replications' records (an estimate:
#: a process object and its events take about 16 times the bytes of a candidate's array entries).
_DES_LIVE_FACTOR = 16


def _choice_columns(population: _Population, name: str) -> dict[str, np.ndarray]:
    """The trace's columns saying where each firm's project went and why (R-CHOICE)."""
    n, chosen = population.firms.size, population.choice
    if chosen is None:  # every firm's project goes to its one scheme
        return {"chosen_scheme": np.full(n, name, object), "choice_reason": np.full(n, "only scheme", object)}
    return {"chosen_scheme": chosen.scheme, "choice_reason": chosen.reason}


def _trace(
    runs: dict[str, _SchemeRun],
    populations: dict[str, _Population],
    records: dict[str, SchemeRecords],
    scenario: Scenario,
    rep: int,
) -> pd.DataFrame:
    """Every firm of every scheme: attributes, each timestamp and each outcome.

    One row per firm (``application`` 1; firms that did not apply have empty application columns),
    and a second row (``application`` 2) for each firm that reapplied after a rejection
    (R-REAPPLY), with its re-application's columns. ``status`` is at the horizon, ``upgrade``
    at the end of the follow-up; ``funded_from_reserve``: a top-up funded the file (R-CHANGE).
    """
    frames = []
    for name, run in runs.items():
        population = populations[name]
        firms = population.firms.size
        source = np.full(firms, -1)
        source[population.applicants] = np.arange(run.applicants.size)  # a firm's first application
        again = np.arange(run.applicants.size, len(run.arrival))  # re-applications, in order of arrival
        origin = np.asarray(run.origin, dtype=np.int64)
        frames.append(
            _trace_rows(run, population, records[name], scenario, (name, rep), np.arange(firms), source)
        )
        if len(again):
            firm = population.applicants[origin[again]]
            frames.append(_trace_rows(run, population, records[name], scenario, (name, rep), firm, again))
    return pd.concat(frames, ignore_index=True)


def _trace_rows(
    run: _SchemeRun,
    population: _Population,
    rec: SchemeRecords,
    scenario: Scenario,
    where: tuple[str, int],
    firm: np.ndarray,
    source: np.ndarray,
) -> pd.DataFrame:
    """Trace rows of scheme ``where[0]`` in replication ``where[1]``: row ``i`` shows firm ``firm[i]``
    and its application ``source[i]`` (a row of the records; -1: none)."""
    f, h, name = population.firms, scenario.end_weeks, where[0]
    has = source >= 0
    at = np.where(has, source, 0)

    def per_row(values: Any, fill: Any = np.nan, dtype: Any = float) -> np.ndarray:
        return np.where(has, np.asarray(values, dtype=dtype)[at] if len(values) else fill, fill).astype(dtype)

    status = rec.status[0]
    awarded = status == _AWARDED
    ended = awarded & (rec.upgrade_end[0] <= h)
    upgrade = np.where(ended, np.where(rec.completes[0], "completed", "abandoned"), "ongoing")
    segments = scenario.schemes[name].segments
    band_names = [list(scenario.segments[s].bands) for s in segments]
    return pd.DataFrame(
        {
            "replication": where[1],
            "scheme": name,
            "firm": firm,
            "application": np.where(source >= run.applicants.size, 2, 1),
            "segment": np.array(segments)[f.segment[firm]],
            "band": [band_names[s][b] for s, b in zip(f.segment[firm], f.band[firm], strict=True)],
            "eligible": f.eligible[firm],
            "would_be": population.would_be[firm],
            **{column: values[firm] for column, values in _choice_columns(population, name).items()},
            "readiness": f.readiness[firm],
            "project_cost_hkd": f.cost[firm],
            "value_added_hkd": f.value_added[firm],
            "application_week": per_row(run.arrival),
            "status": per_row([Status(s).name.lower() for s in status], "", object),
            "review_weeks": per_row(run.review),
            "review_start_week": per_row(run.times["review_start"]),
            "review_end_week": per_row(run.times["review_end"]),
            "decision_week": per_row(run.times["decision"]),
            "reserve_list_week": per_row(run.times["reserve"]),
            "funded_from_reserve": per_row(awarded & ~np.isnan(run.times["reserve"]), False, bool),
            "grant_hkd": per_row(run.grant),
            "upgrade_start_week": per_row(run.times["upgrade_start"]),
            "upgrade_end_week": per_row(run.times["upgrade_end"]),
            "upgrade": per_row(np.where(awarded, upgrade, ""), "", object),
            "gain": per_row(np.where(ended & rec.completes[0], rec.gain[0], np.nan)),
            "deadweight": per_row(rec.deadweight[0], False, bool),
        }
    )
