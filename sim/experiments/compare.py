"""Paired comparison of two scenarios on common random numbers.

Both scenarios run the same replications with the same seed, so replication
``k`` of A and of B see the same firms, the same parameter draws (where the
scenarios agree) and the same stage streams. The difference B - A is then
estimated replication by replication: its interval is usually far narrower
than the unpaired (Welch) interval of two independent runs, and comparing a
scenario with itself gives exactly zero.

Two different things are reported for each metric and must not be confused:
the confidence interval of the mean difference (its precision; it narrows as
runs are added) and the 5-95% range of the per-run difference (its spread: how
much B - A varies from one run to another; it does not narrow). With them,
the share of runs where B is better, for metrics where one direction is
better (:data:`BETTER`), with ties counted apart.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.engines.metrics import ACCRUING, FOLLOW_UP_SUFFIX
from sim.experiments.pipeline import Execution, plan_chunks
from sim.experiments.runner import RunResult, run_plan
from sim.spec.loader import LoadedScenario

__all__ = [
    "BETTER",
    "COMPARED",
    "CONFIDENCE",
    "CompareResult",
    "MisalignedScenarios",
    "SUBSET_METRICS",
    "check_aligned",
    "compared_metrics",
    "paired_differences",
    "run_compare",
]

#: Headline metrics compared (a run's headline table, plus public cost). Which limit binds is
#: compared as the share of runs where the places fill and where the money runs out, never as one
#: "exhausted" share; the week a limit binds is compared over the runs where it binds in both.
COMPARED: tuple[str, ...] = (
    "applications",
    "awarded",
    "exhausted_by_places",
    "places_fill_week",
    "exhausted_by_money",
    "money_runs_out_week",
    "undersubscribed",
    "unused_budget_hkd",
    "average_grant_hkd",
    "wait_median_weeks",
    "completed",
    "additional_upgrades",
    "public_cost_hkd",
    "cost_per_additional_hkd",
    "benefit_cost_ratio",
)


def compared_metrics(follow_up: bool) -> tuple[str, ...]:
    """The metrics a comparison shows: :data:`COMPARED`, each accruing outcome followed by the same
    outcome at the end of the follow-up when the scenarios have one."""
    out: list[str] = []
    for metric in COMPARED:
        out.append(metric)
        if follow_up and metric in ACCRUING:
            out.append(metric + FOLLOW_UP_SUFFIX)
    return tuple(out)


#: An intermediary scheme's outcomes (MODEL.md 6b), compared where both runs have them.
COMPARED_INTERMEDIARY: tuple[str, ...] = (
    "operators_funded",
    "startups_accelerated",
    "startups_accelerated" + FOLLOW_UP_SUFFIX,
    "startups_surviving",
    "startups_surviving" + FOLLOW_UP_SUFFIX,
    "cost_per_startup_hkd",
    "cost_per_startup_hkd" + FOLLOW_UP_SUFFIX,
)


#: Metrics defined only in a subset of runs, with the 0/1 metric that says where: they are
#: compared like with like, over the runs where both A and B have them.
SUBSET_METRICS: dict[str, str] = {
    "places_fill_week": "exhausted_by_places",
    "money_runs_out_week": "exhausted_by_money",
}

#: Which way is better: +1 more is better, -1 less is better. A metric absent here has no better
#: direction (how many apply, which limit binds, how much is spent), and its "share of runs where
#: B is better" is undefined.
BETTER: dict[str, int] = {
    "awarded": +1,
    "completed": +1,
    "additional_upgrades": +1,
    "benefit_cost_ratio": +1,
    "undersubscribed": -1,
    "wait_median_weeks": -1,
    "cost_per_additional_hkd": -1,
}
BETTER.update({metric + FOLLOW_UP_SUFFIX: way for metric, way in BETTER.items() if metric in ACCRUING})
BETTER.update({metric: -1 if metric.startswith("cost_") else +1 for metric in COMPARED_INTERMEDIARY})

#: Confidence level of every interval of a mean difference, unless a caller asks for another:
#: ``compare``'s default and the comparison brief of two run folders use the same level.
CONFIDENCE = 0.95

#: Quantiles of the per-run difference B - A shown as its spread (the middle 90% of runs).
SPREAD = (0.05, 0.95)

COLUMNS = (
    "scheme",
    "metric",
    "presence",
    "a_mean",
    "b_mean",
    "diff_mean",
    "diff_se",
    "diff_lo",
    "diff_hi",
    "unpaired_lo",
    "unpaired_hi",
    "spread_lo",
    "spread_hi",
    "better",
    "share_b_better",
    "share_equal",
    "share_b_worse",
    "n",
    "subset",
    "confidence",
)


class MisalignedScenarios(ValueError):
    """Two scenarios whose horizons (or follow-ups) differ: their outcomes are not comparable."""


def check_aligned(a: Any, b: Any, names: tuple[str, str] = ("A", "B")) -> None:
    """Refuse to compare scenarios (or run manifests) whose horizon or follow-up differ.

    Outcomes counted over 104 weeks cannot be set against outcomes over 52;
    the message names both values so the user can align them.
    """
    for field in ("horizon_weeks", "follow_up_weeks"):
        va, vb = (_field(x, field) for x in (a, b))
        if va is not None and vb is not None and float(va) != float(vb):
            words = field.replace("_", " ")
            raise MisalignedScenarios(
                f"cannot compare: {names[0]} has {words} = {va:g} and {names[1]} has {words} = {vb:g}; "
                f"outcomes over different periods are not comparable (give both the same {field})"
            )


def _field(source: Any, field: str) -> float | None:
    """A field of a scenario or a manifest-like mapping; None where it does not exist."""
    value = source.get(field) if isinstance(source, Mapping) else getattr(source, field, None)
    return None if value is None else float(value)


def _finite_mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else math.nan


def _paired(d: np.ndarray, confidence: float) -> tuple[float, float, float, float]:
    """Mean of the per-run differences ``d``, its standard error and confidence interval."""
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    se = float(d.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    return mean, se, mean - half, mean + half


def _welch(a: np.ndarray, b: np.ndarray, confidence: float) -> tuple[float, float]:
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    centre = float(b.mean() - a.mean())
    if va + vb == 0:
        return centre, centre
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * math.sqrt(va + vb))
    return centre - half, centre + half


def _spread(d: np.ndarray) -> tuple[float, float]:
    """The 5% and 95% quantiles of the per-run difference: where it falls in 90% of runs."""
    if len(d) == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(d, SPREAD)
    return float(lo), float(hi)


def _shares(d: np.ndarray, direction: int) -> tuple[float, float, float]:
    """Shares of runs where B is better, equal and worse; NaN where there is no better direction."""
    if len(d) == 0 or direction == 0:
        return math.nan, math.nan, math.nan
    signed = direction * d
    return float((signed > 0).mean()), float((signed == 0).mean()), float((signed < 0).mean())


def _with_limit_weeks(table: pd.DataFrame) -> pd.DataFrame:
    """The replications with the week each limit binds (NaN in runs where it does not)."""
    if "exhaustion_week" not in table.columns:
        return table
    week = table["exhaustion_week"].to_numpy(dtype=float)
    added = {
        metric: np.where(table[given].to_numpy(dtype=float) == 1, week, np.nan)
        for metric, given in SUBSET_METRICS.items()
        if given in table.columns
    }
    return table.assign(**added)


def _scheme_runs(table: pd.DataFrame, scheme: str) -> pd.DataFrame:
    """One scheme's whole-population rows, indexed by replication."""
    rows = table[(table["segment"] == "all") & (table["scheme"] == scheme)]
    return rows.set_index("replication").sort_index()


