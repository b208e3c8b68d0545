"""The batch engine against the SimPy engine: equal in distribution, scenario by scenario.

Both engines run 400 replications of each scenario in ``scenarios/`` (100 of each in
``scenarios/observed/``: past schemes at full scale, whose SimPy runs take half a second each), of an
oversubscribed call decided by a lottery at its close, of a scheme topped up
after its places fill and closed early (R-CHANGE), of a scheme whose few reviewers fall
behind until more assessors join (R-CHANGE), of 20
randomly perturbed scenarios (every parameter drawn within its valid range by
a seeded generator, populations scaled down so the SimPy side stays fast; their
schemes have, at random, an opening week, launch bursts, deadline rushes,
lotteries, dated top-ups, early closes, more assessors and re-application after rejection) and
of 20 randomly perturbed intermediary schemes (operators, cohorts, tranches and,
in about two of three, an impact section valuing the start-ups: MODEL.md 6b,
R-PROGRAMME-IMPACT), and of 20 random choice scenarios (two schemes sharing a
segment that redirect the firms they turn away, R-CHOICE and R-REDIRECT; every
other one beside an intermediary scheme). The engines use different random
streams, so the two samples are independent.

Method. Per scenario, one family of tests:

* every scalar metric of every scheme (and of each segment of a scheme that
  serves several): Welch's two-sample t-test on the means and the two-sample
  Kolmogorov-Smirnov test (asymptotic; conservative for discrete metrics) on
  the distributions. Replications where a metric is undefined are left out;
  a metric with fewer than 10 defined values in either sample is skipped; one
  that is constant in both samples (but for floating-point rounding) must be
  the same constant; a metric that
  is 0 or 1 in every run (a share of runs, such as runs where the places fill)
  is tested with Fisher's exact test on the two counts instead;
* the weekly mean curves of cumulative applications and cumulative awards of
  every scheme, at weeks 4, 8, 12, ... (a joint band: Welch z-test at each
  week, all weeks in the family).

Each family is tested with Holm's step-down procedure at level
``1% / (number of scenarios)``, so that the overall chance of a false alarm in
this file is at most 1% (Bonferroni across scenarios). Invariants are checked
in every replication of both engines as well.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.engines.metrics import METRICS, SERIES, weeks
from sim.engines.parameters import draw_parameters
from sim.engines.programme_metrics import INTERMEDIARY_METRICS
from sim.engines.rules import BUDGET_SLACK_HKD
from sim.engines.startup_impact import STARTUP_BENEFIT
from sim.engines.timeline import top_up
from sim.experiments.executors import run_tasks
from sim.experiments.replicate import ChunkResult, replicate
from sim.spec.loader import load_scenario, scenario_from_dict
from sim.spec.scenario import Scenario
from tests.conftest import OBSERVED, shipped_scenarios
from tests.statistical.helpers import assessors_call_scenario, open_scheme_scenario, top_up_call_scenario

REPLICATIONS = 400
#: Replications of each scenario of a past scheme (``scenarios/observed``): fewer, for time; a
#: smaller sample lowers the tests' power, not their level (the false-alarm rate stays as stated).
OBSERVED_REPLICATIONS = 100
SEED = 20251118
PERTURBED = 20
PERTURBED_INTERMEDIARY = 20
CHOICE = 20
OVERALL_ALPHA = 0.01
CURVES = ("applications", "awards", "approvals")
MIN_DEFINED = 10


# ---------------------------------------------------------------- perturbed scenarios


def _maybe_uncertain(rng: np.random.Generator, lo: float, hi: float, *, probability: bool = False) -> Any:
    """A number in [lo, hi], or (one time in three) a distribution inside that range."""
    value = float(rng.uniform(lo, hi))
    if rng.random() > 1 / 3:
        return value
    if probability:
        sd = 0.25 * min(value, 1 - value)
        return {"dist": "beta", "mean": value, "sd": max(sd, 1e-3)}
    half = 0.25 * min(value - lo, hi - value)
    return {"dist": "uniform", "low": value - half, "high": value + half}


def _firm_dist(rng: np.random.Generator, median: float) -> dict[str, Any]:
    """A positive firm-level distribution around ``median``: lognormal, gamma, triangular or uniform."""
    kind = rng.choice(["lognormal", "lognormal", "gamma", "triangular", "uniform"])
    if kind == "lognormal":
        return {"dist": "lognormal", "median": median, "sigma": float(rng.uniform(0.1, 0.9))}
    if kind == "gamma":
        return {"dist": "gamma", "mean": median, "sd": float(rng.uniform(0.1, 0.8)) * median}
    if kind == "triangular":
        return {"dist": "triangular", "low": 0.2 * median, "mode": median, "high": 2.5 * median}
    return {"dist": "uniform", "low": 0.3 * median, "high": 1.7 * median}


def _segment(rng: np.random.Generator, label: str) -> dict[str, Any]:
    n_bands = int(rng.integers(1, 4))
    shares = rng.dirichlet(np.ones(n_bands))
    shares[-1] = 1.0 - shares[:-1].sum()
    bands = {
        f"b{b}": {
            "share": float(shares[b]),
            "project_cost_hkd": _firm_dist(rng, float(rng.uniform(2e5, 3e6))),
            "value_added_hkd": {"dist": "lognormal", "median": float(rng.uniform(5e5, 2e7)), "sigma": 0.8},
            "completion_factor": float(rng.uniform(0.8, 1.1)),
        }
        for b in range(n_bands)
    }
    return {
        "label": label,
        "count": int(rng.integers(300, 1200)),
        "eligible_share": _maybe_uncertain(rng, 0.3, 0.9, probability=True),
        "propensity": _maybe_uncertain(rng, 0.03, 0.3, probability=True),
        "bands": bands,
    }


def _scheme(rng: np.random.Generator, segments: list[str], horizon: float) -> dict[str, Any]:
    places = int(rng.integers(10, 150))
    grant = float(rng.uniform(5e4, 1e6))
    budget = float(places * grant * rng.uniform(0.3, 1.2))
    return {
        "segments": segments,
        "budget_hkd": budget
        if rng.random() > 1 / 3
        else {"dist": "uniform", "low": 0.8 * budget, "high": 1.2 * budget},
        "places": places,
        "max_grant_hkd": grant,
        "matching_ratio": _maybe_uncertain(rng, 0.5, 3.0),
        "application_window_weeks": float(rng.uniform(0.4, 1.0) * horizon) if rng.random() < 0.3 else None,
        "close_on_exhaustion": bool(rng.random() < 0.7),
        "admin_cost_per_application_hkd": float(rng.uniform(0, 20_000)),
        "uptake": {
            "reference_rate": 1 / 3,
            "elasticity": float(rng.uniform(0.0, 2.0)),
            "bass_p": _maybe_uncertain(rng, 0.002, 0.03),
            "bass_q": float(rng.uniform(0.0, 0.2)),
        },
        "vetting": {
            "capacity": int(rng.integers(1, 25)),
            "review_weeks": _firm_dist(rng, float(rng.uniform(2, 12))),
            "withdraw_probability": float(rng.uniform(0, 0.3)),
            "approval_probability": _maybe_uncertain(rng, 0.5, 1.0, probability=True),
        },
        "allocation": {
            "rule": str(rng.choice(["first_come", "rounds"])),
            "meeting_interval_weeks": float(rng.integers(2, 14)),
        },
        "upgrade": {
            **({"integrators": int(rng.integers(2, 40))} if rng.random() < 0.4 else {}),
            "duration_weeks": _firm_dist(rng, float(rng.uniform(10, 60))),
            "completion_probability": _maybe_uncertain(rng, 0.5, 1.0, probability=True),
        },
        "tranches": {"upfront_share": float(rng.uniform(0, 0.5))},
        "impact": {
            "no_gain_probability": float(rng.uniform(0, 0.5)),
            "gain": {"dist": "triangular", "low": 0.0, "mode": float(rng.uniform(0.01, 0.1)), "high": 0.25},
            "ramp_years": float(rng.uniform(0.5, 3)),
            "deadweight": _maybe_uncertain(rng, 0.1, 0.8, probability=True),
            "benefit_years": float(rng.integers(1, 10)),
            "discount_rate": float(rng.uniform(0, 0.1)),
        },
    }


def _with_dynamics(rng: np.random.Generator, scheme: dict[str, Any], horizon: float) -> dict[str, Any]:
    """``scheme`` with, at random, an opening week, a launch burst, a deadline rush, a lottery (at
    each meeting or at the call's close), a dated top-up, an early close and re-application after
    rejection (drawn from their own generator, so the rest of the scenario stays as it was)."""
    window = scheme["application_window_weeks"]
    if window is None and rng.random() < 0.3:
        scheme["opens_week"] = float(rng.uniform(0.0, 0.3 * horizon))
    length = window if window is not None else horizon - scheme.get("opens_week", 0.0)
    uptake = scheme["uptake"]
    if rng.random() < 0.5:
        uptake["launch_share"] = float(rng.uniform(0.05, 0.4))
        uptake["launch_weeks"] = float(rng.uniform(1.0, min(10.0, 0.3 * length)))
    if window is not None and rng.random() < 0.6:
        uptake["rush_share"] = float(rng.uniform(0.05, 0.3))
        uptake["rush_weeks"] = float(rng.uniform(1.0, min(6.0, 0.3 * length)))
    if rng.random() < 0.35:
        scheme["allocation"]["rule"] = (
            "lottery_at_close" if window is not None and rng.random() < 0.6 else "lottery"
        )
    changes: list[dict[str, Any]] = []
    if rng.random() < 0.5:
        places = int(rng.integers(5, 60))
        budget = float(places * scheme["max_grant_hkd"] * rng.uniform(0.3, 1.0))
        changes.append(
            {"week": float(rng.uniform(0.2, 0.7) * horizon), "places": places, "budget_hkd": budget}
        )
    if rng.random() < 0.3:
        changes.append({"week": float(rng.uniform(0.6, 0.95) * horizon), "closes": True})
    scheme["changes"] = sorted(changes, key=lambda change: change["week"])
    if rng.random() < 0.7:
        scheme["vetting"]["reapply_probability"] = _maybe_uncertain(rng, 0.2, 0.9, probability=True)
        scheme["vetting"]["reapply_delay_weeks"] = _firm_dist(rng, float(rng.uniform(3.0, 20.0)))
    return scheme


def _with_assessors(rng: np.random.Generator, scheme: dict[str, Any], horizon: float) -> dict[str, Any]:
    """``scheme`` with, two times in five, assessors added at a random week (R-CHANGE): one to twice
    its reviewers (from a generator of its own, so the scenarios without them stay as they were)."""
    if rng.random() < 0.4:
        added = int(rng.integers(1, 2 * scheme["vetting"]["capacity"] + 1))
        change = {"week": float(rng.uniform(0.1, 0.7) * horizon), "assessors": added}
        scheme["changes"] = sorted([*scheme["changes"], change], key=lambda c: c["week"])
    return scheme


def perturbed_scenario(k: int) -> Scenario:
    """Scenario ``k`` of the perturbed set: one or two schemes, one or two segments each, each
    scheme with some of the dynamics of :func:`_with_dynamics`."""
    rng = np.random.default_rng([20251118, k])
    horizon = float(rng.uniform(52, 156))
    segments = {name: _segment(rng, name) for name in ("alpha", "beta")}
    if rng.random() < 0.3:  # one scheme serving both segments
        schemes = {"joint": _scheme(rng, ["alpha", "beta"], horizon)}
    else:
        schemes = {"first": _scheme(rng, ["alpha"], horizon), "second": _scheme(rng, ["beta"], horizon)}
    dynamics = np.random.default_rng([20251118, k, 3])
    schemes = {name: _with_dynamics(dynamics, scheme, horizon) for name, scheme in schemes.items()}
    assessors = np.random.default_rng([20251118, k, 4])
    schemes = {name: _with_assessors(assessors, scheme, horizon) for name, scheme in schemes.items()}
    source = {
        "name": f"perturbed-{k}",
        "start_date": "2025-11-18",
        "horizon_weeks": horizon,
        "segments": segments,
        "schemes": schemes,
    }
    return scenario_from_dict(copy.deepcopy(source), f"perturbed-{k}")


def _startup_impact(k: int) -> dict[str, Any]:
    """In about two intermediary scenarios of three, an impact section valuing the start-ups
    (R-PROGRAMME-IMPACT), from a generator of its own so the rest of scenario ``k`` does not move."""
    rng = np.random.default_rng([20251118, 2000 + k])
    if rng.random() < 1 / 3:
        return {}
    values = {
        field: _maybe_uncertain(rng, 0.0, 5e6)
        for field in ("surviving_value_hkd", "relocated_value_hkd", "follow_on_value_hkd")
        if rng.random() < 0.7
    }
    return {
        "impact": {
            **(values or {"surviving_value_hkd": 1e6}),
            "deadweight": _maybe_uncertain(rng, 0.0, 0.9, probability=True),
            "discount_rate": float(rng.uniform(0, 0.1)),
        }
    }


def perturbed_intermediary_scenario(k: int) -> Scenario:
    """Intermediary scenario ``k``: operators funded by a call, cohorts of start-ups from another
    segment, every programme parameter drawn within its range (MODEL.md 6b)."""
    rng = np.random.default_rng([20251118, 1000 + k])
    horizon = float(rng.uniform(52, 156))
    operators, scheme = _accelerator(rng, horizon)
    scheme["programme"].update(_startup_impact(k))
    source = {
        "name": f"perturbed-intermediary-{k}",
        "start_date": "2025-11-18",
        "horizon_weeks": horizon,
        "follow_up_weeks": float(rng.uniform(0, 104)),
        "segments": {"operators": operators, "startups": _segment(rng, "startups")},
        "schemes": {"accelerator": scheme},
    }
    return scenario_from_dict(copy.deepcopy(source), f"perturbed-intermediary-{k}")


def _accelerator(rng: np.random.Generator, horizon: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """An ``operators`` segment and an intermediary scheme funding them, whose cohorts come from a
    ``startups`` segment (every programme parameter drawn within its range)."""
    operators = _segment(rng, "operators")
    operators["count"] = int(rng.integers(20, 80))
    operators["propensity"] = _maybe_uncertain(rng, 0.2, 0.8, probability=True)
    scheme = _scheme(rng, ["operators"], horizon)
    scheme["allocation"]["rule"] = str(rng.choice(["first_come", "rounds", "lottery_at_close"]))
    if scheme["allocation"]["rule"] == "lottery_at_close":
        scheme["application_window_weeks"] = float(rng.uniform(0.2, 0.6) * horizon)
    scheme["kind"] = "intermediary"
    del scheme["impact"]  # an intermediary scheme has no impact section of its own (MODEL.md 6b)
    scheme["programme"] = {
        "cohort_segment": "startups",
        "cohort_size_mean": _maybe_uncertain(rng, 1.0, 30.0),
        "cohort_interval_weeks": float(rng.uniform(8, 52)),
        "relocated_share": _maybe_uncertain(rng, 0.0, 1.0, probability=True),
        "survival_probability": _maybe_uncertain(rng, 0.2, 0.9, probability=True),
        "follow_on_probability": _maybe_uncertain(rng, 0.0, 0.6, probability=True),
        "tranches": int(rng.integers(1, 6)),
    }
    return operators, scheme


def choice_scenario(k: int) -> Scenario:
    """Choice scenario ``k`` (R-CHOICE, R-REDIRECT): two schemes listing one segment, one listing both,
    and in every other scenario an intermediary scheme beside them.

    ``narrow`` funds only projects above a cost drawn between HK$300k and HK$1.5M (up to a bound
    in half the cases), with three times ``wide``'s cap, and may open late or close early, so firms
    choose by grant (and by order on ties), by bounds and by window; ``wide`` serves ``alpha`` and
    ``beta``, ``narrow`` serves ``alpha`` only. Each redirects the firms it turns away with
    probability 0.8 (so in most scenarios both ways); ``narrow`` has few places and closes on
    exhaustion, and in half the cases closes early (a dated change), so firms are turned away.
    """
    rng = np.random.default_rng([20251118, 7, k])
    horizon = float(rng.uniform(52, 156))
    segments = {name: _segment(rng, name) for name in ("alpha", "beta")}
    wide = _scheme(rng, ["alpha", "beta"], horizon)
    narrow = _scheme(rng, ["alpha"], horizon)
    low = float(rng.uniform(3e5, 1.5e6))
    narrow["min_project_cost_hkd"] = low
    # the same matching and a larger cap: below both caps the grants tie (the scheme listed first
    # wins), above the wide cap the narrow scheme's grant is larger
    narrow["matching_ratio"] = wide["matching_ratio"]
    narrow["max_grant_hkd"] = 3 * wide["max_grant_hkd"]
    if rng.random() < 0.5:
        narrow["max_project_cost_hkd"] = low * float(rng.uniform(2, 6))
    if rng.random() < 0.5:
        narrow["opens_week"] = float(rng.uniform(0, 0.4) * horizon)
        narrow["application_window_weeks"] = None
        narrow["closes_week"] = narrow["opens_week"] + float(rng.uniform(0.2, 0.5) * horizon)
    order = ["narrow", "wide"] if rng.random() < 0.5 else ["wide", "narrow"]
    schemes = {name: {"narrow": narrow, "wide": wide}[name] for name in order}
    _turn_away(rng, narrow, wide, horizon)
    if k % 2 == 1:  # an intermediary scheme beside the direct ones, its start-ups a segment of their own
        segments["operators"], schemes["accelerator"] = _accelerator(rng, horizon)
        segments["startups"] = _segment(rng, "startups")
    source = {
        "name": f"choice-{k}",
        "start_date": "2025-11-18",
        "horizon_weeks": horizon,
        "segments": segments,
        "schemes": schemes,
    }
    return scenario_from_dict(copy.deepcopy(source), f"choice-{k}")


def _turn_away(
    rng: np.random.Generator, narrow: dict[str, Any], wide: dict[str, Any], horizon: float
) -> None:
    """Redirects (R-REDIRECT) and the turn-aways that set them off: ``narrow`` fills its few places
    and closes on exhaustion, and in half the cases closes early; each scheme redirects w.p. 0.8."""
    narrow["places"] = int(rng.integers(3, 30))
    narrow["close_on_exhaustion"] = True
    if rng.random() < 0.5:
        narrow["changes"] = [{"week": float(rng.uniform(0.2, 0.6) * horizon), "closes": True}]
    for scheme in (narrow, wide):
        scheme["redirect_when_closed"] = bool(rng.random() < 0.8)


# ---------------------------------------------------------------- both engines, once per module


def lottery_call_scenario() -> Scenario:
    """An oversubscribed call (about 240 applications for 50 places) decided by one lottery at its close."""
    return open_scheme_scenario(
        name="lottery-call",
        horizon_weeks=104,
        schemes={"open": {"places": 50, "closes_week": 40, "allocation": {"rule": "lottery_at_close"}}},
    )


def _cases() -> list[tuple[str, Scenario]]:
    cases = [(p.stem, load_scenario(p).scenario) for p in shipped_scenarios()]
    assert {"nifs-2020", "tvp-2016"} <= {name for name, _ in cases}  # past schemes too
    cases.append(("lottery-call", lottery_call_scenario()))
    cases.append(("top-up-call", top_up_call_scenario()))
    cases.append(("assessors-call", assessors_call_scenario()))
    cases += [(f"perturbed-{k}", perturbed_scenario(k)) for k in range(PERTURBED)]
    cases += [
        (f"perturbed-intermediary-{k}", perturbed_intermediary_scenario(k))
        for k in range(PERTURBED_INTERMEDIARY)
    ]
    return cases + [(f"choice-{k}", choice_scenario(k)) for k in range(CHOICE)]


CASES = _cases()
#: The cases that are scenarios of past schemes (:data:`OBSERVED_REPLICATIONS` each).
OBSERVED_CASES = frozenset(p.stem for p in OBSERVED.glob("*.toml"))


def replications(case: str) -> int:
    """Replications of ``case`` on each engine."""
    return OBSERVED_REPLICATIONS if case in OBSERVED_CASES else REPLICATIONS


def _join(parts: list[ChunkResult]) -> ChunkResult:
    parts = sorted(parts, key=lambda c: int(c.reps[0]))
    return ChunkResult(
        reps=np.concatenate([p.reps for p in parts]),
        table=pd.concat([p.table for p in parts], ignore_index=True),
        weekly={k: np.concatenate([p.weekly[k] for p in parts]) for k in parts[0].weekly},
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[ChunkResult, ChunkResult]]:
    """Every case on both engines: the SimPy side on two worker processes."""
    chunk = 50
    tasks, owners = [], []
    for name, scenario in CASES:
        for start in range(0, replications(name), chunk):
            tasks.append((scenario, SEED, np.arange(start, start + chunk), "des"))
            owners.append(name)
    des: dict[str, list[ChunkResult]] = {name: [] for name, _ in CASES}
    for i, result in run_tasks(replicate, tasks, workers=2):
        des[owners[i]].append(result)
    return {
        name: (_join(des[name]), replicate(scenario, SEED, np.arange(replications(name)), "batch"))
        for name, scenario in CASES
    }


# ---------------------------------------------------------------- the tests


#: Relative spread of a metric that is constant but for floating-point rounding (an average grant
#: when every grant is the cap is a sum divided by a count, rounded differently run by run).
ROUNDING = 1e-9


def _constant(x: np.ndarray) -> bool:
    """Whether every value equals the first, but for floating-point rounding (:data:`ROUNDING`)."""
    return bool(np.ptp(x) <= ROUNDING * max(1.0, abs(float(x[0]))))


def _scalar_pvalues(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, float]:
    out = {}
    for (scheme, segment), rows_a in a.groupby(["scheme", "segment"], sort=False):
        rows_b = b[(b["scheme"] == scheme) & (b["segment"] == segment)]
        for metric in METRICS + tuple(m for m in INTERMEDIARY_METRICS + STARTUP_BENEFIT if m in a.columns):
            x = rows_a[metric].to_numpy(dtype=float)
            y = rows_b[metric].to_numpy(dtype=float)
            x, y = x[np.isfinite(x)], y[np.isfinite(y)]
            key = f"{scheme}/{segment}/{metric}"
            if min(len(x), len(y)) < MIN_DEFINED:
                continue
            if _constant(x) and _constant(y):
                out[key + " (constant)"] = 1.0 if np.isclose(x[0], y[0], rtol=ROUNDING, atol=0) else 0.0
                continue
            if np.isin(x, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all():  # a share of runs: exact test
                table = [[x.sum(), len(x) - x.sum()], [y.sum(), len(y) - y.sum()]]
                out[key + " fisher"] = float(stats.fisher_exact(table).pvalue)
                continue
            with warnings.catch_warnings():  # one sample constant, the other nearly: scipy warns of
                # rounding in its moments, but Welch's statistic (a zero variance on one side) is exact
                warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
                out[key + " t"] = float(stats.ttest_ind(x, y, equal_var=False).pvalue)
            out[key + " ks"] = float(stats.ks_2samp(x, y, method="asymp").pvalue)
    return out


def _curve_pvalues(a: dict[str, np.ndarray], b: dict[str, np.ndarray], horizon: float) -> dict[str, float]:
    out = {}
    grid = weeks(horizon)
    for scheme in a:
        for series in CURVES:
            s = SERIES.index(series)
            for w in range(4, len(grid), 4):
                x, y = a[scheme][:, s, w], b[scheme][:, s, w]
                se = np.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
                if se == 0:
                    out[f"{scheme}/{series}/week {w} (constant)"] = 1.0 if x.mean() == y.mean() else 0.0
                    continue
                z = (x.mean() - y.mean()) / se
                out[f"{scheme}/{series}/week {w}"] = float(2 * stats.norm.sf(abs(z)))
    return out


def _holm_rejections(pvalues: dict[str, float], alpha: float) -> list[str]:
    """Hypotheses Holm's step-down procedure rejects at family-wise level ``alpha``."""
    ordered = sorted(pvalues.items(), key=lambda kv: kv[1])
    rejected = []
    for i, (key, p) in enumerate(ordered):
        if p > alpha / (len(ordered) - i):
            break
        rejected.append(f"{key}: p = {p:.2g}")
    return rejected


@pytest.mark.slow
@pytest.mark.parametrize("case", [name for name, _ in CASES])
def test_engines_agree_in_distribution(runs, case) -> None:
    scenario = dict(CASES)[case]
    des, batch = runs[case]
    pvalues = _scalar_pvalues(des.table, batch.table)
    pvalues |= _curve_pvalues(des.weekly, batch.weekly, scenario.end_weeks)
    assert len(pvalues) > 20
    rejected = _holm_rejections(pvalues, OVERALL_ALPHA / len(CASES))
    assert not rejected, f"{case}: engines differ on " + "; ".join(rejected)


@pytest.mark.parametrize("case", [name for name, _ in CASES])
def test_invariants_hold_on_both_engines(runs, case) -> None:
    scenario = dict(CASES)[case]
    draws = draw_parameters(scenario, SEED, np.arange(replications(case)))
    for result in runs[case]:
        for scheme in scenario.schemes:
            t = result.table[(result.table["scheme"] == scheme) & (result.table["segment"] == "all")]
            t = t.sort_values("replication")
            money, places = top_up(scenario.schemes[scheme])  # dated top-ups (R-CHANGE)
            assert (t["awarded"].to_numpy() <= draws.scheme(scheme, "places") + places).all()
            budget = draws.scheme(scheme, "budget_hkd") + money
            budget += BUDGET_SLACK_HKD * (draws.scheme(scheme, "places") + places)
            assert (t["committed_hkd"].to_numpy() <= budget).all()
            funnel = t["turned_away"] + t["in_review"] + t["withdrawn"] + t["rejected"] + t["approved"]
            assert (t["applications"] == funnel).all()
            assert (t["approved"] == t["unfunded"] + t["awarded"]).all()
            assert (t["awarded"] == t["completed"] + t["abandoned"] + t["ongoing"]).all()
            assert (t["applications"] - t["reapplications"] <= t["would_be"]).all()
            assert (t["reapplications"] <= t["rejected"]).all()
            if scenario.schemes[scheme].changes:  # a top-up may fund the reserve list: exhausted once
                assert (t["exhaustion_week"].notna() >= (t["unfunded"] > 0)).all()
            else:
                assert (t["exhaustion_week"].notna() == (t["unfunded"] > 0)).all()


def test_perturbed_scenarios_cover_every_rule() -> None:
    """The random scenarios exercise rounds, integrators, windows, shared schemes, open schemes and
    dated changes (top-ups, closes, more assessors)."""
    perturbed = [sc for name, sc in CASES if name.startswith("perturbed-")]
    schemes = [s for sc in perturbed for s in sc.schemes.values()]
    assert any(s.kind == "intermediary" for s in schemes)
    valued = [s.programme.impact is not None for s in schemes if s.programme is not None]
    assert len(valued) >= 20
    assert 0 < sum(valued) < len(valued)  # start-ups valued in some, not in others
    assert any(s.allocation.rule == "rounds" for s in schemes)
    assert any(s.upgrade.integrators is not None for s in schemes)
    assert any(s.application_window_weeks is not None for s in schemes)
    assert any(not s.close_on_exhaustion for s in schemes)
    assert any(len(s.segments) > 1 for s in schemes)
    assert any(s.opens_week > 0 for s in schemes)
    assert any(s.uptake.launch_share != 0 for s in schemes)
    assert any(s.uptake.rush_share != 0 for s in schemes)
    assert any(s.allocation.rule == "lottery" for s in schemes)
    assert any(s.allocation.rule == "lottery_at_close" for s in schemes)
    assert any(any(c.places > 0 for c in s.changes) for s in schemes)
    assert any(any(c.closes for c in s.changes) for s in schemes)
    assert sum(any(c.assessors > 0 for c in s.changes) for s in schemes) >= 5
    assert any(s.vetting.reapply_probability != 0 for s in schemes)
