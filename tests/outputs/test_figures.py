"""Every figure kind, drawn from small real runs: titles, labelled axes, the numbers drawn, the files."""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from PIL import Image

from sim.outputs.figures import figures_for, plot_folder
from sim.outputs.folders import read_folder
from sim.outputs.style import DPI

#: The figures each kind of folder gives, with the title each must carry.
EXPECTED: dict[str, dict[str, str]] = {
    "run": {
        "fan_chart": "How fast do applications, awards, completions and payments build up?",
        "funnel": "How many firms, operators and start-ups reach each stage?",  # with the I&T Accelerator
        "exhaustion": "Which limit binds, and when: the places or the money?",
        "wait": "How long do firms wait for a decision?",
        "value_for_money": "What does an additional upgrade cost, and do the benefits exceed the costs?",
        "money_by_year": "How much money is committed and paid in each financial year?",
        "who_is_funded": "Who applies, who is funded, and how many grants reach the cap?",
    },
    "compare": {"comparison": "What changes from small (A) to cap-doubled (B)?"},
    "sweep-1": {
        "sweep-additional_upgrades": "What happens to additional upgrades by scheme end as the vetting capacity changes?",
        "sweep-benefit_cost_ratio": "What happens to benefit-cost ratio by scheme end as the vetting capacity changes?",
    },
    "sweep-2": {
        "sweep-additional_upgrades": "How do the two levers together change additional upgrades by scheme end?",
        "sweep-benefit_cost_ratio": "How do the two levers together change benefit-cost ratio by scheme end?",
    },
    "sweep-3": {
        "sweep-additional_upgrades": "Which parameters move additional upgrades by scheme end most?",
        "sweep-benefit_cost_ratio": "Which parameters move benefit-cost ratio by scheme end most?",
    },
    "morris": {"morris": "Manufacturing+: which parameters matter, and do they interact?"},
    "sobol": {"sobol": "Manufacturing+: how much of the uncertainty does each parameter explain?"},
}


@pytest.fixture(scope="module")
def drawn(folders: dict[str, Path]) -> dict[str, dict[str, Figure]]:
    return {kind: figures_for(read_folder(folders[kind])) for kind in EXPECTED}


def _panels(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def _by_title(fig: Figure, words: str):
    return next(ax for ax in fig.axes if words in ax.get_title(loc="center") + ax.get_title(loc="left"))


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_kind_gives_its_figures_with_plain_titles(drawn, kind: str) -> None:
    assert {name: fig.get_suptitle() for name, fig in drawn[kind].items()} == EXPECTED[kind]


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, names in EXPECTED.items() for n in names])
def test_every_panel_has_labelled_axes_and_a_footer(drawn, folders, kind: str, name: str) -> None:
    fig = drawn[kind][name]
    fig.draw_without_rendering()
    panels = _panels(fig)
    assert panels
    for ax in panels:
        assert ax.get_xlabel().strip(), f"{name}: an x axis without a label"
        ylabels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert ax.get_ylabel().strip() or ylabels, f"{name}: a y axis without a label or categories"
    meta = read_folder(folders[kind]).meta
    digest = str(meta.get("scenario_hash") or meta.get("scenario_hash_a"))[:10]
    footer = [t.get_text() for t in fig.texts if digest in t.get_text()]
    assert footer, "no provenance footer"
    assert f"seed {meta['seed']}" in footer[0]
    assert f"{meta['replications']:,} replications" in footer[0]
    assert str(meta["date"]) in footer[0]


