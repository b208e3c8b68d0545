"""The brief names the limit that binds: the places or the money (MODEL.md "Which limit binds").

In the baseline it is the 400 places that fill, never the HK$100M: its
headline sentence must say so and must not say the money runs out. A
budget-tight variant, where the money runs out in every run, must say that
instead. Both briefs must still fit on their A4 page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.outputs.brief import brief_figure, run_sentences
from sim.outputs.folders import read_folder
from sim.outputs.tables import headline, headline_shown
from tests.conftest import DATA, SCENARIOS
from tests.outputs.builders import build_run, variant
from tests.outputs.test_brief import _assert_on_the_page, _texts

#: Money for about two grants, places for all: the money runs out in every run.
BUDGET_TIGHT = "[schemes.manufacturing_plus]\nbudget_hkd = 500_000\nplaces = 1000\n"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.mktemp("baseline") / "run", SCENARIOS / "baseline.toml", 64)


@pytest.fixture(scope="module")
def budget_tight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("budget-tight")
    return build_run(tmp / "run", variant(tmp, "budget-tight", BUDGET_TIGHT), 16)


def _sentence(folder: Path, scheme_label: str) -> str:
    f = read_folder(folder)
    sentences = run_sentences(f.table("replications"), f.labels, f.limits, f.meta)
    return next(s for s in sentences if s.startswith(scheme_label + ":"))


def test_the_baseline_headline_names_the_places_not_the_money(baseline: Path) -> None:
    sentence = _sentence(baseline, "Manufacturing+")
    assert re.match(r"Manufacturing\+: the 400 places fill within 104 weeks in \d+% of runs", sentence)
    assert "runs out" not in sentence
    assert re.search(r"HK\$[\d.]+M of the HK\$100M \(\d+%\) is left unused", sentence)


def test_the_baseline_brief_shows_no_money_running_out_and_fits_its_page(baseline: Path) -> None:
    fig = brief_figure(read_folder(baseline))
    words = " ".join(" ".join(_texts(fig)).split())
    assert "Runs where the places fill" in words
    assert "Week the places fill (median of runs where they fill)" in words
    assert "Budget left unused (HK$)" in words
    assert "Budget left unused (share)" in words
    assert "runs out" not in words
    _assert_on_the_page(fig)


def test_a_budget_tight_brief_says_the_money_runs_out_and_fits_its_page(budget_tight: Path) -> None:
    sentence = _sentence(budget_tight, "Manufacturing+")
    assert "the HK$500k runs out in every run" in sentence
    fig = brief_figure(read_folder(budget_tight))
    words = " ".join(" ".join(_texts(fig)).split())
    assert "Runs where the money runs out" in words
    assert "Week the money runs out (median of runs where it runs out)" in words
    _assert_on_the_page(fig)


def test_the_undersubscription_threshold_moves_the_share_of_runs_under_subscribed(baseline: Path) -> None:
    reps = read_folder(baseline).table("replications")
    shares = [
        headline(reps, below)
        .set_index(["scheme", "key"])
        .loc[("manufacturing_plus", "undersubscribed"), "value"]
        for below in (0.0, 0.5, 1.01)
    ]
    whole = reps[(reps["scheme"] == "manufacturing_plus") & (reps["segment"] == "all")]
    assert shares[0] == whole["applications_below_places"].mean()  # no budget threshold: places only
    assert shares[1] == whole["undersubscribed"].mean()  # the default threshold is the table's column
    assert shares[2] == 1.0  # nobody commits more than all of the budget


def test_run_takes_the_undersubscription_threshold_and_records_it(cli, tmp_path: Path) -> None:
    small = DATA / "small.toml"
    options = ("-n", "8", "--workers", "1", "--seed", "3")
    result = cli("run", small, *options, "--undersubscribed-below", "0.99", "--out", "out")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Runs under-subscribed" in result.stdout
    assert "Runs where the places fill" in result.stdout
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["undersubscribed_below"] == 0.99
    head = pd.read_csv(tmp_path / "out" / "headline.csv").set_index(["scheme", "key"])
    reps = pd.read_parquet(tmp_path / "out" / "replications.parquet")
    whole = reps[(reps["scheme"] == "manufacturing_plus") & (reps["segment"] == "all")]
    # nearly all of the budget must be committed: every run that leaves 1% unused is under-subscribed
    want = ((whole["applications_below_places"] == 1) | (whole["unused_budget_share"] > 0.01)).mean()
    assert head.loc[("manufacturing_plus", "undersubscribed"), "value"] == pytest.approx(want, abs=1e-12)


def test_the_headline_shown_names_the_money_only_for_a_scheme_where_it_runs_out(
    baseline: Path, budget_tight: Path
) -> None:
    for folder, money_shown in ((baseline, False), (budget_tight, True)):
        head = headline_shown(headline(read_folder(folder).table("replications")))
        keys = set(head.loc[head["scheme"] == "manufacturing_plus", "key"])
        assert ({"exhausted_by_money", "money_runs_out_week"} <= keys) == money_shown
        assert {"exhausted_by_places", "places_fill_week", "unused_budget_hkd"} <= keys
