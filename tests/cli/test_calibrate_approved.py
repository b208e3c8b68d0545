"""Figures of approvals (``approved``) on the command line: checked, used by ``calibrate``, and an
approved figure no replication can reach stops with one message, exit code 2 and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.cli.test_calibrate import HEAD, LOOSE, SMALL

APPROVED = LOOSE + "manufacturing_plus,2026-09-30,approved,2,at_least,\n"


def test_observed_check_lists_an_approved_figure(cli, tmp_path: Path) -> None:
    observed = tmp_path / "approved.csv"
    observed.write_text(APPROVED)
    result = cli("observed", "check", SMALL, observed)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "approved" in result.stdout


def test_calibrate_weights_replications_by_their_approvals(cli, tmp_path: Path) -> None:
    observed, loose = tmp_path / "approved.csv", tmp_path / "loose.csv"
    observed.write_text(APPROVED)
    loose.write_text(LOOSE)
    for name, path in (("with", observed), ("without", loose)):
        result = cli(
            "calibrate", SMALL, path, "-n", "300", "--seed", "4", "--workers", "1", "--out", tmp_path / name
        )
        assert result.exit_code == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "with" / "manifest.json").read_text())
    assert [row["quantity"] for row in manifest["observed"]][-1] == "approved"
    with_, without = (pd.read_parquet(tmp_path / n / "weights.parquet") for n in ("with", "without"))
    # at least 2 approvals by Sep 2026 rules out some replications the applications alone allow
    assert (with_["log_likelihood"] < without["log_likelihood"]).any()
    assert (with_["log_likelihood"] <= without["log_likelihood"] + 1e-12).all()


def test_an_approved_figure_no_replication_reaches_exits_2_and_writes_nothing(cli, tmp_path: Path) -> None:
    observed = tmp_path / "impossible.csv"
    observed.write_text(HEAD + "manufacturing_plus,2026-09-30,approved,1000000,at_least,\n")
    result = cli("calibrate", SMALL, observed, "-n", "100", "--workers", "1", "--out", tmp_path / "cal")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert str(observed) in result.stderr
    assert "no replication is compatible with the observations" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "cal").exists()
