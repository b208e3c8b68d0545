"""One definition per label: a headline statistic is named by its label in sim.outputs.labels everywhere.

The label maps (figures' words, comparison labels, sensitivity tables, the
workbook) are checked against :data:`sim.outputs.labels.STATISTICS` and
:data:`~sim.outputs.labels.SHOWN_AS`; then every text of every figure and
brief drawn from real small result folders, and every row of the comparison
table, is scanned: a text that mentions a headline statistic must do so
under one of the names defined there, so a second name ("Public cost per
additional upgrade" beside "Cost per additional upgrade") fails.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from rich.console import Console

from sim.experiments.compare import COMPARED
from sim.outputs import labels
from sim.outputs.brief import _headline_rows, brief_figure
from sim.outputs.experiments import comparison_cells, comparison_table
from sim.outputs.figures import figures_for
from sim.outputs.folders import read_folder
from sim.outputs.plots import FAN_SERIES, FUNNEL
from sim.outputs.style import METRIC_WORDS, metric_label
from sim.outputs.tables import HEADLINE, INTERMEDIARY_HEADLINE, readable_indices
from sim.outputs.workbook import definitions_table

#: Phrases that mark a mention of a headline statistic, by its key.
MENTIONS: dict[str, str] = {
    "cost_per_additional_hkd": "per additional upgrade",
    "benefit_cost_ratio": "benefit-cost ratio",
    "wait_median_weeks": "wait to decision",
    "average_grant_hkd": "average grant",
    "unused_budget_hkd": "budget left unused",
    "completed": "upgrades completed",
}


def _names(phrase: str) -> list[str]:
    """Every name defined for a statistic that mentions ``phrase``: the labels (with and without
    their unit), the figures' words of every metric, and the words of the cumulative series."""
    defined = [s.label for s in (*labels.STATISTICS.values(), *labels.SHOWN_AS.values())]
    defined += [words for words, _unit in METRIC_WORDS.values()]
    defined += [axis for _series, _title, axis in FAN_SERIES]
    return [n.lower() for n in defined if phrase in n.lower()]


def _texts(fig: Figure) -> Iterator[str]:
    for text in fig.findobj(Text):
        if text.get_text().strip():
            yield text.get_text()


#: Words that may stand right before a name, which leave it the name ("what happens to awards",
#: "less cost per additional upgrade is better").
_BEFORE = {"to", "change", "move", "of", "and", "the", "less", "more"}


def _named_at(flat: str, start: int) -> bool:
    """Whether a name found at ``start`` of ``flat`` stands on its own: at the start, after a
    delimiter or after one of :data:`_BEFORE`; not qualified ('public cost per...')."""
    before = flat[:start].rstrip()
    return not before or before[-1] in ":;(,\u2192" or before.split()[-1] in _BEFORE


def _covered(flat: str, phrase: str, names: list[str]) -> bool:
    """Whether every mention of ``phrase`` in ``flat`` lies inside a name that stands on its own."""
    spans = [
        (i, i + len(n))
        for n in names
        for i in (k for k in range(len(flat)) if flat.startswith(n, k))
        if _named_at(flat, i)
    ]
    mentions = [k for k in range(len(flat)) if flat.startswith(phrase, k)]
    return all(any(a <= k and k + len(phrase) <= b for a, b in spans) for k in mentions)


def _misnamed(texts: Iterator[str]) -> list[str]:
    """Texts that mention a headline statistic under a name not defined for it."""
    wrong = []
    for text in texts:
        flat = " ".join(text.split()).lower()
        if not all(_covered(flat, phrase, _names(phrase)) for phrase in MENTIONS.values()):
            wrong.append(text)
    return wrong


def test_figures_name_every_headline_statistic_by_its_label() -> None:
    for key, statistic in labels.STATISTICS.items():
        shown = labels.SHOWN_AS.get(key, statistic)
        assert metric_label(key) == shown.label.split(" (")[0], key
        assert METRIC_WORDS[key][1] == shown.unit, key
    for key in ("applications", "awarded", "completed"):
        assert dict(FUNNEL)[key] == labels.STATISTICS[key].label.split(" (")[0]


