"""Paired comparison of two scenarios on common random numbers.

Both scenarios run the same replications with the same seed, so replication
``k`` of A and of B see the same firms, the same parameter draws (where the
scenarios agree) and the same stage streams. The difference B - A is then
estimated replication by replication: its interval is usually far narrower
than the unpaired (Welch) interval of two independent runs, and comparing a
scenario with itself gives exactly zero.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.pipeline import Execution, plan_chunks
from sim.experiments.runner import RunResult, run_plan
from sim.spec.loader import LoadedScenario

__all__ = ["COMPARED", "CompareResult", "paired_differences", "run_compare"]

#: Headline metrics compared (a run's headline table, plus public cost). Which limit binds is
#: compared as the share of runs where the places fill and where the money runs out, never as one
#: "exhausted" share; the week a limit binds is a statistic of a subset of runs and is not compared.
COMPARED: tuple[str, ...] = (
    "applications",
    "awarded",
    "exhausted_by_places",
    "exhausted_by_money",
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

COLUMNS = (
    "scheme",
    "metric",
    "a_mean",
    "b_mean",
    "diff_mean",
    "diff_se",
    "diff_lo",
    "diff_hi",
    "unpaired_lo",
    "unpaired_hi",
    "n",
    "confidence",
)


def _finite_mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else math.nan


def _paired(a: np.ndarray, b: np.ndarray, confidence: float) -> tuple[float, float, float, float, int]:
    both = np.isfinite(a) & np.isfinite(b)
    d = b[both] - a[both]
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan, 0
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan, n
    se = float(d.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    return mean, se, mean - half, mean + half, n


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


def paired_differences(
    table_a: pd.DataFrame,
    table_b: pd.DataFrame,
    metrics: Sequence[str] = COMPARED,
    confidence: float = 0.95,
    schemes: Sequence[str] = (),
) -> pd.DataFrame:
    """Each metric of each scheme for A, B and B - A, with paired and unpaired intervals.

    ``diff_*``, ``n`` and the unpaired (Welch) interval use the replications
    where the metric is defined in both runs (e.g. the week the money runs
    out), so both intervals are of the same difference; ``a_mean`` and
    ``b_mean`` use every replication where it is defined in that run.
    Schemes come in the order of ``schemes``, then as they appear in the tables.
    A metric missing from either table (a folder written before it existed) is left out.
    """
    metrics = [m for m in metrics if m in table_a.columns and m in table_b.columns]
    rows = []
    a_all = table_a[table_a["segment"] == "all"]
    b_all = table_b[table_b["segment"] == "all"]
    for scheme in dict.fromkeys([*schemes, *a_all["scheme"], *b_all["scheme"]]):
        ra = a_all[a_all["scheme"] == scheme].set_index("replication").sort_index()
        rb = b_all[b_all["scheme"] == scheme].set_index("replication").sort_index()
        common = ra.index.intersection(rb.index)
        for metric in metrics:
            a = ra.loc[common, metric].to_numpy(dtype=float)
            b = rb.loc[common, metric].to_numpy(dtype=float)
            mean, se, lo, hi, n = _paired(a, b, confidence)
            both = np.isfinite(a) & np.isfinite(b)
            ulo, uhi = _welch(a[both], b[both], confidence)
            rows.append(
                {
                    "scheme": scheme,
                    "metric": metric,
                    "a_mean": _finite_mean(a),
                    "b_mean": _finite_mean(b),
                    "diff_mean": mean,
                    "diff_se": se,
                    "diff_lo": lo,
                    "diff_hi": hi,
                    "unpaired_lo": ulo,
                    "unpaired_hi": uhi,
                    "n": n,
                    "confidence": confidence,
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


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
    confidence: float = 0.95,
    workers: int | None = None,
    execution: Execution | None = None,
) -> CompareResult:
    """Run A and B on the same seed and replications; compare them replication by replication.

    Both runs go through the run pipeline (streamed to disk, on local
    processes or the Dask cluster of ``execution``); ``workers``, if given,
    overrides ``execution.workers``. Both are checked (engine support, memory)
    before either starts.
    """
    execution = execution or Execution()
    if workers is not None:
        execution = replace(execution, workers=workers)
    for loaded in (a, b):
        plan_chunks(loaded.scenario, seed, replications, engine, execution)
    began = time.perf_counter()
    runs = [run_plan(loaded, replications, seed, engine, execution) for loaded in (a, b)]
    order = [*a.scenario.schemes, *b.scenario.schemes]
    table = paired_differences(runs[0].table, runs[1].table, confidence=confidence, schemes=order)
    return CompareResult(runs[0], runs[1], table, time.perf_counter() - began)
