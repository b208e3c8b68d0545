"""--out is checked before any work: foreign, unwritable or impossible folders stop with exit 2.

Tests run as root, for whom a chmod'ed folder stays writable; so an
unwritable destination is made either by a path whose parent is a regular
file, or by monkeypatching ``os.access`` to report the folder read-only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.outputs.store import read_manifest
from tests.conftest import DATA

SMALL = DATA / "small.toml"


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a simulation starts: every refusal must come before the work."""
    from sim.engines.batch import BatchEngine
    from sim.engines.des import DesEngine

    for engine in (BatchEngine, DesEngine):
        monkeypatch.setattr(engine, "simulate", lambda *a, **k: pytest.fail("simulation started"))


def _refused(result, *phrases: str) -> None:
    assert result.exit_code == 2, result.stdout + result.stderr + repr(result.exception)
    message = " ".join(result.stderr.split())
    for phrase in phrases:
        assert phrase in message, message
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.usefixtures("no_simulation")
def test_out_under_a_regular_file_is_refused_before_work(cli, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    _refused(cli("run", SMALL, "-n", "2", "--out", "notes.txt/run"), "notes.txt is a file, not a folder")
    assert (tmp_path / "notes.txt").read_text() == "a file, not a folder"


@pytest.mark.usefixtures("no_simulation")
def test_a_results_path_that_is_a_file_is_refused_before_work(cli, tmp_path: Path) -> None:
    (tmp_path / "results").write_text("not a folder")
    _refused(cli("run", SMALL, "-n", "2"), "results is a file, not a folder")


@pytest.mark.usefixtures("no_simulation")
def test_an_unwritable_out_or_results_folder_is_refused_before_work(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "shared").mkdir()
    read_only = {tmp_path / "results", tmp_path / "shared"}
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: Path(path).absolute() not in read_only and real_access(path, mode)
    )
    _refused(cli("run", SMALL, "-n", "2"), "results is not writable", "choose another --out folder")
    _refused(cli("run", SMALL, "-n", "2", "--out", "shared/run"), "shared is not writable")
    assert not any((tmp_path / "results").iterdir())


def test_a_rerun_into_its_own_result_folder_keeps_the_users_files(cli, tmp_path: Path) -> None:
    for _ in range(2):
        result = cli("run", SMALL, "-n", "2", "--seed", "3", "--out", "mine")
        assert result.exit_code == 0, result.stdout + result.stderr + repr(result.exception)
        (tmp_path / "mine" / "my-notes.md").write_text("my reading of the numbers")
    assert (tmp_path / "mine" / "my-notes.md").read_text() == "my reading of the numbers"
    manifest = read_manifest(tmp_path / "mine")
    assert "my-notes.md" not in manifest.owned()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.usefixtures("no_simulation")
def test_a_foreign_folder_at_the_default_result_path_is_refused_before_work(cli, tmp_path: Path) -> None:
    from sim.outputs.report import run_folder
    from sim.spec.loader import load_scenario

    folder = tmp_path / run_folder(load_scenario(SMALL), 20251118, 2, "batch")
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text('{"name": "not ours"}')
    _refused(cli("run", SMALL, "-n", "2"), "manifest.json")
    assert (folder / "manifest.json").read_text() == '{"name": "not ours"}'


@pytest.mark.usefixtures("no_simulation")
@pytest.mark.parametrize("command", ["sweep", "sensitivity"])
def test_resume_into_a_file_or_under_one_is_refused_before_work(cli, tmp_path: Path, command: str) -> None:
    from tests.experiments.conftest import GRID, write_sweep

    sweep = write_sweep(tmp_path, GRID)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    _refused(cli(command, sweep, "--resume", "--out", "notes.txt"), "notes.txt: an existing file")
    _refused(cli(command, sweep, "--resume", "--out", "notes.txt/run"), "notes.txt is a file, not a folder")
    assert (tmp_path / "notes.txt").read_text() == "a file, not a folder"


@pytest.mark.usefixtures("no_simulation")
def test_a_broken_or_looping_link_as_out_or_its_parent_is_refused_before_work(cli, tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "broken").symlink_to("nowhere")
    for link in ("loop", "broken"):
        _refused(cli("run", SMALL, "-n", "2", "--out", link), f"{link}: an existing symbolic link")
        _refused(
            cli("run", SMALL, "-n", "2", "--out", f"{link}/run"),
            f"cannot be created, because {link} is a broken symbolic link",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "loop"]
