"""An intermediary scheme in the outputs (MODEL.md 6b): the headline, the brief and the workbook
speak of operators and start-ups, not upgrades, and show its benefit-cost ratio as not given unless
the scenario values its start-ups (R-PROGRAMME-IMPACT)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from sim.experiments.compare import run_compare
from sim.outputs.brief import brief_figure, compare_sentences
from sim.outputs.experiments import comparison_cells, comparison_table
from sim.outputs.figures import compared_rows, comparison_chart, figures_for
from sim.outputs.folders import read_folder
from sim.spec.loader import load_scenario
from tests.outputs import builders

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return builders.build_run(
        tmp_path_factory.mktemp("baseline") / "run", ROOT / "scenarios/baseline.toml", 40
    )


def test_the_headline_of_the_accelerator_is_about_operators_and_start_ups(baseline_run: Path) -> None:
    head = pd.read_csv(baseline_run / "headline.csv")
    accelerator = set(head.loc[head["scheme"] == "it_accelerator", "key"])
    manufacturing = set(head.loc[head["scheme"] == "manufacturing_plus", "key"])
    assert {
        "operators_funded",
        "startups_accelerated_follow_up",
        "cost_per_startup_hkd_follow_up",
    } <= accelerator
    assert not accelerator & {"awarded", "completed", "additional_upgrades"}
    assert {"awarded", "benefit_cost_ratio_follow_up"} <= manufacturing
    # no impact section: the ratio's row is there, counted over no run, empty (never 0)
    ratio = head[(head["scheme"] == "it_accelerator") & (head["key"] == "benefit_cost_ratio_follow_up")]
    assert ratio["n"].iloc[0] == 0
    assert ratio["value"].isna().all()
    assert not manufacturing & {"operators_funded", "startups_accelerated"}


def test_the_brief_says_operators_and_start_ups_for_the_accelerator(baseline_run: Path) -> None:
    fig = brief_figure(read_folder(baseline_run))
    words = " ".join(" ".join(t.get_text() for t in fig.findobj(Text) if t.get_text()).split())
    accelerator = words[words.index("I&T Accelerator: ") :]
    accelerator = accelerator[: accelerator.index("no value-added gain is claimed")]
    assert "operators are funded" in accelerator
    assert "start-ups" in accelerator
    assert "upgrade" not in accelerator
    assert "firms receive an award" not in accelerator
    manufacturing = words[words.index("Manufacturing+: ") : words.index("I&T Accelerator: ")]
    assert "upgrades are complete" in manufacturing


def test_the_workbook_and_summary_carry_the_start_up_outcomes(baseline_run: Path) -> None:
    summary = pd.read_csv(baseline_run / "summary.csv")
    rows = summary[
        (summary["scheme"] == "it_accelerator") & (summary["metric"] == "startups_accelerated_follow_up")
    ]
    assert len(rows) == 1
    assert rows["mean"].iloc[0] > 0
    bcr = summary[(summary["scheme"] == "it_accelerator") & (summary["metric"] == "benefit_cost_ratio")]
    assert bcr["n"].iloc[0] == 0
    sheets = pd.read_excel(baseline_run / "results.xlsx", sheet_name=None)
    for sheet in ("Monthly", "Who is funded"):  # one column for every scheme: its awards say whose
        assert "Awards (firms; operators of an intermediary scheme), mean" in sheets[sheet].columns
    assert any(
        sheet.astype(str)
        .apply(lambda c: c.str.contains("Start-ups accelerated by follow-up end"))
        .any()
        .any()
        for sheet in sheets.values()
    )


def test_a_comparison_of_the_accelerator_compares_operators_and_start_ups() -> None:
    """Half as many operators: fewer operators funded and start-ups accelerated, beyond doubt; the
    rows the comparison shows for the accelerator are about operators and start-ups, not upgrades."""
    base = load_scenario(ROOT / "scenarios/baseline.toml")
    half = load_scenario(ROOT / "scenarios/accelerator-half-operators.toml")
    result = run_compare(base, half, 200, seed=5, engine="batch", workers=1)
    it = result.comparison[result.comparison["scheme"] == "it_accelerator"].set_index("metric")
    for metric in ("operators_funded", "startups_accelerated_follow_up"):
        assert it.loc[metric, "diff_hi"] < 0, metric
    assert it.loc["cost_per_startup_hkd_follow_up", "better"] == "lower"
    shown = compared_rows(result.comparison)
    accelerator = set(shown.loc[shown["scheme"] == "it_accelerator", "metric"])
    assert {"operators_funded", "startups_accelerated_follow_up"} <= accelerator
    assert not accelerator & {"awarded", "completed_follow_up", "additional_upgrades_follow_up"}
    ratio = shown[(shown["scheme"] == "it_accelerator") & (shown["metric"] == "benefit_cost_ratio_follow_up")]
    assert [comparison_cells(r)[1:3] for _, r in ratio.iterrows()] == [["not given", "not given"]]
    manufacturing = set(shown.loc[shown["scheme"] == "manufacturing_plus", "metric"])
    assert "awarded" in manufacturing
    assert "operators_funded" not in manufacturing
    table = comparison_table(result.comparison)
    words = list(table.loc[table["Scheme"] == "it_accelerator", "Metric"])
    assert {
        "Operators funded",
        "Applications from operators",
        "Start-ups accelerated by follow-up end",
    } <= set(words)
    assert not [w for w in words if "upgrade" in w.lower() or w in ("Awards", "Applications")]
    names = {"it_accelerator": "I&T Accelerator", "manufacturing_plus": "Manufacturing+"}
    sentence = next(t for t in compare_sentences(result.comparison, names, "A", "B") if "I&T" in t)
    assert sentence.startswith("I&T Accelerator, from A to B: operators funded")
    assert "start-ups accelerated" in sentence
    assert "awards" not in sentence
    assert "upgrade" not in sentence
    chart = comparison_chart(result.comparison, names, {})
    ticks = [
        t.get_text()
        for ax in chart.axes
        if ax.get_title(loc="left") == "I&T Accelerator"
        for t in ax.get_yticklabels()
    ]
    assert any(t.startswith("Applications from operators\n") for t in ticks)
    assert any(t.startswith("Operators funded\n") for t in ticks)
    assert not [t for t in ticks if "upgrade" in t.lower() or t.startswith(("Awards\n", "Applications\n"))]
    direct = list(table.loc[table["Scheme"] == "manufacturing_plus", "Metric"])
    assert {"Awards", "Applications", "Upgrades completed by scheme end"} <= set(direct)


def _axes_words(fig: Figure, scheme: str) -> list[str]:
    """The titles, axis labels and tick labels of the panels of ``fig`` whose title names ``scheme``."""
    out = []
    for ax in fig.axes:
        if not ax.get_title(loc="left").startswith(scheme) and not ax.get_title().startswith(scheme):
            continue
        texts = [ax.get_title(), ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.get_yticklabels()]
        out.append(" ".join(texts))
    return out


def test_the_fan_chart_and_funnel_say_operators_and_start_ups_for_the_accelerator(baseline_run: Path) -> None:
    figures = figures_for(read_folder(baseline_run))
    fan = _axes_words(figures["fan_chart"], "I&T Accelerator")
    assert len(fan) == 4
    assert any("operators funded" in t for t in fan)
    assert any("bases opened" in t for t in fan)
    assert not any("upgrade" in t.lower() or "firms" in t for t in fan)
    manufacturing = " ".join(_axes_words(figures["fan_chart"], "Manufacturing+"))
    assert "firms awarded" in manufacturing
    assert "upgrades completed" in manufacturing
    funnel = _axes_words(figures["funnel"], "I&T Accelerator")
    assert len(funnel) == 2  # operators, then the start-ups of their cohorts
    operators, startups = funnel
    assert "Eligible operators" in operators
    assert "Operator bases opened" in operators
    for stage in ("Start-ups accelerated", "relocated", "survive", "follow-on funding"):
        assert stage in startups, stage
    assert not any("upgrade" in t.lower() or "firms" in t.lower() for t in funnel)
    assert "Upgrades completed by scheme end" in " ".join(_axes_words(figures["funnel"], "Manufacturing+"))


def test_every_intermediary_label_names_one_statistic() -> None:
    """An intermediary scheme's words are its own: no label of a direct scheme's statistic, no
    'upgrade' or 'firms', and two keys share a label only where they are one statistic."""
    from sim.outputs.labels import INTERMEDIARY_FAN_SERIES, INTERMEDIARY_STATISTICS, STATISTICS
    from sim.outputs.style import METRIC_WORDS

    direct = {s.label for s in STATISTICS.values() if s not in INTERMEDIARY_STATISTICS.values()}
    direct |= {words for words, _ in METRIC_WORDS.values()}
    own = {k: s for k, s in INTERMEDIARY_STATISTICS.items() if s not in STATISTICS.values()}
    assert len({s.label for s in own.values()}) == len(own)
    for key, statistic in own.items():
        assert statistic.label not in direct, key
        assert "upgrade" not in statistic.label.lower(), key
        assert "firm" not in statistic.label.lower(), key
    for key, statistic in INTERMEDIARY_STATISTICS.items():
        if statistic in STATISTICS.values():  # the same statistic: an intermediary's own key
            assert key in ("awarded", "paid_hkd")
            assert statistic.label.startswith(("Operators", "Money paid to operators"))
    for _series, title, axis in INTERMEDIARY_FAN_SERIES:
        assert "upgrade" not in (title + axis).lower()
        assert "firm" not in (title + axis).lower()


def test_the_nowcast_calls_the_accelerator_s_awards_operators_funded(tmp_path: Path) -> None:
    from sim.experiments.nowcast import NowcastTask, nowcast
    from sim.experiments.observed import ObservationModel
    from sim.outputs.nowcast_brief import headline_sentence, nowcast_folder_brief, variant_sentence
    from sim.outputs.nowcast_folder import save_nowcast
    from sim.spec.observations import read_observed

    base = load_scenario(ROOT / "scenarios/baseline.toml")
    data = read_observed(ROOT / "scenarios/observed/manufacturing-plus-synthetic.csv", base.scenario)
    task = NowcastTask(base.scenario, (), data, ObservationModel(), data.observations[-1].day)
    result = nowcast(task, (base.name,), 60, 3, "batch")
    folder = read_folder(save_nowcast([base], data, result, tmp_path / "nowcast"))
    head = folder.table("headline")
    accelerator = head[head["scheme"] == "it_accelerator"]
    words = dict(zip(accelerator["key"], accelerator["label"], strict=True))
    assert words["awarded"] == "Operators funded by scheme end"
    assert words["applications"] == "Applications from operators by scheme end"
    assert not [w for w in words.values() if "upgrade" in w.lower() or w == "Awards"]
    direct = head[head["scheme"] == "manufacturing_plus"]
    assert dict(zip(direct["key"], direct["label"], strict=True))["awarded"] == "Awards by scheme end"
    sentence = headline_sentence(accelerator, "it_accelerator", folder.labels, "the date")
    assert "Operators funded" in sentence
    assert "Awards" not in sentence
    assert variant_sentence(accelerator, "a variant").startswith("With a variant: Operators funded")
    # the brief's sentences are about the observed scheme, a direct one: its awards are awards
    texts = " ".join(t.get_text() for t in nowcast_folder_brief(folder).findobj(Text))
    assert "Awards" in texts


def _block(texts: list[str], start: str, end: str | None) -> str:
    """The words of ``texts`` from heading ``start`` up to heading ``end`` (the page's order)."""
    words = "\n".join(texts)
    block = words[words.index(start) :]
    return block[: block.index(end)] if end else block


def test_the_brief_gives_every_scheme_its_key_figures_and_assumptions(baseline_run: Path) -> None:
    """A page after the first: NIFS as a direct scheme, the Accelerator by its operators funded,
    start-ups accelerated and public cost per start-up accelerated, each with its assumptions."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.outputs.brief_schemes import scheme_pages
    from tests.outputs.test_brief import _assert_on_the_page

    pages = scheme_pages(read_folder(baseline_run))
    assert len(pages) == 1  # NIFS and the Accelerator, after Manufacturing+
    _assert_on_the_page(pages[0])
    renderer = FigureCanvasAgg(pages[0]).get_renderer()
    pages[0].draw(renderer)
    found = [t for t in pages[0].findobj(Text) if t.get_text() and t.get_visible()]
    boxes = {id(t): t.get_window_extent(renderer) for t in found}
    texts = [t.get_text() for t in sorted(found, key=lambda t: (-boxes[id(t)].y1, boxes[id(t)].x0))]
    nifs = _block(texts, "NIFS: key figures", "I&T Accelerator: key figures")
    assert "Money paid (median, 50% and 90% of runs)" in nifs
    assert "Main assumptions about NIFS" in nifs
    accelerator = _block(texts, "I&T Accelerator: key figures", None)
    for words in (
        "Operators funded (median, 50% and 90% of runs)",
        "Money paid to operators (median, 50% and 90% of runs)",
        "Start-ups accelerated",
        "Public cost per start-up accelerated",
        "Main assumptions about I&T Accelerator",
        "mean cohort size (start-ups)",
    ):
        assert words in accelerator, words
    assert "upgrade" not in accelerator.lower()
    assert "firms" not in accelerator.lower()


def test_the_brief_s_headline_table_cells_do_not_overlap(baseline_run: Path) -> None:
    """Each cell of the first page's headline table ends before the next column begins."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = brief_figure(read_folder(baseline_run))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    table = next(ax for ax in fig.axes if any(t.get_text() == "Applications" for t in ax.texts))
    rows: dict[float, list[tuple[float, float, str]]] = {}
    for t in table.texts:
        box = t.get_window_extent(renderer)
        rows.setdefault(round(t.get_position()[1], 6), []).append((box.x0, box.x1, t.get_text()))
    assert len(rows) > 10
    for cells in rows.values():
        cells.sort()
        for (_, right, text), (left, _, following) in zip(cells, cells[1:], strict=False):
            assert right < left, (text, following)
    assert max(x1 for cells in rows.values() for _, x1, _ in cells) <= fig.bbox.x1


def test_the_other_figures_do_not_count_the_accelerator_s_operators_as_firms(baseline_run: Path) -> None:
    """Value for money has no cost-per-upgrade row for the Accelerator (its benefit-cost ratio is not
    given either), the wait is an operator's, and who is funded counts operators."""
    figures = figures_for(read_folder(baseline_run))
    value = [t.get_text() for ax in figures["value_for_money"].axes for t in ax.get_yticklabels()]
    assert any(t.startswith("Manufacturing+") for t in value)
    assert not any(t.startswith("I&T Accelerator") for t in value)
    wait = [t.get_text() for ax in figures["wait"].axes for t in ax.get_yticklabels()]
    assert "I&T Accelerator\nmedian operator" in wait
    assert "Manufacturing+\nmedian firm" in wait
    bands = _axes_words(figures["who_is_funded"], "I&T Accelerator")
    assert any("operators by the scheme horizon" in t for t in bands)
    assert not any("firms" in t for t in bands)
