"""Write a scenario run to its result folder: tables, series, figures, manifest."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from sim.engines.metrics import UNDERSUBSCRIBED_BELOW
from sim.engines.programme_metrics import has_intermediary
from sim.experiments.replicate import ChunkResult, table_metrics
from sim.experiments.runner import RunResult, RunSpool, segment_rows
from sim.experiments.spool import FUNDED_FILES
from sim.outputs import funded, funded_chart, plots, store, tables, workbook
from sim.outputs.draws import write_draws
from sim.outputs.folders import scheme_limits
from sim.outputs.manifest import Manifest, scenario_texts, write_manifest
from sim.spec.loader import LoadedScenario

__all__ = [
    "FUNDED_CSV",
    "funded_tables",
    "run_folder",
    "save_run",
    "money_by_year",
    "run_manifest",
    "run_meta",
    "scheme_labels",
    "spool_in_memory",
    "undersubscribed_below",
]


def scheme_labels(result: RunResult) -> dict[str, str]:
    return {name: s.label or name for name, s in result.loaded.scenario.schemes.items()}


def run_manifest(result: RunResult) -> Manifest:
    """The manifest of a run: what was run, how, and the text of the scenario files it used."""
    loaded = result.loaded
    details = {
        "scenario": loaded.name,
        "scenario_path": loaded.path,
        "scenario_hash": loaded.hash,
        "workers": result.workers,
        "elapsed_s": round(result.elapsed_s, 3),
        "start_date": loaded.scenario.start_date.isoformat(),
        "horizon_weeks": loaded.scenario.horizon_weeks,
        "follow_up_weeks": loaded.scenario.follow_up_weeks,
        **result.extra,
        "undersubscribed_below": undersubscribed_below(result),
        "scenario_source": loaded.source,
        "scenario_texts": scenario_texts(loaded),
    }
    return Manifest(
        kind="run",
        seed=result.seed,
        replications=result.replications,
        engine=result.engine,
        files=(),
        details=details,
    )


def undersubscribed_below(result: RunResult) -> float:
    """The run's threshold of under-subscription (share of the budget committed), as ``run`` was given it."""
    return float(cast(float, result.extra.get("undersubscribed_below", UNDERSUBSCRIBED_BELOW)))


def run_meta(result: RunResult) -> dict[str, Any]:
    """The run's manifest as the flat dict figures read (titles, footers, dates)."""
    return run_manifest(result).as_dict()


def run_folder(loaded: LoadedScenario, seed: int, replications: int, engine: str) -> Path:
    """The default result folder of a run: results/NAME-HASH of what defines the run."""
    return store.RESULTS / store.run_id(loaded.name, loaded.hash, seed, replications, engine)


def default_folder(result: RunResult) -> Path:
    return run_folder(result.loaded, result.seed, result.replications, result.engine)


