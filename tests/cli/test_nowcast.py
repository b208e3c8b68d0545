"""``schemesim nowcast``: the result folder and its files, the printed headline as at the date, the
"as at" brief redrawn by ``schemesim brief``, and bad input (observed file, --as-at, variant)
refused with one message, exit code 2 and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.outputs.labels import label
from sim.outputs.nowcast_folder import NOWCAST_FILES
from tests.conftest import DATA, SCENARIOS

SMALL = DATA / "small.toml"
HEAD = "scheme,date,quantity,value,bound,tolerance\n"
LOOSE = (
    HEAD
    + "manufacturing_plus,2026-03-31,applications_received,10,approx,0.5\n"
    + "manufacturing_plus,2026-06-30,awarded,5,at_least,\n"
)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _variant(folder: Path, name: str, body: str) -> Path:
    return _write(folder, f"{name}.toml", f'extends = "{SMALL}"\n{body}')


def test_nowcast_writes_its_folder_and_prints_the_headline(cli, tmp_path: Path) -> None:
    observed = _write(tmp_path, "loose.csv", LOOSE)
    top_up = _variant(
        tmp_path, "topup", "[schemes.manufacturing_plus]\nchanges = [{ week = 60, places = 10 }]\n"
    )
    out = tmp_path / "now"
    result = cli("nowcast", SMALL, observed, "--variant", top_up, "-n", "200", "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "as at 30 Jun 2026" in result.stdout
    assert label("exhausted_by_money") in result.stdout
    assert {p.name for p in out.iterdir()} == {*NOWCAST_FILES, "manifest.json"}
    head = pd.read_csv(out / "headline.csv")
    assert set(head["scenario"]) == {"small", "topup"}
    assert set(head["key"]) == {
        "places_fill_by",
        "exhausted_by_money",
        "applications",
        "awarded",
        "unused_budget_hkd",
    }
    fills = head[(head["scenario"] == "small") & (head["key"] == "places_fill_by")]
    assert fills.groupby("scheme")["date"].last().eq("2027-11-16").all()  # the last is the scheme's end
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "nowcast"
    assert manifest["as_at"] == "2026-06-30"
    assert [v["name"] for v in manifest["variants"]] == ["topup"]
    assert (out / "brief.pdf").read_bytes().startswith(b"%PDF")
    again = cli("brief", out, "--out", tmp_path / "again.pdf")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert (tmp_path / "again.pdf").read_bytes().startswith(b"%PDF")


def test_a_bad_observed_file_is_refused_and_nothing_written(cli, tmp_path: Path) -> None:
    observed = _write(
        tmp_path, "bad.csv", HEAD + "manufacturing_plus,2026-03-31,applications_received,-3,exact,\n"
    )
    out = tmp_path / "now"
    result = cli("nowcast", SMALL, observed, "-n", "50", "--out", out)
    assert result.exit_code == 2
    assert "bad.csv" in result.stderr
    assert "value" in result.stderr
    assert not out.exists()


def test_an_as_at_date_before_the_last_observation_is_refused(cli, tmp_path: Path) -> None:
    observed = _write(tmp_path, "loose.csv", LOOSE)
    out = tmp_path / "now"
    result = cli("nowcast", SMALL, observed, "--as-at", "2026-05-01", "-n", "50", "--out", out)
    assert result.exit_code == 2
    assert "--as-at 2026-05-01" in result.stderr
    assert "last observation (2026-06-30)" in result.stderr
    assert not out.exists()
    result = cli("nowcast", SMALL, observed, "--as-at", "June", "-n", "50", "--out", out)
    assert result.exit_code == 2
    assert "not an ISO date" in result.stderr


def test_a_variant_that_changes_the_history_is_refused(cli, tmp_path: Path) -> None:
    observed = _write(tmp_path, "loose.csv", LOOSE)
    faster = _variant(tmp_path, "faster", "[schemes.manufacturing_plus.vetting]\ncapacity = 12\n")
    out = tmp_path / "now"
    result = cli("nowcast", SMALL, observed, "--variant", faster, "-n", "50", "--workers", "1", "--out", out)
    assert result.exit_code == 2
    assert "faster.toml" in result.stderr
    assert "changes the scheme before the as-at date" in result.stderr
    assert not out.exists()


def test_a_bad_or_missing_variant_file_is_refused(cli, tmp_path: Path) -> None:
    observed = _write(tmp_path, "loose.csv", LOOSE)
    out = tmp_path / "now"
    bad = _variant(tmp_path, "bad", "[schemes.manufacturing_plus]\nplaces = -1\n")
    result = cli("nowcast", SMALL, observed, "--variant", bad, "-n", "50", "--out", out)
    assert result.exit_code == 2
    assert "bad.toml" in result.stderr
    assert "places" in result.stderr
    result = cli("nowcast", SMALL, observed, "--variant", tmp_path / "none.toml", "-n", "50", "--out", out)
    assert result.exit_code == 2
    assert "none.toml" in result.stderr
    longer = _variant(tmp_path, "longer", "horizon_weeks = 120\n")
    result = cli("nowcast", SMALL, observed, "--variant", longer, "-n", "50", "--workers", "1", "--out", out)
    assert result.exit_code == 2
    assert "longer.toml" in result.stderr
    assert "horizon" in result.stderr
    assert not out.exists()


def test_the_more_assessors_variant_runs_on_the_synthetic_example_and_a_dated_copy_before_is_refused(
    cli, tmp_path: Path
) -> None:
    """The shipped variant (10 more assessors from week 56, after the synthetic observations) is a
    nowcast variant of the baseline: it shares the history, and on the same runs it adds awards and
    spends more by the scheme's end in the prior forecast. The same change from week 20, before the
    as-at date, changes the history and is refused."""
    baseline = SCENARIOS / "baseline.toml"
    observed = SCENARIOS / "observed" / "manufacturing-plus-synthetic.csv"
    variant = SCENARIOS / "more-assessors-month-13.toml"
    out = tmp_path / "now"
    result = cli(
        "nowcast", baseline, observed, "--variant", variant, "-n", "200", "--workers", "1", "--out", out
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    head = pd.read_csv(out / "headline.csv")
    mine = head[(head["scenario"] == "more-assessors-month-13") & (head["scheme"] == "manufacturing_plus")]
    change = mine.set_index("key")["change_prior"]
    assert change["awarded"] > 0
    assert change["unused_budget_hkd"] < 0
    others = head[(head["scenario"] == "more-assessors-month-13") & (head["scheme"] != "manufacturing_plus")]
    assert (others["change_prior"].fillna(0) == 0).all()  # the other schemes are untouched
    early = _write(
        tmp_path,
        "early.toml",
        f'extends = "{baseline}"\n[schemes.manufacturing_plus]\nchanges = [{{ week = 20, assessors = 10 }}]\n',
    )
    refused = tmp_path / "refused"
    result = cli(
        "nowcast", baseline, observed, "--variant", early, "-n", "50", "--workers", "1", "--out", refused
    )
    assert result.exit_code == 2
    assert "early.toml" in result.stderr
    assert "changes the scheme before the as-at date" in result.stderr
    assert not refused.exists()