def test_an_intermediary_scheme_names_its_stages_by_its_own_labels() -> None:
    """The funnel and fan chart of an intermediary scheme name each statistic by its one label: its
    own (:data:`labels.INTERMEDIARY_STATISTICS`) where it has one, else the headline's; and no
    own label is a direct scheme's."""
    from sim.outputs.plots import funnel_panels, scheme_series

    rows = pd.DataFrame({"metric": ["operators_funded"], "mean": [4.0]})
    for _title, stages, _unit in funnel_panels(rows):
        for key, shown in stages:
            assert shown == labels.scheme_statistic(key, True).label.split(" (")[0], key
    own = [s for s in labels.INTERMEDIARY_STATISTICS.values() if s not in labels.STATISTICS.values()]
    taken = {s.label for s in labels.STATISTICS.values()} | {w for w, _ in METRIC_WORDS.values()}
    assert not {s.label for s in own} & taken
    fan = scheme_series(FAN_SERIES, True)
    assert [name for name, *_ in fan] == [name for name, *_ in FAN_SERIES]
    assert dict((n, t) for n, t, _ in fan)["awards"] == labels.label("operators_funded")
    assert not _misnamed(iter([t for _, t, a in fan] + [a for _, t, a in fan]))


def test_a_statistic_shown_differently_has_a_name_of_its_own() -> None:
    for key, other in labels.SHOWN_AS.items():
        assert other.label != labels.STATISTICS[key].label
        assert other.label.split(" (")[0] != labels.STATISTICS[key].label.split(" (")[0] or (
            "median" in labels.STATISTICS[key].label  # the headline's label names its median
        )
    headline_labels = {labels.label(row.key) for row in HEADLINE}
    assert not headline_labels & {labels.mean_label(k) for k in labels.SHOWN_AS}


def test_comparison_labels_are_the_headline_labels_or_their_own() -> None:
    for key in COMPARED:
        if key in labels.STATISTICS:
            assert labels.COMPARE_LABELS.get(key, labels.label(key)) == labels.mean_label(key)


def test_the_comparison_table_names_rows_by_their_labels(folders: dict[str, Path]) -> None:
    from sim.outputs.compare_words import operator_schemes, reader_rows

    comparison = read_folder(folders["compare"]).table("comparison")
    table = comparison_table(comparison)
    operators = operator_schemes(comparison)
    rows = reader_rows(comparison)  # an intermediary scheme's rows: its own (none of upgrades)
    for scheme, metric, shown in zip(rows["scheme"], rows["metric"], table["Metric"], strict=True):
        if scheme in operators and metric in labels.INTERMEDIARY_STATISTICS:
            assert shown == labels.INTERMEDIARY_STATISTICS[metric].label, (metric, shown)
        elif metric in labels.STATISTICS:
            assert shown.startswith(labels.mean_label(metric)), (metric, shown)
    assert not _misnamed(iter(table["Metric"]))


@pytest.mark.parametrize("kind", ["run", "compare", "sweep-1", "sweep-2", "sweep-3", "morris", "sobol"])
def test_figures_mention_headline_statistics_only_by_their_labels(
    folders: dict[str, Path], kind: str
) -> None:
    folder = read_folder(folders[kind])
    outputs = None
    if kind.startswith("sweep"):
        outputs = list(MENTIONS)  # every output a sweep can draw of these statistics
    figures = figures_for(folder, outputs)
    assert figures
    for name, fig in figures.items():
        assert not _misnamed(_texts(fig)), name