def _metric_row(a: np.ndarray, b: np.ndarray, metric: str, confidence: float) -> dict[str, Any]:
    """One metric of one scheme present in both runs: A, B and the paired difference B - A.

    The difference, its intervals, spread and shares use the replications
    where the metric is defined in both runs; A and B use every replication
    where it is defined in that run, except for a metric of a subset of runs
    (the week a limit binds), whose A and B are over the same runs as the
    difference: like with like.
    """
    both = np.isfinite(a) & np.isfinite(b)
    if metric in SUBSET_METRICS:
        a, b = a[both], b[both]
        both = both[both]
    d = b[both] - a[both]
    mean, se, lo, hi = _paired(d, confidence)
    ulo, uhi = _welch(a[both], b[both], confidence)
    slo, shi = _spread(d)
    direction = BETTER.get(metric, 0)
    better, equal, worse = _shares(d, direction)
    return {
        "presence": "both",
        "a_mean": _finite_mean(a),
        "b_mean": _finite_mean(b),
        "diff_mean": mean,
        "diff_se": se,
        "diff_lo": lo,
        "diff_hi": hi,
        "unpaired_lo": ulo,
        "unpaired_hi": uhi,
        "spread_lo": slo,
        "spread_hi": shi,
        "better": {1: "higher", -1: "lower"}.get(direction, ""),
        "share_b_better": better,
        "share_equal": equal,
        "share_b_worse": worse,
        "n": len(d),
    }