def test_fan_chart_has_every_series_and_the_budget_and_places_lines(drawn, folders) -> None:
    fig = drawn["run"]["fan_chart"]
    assert len(_panels(fig)) == 4 * 3  # applications, awards, completions, money paid x 3 schemes
    limits = read_folder(folders["run"]).limits["manufacturing_plus"]
    money = _by_title(fig, "Manufacturing+: money paid")
    awards = _by_title(fig, "Manufacturing+: awards")
    assert any(np.allclose(line.get_ydata(), limits["budget_hkd"]) for line in money.get_lines())
    assert any(np.allclose(line.get_ydata(), limits["places"]) for line in awards.get_lines())
    assert len(money.collections) == 2  # the 90% and 50% bands
    fig.draw_without_rendering()
    ticks = [t.get_text() for t in money.get_yticklabels() if t.get_text()]
    assert ticks
    assert all(t.startswith("HK$") for t in ticks)
    assert [t.get_text() for t in money.get_xticklabels() if t.get_text()][0].endswith(("2025", "2026"))


def test_exhaustion_chart_states_the_share_of_runs_that_never_run_out(drawn, folders) -> None:
    reps = read_folder(folders["run"]).table("replications")
    whole = reps[(reps["segment"] == "all") & (reps["scheme"] == "manufacturing_plus")]
    never = 1 - whole["exhausted"].mean()
    ax = _by_title(drawn["run"]["exhaustion"], "Manufacturing+")
    texts = " ".join(t.get_text() for t in ax.texts)
    assert f"{100 * never:.0f}% of runs" in texts
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert sum(b.get_height() for b in bars) == pytest.approx(1 - never)


def test_value_chart_marks_the_mean_cost_per_additional_upgrade(drawn, folders) -> None:
    reps = read_folder(folders["run"]).table("replications")
    whole = reps[(reps["segment"] == "all") & (reps["scheme"] == "manufacturing_plus")]
    cost = whole["cost_per_additional_hkd"].dropna().mean()
    ax = _by_title(drawn["run"]["value_for_money"], "Cost per upgrade")
    markers = [line.get_xdata()[0] for line in ax.get_lines() if line.get_marker() == "D"]
    assert any(np.isclose(x, cost) for x in markers)


def test_funnel_bars_are_the_mean_counts(drawn, folders) -> None:
    summary = read_folder(folders["run"]).table("summary")
    s = summary[(summary["scheme"] == "manufacturing_plus") & (summary["segment"] == "all")].set_index(
        "metric"
    )
    ax = _by_title(drawn["run"]["funnel"], "Manufacturing+")
    widths = [p.get_width() for p in ax.patches if isinstance(p, Rectangle)]
    expected = s.loc[["eligible", "would_be", "applications", "approved", "awarded", "completed"], "mean"]
    assert widths == pytest.approx(np.maximum(expected.to_numpy(), 0.5))


def test_comparison_shows_each_metric_and_its_paired_difference(drawn, folders) -> None:
    fig = drawn["compare"]["comparison"]
    comparison = read_folder(folders["compare"]).table("comparison")
    row = comparison[
        (comparison["scheme"] == "manufacturing_plus") & (comparison["metric"] == "awarded")
    ].iloc[0]
    ax = _by_title(fig, "Manufacturing+")
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert any(t.startswith("Awards\n") for t in ticks)
    dots = [line.get_xdata()[0] for line in ax.get_lines() if line.get_marker() == "o"]
    assert any(np.isclose(x, 100 * row["diff_mean"] / row["a_mean"]) for x in dots)
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "paired runs" in legend
    assert "unchanged: NIFS, I&T Accelerator" in legend  # the variant changes Manufacturing+ only


def test_one_parameter_sweep_draws_the_mean_at_each_value(drawn, folders) -> None:
    points = read_folder(folders["sweep-1"]).table("points")
    mine = points[points["scheme"] == "manufacturing_plus"].sort_values(
        "schemes.manufacturing_plus.vetting.capacity"
    )
    ax = _panels(drawn["sweep-1"]["sweep-additional_upgrades"])[0]
    line = next(line for line in ax.get_lines() if line.get_marker() == "o")
    assert list(line.get_xdata()) == [2.0, 4.0, 8.0]
    assert line.get_ydata() == pytest.approx(mine["additional_upgrades_mean"].to_numpy())
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2  # runs, and mean


