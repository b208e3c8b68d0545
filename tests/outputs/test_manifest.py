"""The manifest: the tool's marker, versions of what shapes results, and only the files a run used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.outputs.manifest import FORMAT, SCHEMA, FolderError, Manifest, read_manifest
from tests.conftest import ROOT


def test_every_kind_of_result_carries_the_marker_and_reads_back(folders: dict[str, Path]) -> None:
    kinds = {"run": "run", "compare": "compare", "sweep-1": "sweep", "morris": "sensitivity"}
    for name, kind in kinds.items():
        raw = json.loads((folders[name] / "manifest.json").read_text())
        assert (raw["format"], raw["schema"], raw["kind"]) == (FORMAT, SCHEMA, kind)
        manifest = read_manifest(folders[name])
        assert Manifest.from_dict(manifest.as_dict(), "again") == manifest
        assert {"numpy", "numba", "SALib", "python"} <= set(manifest.versions)
        assert all((folders[name] / f.rstrip("/")).exists() for f in manifest.files)


def test_a_run_stores_the_texts_of_its_scenario_chain_and_no_other_absolute_path(
    folders: dict[str, Path],
) -> None:
    meta = read_manifest(folders["run"]).as_dict()
    named = meta["scenario_path"]
    texts = meta["scenario_texts"]
    assert list(texts) == [named, "../../scenarios/baseline.toml"]
    assert texts["../../scenarios/baseline.toml"] == (ROOT / "scenarios" / "baseline.toml").read_text()
    stored = json.dumps(meta)
    assert str(ROOT / "scenarios") not in stored, "no absolute path of a file other than the named one"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"kind": "run"}', "not a schemesim result manifest"),
        (json.dumps({"format": FORMAT, "schema": 99, "kind": "run"}), "manifest schema 99"),
        (json.dumps({"format": FORMAT, "schema": SCHEMA, "kind": "run"}), "a run manifest without a valid"),
    ],
)
def test_a_manifest_that_is_not_ours_is_refused_with_what_was_found(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(FolderError, match=message):
        read_manifest(tmp_path)