def _one_sided_row(values: np.ndarray, metric: str, side: str) -> dict[str, Any]:
    """A metric of a scheme present in one run only: its value there, and no difference at all."""
    mean = _finite_mean(values)
    nan = math.nan
    return {
        "presence": f"only in {side}",
        "a_mean": mean if side == "A" else nan,
        "b_mean": mean if side == "B" else nan,
        **dict.fromkeys(("diff_mean", "diff_se", "diff_lo", "diff_hi", "unpaired_lo", "unpaired_hi"), nan),
        **dict.fromkeys(("spread_lo", "spread_hi", "share_b_better", "share_equal", "share_b_worse"), nan),
        "better": {1: "higher", -1: "lower"}.get(BETTER.get(metric, 0), ""),
        "n": 0,
    }


def _scheme_rows(
    ra: pd.DataFrame, rb: pd.DataFrame, metrics: Sequence[str], confidence: float
) -> list[dict[str, Any]]:
    """The rows of one scheme, paired on the replications both runs have."""
    rows = []
    common = ra.index.intersection(rb.index)
    for metric in metrics:
        if ra.empty or rb.empty:
            side, present = ("B", rb) if ra.empty else ("A", ra)
            row = _one_sided_row(present[metric].to_numpy(dtype=float), metric, side)
        else:
            a = ra.loc[common, metric].to_numpy(dtype=float)
            b = rb.loc[common, metric].to_numpy(dtype=float)
            row = _metric_row(a, b, metric, confidence)
        rows.append({"metric": metric, **row, "subset": metric in SUBSET_METRICS})
    return rows


def paired_differences(
    table_a: pd.DataFrame,
    table_b: pd.DataFrame,
    metrics: Sequence[str] = COMPARED,
    confidence: float = CONFIDENCE,
    schemes: Sequence[str] = (),
) -> pd.DataFrame:
    """Each metric of each scheme for A, B and B - A: the mean difference with its paired and
    unpaired confidence intervals, the spread of the per-run difference and how often B is better.

    Replication ``k`` of A is paired with replication ``k`` of B (common random
    numbers); only replications present in both tables are used. ``n`` counts
    the pairs where the metric is defined in both runs: for the week a limit
    binds (``subset``) those are the runs where it binds under both A and B.
    A scheme in one table only is marked ``only in A`` / ``only in B`` and has
    no difference. Schemes come in the order of ``schemes``, then as they
    appear in the tables. A metric missing from either table (a folder written
    before it existed) is left out.
    """
    table_a, table_b = _with_limit_weeks(table_a), _with_limit_weeks(table_b)
    metrics = [m for m in metrics if m in table_a.columns and m in table_b.columns]
    rows = []
    for scheme in dict.fromkeys([*schemes, *_all(table_a)["scheme"], *_all(table_b)["scheme"]]):
        ra, rb = _scheme_runs(table_a, scheme), _scheme_runs(table_b, scheme)
        if ra.empty and rb.empty:
            continue
        for row in _scheme_rows(ra, rb, metrics, confidence):
            rows.append({"scheme": scheme, **row, "confidence": confidence})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _all(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["segment"] == "all"]


@dataclass
class CompareResult:
    """Both runs and their comparison."""

    a: RunResult
    b: RunResult
    comparison: pd.DataFrame
    elapsed_s: float


def run_compare(
    a: LoadedScenario,
    b: LoadedScenario,
    replications: int,
    seed: int,
    engine: str | None = None,
    *,
    confidence: float = CONFIDENCE,
    workers: int | None = None,
    execution: Execution | None = None,
) -> CompareResult:
    """Run A and B on the same seed and replications; compare them replication by replication.

    Both runs go through the run pipeline (streamed to disk, on local
    processes or the Dask cluster of ``execution``); ``workers``, if given,
    overrides ``execution.workers``. Both are checked (engine support, memory)
    before either starts.
    """
    check_aligned(a.scenario, b.scenario, (a.name, b.name))
    execution = execution or Execution()
    if workers is not None:
        execution = replace(execution, workers=workers)
    for loaded in (a, b):
        plan_chunks(loaded.scenario, seed, replications, engine, execution)
    began = time.perf_counter()
    runs = [run_plan(loaded, replications, seed, engine, execution) for loaded in (a, b)]
    order = [*a.scenario.schemes, *b.scenario.schemes]
    metrics = compared_metrics(a.scenario.follow_up_weeks > 0)
    if all(set(COMPARED_INTERMEDIARY) <= set(run.table.columns) for run in runs):
        with_follow_up = a.scenario.follow_up_weeks > 0
        metrics += tuple(
            m for m in COMPARED_INTERMEDIARY if with_follow_up or not m.endswith(FOLLOW_UP_SUFFIX)
        )
    table = paired_differences(runs[0].table, runs[1].table, metrics, confidence, order)
    return CompareResult(runs[0], runs[1], table, time.perf_counter() - began)
