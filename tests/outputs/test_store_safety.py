"""The results store never deletes what is not its own, and recovers from a kill at any step.

A result folder is the tool's own only when its manifest parses with the
tool's marker; a replace is interrupted here by killing a real process
(SIGKILL from the store's fault hook) at each of its steps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.outputs import store
from sim.outputs.manifest import KINDS, FolderError, Manifest, write_manifest
from tests.conftest import DATA, ROOT
from tests.outputs import builders

SMALL = DATA / "small.toml"

#: The steps of a replace at which the store's fault hook is called, and one inside the writing.
STEPS = ("writing", "move-old", "move-new", "carry", "retire-old", "remove-old")


#: The tables every run folder holds (placeholders here): a manifest alone does not make a result.
TABLES = KINDS["run"]


def _finish(folder: Path, files: tuple[str, ...] = ("result.txt",)) -> None:
    """Write the run's placeholder tables and its manifest listing them and ``files``."""
    for name in TABLES:
        (folder / name).write_text("table")
    manifest = Manifest(kind="run", seed=1, replications=1, engine="batch", files=(*TABLES, *files))
    write_manifest(folder, manifest)


def _result(folder: Path, content: str, files: tuple[str, ...] = ("result.txt",)) -> Path:
    """A minimal result folder of the tool: ``result.txt`` holding ``content``, tables, a manifest."""
    folder.mkdir(parents=True)
    (folder / "result.txt").write_text(content)
    _finish(folder, files)
    return folder


def _foreign(folder: Path, marker: str) -> Path:
    """A folder of someone else's that happens to hold a file named like one of ours."""
    folder.mkdir(parents=True)
    (folder / marker).write_text(json.dumps({"name": "an extension", "manifest_version": 3}))
    (folder / "background.js").write_text("keep me")
    return folder


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_run_refuses_a_foreign_folder_holding_a_manifest_before_any_work(cli, tmp_path, monkeypatch) -> None:
    import sim.experiments.runner as runner

    monkeypatch.setattr(runner, "run_scenario", lambda *a, **k: pytest.fail("simulation started"))
    folder = _foreign(tmp_path / "extension", "manifest.json")
    before = _snapshot(folder)
    result = cli("run", SMALL, "-n", "2", "--out", folder)
    assert result.exit_code == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert f"{folder}/manifest.json: not a schemesim result manifest" in message
    assert "choose a new --out folder" in message
    assert "Traceback" not in result.stdout + result.stderr
    assert _snapshot(folder) == before


def test_sweep_refuses_a_foreign_folder_holding_a_definition(cli, tmp_path: Path) -> None:
    sweep = builders._sweep_file(tmp_path, "tiny", [builders.CAPACITY], "grid")
    folder = _foreign(tmp_path / "project", "definition.json")
    before = _snapshot(folder)
    for extra in ((), ("--resume",)):
        result = cli("sweep", sweep, "-n", "2", "--workers", "1", "--out", folder, *extra)
        assert result.exit_code == 2, result.stdout + result.stderr
        assert "not a result folder of schemesim" in result.stderr or "not a schemesim sweep" in result.stderr
        assert _snapshot(folder) == before


