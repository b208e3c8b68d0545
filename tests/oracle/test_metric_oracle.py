"""The compiled metric sums against the plain numpy oracle, on both engines.

Both engines hand their records to one compiled routine
(:func:`sim.engines.metrics.scheme_metrics`); :mod:`tests.oracle.reference`
recomputes every metric and weekly series from the same records and the
same parameter draws, from MODEL.md's definitions. Counts, quantiles and
exhaustion must agree exactly; sums of money and benefit to a relative
1e-12 (they add the same numbers in another order, so they may differ in
the last bits: some 1e-16 relative for a few thousand positive terms).

Scenarios are chosen to take every branch of the metrics: first-come and
committee rounds, integrators, matching and cap variants, a scheme serving
two segments (rows per segment and "all"), money and places running out with
and without turning applications away, tranche and impact parameters drawn
per replication, a horizon that is not a whole number of weeks,
replications where a ratio's denominator is zero, and replications from
several batch blocks asked for out of order (records in scattered groups).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.engines.metrics import ACCRUING, COUNTS, FOLLOW_UP_SUFFIX, METRICS, SERIES, scheme_metrics
from sim.engines.parameters import ParameterDraws, draw_parameters
from sim.engines.programme_metrics import REPLACED
from sim.engines.records import SchemeRecords
from sim.engines.registry import simulate_records
from sim.experiments.replicate import replicate
from sim.spec.loader import load_scenario, merge, scenario_from_dict
from sim.spec.scenario import Scenario
from tests.oracle.reference import reference_metrics, reference_series

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.toml"

#: Relative tolerance for sums taken in another order than the compiled loop's.
RTOL = 1e-12

#: Absolute tolerances for differences of sums (budget minus committed money): the difference of
#: two sums in another order keeps only the larger sum's absolute precision (about 1e-16 x HK$1e8),
#: so its relative error can pass RTOL when little money is left; a thousandth of a HK$ and 1e-12
#: of a share still catch any wrong term.
ATOL: dict[str, float] = {"unused_budget_hkd": 1e-3, "unused_budget_share": 1e-12}

#: Metrics compared by group, so a failure says which part of the model it is in.
GROUPS: dict[str, tuple[str, ...]] = {
    "funnel": COUNTS,
    "exhaustion": ("exhausted", "exhaustion_week"),
    "re-application and reopening": ("reapplications", "reopenings"),
    "limits": (
        "exhausted_by_money",
        "exhausted_by_places",
        "applications_below_places",
        "undersubscribed",
        "unused_budget_hkd",
        "unused_budget_share",
        "average_grant_hkd",
        "awards_at_cap_share",
    ),
    "waits": ("wait_mean_weeks", "wait_median_weeks", "wait_p90_weeks"),
    "money": (
        "committed_hkd",
        "paid_hkd",
        "released_hkd",
        "private_hkd",
        "admin_cost_hkd",
        "public_cost_hkd",
    ),
    "impact": ("additional_upgrades", "additional_gva_hkd", "pv_benefit_hkd"),
    "ratios": ("cost_per_additional_hkd", "benefit_cost_ratio", "leverage"),
    "follow-up": tuple(name + FOLLOW_UP_SUFFIX for name in ACCRUING),
}

#: Metrics and series that are counts, quantiles or copied times: equal to the bit.
EXACT = frozenset(
    (
        *COUNTS,
        "exhausted",
        "exhaustion_week",
        "exhausted_by_money",
        "exhausted_by_places",
        "applications_below_places",
        "undersubscribed",
        "awards_at_cap_share",  # a count over a count, computed alike
        "wait_median_weeks",
        "wait_p90_weeks",
        "additional_upgrades",
        *(f"{name}_follow_up" for name in ("completed", "abandoned", "ongoing", "additional_upgrades")),
    )
)
EXACT_SERIES = frozenset(("applications", "awards", "completions", "queue", "in_vetting", "approvals"))

#: Shipped variants: committee rounds, integrators limited, matching, cap (full baseline scale).
SHIPPED = ("committee-rounds", "integrators-limited", "matching-1-1", "cap-500k-200-places")

#: Changes to tests/data/small.toml, by case; ``None`` as a scheme removes it.
VARIANTS: dict[str, dict[str, Any]] = {
    "small": {},
    "two-segments": {
        "schemes": {
            "manufacturing_plus": {"segments": ["manufacturing_sme", "startup"]},
            "it_accelerator": None,
        }
    },
    "money-and-places-run-out": {
        "schemes": {
            "manufacturing_plus": {"budget_hkd": 2_500_000, "close_on_exhaustion": True},
            "it_accelerator": {"places": 6, "close_on_exhaustion": False},
        }
    },
    "tranches-and-impact-drawn": {
        "schemes": {
            "manufacturing_plus": {
                "admin_cost_per_application_hkd": {"dist": "uniform", "low": 0, "high": 20_000},
                "tranches": {"upfront_share": {"dist": "uniform", "low": 0.0, "high": 1.0}},
                "impact": {
                    "ramp_years": {"dist": "uniform", "low": 0.5, "high": 3.0},
                    "benefit_years": {"dist": "uniform", "low": 1, "high": 8},
                    "discount_rate": {"dist": "uniform", "low": 0.0, "high": 0.1},
                },
            },
            "it_accelerator": {
                "admin_cost_per_application_hkd": 0,
                "tranches": {"upfront_share": 1.0},
            },
        }
    },
    "rounds-two-segments-short-horizon": {
        "horizon_weeks": 60.5,
        "follow_up_weeks": 26.5,
        "schemes": {
            "manufacturing_plus": {
                "segments": ["manufacturing_sme", "startup"],
                "application_window_weeks": 30,
                "allocation": {"rule": "rounds", "meeting_interval_weeks": 4},
                "upgrade": {"integrators": 3},
            },
            "it_accelerator": None,
        },
    },
    "zero-denominators": {
        # the I&T Accelerator's operators hardly apply: runs with no decision and no public cost
        "segments": {"startup": {"propensity": 0.002}, "accelerator_operator": {"propensity": 0.002}},
        "schemes": {
            "manufacturing_plus": {"impact": {"deadweight": 1.0}},
            "it_accelerator": {"upgrade": {"completion_probability": 0.0}},
        },
    },
}


@dataclass(frozen=True)
class Run:
    """One simulation to check: a case, an engine, a seed and the replications to simulate."""

    case: str
    engine: str
    seed: int
    reps: tuple[int, ...]

    def __str__(self) -> str:
        if self.reps == tuple(range(len(self.reps))):
            return f"{self.case}-{self.engine}-{self.seed}"
        shown = "-".join(map(str, self.reps[:3])) + ("-etc" if len(self.reps) > 3 else "")
        return f"{self.case}-{self.engine}-{self.seed}-reps-{shown}"


def _first(n: int) -> tuple[int, ...]:
    """Replications 0..n-1."""
    return tuple(range(n))


#: Replications from three blocks of the batch engine, out of order: the metrics then read
#: records in groups of scattered rows, and must put each value back in its replication's place.
SCATTERED = (700, 3, 515, 10, 1030, 4, 1500, 511, 512)


def _runs() -> list[Run]:
    """Every case on both engines (batch: 64-128 replications, SimPy: 4-6), and scattered replications."""
    runs = []
    for case in VARIANTS:
        seeds = (1, 20251118) if case in ("small", "money-and-places-run-out") else (5,)
        for seed in seeds:
            runs += [Run(case, "batch", seed, _first(128)), Run(case, "des", seed, _first(6))]
    for case in SHIPPED:
        runs += [Run(case, "batch", 3, _first(64)), Run(case, "des", 3, _first(4))]
    runs += [Run("two-segments", "batch", 9, SCATTERED), Run("two-segments", "des", 9, SCATTERED[:3])]
    # a single replication: padded records of one row are read on their own path
    runs += [Run("money-and-places-run-out", engine, 9, (2,)) for engine in ("batch", "des")]
    return runs


RUNS = _runs()


def _drop_removed(source: dict[str, Any]) -> dict[str, Any]:
    """The scenario table without the schemes a variant set to ``None``."""
    schemes = {k: v for k, v in source["schemes"].items() if v is not None}
    return {**source, "schemes": schemes}


@functools.cache
def scenario(case: str) -> Scenario:
    """The scenario of a case: a shipped file, or a variant of tests/data/small.toml."""
    if case in SHIPPED:
        return load_scenario(ROOT / "scenarios" / f"{case}.toml").scenario
    source = merge(load_scenario(SMALL).source, VARIANTS[case])
    return scenario_from_dict(_drop_removed(source), path=f"<{case}>")


def _views(sc: Scenario) -> list[tuple[str, int | None, str]]:
    """(scheme, segment index or None, label) of every row a run reports, as replicate does."""
    views: list[tuple[str, int | None, str]] = []
    for name, scheme in sc.schemes.items():
        views.append((name, None, f"{name}/all"))
        if len(scheme.segments) > 1:
            views += [(name, k, f"{name}/{seg}") for k, seg in enumerate(scheme.segments)]
    return views


def _mismatch(where: str, name: str, got: np.ndarray, want: np.ndarray, exact: bool) -> list[str]:
    """A message naming the metric if ``got`` differs from the oracle's ``want`` (NaN equals NaN)."""
    try:
        if exact:
            np.testing.assert_array_equal(got, want, err_msg=f"{where}: {name}")
        else:
            atol = ATOL.get(name, 0.0)
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=atol, err_msg=f"{where}: {name}")
    except AssertionError as err:
        return [str(err)]
    return []


