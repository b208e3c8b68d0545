"""Hand-made manifests, links inside result folders and ``--out .`` never cost a user's file.

A manifest carrying the tool's marker can be copied or written by hand; such
a folder is the tool's only when it also holds the tables its kind writes,
and even then the manifest can never claim the folder itself. A folder of a
result that a user replaced by a link is not followed when the result is
cleared, and the folder a command runs in is never replaced.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sim.outputs import store
from sim.outputs.manifest import KINDS, FolderError, Manifest, write_manifest
from sim.outputs.store import SWEEP_MARKER
from tests.conftest import DATA

SMALL = DATA / "small.toml"

#: A manifest with the tool's marker and every required field, written by hand.
HAND_MADE = {"format": "schemesim-result", "schema": 1, "kind": "run", "seed": 1, "replications": 1}


def _users_folder(folder: Path, files: list[str]) -> Path:
    """A user's folder holding ``x.txt``, ``sub/y.txt`` and a hand-made manifest listing ``files``."""
    (folder / "sub").mkdir(parents=True)
    (folder / "x.txt").write_text("mine")
    (folder / "sub" / "y.txt").write_text("mine too")
    (folder / "manifest.json").write_text(json.dumps({**HAND_MADE, "engine": "batch", "files": files}))
    return folder


@pytest.mark.parametrize("files", [["x.txt", "sub"], ["."], ["./"]])
def test_a_hand_made_manifest_without_the_tables_does_not_make_a_folder_ours(
    tmp_path: Path, files: list[str]
) -> None:
    folder = _users_folder(tmp_path / "mine", files)
    with pytest.raises(FolderError, match="not a result folder of schemesim"):
        store.check_replaceable(folder)
    with pytest.raises(FolderError, match="not a result folder of schemesim"):
        store.clear_owned(folder)
    assert (folder / "x.txt").read_text() == "mine"
    assert (folder / "sub" / "y.txt").read_text() == "mine too"


def test_a_manifest_listing_the_folder_itself_never_claims_the_users_files(tmp_path: Path) -> None:
    manifest = Manifest(kind="run", seed=1, replications=1, engine="batch", files=(".", "./", "", "a/.."))
    assert manifest.owned() == {"manifest.json"}


def test_clearing_a_result_does_not_follow_a_folder_replaced_by_a_link(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    folder.mkdir()
    store.write_json(folder / "definition.json", {"format": SWEEP_MARKER})
    (folder / "points.parquet").write_text("points")
    (folder / "figures").mkdir()
    (folder / "figures" / "fan.png").write_text("drawn by plot")
    files = ("definition.json", "points.parquet")
    manifest = Manifest(kind="sweep", seed=1, replications=1, engine="batch", files=files)
    write_manifest(folder, manifest)
    store.record_derived(folder, [folder / "figures" / "fan.png"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "fan.png").write_text("a user's figure")
    (folder / "figures" / "fan.png").unlink()
    (folder / "figures").rmdir()
    (folder / "figures").symlink_to(elsewhere)  # the user moved the figures and left a link
    store.clear_owned(folder)
    assert (elsewhere / "fan.png").read_text() == "a user's figure"


@pytest.mark.parametrize("command", ["run", "compare"])
def test_out_naming_the_current_result_folder_is_refused_before_work(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    args = {"run": ("run", SMALL), "compare": ("compare", SMALL, SMALL)}[command]
    first = cli(*args, "-n", "2", "--workers", "1", "--out", "mine")
    assert first.exit_code == 0, first.stdout + first.stderr + repr(first.exception)
    monkeypatch.chdir(tmp_path / "mine")
    before = sorted(p.name for p in (tmp_path / "mine").iterdir())
    for out in (".", str(tmp_path)):
        result = cli(*args, "-n", "2", "--workers", "1", "--out", out)
        assert result.exit_code == 2, result.stdout + result.stderr + repr(result.exception)
        assert "the current folder, or a folder holding it" in " ".join(result.stderr.split())
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == before


_KILLED_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
from sim.outputs import store

with store.atomic_dir(Path(sys.argv[1])) as tmp:
    (tmp / "result.txt").write_text("half written")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_next_command_tidies_debris_beside_an_out_folder_outside_results(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**os.environ, "TMPDIR": str(temporary)}
    final = tmp_path / "elsewhere" / "run"
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_WRITING, str(final)], env=env, capture_output=True, timeout=60
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert [p.name for p in final.parent.iterdir() if p.name.startswith(".tmp-")], "no debris to tidy"
    command = [sys.executable, "-c", "from sim.cli import main; main()", "validate", str(SMALL)]
    later = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, timeout=60)
    assert later.returncode == 0, later.stderr.decode()
    assert list(final.parent.iterdir()) == []
    assert list(temporary.iterdir()) == []


def _placeholder_run(folder: Path, content: str) -> None:
    """A complete run result (placeholder tables) whose ``result.txt`` holds ``content``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.txt").write_text(content)
    for name in KINDS["run"]:
        (folder / name).write_text("table")
    files = (*KINDS["run"], "result.txt")
    write_manifest(folder, Manifest(kind="run", seed=1, replications=1, engine="batch", files=files))


def test_a_result_put_in_place_by_another_command_midway_does_not_break_a_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = tmp_path / "run"
    _placeholder_run(final, "old")
    (final / "notes.md").write_text("mine")
    steps = []

    def other_command_finishes_first(step: str) -> None:
        steps.append(step)
        if steps == ["move-old", "move-new"]:  # between our two renames, the other run's rename
            _placeholder_run(tmp_path / ".tmp-other", "other")
            (tmp_path / ".tmp-other").replace(final)

    monkeypatch.setattr(store, "fault_hook", other_command_finishes_first)
    with store.atomic_dir(final) as tmp:
        _placeholder_run(tmp, "ours")
    assert (final / "result.txt").read_text() == "ours"
    assert (final / "notes.md").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


_HOLDER = """
import sys, time
from pathlib import Path
from sim.outputs import store

store.hold_folder(Path(sys.argv[1]))
print("holding", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("command", ["sweep", "run"])
def test_a_folder_another_sweep_is_writing_is_refused_before_work(cli, tmp_path: Path, command: str) -> None:
    from tests.experiments.conftest import GRID, write_sweep

    sweep = write_sweep(tmp_path, GRID)
    assert cli("sweep", sweep, "--workers", "1", "--out", "swept").exit_code == 0
    before = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "swept").rglob("*"))
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path / "swept")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        args = {"sweep": ("sweep", sweep, "--workers", "1"), "run": ("run", SMALL, "-n", "2")}[command]
        result = cli(*args, "--out", "swept")
    finally:
        holder.kill()
        holder.communicate()
    assert result.exit_code == 2, result.stdout + result.stderr + repr(result.exception)
    assert "another schemesim command is writing this folder now" in " ".join(result.stderr.split())
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "swept").rglob("*")) == before


