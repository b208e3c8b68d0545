"""``schemesim plot`` and ``schemesim brief`` end to end on small real result folders."""

from __future__ import annotations

import json
from pathlib import Path

from sim.outputs.outfiles import RECORD
from tests.outputs.test_brief import pdf_pages


def _ok(result) -> None:
    assert result.exit_code == 0, result.stdout + result.stderr + repr(result.exception)


def test_plot_writes_every_figure_of_a_run(cli, folders, tmp_path: Path) -> None:
    result = cli("plot", folders["run"], "--out", tmp_path / "figs", "--format", "pdf")
    _ok(result)
    names = {p.name for p in (tmp_path / "figs").iterdir()}
    stems = ("fan_chart", "funnel", "exhaustion", "wait", "value_for_money", "money_by_year", "who_is_funded")
    assert names == {f"{s}.{ext}" for s in stems for ext in ("png", "pdf")} | {RECORD}
    assert "7 figure(s)" in result.stdout


def test_plot_defaults_to_a_figures_folder_inside_the_results(cli, folders) -> None:
    _ok(cli("plot", folders["morris"]))
    assert (folders["morris"] / "figures" / "morris.png").stat().st_size > 0
    assert (folders["morris"] / "figures" / "morris.svg").stat().st_size > 0


def test_plot_chooses_sweep_outputs(cli, folders, tmp_path: Path) -> None:
    _ok(cli("plot", folders["sweep-2"], "--out", tmp_path, "-o", "awarded", "-o", "wait_median_weeks"))
    assert {p.stem for p in tmp_path.glob("*.png")} == {"sweep-awarded", "sweep-wait_median_weeks"}


def test_brief_writes_one_page(cli, folders, other_run: Path, tmp_path: Path) -> None:
    """One page, and for a run of several schemes one more with the other schemes."""
    _ok(cli("brief", folders["run"], "--out", tmp_path / "run.pdf"))
    _ok(cli("brief", folders["run"], "--compare", other_run, "--out", tmp_path / "vs.pdf"))
    _ok(cli("brief", folders["compare"], "--out", tmp_path / "compare.pdf"))
    for name in ("vs.pdf", "compare.pdf"):
        assert pdf_pages(tmp_path / name) == 1
    assert pdf_pages(tmp_path / "run.pdf") == 2  # Manufacturing+; then NIFS and the I&T Accelerator


def test_bad_input_is_a_message_and_exit_code_2(cli, folders, tmp_path: Path) -> None:
    cases = [
        (("plot", tmp_path / "missing"), "not a folder"),
        (("plot", tmp_path), "no manifest.json"),
        (("plot", folders["run"], "--format", "eps"), "--format: must be one of svg, pdf"),
        (
            ("plot", folders["sweep-1"], "-o", "awards"),
            "no such output in points.parquet: awards (did you mean 'awarded'?)",
        ),
        (("brief", folders["sweep-1"]), "not a sweep folder"),
        (("brief", folders["run"], "--compare", folders["sweep-1"]), "two run folders"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert message in " ".join(result.stderr.split()), (args, result.stderr)


def test_unknown_kind_and_incomplete_folders_are_refused(cli, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    marker = {"format": "schemesim-result", "schema": 1, "seed": 1, "replications": 2, "engine": "batch"}
    (folder / "manifest.json").write_text(json.dumps({**marker, "kind": "forecast"}))
    result = cli("plot", folder)
    assert result.exit_code == 2
    assert "unknown kind 'forecast'" in result.stderr
    (folder / "manifest.json").write_text(json.dumps({**marker, "kind": "run"}))
    result = cli("plot", folder)
    assert result.exit_code == 2
    assert "a run folder needs replications.parquet, timeseries.parquet, summary.csv" in result.stderr


def test_a_manifest_without_the_tools_marker_is_not_a_result(cli, tmp_path: Path) -> None:
    folder = tmp_path / "extension"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "run", "manifest_version": 3}))
    result = cli("plot", folder)
    assert result.exit_code == 2
    assert "not a schemesim result manifest" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json"]