#: Branches of the metric code, each with the test on a row's oracle metrics that shows it was taken.
BRANCHES: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "exhausted inside the horizon": lambda m: m["exhausted"] > 0,
    "exhausted by money": lambda m: m["exhausted_by_money"] > 0,
    "exhausted by places": lambda m: m["exhausted_by_places"] > 0,
    "under-subscribed": lambda m: m["undersubscribed"] > 0,
    "fully subscribed": lambda m: m["undersubscribed"] == 0,
    "applications turned away": lambda m: m["turned_away"] > 0,
    "approved but unfunded": lambda m: m["unfunded"] > 0,
    "still in review at the horizon": lambda m: m["in_review"] > 0,
    "upgrades abandoned": lambda m: m["abandoned"] > 0,
    "upgrades ongoing": lambda m: m["ongoing"] > 0,
    "upgrades ending in the follow-up": lambda m: (
        m["completed_follow_up"] + m["abandoned_follow_up"] > m["completed"] + m["abandoned"]
    ),
    "no decision (empty waits)": lambda m: np.isnan(m["wait_median_weeks"]),
    "no additional upgrade (empty cost per additional)": lambda m: np.isnan(m["cost_per_additional_hkd"]),
    "no public cost (empty benefit-cost ratio)": lambda m: np.isnan(m["benefit_cost_ratio"]),
    "nothing paid (empty leverage)": lambda m: np.isnan(m["leverage"]),
}


