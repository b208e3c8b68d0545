"""The discovery figure and words, drawn from a box found in synthetic data: title, labelled axes,
the chosen box ringed and named, every restriction in words with its quasi-p-value, the footer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from sim.outputs.discover_chart import discovery_chart
from sim.outputs.discover_words import bounds_words, box_sentence, format_qp, restrictions_table

pytest.importorskip("ema_workbench", reason="the discover extra is not installed")

META = {"scenario": "synthetic", "scenario_hash": "0123456789abcdef", "seed": 1, "replications": 800}
PATHS = ("segments.manufacturing_sme.propensity", "schemes.manufacturing_plus.budget_hkd")
LABELS = {"manufacturing_sme": "Manufacturing SMEs", "manufacturing_plus": "Manufacturing+"}


@pytest.fixture(scope="module")
def found():
    from sim.experiments.discover import discover

    rng = np.random.default_rng(5)
    x = pd.DataFrame({PATHS[0]: rng.uniform(0, 0.3, 800), PATHS[1]: rng.uniform(5e7, 1.5e8, 800)})
    hit = (x[PATHS[0]] > 0.15) & (rng.uniform(size=800) < 0.9)
    return discover(x, hit.to_numpy())


def test_the_figure_names_its_axes_the_box_and_its_provenance(found) -> None:
    fig = discovery_chart(found, "awarded >= 300", LABELS, META)
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
    assert fig.get_suptitle() == "Where 'awarded >= 300' holds: the box PRIM chose"
    trade, ranges = fig.axes
    assert trade.get_xlabel().startswith("Coverage")
    assert trade.get_ylabel().startswith("Density")
    assert any(t.startswith("chosen box: coverage") for t in texts)
    ticks = [t.get_text() for t in ranges.get_yticklabels()]
    assert ticks == ["Manufacturing SMEs: propensity to apply\n(quasi-p-value of its lower limit < 0.001)"]
    assert any(t.startswith("scenario synthetic · hash 0123456789 · seed 1") for t in texts)


def test_the_words_say_the_box_and_its_numbers(found) -> None:
    sentence = box_sentence(found, "awarded >= 300", "futures", LABELS)
    low = found.restrictions["low"].iloc[0]
    assert sentence.startswith(
        f"'awarded >= 300' holds in {100 * found.box['density']:.0f}% of the futures where "
    )
    assert f"Manufacturing SMEs: propensity to apply is at least {low:.3g}" in sentence
    assert "of all 800 futures" in sentence
    said = box_sentence(found, "awarded >= 300", "futures", LABELS, words="Most files are funded.")
    assert said.startswith(
        f"Most files are funded in {100 * found.box['density']:.0f}% of the futures where "
    )
    assert "of all where it happens (it happens in " in said
    table = restrictions_table(found, LABELS)
    assert table["restriction"].tolist() == [f"at least {low:.3g}"]
    assert bounds_words(PATHS[1], 6e7, 9e7) == "between HK$60M and HK$90M"
    assert bounds_words(PATHS[0], -np.inf, 0.25) == "at most 0.25"
    assert [format_qp(v) for v in (1e-9, 0.0412, np.nan)] == ["< 0.001", "0.041", "-"]
