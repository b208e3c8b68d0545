"""The result folder of a calibration: posterior sample, weights, summary, manifest and two figures.

Written atomically like every result (:func:`sim.outputs.store.atomic_dir`):

- ``posterior.parquet``: the posterior joint sample, one row per draw (``draw``,
  ``replication`` it was resampled from, one column per uncertain parameter);
- ``weights.parquet``: every prior replication's log-likelihood and weight;
- ``calibration.csv``: per parameter, prior and posterior mean and 5/50/95%, ESS and N;
- ``prior_posterior.png`` and ``posterior_predictive.png``
  (:mod:`sim.outputs.calibration_charts`); ``WARNING.txt`` when the ESS is too small.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sim.experiments.calibrate import Calibration, summary_table
from sim.outputs import store
from sim.outputs.calibration_charts import predictive_chart, prior_posterior_chart
from sim.outputs.manifest import Manifest, scenario_texts, write_manifest
from sim.outputs.style import DPI
from sim.spec.loader import LoadedScenario
from sim.spec.observations import ObservedData
from sim.spec.scenario import Scenario

__all__ = [
    "CALIBRATION_FILES",
    "calibration_folder",
    "calibration_manifest",
    "owner_labels",
    "save_calibration",
]

#: The files every calibration folder holds (besides the manifest); ``WARNING.txt`` only when warned.
CALIBRATION_FILES = (
    "posterior.parquet",
    "weights.parquet",
    "calibration.csv",
    "prior_posterior.png",
    "posterior_predictive.png",
)


def owner_labels(scenario: Scenario) -> dict[str, str]:
    """Labels of the schemes and segments, by name, for parameter names in words."""
    labels = {name: segment.label for name, segment in scenario.segments.items() if segment.label}
    return {**labels, **{name: scheme.label for name, scheme in scenario.schemes.items() if scheme.label}}


def calibration_folder(loaded: LoadedScenario, observed: ObservedData, calibration: Calibration) -> Path:
    """The default folder: results/calibrate-NAME-HASH of the scenario, data, seed, N and engine."""
    data = [(o.scheme, str(o.day), o.quantity, o.value, o.bound, o.tolerance) for o in observed.observations]
    parts = (loaded.hash, data, calibration.seed, calibration.replications, calibration.engine)
    return store.RESULTS / store.run_id(f"calibrate-{loaded.name}", *parts)


def calibration_manifest(
    loaded: LoadedScenario, observed: ObservedData, calibration: Calibration, files: tuple[str, ...]
) -> Manifest:
    """The manifest: scenario, observed file, method, ESS and the texts of the scenario files used."""
    details: dict[str, Any] = {
        "scenario": loaded.name,
        "scenario_path": loaded.path,
        "scenario_hash": loaded.hash,
        "observed_path": observed.path,
        "observations": len(observed),
        "method": "importance sampling from the prior, systematic resampling",
        "observation_model": {k: _json_number(v) for k, v in asdict(calibration.model).items()},
        "observed": [
            {"scheme": o.scheme, "date": str(o.day), "week": o.week, "quantity": o.quantity}
            | {"value": o.value, "bound": o.bound, "tolerance": o.tolerance}
            for o in observed.observations
        ],
        "ess": round(calibration.ess, 3),
        "posterior_draws": len(calibration.posterior),
        "parameters": list(calibration.paths),
        "workers": calibration.workers,
        "elapsed_s": round(calibration.elapsed_s, 3),
        "start_date": loaded.scenario.start_date.isoformat(),
        "warnings": [calibration.warning] if calibration.warning else [],
        "scenario_source": loaded.source,
        "scenario_texts": scenario_texts(loaded),
    }
    return Manifest(
        kind="calibrate",
        seed=calibration.seed,
        replications=calibration.replications,
        engine=calibration.engine,
        files=files,
        details=details,
    )


def _json_number(value: float) -> float | str:
    """A number for JSON: infinity (a Poisson observation model) as the string "inf"."""
    return "inf" if math.isinf(value) else value


def save_calibration(
    loaded: LoadedScenario, observed: ObservedData, calibration: Calibration, out: Path | None = None
) -> Path:
    """Write the calibration's folder (``out``, else :func:`calibration_folder`) whole; return it."""
    folder = Path(out) if out is not None else calibration_folder(loaded, observed, calibration)
    files = CALIBRATION_FILES + (("WARNING.txt",) if calibration.warning else ())
    manifest = calibration_manifest(loaded, observed, calibration, files)
    meta = manifest.as_dict()
    labels = owner_labels(loaded.scenario)
    with store.atomic_dir(folder) as tmp:
        store.write_parquet(tmp / "posterior.parquet", calibration.posterior)
        store.write_parquet(tmp / "weights.parquet", calibration.weights_table())
        store.write_csv(tmp / "calibration.csv", summary_table(calibration))
        figures = {
            "prior_posterior.png": prior_posterior_chart(calibration, labels, meta),
            "posterior_predictive.png": predictive_chart(calibration, observed, labels, meta),
        }
        for name, fig in figures.items():
            fig.savefig(tmp / name, dpi=DPI, metadata={"Title": fig.get_suptitle(), "Software": "schemesim"})
        if calibration.warning:
            store.write_text(tmp / "WARNING.txt", calibration.warning + "\n")
        write_manifest(tmp, manifest)
    return folder
