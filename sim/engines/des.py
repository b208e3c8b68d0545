"""The SimPy engine: every firm through every stage of MODEL.md, event by event.

This is the readable reference implementation. Per replication it

1. draws each segment's firms (band, eligibility, project cost, value added,
   readiness) and each firm's later draws from the stage streams of
   :mod:`sim.rng`, one array per quantity indexed by firm, so a firm keeps its
   numbers when an unrelated parameter changes (common random numbers);
2. decides who would apply (awareness and intent, MODEL.md 3) and when (Bass);
3. runs one SimPy process per applicant: arrival, turn-away once the money is
   gone, first-come-first-served vetting on a ``simpy.Resource``, decision at
   review end or at the next committee meeting, funding from the shared budget,
   upfront tranche, upgrade (on an integrator ``Resource`` when capacity is
   finite), completion or abandonment, final tranche;
4. returns :class:`SchemeRecords` per scheme and, on request, the per-firm trace.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim.engines import rules
from sim.engines.parameters import ParameterDraws, draw_parameters
from sim.engines.records import SchemeRecords, Status, stack_records
from sim.rng import replication_streams
from sim.spec.scenario import Scenario, Scheme

__all__ = ["DesEngine", "simulate_des", "simulate_replication", "Firms", "draw_firms"]


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

    @property
    def size(self) -> int:
        return len(self.segment)


def draw_firms(scenario: Scenario, scheme: Scheme, p: dict[str, float], seed: int, rep: int) -> Firms:
    """Draw every firm of the scheme's segments from the per-stage streams."""
    parts: list[dict[str, np.ndarray]] = []
    for k, seg_name in enumerate(scheme.segments):
        seg = scenario.segments[seg_name]
        n = seg.count
        rng = replication_streams(seed, rep, seg_name)
        bands = list(seg.bands.values())
        pop = rng["population"]
        band = np.searchsorted(np.cumsum([b.share for b in bands]), pop.random(n), side="right")
        band = np.minimum(band, len(bands) - 1)
        eligible = pop.random(n) < p[f"segments.{seg_name}.eligible_share"]
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
                "gain_if_any": _sample(scheme.impact.gain, imp, n),
                "u_deadweight": imp.random(n),
            }
        )
    return Firms(**{key: np.concatenate([part[key] for part in parts]) for key in parts[0]})


