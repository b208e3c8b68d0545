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

__all__ = ["simulate_des", "simulate_replication", "Firms", "draw_firms"]

NAME = "des"


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


@dataclass
class _SchemeRun:
    """The shared state of one scheme during a replication."""

    name: str
    scheme: Scheme
    p: dict[str, float]
    firms: Firms
    applicants: np.ndarray  # firm indices, in order of arrival
    arrival: np.ndarray
    grant: np.ndarray
    vetting: simpy.Resource
    integrators: simpy.Resource | None
    budget: float
    places: int
    committed: float = 0.0
    awards: int = 0
    exhausted_at: float = np.nan
    pending: list[tuple[int, simpy.Event]] = field(default_factory=list)
    times: dict[str, np.ndarray] = field(default_factory=dict)
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))

    def par(self, name: str) -> float:
        return self.p[f"schemes.{self.name}.{name}"]


def _applicant(env: simpy.Environment, run: _SchemeRun, j: int) -> Generator[simpy.Event, Any, None]:
    """One application: arrival, vetting, decision, award and upgrade."""
    firm = run.applicants[j]
    yield env.timeout(run.arrival[j])
    if run.scheme.close_on_exhaustion and not np.isnan(run.exhausted_at):
        run.status[j] = Status.TURNED_AWAY
        return
    run.status[j] = Status.IN_REVIEW
    with run.vetting.request() as seat:
        yield seat
        run.times["review_start"][j] = env.now
        yield env.timeout(run.firms.review[firm])
    run.times["review_end"][j] = env.now
    if run.scheme.allocation.rule == "rounds":
        decided = env.event()
        run.pending.append((j, decided))
        yield decided
    else:
        _decide(env, run, j)
    if run.status[j] == Status.AWARDED:
        yield from _upgrade(env, run, j)


def _decide(env: simpy.Environment, run: _SchemeRun, j: int) -> None:
    """Review outcome and, if approved, funding from the remaining budget and places."""
    run.times["decision"][j] = env.now
    u = run.firms.u_decide[run.applicants[j]]
    withdraw = run.par("vetting.withdraw_probability")
    if u < withdraw:
        run.status[j] = Status.WITHDRAWN
    elif u >= withdraw + (1 - withdraw) * run.par("vetting.approval_probability"):
        run.status[j] = Status.REJECTED
    elif not np.isnan(run.exhausted_at):
        run.status[j] = Status.UNFUNDED
    elif run.committed + run.grant[j] <= run.budget + rules.BUDGET_SLACK_HKD and run.awards < run.places:
        run.committed += run.grant[j]
        run.awards += 1
        run.status[j] = Status.AWARDED
    else:
        run.exhausted_at = env.now
        run.status[j] = Status.UNFUNDED


def _committee(env: simpy.Environment, run: _SchemeRun) -> Generator[simpy.Event, Any, None]:
    """Committee rounds: every interval, decide the files reviewed since, best readiness first."""
    interval = run.scheme.allocation.meeting_interval_weeks
    while True:
        yield env.timeout(interval)
        batch, run.pending = run.pending, []
        batch.sort(key=lambda item: -run.firms.readiness[run.applicants[item[0]]])
        for j, decided in batch:
            _decide(env, run, j)
            decided.succeed()


def _upgrade(env: simpy.Environment, run: _SchemeRun, j: int) -> Generator[simpy.Event, Any, None]:
    """The funded project: wait for an integrator, then complete or abandon."""
    firm = run.applicants[j]
    completes = run.times["completes"][j] > 0
    length = run.firms.duration[firm] * (1.0 if completes else run.firms.abandon_fraction[firm])
    if run.integrators is None:
        run.times["upgrade_start"][j] = env.now
        yield env.timeout(length)
    else:
        with run.integrators.request() as slot:
            yield slot
            run.times["upgrade_start"][j] = env.now
            yield env.timeout(length)
    run.times["upgrade_end"][j] = env.now


_TIMES = ("review_start", "review_end", "decision", "upgrade_start", "upgrade_end")


def _prepare(
    env: simpy.Environment, scenario: Scenario, name: str, p: dict[str, float], seed: int, rep: int
) -> _SchemeRun:
    scheme = scenario.schemes[name]
    firms = draw_firms(scenario, scheme, p, seed, rep)
    key = f"schemes.{name}."
    grant_all = rules.grant(firms.cost, p[key + "max_grant_hkd"], p[key + "matching_ratio"])
    rate = rules.subsidy_rate(firms.cost, p[key + "max_grant_hkd"], p[key + "matching_ratio"])
    propensity = np.array([p[f"segments.{s}.propensity"] for s in scheme.segments])[firms.segment]
    a = rules.would_apply_probability(
        propensity, rate, p[key + "uptake.reference_rate"], p[key + "uptake.elasticity"]
    )
    would_be = firms.eligible & (firms.u_apply < a)
    t = rules.bass_inverse(firms.u_time, p[key + "uptake.bass_p"], p[key + "uptake.bass_q"])
    applies = would_be & (t <= scenario.window(name))
    order = np.flatnonzero(applies)
    order = order[np.argsort(t[order], kind="stable")]
    integrators = p.get(key + "upgrade.integrators")
    run = _SchemeRun(
        name=name,
        scheme=scheme,
        p=p,
        firms=firms,
        applicants=order,
        arrival=t[order],
        grant=grant_all[order],
        vetting=simpy.Resource(env, capacity=int(p[key + "vetting.capacity"])),
        integrators=None if integrators is None else simpy.Resource(env, capacity=int(integrators)),
        budget=p[key + "budget_hkd"],
        places=int(p[key + "places"]),
    )
    n = len(order)
    run.times = {k: np.full(n, np.nan) for k in _TIMES}
    prob = rules.completion_probability(
        p[key + "upgrade.completion_probability"], firms.completion_factor[order]
    )
    run.times["completes"] = (firms.u_complete[order] < prob).astype(float)
    run.status = np.zeros(n, dtype=np.int8)
    run.times["_would_be"] = would_be.astype(float)  # kept for counts and the trace
    return run


