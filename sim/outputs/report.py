"""Write a scenario run to its result folder: tables, series, figures, manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiments.runner import RunResult
from sim.outputs import plots, store, tables

__all__ = ["save_run", "run_meta", "scheme_labels", "scheme_limits"]


def scheme_labels(result: RunResult) -> dict[str, str]:
    return {name: s.label or name for name, s in result.loaded.scenario.schemes.items()}


def scheme_limits(result: RunResult) -> dict[str, dict[str, float]]:
    """Places and budget per scheme (their means, where they are uncertain)."""
    from sim.engines.parameters import draw_parameters

    draws = draw_parameters(result.loaded.scenario, result.seed, range(min(result.replications, 1024)))
    return {
        name: {
            "places": float(draws.scheme(name, "places").mean()),
            "budget_hkd": float(draws.scheme(name, "budget_hkd").mean()),
        }
        for name in result.loaded.scenario.schemes
    }


def run_meta(result: RunResult) -> dict[str, Any]:
    loaded = result.loaded
    return {
        "kind": "run",
        "scenario": loaded.name,
        "scenario_path": loaded.path,
        "scenario_hash": loaded.hash,
        "seed": result.seed,
        "replications": result.replications,
        "engine": result.engine,
        "workers": result.workers,
        "elapsed_s": round(result.elapsed_s, 3),
        "date": store.now_utc()[:10],
        "created": store.now_utc(),
        "start_date": loaded.scenario.start_date.isoformat(),
        "horizon_weeks": loaded.scenario.horizon_weeks,
        "versions": store.versions(),
        **result.extra,
    }


def default_folder(result: RunResult, root: Path = store.RESULTS) -> Path:
    loaded = result.loaded
    return root / store.run_id(loaded.name, loaded.hash, result.seed, result.replications, result.engine)


def save_run(result: RunResult, out: Path | None = None, figures: bool = True) -> Path:
    """Write every file of a run atomically; return the result folder."""
    folder = Path(out) if out is not None else default_folder(result)
    scenario = result.loaded.scenario
    meta = run_meta(result)
    summary = tables.summarize(result.table)
    series = tables.weekly_quantiles(result.weekly, scenario.horizon_weeks, scenario.start_date)
    with store.atomic_dir(folder) as tmp:
        store.write_parquet(tmp / "replications.parquet", result.table)
        store.write_parquet(tmp / "timeseries.parquet", series)
        store.write_csv(tmp / "summary.csv", summary)
        store.write_csv(tmp / "headline.csv", tables.headline(result.table))
        files = ["replications.parquet", "timeseries.parquet", "summary.csv", "headline.csv"]
        if figures:
            labels = scheme_labels(result)
            for name, fig in (
                ("fan_chart", plots.fan_chart(series, scheme_limits(result), labels, meta)),
                ("funnel", plots.funnel_chart(summary, labels, meta)),
            ):
                fig.savefig(tmp / f"{name}.png", dpi=150)
                files.append(f"{name}.png")
        manifest = {
            **meta,
            "files": files,
            "scenario_source": result.loaded.source,
            "scenario_texts": result.loaded.texts,
        }
        store.write_json(tmp / "manifest.json", manifest)
    return folder
