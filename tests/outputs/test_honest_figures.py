"""Figures that do not mislead (issue 11, item 9): exhaustion weeks with how often they happen, a
linear funnel, sensitivity results in words and HK$, Morris labels apart, and a warning when a
Sobol' design is too small for its indices."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation, Text

from sim.experiments.designs import load_sweep
from sim.experiments.sensitivity import analyze, design_warning, implausible_indices, sensitivity_design
from sim.experiments.sweep import run_sweep
from sim.outputs.experiments import SweepStore, save_sensitivity
from sim.outputs.figures import (
    EXHAUSTION_SHOWN_ABOVE,
    IMPLAUSIBLE_NOTE,
    morris_chart,
    sobol_chart,
    sweep_heatmap,
    sweep_lines,
)
from sim.outputs.labels import parameter_label
from sim.outputs.plots import FUNNEL, draw_funnel
from sim.outputs.tables import readable_indices
from tests.outputs import builders

LABELS = {"manufacturing_plus": "Manufacturing+"}
CAPACITY = "schemes.manufacturing_plus.vetting.capacity"
GRANT = "schemes.manufacturing_plus.max_grant_hkd"


def _week_points() -> pd.DataFrame:
    """A 3 x 3 sweep where the share of runs that exhaust rises with both levers."""
    rows = []
    for i, (capacity, grant) in enumerate(itertools.product([2, 4, 8], [150_000, 250_000, 400_000])):
        share = 0.05 * (1 + i)  # 5% .. 45%
        rows.append(
            {
                "point": i,
                "scheme": "manufacturing_plus",
                CAPACITY: capacity,
                GRANT: grant,
                "exhaustion_week_mean": 60.0 + i,
                "exhaustion_week_se": 1.0,
                "exhausted_mean": share,
                "exhausted_se": 0.01,
            }
        )
    return pd.DataFrame(rows)


def test_exhaustion_week_heatmap_hatches_cells_where_few_runs_exhaust() -> None:
    points = _week_points()
    fig = sweep_heatmap(
        points, [{"path": CAPACITY}, {"path": GRANT}], "exhaustion_week", "manufacturing_plus", LABELS, {}
    )
    ax = fig.axes[0]
    image = next(a for a in ax.get_children() if isinstance(a, AxesImage))
    shown = np.ma.getmaskarray(image.get_array())
    rare = points.pivot_table(index=GRANT, columns=CAPACITY, values="exhausted_mean").to_numpy()
    assert (shown == (rare < EXHAUSTION_SHOWN_ABOVE)).all()  # masked exactly where few runs exhaust
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == int((rare < EXHAUSTION_SHOWN_ABOVE).sum()) == 4
    assert "fewer than 25% of runs" in ax.get_title(loc="left")
    assert any(t.get_text().endswith("\n45% of runs") for t in ax.texts)  # each cell gives its share


def test_heatmap_of_an_output_defined_in_every_run_masks_nothing() -> None:
    points = _week_points().rename(columns={"exhaustion_week_mean": "awarded_mean"})
    fig = sweep_heatmap(
        points, [{"path": CAPACITY}, {"path": GRANT}], "awarded", "manufacturing_plus", LABELS, {}
    )
    image = next(a for a in fig.axes[0].get_children() if isinstance(a, AxesImage))
    assert not np.ma.getmaskarray(image.get_array()).any()
    assert not [p for p in fig.axes[0].patches if p.get_hatch()]


def test_funnel_bars_are_drawn_to_a_linear_scale_from_zero() -> None:
    means = np.array([4000.0, 900, 300, 20, 10, 8, 30, 240, 5, 230, 120, 10, 90])[: len(FUNNEL)]
    stats = pd.DataFrame(
        {"mean": means, "p05": 0.8 * means, "p95": 1.2 * means}, index=[m for m, _ in FUNNEL]
    )
    fig = Figure()
    ax = fig.subplots()
    draw_funnel(ax, stats)
    assert ax.get_xscale() == "linear"
    assert ax.get_xlim()[0] == 0
    widths = sorted(p.get_width() for p in ax.patches if isinstance(p, Rectangle))
    assert widths == pytest.approx(sorted(means))  # a bar's length is its number of firms
    assert "log" not in ax.get_xlabel()


def test_parameter_paths_read_as_words_with_the_scheme_label() -> None:
    assert parameter_label(CAPACITY, LABELS).startswith("Manufacturing+: vetting capacity")
    assert parameter_label(GRANT, LABELS) == "Manufacturing+: grant cap (HK$)"


def _indices(method: str, outputs: tuple[str, ...] = ("cost_per_additional_hkd",)) -> pd.DataFrame:
    """A hand-made indices table: five parameters whose Morris points nearly coincide."""
    paths = [
        CAPACITY,
        GRANT,
        "schemes.manufacturing_plus.places",
        "schemes.manufacturing_plus.budget_hkd",
        "schemes.manufacturing_plus.vetting.withdraw_probability",
    ]
    rows = []
    for output in outputs:
        for k, path in enumerate(paths):
            rows.append(
                {
                    "scheme": "manufacturing_plus",
                    "output": output,
                    "parameter": path,
                    "method": method,
                    "mu_star": 125_000.0 + 100 * k,
                    "mu_star_conf": 20_000.0,
                    "sigma": 60_000.0 + 100 * k,
                    "S1": 0.2,
                    "S1_conf": 0.05,
                    "ST": 0.3,
                    "ST_conf": 0.05,
                    "noise_se": 1_000.0,
                }
            )
    return pd.DataFrame(rows)


def test_sensitivity_table_names_parameters_in_words_and_amounts_in_hkd() -> None:
    table = readable_indices(_indices("morris"), LABELS)
    assert table["Parameter"].iloc[0].startswith("Manufacturing+: vetting capacity")
    assert not table["Parameter"].str.contains(r"\.|_").any()
    assert table["Mean absolute effect (mu*)"].iloc[0] == "HK$125k"
    assert table["Output"].iloc[0] == "Cost per additional upgrade by scheme end (HK$)"


def test_morris_labels_do_not_overlap_even_when_the_points_nearly_coincide() -> None:
    fig = morris_chart(_indices("morris", ("cost_per_additional_hkd", "awarded")), LABELS, {})
    fig.draw_without_rendering()
    for ax in fig.axes:
        texts = [t for t in ax.texts if isinstance(t, Annotation)]
        if not texts:
            continue
        assert len(texts) == 5
        boxes = [Text.get_window_extent(t) for t in texts]  # the words, not the leader lines
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b)


def test_implausible_sobol_share_is_flagged_only_beyond_its_interval() -> None:
    table = _indices("sobol")
    table.loc[1, ["S1", "S1_conf"]] = [1.05, 0.1]  # above 1 but within its interval: not flagged
    assert implausible_indices(table).empty
    assert design_warning(table) is None
    table.loc[2, ["S1", "S1_conf"]] = [-0.3, 0.1]
    assert list(implausible_indices(table).index) == [2]
    assert "too small" in str(design_warning(table))


def test_sobol_chart_warns_on_the_panel_whose_indices_are_implausible() -> None:
    table = _indices("sobol", ("cost_per_additional_hkd", "awarded"))
    table.loc[0, "ST"] = 1.6
    fig = sobol_chart(table, LABELS, {})
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == [f"Cost per additional upgrade by scheme end\n{IMPLAUSIBLE_NOTE}", "Awards"]


def test_sensitivity_folder_carries_the_warning_and_a_readable_table(tmp_path: Path) -> None:
    extra = 'points = 4\n[sensitivity]\noutputs = ["awarded"]\nresamples = 20\n'
    sweep = load_sweep(
        builders._sweep_file(tmp_path, "sens", builders.SENSITIVITY_PARAMETERS[:2], "morris", extra)
    )
    design = sensitivity_design(sweep, "sobol", 4)
    folder = tmp_path / "sensitivity"
    result = run_sweep(sweep, design, SweepStore(folder, sweep.definition()), workers=1)
    indices = analyze(result, "sobol", schemes=("manufacturing_plus",))
    indices.table.loc[0, ["S1", "S1_conf"]] = [1.8, 0.2]  # as a too-small design can give
    save_sensitivity(folder, result, indices, "sobol", 4)
    assert "too small" in (folder / "WARNING.txt").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["warnings"] == [design_warning(indices.table)]
    readable = pd.read_csv(folder / "indices_readable.csv")
    assert readable["First order (share of variance)"].iloc[0] == "180%"
    assert readable["Parameter"].iloc[0].startswith("Manufacturing+: vetting capacity")


def test_scattered_design_draws_rare_exhaustion_weeks_as_crosses_not_colours() -> None:
    points = _week_points().assign(**{CAPACITY: lambda f: f[CAPACITY] + 0.1 * f["point"]})  # not a grid
    fig = sweep_heatmap(
        points, [{"path": CAPACITY}, {"path": GRANT}], "exhaustion_week", "manufacturing_plus", LABELS, {}
    )
    crosses, coloured = fig.axes[0].collections
    assert len(crosses.get_offsets()) == 4
    assert np.asarray(coloured.get_array()) == pytest.approx(points["exhaustion_week_mean"].to_numpy()[4:])
    assert "fewer than 25% of runs" in fig.axes[0].get_title(loc="left")


def test_one_parameter_sweep_of_an_exhaustion_week_gives_the_share_of_runs_at_each_point() -> None:
    points = _week_points()
    points = points[points[GRANT] == 150_000]  # shares 5%, 20%, 35%
    fig = sweep_lines(points, {"path": CAPACITY}, "exhaustion_week", "manufacturing_plus", LABELS, {})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["5%", "20%", "35%"]
    ringed = next(line for line in ax.get_lines() if line.get_markerfacecolor() == "white")
    assert list(ringed.get_xdata()) == [2.0, 4.0]  # the points where fewer than 25% of runs exhaust


def test_sensitivity_command_prints_the_warning_when_the_design_is_too_small(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.experiments import sensitivity

    real = sensitivity.analyze

    def too_small(*args, **kwargs):  # indices as a too-small design can give them
        indices = real(*args, **kwargs)
        indices.table.loc[0, ["S1", "S1_conf"]] = [1.8, 0.2]
        return indices

    monkeypatch.setattr(sensitivity, "analyze", too_small)
    body = (
        'replications = 2\n[sensitivity]\nschemes = ["manufacturing_plus"]\noutputs = ["awarded"]\n'
        "sobol_samples = 4\nresamples = 20\n"
        + "".join(f"[[parameters]]\n{p}\n" for p in builders.SENSITIVITY_PARAMETERS[:2])
    )
    path = tmp_path / "small-design.toml"
    path.write_text(f'name = "small-design"\nbase = "{builders.SMALL.as_posix()}"\n{body}')
    result = cli("sensitivity", path, "--method", "sobol", "--workers", "1", "--out", "out")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "too small for these indices" in " ".join((result.stdout + result.stderr).split())
    assert (tmp_path / "out" / "WARNING.txt").is_file()