def save_run(result: RunResult, out: Path | None = None, figures: bool = True) -> Path:
    """Write every file of a run atomically; return the result folder.

    Works from the run's spool a column or a few series-weeks at a time, so a
    run of any length is written in bounded memory.
    """
    folder = Path(out) if out is not None else default_folder(result)
    scenario = result.loaded.scenario
    manifest = run_manifest(result)
    meta = manifest.as_dict()
    spool = result.spool if result.spool is not None else spool_in_memory(result)
    summary = tables.summarize_columns(spool.read_table, table_metrics(scenario))
    series = tables.weekly_quantiles_cells(
        spool.cells_of, spool.schemes, spool.replications, scenario.end_weeks, scenario.start_date
    )
    head = headline(spool, result)
    money = money_by_year(spool, scenario.start_date)
    labels = scheme_labels(result)
    with store.atomic_dir(folder) as tmp:
        shutil.copyfile(spool.parquet, tmp / "replications.parquet")
        store.write_parquet(tmp / "timeseries.parquet", series)
        store.write_csv(tmp / "summary.csv", summary)
        store.write_csv(tmp / "headline.csv", head)
        store.write_csv(tmp / "money_by_year.csv", money)
        files = [
            "replications.parquet",
            "timeseries.parquet",
            "summary.csv",
            "headline.csv",
            "money_by_year.csv",
        ]
        files += write_draws(tmp, scenario, result.seed, result.replications)
        who = funded_tables(spool)
        files += write_funded(tmp, spool, who)
        book = workbook.run_tables(head, money, series, meta)
        if who is not None:
            book = replace(book, who_is_funded=who[0], grant_distribution=who[1])
        files += workbook.write_run_workbook(tmp, book, labels)
        if figures:
            charts = [
                ("fan_chart", plots.fan_chart(series, scheme_limits(result.loaded.source), labels, meta)),
                ("funnel", plots.funnel_chart(summary, labels, meta)),
                ("money_by_year", plots.money_by_year_chart(money, labels, meta)),
            ]
            if who is not None:
                charts.append(("who_is_funded", funded_chart.who_is_funded_chart(*who, labels, meta)))
            for name, fig in charts:
                fig.savefig(tmp / f"{name}.png", dpi=150)
                files.append(f"{name}.png")
        write_manifest(tmp, replace(manifest, files=tuple(files)))
    if spool is not result.spool:
        spool.remove()
    return folder


#: The who-is-funded tables across runs and their CSV files.
FUNDED_CSV = ("who_is_funded.csv", "grant_distribution.csv")


def funded_tables(spool: RunSpool) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``who_is_funded`` and ``grant_distribution`` across the spool's runs (None if it holds none)."""
    bands, grants = spool.funded_path("bands"), spool.funded_path("grants")
    if bands is None or grants is None:
        return None
    return funded.who_is_funded(bands), funded.grant_distribution(grants)


def write_funded(tmp: Path, spool: RunSpool, tables: tuple[pd.DataFrame, pd.DataFrame] | None) -> list[str]:
    """Copy the spool's per-run who-is-funded tables and write their summaries; return the file names."""
    if tables is None:
        return []
    names = []
    for key, name in FUNDED_FILES.items():
        path = spool.funded_path(key)
        assert path is not None  # tables exist only when both files do
        shutil.copyfile(path, tmp / name)
        names.append(name)
    for name, table in zip(FUNDED_CSV, tables, strict=True):
        store.write_csv(tmp / name, table)
    return names + list(FUNDED_CSV)


def headline(spool: RunSpool, result: RunResult) -> pd.DataFrame:
    """The headline table (:func:`sim.outputs.tables.headline`), read and computed one scheme at a
    time, so a long run's table is never in memory whole (schemes in the run's order, as the
    table's)."""
    scenario = result.loaded.scenario
    columns = tables.headline_columns(has_intermediary(scenario))
    below, follow_up = undersubscribed_below(result), scenario.follow_up_weeks > 0
    parts = [
        tables.headline(spool.read_table(columns, scheme=name), below, follow_up) for name in spool.schemes
    ]
    return pd.concat(parts, ignore_index=True)


def money_by_year(spool: RunSpool, start: date) -> pd.DataFrame:
    """Money committed and paid per financial year (mean, 5-95% of runs) from the spool's series,
    one scheme at a time (a long run's per-run years are never in memory for every scheme)."""
    parts = [
        tables.money_by_year(
            tables.money_by_year_runs(spool.cells_of, [name], spool.replications, spool.n_weeks, start)
        )
        for name in spool.schemes
    ]
    return pd.concat(parts, ignore_index=True)


def spool_in_memory(result: RunResult) -> RunSpool:
    """A spool holding a run that was assembled in memory (its table and weekly series)."""
    table = result.table
    reps = np.unique(table["replication"].to_numpy())
    weekly = result.weekly
    n_weeks = next(iter(weekly.values())).shape[2]
    spool = RunSpool(segment_rows(result.loaded.scenario), len(reps), n_weeks)
    spool.write(ChunkResult(reps=reps, table=table, weekly=weekly), int(reps[0]))
    spool.close()
    return spool
