"""The command line end to end on a small scenario: run, files, determinism, trace."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.engines.metrics import METRICS
from sim.engines.programme_metrics import INTERMEDIARY_METRICS
from sim.outputs.manifest import KINDS, Manifest, write_manifest
from sim.outputs.store import atomic_dir
from tests.conftest import DATA

SMALL = DATA / "small.toml"


def _run(cli, out: str, *extra: str):
    result = cli("run", SMALL, "-n", "8", "--seed", "3", "--out", out, *extra)
    assert result.exit_code == 0, result.stdout + result.stderr + repr(result.exception)
    return result


@pytest.mark.parametrize("engine", ["des"])
def test_run_writes_every_result_file(cli, tmp_path: Path, engine: str) -> None:
    result = _run(cli, "results/small", "--workers", "1", "--engine", engine)
    folder = tmp_path / "results" / "small"
    for name in ("manifest.json", "replications.parquet", "timeseries.parquet", "summary.csv"):
        assert (folder / name).stat().st_size > 0
    for name in ("fan_chart.png", "funnel.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert manifest["replications"] == 8
    assert manifest["engine"] == engine
    assert len(manifest["scenario_hash"]) == 64
    assert manifest["versions"]["numpy"]
    assert "extends" in next(iter(manifest["scenario_texts"].values()))
    reps = pd.read_parquet(folder / "replications.parquet")
    assert len(reps) == 8 * 3  # Manufacturing+, NIFS, I&T Accelerator
    assert set(METRICS) <= set(reps.columns)
    summary = pd.read_csv(folder / "summary.csv")
    assert {"mean", "se", "p05", "p50", "p95"} <= set(summary.columns)
    assert set(summary["metric"]) == set(METRICS) | set(INTERMEDIARY_METRICS)  # the I&T Accelerator's
    for label in ("Applications", "Awards", "Runs where the places fill", "Benefit-cost ratio"):
        assert label in result.stdout
    assert not list((tmp_path / "results").glob(".tmp-*")), "no temporary folder left behind"


def test_one_and_two_workers_give_identical_replications(cli, tmp_path: Path) -> None:
    _run(cli, "one", "--workers", "1", "--engine", "des")
    _run(cli, "two", "--workers", "2", "--engine", "des")
    a = pd.read_parquet(tmp_path / "one" / "replications.parquet")
    b = pd.read_parquet(tmp_path / "two" / "replications.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_trace_writes_every_firm(cli, tmp_path: Path) -> None:
    result = cli("trace", SMALL, "--replication", "2", "--out", "trace.csv")
    assert result.exit_code == 0, result.stderr
    trace = pd.read_csv(tmp_path / "trace.csv")
    assert len(trace) == 770 + 770 + 30  # the SMEs in the rows of Manufacturing+ and of NIFS, the operators
    assert (trace["replication"] == 2).all()
    applied = trace[trace["status"].notna()]
    assert len(applied) > 0
    for column in ("application_week", "review_start_week", "decision_week", "upgrade_end_week", "grant_hkd"):
        assert column in trace.columns
    assert (applied["application_week"] <= 104).all()


def _interrupted_write(final: Path) -> None:
    with atomic_dir(final) as tmp:
        (tmp / "replications.parquet").write_text("partial")
        raise KeyboardInterrupt


def test_interrupted_write_leaves_nothing_that_looks_complete(tmp_path: Path) -> None:
    final = tmp_path / "results" / "run"
    with pytest.raises(KeyboardInterrupt):
        _interrupted_write(final)
    assert not final.exists()
    assert not list((tmp_path / "results").iterdir())


def test_rerun_replaces_a_result_folder_whole(tmp_path: Path) -> None:
    final = tmp_path / "run"
    with atomic_dir(final) as tmp:
        (tmp / "old.txt").write_text("old")
        for name in KINDS["run"]:  # a manifest alone does not make a result: the run's tables too
            (tmp / name).write_text("table")
        files = ("old.txt", *KINDS["run"])
        write_manifest(tmp, Manifest(kind="run", seed=1, replications=1, engine="batch", files=files))
    with atomic_dir(final) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