@dataclass(frozen=True)
class RunCheck:
    """What checking one run found: mismatches by metric group, and the branches its rows took."""

    mismatches: dict[str, list[str]]
    branches: frozenset[str]


def _check_view(
    rec: SchemeRecords, draws: ParameterDraws, sc: Scenario, view: tuple[str, int | None, str]
) -> RunCheck:
    """Mismatches of one scheme or segment, by metric group and "series", and its branches."""
    name, segment, label = view
    h, end = sc.horizon_weeks, sc.end_weeks
    got = scheme_metrics(rec, draws, name, h, segment=segment, weekly=True, end=end)
    # as replicate's segment rows
    alone = scheme_metrics(rec, draws, name, h, segment=segment, weekly=False, end=end)
    want = reference_metrics(rec, draws, name, h, segment=segment, end=end)
    found = {
        group: [
            m
            for values, where in ((got.values, label), (alone.values, f"{label} (no series)"))
            for key in keys
            for m in _mismatch(where, key, values[key], want[key], key in EXACT)
        ]
        for group, keys in GROUPS.items()
    }
    series = reference_series(rec, draws, name, h, segment=segment, end=end)
    assert got.weekly is not None
    found["series"] = [
        m
        for i, key in enumerate(SERIES)
        for m in _mismatch(f"{label} weekly", key, got.weekly[:, i], series[key], key in EXACT_SERIES)
    ]
    taken = {branch for branch, shows in BRANCHES.items() if np.any(shows(want))}
    if segment is not None:
        taken.add("rows per segment")
    return RunCheck(found, frozenset(taken))


