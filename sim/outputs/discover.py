"""``schemesim discover``: read a result's cases, mark where a condition holds, find and write the box.

The folder (``--out``, default ``results/discover-NAME-HASH``) is written whole
like every result (:func:`sim.outputs.store.atomic_dir`):

- ``discovery.txt``: the chosen box in words, and the CART cross-check;
- ``box.csv``: the box's restrictions, with their quasi-p-values;
- ``peeling.csv``: every box of the peeling trajectory (coverage, density, mass,
  parameters restricted; ``chosen`` marks the box);
- ``cart.csv``: the leaves of the CART tree;
- ``cases.parquet``: every case's inputs, the outputs the condition reads and ``holds``;
- ``discovery.png``: the trade-off and the box (:mod:`sim.outputs.discover_chart`);
- ``variant.toml``: the box as a scenario variant (:mod:`sim.outputs.discover_variant`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.condition import Condition, parse_condition
from sim.experiments.discover import Discovery, discover, require_extra
from sim.outputs import store
from sim.outputs.discover_cases import Cases, outputs_allowed, read_cases
from sim.outputs.discover_chart import discovery_chart
from sim.outputs.discover_variant import VARIANT_FILE, VariantSource, variant_text
from sim.outputs.discover_words import box_sentence, cart_sentence, restrictions_table
from sim.outputs.manifest import Manifest, write_manifest
from sim.outputs.style import DPI

__all__ = [
    "DISCOVER_FILES",
    "DiscoverRequest",
    "DiscoverResult",
    "find_box",
    "save_discovery",
    "discovery_folder",
]

#: The files every discovery folder holds (besides the manifest).
DISCOVER_FILES = (
    "discovery.txt",
    "box.csv",
    "peeling.csv",
    "cart.csv",
    "cases.parquet",
    "discovery.png",
    VARIANT_FILE,
)


@dataclass(frozen=True)
class DiscoverRequest:
    """What to discover: the result folder, the condition, the scheme and PRIM's settings."""

    results: Path
    where: str
    scheme: str | None = None
    density: float | None = None
    peel_alpha: float = 0.05
    mass_min: float = 0.05
    #: The condition in words for the sentence ("The places fill before month 18"); None quotes it.
    words: str | None = None


@dataclass(frozen=True)
class DiscoverResult:
    """The cases, the parsed condition, where it holds, and what PRIM found."""

    request: DiscoverRequest
    cases: Cases
    condition: Condition
    holds: pd.Series
    found: Discovery
    elapsed_s: float

    @property
    def labels(self) -> dict[str, str]:
        folder = self.cases.folder
        return {**folder.segment_labels, **folder.labels}

    def sentences(self) -> list[str]:
        unit = self.cases.unit
        return [
            box_sentence(self.found, self.condition.text, unit, self.labels, self.request.words),
            cart_sentence(self.found, unit, self.labels),
        ]


def find_box(request: DiscoverRequest) -> DiscoverResult:
    """Read the cases, evaluate the condition and run PRIM and CART (no file written)."""
    began = time.perf_counter()
    require_extra()
    cases = read_cases(request.results, request.scheme)
    condition = parse_condition(request.where, outputs_allowed(cases.outputs))
    holds = pd.Series(condition.evaluate(cases.outputs), name="holds")
    found = discover(
        cases.inputs,
        holds.to_numpy(),
        density=request.density,
        peel_alpha=request.peel_alpha,
        mass_min=request.mass_min,
    )
    return DiscoverResult(request, cases, condition, holds, found, time.perf_counter() - began)


def discovery_folder(result: DiscoverResult) -> Path:
    """The default folder: results/discover-NAME-HASH of the source folder, condition and settings."""
    r = result.request
    parts = (
        str(Path(r.results).resolve()),
        result.condition.text,
        result.cases.scheme,
        r.density,
        r.peel_alpha,
        r.mass_min,
    )
    return store.RESULTS / store.run_id(f"discover-{Path(r.results).resolve().name}", *parts)


def _scenario_path(cases: Cases) -> Path:
    meta = cases.folder.meta
    if cases.kind == "run":
        return Path(str(meta.get("scenario_path", "")))
    return Path(str(meta.get("sweep_file", ""))).parent / str(meta.get("base_scenario_path", ""))