def test_briefs_mention_headline_statistics_only_by_their_labels(
    folders: dict[str, Path], other_run: Path
) -> None:
    run = read_folder(folders["run"])
    for fig in (
        brief_figure(run),
        brief_figure(read_folder(folders["compare"])),
        brief_figure(run, read_folder(other_run)),
    ):
        texts = list(_texts(fig))
        # the comparison brief shows value for money counted to the end of the follow-up only
        windows = ("cost_per_additional_hkd", "cost_per_additional_hkd_follow_up")
        assert any(labels.label(key) in t for key in windows for t in texts)
        assert not _misnamed(iter(texts))


def test_sensitivity_tables_and_the_workbook_use_the_labels(folders: dict[str, Path]) -> None:
    folder = read_folder(folders["morris"])
    indices = folder.table("indices")
    readable = readable_indices(indices, folder.labels)
    assert list(readable["Output"]) == [labels.mean_label(o) for o in indices["output"]]
    definitions = definitions_table()
    shown_as = [labels.mean_label(key) for key in labels.SHOWN_AS]
    keys = dict.fromkeys(
        row.key for row in HEADLINE + INTERMEDIARY_HEADLINE
    )  # a direct scheme's, then an intermediary's
    assert list(definitions["label"]) == [labels.label(key) for key in keys] + shown_as


def test_the_scan_catches_a_second_name() -> None:
    second = ["Public cost per additional upgrade (HK$)", "Outlay per additional upgrade"]
    assert _misnamed(iter(second)) == second
    assert (
        _misnamed(iter(["What happens to cost per additional upgrade by scheme end as places change?"])) == []
    )
    assert _misnamed(iter(["Median wait to decision (weeks)", "Each run's median wait to decision"])) == []
    for misleading in ("Median wait to decision, mean of runs", "Typical wait to decision"):
        assert _misnamed(iter([misleading])) == [misleading]


