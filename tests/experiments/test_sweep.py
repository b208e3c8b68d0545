"""Sweeps end to end: result files, identical numbers on any executor, failures, kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engines.metrics import METRICS
from sim.experiments.designs import load_sweep, make_design
from sim.experiments.pipeline import Execution
from sim.experiments.replicate import engine_names, replicate
from sim.experiments.sweep import MemorySink, SweepOptions, plan_tasks, run_sweep
from sim.spec.loader import scenario_from_dict
from tests.experiments.conftest import write_sweep


def _points(folder: Path) -> dict[int, pd.DataFrame]:
    return {
        int(f.stem.split("-")[1]): pd.read_parquet(f) for f in sorted((folder / "points").glob("*.parquet"))
    }


def test_sweep_writes_the_result_folder(cli, grid_file: Path, tmp_path: Path) -> None:
    result = cli("sweep", grid_file, "--workers", "1", "--out", "out")
    assert result.exit_code == 0, result.stdout + result.stderr
    folder = tmp_path / "out"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "sweep"
    assert manifest["design"] == "grid"
    assert manifest["points"] == 6
    assert manifest["completed"] == 6
    assert manifest["failed"] == 0
    assert manifest["replications"] == 4
    assert manifest["engine"] in ("des", "batch")
    assert [p["path"] for p in manifest["parameters"]] == [
        "schemes.manufacturing_plus.max_grant_hkd",
        "schemes.manufacturing_plus.vetting.capacity",
    ]
    for key in ("base_scenario", "scenario_hash", "seed", "elapsed_s", "date", "versions"):
        assert key in manifest
    points = _points(folder)
    assert sorted(points) == list(range(6))
    one = points[5]
    assert {"point", "seed", "scenario_hash", "replication", "scheme", *METRICS} <= set(one.columns)
    assert (one["schemes.manufacturing_plus.max_grant_hkd"] == 500_000).all()
    assert (one["schemes.manufacturing_plus.vetting.capacity"] == 8).all()
    table = pd.read_parquet(folder / "points.parquet")
    assert len(table) == 6 * 3
    assert {"point", "scheme", "awarded_mean", "awarded_se", "benefit_cost_ratio_se"} <= set(table.columns)
    assert pd.read_csv(folder / "failures.csv").columns.tolist() == ["point", "error"]
    assert "6 of 6 points done, 0 failed" in result.stdout
    assert "replications per second" in result.stdout


def test_a_point_equals_a_plain_run_of_its_scenario(grid_file: Path) -> None:
    sweep = load_sweep(grid_file)
    design = make_design(sweep)
    sink = MemorySink()
    run_sweep(sweep, design, sink, SweepOptions(engine="des"), execution=Execution(1, chunk_size=3))
    row = design.values.iloc[4]
    source = sweep.base.source
    source = {**source, "schemes": {**source["schemes"]}}
    mp = dict(source["schemes"]["manufacturing_plus"])
    mp["max_grant_hkd"] = row["schemes.manufacturing_plus.max_grant_hkd"]
    mp["vetting"] = {**mp["vetting"], "capacity": int(row["schemes.manufacturing_plus.vetting.capacity"])}
    source["schemes"]["manufacturing_plus"] = mp
    plain = replicate(scenario_from_dict(source), sweep.seed, range(4), "des").table
    plain = plain.sort_values(["scheme", "segment", "replication"], ignore_index=True)
    got = sink.frames[4][plain.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, plain, check_exact=True)


def test_tasks_are_chunks_of_replications_cut_the_same_way_on_resume() -> None:
    values = np.zeros((6, 1))
    tasks = list(plan_tasks(range(5), values, 10, 4))
    sizes = [sum(len(r) for _, _, r in t) for t in tasks]
    assert sum(sizes) == 50
    assert all(s >= 4 for s in sizes[:-1])
    pieces = {(p, tuple(r)) for t in tasks for p, _, r in t}
    resumed = {(p, tuple(r)) for t in plan_tasks([1, 3], values, 10, 4) for p, _, r in t}
    assert resumed <= pieces
    small = list(plan_tasks(range(6), values, 2, 4))
    assert [len(t) for t in small] == [2, 2, 2], "small points share a task"


@pytest.mark.parametrize("engine", engine_names())
def test_serial_and_process_pool_give_identical_points(grid_file: Path, engine: str) -> None:
    sweep = load_sweep(grid_file)
    design = make_design(sweep)
    serial, pooled = MemorySink(), MemorySink()
    run_sweep(sweep, design, serial, SweepOptions(engine=engine), workers=1)
    run_sweep(sweep, design, pooled, SweepOptions(engine=engine), execution=Execution(2, chunk_size=3))
    assert serial.frames.keys() == pooled.frames.keys()
    for p in serial.frames:
        pd.testing.assert_frame_equal(serial.frames[p], pooled.frames[p], check_exact=True)


SHARES = """
design = "grid"
replications = 3
[[parameters]]
path = "segments.manufacturing_sme.bands.micro.share"
values = [0.80, 0.70]
[[parameters]]
path = "segments.manufacturing_sme.bands.small.share"
values = [0.17, 0.27]
"""


def test_a_failing_point_is_recorded_and_the_sweep_carries_on(cli, tmp_path: Path) -> None:
    path = write_sweep(tmp_path, SHARES, "shares")
    result = cli("sweep", path, "--workers", "1", "--out", "out")
    assert result.exit_code == 1, result.stdout + result.stderr
    folder = tmp_path / "out"
    failures = pd.read_csv(folder / "failures.csv")
    assert failures["point"].tolist() == [1, 2]
    assert failures["error"].str.contains("band shares must add up to 1").all()
    assert sorted(_points(folder)) == [0, 3]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["completed"] == 2
    assert manifest["failed"] == 2
    assert sorted(set(pd.read_parquet(folder / "points.parquet")["point"])) == [0, 3]
    assert "point 1 failed" in result.stderr
    assert "2 failed" in result.stdout


KILL = """
design = "grid"
replications = 24
[[parameters]]
path = "schemes.manufacturing_plus.max_grant_hkd"
low = 100_000
high = 600_000
levels = 6
[[parameters]]
path = "segments.manufacturing_sme.propensity"
values = [0.05, 0.1, 0.2]
"""


def _schemesim(*args: str | Path, cwd: Path, log: Path) -> subprocess.Popen:
    """``schemesim ARGS`` in its own process group, output to ``log``."""
    command = [sys.executable, "-c", "from sim.cli import main; main()", *map(str, args)]
    with log.open("w") as sink:
        return subprocess.Popen(
            command, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )


def test_sigkill_midway_then_resume_equals_an_uninterrupted_sweep(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, KILL, "kill")
    options = ("--workers", "2", "--engine", "des", "--chunk-size", "4")
    folder = tmp_path / "killed"
    victim = _schemesim("sweep", path, *options, "--out", folder, cwd=tmp_path, log=tmp_path / "killed.log")
    deadline = time.monotonic() + 120
    while len(list((folder / "points").glob("point-*.parquet"))) < 4:
        assert victim.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(victim.pid, signal.SIGKILL)  # the sweep and its worker processes, at once
    victim.wait()
    before = {f.name: (f.stat().st_ino, f.stat().st_mtime_ns) for f in (folder / "points").glob("*.parquet")}
    assert 4 <= len(before) < 18
    assert not (folder / "manifest.json").exists()

    log = tmp_path / "resumed.log"
    resumed = _schemesim("sweep", path, *options, "--out", folder, "--resume", cwd=tmp_path, log=log)
    assert resumed.wait(timeout=180) == 0, log.read_text()
    assert f"resuming: {len(before)} of 18 points already done" in log.read_text()
    after = {f.name: (f.stat().st_ino, f.stat().st_mtime_ns) for f in (folder / "points").glob("*.parquet")}
    assert len(after) == 18
    assert all(after[name] == stat for name, stat in before.items()), "points done before are not redone"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["resumed_points"] == len(before)
    assert manifest["completed"] == 18
    assert manifest["replications_run"] == (18 - len(before)) * 24

    sweep = load_sweep(path)
    whole = MemorySink()
    run_sweep(sweep, make_design(sweep), whole, SweepOptions(engine="des"), workers=1)
    got = _points(folder)
    assert sorted(got) == list(range(18))
    for p, frame in got.items():
        assert sorted(frame["replication"]) == sorted(list(range(24)) * 3), "no replication lost or doubled"
        pd.testing.assert_frame_equal(frame, whole.frames[p], check_exact=True)
    table = pd.read_parquet(folder / "points.parquet")
    assert len(table) == 18 * 3  # a row per point and scheme
    assert table["awarded_mean"].notna().all()