def test_ctrl_c_while_the_old_result_is_removed_leaves_it_to_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.experiments import debris

    monkeypatch.setattr(debris, "_temporary", lambda: tmp_path / "tmp")
    monkeypatch.setattr(debris.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    final = tmp_path / "out" / "run"
    _placeholder_run(final, "old")
    (final / "notes.md").write_text("mine")

    def ctrl_c_at_removal(step: str) -> None:
        if step == "remove-old":
            raise KeyboardInterrupt

    monkeypatch.setattr(store, "fault_hook", ctrl_c_at_removal)
    with pytest.raises(KeyboardInterrupt), store.atomic_dir(final) as tmp:
        _placeholder_run(tmp, "new")
    assert [p.name for p in final.parent.iterdir() if p.name.startswith(".del-")], "nothing left to tidy"
    monkeypatch.setattr(store, "_pid_alive", lambda pid: False)  # as seen by the next command
    monkeypatch.setattr(debris, "process_alive", lambda pid, started="": False)
    assert store.recover_journaled() == [final.absolute()]
    assert sorted(p.name for p in final.parent.iterdir()) == ["run"]
    assert (final / "result.txt").read_text() == "new"
    assert (final / "notes.md").read_text() == "mine"


def test_resuming_a_sweep_whose_points_folder_is_a_link_is_refused(tmp_path: Path) -> None:
    from sim.outputs.experiments import SweepStore

    folder = tmp_path / "sweep"
    SweepStore(folder, {"kind": "sweep", "points": 2})
    store.release_folder(folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".tmp-draft").write_text("a user's draft")
    (folder / "points").rmdir()
    (folder / "points").symlink_to(elsewhere)
    with pytest.raises(FolderError, match="points: a symbolic link"):
        SweepStore(folder, {"kind": "sweep", "points": 2}, resume=True)
    assert (elsewhere / ".tmp-draft").read_text() == "a user's draft"


def test_a_full_temporary_folder_does_not_stop_a_result_from_being_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.experiments import debris

    def full(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(debris.tempfile, "mkstemp", full)
    final = tmp_path / "run"
    with store.atomic_dir(final) as tmp:
        _placeholder_run(tmp, "new")
    assert (final / "result.txt").read_text() == "new"
