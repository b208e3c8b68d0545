"""``plot``, ``brief``, ``trace``, ``sweep`` and ``sensitivity`` never overwrite a file the tool did not write.

Each command that writes single files refuses, before anything is written and
with exit code 2, an existing file of the same name that the tool did not
write (or that was changed since), names it and says to use ``--force`` or
another ``--out``; a rerun over its own output goes through without
``--force``; ``--force`` replaces. Commands that write into a result folder
keep a user's file there, renamed ``kept-NAME`` when they write that name.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from sim.outputs import outfiles
from sim.outputs.experiments import SweepStore
from sim.outputs.manifest import read_manifest, write_manifest
from tests.conftest import DATA
from tests.outputs.builders import CAPACITY, SEED, build_sweep

SMALL = DATA / "small.toml"
MINE = b"my own file, not a figure"


def _ok(result) -> None:
    assert result.exit_code == 0, result.stdout + result.stderr + repr(result.exception)


def _refused(result, path: Path | str) -> None:
    """Exit 2 with one message that names the file and says what to do."""
    assert result.exit_code == 2, result.stdout + result.stderr + repr(result.exception)
    message = " ".join(result.stderr.split())
    assert str(path) in message, message
    assert "use --force to replace it, or choose another --out" in message, message
    assert "Traceback" not in result.stdout + result.stderr


def _mine(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(MINE)
    return path


def _a_copy(folders: dict[str, Path], kind: str, tmp_path: Path) -> Path:
    """A copy of a session result folder as written, without what other tests drew into it."""
    folder = Path(shutil.copytree(folders[kind], tmp_path / kind))
    manifest = read_manifest(folder)
    for drawn in manifest.derived:
        (folder / drawn).unlink(missing_ok=True)
    write_manifest(folder, replace(manifest, derived=()))
    return folder


def test_plot_refuses_a_users_figure_of_the_same_name_and_writes_nothing(
    cli, folders, tmp_path: Path
) -> None:
    mine = _mine(tmp_path / "figs" / "fan_chart.png")
    _refused(cli("plot", folders["run"], "--out", "figs"), "figs/fan_chart.png")
    assert mine.read_bytes() == MINE
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["fan_chart.png"]


def test_plot_reruns_over_its_own_figures_and_force_replaces_a_users(cli, folders, tmp_path: Path) -> None:
    for _ in range(2):
        _ok(cli("plot", folders["run"], "--out", "figs"))
    mine = _mine(tmp_path / "figs" / "funnel.png")  # a user's file put in place of the tool's
    _refused(cli("plot", folders["run"], "--out", "figs"), "figs/funnel.png")
    assert mine.read_bytes() == MINE
    _ok(cli("plot", folders["run"], "--out", "figs", "--force"))
    assert mine.read_bytes().startswith(b"\x89PNG")
    _ok(cli("plot", folders["run"], "--out", "figs"))


def test_plot_into_its_result_folder_refuses_a_users_file_there(cli, folders, tmp_path: Path) -> None:
    folder = _a_copy(folders, "morris", tmp_path)
    mine = _mine(folder / "figures" / "morris.svg")
    _refused(cli("plot", folder), "morris.svg")
    assert mine.read_bytes() == MINE
    mine.unlink()
    _ok(cli("plot", folder))
    _ok(cli("plot", folder))
    owned = read_manifest(folder).owned()
    assert {"figures/morris.png", "figures/morris.svg", f"figures/{outfiles.RECORD}"} <= owned


def test_brief_refuses_a_users_pdf_reruns_over_its_own_and_force_replaces(
    cli, folders, tmp_path: Path
) -> None:
    folder = _a_copy(folders, "run", tmp_path)
    mine = _mine(folder / "brief.pdf")
    _refused(cli("brief", folder), "brief.pdf")
    assert mine.read_bytes() == MINE
    _ok(cli("brief", folder, "--force"))
    assert mine.read_bytes().startswith(b"%PDF")
    _ok(cli("brief", folder))
    other = _mine(tmp_path / "mine.pdf")
    _refused(cli("brief", folder, "--out", "mine.pdf"), "mine.pdf")
    assert other.read_bytes() == MINE


def test_a_file_the_tool_wrote_but_the_user_changed_is_not_the_tools_any_more(
    cli, folders, tmp_path: Path
) -> None:
    _ok(cli("brief", folders["run"], "--out", "brief.pdf"))
    with (tmp_path / "brief.pdf").open("ab") as pdf:
        pdf.write(b"% my notes")
    _refused(cli("brief", folders["run"], "--out", "brief.pdf"), "brief.pdf")
    assert (tmp_path / "brief.pdf").read_bytes().endswith(b"% my notes")


def test_a_users_file_in_place_of_the_record_is_never_overwritten(cli, folders, tmp_path: Path) -> None:
    record = _mine(tmp_path / "figs" / outfiles.RECORD)
    result = cli("plot", folders["run"], "--out", "figs", "--force")
    assert result.exit_code == 2
    assert "not a record of schemesim's" in " ".join(result.stderr.split())
    assert record.read_bytes() == MINE
    assert sorted(p.name for p in record.parent.iterdir()) == [outfiles.RECORD]


def test_a_folder_where_a_file_would_go_is_refused_even_with_force(cli, folders, tmp_path: Path) -> None:
    (tmp_path / "brief.pdf").mkdir()
    (tmp_path / "brief.pdf" / "inside.txt").write_bytes(MINE)
    result = cli("brief", folders["run"], "--out", "brief.pdf", "--force")
    assert result.exit_code == 2
    assert "an existing folder" in result.stderr
    assert (tmp_path / "brief.pdf" / "inside.txt").read_bytes() == MINE


@pytest.fixture
def no_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the trace's simulation starts: the refusal must come before the work."""
    import sim.engines.des

    monkeypatch.setattr(sim.engines.des, "simulate_replication", lambda *a, **k: pytest.fail("simulated"))