def _records(run: _SchemeRun, scenario: Scenario) -> SchemeRecords:
    f, idx = run.firms, run.applicants
    n_seg = len(run.scheme.segments)
    would_be = run.times["_would_be"] > 0
    gain = np.where(f.u_no_gain[idx] < run.par("impact.no_gain_probability"), 0.0, f.gain_if_any[idx])
    return SchemeRecords(
        segment=f.segment[idx][None, :],
        band=f.band[idx][None, :],
        arrival=run.arrival[None, :],
        status=run.status[None, :].copy(),
        review_start=run.times["review_start"][None, :],
        decision=run.times["decision"][None, :],
        readiness=f.readiness[idx][None, :],
        cost=f.cost[idx][None, :],
        grant=run.grant[None, :],
        value_added=f.value_added[idx][None, :],
        upgrade_start=run.times["upgrade_start"][None, :],
        upgrade_end=run.times["upgrade_end"][None, :],
        completes=(run.times["completes"] > 0)[None, :],
        gain=gain[None, :],
        deadweight=(f.u_deadweight[idx] < run.par("impact.deadweight"))[None, :],
        eligible=np.bincount(f.segment[f.eligible], minlength=n_seg)[None, :],
        would_be=np.bincount(f.segment[would_be], minlength=n_seg)[None, :],
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
    records = {name: _records(run, scenario) for name, run in runs.items()}
    table = _trace(runs, records, scenario, rep) if trace else None
    return records, table


def simulate_des(scenario: Scenario, seed: int, reps: Sequence[int]) -> dict[str, SchemeRecords]:
    """Run replications ``reps`` one after another; records stacked per scheme."""
    draws = draw_parameters(scenario, seed, reps)
    per_rep = [simulate_replication(scenario, seed, int(r), draws)[0] for r in reps]
    return {name: stack_records([r[name] for r in per_rep]) for name in scenario.schemes}


def _trace(
    runs: dict[str, _SchemeRun], records: dict[str, SchemeRecords], scenario: Scenario, rep: int
) -> pd.DataFrame:
    """Every firm of every scheme: attributes, each timestamp and each outcome."""
    frames = []
    for name, run in runs.items():
        f, rec = run.firms, records[name]
        seg_names = np.array(run.scheme.segments)
        band_names = [list(scenario.segments[s].bands) for s in run.scheme.segments]
        n = f.size
        col = {k: np.full(n, np.nan) for k in ("arrival", *_TIMES, "review_weeks", "grant_hkd")}
        status = np.full(n, "", dtype=object)
        idx = run.applicants
        col["arrival"][idx] = run.arrival
        for k in _TIMES:
            col[k][idx] = run.times[k]
        col["review_weeks"][idx] = f.review[idx]
        col["grant_hkd"][idx] = run.grant
        status[idx] = [Status(s).name.lower() for s in run.status]
        upgrade = np.full(n, "", dtype=object)
        awarded = run.status == Status.AWARDED
        done = awarded & ~np.isnan(run.times["upgrade_end"])
        ok = run.times["completes"] > 0
        upgrade[idx[awarded]] = "ongoing"
        upgrade[idx[done & ok]] = "completed"
        upgrade[idx[done & ~ok]] = "abandoned"
        would_be = run.times["_would_be"] > 0
        frames.append(
            pd.DataFrame(
                {
                    "replication": rep,
                    "scheme": name,
                    "firm": np.arange(n),
                    "segment": seg_names[f.segment],
                    "band": [band_names[s][b] for s, b in zip(f.segment, f.band, strict=True)],
                    "eligible": f.eligible,
                    "would_be": would_be,
                    "readiness": f.readiness,
                    "project_cost_hkd": f.cost,
                    "value_added_hkd": f.value_added,
                    "application_week": col["arrival"],
                    "status": status,
                    "review_weeks": col["review_weeks"],
                    "review_start_week": col["review_start"],
                    "review_end_week": col["review_end"],
                    "decision_week": col["decision"],
                    "grant_hkd": col["grant_hkd"],
                    "upgrade_start_week": col["upgrade_start"],
                    "upgrade_end_week": col["upgrade_end"],
                    "upgrade": upgrade,
                }
            )
        )
        del rec
    return pd.concat(frames, ignore_index=True)