@functools.cache
def check(run: Run) -> RunCheck:
    """Every disagreement between the compiled metrics and the oracle in one run, by group.

    Cached per run (messages and branch names only, not records), so the
    tests of its groups simulate it once.
    """
    sc = scenario(run.case)
    reps = np.array(run.reps)
    records = simulate_records(sc, run.seed, reps, run.engine)
    draws = draw_parameters(sc, run.seed, reps)
    found: dict[str, list[str]] = {group: [] for group in (*GROUPS, "series")}
    taken: set[str] = set()
    for view in _views(sc):
        part = _check_view(records[view[0]], draws, sc, view)
        taken |= part.branches
        for group, messages in part.mismatches.items():
            found[group] += messages
    return RunCheck(found, frozenset(taken))


@pytest.mark.parametrize("group", [*GROUPS, "series"])
@pytest.mark.parametrize("run", RUNS, ids=str)
def test_compiled_metrics_equal_the_numpy_oracle(run: Run, group: str) -> None:
    """Each group of metrics (and the weekly series) of every row equals the oracle's."""
    found = check(run).mismatches[group]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("engine", ["batch", "des"])
def test_the_runs_of_each_engine_take_every_branch_of_the_metrics(engine: str) -> None:
    """The comparison would be vacuous for a branch no run takes (say, a scenario edited to never run out)."""
    taken = set().union(*(check(run).branches for run in RUNS if run.engine == engine))
    assert taken == {*BRANCHES, "rows per segment"}


#: Runs whose result table, as written to replications.parquet, is checked row by row.
TABLE_RUNS = (
    Run("two-segments", "batch", 5, _first(64)),
    Run("two-segments", "des", 5, _first(4)),
    Run("small", "batch", 1, _first(64)),
)


def _table_mismatches(run: Run) -> list[str]:
    """Disagreements between ``replicate``'s table and weekly series and the oracle on the same records."""
    sc = scenario(run.case)
    reps = np.array(run.reps)
    result = replicate(sc, run.seed, list(run.reps), run.engine)
    records = simulate_records(sc, run.seed, reps, run.engine)
    draws = draw_parameters(sc, run.seed, reps)
    table, h, end, found = result.table, sc.horizon_weeks, sc.end_weeks, []
    for name, segment, label in _views(sc):
        segment_label = "all" if segment is None else sc.schemes[name].segments[segment]
        rows = table[(table["scheme"] == name) & (table["segment"] == segment_label)]
        found += _mismatch(label, "replication", rows["replication"].to_numpy(), reps, exact=True)
        want = reference_metrics(records[name], draws, name, h, segment=segment, end=end)
        # an intermediary's programme replaces money paid and empties the direct outcomes; those are
        # checked in tests/rules/test_programme.py and tests/statistical/test_intermediary.py
        replaced = REPLACED if sc.schemes[name].kind == "intermediary" else ()
        for key in (k for k in METRICS if k not in replaced):
            found += _mismatch(f"{label} table", key, rows[key].to_numpy(), want[key], key in EXACT)
        if segment is None:
            series = reference_series(records[name], draws, name, h, end=end)
            for i, key in enumerate(SERIES):
                if key in replaced:
                    continue
                got = result.weekly[name][:, i]
                found += _mismatch(f"{label} weekly", key, got, series[key], key in EXACT_SERIES)
    if len(table) != len(_views(sc)) * len(reps):
        found.append(f"{len(table)} rows, expected one per replication and row of {_views(sc)}")
    return found


@pytest.mark.parametrize("run", TABLE_RUNS, ids=str)
def test_replicate_writes_the_oracle_metrics_in_every_row_of_its_table(run: Run) -> None:
    """The rows per scheme and per segment ("all" and each segment's name) hold the oracle's values."""
    found = _table_mismatches(run)
    assert not found, "\n".join(found)


def test_the_metric_groups_cover_every_metric_once() -> None:
    """A metric left out of the groups would never be compared."""
    names = [key for keys in GROUPS.values() for key in keys]
    assert sorted(names) == sorted(METRICS)


def test_the_oracle_computes_every_metric_and_series() -> None:
    """A metric or series added to the package without an oracle twin fails here."""
    sc = scenario("small")
    reps = np.arange(4)
    rec = simulate_records(sc, 11, reps, "batch")["manufacturing_plus"]
    draws = draw_parameters(sc, 11, reps)
    metrics = reference_metrics(rec, draws, "manufacturing_plus", sc.horizon_weeks)
    series = reference_series(rec, draws, "manufacturing_plus", sc.horizon_weeks)
    assert sorted(metrics) == sorted(METRICS)
    assert sorted(series) == sorted(SERIES)
