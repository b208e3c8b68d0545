"""``schemesim value-of-information RESULTS --decide A.toml B.toml``: the folder it writes, and
refusals (an unknown metric or scheme, a broken scenario, a foreign folder) with exit code 2 and
nothing written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.spec.reading import ALLOW_OUTSIDE_ENV
from tests.conftest import DATA, SCENARIOS
from tests.outputs.test_brief import pdf_pages

SMALL = DATA / "small.toml"
CAP = SCENARIOS / "cap-500k-200-places.toml"


def test_writes_its_folder(cli, tmp_path: Path) -> None:
    out = tmp_path / "voi"
    result = cli(
        "value-of-information", out, "--decide", SMALL, CAP, "-n", "200", "--seed", "3", "--workers", "1",
        "--resamples", "20",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Value of learning the parameter first" in result.stdout
    assert "On current information" in result.stdout
    names = {p.name for p in out.iterdir()}
    expected = {"evppi.csv", "value_of_information.csv", "decision.parquet", "evppi.png", "summary.txt"}
    assert expected | {"manifest.json"} == names
    table = pd.read_csv(out / "evppi.csv")
    assert list(table.columns) == ["rank", "parameter", "label", "evppi", "lo", "hi", "share_of_evpi", "unit"]
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert (table["evppi"].diff().dropna() <= 0).all()
    assert (table["lo"] <= table["hi"]).all()
    assert (table["unit"] == "HK$").all()
    summary = pd.read_csv(out / "value_of_information.csv").iloc[0]
    assert summary["metric"] == "net_benefit"
    assert summary["schemes"] == "manufacturing_plus;nifs"  # the schemes that value a benefit
    assert summary["evpi_lo"] <= summary["evpi_hi"]
    assert summary["replications_used"] == 200
    decision = pd.read_parquet(out / "decision.parquet")
    assert len(decision) == 200
    assert (decision["difference"] == decision["b"] - decision["a"]).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "value-of-information"
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert manifest["sentence"] == (out / "summary.txt").read_text().strip()
    for command in (("plot", out, "--format", "pdf"), ("brief", out)):
        drawn = cli(*command)
        assert drawn.exit_code == 0, drawn.stdout + drawn.stderr
    assert (out / "figures" / "evppi.png").is_file()
    assert (out / "figures" / "evppi.pdf").is_file()
    assert pdf_pages(out / "brief.pdf") == 1
    again = cli("value-of-information", out, "--decide", SMALL, CAP, "-n", "60", "--resamples", "10")
    assert again.exit_code == 0, again.stderr  # its own earlier result is replaced


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            ("--metric", "net_benefits"),
            "--metric: unknown metric 'net_benefits' (did you mean 'net_benefit'?)",
        ),
        (("--metric", "wait_median_weeks"), "does not add up across schemes; name one with --scheme"),
        (("--scheme", "manufacturing"), "--scheme: unknown scheme 'manufacturing'"),
        (("--better", "less"), "--better: must be higher or lower (got 'less')"),
    ],
)
def test_bad_decision_is_refused_before_any_work(
    cli, tmp_path: Path, extra: tuple[str, ...], words: str
) -> None:
    out = tmp_path / "voi"
    result = cli("value-of-information", out, "--decide", SMALL, CAP, "-n", "60", *extra)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert words in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_bad_scenario_is_refused(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_OUTSIDE_ENV, "0")  # restored after the test: --allow-outside sets it
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "' + str(SMALL) + '"\n[schemes.manufacturing_plus]\nbudget_hdk = 1\n')
    out = tmp_path / "voi"
    result = cli("--allow-outside", "value-of-information", out, "--decide", SMALL, bad, "-n", "60")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "bad.toml" in result.stderr
    assert "budget_hdk" in result.stderr
    assert not out.exists()


def test_a_foreign_folder_is_not_replaced(cli, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = cli("value-of-information", out, "--decide", SMALL, CAP, "-n", "60")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_without_scikit_learn_it_says_how_to_install(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    out = tmp_path / "voi"
    result = cli("value-of-information", out, "--decide", SMALL, CAP, "-n", "60")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "pip install -e '.[voi]'" in " ".join(result.stderr.split())
    assert not out.exists()


def test_brief_value_of_information_page(cli, tmp_path: Path) -> None:
    """--value-of-information adds the page to a comparison's brief; a folder of another kind is
    refused (exit 2) and nothing is written; without it the comparison's brief is one page."""
    voi, compared = tmp_path / "voi", tmp_path / "compare"
    made = cli("value-of-information", voi, "--decide", SMALL, CAP, "-n", "60", "--resamples", "10")
    assert made.exit_code == 0, made.stderr
    made = cli("compare", SMALL, CAP, "-n", "20", "--workers", "1", "--out", compared)
    assert made.exit_code == 0, made.stderr
    plain, both = tmp_path / "plain.pdf", tmp_path / "both.pdf"
    assert cli("brief", compared, "--out", plain).exit_code == 0
    assert pdf_pages(plain) == 1
    result = cli("brief", compared, "--value-of-information", voi, "--out", both)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert pdf_pages(both) == 2
    refused = cli("brief", compared, "--value-of-information", compared, "--out", tmp_path / "no.pdf")
    assert refused.exit_code == 2, refused.stdout + refused.stderr
    assert "--value-of-information" in refused.stderr
    assert not (tmp_path / "no.pdf").exists()