def _sample(dist: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    return np.asarray(dist.sample(rng, n), dtype=float)


_TIMES = ("review_start", "review_end", "decision", "upgrade_start", "upgrade_end")

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

    name: str
    scheme: Scheme
    firms: Firms
    applicants: np.ndarray  # firm index of applicant j
    would_be: np.ndarray  # per firm
    vetting: simpy.Resource
    integrators: simpy.Resource | None
    budget: float
    places: int
    withdraw: float  # P(withdrawn or ineligible at review end)
    approve_below: float  # u below this (and above withdraw) means approved
    close_on_exhaustion: bool
    arrival: list[float]
    review: list[float]
    u_decide: list[float]
    grant: list[float]
    readiness: list[float]
    completes: list[bool]
    upgrade_weeks: list[float]  # full duration, or the abandoned fraction of it
    committed: float = 0.0
    awards: int = 0
    exhausted: bool = False
    exhausted_at: float = math.nan
    pending: list[tuple[int, simpy.Event]] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    times: dict[str, list[float]] = field(default_factory=dict)


def _applicant(env: simpy.Environment, run: _SchemeRun, j: int) -> Generator[simpy.Event, Any, None]:
    """One application: arrival, vetting, decision, award and upgrade."""
    yield env.timeout(run.arrival[j])
    if run.exhausted and run.close_on_exhaustion:
        run.status[j] = _TURNED_AWAY
        return
    run.status[j] = _IN_REVIEW
    with run.vetting.request() as seat:
        yield seat
        run.times["review_start"][j] = env.now
        yield env.timeout(run.review[j])
    run.times["review_end"][j] = env.now
    if run.scheme.allocation.rule == "rounds":
        decided = env.event()
        run.pending.append((j, decided))
        yield decided
    else:
        _decide(env, run, j)
    if run.status[j] == _AWARDED:
        yield from _upgrade(env, run, j)


def _decide(env: simpy.Environment, run: _SchemeRun, j: int) -> None:
    """Review outcome and, if approved, funding from the remaining budget and places."""
    run.times["decision"][j] = env.now
    u = run.u_decide[j]
    if u < run.withdraw:
        run.status[j] = _WITHDRAWN
    elif u >= run.approve_below:
        run.status[j] = _REJECTED
    elif run.exhausted:
        run.status[j] = _UNFUNDED
    elif run.committed + run.grant[j] <= run.budget + rules.BUDGET_SLACK_HKD and run.awards < run.places:
        run.committed += run.grant[j]
        run.awards += 1
        run.status[j] = _AWARDED
    else:
        run.exhausted, run.exhausted_at = True, env.now
        run.status[j] = _UNFUNDED


def _committee(env: simpy.Environment, run: _SchemeRun) -> Generator[simpy.Event, Any, None]:
    """Committee rounds: every interval, decide the files reviewed since, best readiness first."""
    interval = run.scheme.allocation.meeting_interval_weeks
    while True:
        yield env.timeout(interval)
        batch, run.pending = run.pending, []
        batch.sort(key=lambda item: -run.readiness[item[0]])
        for j, decided in batch:
            _decide(env, run, j)
            decided.succeed()


def _upgrade(env: simpy.Environment, run: _SchemeRun, j: int) -> Generator[simpy.Event, Any, None]:
    """The funded project: wait for an integrator, then complete or abandon."""
    if run.integrators is None:
        run.times["upgrade_start"][j] = env.now
        yield env.timeout(run.upgrade_weeks[j])
    else:
        with run.integrators.request() as slot:
            yield slot
            run.times["upgrade_start"][j] = env.now
            yield env.timeout(run.upgrade_weeks[j])
    run.times["upgrade_end"][j] = env.now


def _prepare(
    env: simpy.Environment, scenario: Scenario, name: str, p: dict[str, float], seed: int, rep: int
) -> _SchemeRun:
    """Draw the scheme's firms, decide who applies and when, and set up the shared state."""
    scheme = scenario.schemes[name]
    firms = draw_firms(scenario, scheme, p, seed, rep)
    key = f"schemes.{name}."
    cap, ratio = p[key + "max_grant_hkd"], p[key + "matching_ratio"]
    propensity = np.array([p[f"segments.{s}.propensity"] for s in scheme.segments])[firms.segment]
    a = rules.would_apply_probability(
        propensity,
        rules.subsidy_rate(firms.cost, cap, ratio),
        p[key + "uptake.reference_rate"],
        p[key + "uptake.elasticity"],
    )
    would_be = firms.eligible & (firms.u_apply < a)
    t = rules.bass_inverse(firms.u_time, p[key + "uptake.bass_p"], p[key + "uptake.bass_q"])
    order = np.flatnonzero(would_be & (t <= scenario.window(name)))
    order = order[np.argsort(t[order], kind="stable")]
    prob = rules.completion_probability(
        p[key + "upgrade.completion_probability"], firms.completion_factor[order]
    )
    completes = firms.u_complete[order] < prob
    weeks = firms.duration[order] * np.where(completes, 1.0, firms.abandon_fraction[order])
    integrators = p.get(key + "upgrade.integrators")
    withdraw = p[key + "vetting.withdraw_probability"]
    n = len(order)
    return _SchemeRun(
        name=name,
        scheme=scheme,
        firms=firms,
        applicants=order,
        would_be=would_be,
        vetting=simpy.Resource(env, capacity=int(p[key + "vetting.capacity"])),
        integrators=None if integrators is None else simpy.Resource(env, capacity=int(integrators)),
        budget=p[key + "budget_hkd"],
        places=int(p[key + "places"]),
        withdraw=withdraw,
        approve_below=rules.approval_threshold(withdraw, p[key + "vetting.approval_probability"]),
        close_on_exhaustion=scheme.close_on_exhaustion,
        arrival=t[order].tolist(),
        review=firms.review[order].tolist(),
        u_decide=firms.u_decide[order].tolist(),
        grant=rules.grant(firms.cost[order], cap, ratio).tolist(),
        readiness=firms.readiness[order].tolist(),
        completes=completes.tolist(),
        upgrade_weeks=weeks.tolist(),
        status=[0] * n,
        times={k: [math.nan] * n for k in _TIMES},
    )


def _records(run: _SchemeRun, p: dict[str, float]) -> SchemeRecords:
    """The scheme's applications as one replication's :class:`SchemeRecords`."""
    f, idx = run.firms, run.applicants
    key = f"schemes.{run.name}."
    n_seg = len(run.scheme.segments)
    gain = np.where(f.u_no_gain[idx] < p[key + "impact.no_gain_probability"], 0.0, f.gain_if_any[idx])

    def row(values: Any, dtype: Any = float) -> np.ndarray:
        return np.asarray(values, dtype=dtype)[None, :]

    return SchemeRecords(
        segment=row(f.segment[idx], np.int64),
        band=row(f.band[idx], np.int64),
        arrival=row(run.arrival),
        status=row(run.status, np.int8),
        review_start=row(run.times["review_start"]),
        decision=row(run.times["decision"]),
        readiness=row(run.readiness),
        cost=row(f.cost[idx]),
        grant=row(run.grant),
        value_added=row(f.value_added[idx]),
        upgrade_start=row(run.times["upgrade_start"]),
        upgrade_end=row(run.times["upgrade_end"]),
        completes=row(run.completes, bool),
        gain=row(gain),
        deadweight=row(f.u_deadweight[idx] < p[key + "impact.deadweight"], bool),
        eligible=np.bincount(f.segment[f.eligible], minlength=n_seg)[None, :],
        would_be=np.bincount(f.segment[run.would_be], minlength=n_seg)[None, :],
        exhaustion=np.array([run.exhausted_at]),
    )


def simulate_replication(
    scenario: Scenario, seed: int, rep: int, draws: ParameterDraws | None = None, trace: bool = False
) -> tuple[dict[str, SchemeRecords], pd.DataFrame | None]:
    """Run replication ``rep`` on SimPy; return records per scheme and, if asked, the trace."""
    if draws is None:
        draws = draw_parameters(scenario, seed, [rep])
    p = draws.row(int(np.flatnonzero(draws.reps == rep)[0]))
    env = simpy.Environment()
    runs = {name: _prepare(env, scenario, name, p, seed, rep) for name in scenario.schemes}
    for run in runs.values():
        for j in range(len(run.applicants)):
            env.process(_applicant(env, run, j))
        if run.scheme.allocation.rule == "rounds":
            env.process(_committee(env, run))
    env.run(until=np.nextafter(scenario.horizon_weeks, np.inf))
    records = {name: _records(run, p) for name, run in runs.items()}
    table = _trace(runs, records, scenario, rep) if trace else None
    return records, table


def simulate_des(
    scenario: Scenario, seed: int, reps: Sequence[int], draws: ParameterDraws | None = None
) -> dict[str, SchemeRecords]:
    """Run replications ``reps`` one after another; records stacked per scheme."""
    if draws is None:
        draws = draw_parameters(scenario, seed, reps)
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


def _trace(
    runs: dict[str, _SchemeRun], records: dict[str, SchemeRecords], scenario: Scenario, rep: int
) -> pd.DataFrame:
    """Every firm of every scheme: attributes, each timestamp and each outcome.

    Firms that did not apply have empty application columns; ``status`` is the
    application's standing at the horizon and ``upgrade`` the project's.
    """
    frames = []
    h = scenario.horizon_weeks
    for name, run in runs.items():
        f, rec, idx, n = run.firms, records[name], run.applicants, run.firms.size

        def per_firm(values: Any, fill: Any = np.nan, dtype: Any = float, n=n, idx=idx) -> np.ndarray:
            out = np.full(n, fill, dtype=dtype)
            out[idx] = values
            return out

        status = rec.status[0]
        awarded = status == _AWARDED
        ended = awarded & (rec.upgrade_end[0] <= h)
        upgrade = np.where(ended, np.where(rec.completes[0], "completed", "abandoned"), "ongoing")
        band_names = [list(scenario.segments[s].bands) for s in run.scheme.segments]
        frames.append(
            pd.DataFrame(
                {
                    "replication": rep,
                    "scheme": name,
                    "firm": np.arange(n),
                    "segment": np.array(run.scheme.segments)[f.segment],
                    "band": [band_names[s][b] for s, b in zip(f.segment, f.band, strict=True)],
                    "eligible": f.eligible,
                    "would_be": run.would_be,
                    "readiness": f.readiness,
                    "project_cost_hkd": f.cost,
                    "value_added_hkd": f.value_added,
                    "application_week": per_firm(run.arrival),
                    "status": per_firm([Status(s).name.lower() for s in status], "", object),
                    "review_weeks": per_firm(run.review),
                    "review_start_week": per_firm(run.times["review_start"]),
                    "review_end_week": per_firm(run.times["review_end"]),
                    "decision_week": per_firm(run.times["decision"]),
                    "grant_hkd": per_firm(run.grant),
                    "upgrade_start_week": per_firm(run.times["upgrade_start"]),
                    "upgrade_end_week": per_firm(run.times["upgrade_end"]),
                    "upgrade": per_firm(np.where(awarded, upgrade, ""), "", object),
                    "gain": per_firm(np.where(ended & rec.completes[0], rec.gain[0], np.nan)),
                    "deadweight": per_firm(rec.deadweight[0], False, bool),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
