"""Faults: a killed or interrupted command leaves no worker, no spool and no traceback; too large
a run and an unusable --out are refused before any work.

The command line runs as a subprocess (its own session, ``TMPDIR`` set to a
test folder) so that it can be killed and interrupted as a user or the system
would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.experiments.debris import SPOOL_PREFIX, new_spool_folder, remove_stale_spools
from sim.experiments.memory import InsufficientMemory
from sim.experiments.pipeline import Execution, plan_chunks
from sim.spec.loader import load_scenario
from tests.conftest import ROOT
from tests.experiments.conftest import GRID, SMALL, write_sweep

#: A run long enough to be killed midway: the SimPy engine on two workers, many replications.
LONG_RUN = ("run", SMALL, "-n", "20000", "--engine", "des", "--workers", "2")

#: A segment count whose batch chunk (a whole block of 512 replications) needs some 37 GiB.
HUGE = "[segments.manufacturing_sme]\ncount = 10_000_000\n"


@pytest.fixture
def tmpdir_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a subprocess whose temporary folder is ``tmp_path/tmp``."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    return {**os.environ, "TMPDIR": str(folder)}


def _schemesim(args: tuple[object, ...], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """``schemesim ARGS`` in its own session, output captured."""
    command = [sys.executable, "-c", "from sim.cli import main; main()", *map(str, args)]
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _workers(pid: int) -> list[int]:
    """The spawned worker processes of ``pid`` (not its resource tracker)."""
    out = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            out.append(child)
    return out


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition: Callable[[], bool], victim: subprocess.Popen[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert victim.poll() is None, "the command ended before it could be stopped: " + victim.stderr.read()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _spools(env: dict[str, str]) -> list[Path]:
    return list(Path(env["TMPDIR"]).glob(f"{SPOOL_PREFIX}*"))


def _kill(victim: subprocess.Popen[str]) -> None:
    """Make sure nothing of the command outlives the test."""
    try:
        os.killpg(victim.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    victim.communicate()


def test_no_worker_outlives_its_parent_killed_with_sigkill(tmpdir_env, tmp_path: Path) -> None:
    victim = _schemesim(LONG_RUN, tmpdir_env, tmp_path)
    try:
        _wait_for(lambda: len(_workers(victim.pid)) == 2, victim)
        workers = _workers(victim.pid)
        os.kill(victim.pid, signal.SIGKILL)  # the parent only, as the system's OOM killer would
        victim.wait()
        time.sleep(2)
        assert [w for w in workers if _running(w)] == [], "orphan worker processes 2 s after the parent died"
    finally:
        _kill(victim)


def test_a_spool_left_by_sigkill_is_removed_by_the_next_start(tmpdir_env, tmp_path: Path) -> None:
    victim = _schemesim(LONG_RUN, tmpdir_env, tmp_path)
    try:
        _wait_for(lambda: bool(_spools(tmpdir_env)), victim)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
    finally:
        _kill(victim)
    assert _spools(tmpdir_env), "a SIGKILL leaves no chance to clean up"
    again = _schemesim(("validate", SMALL), tmpdir_env, tmp_path)
    again.communicate(timeout=120)
    assert again.returncode == 0
    assert _spools(tmpdir_env) == []


@pytest.mark.parametrize(
    ("stop", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_a_stopped_run_says_one_line_and_leaves_no_spool_nor_worker(
    tmpdir_env, tmp_path: Path, stop: int, code: int, word: str
) -> None:
    victim = _schemesim(LONG_RUN, tmpdir_env, tmp_path)
    try:
        _wait_for(lambda: len(_workers(victim.pid)) == 2 and bool(_spools(tmpdir_env)), victim)
        workers = _workers(victim.pid)
        os.kill(victim.pid, stop)
        _, stderr = victim.communicate(timeout=60)
    finally:
        _kill(victim)
    assert victim.returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.rstrip().splitlines()[-1] == word
    assert _spools(tmpdir_env) == []
    assert [w for w in workers if _running(w)] == []


@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_ctrl_c_in_compare_and_sweep_exits_cleanly(tmpdir_env, tmp_path: Path, command: str) -> None:
    if command == "compare":
        args: tuple[object, ...] = (
            "compare",
            SMALL,
            SMALL,
            "-n",
            "20000",
            "--engine",
            "des",
            "--workers",
            "2",
        )
    else:
        many = GRID.replace("replications = 4", "replications = 4000")
        args = ("sweep", write_sweep(tmp_path, many), "--engine", "des", "--workers", "2", "--out", "swept")
    victim = _schemesim(args, tmpdir_env, tmp_path)
    try:
        _wait_for(lambda: len(_workers(victim.pid)) == 2, victim)
        time.sleep(0.5)
        os.kill(victim.pid, signal.SIGINT)
        _, stderr = victim.communicate(timeout=60)
    finally:
        _kill(victim)
    assert victim.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.rstrip().splitlines()[-1].startswith("interrupted")
    assert _spools(tmpdir_env) == []


def test_a_live_owners_spool_stays_and_a_dead_owners_goes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    mine = new_spool_folder()
    dead = tmp_path / f"{SPOOL_PREFIX}{2**22 + 1}-1-abc"  # above Linux's largest pid
    dead.mkdir()
    foreign = tmp_path / f"{SPOOL_PREFIX}notes"
    foreign.mkdir()
    assert remove_stale_spools() == [dead]
    assert mine.exists()
    assert foreign.exists()
    assert not dead.exists()


def test_a_run_too_large_for_memory_is_refused_with_the_numbers(cli, tmp_path: Path) -> None:
    huge = tmp_path / "huge.toml"
    huge.write_text(f'extends = "{SMALL}"\n{HUGE}')
    result = cli("run", huge, "-n", "2", "--out", "out")
    assert result.exit_code == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "needs about" in message
    assert "GiB" in message
    assert "available" in message
    assert "Traceback" not in message
    assert not (tmp_path / "out").exists()
    with pytest.raises(InsufficientMemory, match="2 replications a chunk on the batch engine") as refused:
        plan_chunks(load_scenario(huge).scenario, 1, 2, "batch", Execution(workers=1))
    need = re.search(r"needs about ([\d.]+) GiB", str(refused.value))
    assert need is not None
    assert float(need.group(1)) > 30, "two replications cost a whole block of 512"


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "sensitivity"])
def test_every_command_checks_out_before_any_work(cli, tmp_path: Path, command: str) -> None:
    (tmp_path / "taken").write_text("not a result folder")
    sweep = write_sweep(tmp_path, GRID)
    args = {
        "run": ("run", SMALL),
        "compare": ("compare", SMALL, SMALL),
        "sweep": ("sweep", sweep),
        "sensitivity": ("sensitivity", sweep),
    }[command]
    started = time.perf_counter()
    result = cli(*args, "--out", "taken")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "--out" in result.stderr
    assert (tmp_path / "taken").read_text() == "not a result folder"
    assert time.perf_counter() - started < 5, "refused before any simulation"


def _said(stderr: str) -> list[str]:
    """What a stopped command said, without the lines of its progress bar."""
    return [line for line in stderr.splitlines() if line.strip() and "replications" not in line]


@pytest.mark.parametrize(
    ("command", "stop", "code", "word"),
    [
        ("sweep", signal.SIGINT, 130, "interrupted"),
        ("sensitivity", signal.SIGTERM, 143, "terminated"),
    ],
)
def test_a_stopped_sweep_says_one_unwrapped_line_naming_the_signal(
    tmpdir_env, tmp_path: Path, command: str, stop: int, code: int, word: str
) -> None:
    many = GRID.replace("replications = 4", "replications = 4000")
    folder = "a-sweep-folder-whose-name-is-long-enough-to-pass-the-end-of-an-80-column-line"
    args = (command, write_sweep(tmp_path, many), "--engine", "des", "--workers", "2", "--out", folder)
    victim = _schemesim(args, tmpdir_env, tmp_path)
    try:
        _wait_for(lambda: len(_workers(victim.pid)) == 2, victim)
        time.sleep(0.5)
        os.kill(victim.pid, stop)
        _, stderr = victim.communicate(timeout=60)
    finally:
        _kill(victim)
    assert victim.returncode == code, stderr
    assert _said(stderr) == [f"{word}; finish with the same command and --resume (folder {folder})"]


def _big_result(marker: Path, task: int) -> bytes:
    """Task 0 returns at once; task 1 says it is about to return, then returns 64 MB to send back."""
    if task == 0:
        return b""
    big = bytes(64 * 2**20)
    marker.write_text("sending")
    return big


_STOPPED_WHILE_SENDING = """
import sys, time
from pathlib import Path
from sim.experiments.executors import stream_tasks
from tests.experiments.test_faults import _big_result

