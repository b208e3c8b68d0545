"""The timeline of a scheme on charts and in words: its window, its top-ups as steps of the places
and budget, and the applications it turns away (R-CHANGE, R-TURN-AWAY)."""

from __future__ import annotations

from datetime import date

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.outputs import plots, tables, timeline  # noqa: E402
from sim.outputs.brief import turned_away_sentence  # noqa: E402

META = {
    "start_date": "2025-11-18",
    "horizon_weeks": 104,
    "scenario_source": {
        "schemes": {
            "m": {
                "places": 400,
                "changes": [{"week": 52, "places": 200, "budget_hkd": 50.0}, {"week": 78, "closes": True}],
            },
            "call": {"opens_week": 10, "closes_week": 23, "close_on_exhaustion": False},
            "rolling": {"closes_week": 104},
        }
    },
}


def test_a_call_window_is_marked_where_it_opens_and_closes() -> None:
    marks = timeline.window_marks(META)
    assert marks == {
        "call": [(date(2026, 1, 27), "applications open"), (date(2026, 4, 28), "applications close")]
    }


def test_an_early_close_is_a_change_not_a_window_mark() -> None:
    assert "m" not in timeline.window_marks(META)
    assert timeline.policy_changes(META)["m"][1] == (date(2027, 5, 18), "closes")


def test_the_places_step_up_at_the_top_up_week() -> None:
    steps = timeline.limit_steps(META, "m", "places", 600.0)
    assert steps == [(date(2025, 11, 18), 400.0), (date(2026, 11, 17), 600.0)]
    assert timeline.limit_steps(META, "call", "places", 6.0) == [(date(2025, 11, 18), 6.0)]


def test_a_stepped_limit_is_drawn_at_each_level() -> None:
    fig, ax = plt.subplots()
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2025-11-18", periods=105, freq="7D"),
            "week": range(105),
            **{q: range(105) for q in ("q05", "q25", "q50", "q75", "q95")},
        }
    )
    plots.draw_fan(ax, frame, "awards", timeline.limit_steps(META, "m", "places", 600.0))
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["400 places", "600 places"]
    (line,) = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert list(line.get_ydata()) == [400.0, 600.0, 600.0]
    plt.close(fig)


def test_a_limit_far_above_every_outcome_is_written_not_drawn() -> None:
    """NIFS's 1,000 places against a band of a few dozen awards: drawn, the limit would set the
    scale and press the bands flat; it is written in the corner instead."""
    fig, ax = plt.subplots()
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2025-11-18", periods=105, freq="7D"),
            "week": range(105),
            **{q: [min(w, 40) for w in range(105)] for q in ("q05", "q25", "q50", "q75", "q95")},
        }
    )
    plots.draw_fan(ax, frame, "awards", 1_000.0)
    assert [t.get_text() for t in ax.texts] == ["1,000 places\n(far above, not drawn)"]
    assert not [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert ax.get_ylim()[1] < 100
    plt.close(fig)


def test_the_turn_away_is_said_with_its_date() -> None:
    assert timeline.turn_away_words(META, "m") == (
        "after its applications close on 18 May 2027 or while it is exhausted"
    )
    assert timeline.turn_away_words(META, "call") == "after it closes or while it is exhausted"


def _head(values: dict[str, float]) -> pd.DataFrame:
    rows = [
        {"scheme": s, "key": k, "value": v, "p05": 0.0, "p95": 2 * v}
        for s, v in values.items()
        for k in ("applications", "turned_away", "exhausted_by_money")
    ]
    return pd.DataFrame(rows)


def test_turned_away_is_shown_only_for_a_scheme_that_turns_some_away() -> None:
    shown = tables.headline_shown(_head({"m": 41.0, "call": 0.0, "rare": 0.4, "some": 0.5}))
    assert list(shown.loc[shown["key"] == "turned_away", "scheme"]) == ["m", "some"]
    assert set(shown.loc[shown["key"] == "applications", "scheme"]) == {"m", "call", "rare", "some"}


def test_the_brief_says_how_many_are_turned_away_and_when() -> None:
    rows = {r["key"]: r for _, r in _head({"m": 41.0}).iterrows()}
    text = turned_away_sentence(rows, "after its applications close on 18 May 2027")
    assert (
        text
        == " On average 41 applications are turned away after its applications close on 18 May 2027 (0 to 82)."
    )
    one = turned_away_sentence(
        {r["key"]: r for _, r in _head({"m": 1.2}).iterrows()}, "while it is exhausted"
    )
    assert one.startswith(" On average 1 application is turned away while")
    for rare in (0.0, 0.4):
        assert turned_away_sentence({r["key"]: r for _, r in _head({"c": rare}).iterrows()}, "x") == ""


def test_a_nowcast_panel_writes_a_limit_far_above_its_bands() -> None:
    from sim.outputs.nowcast_charts import draw_limit

    fig, ax = plt.subplots()
    ax.set_ylim(0, 50)
    draw_limit(ax, "awarded", {"places": 1_000.0})
    assert [t.get_text() for t in ax.texts] == ["1,000 places\n(far above, not drawn)"]
    assert not ax.lines
    assert ax.get_ylim()[1] == 50
    draw_limit(ax, "awarded", {"places": 60.0})  # near the bands: drawn, and the axis makes room
    assert len(ax.lines) == 1
    assert ax.get_ylim()[1] > 60
    plt.close(fig)