@pytest.fixture(scope="module")
def nowcast_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small nowcast of the one-tenth scenario, with a top-up variant, as written by the command."""
    from sim.experiments.nowcast import NowcastTask, nowcast
    from sim.experiments.observed import ObservationModel
    from sim.outputs.nowcast_folder import save_nowcast
    from sim.spec.loader import load_scenario
    from sim.spec.observations import read_observed
    from tests.conftest import DATA

    tmp = tmp_path_factory.mktemp("nowcast")
    observed = tmp / "loose.csv"
    observed.write_text(
        "scheme,date,quantity,value,bound,tolerance\nmanufacturing_plus,2026-06-30,awarded,8,approx,0.5\n"
    )
    variant = tmp / "topup.toml"
    variant.write_text(
        f'extends = "{DATA / "small.toml"}"\n[schemes.manufacturing_plus]\n'
        "changes = [{ week = 60, budget_hkd = 5_000_000 }]\n"
    )
    base, top_up = load_scenario(DATA / "small.toml"), load_scenario(variant)
    data = read_observed(observed, base.scenario)
    task = NowcastTask(base.scenario, (top_up.scenario,), data, ObservationModel(), date(2026, 6, 30))
    result = nowcast(task, (base.name, top_up.name), 100, 3, "batch")
    return save_nowcast([base, top_up], data, result, tmp / "folder")


def test_the_nowcast_names_statistics_only_by_their_labels(nowcast_folder: Path) -> None:
    from sim.outputs.nowcast_brief import nowcast_folder_brief
    from sim.outputs.nowcast_charts import observed_fan_chart

    folder = read_folder(nowcast_folder)
    head = folder.table("headline")
    operators = labels.intermediary_schemes(folder.meta)  # their rows in their own words
    for scheme, key, shown in zip(head["scheme"], head["key"], head["label"], strict=True):
        if key in labels.NOWCAST_STATISTICS and scheme in operators and key in labels.INTERMEDIARY_STATISTICS:
            assert shown == labels.INTERMEDIARY_STATISTICS[key].label + " by scheme end", (key, shown)
        elif key in labels.NOWCAST_STATISTICS:
            assert shown.startswith(labels.NOWCAST_STATISTICS[key].label.split("{")[0]), shown
        else:
            assert shown == labels.scheme_statistic(key, scheme in operators).label, (key, shown)
    assert not _misnamed(iter(head["label"]))
    for key in ("applications", "awarded", "exhausted_by_money"):  # counted by the scheme's end
        direct = ~head["scheme"].isin(operators)
        shown = set(head.loc[(head["key"] == key) & direct, "label"])
        assert shown == {labels.label(key) + " by scheme end"}, (key, shown)
    fan = observed_fan_chart(folder.table("bands"), folder.meta["observed"], folder.labels, folder.meta)
    brief = nowcast_folder_brief(folder)
    for fig in (fan, brief):
        assert not _misnamed(_texts(fig))
    assert any(labels.label("unused_budget_hkd") in t for t in _texts(brief))


# ------------------------------------------------------------------ brackets, windows and counts in words


def test_a_share_of_runs_comes_with_the_confidence_interval_of_the_share(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A share of runs' bracket is the confidence interval of the share, a quantity's the 5-95% range
    of runs, and every output says which: headline.csv, the workbook, the command line's table and
    the brief (its table marks a share's interval 'CI' and its subtitle says what that is)."""
    from sim.cli.app import print_headline
    from sim.outputs.tables import headline
    from sim.outputs.workbook import headline_sheet

    run = read_folder(folders["run"])
    head = headline(run.table("replications"))
    shares = head["statistic"] == "share"
    assert shares.any()
    assert (~shares).any()
    assert set(head.loc[shares, "interval"]) == {"90% confidence interval of the share"}
    assert set(head.loc[~shares, "interval"]) == {"5-95% of runs"}
    written = pd.read_csv(folders["run"] / "headline.csv")
    assert set(written.loc[written["statistic"] == "share", "interval"]) == {labels.interval_words("share")}
    sheet = headline_sheet(head, run.labels)
    assert "Low (5%)" not in sheet.columns
    assert list(sheet["Low to high"]) == list(head["interval"])
    for key, statistic in labels.STATISTICS.items():
        if statistic.unit == "share of runs" and "interval" in statistic.definition:
            assert "confidence interval of the share" in statistic.definition, key
    texts = list(_texts(brief_figure(run)))
    page = " ".join(texts)
    assert "hold 90% of runs" not in page
    assert labels.INTERVAL_NOTE in " ".join(page.split())
    share_labels = [labels.label(row.key) for row in HEADLINE if row.statistic == "share"]
    schemes = list(run.labels)
    rows = [
        row for row in _headline_rows(run.table("replications"), schemes, 0.5, True) if row[0] in share_labels
    ]
    assert rows
    assert all("(CI " in cell for row in rows for cell in row[1:] if "(" in cell), rows
    assert sum(t.count("(CI ") for t in texts) == sum(c.count("(CI ") for row in rows for c in row[1:])
    printed = io.StringIO()
    monkeypatch.setattr(sys.modules["sim.cli.app"], "out", Console(file=printed, width=200))
    print_headline(run.table("replications"), run.labels, "run")
    lines = printed.getvalue().splitlines()
    fill = [line for line in lines if labels.label("exhausted_by_places") in line]
    awards = [line for line in lines if labels.label("awarded") in line]
    assert fill
    assert all(" CI " in line for line in fill)
    assert awards
    assert not any(" CI " in line for line in awards)
    assert any("'CI' marks the 90% confidence interval of the share" in line for line in lines)


def test_the_sweep_names_a_shares_band_a_confidence_interval(folders: dict[str, Path]) -> None:
    figures = figures_for(read_folder(folders["sweep-1"]), ["exhausted_by_places", "awarded"])
    texts = [t for fig in figures.values() for t in _texts(fig)]
    assert "90% confidence interval of the share" in texts
    assert "90% interval of the mean" not in texts