def test_a_foreign_folder_is_never_replaced_by_the_store(tmp_path: Path) -> None:
    folder = _foreign(tmp_path / "extension", "manifest.json")
    with (
        pytest.raises(FolderError, match="not a result folder of schemesim"),
        store.atomic_dir(folder) as tmp,
    ):
        (tmp / "result.txt").write_text("new")
    with pytest.raises(FolderError, match="not a result folder of schemesim"):
        store.clear_owned(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["background.js", "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extension"]


def test_replacing_a_result_keeps_the_files_a_user_added(tmp_path: Path) -> None:
    final = _result(tmp_path / "run", "old")
    (final / "notes.txt").write_text("mine")
    (final / "figures").mkdir()
    (final / "figures" / "fan_chart.png").write_text("drawn by plot")
    (final / "figures" / "annotated.png").write_text("mine too")
    store.record_derived(final, [final / "figures" / "fan_chart.png"])
    with store.atomic_dir(final) as tmp:
        (tmp / "result.txt").write_text("new")
        (tmp / "notes.txt").write_text("a file of the new result with the user's name")
        _finish(tmp)
    assert _snapshot(final) == {
        **dict.fromkeys(TABLES, "table"),
        "result.txt": "new",
        "notes.txt": "a file of the new result with the user's name",
        "kept-notes.txt": "mine",
        "figures/annotated.png": "mine too",
        "manifest.json": (final / "manifest.json").read_text(),
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


_KILLED_REPLACE = """
import os, signal, sys
from pathlib import Path
from sim.outputs import store
from sim.outputs.manifest import KINDS, Manifest, write_manifest

final, step = Path(sys.argv[1]), sys.argv[2]
store.fault_hook = lambda s: os.kill(os.getpid(), signal.SIGKILL) if s == step else None
with store.atomic_dir(final) as tmp:
    (tmp / "result.txt").write_text("new")
    for name in KINDS["run"]:
        (tmp / name).write_text("table")
    files = (*KINDS["run"], "result.txt")
    write_manifest(tmp, Manifest(kind="run", seed=1, replications=1, engine="batch", files=files))
    if step == "writing":
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("step", STEPS)
def test_a_kill_at_any_step_of_a_replace_leaves_a_result_and_the_next_run_no_debris(
    tmp_path: Path, step: str
) -> None:
    final = _result(tmp_path / "results" / "run", "old")
    (final / "notes.txt").write_text("mine")
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_REPLACE, str(final), step], cwd=ROOT, capture_output=True, timeout=60
    )
    assert killed.returncode == -9, killed.stderr.decode()
    store.recover_root(final.parent)  # what any schemesim command does on start
    assert (final / "result.txt").read_text() in ("old", "new")
    assert (final / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in final.parent.iterdir()) == ["run"]
    with store.atomic_dir(final) as tmp:  # the next run
        (tmp / "result.txt").write_text("next")
        _finish(tmp)
    assert sorted(p.name for p in final.parent.iterdir()) == ["run"]
    expected = ["manifest.json", "notes.txt", "result.txt", *TABLES]
    assert sorted(p.name for p in final.iterdir()) == sorted(expected)


def test_a_kill_between_the_renames_restores_the_previous_result_under_its_name(tmp_path: Path) -> None:
    final = _result(tmp_path / "run", "old")
    subprocess.run(
        [sys.executable, "-c", _KILLED_REPLACE, str(final), "move-new"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert not final.exists(), "the kill left neither result under its name"
    store.recover(final)
    assert (final / "result.txt").read_text() == "old"
    assert store.read_manifest(final).kind == "run"


def test_debris_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    final = _result(tmp_path / "run", "old")
    live = tmp_path / f".tmp-{__import__('os').getpid()}-0-run"
    live.mkdir()
    store.recover(final)
    assert live.exists()


def test_a_new_sweep_into_an_earlier_sweep_folder_keeps_the_users_files(tmp_path: Path) -> None:
    from sim.outputs.experiments import SweepStore

    folder = tmp_path / "sweep"
    first = SweepStore(folder, {"kind": "sweep", "points": 2})
    first.save(0, pd.DataFrame({"point": [0], "awarded": [1.0]}))
    (folder / "notes.md").write_text("mine")
    SweepStore(folder, {"kind": "sweep", "points": 3})
    assert (folder / "notes.md").read_text() == "mine"
    assert not list((folder / "points").iterdir()), "the earlier sweep's points are the tool's to remove"
    assert json.loads((folder / "definition.json").read_text())["points"] == 3


def _dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_any_command_restores_an_interrupted_replace_under_results_on_start(cli, tmp_path: Path) -> None:
    pid = _dead_pid()
    _result(tmp_path / "results" / f".old-{pid}-baseline-1a2b3c4d5e", "old")
    (tmp_path / "results" / f".tmp-{pid}-0-baseline-1a2b3c4d5e").mkdir()
    result = cli("validate", SMALL)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["baseline-1a2b3c4d5e"]
    assert (tmp_path / "results" / "baseline-1a2b3c4d5e" / "result.txt").read_text() == "old"


def test_a_manifest_listing_paths_outside_its_folder_never_removes_them(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    files = ("result.txt", "../outside.txt", str(outside))
    final = _result(tmp_path / "run", "old", files=files)
    store.clear_owned(final)
    assert outside.read_text() == "not ours"
    assert not final.exists() or not any(final.iterdir())