marker = Path(sys.argv[1])
results = stream_tasks(_big_result, [(marker, 0), (marker, 1)], workers=2)
next(results)
while not marker.exists():
    time.sleep(0.001)
time.sleep(0.08)  # task 1 is now sending its result back (measured: 0.06 to 0.12 s after the marker)
try:
    results.throw(KeyboardInterrupt)
except KeyboardInterrupt:
    print("stopped")
"""


def test_stopping_while_a_worker_sends_its_result_does_not_hang(tmp_path: Path) -> None:
    command = [sys.executable, "-c", _STOPPED_WHILE_SENDING, str(tmp_path / "sending")]
    victim = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        # a hang waits forever; 90 s leaves room for two workers starting on a loaded machine
        stdout, stderr = victim.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the pool waited forever for the rest of a result its killed worker was sending")
    finally:
        _kill(victim)
    assert (victim.returncode, stdout.strip()) == (0, "stopped"), stderr


_DISK_FULL = """
import errno, sys
from sim.outputs import store

def full(path, frame):
    raise OSError(errno.ENOSPC, "No space left on device")

store.write_csv = full
from sim.cli import main

sys.argv = ["schemesim", "run", sys.argv[1], "-n", "2", "--workers", "1", "--out", "out"]
main()
"""


def test_a_disk_that_fills_up_while_saving_ends_with_one_line_and_no_debris(
    tmpdir_env, tmp_path: Path
) -> None:
    command = [sys.executable, "-c", _DISK_FULL, str(SMALL)]
    done = subprocess.run(command, cwd=tmp_path, env=tmpdir_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    said = _said(done.stderr)
    assert len(said) == 1, said
    assert said[0].startswith("error: cannot write the results: No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]
    assert _spools(tmpdir_env) == []


def test_a_users_folder_named_like_a_dead_spool_is_never_removed(tmp_path: Path) -> None:
    dead = f"{SPOOL_PREFIX}{2**22 + 1}-1-"  # above Linux's largest pid
    users = tmp_path / f"{dead}my-results"
    users.mkdir()
    (users / "notes.md").write_text("mine")
    spool = tmp_path / f"{dead}abc"
    spool.mkdir()
    (spool / "replications.parquet").write_text("rows")
    (spool / "weekly-0.f8").write_bytes(b"\0" * 8)
    assert remove_stale_spools(tmp_path) == [spool]
    assert (users / "notes.md").read_text() == "mine"


_AFTER_MAIN = """
import signal, sys
from sim.cli import main

sys.argv = ["schemesim", "validate", sys.argv[1]]
try:
    main()
except SystemExit:
    pass
print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN, signal.getsignal(signal.SIGTERM) == signal.SIG_IGN)
"""


def test_a_finished_command_ignores_a_late_ctrl_c_while_python_shuts_down(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _AFTER_MAIN, str(SMALL)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "True True"