@pytest.mark.usefixtures("no_trace")
def test_trace_refuses_a_users_csv_before_any_work(cli, tmp_path: Path) -> None:
    mine = _mine(tmp_path / "trace.csv")
    _refused(cli("trace", SMALL, "--out", "trace.csv"), "trace.csv")
    assert mine.read_bytes() == MINE


def test_trace_reruns_over_its_own_csv_and_force_replaces_a_users(cli, tmp_path: Path) -> None:
    for _ in range(2):
        _ok(cli("trace", SMALL, "--out", "trace.csv"))
        _ok(cli("trace", SMALL))  # the default path under results/
    mine = _mine(tmp_path / "trace.csv")
    _refused(cli("trace", SMALL, "--out", "trace.csv"), "trace.csv")
    _ok(cli("trace", SMALL, "--out", "trace.csv", "--force"))
    assert mine.read_bytes().startswith(b"replication,")
    record = json.loads((tmp_path / outfiles.RECORD).read_text())
    assert set(record["files"]) == {"trace.csv"}


def test_a_rerun_of_a_run_removes_its_figures_and_brief_and_keeps_the_users(cli, tmp_path: Path) -> None:
    _ok(cli("run", SMALL, "-n", "2", "--seed", str(SEED), "--out", "mine"))
    _ok(cli("brief", "mine"))
    _ok(cli("plot", "mine"))
    notes = _mine(tmp_path / "mine" / "figures" / "notes.txt")
    _ok(cli("run", SMALL, "-n", "2", "--seed", str(SEED), "--out", "mine"))
    assert notes.read_bytes() == MINE
    assert not (tmp_path / "mine" / "brief.pdf").exists()
    assert sorted(p.name for p in (tmp_path / "mine" / "figures").iterdir()) == ["notes.txt"]
    assert not (tmp_path / "mine" / outfiles.RECORD).exists()


@pytest.mark.parametrize("kind", ["sweep", "sensitivity"])
def test_sweep_and_sensitivity_keep_a_users_file_of_a_name_they_write(tmp_path: Path, kind: str) -> None:
    folder = build_sweep(tmp_path, [CAPACITY])
    for name in ("indices_readable.csv", "WARNING.txt", "notes.txt"):
        _mine(folder / name)
    SweepStore(folder, {"kind": kind, "points": 3})
    mine = {p.name for p in folder.iterdir() if p.is_file() and p.read_bytes() == MINE}
    if kind == "sensitivity":  # it writes both names: the user's files step aside
        assert mine == {"kept-indices_readable.csv", "kept-WARNING.txt", "notes.txt"}
    else:  # a sweep writes neither: they stay where they are
        assert mine == {"indices_readable.csv", "WARNING.txt", "notes.txt"}


def test_plot_and_brief_under_a_regular_file_stop_with_a_message(cli, folders, tmp_path: Path) -> None:
    notes = _mine(tmp_path / "notes.txt")
    for args in (
        ("plot", folders["run"], "--out", "notes.txt"),
        ("brief", folders["run"], "--out", "notes.txt/b.pdf"),
    ):
        result = cli(*args)
        assert result.exit_code == 2, result.stdout + result.stderr + repr(result.exception)
        assert "notes.txt is a file, not a folder" in " ".join(result.stderr.split())
        assert "Traceback" not in result.stdout + result.stderr
    assert notes.read_bytes() == MINE