def variant_warning(result: DiscoverResult) -> str:
    """A warning about the variant ("" when there is none): the scenario it extends is not found
    from here (its path is the one the run or sweep was given, relative to where it was started),
    or that scenario takes parameters from a posterior sample, whose rows would replace the box's
    draws of the parameters it covers."""
    path = _scenario_path(result.cases)
    if result.cases.folder.source.get("posterior"):
        return (
            f"{path} takes parameters from a posterior sample, and a run of {VARIANT_FILE} would draw "
            "the parameters it covers from that sample, not from the box"
        )
    if path.is_file():
        return ""
    return (
        f"{VARIANT_FILE} extends {path}, which is not found from here (the path the run was given); "
        "correct its extends line before running it"
    )


def _scalar_paths(cases: Cases) -> set[str]:
    from sim.spec.loader import ScenarioError, scenario_from_dict
    from sim.spec.scenario import parameter_specs

    try:
        scenario = scenario_from_dict(dict(cases.folder.source))
    except ScenarioError:
        return set()
    return {path for path, _, _ in parameter_specs(scenario)}


def _manifest(result: DiscoverResult, folder: Path) -> Manifest:
    source = result.cases.folder.manifest
    meta = result.cases.folder.meta
    found = result.found
    details: dict[str, Any] = {
        "scenario": meta.get("scenario") or meta.get("base_scenario"),
        "scenario_hash": meta.get("scenario_hash"),
        "source_folder": str(Path(result.request.results)),
        "source_kind": result.cases.kind,
        "scheme": result.cases.scheme,
        "scheme_label": result.cases.folder.labels.get(result.cases.scheme) or result.cases.scheme,
        "condition": result.condition.text,
        "condition_words": result.request.words,
        "cases": found.cases,
        "cases_where_it_holds": found.hits,
        "chosen_box": found.chosen,
        "coverage": round(float(found.box["coverage"]), 6),
        "density": round(float(found.box["density"]), 6),
        "density_target": result.request.density,
        "peel_alpha": result.request.peel_alpha,
        "mass_min": result.request.mass_min,
        "method": "PRIM (EMA Workbench), CART cross-check (scikit-learn)",
        "ema_workbench": _version("ema_workbench"),
        "scikit_learn": _version("scikit-learn"),
        "elapsed_s": round(result.elapsed_s, 3),
        "notes": [result.cases.note] if result.cases.note else [],
    }
    return Manifest(
        kind="discover",
        seed=source.seed,
        replications=source.replications,
        engine=source.engine,
        files=DISCOVER_FILES,
        details=details,
    )


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def save_discovery(result: DiscoverResult, out: Path | None = None) -> Path:
    """Write the discovery folder (``out``, else :func:`discovery_folder`) whole; return it."""
    folder = Path(out) if out is not None else discovery_folder(result)
    manifest = _manifest(result, folder)
    found, cases = result.found, result.cases
    trajectory = found.trajectory.assign(chosen=found.trajectory["box"] == found.chosen)
    name = f"{str(cases.folder.name)[:50]}-box"
    source = VariantSource(_scenario_path(cases), cases.inputs, _scalar_paths(cases), cases.kind == "run")
    variant = variant_text(found, source, folder, (name, result.condition.text))
    table = pd.concat([cases.inputs, cases.outputs[list(result.condition.columns)], result.holds], axis=1)
    fig = discovery_chart(found, result.condition.text, result.labels, manifest.as_dict())
    with store.atomic_dir(folder) as tmp:
        store.write_text(tmp / "discovery.txt", "\n".join(result.sentences()) + "\n")
        store.write_csv(tmp / "box.csv", restrictions_table(found, result.labels))
        store.write_csv(tmp / "peeling.csv", trajectory)
        store.write_csv(tmp / "cart.csv", _cart_table(result))
        store.write_parquet(tmp / "cases.parquet", table)
        fig.savefig(
            tmp / "discovery.png", dpi=DPI, metadata={"Title": fig.get_suptitle(), "Software": "schemesim"}
        )
        store.write_text(tmp / VARIANT_FILE, variant)
        write_manifest(tmp, replace(manifest, files=DISCOVER_FILES))
    return folder


def _cart_table(result: DiscoverResult) -> pd.DataFrame:
    """One row per leaf of the CART tree: its bounds, cases, hits, coverage and density."""
    rows = [
        {
            "bounds": "; ".join(f"{p} in [{lo:.6g}, {hi:.6g}]" for p, (lo, hi) in leaf.bounds.items()),
            "cases": leaf.cases,
            "hits": leaf.hits,
            "coverage": leaf.coverage,
            "density": leaf.density,
            "chosen": leaf == result.found.cart,
        }
        for leaf in result.found.leaves
    ]
    return pd.DataFrame(rows, columns=["bounds", "cases", "hits", "coverage", "density", "chosen"])
