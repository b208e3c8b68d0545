"""The result folder of a nowcast, written whole like every result (:func:`sim.outputs.store.atomic_dir`):

- ``headline.csv``: the headline as at the date (:func:`~sim.outputs.nowcast_tables.headline_table`);
- ``nowcast.xlsx``: the same in words (sheet ``headline``) and what its columns mean (``notes``);
- ``bands.parquet``: per observed series and week, the prior's and the weighted runs' quantiles;
- ``weights.parquet``: every replication's log-likelihood and weight;
- ``nowcast_fan.png``: the observed series' fans with the observations and the as-at date;
- ``brief.pdf``: the "as at" brief (:mod:`sim.outputs.nowcast_brief`);
- ``WARNING.txt`` only when the effective sample size is below the calibration's minimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.nowcast import Nowcast
from sim.outputs import store
from sim.outputs.calibration import owner_labels
from sim.outputs.labels import NOWCAST_HEADERS, NOWCAST_NOTE
from sim.outputs.manifest import Manifest, scenario_texts, write_manifest
from sim.outputs.nowcast_brief import nowcast_brief_figure
from sim.outputs.nowcast_charts import observed_fan_chart
from sim.outputs.nowcast_tables import (
    band_table,
    headline_shown,
    headline_table,
    intermediary_of,
    nowcast_day,
)
from sim.outputs.style import DPI
from sim.outputs.workbook import write_workbook
from sim.spec.loader import LoadedScenario
from sim.spec.observations import ObservedData

__all__ = ["NOWCAST_FILES", "nowcast_folder", "nowcast_manifest", "save_nowcast"]

#: The files every nowcast folder holds (besides the manifest); ``WARNING.txt`` only when warned.
NOWCAST_FILES = (
    "headline.csv",
    "nowcast.xlsx",
    "bands.parquet",
    "weights.parquet",
    "nowcast_fan.png",
    "brief.pdf",
)


def nowcast_folder(scenarios: Sequence[LoadedScenario], observed: ObservedData, nowcast: Nowcast) -> Path:
    """The default folder: results/nowcast-NAME-HASH of the scenarios, data, as-at date, seed, N, engine."""
    data = [(o.scheme, str(o.day), o.quantity, o.value, o.bound, o.tolerance) for o in observed.observations]
    hashes = [s.hash for s in scenarios]
    parts = (hashes, data, str(nowcast.as_at), nowcast.seed, nowcast.replications, nowcast.engine)
    return store.RESULTS / store.run_id(f"nowcast-{scenarios[0].name}", *parts)


def nowcast_manifest(
    scenarios: Sequence[LoadedScenario], observed: ObservedData, nowcast: Nowcast, files: tuple[str, ...]
) -> Manifest:
    """The manifest: scenario and variants, observations, as-at date, ESS and the scenario texts."""
    base = scenarios[0]
    details: dict[str, Any] = {
        "scenario": base.name,
        "scenario_path": base.path,
        "scenario_hash": base.hash,
        "variants": [{"name": s.name, "path": s.path, "hash": s.hash} for s in scenarios[1:]],
        "observed_path": observed.path,
        "as_at": nowcast.as_at.isoformat(),
        "method": "importance weights of whole replications given the observations; variants on common "
        "random numbers with the base's weights",
        "observed": [
            {"scheme": o.scheme, "date": str(o.day), "week": o.week, "quantity": o.quantity}
            | {"value": o.value, "bound": o.bound, "tolerance": o.tolerance}
            for o in observed.observations
        ],
        "ess": round(nowcast.ess, 3),
        "workers": nowcast.workers,
        "elapsed_s": round(nowcast.elapsed_s, 3),
        "start_date": base.scenario.start_date.isoformat(),
        "horizon_weeks": float(base.scenario.horizon_weeks),
        "follow_up_weeks": float(base.scenario.follow_up_weeks),
        "warnings": [nowcast.warning] if nowcast.warning else [],
        "scenario_source": base.source,
        "scenario_texts": scenario_texts(base),
    }
    return Manifest(
        kind="nowcast",
        seed=nowcast.seed,
        replications=nowcast.replications,
        engine=nowcast.engine,
        files=files,
        details=details,
    )


def _notes(as_at: str) -> pd.DataFrame:
    """The workbook's notes: what each column means."""
    rows = [(header.format(date=as_at), key) for key, header in NOWCAST_HEADERS.items()]
    rows.append(("", NOWCAST_NOTE))
    return pd.DataFrame(rows, columns=["column", "key or note"])


def save_nowcast(
    scenarios: Sequence[LoadedScenario], observed: ObservedData, nowcast: Nowcast, out: Path | None = None
) -> Path:
    """Write the nowcast's folder (``out``, else :func:`nowcast_folder`) whole; return it.

    ``scenarios`` are the base, then the variants, in the order of ``nowcast.names``.
    """
    folder = Path(out) if out is not None else nowcast_folder(scenarios, observed, nowcast)
    files = NOWCAST_FILES + (("WARNING.txt",) if nowcast.warning else ())
    manifest = nowcast_manifest(scenarios, observed, nowcast, files)
    meta = manifest.as_dict()
    labels = owner_labels(scenarios[0].scenario)
    head, bands = headline_table(nowcast, intermediary_of(scenarios[0].scenario)), band_table(nowcast)
    weights = pd.DataFrame(
        {"replication": nowcast.reps, "log_likelihood": nowcast.log_likelihood, "weight": nowcast.weights}
    )
    as_at = nowcast_day(nowcast.as_at)
    with store.atomic_dir(folder) as tmp:
        store.write_csv(tmp / "headline.csv", head)
        book = {"headline": headline_shown(head, as_at, labels), "notes": _notes(as_at)}
        write_workbook(tmp / "nowcast.xlsx", book)
        store.write_parquet(tmp / "bands.parquet", bands)
        store.write_parquet(tmp / "weights.parquet", weights)
        fan = observed_fan_chart(bands, meta["observed"], labels, meta)
        fan.savefig(
            tmp / "nowcast_fan.png", dpi=DPI, metadata={"Title": fan.get_suptitle(), "Software": "schemesim"}
        )
        brief = nowcast_brief_figure(meta, head, bands, labels)
        title = brief.texts[0].get_text() if brief.texts else "schemesim brief"
        brief.savefig(tmp / "brief.pdf", format="pdf", metadata={"Title": title, "Creator": "schemesim"})
        if nowcast.warning:
            store.write_text(tmp / "WARNING.txt", nowcast.warning + "\n")
        write_manifest(tmp, manifest)
    return folder