def test_two_parameter_sweep_is_a_heatmap_of_the_grid(drawn, folders) -> None:
    points = read_folder(folders["sweep-2"]).table("points")
    mine = points[points["scheme"] == "manufacturing_plus"]
    grid = mine.pivot_table(
        index="schemes.manufacturing_plus.max_grant_hkd",
        columns="schemes.manufacturing_plus.vetting.capacity",
        values="additional_upgrades_mean",
    )
    ax = _panels(drawn["sweep-2"]["sweep-additional_upgrades"])[0]
    image = next(a for a in ax.get_children() if isinstance(a, AxesImage))
    assert np.asarray(image.get_array()) == pytest.approx(grid.to_numpy())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["HK$150k", "HK$250k", "HK$400k"]


def test_three_parameter_sweep_is_a_tornado(drawn) -> None:
    ax = _panels(drawn["sweep-3"]["sweep-benefit_cost_ratio"])[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 2 * 3  # low and high end for each parameter
    assert len(ax.get_yticks()) == 3
    swings = [abs(bars[i].get_width()) + abs(bars[i + 3].get_width()) for i in range(3)]
    assert swings == sorted(swings)  # the largest swing on top


def test_sensitivity_figures_have_a_panel_per_output(drawn, folders) -> None:
    indices = read_folder(folders["morris"]).table("indices")
    outputs = list(dict.fromkeys(indices["output"]))
    morris = _panels(drawn["morris"]["morris"])
    assert [ax.get_title(loc="left") for ax in morris] == ["Awards", "Benefit-cost ratio by scheme end"][
        : len(outputs)
    ]
    assert all(ax.get_xlabel().startswith("mu*") for ax in morris)
    sobol = _panels(drawn["sobol"]["sobol"])
    assert len(sobol) == len(outputs)
    assert all(ax.get_xlim() == (0.0, 1.0) for ax in sobol)


def test_bands_and_lines_differ_in_lightness(drawn) -> None:
    """Readable in greyscale: the two bands and the median are clearly apart in lightness."""
    ax = _by_title(drawn["run"]["fan_chart"], "Manufacturing+: awards")
    colours = [to_rgb(c.get_facecolor()[0]) for c in ax.collections] + [to_rgb(ax.get_lines()[0].get_color())]
    lightness = sorted(colorsys.rgb_to_hls(*c)[1] for c in colours)
    assert np.diff(lightness).min() > 0.15


def test_outputs_can_be_chosen_and_unknown_ones_are_refused(folders) -> None:
    sweep = read_folder(folders["sweep-1"])
    assert list(figures_for(sweep, outputs=["awarded"])) == ["sweep-awarded"]
    with pytest.raises(ValueError, match="no such output"):
        figures_for(sweep, outputs=["awards_typo"])


@pytest.mark.parametrize(("kind", "vector"), [("run", "svg"), ("compare", "pdf"), ("sweep-2", "svg")])
def test_plot_folder_writes_valid_png_and_vector_files(
    folders, tmp_path: Path, kind: str, vector: str
) -> None:
    paths = plot_folder(folders[kind], tmp_path, ("png", vector))
    assert sorted(p.name for p in paths) == sorted(
        f"{n}.{ext}" for n in EXPECTED[kind] for ext in ("png", vector)
    )
    for path in paths:
        assert path.stat().st_size > 5_000
        if path.suffix == ".png":
            with Image.open(path) as image:
                assert image.format == "PNG"
                assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.5)
                assert image.width > 1000
                assert image.info["Title"] == EXPECTED[kind][path.stem]
        elif path.suffix == ".svg":
            text = path.read_text()
            assert text.startswith("<?xml")
            assert "<svg" in text
            assert EXPECTED[kind][path.stem].replace("&", "&amp;") in text
        else:
            assert path.read_bytes().startswith(b"%PDF")
