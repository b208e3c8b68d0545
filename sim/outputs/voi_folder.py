"""The result folder of ``schemesim value-of-information``, written whole like every result.

- ``evppi.csv``: per uncertain parameter, ranked: its EVPPI, the bootstrap interval, its share
  of EVPI, in the metric's unit;
- ``value_of_information.csv``: one row: the decision (metric, schemes, A and B, which is
  chosen), EVPI with its interval, the naive replication-by-replication value for contrast;
- ``decision.parquet``: per replication, the metric under A and B, the difference and every
  uncertain parameter's value (what the regressions were fitted on);
- ``evppi.png``: the ranked bars (:mod:`sim.outputs.voi_chart`); ``summary.txt``: the sentence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.voi import ValueOfInformation
from sim.outputs import store
from sim.outputs.calibration import owner_labels
from sim.outputs.manifest import Manifest, scenario_texts, write_manifest
from sim.outputs.style import DPI, parameter_label
from sim.outputs.voi_chart import evppi_chart
from sim.outputs.voi_words import decision_metric_label, decision_metric_unit, voi_sentence
from sim.spec.loader import LoadedScenario

__all__ = [
    "VOI_FILES",
    "decision_table",
    "evppi_table",
    "save_value_of_information",
    "summary_row",
    "voi_folder",
]

#: The files every value-of-information folder holds (besides the manifest).
VOI_FILES = ("evppi.csv", "value_of_information.csv", "decision.parquet", "evppi.png", "summary.txt")


def evppi_table(result: ValueOfInformation, labels: dict[str, str]) -> pd.DataFrame:
    """``evppi.csv``: rank, parameter (dotted path), label, evppi, lo, hi, share_of_evpi, unit."""
    table = result.evppi.table.copy()
    table.insert(1, "label", [parameter_label(p, labels) for p in table["parameter"]])
    table["unit"] = decision_metric_unit(result.decision.metric)
    first = ["rank", "parameter", "label", "evppi", "lo", "hi", "share_of_evpi", "unit"]
    return table[first]


def summary_row(result: ValueOfInformation, a: LoadedScenario, b: LoadedScenario) -> dict[str, Any]:
    """``value_of_information.csv``'s one row: the decision and its EVPI."""
    decision, evppi = result.decision, result.evppi
    return {
        "scenario_a": a.name,
        "scenario_b": b.name,
        "metric": decision.metric,
        "metric_label": decision_metric_label(decision.metric),
        "unit": decision_metric_unit(decision.metric),
        "schemes": ";".join(decision.schemes),
        "better": "higher" if decision.direction > 0 else "lower",
        "mean_a": float(pd.Series(decision.a).mean()),
        "mean_b": float(pd.Series(decision.b).mean()),
        "chosen": result.chosen,
        "evpi": evppi.evpi,
        "evpi_lo": evppi.evpi_lo,
        "evpi_hi": evppi.evpi_hi,
        "naive_evpi": evppi.naive_evpi,
        "level": evppi.level,
        "resamples": evppi.resamples,
        "replications": result.replications,
        "replications_used": evppi.replications,
        "constant_parameters": ";".join(result.constant),
    }


def decision_table(result: ValueOfInformation) -> pd.DataFrame:
    """``decision.parquet``: per replication, A, B, the signed difference and the parameters."""
    d = result.decision
    head = pd.DataFrame({"replication": d.replications, "a": d.a, "b": d.b, "difference": d.difference})
    return pd.concat([head, d.parameters.reset_index(drop=True)], axis=1)


def voi_folder(result: ValueOfInformation, a: LoadedScenario, b: LoadedScenario) -> Path:
    """The default folder: results/voi-A-vs-B-HASH of both scenarios, metric, schemes, seed and N."""
    d = result.decision
    run = (result.seed, result.replications, result.engine, result.evppi.resamples, result.evppi.level)
    return store.RESULTS / store.run_id(
        f"voi-{a.name}-vs-{b.name}", a.hash, b.hash, d.metric, d.schemes, *run
    )


def _manifest(result: ValueOfInformation, a: LoadedScenario, b: LoadedScenario, sentence: str) -> Manifest:
    details: dict[str, Any] = {
        "scenario_a": a.name,
        "scenario_b": b.name,
        "scenario_path_a": a.path,
        "scenario_path_b": b.path,
        "scenario_hash_a": a.hash,
        "scenario_hash_b": b.hash,
        "method": "regression-based EVPI and EVPPI (Strong, Oakley & Brennan 2014): penalised cubic "
        "regression splines (scikit-learn), basic bootstrap intervals",
        **{k: v for k, v in summary_row(result, a, b).items() if k not in ("scenario_a", "scenario_b")},
        "parameters": list(result.evppi.table["parameter"]),
        "sentence": sentence,
        "workers": result.workers,
        "elapsed_s": round(result.elapsed_s, 3),
        "start_date": a.scenario.start_date.isoformat(),
        "scenario_source_a": a.source,
        "scenario_source_b": b.source,
        "scenario_texts_a": scenario_texts(a),
        "scenario_texts_b": scenario_texts(b),
    }
    return Manifest(
        kind="value-of-information",
        seed=result.seed,
        replications=result.replications,
        engine=result.engine,
        files=VOI_FILES,
        details=details,
    )


def save_value_of_information(
    result: ValueOfInformation, a: LoadedScenario, b: LoadedScenario, out: Path | None = None
) -> tuple[Path, str]:
    """Write the folder (``out``, else :func:`voi_folder`) whole; return it and the sentence."""
    folder = Path(out) if out is not None else voi_folder(result, a, b)
    labels = {**owner_labels(b.scenario), **owner_labels(a.scenario)}
    table, summary = evppi_table(result, labels), summary_row(result, a, b)
    sentence = voi_sentence(summary, table, labels)
    manifest = _manifest(result, a, b, sentence)
    with store.atomic_dir(folder) as tmp:
        store.write_csv(tmp / "evppi.csv", table)
        store.write_csv(tmp / "value_of_information.csv", pd.DataFrame([summary]))
        store.write_parquet(tmp / "decision.parquet", decision_table(result))
        fig = evppi_chart(table, summary, labels, manifest.as_dict())
        fig.savefig(
            tmp / "evppi.png", dpi=DPI, metadata={"Title": fig.get_suptitle(), "Software": "schemesim"}
        )
        store.write_text(tmp / "summary.txt", sentence + "\n")
        write_manifest(tmp, manifest)
    return folder, sentence
