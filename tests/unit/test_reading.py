"""Bounded reading and the allowed folder tree: FIFOs, devices, big files, deep nesting,
long or looping extends chains, and files outside the scenario's project folder."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.spec.loader import ScenarioError, load_scenario
from sim.spec.reading import (
    ALLOW_OUTSIDE_ENV,
    MAX_EXTENDS,
    MAX_FILE_BYTES,
    MAX_NESTING,
    ReadError,
    project_root,
    read_toml_file,
)
from tests.conftest import SCENARIOS

BASELINE = (SCENARIOS / "baseline.toml").read_text()


@pytest.fixture(autouse=True)
def _no_outside_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_OUTSIDE_ENV, raising=False)


@pytest.fixture(autouse=True)
def _never_blocks() -> Iterator[None]:
    """Any test here that blocks (a FIFO read) fails after 10 s instead of hanging the suite."""

    def stop(signum: int, frame: object) -> None:
        raise TimeoutError("reading blocked")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder (pyproject.toml) with the baseline in scenarios/."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "baseline.toml").write_text(BASELINE)
    return tmp_path


def _refused(path: Path, *words: str, **options: bool) -> str:
    with pytest.raises(ScenarioError) as problem:
        load_scenario(path, **options)
    message = str(problem.value)
    assert message.startswith(str(path)), message
    for word in words:
        assert word in message, message
    return message


def test_a_fifo_as_scenario_or_extends_is_refused_without_blocking(project: Path) -> None:
    fifo = project / "scenarios" / "pipe.toml"
    os.mkfifo(fifo)
    _refused(fifo, "not a regular file")
    child = project / "scenarios" / "child.toml"
    child.write_text('extends = "pipe.toml"\n')
    _refused(child, "extends", "pipe.toml", "not a regular file")


def test_a_device_is_never_read() -> None:
    with pytest.raises(ReadError, match="not a regular file"):
        read_toml_file(Path("/dev/zero"))


def test_a_file_over_one_mib_is_refused(project: Path) -> None:
    big = project / "scenarios" / "big.toml"
    big.write_text("# " + "x" * MAX_FILE_BYTES + "\n")
    _refused(big, "at most 1 MiB")


@pytest.mark.parametrize(("depth", "ok"), [(MAX_NESTING - 1, True), (MAX_NESTING, False), (500, False)])
def test_nesting_is_bounded_before_validation(tmp_path: Path, depth: int, ok: bool) -> None:
    # the file's table is level 1, so `depth` arrays make depth + 1 levels
    path = tmp_path / "nested.toml"
    path.write_text("x = " + "[" * depth + "]" * depth + "\n")
    if ok:
        node = read_toml_file(path)[0]["x"]
        for _ in range(depth - 1):
            (node,) = node
        assert node == []
    else:
        with pytest.raises(ReadError, match=f"nested too deep; at most {MAX_NESTING} levels"):
            read_toml_file(path)


def _chain(folder: Path, length: int) -> Path:
    """``length`` files, each extending the next, the last extending the baseline."""
    for i in range(length):
        target = f"c{i + 1}.toml" if i + 1 < length else "baseline.toml"
        (folder / f"c{i}.toml").write_text(f'extends = "{target}"\n')
    return folder / "c0.toml"


def test_a_chain_of_extends_is_bounded(project: Path) -> None:
    folder = project / "scenarios"
    assert load_scenario(_chain(folder, MAX_EXTENDS - 1)).scenario.horizon_weeks == 104
    _refused(_chain(folder, 1000), "extends", f"at most {MAX_EXTENDS} files long")


def test_cycles_and_symlink_loops_are_refused(project: Path) -> None:
    folder = project / "scenarios"
    (folder / "a.toml").write_text('extends = "b.toml"\n')
    (folder / "b.toml").write_text('extends = "a.toml"\n')
    _refused(folder / "a.toml", "cycle of extends (a.toml -> b.toml -> a.toml)")
    (folder / "loop1.toml").symlink_to(folder / "loop2.toml")
    (folder / "loop2.toml").symlink_to(folder / "loop1.toml")
    (folder / "c.toml").write_text('extends = "loop1.toml"\n')
    _refused(folder / "c.toml", "extends", "loop of symbolic links")
    _refused(folder / "loop1.toml", "loop of symbolic links")


def test_the_allowed_tree_is_the_nearest_folder_with_pyproject_or_scenarios(tmp_path: Path) -> None:
    (tmp_path / "proj" / "scenarios" / "sweeps").mkdir(parents=True)
    (tmp_path / "proj" / "pyproject.toml").write_text("")
    assert project_root(tmp_path / "proj" / "scenarios" / "sweeps" / "s.toml") == tmp_path / "proj"
    (tmp_path / "loose").mkdir()
    assert project_root(tmp_path / "loose" / "x.toml") == tmp_path / "loose"


def test_extends_outside_the_tree_is_refused_unless_allowed(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "foreign.toml"
    elsewhere.write_text(BASELINE)
    child = project / "scenarios" / "child.toml"
    for target in ("/etc/hostname", str(elsewhere), "../../" + "../" * 20 + "etc/hostname"):
        child.write_text(f'extends = "{target}"\n')
        _refused(child, "extends", "outside the allowed folder tree", ALLOW_OUTSIDE_ENV)
    child.write_text(f'extends = "{elsewhere}"\n')
    assert load_scenario(child, allow_outside=True).scenario.horizon_weeks == 104
    monkeypatch.setenv(ALLOW_OUTSIDE_ENV, "1")
    assert load_scenario(child).scenario.horizon_weeks == 104
    _refused(child, "outside the allowed folder tree", allow_outside=False)


def test_an_absolute_path_inside_the_tree_is_allowed(project: Path) -> None:
    (project / "variants").mkdir()
    child = project / "variants" / "child.toml"
    child.write_text(f'extends = "{project / "scenarios" / "baseline.toml"}"\nname = "child"\n')
    assert load_scenario(child).name == "child"


def test_values_of_a_file_outside_the_tree_are_not_quoted(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    secret = BASELINE.replace("budget_hkd = 100_000_000 ", "budget_hkd = -987654321 ")
    foreign = tmp_path_factory.mktemp("foreign") / "secret.toml"
    foreign.write_text(secret)
    child = project / "scenarios" / "child.toml"
    child.write_text(f'extends = "{foreign}"\n')
    message = _refused(
        child, "schemes.manufacturing_plus.budget_hkd", "secret.toml", "between 0 and", allow_outside=True
    )
    assert "987654321" not in message
    (project / "scenarios" / "inside.toml").write_text(secret)
    child.write_text('extends = "inside.toml"\n')
    _refused(child, "budget_hkd (set in inside.toml)", "(got -987654321)")