def test_a_week_a_limit_binds_is_counted_from_the_start_date(folders: dict[str, Path]) -> None:
    """The weeks are counted from the scenario's start date (a scheme may open later: the I&T
    Accelerator at week 10.3), and no output says 'from opening'."""
    for key in ("exhaustion_week", "places_fill_week", "money_runs_out_week"):
        for statistic in (labels.STATISTICS[key], labels.SHOWN_AS.get(key, labels.STATISTICS[key])):
            assert statistic.unit == "weeks from the start date", key
            assert "from opening" not in statistic.definition
    assert "start date" in labels.STATISTICS["places_fill_week"].definition
    run, compare = read_folder(folders["run"]), read_folder(folders["compare"])
    for fig in (*figures_for(run).values(), brief_figure(compare)):
        assert not [t for t in _texts(fig) if "from opening" in t]


def test_an_interval_of_non_zero_width_never_prints_as_a_point() -> None:
    """'-5 (-5 to -5)' hid an interval of width 0.4: it gets the digits it needs; a difference
    the same in every run is said to be exact."""
    row = {"presence": "both", "scheme": "x", "a_mean": 100.0, "b_mean": 95.0, "spread_lo": -6.0}
    cases = [
        ("awarded", -5.0, -5.2, -4.8, "-5.0 (-5.2 to -4.8)"),
        ("awarded", -5.0, -5.0, -5.0, "-5 exactly (the same in every run)"),
        ("exhausted_by_places", 0.01, 0.009, 0.011, "+1.0 pp (+0.9 pp to +1.1 pp)"),
        ("paid_hkd", 1_234_000.0, 1_233_100.0, 1_234_900.0, "+HK$1.234M (+HK$1.233M to +HK$1.235M)"),
        ("wait_median_weeks", -40.4, -48.4, -30.0, "-40.4 weeks (-48.4 to -30.0 weeks)"),
    ]
    for metric, mean, lo, hi, expected in cases:
        r = pd.Series(row | {"metric": metric, "diff_mean": mean, "diff_lo": lo, "diff_hi": hi})
        r["spread_hi"], r["better"], r["share_b_better"], r["n"] = 4.0, "", float("nan"), 10
        assert comparison_cells(r)[3] == expected, metric


def test_counts_in_words_agree_with_their_nouns() -> None:
    from sim.outputs.brief import calibrated_line, intermediary_sentences, outcome_sentences
    from sim.outputs.numbers import agrees, count_words

    assert [count_words(x, "upgrade") for x in (1, 0.6, 0, 2, 1234)] == [
        "1 upgrade",
        "1 upgrade",
        "0 upgrades",
        "2 upgrades",
        "1,234 upgrades",
    ]
    assert count_words(1, "start-up") == "1 start-up"
    assert agrees(1, "is", "are") == "is"
    one = pd.Series({"value": 1.0, "p05": 0.0, "p95": 3.0, "n": 10})
    h = {key + s: one for key in labels.STATISTICS for s in ("", "_follow_up")}
    text = outcome_sentences(h, date(2025, 11, 18), 104, 0) + intermediary_sentences(
        h, date(2025, 11, 18), 104, 0
    )
    text += calibrated_line({"posterior": {"draws": 1, "parameters": ["a"], "file": "p.parquet"}})
    assert "1 upgrade is complete" in text
    assert "1 operator is funded" in text
    assert "1 start-up" in text
    assert "1 survives" in text
    assert "1 draw from p.parquet covering 1 parameter." in text
    plural_after_one = re.compile(
        r"(?<![\d.,])1 (upgrades|firms|operators|start-ups|places|draws|runs|parameters)\b"
    )
    assert not plural_after_one.search(text), text


def test_a_start_up_survival_label_names_both_dates() -> None:
    """Survival is to the follow-up's end of start-ups accelerated by a window's end
    (sim/engines/programme_metrics.py): the label names both dates."""
    assert (
        labels.label("startups_surviving")
        == "Start-ups accelerated by scheme end that survive to follow-up end"
    )
    follow_up = labels.label("startups_surviving_follow_up")
    assert follow_up == "Start-ups accelerated by follow-up end that survive to follow-up end"
